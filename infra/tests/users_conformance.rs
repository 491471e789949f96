//! One conformance suite for every `Users` adapter.
//!
//! Each case is written once in `cases` and instantiated per adapter by the
//! `conformance!` macro (see `common`).

use std::sync::Arc;

use millions_core::{Address, StoredUser, UserId, UserProfile, Version};

mod common;

fn user(id: u64, version: u64, first_name: &str) -> StoredUser {
    StoredUser {
        id: UserId::new(id).unwrap(),
        version: Version(version),
        profile: UserProfile {
            first_name: first_name.into(),
            last_name: "Smith".into(),
            address: Address {
                street_address: "21 2nd Street".into(),
                city: "New York".into(),
                state: "NY".into(),
                postal_code: 10021,
            },
            phone_numbers: vec!["212 555-1234".into(), "646 555-4567".into()],
        },
        email: None,
    }
}

mod cases {
    use super::*;
    use common::Subject;
    use millions_core::{Consistency, StoreError};

    pub async fn an_inserted_user_reads_back_identically(s: Subject) {
        let john = user(12, 1, "John");
        s.ports.users.insert(&john).await.unwrap();
        for consistency in [Consistency::Strong, Consistency::Eventual] {
            assert_eq!(
                s.ports.users.get(john.id, consistency).await.unwrap(),
                Some(john.clone())
            );
        }
    }

    pub async fn an_unknown_id_reads_as_none(s: Subject) {
        let id = UserId::new(404).unwrap();
        assert_eq!(
            s.ports.users.get(id, Consistency::Strong).await.unwrap(),
            None
        );
    }

    pub async fn inserting_a_taken_id_fails_and_keeps_the_first(s: Subject) {
        s.ports.users.insert(&user(7, 1, "First")).await.unwrap();
        let error = s
            .ports
            .users
            .insert(&user(7, 1, "Second"))
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::AlreadyExists), "{error:?}");
        let stored = s
            .ports
            .users
            .get(UserId::new(7).unwrap(), Consistency::Strong)
            .await
            .unwrap();
        assert_eq!(stored.unwrap().profile.first_name, "First");
    }

    pub async fn a_replace_at_the_current_version_is_stored(s: Subject) {
        s.ports.users.insert(&user(8, 1, "Old")).await.unwrap();
        s.ports
            .users
            .replace(&user(8, 2, "New"), Version(1))
            .await
            .unwrap();
        let stored = s
            .ports
            .users
            .get(UserId::new(8).unwrap(), Consistency::Strong)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (stored.version, stored.profile.first_name.as_str()),
            (Version(2), "New")
        );
    }

    pub async fn a_replace_at_a_stale_version_fails_and_changes_nothing(s: Subject) {
        s.ports.users.insert(&user(9, 1, "One")).await.unwrap();
        s.ports
            .users
            .replace(&user(9, 2, "Two"), Version(1))
            .await
            .unwrap();
        let error = s
            .ports
            .users
            .replace(&user(9, 2, "Lost"), Version(1))
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                StoreError::VersionMismatch {
                    current: Version(2)
                }
            ),
            "{error:?}"
        );
        let stored = s
            .ports
            .users
            .get(UserId::new(9).unwrap(), Consistency::Strong)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.profile.first_name, "Two");
    }

    pub async fn replacing_an_unknown_user_is_not_found(s: Subject) {
        let error = s
            .ports
            .users
            .replace(&user(10, 2, "Ghost"), Version(1))
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::NotFound), "{error:?}");
        assert_eq!(
            s.ports
                .users
                .get(UserId::new(10).unwrap(), Consistency::Strong)
                .await
                .unwrap(),
            None
        );
    }

    pub async fn a_delete_at_the_current_version_removes_the_user(s: Subject) {
        s.ports.users.insert(&user(11, 1, "Gone")).await.unwrap();
        s.ports.users.delete(&user(11, 1, "Gone")).await.unwrap();
        assert_eq!(
            s.ports
                .users
                .get(UserId::new(11).unwrap(), Consistency::Strong)
                .await
                .unwrap(),
            None
        );
    }

    pub async fn a_delete_at_a_stale_version_fails_and_keeps_the_user(s: Subject) {
        s.ports.users.insert(&user(13, 1, "Kept")).await.unwrap();
        s.ports
            .users
            .replace(&user(13, 2, "Kept"), Version(1))
            .await
            .unwrap();
        let error = s
            .ports
            .users
            .delete(&user(13, 1, "Kept"))
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                StoreError::VersionMismatch {
                    current: Version(2)
                }
            ),
            "{error:?}"
        );
        assert!(s
            .ports
            .users
            .get(UserId::new(13).unwrap(), Consistency::Strong)
            .await
            .unwrap()
            .is_some());
    }

    pub async fn deleting_an_unknown_user_is_not_found(s: Subject) {
        let error = s
            .ports
            .users
            .delete(&user(14, 1, "Nobody"))
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::NotFound), "{error:?}");
    }

    pub async fn of_racing_replaces_from_one_version_exactly_one_wins(s: Subject) {
        s.ports.users.insert(&user(15, 1, "Start")).await.unwrap();
        let attempts = (0..16).map(|i| {
            let users = Arc::clone(&s.ports.users);
            tokio::spawn(async move {
                users
                    .replace(&user(15, 2, &format!("Writer {i}")), Version(1))
                    .await
            })
        });
        let mut winners = 0;
        for attempt in attempts {
            match attempt.await.unwrap() {
                Ok(()) => winners += 1,
                Err(StoreError::VersionMismatch {
                    current: Version(2),
                }) => {}
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(winners, 1);
    }
}

conformance!(
    an_inserted_user_reads_back_identically,
    an_unknown_id_reads_as_none,
    inserting_a_taken_id_fails_and_keeps_the_first,
    a_replace_at_the_current_version_is_stored,
    a_replace_at_a_stale_version_fails_and_changes_nothing,
    replacing_an_unknown_user_is_not_found,
    a_delete_at_the_current_version_removes_the_user,
    a_delete_at_a_stale_version_fails_and_keeps_the_user,
    deleting_an_unknown_user_is_not_found,
    of_racing_replaces_from_one_version_exactly_one_wins,
);

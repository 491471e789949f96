//! Accounts, sessions and login limits on every data tier: the port
//! contracts, then the auth service's behaviour on top of each adapter.
//! Every case runs on the embedded store and on DynamoDB (moto).

mod common;

use std::sync::Arc;

use millions_core::auth::{
    AccountError, AuthError, AuthSettings, Limit, Login, LoginLimits, PasswordHash, Session,
    SessionLifetimes, SessionToken, Window,
};
use millions_core::{
    Address, Consistency, Email, Services, StoreError, StoredUser, UserId, UserProfile, Version,
};
use serde_json::{json, Value};

use common::Subject;

const PASSWORD: &str = "correct horse battery staple";

fn profile() -> UserProfile {
    UserProfile {
        first_name: "Ann".into(),
        last_name: "Lee".into(),
        address: Address {
            street_address: "1 Main Street".into(),
            city: "Boston".into(),
            state: "MA".into(),
            postal_code: 2134,
        },
        phone_numbers: vec![],
    }
}

fn email(text: &str) -> Email {
    Email::parse(text).unwrap()
}

fn account(id: u64, address: &str) -> (StoredUser, Login) {
    let id = UserId::new(id).unwrap();
    let user = StoredUser {
        id,
        version: Version::FIRST,
        profile: profile(),
        email: Some(email(address)),
    };
    let login = Login {
        email: email(address),
        user_id: id,
        password_hash: PasswordHash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
    };
    (user, login)
}

fn session(byte: u8, user: u64, expires_at: u64) -> (SessionToken, Session) {
    let token = SessionToken::from_bytes([byte; 32]);
    let session = Session {
        token_hash: token.hash(),
        user_id: UserId::new(user).unwrap(),
        created_at: common::START_SECS,
        expires_at,
    };
    (token, session)
}

/// Short lifetimes and low limits, so tests can cross them by moving the clock.
const SETTINGS: AuthSettings = AuthSettings {
    sessions: SessionLifetimes {
        idle_secs: 100,
        absolute_secs: 1000,
    },
    login_limits: LoginLimits {
        per_account: Limit {
            max: 3,
            window_secs: 60,
        },
        per_address: Limit {
            max: 10,
            window_secs: 60,
        },
    },
};

fn services(s: &Subject, node: u16) -> Services {
    Services::new(s.ports.clone(), node, SETTINGS)
}

fn signup_body(address: &str) -> Value {
    json!({
        "email": address, "password": PASSWORD,
        "firstName": "Ann", "lastName": "Lee",
        "address": {"streetAddress": "1 Main Street", "city": "Boston", "state": "MA", "postalCode": 2134},
        "phoneNumbers": []
    })
}

fn credentials(address: &str, password: &str) -> Value {
    json!({"email": address, "password": password})
}

mod cases {
    use super::*;

    // --- The Accounts port ---

    pub async fn an_account_is_created_with_its_login(s: Subject) {
        let (user, login) = account(21, "ann@example.com");
        s.ports.accounts.create(&user, &login).await.unwrap();
        assert_eq!(
            s.ports.accounts.login(&login.email).await.unwrap(),
            Some(login)
        );
        let stored = s
            .ports
            .users
            .get(user.id, Consistency::Strong)
            .await
            .unwrap();
        assert_eq!(stored, Some(user));
    }

    pub async fn a_taken_email_writes_neither_user_nor_login(s: Subject) {
        let (first, first_login) = account(22, "ann@example.com");
        s.ports.accounts.create(&first, &first_login).await.unwrap();
        let (second, second_login) = account(23, "ann@example.com");
        let error = s
            .ports
            .accounts
            .create(&second, &second_login)
            .await
            .unwrap_err();
        assert!(matches!(error, AccountError::EmailTaken), "{error:?}");
        assert_eq!(
            s.ports
                .users
                .get(second.id, Consistency::Strong)
                .await
                .unwrap(),
            None
        );
        let login = s
            .ports
            .accounts
            .login(&first_login.email)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(login.user_id, first.id);
    }

    pub async fn a_taken_id_writes_no_login(s: Subject) {
        let (first, first_login) = account(24, "ann@example.com");
        s.ports.accounts.create(&first, &first_login).await.unwrap();
        let (second, second_login) = account(24, "bob@example.com");
        let error = s
            .ports
            .accounts
            .create(&second, &second_login)
            .await
            .unwrap_err();
        assert!(matches!(error, AccountError::IdTaken), "{error:?}");
        assert_eq!(
            s.ports.accounts.login(&second_login.email).await.unwrap(),
            None
        );
    }

    pub async fn deleting_a_user_releases_its_email(s: Subject) {
        let (user, login) = account(25, "ann@example.com");
        s.ports.accounts.create(&user, &login).await.unwrap();
        s.ports.users.delete(&user).await.unwrap();
        assert_eq!(s.ports.accounts.login(&login.email).await.unwrap(), None);
        let (again, again_login) = account(26, "ann@example.com");
        s.ports.accounts.create(&again, &again_login).await.unwrap();
    }

    pub async fn a_stale_delete_keeps_user_and_login(s: Subject) {
        let (user, login) = account(27, "ann@example.com");
        s.ports.accounts.create(&user, &login).await.unwrap();
        let changed = StoredUser {
            version: Version(2),
            ..user.clone()
        };
        s.ports
            .users
            .replace(&changed, Version::FIRST)
            .await
            .unwrap();
        let error = s.ports.users.delete(&user).await.unwrap_err();
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
            .accounts
            .login(&login.email)
            .await
            .unwrap()
            .is_some());
    }

    // --- The Sessions port ---

    pub async fn sessions_are_stored_extended_and_deleted(s: Subject) {
        let (_, stored) = session(1, 5, common::START_SECS + 100);
        s.ports.sessions.insert(&stored).await.unwrap();
        let error = s.ports.sessions.insert(&stored).await.unwrap_err();
        assert!(matches!(error, StoreError::AlreadyExists), "{error:?}");
        assert_eq!(
            s.ports.sessions.get(&stored.token_hash).await.unwrap(),
            Some(stored.clone())
        );
        s.ports
            .sessions
            .extend(&stored.token_hash, common::START_SECS + 500)
            .await
            .unwrap();
        let read = s
            .ports
            .sessions
            .get(&stored.token_hash)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read.expires_at, common::START_SECS + 500);
        s.ports.sessions.delete(&stored.token_hash).await.unwrap();
        assert_eq!(
            s.ports.sessions.get(&stored.token_hash).await.unwrap(),
            None
        );
        // Deleting again is fine; extending a deleted session must not revive it.
        s.ports.sessions.delete(&stored.token_hash).await.unwrap();
        let error = s
            .ports
            .sessions
            .extend(&stored.token_hash, common::START_SECS + 900)
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::NotFound), "{error:?}");
        assert_eq!(
            s.ports.sessions.get(&stored.token_hash).await.unwrap(),
            None
        );
    }

    // --- The RateLimits port ---

    pub async fn counters_count_per_key_and_window(s: Subject) {
        let limit = Limit {
            max: 5,
            window_secs: 60,
        };
        let now = common::START_SECS;
        let window = |key: &str, at: u64| -> Window { limit.window(key.into(), at) };
        for expected in 1..=3 {
            assert_eq!(
                s.ports.limits.hit(&window("a", now)).await.unwrap(),
                expected
            );
        }
        assert_eq!(s.ports.limits.hit(&window("b", now)).await.unwrap(), 1);
        assert_eq!(s.ports.limits.hit(&window("a", now + 60)).await.unwrap(), 1);
    }

    pub async fn concurrent_hits_are_all_counted(s: Subject) {
        let window = Limit {
            max: 5,
            window_secs: 60,
        }
        .window("busy".into(), common::START_SECS);
        let hits = (0..20).map(|_| {
            let limits = Arc::clone(&s.ports.limits);
            let window = window.clone();
            tokio::spawn(async move { limits.hit(&window).await.unwrap() })
        });
        let mut counts = Vec::new();
        for hit in hits {
            counts.push(hit.await.unwrap());
        }
        counts.sort_unstable();
        assert_eq!(counts, (1..=20).collect::<Vec<u32>>());
    }

    // --- The auth service on this tier ---

    pub async fn signup_opens_a_session_and_login_opens_another(s: Subject) {
        let app = services(&s, 1);
        let (user, first) = app
            .auth
            .signup(signup_body("Ann@Example.com"))
            .await
            .unwrap();
        assert_eq!(user.email, Some(email("ann@example.com")));
        assert_eq!(first.session.user_id, user.id);
        let second = app
            .auth
            .login(credentials("ann@example.com", PASSWORD), "192.0.2.1")
            .await
            .unwrap();
        assert_ne!(first.token, second.token);
        for token in [&first.token, &second.token] {
            let session = app.auth.authenticate(token).await.unwrap().unwrap();
            assert_eq!(session.user_id, user.id);
        }
    }

    pub async fn a_second_signup_with_the_email_is_refused(s: Subject) {
        let app = services(&s, 1);
        app.auth
            .signup(signup_body("ann@example.com"))
            .await
            .unwrap();
        let error = app
            .auth
            .signup(signup_body("ANN@example.com"))
            .await
            .unwrap_err();
        assert!(matches!(error, AuthError::EmailTaken(_)), "{error:?}");
    }

    pub async fn of_racing_signups_with_one_email_exactly_one_wins(s: Subject) {
        let app = Arc::new(services(&s, 1));
        let attempts = (0..8).map(|_| {
            let app = Arc::clone(&app);
            tokio::spawn(async move { app.auth.signup(signup_body("race@example.com")).await })
        });
        let mut winners = 0;
        for attempt in attempts {
            match attempt.await.unwrap() {
                Ok(_) => winners += 1,
                Err(AuthError::EmailTaken(_)) => {}
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(winners, 1);
    }

    pub async fn wrong_password_and_unknown_email_get_the_same_answer(s: Subject) {
        let app = services(&s, 1);
        app.auth
            .signup(signup_body("ann@example.com"))
            .await
            .unwrap();
        let wrong = app
            .auth
            .login(
                credentials("ann@example.com", "not the password"),
                "192.0.2.1",
            )
            .await;
        let unknown = app
            .auth
            .login(credentials("bob@example.com", PASSWORD), "192.0.2.1")
            .await;
        assert!(
            matches!(wrong, Err(AuthError::WrongCredentials)),
            "{wrong:?}"
        );
        assert!(
            matches!(unknown, Err(AuthError::WrongCredentials)),
            "{unknown:?}"
        );
        assert_eq!(
            wrong.unwrap_err().to_string(),
            unknown.unwrap_err().to_string()
        );
    }

    pub async fn logout_ends_the_session(s: Subject) {
        let app = services(&s, 1);
        let (_, opened) = app
            .auth
            .signup(signup_body("ann@example.com"))
            .await
            .unwrap();
        app.auth.logout(&opened.token).await.unwrap();
        assert_eq!(app.auth.authenticate(&opened.token).await.unwrap(), None);
    }

    pub async fn a_session_from_one_instance_works_on_another(s: Subject) {
        let one = services(&s, 1);
        let other = services(&s, 2);
        let (user, opened) = one
            .auth
            .signup(signup_body("ann@example.com"))
            .await
            .unwrap();
        let session = other
            .auth
            .authenticate(&opened.token)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(session.user_id, user.id);
    }

    pub async fn an_expired_session_is_refused_before_the_ttl_sweep(s: Subject) {
        let app = services(&s, 1);
        let (_, opened) = app
            .auth
            .signup(signup_body("ann@example.com"))
            .await
            .unwrap();
        s.clock.advance_secs(SETTINGS.sessions.idle_secs);
        assert_eq!(app.auth.authenticate(&opened.token).await.unwrap(), None);
        // The record is still there (no sweep has run): expiry is the service's call.
        let hash = opened.token.hash();
        assert!(s.ports.sessions.get(&hash).await.unwrap().is_some());
    }

    pub async fn use_slides_the_session_until_its_absolute_end(s: Subject) {
        let app = services(&s, 1);
        let (_, opened) = app
            .auth
            .signup(signup_body("ann@example.com"))
            .await
            .unwrap();
        // Used every 60 s (more than half the idle time), the session lives
        // far past its first expiry, and then ends at the absolute limit.
        let mut alive_for = 0;
        while app
            .auth
            .authenticate(&opened.token)
            .await
            .unwrap()
            .is_some()
        {
            s.clock.advance_secs(60);
            alive_for += 60;
            assert!(alive_for <= 1100, "the session outlived its absolute end");
        }
        assert!(
            alive_for >= 960,
            "renewal did not keep the session alive: {alive_for} s"
        );
        let stored = s
            .ports
            .sessions
            .get(&opened.token.hash())
            .await
            .unwrap()
            .unwrap();
        assert!(stored.expires_at > opened.session.expires_at);
    }

    pub async fn login_attempts_are_limited_per_account(s: Subject) {
        let app = services(&s, 1);
        app.auth
            .signup(signup_body("ann@example.com"))
            .await
            .unwrap();
        for n in 0..3 {
            let address = format!("192.0.2.{n}");
            let result = app
                .auth
                .login(credentials("ann@example.com", "guess"), &address)
                .await;
            assert!(
                matches!(result, Err(AuthError::WrongCredentials)),
                "{result:?}"
            );
        }
        // Even the right password is refused while the limit holds.
        let limited = app
            .auth
            .login(credentials("ann@example.com", PASSWORD), "192.0.2.99")
            .await;
        let Err(AuthError::TooManyAttempts { retry_after_secs }) = limited else {
            panic!("expected a rate limit, got {limited:?}");
        };
        assert!((1..=60).contains(&retry_after_secs), "{retry_after_secs}");
        s.clock.advance_secs(retry_after_secs);
        app.auth
            .login(credentials("ann@example.com", PASSWORD), "192.0.2.99")
            .await
            .unwrap();
    }

    pub async fn login_attempts_are_limited_per_address(s: Subject) {
        let app = services(&s, 1);
        for n in 0..10 {
            let result = app
                .auth
                .login(
                    credentials(&format!("u{n}@example.com"), "guess"),
                    "198.51.100.7",
                )
                .await;
            assert!(
                matches!(result, Err(AuthError::WrongCredentials)),
                "{result:?}"
            );
        }
        let limited = app
            .auth
            .login(credentials("other@example.com", "guess"), "198.51.100.7")
            .await;
        assert!(
            matches!(limited, Err(AuthError::TooManyAttempts { .. })),
            "{limited:?}"
        );
        let elsewhere = app
            .auth
            .login(credentials("other@example.com", "guess"), "198.51.100.8")
            .await;
        assert!(
            matches!(elsewhere, Err(AuthError::WrongCredentials)),
            "{elsewhere:?}"
        );
    }

    pub async fn the_store_keeps_only_the_token_hash(s: Subject) {
        let app = services(&s, 1);
        let (_, opened) = app
            .auth
            .signup(signup_body("ann@example.com"))
            .await
            .unwrap();
        let token = opened.token.reveal();
        let raw = s.raw_sessions().await;
        assert_eq!(raw.len(), 1);
        let (key, contents) = &raw[0];
        assert_eq!(key, opened.token.hash().as_str());
        assert!(
            !contents.contains(&token),
            "the stored record holds the token: {contents}"
        );
        assert!(!key.contains(&token));
    }
}

conformance!(
    an_account_is_created_with_its_login,
    a_taken_email_writes_neither_user_nor_login,
    a_taken_id_writes_no_login,
    deleting_a_user_releases_its_email,
    a_stale_delete_keeps_user_and_login,
    sessions_are_stored_extended_and_deleted,
    counters_count_per_key_and_window,
    concurrent_hits_are_all_counted,
    signup_opens_a_session_and_login_opens_another,
    a_second_signup_with_the_email_is_refused,
    of_racing_signups_with_one_email_exactly_one_wins,
    wrong_password_and_unknown_email_get_the_same_answer,
    logout_ends_the_session,
    a_session_from_one_instance_works_on_another,
    an_expired_session_is_refused_before_the_ttl_sweep,
    use_slides_the_session_until_its_absolute_end,
    login_attempts_are_limited_per_account,
    login_attempts_are_limited_per_address,
    the_store_keeps_only_the_token_hash,
);

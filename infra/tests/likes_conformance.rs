//! One conformance suite for every `Likes` adapter: likes count once, however
//! often they are sent, and a profile liked by many at once ends at the
//! exact count.

mod common;

use std::sync::Arc;

use millions_core::UserId;

fn id(n: u64) -> UserId {
    UserId::new(n).unwrap()
}

const AT_MS: u64 = 1_795_737_600_000;

mod cases {
    use super::*;
    use common::Subject;

    pub async fn a_like_counts_once_however_often_it_is_sent(s: Subject) {
        let likes = &s.ports.likes;
        assert!(!likes.likes(id(1), id(2)).await.unwrap());
        assert!(likes.like(id(1), id(2), AT_MS).await.unwrap(), "new");
        assert!(!likes.like(id(1), id(2), AT_MS).await.unwrap(), "again");
        assert!(likes.likes(id(1), id(2)).await.unwrap());
        assert!(!likes.likes(id(2), id(1)).await.unwrap(), "not both ways");
        assert_eq!(likes.count(id(1)).await.unwrap(), 1);
        assert_eq!(likes.count(id(2)).await.unwrap(), 0);
    }

    pub async fn an_unlike_takes_back_only_a_like_that_was_there(s: Subject) {
        let likes = &s.ports.likes;
        assert!(!likes.unlike(id(1), id(2)).await.unwrap());
        assert_eq!(likes.count(id(1)).await.unwrap(), 0);
        likes.like(id(1), id(2), AT_MS).await.unwrap();
        likes.like(id(1), id(3), AT_MS).await.unwrap();
        assert!(likes.unlike(id(1), id(2)).await.unwrap());
        assert!(!likes.unlike(id(1), id(2)).await.unwrap(), "already gone");
        assert!(!likes.likes(id(1), id(2)).await.unwrap());
        assert_eq!(likes.count(id(1)).await.unwrap(), 1);
        // Liked again after an unlike: counted again.
        assert!(likes.like(id(1), id(2), AT_MS).await.unwrap());
        assert_eq!(likes.count(id(1)).await.unwrap(), 2);
    }

    pub async fn many_concurrent_likes_of_one_user_end_at_the_exact_count(s: Subject) {
        // 120 likers, each sending its like twice at once (a retry racing
        // the original), and a third of them taking it back.
        let celebrity = id(7);
        let likers: Vec<UserId> = (1000..1120).map(id).collect();
        // 32 in flight at a time, each liker's two sends side by side: a
        // store's client gives up on a call after its budget of seconds, and
        // the emulator that runs requests one by one would otherwise queue
        // 240 of them.
        let in_flight = Arc::new(tokio::sync::Semaphore::new(32));
        let sends = likers.iter().flat_map(|liker| [liker, liker]).map(|liker| {
            let (likes, liker) = (s.ports.likes.clone(), *liker);
            let in_flight = Arc::clone(&in_flight);
            tokio::spawn(async move {
                let _turn = in_flight.acquire().await.unwrap();
                likes.like(celebrity, liker, AT_MS).await.unwrap()
            })
        });
        let mut new = 0;
        for send in sends.collect::<Vec<_>>() {
            new += u64::from(send.await.unwrap());
        }
        assert_eq!(new, 120, "each like is new exactly once");
        assert_eq!(s.ports.likes.count(celebrity).await.unwrap(), 120);
        let takebacks = likers.iter().step_by(3).map(|liker| {
            let (likes, liker) = (s.ports.likes.clone(), *liker);
            tokio::spawn(async move { likes.unlike(celebrity, liker).await.unwrap() })
        });
        for takeback in takebacks.collect::<Vec<_>>() {
            assert!(takeback.await.unwrap());
        }
        assert_eq!(s.ports.likes.count(celebrity).await.unwrap(), 80);
        for (n, liker) in likers.iter().enumerate() {
            let expected = n % 3 != 0;
            assert_eq!(
                s.ports.likes.likes(celebrity, *liker).await.unwrap(),
                expected,
                "{liker}"
            );
        }
    }
}

conformance!(
    a_like_counts_once_however_often_it_is_sent,
    an_unlike_takes_back_only_a_like_that_was_there,
    many_concurrent_likes_of_one_user_end_at_the_exact_count;
    crate::common::dynamodb_serial
);

//! One conformance suite for every `Sketches` adapter: the daily active
//! users, merged from many instances at once, count each user once.

mod common;

use std::sync::Arc;

use millions_core::activity::{day_of, Activity, Sketch};
use millions_core::UserId;

fn users(range: std::ops::Range<u64>) -> impl Iterator<Item = UserId> {
    range.map(|n| UserId::new(7_000_000_000_000 + n).unwrap())
}

fn within_two_percent(estimate: u64, truth: u64) -> bool {
    (estimate as f64 - truth as f64).abs() <= 0.02 * truth as f64
}

mod cases {
    use super::*;
    use common::Subject;

    pub async fn instances_merging_at_once_count_each_user_once(s: Subject) {
        // Four instances, each seeing 4,000 users, overlapping: 10,000 in all.
        let instances: Vec<Arc<Activity>> = (0..4)
            .map(|_| {
                Arc::new(Activity::new(
                    s.ports.sketches.clone(),
                    s.ports.clock.clone(),
                ))
            })
            .collect();
        for (n, instance) in instances.iter().enumerate() {
            let start = n as u64 * 2_000;
            users(start..start + 4_000).for_each(|user| instance.saw(user));
        }
        let flushes = instances.iter().map(|instance| {
            let instance = Arc::clone(instance);
            tokio::spawn(async move { instance.flush().await.unwrap() })
        });
        for flush in flushes.collect::<Vec<_>>() {
            flush.await.unwrap();
        }
        let estimate = instances[0].flush().await.unwrap();
        assert!(within_two_percent(estimate, 10_000), "estimated {estimate}");
        // Flushing again adds nobody.
        users(0..100).for_each(|user| instances[1].saw(user));
        assert_eq!(instances[1].flush().await.unwrap(), estimate);
    }

    pub async fn concurrent_merges_lose_no_sketch(s: Subject) {
        let day = day_of(common::START_SECS * 1000);
        let merges = (0..8u64).map(|n| {
            let sketches = s.ports.sketches.clone();
            tokio::spawn(async move {
                let mut sketch = Sketch::default();
                users(n * 1_000..(n + 1) * 1_000).for_each(|user| sketch.insert(user));
                sketches.merge(day, &sketch).await.unwrap()
            })
        });
        for merge in merges.collect::<Vec<_>>() {
            merge.await.unwrap();
        }
        let union = s
            .ports
            .sketches
            .merge(day, &Sketch::default())
            .await
            .unwrap();
        assert!(within_two_percent(union.estimate(), 8_000), "{union:?}");
        let tomorrow = s.ports.sketches.merge(day + 1, &Sketch::default()).await;
        assert_eq!(tomorrow.unwrap().estimate(), 0, "days are counted apart");
    }
}

conformance!(
    instances_merging_at_once_count_each_user_once,
    concurrent_merges_lose_no_sketch;
    crate::common::dynamodb_serial
);

//! `GET /_local/metrics` read with a Prometheus text-format parser: the
//! business metrics are there and move as users sign up and log in, and the
//! daily active users, merged from several instances through the store,
//! come within 2 % of the truth.

use std::collections::HashMap;
use std::process::Command;

use futures::StreamExt;
use prometheus_parse::{Sample, Scrape, Value};
use serde_json::json;

use crate::helpers::{data_dir, john, signup_body, TestStack, PASSWORD};

async fn scrape(stack: &TestStack) -> Vec<Sample> {
    let response = stack
        .client
        .get(stack.url("/_local/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    let lines = text.lines().map(|line| Ok(line.to_owned()));
    Scrape::parse(lines).expect("valid Prometheus text").samples
}

/// The value of every sample of `name` whose labels include `labels`, summed.
fn total(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|sample| sample.metric == name)
        .filter(|sample| labels.iter().all(|(k, v)| sample.labels.get(k) == Some(*v)))
        .map(|sample| match &sample.value {
            Value::Counter(value) | Value::Gauge(value) | Value::Untyped(value) => *value,
            other => panic!("{name} is {other:?}"),
        })
        .sum()
}

/// How many observations the histograms of `name` whose labels include
/// `labels` counted, summed.
fn observations(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|sample| sample.metric == name)
        .filter(|sample| labels.iter().all(|(k, v)| sample.labels.get(k) == Some(*v)))
        .map(|sample| match &sample.value {
            Value::Histogram(buckets) => buckets.last().map_or(0.0, |inf| inf.count),
            other => panic!("{name} is a histogram, not {other:?}"),
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn business_metrics_move_and_daily_active_users_are_counted_across_instances() {
    let dir = data_dir();
    let data = dir.path().join("data");
    let sessions = dir.path().join("sessions.txt");
    let seeded = Command::new(env!("CARGO_BIN_EXE_millions"))
        .args(["seed", "--users", "10000", "--sessions", "10000"])
        .arg("--data-dir")
        .arg(&data)
        .arg("--sessions-out")
        .arg(&sessions)
        .output()
        .unwrap();
    assert!(seeded.status.success(), "{seeded:?}");
    let stack = TestStack::start_with(
        &["--data-dir", data.to_str().unwrap(), "--instances", "3"],
        &[],
    );

    // 10,000 distinct users, each making one authenticated request, spread
    // by the edge over the three instances.
    let tokens: Vec<String> = std::fs::read_to_string(&sessions)
        .unwrap()
        .lines()
        .map(|line| line.split_once(' ').unwrap().1.to_owned())
        .collect();
    assert_eq!(tokens.len(), 10_000);
    let statuses: HashMap<u16, usize> = futures::stream::iter(tokens)
        .map(|token| {
            let request = stack
                .client
                .get(stack.url("/auth/session"))
                .bearer_auth(token);
            async move { request.send().await.unwrap().status().as_u16() }
        })
        .buffer_unordered(32)
        .fold(HashMap::new(), |mut counts, status| async move {
            *counts.entry(status).or_default() += 1;
            counts
        })
        .await;
    assert_eq!(statuses, HashMap::from([(200, 10_000)]));

    let before = scrape(&stack).await;
    // Two sign-ups, one login, one wrong password: two more active users.
    let mut emails = Vec::new();
    for _ in 0..2 {
        let body = signup_body(&john());
        emails.push(body["email"].clone());
        assert_eq!(stack.signup(&body).await.status(), 201);
    }
    assert_eq!(stack.login(&emails[0]).await.status(), 200);
    let wrong = stack
        .client
        .post(stack.url("/auth/login"))
        .json(&json!({"email": emails[1], "password": format!("{PASSWORD}!")}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    // A third sign-up with a taken email: a conditional write that loses.
    let mut again = signup_body(&john());
    again["email"] = emails[0].clone();
    assert_eq!(stack.signup(&again).await.status(), 409);

    // Each instance merges what it saw every 2 s; a scrape merges one more.
    let truth = 10_002.0;
    let mut after = scrape(&stack).await;
    for _ in 0..20 {
        let estimate = total(&after, "daily_active_users", &[]);
        if (estimate - truth).abs() <= 0.02 * truth {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        after = scrape(&stack).await;
    }
    let estimate = total(&after, "daily_active_users", &[]);
    assert!(
        (estimate - truth).abs() <= 0.02 * truth,
        "estimated {estimate} daily active users for {truth}"
    );
    let moved = |name: &str, labels: &[(&str, &str)]| {
        total(&after, name, labels) - total(&before, name, labels)
    };
    assert_eq!(moved("signups_total", &[]), 2.0);
    assert_eq!(moved("logins_total", &[("outcome", "success")]), 1.0);
    assert_eq!(moved("logins_total", &[("outcome", "failure")]), 1.0);
    let requests = [
        ("route", "/auth/session"),
        ("method", "GET"),
        ("status", "2xx"),
    ];
    assert_eq!(
        observations(&before, "http_request_duration_seconds", &requests),
        10_000.0
    );

    // The data tier: every session read timed, and the lost conditional
    // write counted apart.
    let store = "store_operation_duration_seconds";
    let session_reads = [
        ("table", "sessions"),
        ("operation", "get"),
        ("outcome", "ok"),
    ];
    assert!(observations(&before, store, &session_reads) >= 10_000.0);
    let taken = [("table", "logins"), ("operation", "create")];
    let moved_calls = |labels: &[(&str, &str)]| {
        observations(&after, store, labels) - observations(&before, store, labels)
    };
    assert_eq!(
        moved_calls(&[taken[0], taken[1], ("outcome", "condition_failed")]),
        1.0
    );
    assert_eq!(moved_calls(&[taken[0], taken[1], ("outcome", "ok")]), 2.0);
    // Each shard's users, adding up to every user there is.
    let shards: Vec<&Sample> = after
        .iter()
        .filter(|sample| sample.metric == "store_shard_users")
        .collect();
    assert!(shards.len() >= 2, "one gauge per shard: {shards:?}");
    assert_eq!(total(&after, "store_shard_users", &[]), 10_002.0);
    for shard in shards {
        let Value::Gauge(users) = shard.value else {
            panic!("a gauge: {shard:?}")
        };
        assert!(users > 1_000.0, "the ids spread over the shards: {shard:?}");
    }
    // The edge's origin requests, each region's apart: the 10,000 session
    // reads were spread over the three instances.
    let origin = "edge_origin_duration_seconds";
    assert!(observations(&before, origin, &[("outcome", "answered")]) >= 10_000.0);
    for region in ["instance-1", "instance-2", "instance-3"] {
        let calls = observations(&before, origin, &[("region", region)]);
        assert!(calls > 3_000.0, "{region} answered {calls}");
    }
    assert_eq!(
        observations(&before, origin, &[("outcome", "refused")]),
        0.0
    );
    // The queue, with nothing in it.
    assert_eq!(total(&after, "photo_queue_backlog", &[]), 0.0);
    assert_eq!(total(&after, "photo_queue_dead_letters", &[]), 0.0);
    assert_eq!(total(&after, "photo_queue_oldest_seconds", &[]), 0.0);
}

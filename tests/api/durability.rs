//! The embedded store keeps every acknowledged write through restarts and crashes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::helpers::{data_dir, john, TestStack};

#[tokio::test]
async fn sigterm_stops_cleanly_and_data_survives_a_restart() {
    let dir = data_dir();
    let stack = TestStack::start(dir.path());
    let (id, _) = stack.create_john().await;
    let (status, logs) = stack.terminate();
    assert!(status.success(), "exit status {status}");
    assert!(
        logs.iter().any(|line| line.contains("SIGTERM received")),
        "{logs:?}"
    );

    let stack = TestStack::start(dir.path());
    let response = stack
        .client
        .get(stack.url(&format!("/users/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["firstName"], "John");
}

/// Eight clients create users as fast as they can; the stack is killed with
/// SIGKILL in the middle. Every user whose creation was answered 201 before
/// the kill must be there after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_writes_loses_no_acknowledged_write() {
    let dir = data_dir();
    let stack = TestStack::start(dir.path());
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..8)
        .map(|_| {
            let (client, url, acknowledged) = (
                stack.client.clone(),
                stack.url("/users"),
                Arc::clone(&acknowledged),
            );
            tokio::spawn(async move {
                // Ends when the server dies mid-request.
                while let Ok(response) = client.post(&url).json(&john()).send().await {
                    if response.status() != 201 {
                        break;
                    }
                    let Ok(user) = response.json::<Value>().await else {
                        break;
                    };
                    acknowledged
                        .lock()
                        .unwrap()
                        .push(user["id"].as_u64().unwrap());
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stack.kill();
    for writer in writers {
        writer.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 20,
        "only {} writes happened before the kill",
        acknowledged.len()
    );

    let stack = TestStack::start(dir.path());
    for id in &acknowledged {
        let response = stack
            .client
            .get(stack.url(&format!("/users/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            200,
            "user {id} was acknowledged, then lost"
        );
    }
}

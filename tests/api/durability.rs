//! The embedded store keeps every acknowledged write through restarts and crashes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::helpers::{data_dir, john, signup_body, TestStack, PASSWORD};

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

/// Eight clients sign users up as fast as they can; the stack is killed with
/// SIGKILL in the middle. Every user whose sign-up was answered 201 before
/// the kill must be there after a restart, and able to log in.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_writes_loses_no_acknowledged_write() {
    let dir = data_dir();
    let stack = TestStack::start(dir.path());
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..8)
        .map(|_| {
            let (client, url, acknowledged) = (
                stack.client.clone(),
                stack.url("/auth/signup"),
                Arc::clone(&acknowledged),
            );
            tokio::spawn(async move {
                // Ends when the server dies mid-request.
                loop {
                    let body = signup_body(&john());
                    let Ok(response) = client.post(&url).json(&body).send().await else {
                        break;
                    };
                    if response.status() != 201 {
                        break;
                    }
                    let Ok(answer) = response.json::<Value>().await else {
                        break;
                    };
                    let id = answer["user"]["id"].as_u64().unwrap();
                    acknowledged
                        .lock()
                        .unwrap()
                        .push((id, body["email"].clone()));
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
        acknowledged.len() > 10,
        "only {} writes happened before the kill",
        acknowledged.len()
    );

    let stack = TestStack::start(dir.path());
    for (id, _) in &acknowledged {
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
    // Their logins were written in the same commit as the users.
    for (id, email) in acknowledged.iter().step_by(5) {
        let login = serde_json::json!({"email": email, "password": PASSWORD});
        let response = stack
            .client
            .post(stack.url("/auth/login"))
            .json(&login)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "user {id} cannot log in");
        assert_eq!(response.json::<Value>().await.unwrap()["userId"], *id);
    }
}

//! The embedded store keeps every acknowledged write through restarts and crashes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use millions_infra::local::PAUSE_AT;

use crate::helpers::{data_dir, expect_problem, john, signup_body, TestStack};

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
    // Their logins were written with the users: in the same commit where both
    // share a shard, in the two-step sign-up (settled on restart) where not.
    for (id, email) in acknowledged.iter().step_by(5) {
        let response = stack.login(email).await;
        assert_eq!(response.status(), 200, "user {id} cannot log in");
        assert_eq!(response.json::<Value>().await.unwrap()["userId"], *id);
    }
}

/// Where a user and its login live on different shards, sign-up writes them
/// in two steps. The stack is killed (SIGKILL) at each moment between the
/// steps; after a restart the email is either free again (killed before the
/// user was written) or a working account (killed after), never half of each:
/// no email taken twice, no user who cannot log in, no login of nobody.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signup_killed_between_its_shards_is_settled_on_restart() {
    for (point, account_kept) in [
        ("signup:email-reserved", false),
        ("signup:user-written", true),
    ] {
        let dir = data_dir();
        let folder = dir.path().to_str().unwrap();
        let stack = TestStack::start_with(
            &["--data-dir", folder, "--shards", "4"],
            &[(PAUSE_AT, point.to_owned())],
        );
        let body = signup_paused_at(&stack, point).await;
        stack.kill();

        let stack = TestStack::start(dir.path());
        let login = stack.login(&body["email"]).await;
        let again = stack.signup(&body).await;
        if account_kept {
            assert_eq!(login.status(), 200, "{point}: the account can log in");
            let id = login.json::<Value>().await.unwrap()["userId"].clone();
            let user = stack.get_json(&format!("/users/{id}")).await;
            assert_eq!(user["id"], id, "{point}: its user is there");
            expect_problem(again, 409).await;
        } else {
            expect_problem(login, 401).await;
            assert_eq!(again.status(), 201, "{point}: the email is free again");
        }
    }
}

/// Signs users up until one pauses at `point` (sign-ups whose user and login
/// share a shard finish in one step and never reach it), and returns the
/// body of the one that paused.
async fn signup_paused_at(stack: &TestStack, point: &str) -> Value {
    for _ in 0..64 {
        let body = signup_body(&john());
        let request = stack.client.post(stack.url("/auth/signup")).json(&body);
        let pending = tokio::spawn(request.send());
        loop {
            if stack.has_logged(&format!("paused at {point}")) {
                return body;
            }
            if pending.is_finished() {
                assert_eq!(pending.await.unwrap().unwrap().status(), 201);
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    panic!("64 sign-ups and none paused at {point}");
}

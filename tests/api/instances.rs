//! Statelessness: several API instances behind the front door share nothing
//! but the store, so a session opened on one works on every other, and
//! stopping one mid-traffic loses no request.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{data_dir, john, signup_body, TestStack, PASSWORD};

fn start_three(dir: &std::path::Path) -> TestStack {
    TestStack::start_with(
        &["--data-dir", dir.to_str().unwrap(), "--instances", "3"],
        &[],
    )
}

async fn instance_urls(stack: &TestStack) -> Vec<String> {
    let list: Value = stack
        .client
        .get(stack.url("/_local/instances"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|instance| format!("http://{}", instance["address"].as_str().unwrap()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_session_opened_on_one_instance_is_honoured_by_the_others() {
    let dir = data_dir();
    let stack = start_three(dir.path());
    let instances = instance_urls(&stack).await;
    assert_eq!(instances.len(), 3);
    let body = signup_body(&john());
    // Sign up and log in on instance 1, directly.
    let response = stack
        .client
        .post(format!("{}/auth/signup", instances[0]))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let response = stack
        .client
        .post(format!("{}/auth/login", instances[0]))
        .json(&json!({"email": body["email"], "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let session: Value = response.json().await.unwrap();
    let token = session["token"].as_str().unwrap();
    // Served by instances 2 and 3.
    for instance in &instances[1..] {
        let response = stack
            .client
            .get(format!("{instance}/auth/session"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{instance}");
        assert_eq!(
            response.json::<Value>().await.unwrap()["userId"],
            session["userId"]
        );
    }
    // Through the front door, requests are spread over every instance.
    let mut served_by = HashSet::new();
    for _ in 0..9 {
        let response = stack
            .client
            .get(stack.url("/auth/session"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        served_by.insert(
            response.headers()["x-edge-origin"]
                .to_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(served_by.len(), 3, "{served_by:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stopping_an_instance_mid_traffic_fails_no_request() {
    let dir = data_dir();
    let stack = start_three(dir.path());
    let (id, _) = stack.create_john().await;
    let owner = stack.as_owner();
    let user_url = stack.url(&format!("/users/{id}"));
    let session_url = stack.url("/auth/session");
    let stopped = Arc::new(AtomicBool::new(false));

    // Four clients read the session and replace the profile in a loop.
    let clients: Vec<_> = (0..4)
        .map(|client| {
            let (owner, user_url, session_url, stopped) = (
                owner.clone(),
                user_url.clone(),
                session_url.clone(),
                Arc::clone(&stopped),
            );
            tokio::spawn(async move {
                let mut after_stop = Vec::new();
                let mut requests = 0;
                loop {
                    let was_stopped = stopped.load(Ordering::SeqCst);
                    let mut profile = john();
                    profile["firstName"] = json!(format!("Client{client}"));
                    for response in [
                        owner.get(&session_url).send().await.unwrap(),
                        owner.put(&user_url).json(&profile).send().await.unwrap(),
                    ] {
                        requests += 1;
                        assert_eq!(response.status(), 200, "request {requests} failed");
                        if was_stopped {
                            after_stop.push(
                                response.headers()["x-edge-origin"]
                                    .to_str()
                                    .unwrap()
                                    .to_owned(),
                            );
                        }
                    }
                    if was_stopped && after_stop.len() >= 40 {
                        return after_stop;
                    }
                }
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(500)).await;
    let response = stack
        .client
        .post(stack.url("/_local/instances/2/stop"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let list: Value = response.json().await.unwrap();
    assert_eq!(list[1]["running"], false);
    // The instance's port no longer accepts connections.
    let stopped_url = format!("http://{}/health", list[1]["address"].as_str().unwrap());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        stack.client.get(&stopped_url).send().await.is_err(),
        "instance 2 still answers"
    );
    stopped.store(true, Ordering::SeqCst);

    let mut served_after = HashSet::new();
    for client in clients {
        served_after.extend(client.await.unwrap());
    }
    assert!(!served_after.contains("instance-2"), "{served_after:?}");
    assert_eq!(
        served_after.len(),
        2,
        "both remaining instances serve: {served_after:?}"
    );
}

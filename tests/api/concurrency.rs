//! Optimistic concurrency under contention: no update is lost or applied twice.

use serde_json::{json, Value};

use crate::helpers::{data_dir, TestStack};

/// Each of 50 clients reads the user, increments a counter kept in the street
/// address, and writes it back with `If-Match`; on 412 it reads again and
/// retries. If any increment were lost or doubled, the count would not be 50.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_patches_each_apply_exactly_once() {
    let dir = data_dir();
    let stack = TestStack::start(dir.path());
    let mut start = crate::helpers::john();
    start["address"]["streetAddress"] = json!("0 Main Street");
    let (id, _) = stack.create_user(&start).await;
    let url = stack.url(&format!("/users/{id}"));

    let clients = (0..50).map(|_| {
        let (client, url) = (stack.as_owner(), url.clone());
        tokio::spawn(async move {
            let mut conflicts = 0;
            loop {
                let response = client.get(&url).send().await.unwrap();
                let etag = response.headers()["etag"].to_str().unwrap().to_owned();
                let user: Value = response.json().await.unwrap();
                let street = user["address"]["streetAddress"].as_str().unwrap();
                let count: u64 = street.split(' ').next().unwrap().parse().unwrap();
                let patch =
                    json!({"address": {"streetAddress": format!("{} Main Street", count + 1)}});
                let response = client
                    .patch(&url)
                    .header("if-match", etag)
                    .json(&patch)
                    .send()
                    .await
                    .unwrap();
                match response.status().as_u16() {
                    200 => return conflicts,
                    412 => conflicts += 1,
                    other => panic!("unexpected status {other}"),
                }
            }
        })
    });
    let mut conflicts = 0;
    for client in clients.collect::<Vec<_>>() {
        conflicts += client.await.unwrap();
    }

    let response = stack.client.get(&url).send().await.unwrap();
    assert_eq!(
        response.headers()["etag"],
        "\"51\"",
        "one version per applied change"
    );
    let user: Value = response.json().await.unwrap();
    assert_eq!(user["address"]["streetAddress"], "50 Main Street");
    assert!(conflicts > 0, "the clients really raced");
}

/// Without `If-Match` the server re-applies a patch to the newer version, so
/// concurrent patches of different fields all survive.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_unconditional_patches_of_different_fields_all_survive() {
    let dir = data_dir();
    let stack = TestStack::start(dir.path());
    let (id, _) = stack.create_john().await;
    let url = stack.url(&format!("/users/{id}"));
    let patches = [
        json!({"firstName": "Jane"}),
        json!({"lastName": "Doe"}),
        json!({"address": {"city": "Boston"}}),
        json!({"address": {"state": "MA"}}),
        json!({"phoneNumbers": ["617 555-0100"]}),
    ];
    let tasks: Vec<_> = patches
        .into_iter()
        .map(|patch| {
            let (client, url) = (stack.as_owner(), url.clone());
            tokio::spawn(async move {
                client
                    .patch(&url)
                    .json(&patch)
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    let user: Value = stack
        .client
        .get(&url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(user["firstName"], "Jane");
    assert_eq!(user["lastName"], "Doe");
    assert_eq!(user["address"]["city"], "Boston");
    assert_eq!(user["address"]["state"], "MA");
    assert_eq!(user["phoneNumbers"], json!(["617 555-0100"]));
}

//! The local stack on DynamoDB (`--backend aws`), against a moto server the
//! test starts: the same binary and router, through the official SDK.

use serde_json::{json, Value};

use crate::helpers::{expect_problem, TestStack};

#[tokio::test]
async fn the_users_api_works_on_dynamodb() {
    let moto = millions_testkit::moto();
    let stack = TestStack::start_on_aws(&moto.env());

    let (id, etag) = stack.create_john().await;
    let url = stack.url(&format!("/users/{id}"));
    let response = stack
        .as_owner()
        .patch(&url)
        .header("if-match", &etag)
        .json(&json!({"lastName": "Jones"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = stack
        .as_owner()
        .patch(&url)
        .header("if-match", &etag)
        .json(&json!({"lastName": "Lost"}))
        .send()
        .await
        .unwrap();
    expect_problem(response, 412).await;
    let user: Value = stack
        .client
        .get(&url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(user["lastName"], "Jones");
    assert_eq!(
        stack.as_owner().delete(&url).send().await.unwrap().status(),
        204
    );
    expect_problem(stack.client.get(&url).send().await.unwrap(), 404).await;
}

#[tokio::test]
async fn without_create_tables_the_stack_finds_the_resources_by_prefix() {
    let moto = millions_testkit::moto();
    let prefix = millions_testkit::unique_name("found");
    let flags = ["--backend", "aws", "--table-prefix", prefix.as_str()];
    let first = TestStack::start_with(&[&flags[..], &["--create-tables"]].concat(), &moto.env());
    let (id, _) = first.create_john().await;
    first.terminate();

    let second = TestStack::start_with(&flags, &moto.env());
    let response = second
        .client
        .get(second.url(&format!("/users/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let queue: Value = second.get_json("/_local/queue").await;
    assert_eq!(queue["backlog"], 0, "the job queue was found: {queue}");
}

#[test]
fn a_missing_deployment_is_named_in_the_error() {
    let moto = millions_testkit::moto();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_millions"))
        .args([
            "--backend",
            "aws",
            "--table-prefix",
            "never-made",
            "--port",
            "0",
        ])
        .envs(moto.env().iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot find the resources named never-made-*"),
        "{stderr}"
    );
}

//! The local stack on DynamoDB (`--backend aws`), against a moto server the
//! test starts: the same binary and router, through the official SDK.

use serde_json::{json, Value};

use crate::helpers::{expect_problem, TestStack};

#[tokio::test]
async fn the_users_api_works_on_dynamodb() {
    let moto = millions_testkit::moto();
    let prefix = millions_testkit::unique_name("stack");
    let stack = TestStack::start_with(
        &[
            "--backend",
            "aws",
            "--create-tables",
            "--table-prefix",
            &prefix,
        ],
        &moto.env(),
    );

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

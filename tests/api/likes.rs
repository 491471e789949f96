//! Likes through the front door: given once however often they are sent,
//! only by the liker, and counted in the liked profile's public count.

use serde_json::{json, Value};

use crate::helpers::{data_dir, expect_problem, john, TestStack};

#[tokio::test]
async fn a_like_is_given_once_taken_back_and_counted() {
    let dir = data_dir();
    let stack = TestStack::start(dir.path());
    let (star, _) = stack.create_john().await;
    let (fan, _) = stack.create_john().await;
    let fan_client = stack.as_owner();
    let like = stack.url(&format!("/users/{star}/likes/{fan}"));
    let count = format!("/users/{star}/likes");

    expect_problem(stack.client.get(&like).send().await.unwrap(), 404).await;
    let given = fan_client.put(&like).send().await.unwrap();
    assert_eq!(given.status(), 201);
    let again = fan_client.put(&like).send().await.unwrap();
    assert_eq!(again.status(), 204, "a repeated like changes nothing");
    assert_eq!(stack.client.get(&like).send().await.unwrap().status(), 204);

    let response = stack.client.get(stack.url(&count)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let lifetime = response.headers()["cache-control"].to_str().unwrap();
    assert!(lifetime.starts_with("public, max-age="), "{lifetime}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"userId": star, "likes": 1}));

    for _ in 0..2 {
        let taken_back = fan_client.delete(&like).send().await.unwrap();
        assert_eq!(taken_back.status(), 204);
    }
    expect_problem(stack.client.get(&like).send().await.unwrap(), 404).await;
    // The edge may keep the public count for its max-age; the origin's
    // answer has changed at once.
    let fresh = stack
        .client
        .get(stack.url(&count))
        .header("cache-control", "no-cache")
        .send()
        .await
        .unwrap();
    let body: Value = fresh.json().await.unwrap();
    assert_eq!(body["likes"], 0);
}

#[tokio::test]
async fn only_the_liker_likes_and_only_existing_users_are_liked() {
    let dir = data_dir();
    let stack = TestStack::start(dir.path());
    let (star, _) = stack.create_user(&john()).await;
    let (fan, _) = stack.create_user(&john()).await;
    let fan_client = stack.as_owner();

    let anonymous = stack
        .client
        .put(stack.url(&format!("/users/{star}/likes/{fan}")))
        .send()
        .await
        .unwrap();
    expect_problem(anonymous, 401).await;
    let for_someone_else = fan_client
        .put(&stack.url(&format!("/users/{fan}/likes/{star}")))
        .send()
        .await
        .unwrap();
    let problem = expect_problem(for_someone_else, 403).await;
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("only the liker"));
    let nobody = fan_client
        .put(&stack.url(&format!("/users/999999/likes/{fan}")))
        .send()
        .await
        .unwrap();
    expect_problem(nobody, 404).await;
    let count_of_nobody = stack
        .client
        .get(stack.url("/users/999999/likes"))
        .send()
        .await
        .unwrap();
    expect_problem(count_of_nobody, 404).await;
    let bad = stack
        .client
        .get(stack.url(&format!("/users/{star}/likes/not-a-number")))
        .send()
        .await
        .unwrap();
    let problem = expect_problem(bad, 400).await;
    assert!(problem["detail"].as_str().unwrap().contains("not-a-number"));
}

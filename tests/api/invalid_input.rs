//! Everything a client can get wrong answers 4xx with a problem document that
//! says what and where, and never 500.

use serde_json::json;

use crate::helpers::{data_dir, expect_problem, john, signup_body, TestStack};

#[tokio::test]
async fn bad_bodies_are_named_precisely() {
    let dir = data_dir();
    let stack = TestStack::start(dir.path());
    let post = |body: String, content_type: &str| {
        stack
            .client
            .post(stack.url("/auth/signup"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let json_type = "application/json";

    let problem = expect_problem(
        post("{\"firstName\": ".into(), json_type).await.unwrap(),
        400,
    )
    .await;
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("not valid JSON"));

    let mut wrong_type = signup_body(&john());
    wrong_type["address"]["postalCode"] = json!("ten");
    let problem = expect_problem(post(wrong_type.to_string(), json_type).await.unwrap(), 422).await;
    assert_eq!(problem["errors"][0]["pointer"], "/address/postalCode");

    let mut missing = signup_body(&john());
    missing.as_object_mut().unwrap().remove("lastName");
    let problem = expect_problem(post(missing.to_string(), json_type).await.unwrap(), 422).await;
    assert_eq!(problem["errors"][0]["pointer"], "/lastName");

    let mut too_long = signup_body(&john());
    too_long["address"]["city"] = json!("x".repeat(201));
    let problem = expect_problem(post(too_long.to_string(), json_type).await.unwrap(), 422).await;
    assert_eq!(problem["errors"][0]["pointer"], "/address/city");
    assert!(problem["errors"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("200"));

    let huge = format!("{{\"firstName\": \"{}\"}}", "x".repeat(20_000));
    expect_problem(post(huge, json_type).await.unwrap(), 413).await;

    let body = signup_body(&john()).to_string();
    expect_problem(post(body.clone(), "text/plain").await.unwrap(), 415).await;
    let response = stack
        .client
        .post(stack.url("/auth/signup"))
        .body(body)
        .send()
        .await
        .unwrap();
    expect_problem(response, 415).await;

    let problem = expect_problem(post("[]".into(), json_type).await.unwrap(), 422).await;
    assert_eq!(problem["errors"][0]["pointer"], "");

    // Login details are checked like any other field.
    let mut weak = signup_body(&john());
    weak["password"] = json!("hunter2");
    weak["email"] = json!("not-an-email");
    let problem = expect_problem(post(weak.to_string(), json_type).await.unwrap(), 422).await;
    let pointers: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, ["/email", "/password"]);

    // The old creation path points the way to sign-up.
    let response = stack
        .client
        .post(stack.url("/users"))
        .json(&john())
        .send()
        .await
        .unwrap();
    let problem = expect_problem(response, 404).await;
    assert!(problem["detail"].as_str().unwrap().contains("/auth/signup"));
}

#[tokio::test]
async fn bad_ids_and_headers_are_rejected() {
    let dir = data_dir();
    let stack = TestStack::start(dir.path());
    for (path, status) in [
        ("/users/abc", 400),
        ("/users/-3", 400),
        ("/users/0", 400),
        ("/users/9007199254740992", 400),
        ("/users/123456", 404),
    ] {
        let response = stack.client.get(stack.url(path)).send().await.unwrap();
        expect_problem(response, status).await;
    }
    let (id, _) = stack.create_john().await;
    let response = stack
        .as_owner()
        .put(&stack.url(&format!("/users/{id}")))
        .header("if-match", "not-quoted")
        .json(&john())
        .send()
        .await
        .unwrap();
    expect_problem(response, 400).await;
    let response = stack
        .as_owner()
        .patch(&stack.url(&format!("/users/{id}")))
        .json(&json!({"id": id + 1}))
        .send()
        .await
        .unwrap();
    let problem = expect_problem(response, 422).await;
    assert_eq!(problem["errors"][0]["pointer"], "/id");
    let response = stack
        .client
        .get(stack.url("/nowhere"))
        .send()
        .await
        .unwrap();
    expect_problem(response, 404).await;
    let response = stack
        .client
        .delete(stack.url("/users"))
        .send()
        .await
        .unwrap();
    expect_problem(response, 405).await;
}

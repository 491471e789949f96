//! The Lambda entry point fed real API Gateway HTTP API (payload 2.0) events
//! through `lambda_http`'s own adapter, the same path `lambda_http::run`
//! takes in AWS, with the DynamoDB adapter on a moto server.

use lambda_http::lambda_runtime::{Context, LambdaEvent};
use lambda_http::request::LambdaRequest;
use lambda_http::tower::ServiceExt;
use lambda_http::Adapter;
use serde_json::Value;

/// Runs one event through the function and returns API Gateway's view of the
/// answer: the serialized `LambdaResponse`.
async fn invoke(app: &axum::Router, event: Value) -> Value {
    let request: LambdaRequest =
        serde_json::from_value(event).expect("a valid API Gateway v2 event");
    let adapter = Adapter::from(app.clone());
    let response = adapter
        .oneshot(LambdaEvent::new(request, Context::default()))
        .await
        .unwrap();
    serde_json::to_value(response).unwrap()
}

fn event(name: &str) -> Value {
    let path = format!("{}/tests/events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn get_event(path: &str) -> Value {
    let mut event = event("get_user");
    event["rawPath"] = path.into();
    event["requestContext"]["http"]["path"] = path.into();
    event
}

async fn app() -> axum::Router {
    let moto = millions_testkit::moto();
    let config = moto.sdk_config().await;
    let table = millions_testkit::unique_name("users");
    millions_infra::aws::DynamoUsers::new(aws_sdk_dynamodb::Client::new(&config), &table)
        .create_table_if_missing()
        .await
        .unwrap();
    api_lambda::app(&config, &table)
}

#[tokio::test]
async fn a_user_created_through_api_gateway_reads_back() {
    let app = app().await;
    let created = invoke(&app, event("post_user")).await;
    assert_eq!(created["statusCode"], 201, "{created}");
    let location = created["headers"]["location"].as_str().unwrap().to_owned();
    assert_eq!(created["headers"]["etag"], "\"1\"");
    let user: Value = serde_json::from_str(created["body"].as_str().unwrap()).unwrap();

    let read = invoke(&app, get_event(&location)).await;
    assert_eq!(read["statusCode"], 200, "{read}");
    assert_eq!(read["headers"]["content-type"], "application/json");
    let body: Value = serde_json::from_str(read["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, user);
    assert_eq!(body["address"]["postalCode"], 10021);
    assert_eq!(body["phoneNumbers"][1], "646 555-4567");
}

#[tokio::test]
async fn a_base64_encoded_body_is_decoded() {
    let app = app().await;
    let created = invoke(&app, event("post_user_base64")).await;
    assert_eq!(created["statusCode"], 201, "{created}");
    let user: Value = serde_json::from_str(created["body"].as_str().unwrap()).unwrap();
    assert_eq!(user["firstName"], "John");
}

#[tokio::test]
async fn errors_reach_api_gateway_as_problem_documents() {
    let app = app().await;
    let answer = invoke(&app, get_event("/users/not-a-number")).await;
    assert_eq!(answer["statusCode"], 400);
    assert_eq!(
        answer["headers"]["content-type"],
        "application/problem+json"
    );
    let problem: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(problem["status"], 400);

    let answer = invoke(&app, get_event("/users/4242")).await;
    assert_eq!(answer["statusCode"], 404);

    let mut wrong_type = event("post_user");
    wrong_type["headers"]["content-type"] = "text/plain".into();
    let answer = invoke(&app, wrong_type).await;
    assert_eq!(answer["statusCode"], 415);
}

//! The users API round trip, and the chapter's JSON shape.

use serde_json::{json, Value};

use crate::helpers::{data_dir, expect_problem, john, signup_body, TestStack};

/// The same JSON keys and value types, recursively.
fn same_shape(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| same_shape(v, w)))
        }
        (Value::Array(a), Value::Array(b)) => a.iter().zip(b).all(|(v, w)| same_shape(v, w)),
        (Value::Number(_), Value::Number(_)) | (Value::String(_), Value::String(_)) => true,
        _ => false,
    }
}

#[tokio::test]
async fn a_created_user_reads_back_in_the_chapters_shape() {
    let dir = data_dir();
    let stack = TestStack::start(dir.path());
    let response = stack.signup(&signup_body(&john())).await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = response.json().await.unwrap();
    let id = created["user"]["id"].as_u64().unwrap();
    assert_eq!(location, format!("/users/{id}"));
    assert!(id < 1 << 53, "ids stay exact in JavaScript");

    let response = stack.client.get(stack.url(&location)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["etag"], "\"1\"");
    let user: Value = response.json().await.unwrap();
    let mut expected = john();
    expected["id"] = json!(id);
    assert_eq!(user, expected);
    // The chapter's own example, byte for byte apart from the id.
    let chapter: Value = serde_json::from_str(
        r#"{"id":12,"firstName":"John","lastName":"Smith","address":{"streetAddress":"21 2nd Street",
            "city":"New York","state":"NY","postalCode":10021},"phoneNumbers":["212 555-1234","646 555-4567"]}"#,
    )
    .unwrap();
    assert!(same_shape(&user, &chapter), "{user} vs {chapter}");
}

#[tokio::test]
async fn put_patch_and_delete_follow_the_etag() {
    let dir = data_dir();
    let stack = TestStack::start(dir.path());
    let (id, etag) = stack.create_john().await;
    let url = stack.url(&format!("/users/{id}"));

    let mut replacement = john();
    replacement["firstName"] = json!("Johnny");
    replacement["id"] = json!(id); // sending back what was read is fine
    let response = stack
        .as_owner()
        .put(&url)
        .header("if-match", &etag)
        .json(&replacement)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["etag"], "\"2\"");

    let response = stack
        .as_owner()
        .patch(&url)
        .header("if-match", "\"2\"")
        .header("content-type", "application/merge-patch+json")
        .body(r#"{"address":{"city":"Boston"}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["etag"], "\"3\"");
    let user: Value = response.json().await.unwrap();
    assert_eq!(
        (user["firstName"].as_str(), user["address"]["city"].as_str()),
        (Some("Johnny"), Some("Boston"))
    );
    assert_eq!(user["address"]["streetAddress"], "21 2nd Street");

    let response = stack
        .as_owner()
        .delete(&url)
        .header("if-match", "\"3\"")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    expect_problem(stack.client.get(&url).send().await.unwrap(), 404).await;
}

#[tokio::test]
async fn a_stale_if_match_answers_412_and_changes_nothing() {
    let dir = data_dir();
    let stack = TestStack::start(dir.path());
    let (id, stale) = stack.create_john().await;
    let url = stack.url(&format!("/users/{id}"));
    let response = stack
        .as_owner()
        .patch(&url)
        .json(&json!({"lastName": "Jones"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let put = stack
        .as_owner()
        .put(&url)
        .header("if-match", &stale)
        .json(&john());
    let patch = stack
        .as_owner()
        .patch(&url)
        .header("if-match", &stale)
        .json(&json!({"lastName": "Lost"}));
    let delete = stack.as_owner().delete(&url).header("if-match", &stale);
    for request in [put, patch, delete] {
        let response = request.send().await.unwrap();
        assert_eq!(
            response.headers()["etag"],
            "\"2\"",
            "412 tells the current version"
        );
        expect_problem(response, 412).await;
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
    assert_eq!(user["lastName"], "Jones");
}

#[tokio::test]
async fn get_answers_304_when_if_none_match_names_the_current_version() {
    let dir = data_dir();
    let stack = TestStack::start(dir.path());
    let (id, etag) = stack.create_john().await;
    let url = stack.url(&format!("/users/{id}"));
    let response = stack
        .client
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 304);
    stack
        .as_owner()
        .patch(&url)
        .json(&json!({"lastName": "Jones"}))
        .send()
        .await
        .unwrap();
    let response = stack
        .client
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn health_and_openapi_are_served() {
    let dir = data_dir();
    let stack = TestStack::start(dir.path());
    let health: Value = stack
        .client
        .get(stack.url("/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let doc: Value = stack
        .client
        .get(stack.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/users/{id}",
        "/health",
        "/auth/signup",
        "/auth/login",
        "/auth/logout",
        "/auth/session",
        "/photos",
        "/photos/{id}/jobs",
        "/jobs/{id}",
        "/photos/{name}",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    let operation = &doc["components"]["schemas"]["Operation"];
    assert_eq!(
        operation["oneOf"].as_array().map(Vec::len),
        Some(5),
        "{operation}"
    );
    let patch = &doc["paths"]["/users/{id}"]["patch"];
    for status in ["401", "403", "412", "422"] {
        assert!(
            patch["responses"][status].is_object(),
            "PATCH documents {status}"
        );
    }
    assert!(
        patch["security"].is_array(),
        "PATCH names its session schemes"
    );
    let login = &doc["paths"]["/auth/login"]["post"]["responses"];
    assert!(
        login["429"]["headers"]["Retry-After"].is_object(),
        "{login}"
    );
    assert!(login["401"].is_object());
    assert!(doc["paths"]["/auth/signup"]["post"]["responses"]["409"].is_object());
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["session_cookie"]["name"], "__Host-session");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert!(doc["components"]["schemas"]["Problem"].is_object());
}

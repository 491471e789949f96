//! What the local stack writes to its log.

use serde_json::{json, Value};

use crate::helpers::{data_dir, john, signup_body, TestStack, PASSWORD};

/// At the debug level, where the most is written, the log lines of a
/// sign-up, a login, a session's use and a photo upload hold no password,
/// no session token and no upload signature.
#[tokio::test]
async fn no_secret_reaches_the_logs() {
    let dir = data_dir();
    let folder = dir.path().to_str().unwrap();
    let stack = TestStack::start_with(&["--data-dir", folder], &[("RUST_LOG", "debug".into())]);
    let body = signup_body(&john());
    let signed_up: Value = stack.signup(&body).await.json().await.unwrap();
    let first_token = signed_up["session"]["token"].as_str().unwrap().to_owned();
    let response = stack.login(&body["email"]).await;
    assert_eq!(response.status(), 200);
    let logged_in: Value = response.json().await.unwrap();
    let token = logged_in["token"].as_str().unwrap().to_owned();
    let session = stack
        .client
        .get(stack.url("/auth/session"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(session.status(), 200);
    let photo = millions_testkit::photos::jpeg(64, 48);
    let slot: Value = stack
        .client
        .post(stack.url("/photos"))
        .bearer_auth(&token)
        .json(&json!({"contentType": "image/jpeg", "bytes": photo.len()}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let upload = &slot["upload"];
    let url = reqwest::Url::parse(upload["url"].as_str().unwrap()).unwrap();
    let signature = url
        .query_pairs()
        .find(|(name, _)| name == "signature")
        .map(|(_, value)| value.into_owned())
        .expect("an upload URL is signed");
    let mut put = stack.client.put(url.clone()).body(photo);
    for pair in upload["headers"].as_array().unwrap() {
        put = put.header(pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
    }
    assert_eq!(put.send().await.unwrap().status(), 200);

    let (status, lines) = stack.terminate();
    assert!(status.success());
    assert!(
        lines.len() > 10,
        "the debug level logged the requests: {lines:?}"
    );
    let secrets = [
        ("the password", PASSWORD.to_owned()),
        ("the sign-up's session token", first_token),
        ("the login's session token", token),
        ("the upload signature", signature),
    ];
    for line in &lines {
        for (what, secret) in &secrets {
            assert!(
                !line.contains(secret.as_str()),
                "{what} is in the log: {line}"
            );
        }
    }
}

//! DynamoDB throttling and a hanging endpoint, injected for real by a proxy
//! between the running stack (`--backend aws`) and moto
//! (`millions_testkit::faults`): the SDK retries within its budget
//! (`millions_infra::aws::clients`), then the client gets a clear 503 with
//! `Retry-After` instead of a hang, and the stack recovers by itself when
//! the service does, with no restart.

use std::time::Duration;

use millions_testkit::faults::{Fault, FaultProxy};
use serde_json::json;

use crate::helpers::TestStack;

#[tokio::test]
async fn a_throttled_or_hanging_dynamodb_is_a_503_and_the_stack_recovers_by_itself() {
    let moto = millions_testkit::moto();
    let mut env = moto.env();
    let upstream = env
        .iter()
        .find(|(name, _)| *name == "AWS_ENDPOINT_URL")
        .map(|(_, url)| url.clone())
        .expect("moto's endpoint");
    let proxy = FaultProxy::start(&upstream);
    for (name, value) in &mut env {
        if *name == "AWS_ENDPOINT_URL" {
            *value = proxy.endpoint.clone();
        }
    }
    let stack = TestStack::start_on_aws(&env);
    let (id, _) = stack.create_john().await;
    let url = stack.url(&format!("/users/{id}"));
    let rename = |name: &str| {
        stack
            .as_owner()
            .patch(&url)
            .json(&json!({ "lastName": name }))
            .timeout(Duration::from_secs(20))
    };

    proxy.set(Fault::Throttle);
    let throttled = rename("Throttled").send().await.unwrap();
    assert_eq!(throttled.status(), 503);
    assert_eq!(throttled.headers()["retry-after"], "1");
    assert_eq!(
        throttled.headers()["content-type"],
        "application/problem+json"
    );
    assert!(proxy.faulted() > 0);

    // Answered within the call's deadline (2 s an attempt, 5 s a call),
    // not left waiting on the endpoint; the client's 20 s would fail it.
    proxy.set(Fault::Hang);
    let hung = rename("Hung").send().await.unwrap();
    assert_eq!(hung.status(), 503);
    assert_eq!(hung.headers()["retry-after"], "1");

    proxy.set(Fault::None);
    let recovered = rename("Recovered").send().await.unwrap();
    assert_eq!(recovered.status(), 200);
    let read = stack
        .as_owner()
        .get(&url)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(read["lastName"], "Recovered");
}

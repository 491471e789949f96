//! The local stack's front door is the local edge; `--no-edge` serves the
//! API alone.

use crate::helpers::{data_dir, expect_problem, TestStack};

#[tokio::test]
async fn profile_reads_go_through_the_edge_cache() {
    let dir = data_dir();
    let stack = TestStack::start(dir.path());
    let (id, _) = stack.create_john().await;
    let url = stack.url(&format!("/users/{id}"));
    let mut seen = Vec::new();
    for headers in [vec![], vec![], vec![("cookie", "session=x")]] {
        let mut request = stack.client.get(&url);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        seen.push(response.headers()["x-cache"].to_str().unwrap().to_owned());
    }
    assert_eq!(seen, ["MISS", "HIT", "BYPASS"]);
}

#[tokio::test]
async fn the_edge_refuses_a_body_it_will_not_buffer_and_keeps_serving() {
    let dir = data_dir();
    let stack = TestStack::start(dir.path());
    // Over the edge's 1 MiB relay limit: refused at the edge, never relayed.
    let response = stack
        .client
        .post(stack.url("/auth/signup"))
        .header("content-type", "application/json")
        .body(vec![b' '; 1024 * 1024 + 1])
        .send()
        .await
        .unwrap();
    let problem = expect_problem(response, 413).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("1048576"),
        "{problem}"
    );
    // The local stack's own routes are served beside the edge, uncached.
    let queue = stack
        .client
        .get(stack.url("/_local/queue"))
        .send()
        .await
        .unwrap();
    assert_eq!(queue.status(), 200);
    assert!(queue.headers().get("x-cache").is_none());
}

#[tokio::test]
async fn no_edge_serves_the_api_directly() {
    let dir = data_dir();
    let stack = TestStack::start_with(
        &["--data-dir", dir.path().to_str().unwrap(), "--no-edge"],
        &[],
    );
    let (id, _) = stack.create_john().await;
    let response = stack
        .client
        .get(stack.url(&format!("/users/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("x-cache").is_none());
}

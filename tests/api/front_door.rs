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

/// With the edge bypassed, the API serves the same web app with the same
/// headers (and answers its validators), so the site still works.
#[tokio::test]
async fn the_api_serves_the_same_web_app_when_the_edge_is_bypassed() {
    let (edge_dir, api_dir) = (data_dir(), data_dir());
    let edge = TestStack::start(edge_dir.path());
    let api = TestStack::start_with(
        &["--data-dir", api_dir.path().to_str().unwrap(), "--no-edge"],
        &[],
    );
    let page = |stack: &TestStack, path: &str| stack.client.get(stack.url(path)).send();
    let through_edge = page(&edge, "/u/7").await.unwrap();
    let from_api = page(&api, "/u/7").await.unwrap();
    assert!(from_api.headers().get("x-cache").is_none(), "not the edge");
    for name in [
        "content-type",
        "cache-control",
        "etag",
        "content-security-policy",
        "x-content-type-options",
        "referrer-policy",
        "x-frame-options",
        "strict-transport-security",
    ] {
        assert_eq!(
            from_api.headers().get(name),
            through_edge.headers().get(name),
            "{name}"
        );
    }
    let etag = from_api.headers()["etag"].to_str().unwrap().to_owned();
    let html = from_api.text().await.unwrap();
    assert_eq!(html, through_edge.text().await.unwrap());
    let script = html
        .split('"')
        .find(|part| part.starts_with("/assets/app.") && part.ends_with(".js"))
        .expect("the index links a hashed script");
    let asset = page(&api, script).await.unwrap();
    assert_eq!(asset.status(), 200);
    assert_eq!(
        asset.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let revalidated = api
        .client
        .get(api.url("/"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), 304);
    // Paths that are neither the app nor the API are still 404 problems.
    expect_problem(
        page(&api, "/assets/app.0123456789abcdef.js").await.unwrap(),
        404,
    )
    .await;
    expect_problem(page(&api, "/u/7/photos").await.unwrap(), 404).await;
}

//! The web app in Chromium through the Cloudflare Worker (in `wrangler dev`,
//! offline) in front of the API: where production serves it. Sign-up, the
//! profile, log-out and log-in, a public profile and deletion; the photo
//! step needs the local stack's upload route, and runs through the local
//! edge in `tests/api/browser.rs`.

use millions_edge_local::policy::Origin;
use millions_edge_suite::{EdgeKind, Origins, RunningEdge};
use millions_testkit::browser::{run_flow, Flow};

#[tokio::test(flavor = "multi_thread")]
async fn the_web_app_works_in_chromium_through_the_worker() {
    let origins = Origins::start(1).await;
    let list = [Origin {
        region: "region-0".into(),
        url: origins.regions[0].url(),
        near: Vec::new(),
    }];
    let edge = RunningEdge::start(EdgeKind::Worker, &list, 1_000).await;
    let base = edge.url.clone();
    let run = tokio::task::spawn_blocking(move || run_flow(&base, Flow::Accounts, true, "worker"))
        .await
        .unwrap();
    println!("{}", run.printed);
    assert!(run.passed, "the browser flow failed:\n{}", run.printed);
    assert!(
        run.printed.contains("browser flow passed"),
        "{}",
        run.printed
    );
    drop(edge);
}

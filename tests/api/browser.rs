//! The web app in a real browser, through the local stack's front door (the
//! local edge), at phone and desktop widths: the whole flow of
//! `tests/browser/app-flow.mjs`, photos included. Screenshots of every step
//! land in `target/browser-screenshots/local/<width>/`.

use millions_testkit::browser::{run_flow, run_script, Flow};

use crate::helpers::{data_dir, TestStack};

#[tokio::test]
async fn the_web_app_works_in_chromium_through_the_local_edge() {
    let dir = data_dir();
    let stack = TestStack::start(dir.path());
    let base = stack.url("");
    let run = tokio::task::spawn_blocking(move || run_flow(&base, Flow::Full, true, "local"))
        .await
        .unwrap();
    println!("{}", run.printed);
    assert!(run.passed, "the browser flow failed:\n{}", run.printed);
    assert!(
        run.printed.contains("browser flow passed"),
        "{}",
        run.printed
    );
    for width in ["390", "1280"] {
        assert!(run
            .screenshots
            .join(width)
            .join("07-photo-job.png")
            .exists());
    }
}

/// The live dashboard under load: profile reads through the edge, most of
/// them hits and one in four revalidated with the API, while Chromium
/// watches the charts fill.
#[tokio::test]
async fn the_live_dashboard_plots_the_stack_under_load() {
    let dir = data_dir();
    let stack = TestStack::start(dir.path());
    let mut ids = Vec::new();
    for _ in 0..8 {
        ids.push(stack.create_john().await.0);
    }
    let ids = std::sync::Arc::new(ids);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = Vec::new();
    for worker in 0..4 {
        let (client, base) = (stack.client.clone(), stack.url(""));
        let (stop, ids) = (std::sync::Arc::clone(&stop), std::sync::Arc::clone(&ids));
        load.push(tokio::spawn(async move {
            let mut sent = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // Three reads the edge can answer, one it must revalidate
                // with the API.
                let id = ids[(sent as usize + worker) % ids.len()];
                let mut read = client.get(format!("{base}/users/{id}"));
                if sent.is_multiple_of(4) {
                    read = read.header("cache-control", "no-cache");
                }
                let _ = read.send().await;
                sent += 1;
            }
            sent
        }));
    }
    let base = stack.url("");
    let run = tokio::task::spawn_blocking(move || {
        run_script("tests/browser/dashboard.mjs", &base, "dashboard", &[], &[])
    })
    .await
    .unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut sent = 0;
    for worker in load {
        sent += worker.await.unwrap();
    }
    println!("{}\n{sent} requests sent", run.printed);
    assert!(run.passed, "the dashboard check failed:\n{}", run.printed);
    assert!(run.screenshots.join("dashboard.png").exists());
}

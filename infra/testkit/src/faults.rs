//! A fault proxy in front of the AWS emulator: a test points the stack's
//! `AWS_ENDPOINT_URL` here instead of at moto, then makes the "service"
//! throttle or hang, for real, over HTTP, while the stack runs, and lets
//! it recover. Every request is relayed to moto unless a fault is on.
//!
//! The faults are what the SDK's retry and timeout budgets exist for
//! (`millions_infra::aws::clients`): DynamoDB's throttling error, and an
//! endpoint that takes the request and never answers.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// What the proxy does with the next requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Fault {
    /// Relay to the emulator.
    None = 0,
    /// Answer DynamoDB's calls as it does past a table's or an account's
    /// throughput: 400 `ThrottlingException`, which the SDK retries. Other
    /// services' calls are relayed.
    Throttle = 1,
    /// Take every request and never answer: an endpoint that hangs.
    Hang = 2,
}

/// The proxy, serving until the test ends.
pub struct FaultProxy {
    pub endpoint: String,
    state: Arc<State>,
}

struct State {
    upstream: String,
    fault: AtomicU8,
    /// Requests answered with a fault (throttled or left hanging).
    faulted: AtomicUsize,
    client: reqwest::Client,
}

impl FaultProxy {
    /// Starts relaying to `upstream` (moto's endpoint) on a free port. It
    /// serves from a runtime of its own, on its own thread, so a test that
    /// blocks its own runtime (waiting for a child process) cannot stall it.
    pub fn start(upstream: &str) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let address: SocketAddr = listener.local_addr().expect("bound");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking socket");
        let state = Arc::new(State {
            upstream: upstream.trim_end_matches('/').to_owned(),
            fault: AtomicU8::new(Fault::None as u8),
            faulted: AtomicUsize::new(0),
            client: reqwest::Client::new(),
        });
        let serving = Arc::clone(&state);
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the proxy");
            runtime.block_on(serve(listener, serving));
        });
        Self {
            endpoint: format!("http://{address}"),
            state,
        }
    }

    pub fn set(&self, fault: Fault) {
        self.state.fault.store(fault as u8, Ordering::SeqCst);
    }

    /// How many requests have met a fault so far.
    pub fn faulted(&self) -> usize {
        self.state.faulted.load(Ordering::SeqCst)
    }
}

async fn serve(listener: std::net::TcpListener, state: Arc<State>) {
    let listener = TcpListener::from_std(listener).expect("a tokio listener");
    while let Ok((stream, _)) = listener.accept().await {
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let state = Arc::clone(&state);
                async move { Ok::<_, Infallible>(state.answer(request).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

impl State {
    async fn answer(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let dynamodb = request
            .headers()
            .get("x-amz-target")
            .and_then(|target| target.to_str().ok())
            .is_some_and(|target| target.starts_with("DynamoDB_"));
        match self.fault.load(Ordering::SeqCst) {
            1 if dynamodb => {
                self.faulted.fetch_add(1, Ordering::SeqCst);
                let body = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}"#;
                Response::builder()
                    .status(StatusCode::BAD_REQUEST)
                    .header("content-type", "application/x-amz-json-1.0")
                    .header("x-amzn-errortype", "ThrottlingException")
                    .body(Full::new(Bytes::from_static(body.as_bytes())))
                    .expect("a valid answer")
            }
            2 => {
                self.faulted.fetch_add(1, Ordering::SeqCst);
                std::future::pending().await
            }
            _ => self.relay(request).await,
        }
    }

    async fn relay(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let (parts, body) = request.into_parts();
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let mut relayed = self
            .client
            .request(parts.method, format!("{}{path}", self.upstream))
            .body(body);
        // The body goes whole, so the fields that framed it here stay here.
        let hop = [
            hyper::header::HOST,
            hyper::header::CONTENT_LENGTH,
            hyper::header::TRANSFER_ENCODING,
            hyper::header::CONNECTION,
            hyper::header::EXPECT,
        ];
        for (name, value) in &parts.headers {
            if !hop.contains(name) {
                relayed = relayed.header(name, value);
            }
        }
        let Ok(answer) = relayed.send().await else {
            return Response::builder()
                .status(StatusCode::BAD_GATEWAY)
                .body(Full::new(Bytes::new()))
                .expect("a valid answer");
        };
        let mut response = Response::builder().status(answer.status());
        for (name, value) in answer.headers() {
            if name != hyper::header::CONTENT_LENGTH && name != hyper::header::TRANSFER_ENCODING {
                response = response.header(name, value);
            }
        }
        let body = answer.bytes().await.unwrap_or_default();
        response.body(Full::new(body)).expect("a valid answer")
    }
}

//! The edge as a Spin HTTP component (`wasm32-wasip2`).
//!
//! It adapts Spin to the shared engine (`millions_edge_policy::engine`):
//! outbound `wasi:http` is the transport and the environment holds the
//! settings (`spin.toml` `environment`, or `wasmtime serve --env`). Every
//! decision is the engine's, the same as in the Worker and the local edge.
//!
//! What it does not do: keep a response cache. A component instance lives
//! for one request (in Spin and in `wasmtime serve`), so there is no memory to
//! keep answers in, and Spin's key-value store would tie the component to the
//! Spin runtime (plain `wasmtime serve` does not provide it). So every
//! cacheable read is a `MISS` with the right `Cache-Control`; 304s are still
//! answered at the edge (from the full answer it fetched), writes purge
//! nothing because nothing is kept, and origin health is judged per request
//! (a down primary is tried, refused and skipped within the same request).

use bytes::Bytes;
use millions_edge_policy::access_log::AccessLog;
use millions_edge_policy::config::settings_from_vars;
use millions_edge_policy::engine::Edge;
use millions_edge_policy::runtime::{Client, OriginAnswer, ResponseStore, SendError, Transport};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: http::Request<Vec<u8>>) -> anyhow::Result<http::Response<Vec<u8>>> {
    let settings = settings_from_vars(|name| std::env::var(name).ok())?;
    let started = now_ms();
    let seed = (u128::from(wasi::random::random::get_random_u64()) << 64)
        | u128::from(wasi::random::random::get_random_u64());
    let edge = Edge::new(settings, NoStore, OutboundHttp, now_ms, seed);
    let (mut parts, body) = request.into_parts();
    // The engine works on origin-form targets (`/path?query`).
    let target = parts
        .uri
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .to_owned();
    parts.uri = target.parse()?;
    let client = Client {
        address: parts
            .headers
            .get("x-forwarded-for")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(',').next_back())
            .and_then(|address| address.trim().parse().ok()),
        continent: None,
    };
    // With no store there is never a stale entry, so never a refresh.
    let (method, path) = (parts.method.clone(), parts.uri.path().to_owned());
    let handled = edge
        .handle(http::Request::from_parts(parts, Bytes::from(body)), &client)
        .await;
    // Spin keeps a component's stdout as its log: one JSON line a request.
    let line = AccessLog::of(&method, &path, &handled, now_ms() - started);
    println!("{}", line.to_json());
    Ok(handled.response.map(|body| body.to_vec()))
}

fn now_ms() -> u64 {
    millions_edge_policy::freshness::system_now_ms()
}

/// No response cache (see the module notes).
struct NoStore;

impl ResponseStore for NoStore {
    type Entry = OriginAnswer;
    type Ticket = ();

    fn ticket(&self, _: &str) {}

    async fn get(&self, _: &str) -> Option<OriginAnswer> {
        None
    }

    async fn put(&self, _: String, _: OriginAnswer, _: u32, _: ()) {}

    async fn purge(&self, _: &[String]) {}
}

/// Outbound `wasi:http` to the origins.
struct OutboundHttp;

impl Transport for OutboundHttp {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, SendError> {
        let request = request.map(|body| body.to_vec());
        let response: http::Response<Vec<u8>> =
            spin_sdk::http::send(request).await.map_err(|error| {
                // A refused connection is reported as a connection error by the host;
                // anything else may have reached the origin.
                let text = error.to_string();
                if text.contains("onnection refused") || text.contains("ConnectionRefused") {
                    SendError::NotSent(text)
                } else {
                    SendError::Failed(text)
                }
            })?;
        Ok(response.map(Bytes::from))
    }
}

//! The axum handler: turns each request into the engine's terms (a buffered
//! `http::Request`, the client's address) and the engine's answer back.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;
use http::header::HeaderValue;
use millions_core::problem::PROBLEM_JSON;
use millions_core::Problem;
use millions_edge_policy::engine::{Client, Edge};

use crate::cache::ResponseCache;
use crate::transport::HyperTransport;

/// The largest request body the edge relays (it buffers bodies so an
/// idempotent request can be replayed on another region).
const MAX_BODY_BYTES: usize = 1024 * 1024;

pub type LocalEdge = Edge<ResponseCache, HyperTransport>;

pub struct Shared {
    pub edge: LocalEdge,
    pub client: Client,
}

pub async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip());
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return too_large();
    };
    let client = Client {
        address: peer,
        ..shared.client.clone()
    };
    let handled = shared
        .edge
        .handle(http::Request::from_parts(parts, body), &client)
        .await;
    if let Some(refresh) = handled.refresh {
        let shared = Arc::clone(&shared);
        tokio::spawn(async move { shared.edge.refresh(refresh, &client).await });
    }
    handled.response.map(Body::from)
}

fn too_large() -> Response {
    let problem = Problem::too_large(MAX_BODY_BYTES);
    let mut response = Response::new(Body::from(serde_json::to_vec(&problem).unwrap_or_default()));
    *response.status_mut() = http::StatusCode::PAYLOAD_TOO_LARGE;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(PROBLEM_JSON),
    );
    response
}

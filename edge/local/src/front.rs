//! The front door's HTTP server: hyper itself, not an axum router, because
//! every request to the local stack passes here and a cached read should
//! cost little more than writing its bytes. Paths under `/_local/` (the
//! local stack's own controls and upload target) go to an axum router; every
//! other request goes straight to the edge.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Either, Full, LengthLimitError, Limited};
use hyper::body::{Body as _, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use millions_core::Problem;
use millions_edge_policy::engine::{problem_response, Client, Edge};
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::cache::ResponseCache;
use crate::transport::HyperTransport;

/// The largest request body the edge relays (it buffers bodies so an
/// idempotent request can be replayed on another region).
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The prefix of the paths the local stack answers itself, never cached.
const LOCAL_PREFIX: &str = "/_local/";

/// Answers are the edge's bytes, or whatever the local router streams.
type FrontBody = Either<Full<Bytes>, Body>;

/// The engine with the local edge's cache and HTTP client.
pub(crate) type LocalEdge = Edge<ResponseCache, HyperTransport>;

/// What every request shares: the engine, and what the edge knows about its
/// clients (the address is filled in per connection).
pub(crate) struct Shared {
    pub(crate) edge: LocalEdge,
    pub(crate) client: Client,
}

/// The edge and the routes served beside it.
pub struct Front {
    shared: Arc<Shared>,
    local: axum::Router,
}

impl Front {
    pub(crate) fn new(shared: Shared, local: axum::Router) -> Self {
        Self {
            shared: Arc::new(shared),
            local,
        }
    }

    /// Serves on `listener` until `shutdown` completes, then lets the open
    /// connections finish their requests.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> std::io::Result<()> {
        let front = Arc::new(self);
        let builder = Builder::new(TokioExecutor::new());
        let graceful = GracefulShutdown::new();
        tokio::pin!(shutdown);
        loop {
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors, most likely: wait for
                        // connections to close rather than spin.
                        tracing::warn!(%error, "cannot accept a connection");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let front = Arc::clone(&front);
            let service = hyper::service::service_fn(move |request| {
                let front = Arc::clone(&front);
                async move { Ok::<_, Infallible>(front.answer(request, peer).await) }
            });
            let connection = builder
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .into_owned();
            let connection = graceful.watch(connection);
            tokio::spawn(async move {
                // A client that goes away mid-request is not the server's error.
                let _ = connection.await;
            });
        }
        drop(listener);
        graceful.shutdown().await;
        Ok(())
    }

    async fn answer(&self, request: Request<Incoming>, peer: SocketAddr) -> Response<FrontBody> {
        if request.uri().path().starts_with(LOCAL_PREFIX) {
            let Ok(response) = self.local.clone().oneshot(request.map(Body::new)).await;
            return response.map(Either::Right);
        }
        let (parts, body) = request.into_parts();
        let body = if body.is_end_stream() {
            Bytes::new()
        } else {
            match Limited::new(body, MAX_BODY_BYTES).collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(error) if error.is::<LengthLimitError>() => {
                    return problem(&Problem::too_large(MAX_BODY_BYTES));
                }
                Err(error) => {
                    return problem(&Problem::malformed_body(format!(
                        "the request body could not be read: {error}"
                    )));
                }
            }
        };
        let client = Client {
            address: Some(peer.ip()),
            ..self.shared.client.clone()
        };
        let handled = self
            .shared
            .edge
            .handle(Request::from_parts(parts, body), &client)
            .await;
        if let Some(refresh) = handled.refresh {
            let shared = Arc::clone(&self.shared);
            tokio::spawn(async move { shared.edge.refresh(refresh, &client).await });
        }
        handled.response.map(|body| Either::Left(Full::new(body)))
    }
}

fn problem(problem: &Problem) -> Response<FrontBody> {
    problem_response(problem).map(|body| Either::Left(Full::new(body)))
}

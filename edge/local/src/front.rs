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
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use millions_core::Problem;
use millions_edge_policy::access_log::AccessLog;
use millions_edge_policy::engine::Edge;
use millions_edge_policy::runtime::Client;
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::cache::ResponseCache;
use crate::transport::HyperTransport;

/// The largest request body the edge relays (it buffers bodies so an
/// idempotent request can be replayed on another region).
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How long a client may take to send a request's header. Without it a
/// connection that sends part of one and stops is held open for ever, and
/// enough of them exhaust the file descriptors.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The most a request's header block may take: hyper's default buffer of
/// about 400 KB accepted a single 200 KB header field, a memory lever with
/// many connections. Larger heads are answered 431.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// The engine's label on every answer, read to count it.
const X_CACHE: http::HeaderName = http::HeaderName::from_static("x-cache");

/// The prefix of the paths the local stack answers itself, never cached.
const LOCAL_PREFIX: &str = "/_local/";

/// Answers are the edge's bytes, or whatever the local router streams.
type FrontBody = Either<Full<Bytes>, Body>;

/// The engine with the local edge's cache and HTTP client.
pub(crate) type LocalEdge = Edge<ResponseCache, HyperTransport>;

/// What every request shares: the engine and the answer counters.
pub(crate) struct Shared {
    pub(crate) edge: LocalEdge,
    pub(crate) stats: Arc<crate::EdgeStats>,
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
        let mut builder = Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .max_buf_size(MAX_HEADER_BYTES);
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
        let started = std::time::Instant::now();
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
        // A local client's continent is unknown: the settings'
        // `default_continent` decides.
        let client = Client {
            address: Some(peer.ip()),
            continent: None,
        };
        // At DEBUG, as the API's request spans: a line per cached read
        // would cost more than the read.
        let logged = tracing::enabled!(tracing::Level::DEBUG)
            .then(|| (parts.method.clone(), parts.uri.path().to_owned()));
        let handled = self
            .shared
            .edge
            .handle(Request::from_parts(parts, body), &client)
            .await;
        if let Some((method, path)) = logged {
            let millis = started.elapsed().as_millis() as u64;
            let line = AccessLog::of(&method, &path, &handled, millis);
            tracing::debug!(
                method = line.method,
                path = line.path,
                status = line.status,
                cache = line.cache,
                origin = line.origin,
                millis = line.millis,
                trace_id = line.trace_id,
                "the edge answered"
            );
        }
        if let Some(refresh) = handled.refresh {
            let shared = Arc::clone(&self.shared);
            tokio::spawn(async move { shared.edge.refresh(refresh, &client).await });
        }
        let response = handled.response;
        self.shared.stats.count(
            response
                .headers()
                .get(X_CACHE)
                .map(|label| label.as_bytes()),
            response.status().as_u16(),
        );
        response.map(|body| Either::Left(Full::new(body)))
    }
}

fn problem(problem: &Problem) -> Response<FrontBody> {
    problem
        .to_response::<Bytes>()
        .map(|body| Either::Left(Full::new(body)))
}

#[cfg(test)]
mod tests {
    //! The front door against clients that misbehave at the HTTP layer,
    //! over real TCP connections.

    use std::net::SocketAddr;
    use std::time::{Duration, Instant};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;
    use crate::EdgeConfig;

    async fn serving() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        // No origin is ever reached: these requests end at the front door.
        let front = crate::front(
            EdgeConfig::single_origin("http://127.0.0.1:9"),
            axum::Router::new(),
        );
        tokio::spawn(front.serve(listener, std::future::pending()));
        address
    }

    /// Reads until the server closes the connection; what it sent.
    async fn until_closed(stream: &mut TcpStream, limit: Duration) -> Vec<u8> {
        let mut answer = Vec::new();
        tokio::time::timeout(limit, stream.read_to_end(&mut answer))
            .await
            .expect("the server closes the connection in time")
            .unwrap();
        answer
    }

    #[tokio::test]
    async fn a_header_that_stops_halfway_is_dropped_after_the_timeout() {
        let address = serving().await;
        let mut stream = TcpStream::connect(address).await.unwrap();
        stream
            .write_all(b"GET /users/1 HTTP/1.1\r\nHost: localhost\r\n")
            .await
            .unwrap();
        let started = Instant::now();
        until_closed(&mut stream, HEADER_READ_TIMEOUT + Duration::from_secs(5)).await;
        assert!(
            started.elapsed() >= HEADER_READ_TIMEOUT - Duration::from_millis(500),
            "closed after {:?}, before the timeout",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn a_header_block_over_the_limit_is_answered_431() {
        let address = serving().await;
        let mut stream = TcpStream::connect(address).await.unwrap();
        let field = "a".repeat(200 * 1024);
        let request = format!("GET /users/1 HTTP/1.1\r\nHost: localhost\r\nX-Big: {field}\r\n\r\n");
        // The server may stop reading before the whole field is sent.
        let _ = stream.write_all(request.as_bytes()).await;
        let answer = until_closed(&mut stream, Duration::from_secs(5)).await;
        let status_line = String::from_utf8_lossy(&answer);
        assert!(
            status_line.starts_with("HTTP/1.1 431"),
            "answered {:?}",
            status_line.lines().next()
        );
    }
}

//! The local edge's HTTP/1 client to the origins: kept-alive connections
//! pooled per origin, and one deadline over each exchange.
//!
//! It is built on hyper's connection API rather than hyper-util's pooled
//! client because a relayed request is the edge's hottest path after a hit,
//! and that client hands every connection back to its pool through a task
//! spawned per request. Here a connection goes back to the pool as soon as
//! its answer is read, and the next request takes it when it is ready.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{header, HeaderValue, Request, Response, Uri};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use millions_edge_policy::runtime::{SendError, Transport};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Idle connections kept per origin; more are closed once answered.
const MAX_IDLE_PER_ORIGIN: usize = 256;

/// How long an idle connection is trusted. An origin that went away without
/// closing its connections (a host gone, a NAT entry dropped) would
/// otherwise leave the next request to wait out the whole deadline.
const IDLE_LIFETIME: Duration = Duration::from_secs(60);

type Sender = SendRequest<Full<Bytes>>;

/// A kept-alive connection and when it was handed back.
struct Idle {
    sender: Sender,
    since: Instant,
}

pub struct HyperTransport {
    idle: Mutex<HashMap<Authority, Vec<Idle>>>,
    timeout: Duration,
}

impl HyperTransport {
    pub fn new(timeout: Duration) -> Self {
        Self {
            idle: Mutex::new(HashMap::new()),
            timeout,
        }
    }

    /// One exchange: a pooled connection if one is open, else a new one.
    async fn exchange(&self, request: Request<Bytes>) -> Result<Response<Bytes>, SendError> {
        let (authority, mut request) = origin_form(request)?;
        loop {
            let (mut sender, reused) = match self.checkout(&authority).await {
                Some(sender) => (sender, true),
                None => (connect(&authority).await?, false),
            };
            match sender.try_send_request(request).await {
                Ok(response) => {
                    let (parts, body) = response.into_parts();
                    let body = body
                        .collect()
                        .await
                        .map_err(|error| SendError::Failed(error.to_string()))?
                        .to_bytes();
                    self.checkin(authority, sender);
                    return Ok(Response::from_parts(parts, body));
                }
                Err(mut error) => match error.take_message() {
                    // Never written: a pooled connection the origin had
                    // closed. Any request may go again, on a new connection.
                    Some(unsent) if reused => request = unsent,
                    Some(_) => return Err(SendError::NotSent(error.into_error().to_string())),
                    None => return Err(SendError::Failed(error.into_error().to_string())),
                },
            }
        }
    }

    /// An idle connection to `authority` that is ready for a request.
    async fn checkout(&self, authority: &Authority) -> Option<Sender> {
        loop {
            let Idle { mut sender, since } = self.idle().get_mut(authority)?.pop()?;
            if since.elapsed() > IDLE_LIFETIME {
                continue;
            }
            // A connection handed back a moment ago turns ready as soon as
            // its task has read the end of the last answer; a closed one
            // errs and is dropped.
            if sender.ready().await.is_ok() {
                return Some(sender);
            }
        }
    }

    fn checkin(&self, authority: Authority, sender: Sender) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self.idle();
        let senders = idle.entry(authority).or_default();
        if senders.len() < MAX_IDLE_PER_ORIGIN {
            senders.push(Idle {
                sender,
                since: Instant::now(),
            });
        }
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, HashMap<Authority, Vec<Idle>>> {
        self.idle
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

impl Transport for HyperTransport {
    async fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, SendError> {
        // One deadline for the whole exchange: connecting, the answer and
        // all its body.
        tokio::time::timeout(self.timeout, self.exchange(request))
            .await
            .map_err(|_| SendError::Failed(format!("no whole answer within {:?}", self.timeout)))?
    }
}

/// The request as an HTTP/1 client sends it: the path in the request line
/// and the origin in `Host`. Only `http://` origins are spoken to.
fn origin_form(request: Request<Bytes>) -> Result<(Authority, Request<Full<Bytes>>), SendError> {
    let (mut parts, body) = request.into_parts();
    if parts.uri.scheme() != Some(&Scheme::HTTP) {
        return Err(SendError::NotSent(format!(
            "{} is not an http:// origin",
            parts.uri
        )));
    }
    let authority = parts
        .uri
        .authority()
        .cloned()
        .ok_or_else(|| SendError::NotSent(format!("{} names no host", parts.uri)))?;
    let path = parts
        .uri
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    parts.uri = Uri::from(path);
    if let Ok(host) = HeaderValue::from_str(authority.as_str()) {
        parts.headers.insert(header::HOST, host);
    }
    Ok((authority, Request::from_parts(parts, Full::new(body))))
}

/// A new connection to `authority`, its task spawned on the runtime.
async fn connect(authority: &Authority) -> Result<Sender, SendError> {
    let address = (authority.host(), authority.port_u16().unwrap_or(80));
    let stream = TcpStream::connect(address)
        .await
        .map_err(|error| SendError::NotSent(format!("cannot connect to {authority}: {error}")))?;
    // Requests and answers are written whole; waiting to coalesce them
    // only adds latency.
    let _ = stream.set_nodelay(true);
    let (sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|error| SendError::NotSent(error.to_string()))?;
    tokio::spawn(async move {
        // An origin closing a kept-alive connection is routine.
        let _ = connection.await;
    });
    Ok(sender)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// An origin on 127.0.0.1:0 that answers each request with its own
    /// request line and `Host`, and closes each connection after
    /// `answers_per_connection` answers without saying so. It counts the
    /// connections it accepted.
    async fn origin(answers_per_connection: usize) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&accepted);
        tokio::spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    for _ in 0..answers_per_connection {
                        let mut head = Vec::new();
                        while !head.ends_with(b"\r\n\r\n") {
                            let mut byte = [0u8];
                            if stream.read(&mut byte).await.unwrap_or(0) == 0 {
                                return;
                            }
                            head.push(byte[0]);
                        }
                        let head = String::from_utf8(head).unwrap();
                        let line = head.lines().next().unwrap().to_owned();
                        let host = head
                            .lines()
                            .find_map(|l| l.strip_prefix("host: "))
                            .unwrap_or("")
                            .to_owned();
                        let body = format!("{line} {host}");
                        let answer = format!(
                            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        stream.write_all(answer.as_bytes()).await.unwrap();
                    }
                });
            }
        });
        (url, accepted)
    }

    fn get(url: &str) -> Request<Bytes> {
        Request::get(url).body(Bytes::new()).unwrap()
    }

    #[tokio::test]
    async fn answers_come_over_one_kept_alive_connection() {
        let (url, accepted) = origin(usize::MAX).await;
        let transport = HyperTransport::new(Duration::from_secs(5));
        for n in 0..3 {
            let answer = transport.send(get(&format!("{url}/users/{n}?a=1"))).await;
            let body = answer.expect("an answer").into_body();
            let authority = url.trim_start_matches("http://");
            assert_eq!(
                body,
                format!("GET /users/{n}?a=1 HTTP/1.1 {authority}").as_bytes()
            );
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_connection_the_origin_closed_is_replaced_and_loses_no_request() {
        let (url, accepted) = origin(1).await;
        let transport = HyperTransport::new(Duration::from_secs(5));
        for _ in 0..3 {
            let answer = transport.send(get(&format!("{url}/health"))).await;
            assert_eq!(answer.expect("an answer").status(), 200);
            // Let the connection task see the origin's close.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_connection_idle_too_long_is_not_trusted() {
        let (url, accepted) = origin(usize::MAX).await;
        let transport = HyperTransport::new(Duration::from_secs(5));
        transport.send(get(&url)).await.expect("an answer");
        tokio::time::pause();
        tokio::time::advance(IDLE_LIFETIME + Duration::from_secs(1)).await;
        tokio::time::resume();
        transport.send(get(&url)).await.expect("an answer");
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_refused_connection_is_reported_as_not_sent() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/health", listener.local_addr().unwrap());
        drop(listener);
        let transport = HyperTransport::new(Duration::from_secs(5));
        let error = transport.send(get(&url)).await.unwrap_err();
        assert!(matches!(error, SendError::NotSent(_)), "{error:?}");
    }

    #[tokio::test]
    async fn only_http_origins_are_spoken_to() {
        let transport = HyperTransport::new(Duration::from_secs(5));
        let error = transport
            .send(get("https://127.0.0.1:1/health"))
            .await
            .unwrap_err();
        assert!(matches!(error, SendError::NotSent(_)), "{error:?}");
    }

    #[tokio::test]
    async fn an_answer_cut_short_is_a_failure_not_an_answer() {
        // RFC 9111 §3.3: an incomplete response is never used as complete.
        // The origin promises 100 bytes, sends 10 and closes.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/users/1", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut head = [0u8; 1024];
            let _ = stream.read(&mut head).await;
            let cut = "HTTP/1.1 200 OK\r\ncache-control: max-age=60\r\ncontent-length: 100\r\n\r\n0123456789";
            stream.write_all(cut.as_bytes()).await.unwrap();
        });
        let transport = HyperTransport::new(Duration::from_secs(5));
        let error = transport.send(get(&url)).await.unwrap_err();
        assert!(matches!(error, SendError::Failed(_)), "{error:?}");
    }
}

//! The edge benchmark's baseline: a bare hyper server answering every
//! request with the same bytes, no routing, no cache, so the local edge's
//! cached reads can be reported as a ratio of what hyper alone does on the
//! same machine in the same run.
//!
//! The answer is a body file and a head file of `name: value` lines, as
//! `curl -D` saves them from the edge (the status line, `date` and
//! `content-length` are skipped: hyper writes those itself, as it does for
//! the edge), so both servers put the same response on the wire.
//!
//! `cargo run --release --example bare_bytes -- 8082 body.json head.txt`

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(8082);
    let body = Bytes::from(std::fs::read(args.next().expect("a body file"))?);
    let head = std::fs::read_to_string(args.next().expect("a head file"))?;
    let headers = parse_head(&head);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        let (body, headers) = (body.clone(), headers.clone());
        tokio::spawn(async move {
            let service = service_fn(move |_: Request<hyper::body::Incoming>| {
                let mut response = Response::new(Full::new(body.clone()));
                *response.headers_mut() = headers.clone();
                async move { Ok::<_, Infallible>(response) }
            });
            let _ = Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The fields of a saved response head, less those hyper writes itself.
fn parse_head(head: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for line in head.lines().skip(1) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = HeaderName::from_bytes(name.trim().as_bytes()).expect("a valid field name");
        if name == header::DATE || name == header::CONTENT_LENGTH {
            continue;
        }
        let value = HeaderValue::from_str(value.trim()).expect("a valid field value");
        headers.append(name, value);
    }
    headers
}

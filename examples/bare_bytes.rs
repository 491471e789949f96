//! The edge benchmark's baseline: a bare hyper server answering every
//! request with the same bytes and content type, no routing, no cache, so
//! the local edge's cached reads can be reported as a ratio of what hyper
//! alone does on the same machine in the same run.
//!
//! `cargo run --release --example bare_bytes -- 8082 body.json application/json`

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(8082);
    let body = Bytes::from(std::fs::read(args.next().expect("a body file"))?);
    let content_type = args.next().unwrap_or_else(|| "application/json".into());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        let (body, content_type) = (body.clone(), content_type.clone());
        tokio::spawn(async move {
            let service = service_fn(move |_: Request<hyper::body::Incoming>| {
                let response = Response::builder()
                    .header("content-type", content_type.as_str())
                    .body(Full::new(body.clone()))
                    .expect("static parts are valid");
                async move { Ok::<_, Infallible>(response) }
            });
            let _ = Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

//! The local edge's HTTP client to the origins (hyper), with a time limit
//! on each attempt.

use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::BodyExt;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use millions_edge_policy::engine::{SendError, Transport};

pub struct HyperTransport {
    client: Client<HttpConnector, Body>,
    timeout: Duration,
}

impl HyperTransport {
    pub fn new(timeout: Duration) -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build_http(),
            timeout,
        }
    }
}

impl Transport for HyperTransport {
    async fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, SendError> {
        let request = request.map(Body::from);
        // One deadline for the whole exchange: the answer and all its body.
        let exchange = async {
            let response = self.client.request(request).await.map_err(|error| {
                if error.is_connect() {
                    SendError::NotSent(error.to_string())
                } else {
                    SendError::Failed(error.to_string())
                }
            })?;
            let (parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|error| SendError::Failed(error.to_string()))?
                .to_bytes();
            Ok(Response::from_parts(parts, body))
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| SendError::Failed(format!("no whole answer within {:?}", self.timeout)))?
    }
}

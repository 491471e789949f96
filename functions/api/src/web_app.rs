//! The web app, served by the API itself when the edge is bypassed (the CDN
//! down, or DNS failed over straight to a region): the same embedded files
//! with the same headers as the edge sends, so the site keeps working.
//! Anything else that matches no route is a 404 problem.

use axum::body::Body;
use axum::http::{header, Method, Request};
use axum::response::{IntoResponse, Response};

use crate::error;

/// The router's fallback: an app file for `GET`/`HEAD`, else 404.
pub async fn app_or_not_found(request: Request<Body>) -> Response {
    let asset = matches!(*request.method(), Method::GET | Method::HEAD)
        .then(|| millions_web::find(request.uri().path()))
        .flatten();
    let Some(asset) = asset else {
        return error::not_found(request.uri().clone())
            .await
            .into_response();
    };
    let held = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|field| field.to_str().ok())
        .filter(|field| millions_core::preconditions::if_none_match_names(field, asset.etag))
        .map(|_| asset.etag);
    // The server leaves out the body of a `HEAD` answer itself.
    millions_web::response(asset, millions_web::DEFAULT_STATIC_SECONDS, held)
        .map(Body::from)
        .into_response()
}

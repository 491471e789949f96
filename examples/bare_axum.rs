//! The benchmark baseline: a bare axum server answering every
//! `GET /users/{id}` (and `PATCH`, for mixed workloads) with the same
//! constant JSON body, so the users benchmark
//! can report the stack's throughput as a ratio of what axum alone does on
//! the same machine in the same run.
//!
//! `cargo run --release --example bare_axum -- 8081`

use axum::routing::get;
use axum::Router;

const BODY: &str = r#"{"id":12,"firstName":"John","lastName":"Smith","address":{"streetAddress":"21 2nd Street","city":"New York","state":"NY","postalCode":10021},"phoneNumbers":["212 555-1234","646 555-4567"]}"#;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(8081);
    let app = Router::new().route(
        "/users/{id}",
        get(|| async { ([("content-type", "application/json")], BODY) })
            .patch(|| async { ([("content-type", "application/json")], BODY) }),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, app).await
}

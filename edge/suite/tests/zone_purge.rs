//! The Worker's zone-wide purge (`millions_edge_policy::zone_purge`), in
//! `workerd` through `wrangler dev`, against a stand-in for Cloudflare's
//! purge-by-URL API on 127.0.0.1: a write through the Worker purges its own
//! data centre's copy at once and asks the API to purge every other one,
//! with the zone's token, after answering; a rate-limited call is retried.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use millions_edge_local::policy::Origin;
use millions_edge_suite::{EdgeKind, Origins, RunningEdge};
use millions_testkit::look_until;
use serde_json::{json, Value};

const ZONE: &str = "023e105f4ecef8ad9ca31a8372d0c353";
const TOKEN: &str = "purge-token-for-the-stand-in";
const CACHE_ORIGIN: &str = "https://cdn.millions.test";

/// One call the stand-in received.
#[derive(Debug, Clone)]
struct Call {
    zone: String,
    authorization: String,
    files: Vec<String>,
}

/// The stand-in: records every call, answers the first one 429 (as
/// Cloudflare does past its rate limit) and the rest as a success.
#[derive(Default, Clone)]
struct PurgeApi {
    calls: Arc<Mutex<Vec<Call>>>,
}

async fn purge_cache(
    State(api): State<PurgeApi>,
    Path(zone): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let files = body["files"]
        .as_array()
        .map(|files| {
            files
                .iter()
                .filter_map(|file| file.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut calls = api.calls.lock().unwrap();
    calls.push(Call {
        zone,
        authorization: headers
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        files,
    });
    if calls.len() == 1 {
        let limited =
            json!({"success": false, "errors": [{"code": 971, "message": "rate limited"}]});
        (StatusCode::TOO_MANY_REQUESTS, Json(limited))
    } else {
        let done = json!({"success": true, "errors": [], "messages": [], "result": {"id": ZONE}});
        (StatusCode::OK, Json(done))
    }
}

impl PurgeApi {
    async fn start(&self) -> String {
        let app = Router::new()
            .route("/client/v4/zones/{zone}/purge_cache", post(purge_cache))
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{address}/client/v4")
    }

    /// The calls that named `url`, waited for up to ten seconds: they are
    /// sent after the write's answer.
    async fn calls_naming(&self, url: &str, at_least: usize) -> Vec<Call> {
        let naming = || {
            let calls = self.calls.lock().unwrap();
            let naming = calls
                .iter()
                .filter(|call| call.files.iter().any(|f| f == url));
            naming.cloned().collect::<Vec<_>>()
        };
        look_until(Duration::from_secs(10), naming, |calls| {
            calls.len() >= at_least
        })
        .await
    }
}

fn entry_url(path: &str) -> String {
    // The Worker's cache key: the release (ASSET_VERSION, "dev" in
    // wrangler.toml) and the path, under the zone's host.
    format!("{CACHE_ORIGIN}/_edge-cache/dev{path}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_through_the_worker_purges_every_data_centre() {
    let api = PurgeApi::default();
    let api_url = api.start().await;
    let origins = Origins::start(1).await;
    let list = [Origin {
        region: "region-0".into(),
        url: origins.regions[0].url(),
        near: Vec::new(),
    }];
    let edge = RunningEdge::start_with_vars(
        EdgeKind::Worker,
        &list,
        400,
        &[
            ("ZONE_ID", ZONE),
            ("PURGE_TOKEN", TOKEN),
            ("CACHE_ORIGIN", CACHE_ORIGIN),
            ("PURGE_API", &api_url),
        ],
    )
    .await;
    let client = reqwest::Client::new();
    let signup = client
        .post(format!("{}/auth/signup", edge.url))
        .json(&json!({
            "email": format!("purge.{}@example.com", std::process::id()),
            "password": "correct horse battery staple",
            "firstName": "John", "lastName": "Smith",
            "address": {"streetAddress": "21 2nd Street", "city": "New York", "state": "NY", "postalCode": 10021},
            "phoneNumbers": ["212 555-1234"]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), 201);
    let path = signup.headers()["location"].to_str().unwrap().to_owned();
    let token = signup.json::<Value>().await.unwrap()["session"]["token"]
        .as_str()
        .unwrap()
        .to_owned();

    // The sign-up's answer names the new profile (Location, RFC 9111
    // §4.4): its purge is the stand-in's first call, refused as rate
    // limited, and sent again.
    let signup_calls = api.calls_naming(&entry_url(&path), 2).await;
    assert_eq!(signup_calls.len(), 2, "{:?}", api.calls.lock().unwrap());
    assert_eq!(signup_calls[0].files, signup_calls[1].files);
    assert!(signup_calls[0].files.contains(&entry_url("/auth/signup")));

    let read = || async {
        client
            .get(format!("{}{path}", edge.url))
            .send()
            .await
            .unwrap()
    };
    read().await;
    assert_eq!(read().await.headers()["x-cache"], "HIT");
    let write = client
        .patch(format!("{}{path}", edge.url))
        .bearer_auth(&token)
        .header("content-type", "application/merge-patch+json")
        .body(r#"{"firstName": "Jane"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), 200);
    // This data centre's copy went before the write was answered.
    let after = read().await;
    assert_eq!(after.headers()["x-cache"], "MISS");
    assert_eq!(after.json::<Value>().await.unwrap()["firstName"], "Jane");

    // Every other data centre's, through the API, with the zone's token.
    let write_calls = api.calls_naming(&entry_url(&path), 3).await;
    assert_eq!(write_calls.len(), 3, "{:?}", api.calls.lock().unwrap());
    let last = write_calls.last().unwrap();
    assert_eq!(last.files, [entry_url(&path)]);
    for call in api.calls.lock().unwrap().iter() {
        assert_eq!(call.zone, ZONE);
        assert_eq!(call.authorization, format!("Bearer {TOKEN}"));
    }
    // A read purges nothing.
    assert_eq!(api.calls.lock().unwrap().len(), 3);
}

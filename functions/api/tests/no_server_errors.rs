//! Property test: whatever a client sends, the API answers below 500, and
//! every 4xx is a well-formed `application/problem+json` document.
//!
//! Requests are generated from near-valid ones (the chapter's user with one
//! value replaced by arbitrary JSON, real paths with arbitrary ids and
//! headers) as well as from noise, and run through the real router on the
//! embedded store.

use axum::body::Body;
use http::Request;
use http_body_util::BodyExt;
use millions_api::{ApiState, Settings};
use proptest::prelude::*;
use serde_json::{json, Value};
use tower::ServiceExt;

fn john() -> Value {
    json!({
        "firstName": "John", "lastName": "Smith",
        "address": {"streetAddress": "21 2nd Street", "city": "New York", "state": "NY", "postalCode": 10021},
        "phoneNumbers": ["212 555-1234", "646 555-4567"]
    })
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,300}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..12).prop_map(Value::from),
            prop::collection::hash_map("[a-zA-Z]{0,12}", inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// The chapter's user with the value at one of its pointers replaced (or removed).
fn mutated_user() -> impl Strategy<Value = Value> {
    let pointers = prop::sample::select(vec![
        "/firstName",
        "/lastName",
        "/address",
        "/address/streetAddress",
        "/address/city",
        "/address/state",
        "/address/postalCode",
        "/phoneNumbers",
        "/phoneNumbers/0",
        "/id",
    ]);
    (pointers, prop::option::of(any_json())).prop_map(|(pointer, value)| {
        let mut user = john();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let target = if parent.is_empty() {
            Some(&mut user)
        } else {
            user.pointer_mut(parent)
        };
        match (target, value) {
            (Some(Value::Object(object)), Some(value)) => {
                object.insert(key.to_owned(), value);
            }
            (Some(Value::Object(object)), None) => {
                object.remove(key);
            }
            (Some(Value::Array(array)), Some(value)) => array[0] = value,
            _ => {}
        }
        user
    })
}

/// A sign-up body: the chapter's user (maybe mutated) with a login, whose
/// email and password may be replaced too.
fn signup_body() -> impl Strategy<Value = Value> {
    (
        mutated_user(),
        prop::option::of(any_json()),
        prop::option::of(any_json()),
        0u32..1000,
    )
        .prop_map(|(mut user, email, password, n)| {
            if let Value::Object(fields) = &mut user {
                fields.insert(
                    "email".into(),
                    email.unwrap_or_else(|| format!("user{n}@example.com").into()),
                );
                fields.insert(
                    "password".into(),
                    password.unwrap_or_else(|| "correct horse battery staple".into()),
                );
            }
            user
        })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => mutated_user().prop_map(|v| v.to_string().into_bytes()),
        2 => signup_body().prop_map(|v| v.to_string().into_bytes()),
        1 => (any_json(), any_json()).prop_map(|(email, password)| {
            json!({"email": email, "password": password}).to_string().into_bytes()
        }),
        2 => any_json().prop_map(|v| v.to_string().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..64),
        1 => Just(vec![b'['; 20_000]),
        1 => Just(Vec::new()),
    ]
}

fn path(existing: u64) -> impl Strategy<Value = String> {
    prop_oneof![
        Just("/users".to_owned()),
        Just(format!("/users/{existing}")),
        "[0-9a-zA-Z%._~-]{0,24}".prop_map(|id| format!("/users/{id}")),
        "[0-9]{1,22}".prop_map(|id| format!("/users/{id}")),
        Just("/health".to_owned()),
        Just("/auth/signup".to_owned()),
        Just("/auth/login".to_owned()),
        Just("/auth/logout".to_owned()),
        Just("/auth/session".to_owned()),
        Just("/openapi.json".to_owned()),
        "(/[a-z0-9%]{0,8}){0,4}",
    ]
}

fn header_value() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        Just("*".to_owned()),
        Just("\"1\"".to_owned()),
        Just("W/\"1\"".to_owned()),
        "[ -~]{0,40}",
    ])
}

fn content_type() -> impl Strategy<Value = Option<&'static str>> {
    prop::option::of(prop::sample::select(vec![
        "application/json",
        "application/merge-patch+json",
        "application/json; charset=utf-8",
        "text/plain",
        "application/x-www-form-urlencoded",
        "nonsense",
    ]))
}

fn method() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS",
    ])
}

/// Method and path: mostly the API's own routes with a body-taking method,
/// so generated bodies reach the parser, plus any method on any path.
fn target(existing: u64) -> impl Strategy<Value = (&'static str, String)> {
    let user = format!("/users/{existing}");
    prop_oneof![
        1 => Just(("POST", "/users".to_owned())),
        2 => Just(("POST", "/auth/signup".to_owned())),
        1 => Just(("POST", "/auth/login".to_owned())),
        2 => prop::sample::select(vec!["PUT", "PATCH"]).prop_map(move |m| (m, user.clone())),
        3 => (method(), path(existing)),
    ]
}

/// Credentials: mostly the owner's session (so writes reach the parser),
/// sometimes none, a wrong scheme, a cookie or noise.
fn authorization(token: String) -> impl Strategy<Value = Option<(&'static str, String)>> {
    prop_oneof![
        4 => Just(Some(("authorization", format!("Bearer {token}")))),
        1 => Just(None),
        1 => Just(Some(("cookie", format!("__Host-session={token}")))),
        1 => "[ -~]{0,60}".prop_map(|v| Some(("authorization", v))),
        1 => "[ -~]{0,60}".prop_map(|v| Some(("cookie", v))),
    ]
}

fn json_content_type() -> impl Strategy<Value = Option<&'static str>> {
    prop_oneof![3 => Just(Some("application/json")), 1 => content_type()]
}

proptest! {
    // Failures print their minimal case; no regression file next to an
    // integration test, where proptest cannot place one.
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn no_request_gets_a_server_error(
        ((method, path), content_type, if_match, if_none_match, body, credentials) in
            (target(EXISTING.with(|e| e.1)), json_content_type(), header_value(), header_value(), body(),
             authorization(EXISTING.with(|e| e.2.clone())))
    ) {
        let mut request = Request::builder().method(method).uri(&path);
        if let Some((name, value)) = &credentials {
            request = request.header(*name, value);
        }
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        if let Some(value) = &if_match {
            request = request.header("if-match", value);
        }
        if let Some(value) = &if_none_match {
            request = request.header("if-none-match", value);
        }
        let request = request.body(Body::from(body));
        prop_assume!(request.is_ok(), "not an HTTP request at all");
        let (status, content_type, bytes) = RUNTIME.block_on(async {
            let app = EXISTING.with(|e| e.0.clone());
            let response = app.oneshot(request.unwrap()).await.unwrap();
            let status = response.status();
            let content_type = response.headers().get("content-type").cloned();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            (status, content_type, bytes)
        });
        prop_assert!(status.as_u16() < 500, "{method} {path} answered {status}: {bytes:?}");
        // (A HEAD answer carries the headers of a GET answer, but no body.)
        if status.is_client_error() && method != "HEAD" {
            prop_assert_eq!(content_type.unwrap(), "application/problem+json");
            let problem: Value = serde_json::from_slice(&bytes).unwrap();
            prop_assert_eq!(problem["status"].as_u64(), Some(u64::from(status.as_u16())));
            prop_assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));
        }
    }
}

static RUNTIME: std::sync::LazyLock<tokio::runtime::Runtime> =
    std::sync::LazyLock::new(|| tokio::runtime::Runtime::new().unwrap());

thread_local! {
    /// The router on a fresh embedded store holding one signed-up user, that
    /// user's id and session token.
    static EXISTING: (axum::Router, u64, String, tempfile::TempDir) = RUNTIME.block_on(async {
        let (stores, dir) = millions_infra::local::EmbeddedStores::temporary().unwrap();
        let ports = stores.ports();
        let app = millions_api::router(ApiState::new(ports, 0, Settings::default()));
        let mut signup = john();
        signup["email"] = json!("john@example.com");
        signup["password"] = json!("correct horse battery staple");
        let request = Request::post("/auth/signup")
            .header("content-type", "application/json")
            .body(Body::from(signup.to_string()))
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let answer = serde_json::from_slice::<Value>(&bytes).unwrap();
        let id = answer["user"]["id"].as_u64().unwrap();
        let token = answer["session"]["token"].as_str().unwrap().to_owned();
        (app, id, token, dir)
    });
}

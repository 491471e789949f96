//! The Lambda entry point fed real API Gateway HTTP API (payload 2.0) events
//! through `lambda_http`'s own adapter, the same path `lambda_http::run`
//! takes in AWS, with the DynamoDB adapter on a moto server.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use lambda_http::lambda_runtime::{Context, LambdaEvent};
use lambda_http::request::LambdaRequest;
use lambda_http::tower::ServiceExt;
use lambda_http::Adapter;
use millions_testkit::logs::CapturedLogs;
use serde_json::Value;

/// Runs one event through the function and returns API Gateway's view of the
/// answer: the serialized `LambdaResponse`.
async fn invoke(app: &axum::Router, event: Value) -> Value {
    invoke_in(app, event, Context::default()).await
}

/// [`invoke`] in the given invocation context.
async fn invoke_in(app: &axum::Router, event: Value, context: Context) -> Value {
    let request: LambdaRequest =
        serde_json::from_value(event).expect("a valid API Gateway v2 event");
    let adapter = Adapter::from(app.clone());
    let response = adapter
        .oneshot(LambdaEvent::new(request, context))
        .await
        .unwrap();
    serde_json::to_value(response).unwrap()
}

fn event(name: &str) -> Value {
    let path = format!("{}/tests/events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn get_event(path: &str) -> Value {
    let mut event = event("get_user");
    event["rawPath"] = path.into();
    event["requestContext"]["http"]["path"] = path.into();
    event
}

async fn app() -> axum::Router {
    let moto = millions_testkit::moto();
    let config = moto.sdk_config().await;
    let deployment = millions_infra::aws::Deployment::provision(
        &config,
        &millions_testkit::unique_name("lambda"),
        Default::default(),
    )
    .await
    .unwrap();
    let mut settings = millions_api::Settings::default();
    // The CDN domain, as Terraform passes it in ALLOWED_ORIGINS.
    settings.web.allowed_origins = vec!["https://millions.example.com".into()];
    api_lambda::app(&config, &deployment, settings)
}

fn body_of(answer: &Value) -> Value {
    serde_json::from_str(answer["body"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn a_user_signed_up_through_api_gateway_reads_back() {
    let app = app().await;
    let created = invoke(&app, event("signup")).await;
    assert_eq!(created["statusCode"], 201, "{created}");
    let location = created["headers"]["location"].as_str().unwrap().to_owned();
    assert_eq!(created["headers"]["etag"], "\"1\"");
    // API Gateway v2 takes cookies from the `cookies` list of the response.
    let cookies = created["cookies"].as_array().expect("cookies are listed");
    assert!(
        cookies[0].as_str().unwrap().starts_with("__Host-session="),
        "{cookies:?}"
    );
    let user = body_of(&created)["user"].clone();

    let read = invoke(&app, get_event(&location)).await;
    assert_eq!(read["statusCode"], 200, "{read}");
    assert_eq!(read["headers"]["content-type"], "application/json");
    let body = body_of(&read);
    assert_eq!(body, user);
    assert_eq!(body["address"]["postalCode"], 10021);
    assert_eq!(body["phoneNumbers"][1], "646 555-4567");
    assert!(
        body.get("email").is_none(),
        "the email is not public: {body}"
    );
}

#[tokio::test]
async fn a_base64_encoded_body_is_decoded() {
    let app = app().await;
    let created = invoke(&app, event("signup_base64")).await;
    assert_eq!(created["statusCode"], 201, "{created}");
    assert_eq!(body_of(&created)["user"]["firstName"], "John");
}

#[tokio::test]
async fn a_session_cookie_from_api_gateway_authorizes_the_owner() {
    let app = app().await;
    invoke(&app, event("signup")).await;
    let login = invoke(&app, event("login")).await;
    assert_eq!(login["statusCode"], 200, "{login}");
    let session = body_of(&login);
    let token = session["token"].as_str().unwrap();
    let id = session["userId"].as_u64().unwrap();

    let mut patch = event("patch_user_with_cookie");
    let path = format!("/users/{id}");
    patch["rawPath"] = path.clone().into();
    patch["requestContext"]["http"]["path"] = path.into();
    patch["cookies"][1] = format!("__Host-session={token}").into();
    let answer = invoke(&app, patch.clone()).await;
    assert_eq!(answer["statusCode"], 200, "{answer}");
    assert_eq!(body_of(&answer)["address"]["city"], "Boston");

    // The same request from a page on another site is refused.
    patch["headers"]["origin"] = "https://evil.example".into();
    patch["headers"]["sec-fetch-site"] = "cross-site".into();
    let answer = invoke(&app, patch).await;
    assert_eq!(answer["statusCode"], 403, "{answer}");
}

#[tokio::test]
async fn login_attempts_are_limited_per_source_address() {
    let app = app().await;
    let mut wrong = event("login");
    wrong["body"] = r#"{"email":"nobody@example.com","password":"not the password"}"#.into();
    // Different accounts, one address: the per-address limit (100) applies.
    for n in 0..100 {
        let mut attempt = wrong.clone();
        attempt["body"] = format!(r#"{{"email":"user{n}@example.com","password":"guess"}}"#).into();
        let answer = invoke(&app, attempt).await;
        assert_eq!(answer["statusCode"], 401, "{answer}");
    }
    let answer = invoke(&app, wrong.clone()).await;
    assert_eq!(answer["statusCode"], 429, "{answer}");
    assert!(
        answer["headers"]["retry-after"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    // Another address is not affected.
    wrong["requestContext"]["http"]["sourceIp"] = "203.0.113.99".into();
    let answer = invoke(&app, wrong).await;
    assert_eq!(answer["statusCode"], 401, "{answer}");
}

#[tokio::test]
async fn errors_reach_api_gateway_as_problem_documents() {
    let app = app().await;
    let answer = invoke(&app, get_event("/users/not-a-number")).await;
    assert_eq!(answer["statusCode"], 400);
    assert_eq!(
        answer["headers"]["content-type"],
        "application/problem+json"
    );
    assert_eq!(body_of(&answer)["status"], 400);

    let answer = invoke(&app, get_event("/users/4242")).await;
    assert_eq!(answer["statusCode"], 404);

    let mut wrong_type = event("signup");
    wrong_type["headers"]["content-type"] = "text/plain".into();
    let answer = invoke(&app, wrong_type).await;
    assert_eq!(answer["statusCode"], 415);
}

#[tokio::test(flavor = "current_thread")]
async fn the_traceparent_of_an_api_gateway_event_names_the_requests_trace() {
    let app = app().await;
    let (logs, _capturing) = CapturedLogs::start(tracing::Level::DEBUG);
    let mut event = get_event("/users/12");
    event["headers"]["traceparent"] =
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into();
    let answer = invoke(&app, event).await;
    assert_eq!(answer["statusCode"], 404);
    let lines = logs.lines();
    let in_the_trace = lines
        .iter()
        .filter(|line| line["span"]["name"] == "request")
        .filter(|line| line["span"]["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736")
        .count();
    assert!(
        in_the_trace > 0,
        "no line of the request's span names its trace: {lines:?}"
    );
}

/// Without a `traceparent`, the request continues the invocation's X-Ray
/// trace: the logs' trace id is X-Ray's, and the span names the X-Ray
/// header. With one, it keeps its own and still names X-Ray's.
#[tokio::test(flavor = "current_thread")]
async fn the_invocations_xray_trace_is_linked_to_the_requests_trace() {
    let app = app().await;
    let xray = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    let mut context = Context::default();
    context.xray_trace_id = Some(xray.into());
    let (logs, _capturing) = CapturedLogs::start(tracing::Level::DEBUG);
    for traceparent in [
        None,
        Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
    ] {
        let mut event = get_event("/users/12");
        if let Some(traceparent) = traceparent {
            event["headers"]["traceparent"] = traceparent.into();
        }
        let answer = invoke_in(&app, event, context.clone()).await;
        assert_eq!(answer["statusCode"], 404);
    }
    let spans: Vec<(String, String)> = logs
        .lines()
        .iter()
        .filter(|line| line["span"]["name"] == "request")
        .map(|line| {
            let span = &line["span"];
            (
                span["trace_id"].as_str().unwrap_or_default().to_owned(),
                span["xray_trace_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    for (trace_id, linked) in [
        ("5759e988bd862e3fe1be46a994272793", xray),
        ("4bf92f3577b34da6a3ce929d0e0e4736", xray),
    ] {
        assert!(
            spans.contains(&(trace_id.to_owned(), linked.to_owned())),
            "a request span with trace {trace_id} naming {linked}: {spans:?}"
        );
    }
}

/// A DynamoDB endpoint that fails every call: each connection gets `answer`
/// (or nothing, held open, if it is `None`). Counts the calls.
fn faulty_dynamodb(answer: Option<&'static str>) -> (String, Arc<AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            counted.fetch_add(1, Ordering::SeqCst);
            let Some(answer) = answer else {
                held.push(stream);
                continue;
            };
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                let read = stream.read(&mut buffer).unwrap_or(0);
                if read == 0 {
                    break;
                }
                request.extend_from_slice(&buffer[..read]);
            }
            let response = format!(
                "HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.0\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{answer}",
                answer.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    (address, calls)
}

async fn app_on(endpoint: &str) -> axum::Router {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "test", "test", None, None, "faults",
        ))
        .load()
        .await;
    let deployment = millions_infra::aws::Deployment {
        tables: millions_infra::aws::TableNames::with_prefix("faults"),
        bucket: "faults-photos".into(),
        queue_url: format!("{endpoint}/queue/jobs"),
        dead_letter_url: format!("{endpoint}/queue/dlq"),
    };
    api_lambda::app(&config, &deployment, millions_api::Settings::default())
}

#[tokio::test]
async fn a_throttled_table_is_retried_within_its_budget_then_answered_503() {
    let (endpoint, calls) = faulty_dynamodb(Some(
        r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}"#,
    ));
    let app = app_on(&endpoint).await;
    let answer = invoke(&app, get_event("/users/12")).await;
    assert_eq!(answer["statusCode"], 503, "{answer}");
    assert_eq!(answer["headers"]["retry-after"], "1");
    assert_eq!(
        answer["headers"]["content-type"],
        "application/problem+json"
    );
    // Three attempts (the budget), with backoff between them, then the answer.
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn an_unanswering_table_ends_the_request_within_its_timeout_with_503() {
    let (endpoint, _calls) = faulty_dynamodb(None);
    let app = app_on(&endpoint).await;
    let started = std::time::Instant::now();
    let answer = invoke(&app, get_event("/users/12")).await;
    assert_eq!(answer["statusCode"], 503, "{answer}");
    assert_eq!(answer["headers"]["retry-after"], "1");
    // Inside the function's 10 s: the attempt's 2 s budget, not a hang.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(9),
        "{:?}",
        started.elapsed()
    );
}

//! The API function's metrics as CloudWatch would read them: after an
//! invocation, EMF documents that are valid JSON with the `_aws` block
//! (`Timestamp`, `CloudWatchMetrics` with the namespace, the dimensions and
//! the metric definitions) and a value for every metric and dimension.

use std::io::Write;
use std::sync::Mutex;

use lambda_http::lambda_runtime::{Context, LambdaEvent};
use lambda_http::request::LambdaRequest;
use lambda_http::tower::ServiceExt;
use lambda_http::Adapter;
use serde_json::Value;

/// What the function wrote; the test's stand-in for stdout.
static WRITTEN: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Captured;

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        WRITTEN.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn an_invocation_writes_emf_cloudwatch_accepts() {
    let collector = millions_infra::aws::emf::install("api").expect("the first recorder");
    let moto = millions_testkit::moto();
    let config = moto.sdk_config().await;
    let deployment = millions_infra::aws::Deployment::provision(
        &config,
        &millions_testkit::unique_name("emf"),
        Default::default(),
    )
    .await
    .unwrap();
    let app = api_lambda::app(&config, &deployment, Default::default());
    let app = api_lambda::with_metrics(app, collector, || Box::new(Captured));
    let path = format!("{}/tests/events/get_user.json", env!("CARGO_MANIFEST_DIR"));
    let event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let request: LambdaRequest = serde_json::from_value(event).unwrap();
    Adapter::from(app)
        .oneshot(LambdaEvent::new(request, Context::default()))
        .await
        .unwrap();

    let written = String::from_utf8(WRITTEN.lock().unwrap().clone()).unwrap();
    let documents: Vec<Value> = written
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is one JSON document"))
        .collect();
    assert!(!documents.is_empty(), "nothing was written");
    let mut names = Vec::new();
    for document in &documents {
        let aws = &document["_aws"];
        assert!(
            aws["Timestamp"]
                .as_u64()
                .is_some_and(|ms| ms > 1_700_000_000_000),
            "{document}"
        );
        let directives = aws["CloudWatchMetrics"]
            .as_array()
            .expect("CloudWatchMetrics");
        for directive in directives {
            assert_eq!(directive["Namespace"], "millions");
            for set in directive["Dimensions"].as_array().expect("Dimensions") {
                for dimension in set.as_array().expect("a dimension set") {
                    let dimension = dimension.as_str().unwrap();
                    assert!(
                        document[dimension].is_string(),
                        "{dimension} has no value: {document}"
                    );
                }
            }
            for metric in directive["Metrics"].as_array().expect("Metrics") {
                let name = metric["Name"].as_str().expect("a metric name");
                assert!(
                    document[name].is_number() || document[name].is_array(),
                    "{name} has no value: {document}"
                );
                names.push(name.to_owned());
            }
        }
        assert_eq!(document["function"], "api");
    }
    assert!(
        names.iter().any(|n| n == "http_request_duration_seconds"),
        "{names:?}"
    );
    let request = documents
        .iter()
        .find(|d| d.get("http_request_duration_seconds").is_some())
        .unwrap();
    assert_eq!(request["route"], "/users/{id}");
    assert_eq!(request["method"], "GET");
    assert_eq!(request["status"], "4xx", "the event's user does not exist");
}

//! Photo jobs end to end on the local stack: upload through the signed URL,
//! submit a job, poll it, download the outputs through the front door; and
//! what happens when a worker dies mid-job or a message keeps failing.

use std::time::{Duration, Instant};

use image::ImageFormat;
use serde_json::{json, Value};

use crate::helpers::{data_dir, expect_problem, TestStack};

/// A photo-like JPEG: smooth gradients and some texture.
use millions_testkit::photos::jpeg as photo;

struct Client<'a> {
    stack: &'a TestStack,
    token: String,
}

impl<'a> Client<'a> {
    async fn signed_up(stack: &'a TestStack) -> Self {
        stack.create_john().await;
        Self {
            token: stack.as_owner().token,
            stack,
        }
    }

    fn post(&self, path: &str, body: &Value) -> reqwest::RequestBuilder {
        self.stack
            .client
            .post(self.stack.url(path))
            .bearer_auth(&self.token)
            .json(body)
    }

    /// Asks for an upload slot and uploads `bytes` through it; the photo's id.
    async fn upload(&self, bytes: &[u8]) -> String {
        let response = self
            .post(
                "/photos",
                &json!({"contentType": "image/jpeg", "bytes": bytes.len()}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let answer: Value = response.json().await.unwrap();
        let upload = &answer["upload"];
        let mut request = self
            .stack
            .client
            .put(upload["url"].as_str().unwrap())
            .body(bytes.to_vec());
        for pair in upload["headers"].as_array().unwrap() {
            request = request.header(pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        answer["photoId"].as_str().unwrap().to_owned()
    }

    async fn submit(&self, photo: &str, job: &Value) -> String {
        let response = self
            .post(&format!("/photos/{photo}/jobs"), job)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["status"], "queued");
        assert_eq!(location, answer["statusUrl"]);
        location
    }

    async fn job(&self, status_url: &str) -> Value {
        let response = self
            .stack
            .client
            .get(self.stack.url(status_url))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// Polls until the job reads `status` (or fails the test after `limit`).
    async fn wait_for(&self, status_url: &str, status: &str, limit: Duration) -> Value {
        let start = Instant::now();
        loop {
            let job = self.job(status_url).await;
            if job["status"] == status {
                return job;
            }
            assert!(
                start.elapsed() < limit,
                "the job did not become {status} within {limit:?}: {job}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn every_operation() -> Value {
    json!({"operations": [
        {"op": "crop", "x": 200, "y": 100, "width": 2000, "height": 1500},
        {"op": "thumbnail", "size": 200},
        {"op": "resize", "width": 1024, "height": 1024, "fit": "contain"},
        {"op": "sharpen", "sigma": 1.0, "amount": 0.8},
        {"op": "blur", "sigma": 0.6},
    ], "format": "webp"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_goes_through_every_operation_and_its_outputs_are_served_immutable() {
    let dir = data_dir();
    let stack = TestStack::start(dir.path());
    let client = Client::signed_up(&stack).await;
    let photo = client.upload(&photo(2400, 1800)).await;
    let status_url = client.submit(&photo, &every_operation()).await;
    let job = client
        .wait_for(&status_url, "done", Duration::from_secs(60))
        .await;
    assert_eq!(job["photoId"], photo.as_str());
    let outputs = job["outputs"].as_array().unwrap();
    let sizes: Vec<_> = outputs
        .iter()
        .map(|output| {
            (
                output["role"].as_str().unwrap(),
                output["width"].as_u64().unwrap(),
                output["height"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(sizes, [("thumbnail", 200, 150), ("result", 1024, 768)]);
    for output in outputs {
        let url = stack.url(output["url"].as_str().unwrap());
        let response = stack.client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "image/webp");
        assert_eq!(
            response.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        let bytes = response.bytes().await.unwrap();
        assert_eq!(bytes.len() as u64, output["bytes"].as_u64().unwrap());
        let decoded = image::load_from_memory_with_format(&bytes, ImageFormat::WebP).unwrap();
        assert_eq!(
            (decoded.width() as u64, decoded.height() as u64),
            (
                output["width"].as_u64().unwrap(),
                output["height"].as_u64().unwrap()
            )
        );
        // The second read is the edge's.
        let again = stack.client.get(&url).send().await.unwrap();
        assert_eq!(again.headers()["x-cache"], "HIT");
    }
}

#[tokio::test]
async fn uploads_and_jobs_refuse_what_they_did_not_promise() {
    let dir = data_dir();
    let stack = TestStack::start(dir.path());
    let client = Client::signed_up(&stack).await;
    let anonymous = stack
        .client
        .post(stack.url("/photos"))
        .json(&json!({"contentType": "image/jpeg", "bytes": 10}))
        .send()
        .await
        .unwrap();
    expect_problem(anonymous, 401).await;
    let problem = expect_problem(
        client
            .post("/photos", &json!({"contentType": "image/gif", "bytes": 0}))
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(problem["errors"].as_array().unwrap().len(), 2, "{problem}");

    let bytes = photo(64, 48);
    let answer: Value = client
        .post(
            "/photos",
            &json!({"contentType": "image/jpeg", "bytes": bytes.len()}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = answer["upload"]["url"].as_str().unwrap();
    let put = |url: String, content_type: &'static str, body: Vec<u8>| {
        stack
            .client
            .put(url)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    expect_problem(
        put(url.to_owned(), "image/png", bytes.clone())
            .await
            .unwrap(),
        415,
    )
    .await;
    let mut longer = bytes.clone();
    longer.extend_from_slice(&[0; 1000]);
    expect_problem(
        put(url.to_owned(), "image/jpeg", longer.clone())
            .await
            .unwrap(),
        422,
    )
    .await;
    let forged = url.replace(
        &format!("bytes={}", bytes.len()),
        &format!("bytes={}", longer.len()),
    );
    expect_problem(put(forged, "image/jpeg", longer).await.unwrap(), 403).await;
    let photo_id = answer["photoId"].as_str().unwrap();
    // Nothing was stored by the refused uploads.
    let job = json!({"operations": [{"op": "blur", "sigma": 1.0}]});
    expect_problem(
        client
            .post(&format!("/photos/{photo_id}/jobs"), &job)
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;

    assert_eq!(
        put(url.to_owned(), "image/jpeg", bytes)
            .await
            .unwrap()
            .status(),
        200
    );
    let outside =
        json!({"operations": [{"op": "crop", "x": 60, "y": 0, "width": 10, "height": 10}]});
    let problem = expect_problem(
        client
            .post(&format!("/photos/{photo_id}/jobs"), &outside)
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(
        problem["errors"][0]["pointer"], "/operations/0/width",
        "{problem}"
    );
    expect_problem(
        client
            .post("/photos/not-an-id/jobs", &job)
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
    let status_url = client.submit(photo_id, &job).await;

    // Another user cannot see the job.
    let other = Client::signed_up(&stack).await;
    let response = stack
        .client
        .get(stack.url(&status_url))
        .bearer_auth(&other.token)
        .send()
        .await
        .unwrap();
    expect_problem(response, 404).await;
}

/// The worker is killed (SIGKILL, the whole process) while a job runs. After
/// a restart the message comes back once its visibility timeout lapses, and
/// the job ends `done` once, with the outputs of a single run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_survives_its_worker_being_killed_and_finishes_once() {
    let dir = data_dir();
    // The restarted stack waits out the visibility timeout, so it is most of
    // this test's time; the job timeout keeps several times the job's own
    // duration (under 2 s here) for slower machines.
    let flags = [
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--job-timeout-secs",
        "8",
        "--job-visibility-secs",
        "9",
    ];
    let stack = TestStack::start_with(&flags, &[]);
    let client = Client::signed_up(&stack).await;
    let token = client.token.clone();
    let photo = client.upload(&photo(2000, 1500)).await;
    // Heavy enough to be caught running: a wide blur on 3 megapixels.
    let heavy = json!({"operations": [{"op": "blur", "sigma": 30.0}, {"op": "thumbnail", "size": 256}, {"op": "resize", "width": 800}]});
    let status_url = client.submit(&photo, &heavy).await;
    let running = client
        .wait_for(&status_url, "running", Duration::from_secs(30))
        .await;
    assert_eq!(running["attempts"], 1);
    drop(client);
    stack.kill();

    let stack = TestStack::start_with(&flags, &[]);
    let client = Client {
        stack: &stack,
        token,
    };
    let done = client
        .wait_for(&status_url, "done", Duration::from_secs(90))
        .await;
    assert_eq!(
        done["attempts"], 2,
        "one attempt killed, one that finished: {done}"
    );
    let outputs = done["outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), 2);
    // Exactly the outputs of the finished run are stored: nothing from the
    // killed one, and no second copy.
    let stored = std::fs::read_dir(dir.path().join("blobs/outputs"))
        .unwrap()
        .filter(|entry| entry.as_ref().unwrap().path().extension().is_some())
        .count();
    assert_eq!(stored, 2);
    assert_eq!(
        client.job(&status_url).await,
        done,
        "later reads see the same single outcome"
    );
}

/// Every attempt of this job outlives the (tiny) job timeout, so each
/// delivery is abandoned; after the last allowed one the message lands in the
/// dead-letter queue and the job reads `failed`, with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_message_reaches_the_dead_letter_queue_and_its_job_fails() {
    let dir = data_dir();
    let stack = TestStack::start_with(
        &[
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--job-timeout-secs",
            "0.05",
            "--job-visibility-secs",
            "0.5",
            "--job-max-receives",
            "2",
        ],
        &[],
    );
    let client = Client::signed_up(&stack).await;
    let photo = client.upload(&photo(2000, 1500)).await;
    let status_url = client
        .submit(
            &photo,
            &json!({"operations": [{"op": "blur", "sigma": 20.0}]}),
        )
        .await;
    let failed = client
        .wait_for(&status_url, "failed", Duration::from_secs(30))
        .await;
    let reason = failed["reason"].as_str().unwrap();
    assert!(
        reason.contains("gave up after 2 attempts") && reason.contains("timeout"),
        "{reason}"
    );
    let job_id = status_url.trim_start_matches("/jobs/");
    let start = Instant::now();
    loop {
        let queue: Value = stack.get_json("/_local/queue").await;
        if queue["deadLetters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|body| body.as_str().unwrap().contains(job_id))
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "not dead-lettered: {queue}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A burst of jobs grows the pool to its limit; once the queue is empty the
/// workers stop again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_pool_grows_with_the_backlog_and_shrinks_when_idle() {
    let dir = data_dir();
    let stack = TestStack::start_with(
        &[
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--workers-max",
            "3",
            "--worker-idle-secs",
            "1",
        ],
        &[],
    );
    let client = Client::signed_up(&stack).await;
    let photo = client.upload(&photo(1600, 1200)).await;
    let job = json!({"operations": [{"op": "blur", "sigma": 8.0}, {"op": "resize", "width": 400}]});
    let mut jobs = Vec::new();
    for _ in 0..8 {
        jobs.push(client.submit(&photo, &job).await);
    }
    let mut most_workers = 0;
    let start = Instant::now();
    loop {
        let queue: Value = stack.get_json("/_local/queue").await;
        let workers = queue["workers"].as_u64().unwrap();
        most_workers = most_workers.max(workers);
        assert!(workers <= 3, "{queue}");
        if most_workers > 1 && workers == 0 && queue["backlog"] == 0 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "most workers {most_workers}, now {queue}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for status_url in jobs {
        assert_eq!(client.job(&status_url).await["status"], "done");
    }
}

#[tokio::test]
async fn one_trace_id_follows_a_job_from_the_request_to_the_worker() {
    const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    let dir = data_dir();
    let stack = TestStack::start(dir.path());
    let client = Client::signed_up(&stack).await;
    let photo = client.upload(&photo(320, 240)).await;
    // Through the front door (the edge passes the client's traceparent on).
    let response = client
        .post(
            &format!("/photos/{photo}/jobs"),
            &json!({"operations": [{"op": "thumbnail", "size": 64}]}),
        )
        .header("traceparent", format!("00-{TRACE_ID}-00f067aa0ba902b7-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let status_url = response.headers()["location"].to_str().unwrap().to_owned();
    client
        .wait_for(&status_url, "done", Duration::from_secs(30))
        .await;
    let start = Instant::now();
    let (mut queued, mut finished) = (false, false);
    while !(queued && finished) && start.elapsed() < Duration::from_secs(10) {
        for line in stack.drain_logs() {
            if !line.contains(TRACE_ID) {
                continue;
            }
            let line: Value = serde_json::from_str(&line).unwrap();
            // The API's line names the trace itself; the worker's lines
            // carry it in the job's span.
            queued |= line["message"] == "a photo job was queued" && line["trace_id"] == TRACE_ID;
            finished |=
                line["message"] == "a photo job finished" && line["span"]["trace_id"] == TRACE_ID;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        queued,
        "the API logged the queued job with the request's trace id"
    );
    assert!(
        finished,
        "the worker logged the finished job in the same trace"
    );
}

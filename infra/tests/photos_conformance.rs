//! One suite for the photo ports, run against the embedded adapters (redb
//! queue and jobs, files) and the AWS ones (SQS, DynamoDB, S3 on a moto
//! server started by the tests). Visibility timeouts are real on SQS, so the
//! suite waits them out with a short timeout on both.

mod common;

use std::sync::Arc;
use std::time::Duration;

use millions_core::photos::{
    BlobKey, Blobs, Dimensions, Job, JobId, JobQueue, JobRunner, JobState, Jobs, MediaType,
    OutputRole, PhotoId, QueueSettings, RunOutcome,
};
use millions_core::{Clock, UserId};

const SETTINGS: QueueSettings = QueueSettings {
    visibility_timeout: Duration::from_secs(1),
    max_receives: 2,
};

struct Photos {
    jobs: Arc<dyn Jobs>,
    blobs: Arc<dyn Blobs>,
    queue: Arc<dyn JobQueue>,
    clock: Arc<dyn Clock>,
    /// For the embedded store: accepts an upload as the local stack's route does.
    local_blobs: Option<millions_infra::local::LocalBlobs>,
    _dir: Option<tempfile::TempDir>,
}

impl Photos {
    async fn embedded() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = millions_infra::local::EmbeddedDatabase::open(dir.path()).unwrap();
        let clock: Arc<dyn Clock> = Arc::new(millions_infra::SystemClock);
        let blobs = millions_infra::local::LocalBlobs::open(
            dir.path(),
            "http://127.0.0.1:1".into(),
            clock.clone(),
        )
        .unwrap();
        Self {
            jobs: Arc::new(millions_infra::local::EmbeddedJobs::new(db.clone()).unwrap()),
            blobs: Arc::new(blobs.clone()),
            queue: Arc::new(
                millions_infra::local::EmbeddedQueue::new(db, clock.clone(), SETTINGS).unwrap(),
            ),
            clock,
            local_blobs: Some(blobs),
            _dir: Some(dir),
        }
    }

    async fn aws() -> Self {
        let moto = millions_testkit::moto();
        let config = moto.sdk_config().await;
        let prefix = millions_testkit::unique_name("photos");
        let tables = millions_infra::aws::TableNames::with_prefix(&prefix);
        // The jobs table on the serial server: the tests race conditional
        // updates of one job, which moto's threaded server does not apply
        // atomically (see `serial_moto`); the queue's long polls stay on
        // the threaded one.
        let dynamodb =
            aws_sdk_dynamodb::Client::new(&millions_testkit::serial_moto().sdk_config().await);
        millions_infra::aws::create_tables_if_missing(&dynamodb, &tables)
            .await
            .unwrap();
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&config)
                .force_path_style(true)
                .build(),
        );
        s3.create_bucket().bucket(&prefix).send().await.unwrap();
        let sqs = aws_sdk_sqs::Client::new(&config);
        let queue = millions_infra::aws::create_queues_if_missing(
            &sqs,
            &millions_infra::aws::QueueNames::with_prefix(&prefix),
            SETTINGS,
        )
        .await
        .unwrap();
        Self {
            jobs: Arc::new(millions_infra::aws::DynamoJobs::new(dynamodb, &tables.jobs)),
            blobs: Arc::new(millions_infra::aws::S3Blobs::new(s3, &prefix)),
            queue: Arc::new(queue),
            clock: Arc::new(millions_infra::SystemClock),
            local_blobs: None,
            _dir: None,
        }
    }

    async fn let_visibility_lapse(&self) {
        tokio::time::sleep(SETTINGS.visibility_timeout + Duration::from_millis(200)).await;
    }

    fn runner(&self) -> JobRunner {
        JobRunner::new(
            self.jobs.clone(),
            self.blobs.clone(),
            Arc::new(millions_imaging::ImageTools::default()),
            self.clock.clone(),
            SETTINGS,
        )
    }
}

fn owner() -> UserId {
    UserId::new(42).unwrap()
}

fn job(photo: PhotoId) -> Job {
    millions_testkit::photos::queued_job(
        JobId::from_random(rand_bits()),
        owner(),
        photo,
        Dimensions::new(128, 96),
        serde_json::json!([{"op": "thumbnail", "size": 32}, {"op": "resize", "width": 64}]),
    )
}

fn rand_bits() -> u128 {
    use millions_core::auth::Randomness;
    millions_infra::OsRandomness.id128()
}

mod cases {
    use super::*;

    pub async fn a_job_finishes_once(photos: Photos) {
        let job = job(PhotoId::from_random(1));
        photos.jobs.insert(&job).await.unwrap();
        assert!(matches!(
            photos.jobs.insert(&job).await,
            Err(millions_core::StoreError::AlreadyExists)
        ));
        let started = photos
            .jobs
            .start(job.id, 10, 20, false)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (started.attempts, &started.state),
            (
                1,
                &JobState::Running {
                    lease_until_ms: 20,
                    final_attempt: false
                }
            )
        );
        let again = photos
            .jobs
            .start(job.id, 30, 40, true)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again.attempts, 2);
        // Eight deliveries race to finish: exactly one wins.
        let finishes = (0..8).map(|n| {
            let jobs = photos.jobs.clone();
            tokio::spawn(async move {
                jobs.finish(
                    job.id,
                    &JobState::Failed {
                        reason: format!("attempt {n}"),
                    },
                    50,
                )
                .await
                .unwrap()
            })
        });
        let won: Vec<bool> = futures_join(finishes).await;
        assert_eq!(won.iter().filter(|won| **won).count(), 1, "{won:?}");
        let finished = photos.jobs.get(job.id).await.unwrap().unwrap();
        assert!(matches!(finished.state, JobState::Failed { .. }));
        // A late delivery neither restarts nor changes it.
        let late = photos
            .jobs
            .start(job.id, 60, 70, false)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(late, finished);
        assert!(!photos
            .jobs
            .finish(job.id, &JobState::Done { outputs: vec![] }, 80)
            .await
            .unwrap());
        assert_eq!(
            photos
                .jobs
                .start(JobId::from_random(7), 1, 2, false)
                .await
                .unwrap(),
            None
        );
        assert_eq!(photos.jobs.get(JobId::from_random(7)).await.unwrap(), None);
    }

    async fn futures_join<T: Send + 'static>(
        tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>,
    ) -> Vec<T> {
        let mut results = Vec::new();
        for task in tasks.collect::<Vec<_>>() {
            results.push(task.await.unwrap());
        }
        results
    }

    const TRACE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    pub async fn the_queue_redelivers_until_deleted_then_dead_letters(photos: Photos) {
        let queue = &photos.queue;
        queue.send("first", Some(TRACE)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let depth = queue.depth().await.unwrap();
        assert_eq!(depth.waiting, 1);
        // Where the queue tells the age (SQS leaves it to CloudWatch).
        if let Some(age) = depth.oldest_waiting_ms {
            assert!((50..10_000).contains(&age), "waited 50 ms: {depth:?}");
        }
        let got = queue.receive(10, Duration::from_secs(2)).await.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].body.as_str(), got[0].receive_count), ("first", 1));
        assert_eq!(
            got[0].trace.as_deref(),
            Some(TRACE),
            "the trace travels with it"
        );
        // Hidden while a worker holds it.
        assert!(queue.receive(10, Duration::ZERO).await.unwrap().is_empty());
        photos.let_visibility_lapse().await;
        let again = queue.receive(10, Duration::from_secs(2)).await.unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].receive_count, 2);
        // Received max_receives times and never deleted: the next receive
        // moves it to the dead-letter queue instead of delivering it.
        photos.let_visibility_lapse().await;
        assert!(queue
            .receive(10, Duration::from_secs(1))
            .await
            .unwrap()
            .is_empty());
        assert_eq!(queue.dead_letters().await.unwrap(), ["first"]);
        assert_eq!(queue.depth().await.unwrap().dead_letters, 1);
        // A deleted message is gone for good.
        queue.send("second", None).await.unwrap();
        let got = queue.receive(10, Duration::from_secs(2)).await.unwrap();
        assert_eq!(got[0].trace, None);
        queue.delete(&got[0].receipt).await.unwrap();
        photos.let_visibility_lapse().await;
        assert!(queue
            .receive(10, Duration::from_secs(1))
            .await
            .unwrap()
            .is_empty());
        assert_eq!(queue.backlog().await.unwrap(), 0);
        let depth = queue.depth().await.unwrap();
        assert_eq!((depth.waiting, depth.dead_letters), (0, 1));
        assert!(
            matches!(depth.oldest_waiting_ms, None | Some(0)),
            "nothing waits: {depth:?}"
        );
    }

    pub async fn blobs_round_trip_whole(photos: Photos) {
        let key = BlobKey::original(owner(), PhotoId::from_random(3));
        assert_eq!(photos.blobs.get(&key).await.unwrap(), None);
        assert_eq!(photos.blobs.head_bytes(&key, 4).await.unwrap(), None);
        photos
            .blobs
            .put(&key, b"0123456789".to_vec(), "image/jpeg")
            .await
            .unwrap();
        assert_eq!(
            photos.blobs.get(&key).await.unwrap().unwrap().bytes,
            b"0123456789"
        );
        assert_eq!(
            photos.blobs.head_bytes(&key, 4).await.unwrap().unwrap(),
            b"0123"
        );
        photos
            .blobs
            .put(&key, b"abc".to_vec(), "image/jpeg")
            .await
            .unwrap();
        assert_eq!(photos.blobs.get(&key).await.unwrap().unwrap().bytes, b"abc");
        let output = BlobKey::output(&"ab".repeat(32), MediaType::Png);
        photos
            .blobs
            .put(&output, b"png".to_vec(), "image/png")
            .await
            .unwrap();
        assert_eq!(
            photos
                .blobs
                .get(&output)
                .await
                .unwrap()
                .unwrap()
                .content_type,
            "image/png"
        );
    }

    pub async fn an_upload_slot_accepts_exactly_what_it_signed(photos: Photos) {
        let key = BlobKey::original(owner(), PhotoId::from_random(4));
        let body = millions_testkit::photos::jpeg(16, 16);
        let slot = photos
            .blobs
            .upload_slot(
                &key,
                MediaType::Jpeg,
                body.len() as u64,
                Duration::from_secs(60),
            )
            .await
            .unwrap();
        assert_eq!(slot.method, "PUT");
        assert!(
            slot.headers
                .contains(&("content-type".into(), "image/jpeg".into())),
            "{:?}",
            slot.headers
        );
        match &photos.local_blobs {
            Some(local) => {
                let (path, query) = slot.url.split_once('?').unwrap();
                let key_text = path
                    .split_once(millions_infra::local::UPLOAD_PATH)
                    .unwrap()
                    .1;
                let grant: millions_infra::local::UploadGrant = serde_urlencoded(query);
                let wrong_type = local
                    .accept_upload(key_text, &grant, Some("image/png"), body.clone())
                    .await;
                assert!(wrong_type.unwrap_err().to_string().contains("image/jpeg"));
                let short = local
                    .accept_upload(key_text, &grant, Some("image/jpeg"), body[1..].to_vec())
                    .await;
                assert!(short.unwrap_err().to_string().contains("exactly"));
                let mut forged = grant.clone();
                forged.bytes += 1_000_000;
                let forged = local
                    .accept_upload(key_text, &forged, Some("image/jpeg"), body.clone())
                    .await;
                assert!(forged.unwrap_err().to_string().contains("signature"));
                local
                    .accept_upload(key_text, &grant, Some("image/jpeg"), body.clone())
                    .await
                    .unwrap();
            }
            None => {
                // The signature covers the type and the length, so S3
                // refuses any other.
                let signed = slot
                    .url
                    .split("X-Amz-SignedHeaders=")
                    .nth(1)
                    .unwrap()
                    .split('&')
                    .next()
                    .unwrap();
                assert_eq!(signed, "content-length%3Bcontent-type%3Bhost");
                let client = reqwest::Client::new();
                let mut request = client.put(&slot.url).body(body.clone());
                for (name, value) in &slot.headers {
                    request = request.header(name, value);
                }
                let response = request.send().await.unwrap();
                assert!(
                    response.status().is_success(),
                    "{}",
                    response.text().await.unwrap()
                );
            }
        }
        assert_eq!(photos.blobs.get(&key).await.unwrap().unwrap().bytes, body);
    }

    fn serde_urlencoded(query: &str) -> millions_infra::local::UploadGrant {
        let field = |name: &str| {
            query
                .split('&')
                .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
                .unwrap()
                .replace("%2F", "/")
        };
        millions_infra::local::UploadGrant {
            content_type: field("type"),
            bytes: field("bytes").parse().unwrap(),
            expires: field("expires").parse().unwrap(),
            signature: field("signature"),
        }
    }

    pub async fn a_message_delivered_twice_finishes_its_job_once(photos: Photos) {
        let photo = PhotoId::from_random(rand_bits());
        photos
            .blobs
            .put(
                &BlobKey::original(owner(), photo),
                millions_testkit::photos::jpeg(128, 96),
                "image/jpeg",
            )
            .await
            .unwrap();
        let job = job(photo);
        photos.jobs.insert(&job).await.unwrap();
        let body = millions_core::photos::JobMessage { job_id: job.id }.to_body();
        let runner = photos.runner();
        // Two workers hold the same message at once (a visibility timeout
        // lapsed mid-job), and a third gets it later.
        let (first, second) = tokio::join!(runner.run(&body, 1), runner.run(&body, 2));
        assert_eq!(
            (first, second),
            (RunOutcome::Finished, RunOutcome::Finished)
        );
        let done = photos.jobs.get(job.id).await.unwrap().unwrap();
        let JobState::Done { outputs } = &done.state else {
            panic!("{:?}", done.state)
        };
        let roles: Vec<_> = outputs
            .iter()
            .map(|output| (output.role, output.width, output.height))
            .collect();
        assert_eq!(
            roles,
            [
                (OutputRole::Thumbnail, 32, 24),
                (OutputRole::Result, 64, 48)
            ]
        );
        assert_eq!(runner.run(&body, 3).await, RunOutcome::Finished);
        assert_eq!(
            photos.jobs.get(job.id).await.unwrap().unwrap(),
            done,
            "the late delivery changed nothing"
        );
        for output in outputs {
            let stored = photos.blobs.get(&output.key).await.unwrap().unwrap();
            assert_eq!(stored.bytes.len() as u64, output.bytes);
        }
    }

    pub async fn a_corrupt_original_fails_with_a_reason_and_is_not_retried(photos: Photos) {
        let photo = PhotoId::from_random(rand_bits());
        let mut original = millions_testkit::photos::jpeg(128, 96);
        original.truncate(original.len() / 2);
        photos
            .blobs
            .put(&BlobKey::original(owner(), photo), original, "image/jpeg")
            .await
            .unwrap();
        let job = job(photo);
        photos.jobs.insert(&job).await.unwrap();
        let body = millions_core::photos::JobMessage { job_id: job.id }.to_body();
        assert_eq!(photos.runner().run(&body, 1).await, RunOutcome::Finished);
        let failed = photos.jobs.get(job.id).await.unwrap().unwrap();
        let (status, reason) = failed.status(photos.clock.now_ms());
        assert_eq!(status, millions_core::photos::JobStatus::Failed);
        assert!(reason.unwrap().contains("truncated"));
    }

    pub async fn an_unreadable_message_is_left_for_the_dead_letter_queue(photos: Photos) {
        let outcome = photos.runner().run("{\"not\": \"a job\"}", 1).await;
        assert!(
            matches!(outcome, RunOutcome::Retry(reason) if reason.contains("not a job message"))
        );
    }
}

macro_rules! photo_conformance {
    ($($case:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::cases::$case(super::Photos::embedded().await).await;
                }
            )*
        }
        mod aws {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::cases::$case(super::Photos::aws().await).await;
                }
            )*
        }
    };
}

photo_conformance!(
    a_job_finishes_once,
    the_queue_redelivers_until_deleted_then_dead_letters,
    blobs_round_trip_whole,
    an_upload_slot_accepts_exactly_what_it_signed,
    a_message_delivered_twice_finishes_its_job_once,
    a_corrupt_original_fails_with_a_reason_and_is_not_retried,
    an_unreadable_message_is_left_for_the_dead_letter_queue,
);

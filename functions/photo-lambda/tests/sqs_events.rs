//! The handler on a real SQS event (the JSON Lambda delivers), against S3 and
//! DynamoDB on a moto server: one good job, one with a corrupt original, one
//! unreadable message. Only the unreadable one is reported for redelivery.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use millions_core::auth::Randomness;
use millions_core::photos::{BlobKey, Dimensions, JobId, JobState, PhotoId, QueueSettings};
use millions_core::UserId;
use millions_infra::aws::Deployment;
use millions_infra::OsRandomness;
use millions_testkit::logs::CapturedLogs;

async fn queued_job(
    deployment: &Deployment,
    config: &aws_config::SdkConfig,
    original: Vec<u8>,
) -> JobId {
    let photos = deployment.photo_ports(config);
    let owner = UserId::new(7).unwrap();
    let photo = PhotoId::from_random(OsRandomness.id128());
    photos
        .blobs
        .put(&BlobKey::original(owner, photo), original, "image/jpeg")
        .await
        .unwrap();
    let job = millions_testkit::photos::queued_job(
        JobId::from_random(OsRandomness.id128()),
        owner,
        photo,
        Dimensions::new(320, 240),
        serde_json::json!([{"op": "resize", "width": 160}]),
    );
    photos.jobs.insert(&job).await.unwrap();
    job.id
}

#[tokio::test(flavor = "current_thread")]
async fn a_batch_reports_only_the_message_that_must_be_retried() {
    let (logs, _capturing) = CapturedLogs::start(tracing::Level::INFO);
    let config = millions_testkit::moto().sdk_config().await;
    let deployment = Deployment::provision(
        &config,
        &millions_testkit::unique_name("lambda-photos"),
        QueueSettings::default(),
    )
    .await
    .unwrap();
    let good = queued_job(
        &deployment,
        &config,
        millions_testkit::photos::jpeg(320, 240),
    )
    .await;
    let mut corrupt = millions_testkit::photos::jpeg(320, 240);
    corrupt.truncate(corrupt.len() / 2);
    let corrupt = queued_job(&deployment, &config, corrupt).await;

    let event = include_str!("../events/batch.json")
        .replace("JOB_OK", &good.to_string())
        .replace("JOB_CORRUPT", &corrupt.to_string());
    let event: SqsEvent = serde_json::from_str(&event).unwrap();
    let runner = photo_lambda::runner(&config, &deployment, QueueSettings::default());
    let response = photo_lambda::handle(&runner, event).await;

    let reported = serde_json::to_value(&response).unwrap();
    assert_eq!(
        reported,
        serde_json::json!({"batchItemFailures": [{"itemIdentifier": "c80e8021-a70a-42c7-a470-796e1186f753"}]})
    );
    let _: SqsBatchResponse = serde_json::from_value(reported).unwrap();

    let jobs = deployment.photo_ports(&config).jobs;
    let done = jobs.get(good).await.unwrap().unwrap();
    let JobState::Done { outputs } = &done.state else {
        panic!("{:?}", done.state)
    };
    assert_eq!((outputs[0].width, outputs[0].height), (160, 120));
    // The job's lines carry the trace of the request that queued it, from
    // the record's traceparent attribute.
    let finished: Vec<serde_json::Value> = logs
        .lines()
        .into_iter()
        .filter(|line| line["fields"]["message"] == "a photo job finished")
        .collect();
    assert_eq!(finished.len(), 2, "{finished:?}");
    let traces: Vec<&serde_json::Value> = finished
        .iter()
        .map(|line| &line["span"]["trace_id"])
        .collect();
    assert!(
        traces.contains(&&serde_json::json!("4bf92f3577b34da6a3ce929d0e0e4736")),
        "{finished:?}"
    );
    let failed = jobs.get(corrupt).await.unwrap().unwrap();
    assert!(
        matches!(&failed.state, JobState::Failed { reason } if reason.contains("truncated")),
        "{:?}",
        failed.state
    );

    // The same batch again (a redelivery): nothing changes, nothing new fails.
    let again: SqsEvent = serde_json::from_str(
        &include_str!("../events/batch.json")
            .replace("JOB_OK", &good.to_string())
            .replace("JOB_CORRUPT", &corrupt.to_string()),
    )
    .unwrap();
    let response = photo_lambda::handle(&runner, again).await;
    assert_eq!(response.batch_item_failures.len(), 1);
    assert_eq!(jobs.get(good).await.unwrap().unwrap(), done);
}

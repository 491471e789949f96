//! The photo-processing Lambda: SQS delivers batches of job messages, and
//! each is handed to the core's [`JobRunner`], the same code the local
//! stack's workers run.
//!
//! The function reports partial batch failures (`ReportBatchItemFailures` on
//! the event source mapping): only the messages that must be tried again are
//! named in the answer, so one bad message does not bring its whole batch
//! back. A message SQS has delivered `maxReceiveCount` times goes to the
//! dead-letter queue; on that last delivery the runner records the job as
//! failed with the reason.
//!
//! Environment (set by Terraform): the table, bucket and queue names of
//! `millions_infra::aws::Deployment::from_env`, plus `JOB_VISIBILITY_SECS` and
//! `JOB_MAX_RECEIVES`, which must match the queue's settings.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use millions_core::photos::{job_span, JobRunner, QueueSettings, RunOutcome};
use millions_core::trace::TRACEPARENT;
use millions_infra::aws::{Deployment, MissingSetting};
use millions_infra::SystemClock;
use tracing::Instrument;

/// The function's configuration is incomplete or unreadable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Missing(#[from] MissingSetting),
    #[error("the environment variable {name} is `{value}`, not a whole number")]
    NotANumber { name: &'static str, value: String },
}

/// A runner on the deployment's jobs table and bucket.
pub fn runner(
    config: &aws_config::SdkConfig,
    deployment: &Deployment,
    queue: QueueSettings,
) -> JobRunner {
    millions_imaging::job_runner(
        &deployment.photo_ports(config),
        Arc::new(SystemClock),
        queue,
    )
}

fn number(name: &'static str, default: u64) -> Result<u64, ConfigError> {
    match std::env::var(name) {
        Err(_) => Ok(default),
        Ok(value) => value
            .trim()
            .parse()
            .map_err(|_| ConfigError::NotANumber { name, value }),
    }
}

/// The runner configured from the function's environment.
pub async fn runner_from_env() -> Result<JobRunner, ConfigError> {
    let deployment = Deployment::from_env()?;
    let defaults = QueueSettings::default();
    let queue = QueueSettings {
        visibility_timeout: Duration::from_secs(number(
            "JOB_VISIBILITY_SECS",
            defaults.visibility_timeout.as_secs(),
        )?),
        max_receives: number("JOB_MAX_RECEIVES", u64::from(defaults.max_receives))? as u32,
    };
    Ok(runner(
        &millions_infra::aws::load_config().await,
        &deployment,
        queue,
    ))
}

/// Runs every record of a batch and names the ones to deliver again.
///
/// Records run one after another: each decodes a photo of up to 50
/// megapixels, and a function's memory is sized for one at a time.
pub async fn handle(runner: &JobRunner, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let message_id = record.message_id.clone().unwrap_or_default();
        let receive_count = record
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|count| count.parse().ok())
            .unwrap_or(1);
        let body = record.body.as_deref().unwrap_or_default();
        // The API's traceparent, as the message attribute it sent.
        let trace = record
            .message_attributes
            .get(TRACEPARENT)
            .and_then(|attribute| attribute.string_value.as_deref());
        match runner
            .run(body, receive_count)
            .instrument(job_span(trace))
            .await
        {
            RunOutcome::Finished => {}
            RunOutcome::Retry(reason) => {
                tracing::warn!(%message_id, receive_count, %reason, "message left for redelivery");
                response.add_failure(message_id);
            }
        }
    }
    response
}

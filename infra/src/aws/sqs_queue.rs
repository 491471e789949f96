//! The `JobQueue` port on an SQS queue with a redrive policy to a
//! dead-letter queue. In the cloud the Lambda service receives and deletes
//! for the processing function (the event source mapping); `receive` and
//! `delete` serve tools, tests and workers outside Lambda.

use std::time::Duration;

use async_trait::async_trait;
use std::collections::HashMap;

use aws_sdk_sqs::types::{MessageAttributeValue, MessageSystemAttributeName, QueueAttributeName};
use aws_sdk_sqs::Client;
use millions_core::photos::{Delivery, JobQueue, QueueSettings};
use millions_core::trace::TRACEPARENT;
use millions_core::StoreError;

#[derive(Clone)]
pub struct SqsQueue {
    client: Client,
    queue_url: String,
    dead_letter_url: String,
}

impl SqsQueue {
    pub fn new(
        client: Client,
        queue_url: impl Into<String>,
        dead_letter_url: impl Into<String>,
    ) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
            dead_letter_url: dead_letter_url.into(),
        }
    }

    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    pub fn dead_letter_url(&self) -> &str {
        &self.dead_letter_url
    }
}

fn failed(error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::unavailable(error)
}

/// The names and settings of a deployment's job queues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueNames {
    pub jobs: String,
    pub dead_letters: String,
}

impl QueueNames {
    pub fn with_prefix(prefix: &str) -> Self {
        Self {
            jobs: format!("{prefix}-photo-jobs"),
            dead_letters: format!("{prefix}-photo-jobs-dlq"),
        }
    }
}

/// Finds the job queue and its dead-letter queue by name (`GetQueueUrl`).
pub async fn find_queues(client: &Client, names: &QueueNames) -> Result<SqsQueue, StoreError> {
    let mut urls = Vec::with_capacity(2);
    for name in [&names.jobs, &names.dead_letters] {
        let url = client
            .get_queue_url()
            .queue_name(name)
            .send()
            .await
            .map_err(|error| failed(error.into_service_error()))?
            .queue_url
            .unwrap_or_default();
        urls.push(url);
    }
    let dead_letter_url = urls.pop().unwrap_or_default();
    let queue_url = urls.pop().unwrap_or_default();
    Ok(SqsQueue::new(client.clone(), queue_url, dead_letter_url))
}

/// Creates the job queue and its dead-letter queue (or finds them) with the
/// redrive policy Terraform sets in the cloud; returns the ready adapter.
pub async fn create_queues_if_missing(
    client: &Client,
    names: &QueueNames,
    settings: QueueSettings,
) -> Result<SqsQueue, StoreError> {
    let dead_letter_url = client
        .create_queue()
        .queue_name(&names.dead_letters)
        .attributes(
            QueueAttributeName::MessageRetentionPeriod,
            (14 * 24 * 3600).to_string(),
        )
        .send()
        .await
        .map_err(|error| failed(error.into_service_error()))?
        .queue_url
        .unwrap_or_default();
    let dead_letter_arn = client
        .get_queue_attributes()
        .queue_url(&dead_letter_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|error| failed(error.into_service_error()))?
        .attributes
        .and_then(|mut attributes| attributes.remove(&QueueAttributeName::QueueArn))
        .unwrap_or_default();
    let redrive = serde_json::json!({
        "deadLetterTargetArn": dead_letter_arn,
        "maxReceiveCount": settings.max_receives.to_string(),
    });
    let queue_url = client
        .create_queue()
        .queue_name(&names.jobs)
        .attributes(
            QueueAttributeName::VisibilityTimeout,
            settings.visibility_timeout.as_secs().to_string(),
        )
        .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
        .send()
        .await
        .map_err(|error| failed(error.into_service_error()))?
        .queue_url
        .unwrap_or_default();
    Ok(SqsQueue::new(client.clone(), queue_url, dead_letter_url))
}

#[async_trait]
impl JobQueue for SqsQueue {
    async fn send(&self, body: &str, trace: Option<&str>) -> Result<(), StoreError> {
        let attribute = trace
            .map(|trace| {
                MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(trace)
                    .build()
                    .map_err(failed)
            })
            .transpose()?;
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .set_message_attributes(
                attribute.map(|value| HashMap::from([(TRACEPARENT.to_owned(), value)])),
            )
            .send()
            .await
            .map(drop)
            .map_err(|error| failed(error.into_service_error()))
    }

    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Delivery>, StoreError> {
        let output = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(max.clamp(1, 10) as i32)
            .wait_time_seconds(wait.as_secs().min(20) as i32)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .message_attribute_names(TRACEPARENT)
            .customize()
            .config_override(super::clients::sqs_long_poll())
            .send()
            .await
            .map_err(|error| failed(error.into_service_error()))?;
        Ok(output
            .messages()
            .iter()
            .map(|message| Delivery {
                body: message.body().unwrap_or_default().to_owned(),
                trace: message
                    .message_attributes()
                    .and_then(|attributes| attributes.get(TRACEPARENT))
                    .and_then(|value| value.string_value())
                    .map(str::to_owned),
                receipt: message.receipt_handle().unwrap_or_default().to_owned(),
                receive_count: message
                    .attributes()
                    .and_then(|attributes| {
                        attributes.get(&MessageSystemAttributeName::ApproximateReceiveCount)
                    })
                    .and_then(|count| count.parse().ok())
                    .unwrap_or(1),
            })
            .collect())
    }

    async fn delete(&self, receipt: &str) -> Result<(), StoreError> {
        self.client
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .send()
            .await
            .map(drop)
            .map_err(|error| failed(error.into_service_error()))
    }

    async fn backlog(&self) -> Result<u64, StoreError> {
        let attributes = self
            .client
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .map_err(|error| failed(error.into_service_error()))?;
        Ok(attributes
            .attributes()
            .and_then(|attributes| attributes.get(&QueueAttributeName::ApproximateNumberOfMessages))
            .and_then(|count| count.parse().ok())
            .unwrap_or(0))
    }

    async fn dead_letters(&self) -> Result<Vec<String>, StoreError> {
        // Received with no visibility timeout: looking does not hide them.
        let output = self
            .client
            .receive_message()
            .queue_url(&self.dead_letter_url)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .send()
            .await
            .map_err(|error| failed(error.into_service_error()))?;
        Ok(output
            .messages()
            .iter()
            .filter_map(|message| message.body().map(str::to_owned))
            .collect())
    }
}

//! The `Jobs` port on a DynamoDB table keyed by `job_id`.
//!
//! The state lives in its own attribute so that transitions are single
//! conditional `UpdateItem`s: `start` only from queued or running, `finish`
//! only from those too. Two deliveries of one message racing to finish both
//! send the update; DynamoDB applies the first and refuses the second.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use aws_sdk_dynamodb::Client;
use millions_core::photos::{Job, JobId, JobOutput, JobState, Jobs};
use millions_core::{StoreError, UserId};

use super::item::{self, Item};
use super::tables::{EXPIRES_AT, JOBS_KEY};

/// How long a finished or abandoned job's record is kept.
const RETENTION_SECS: u64 = 30 * 24 * 3600;
const STATE: &str = "state";

#[derive(Clone)]
pub struct DynamoJobs {
    client: Client,
    table: String,
}

impl DynamoJobs {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

fn key(id: JobId) -> Item {
    HashMap::from([(JOBS_KEY.to_owned(), AttributeValue::S(id.to_string()))])
}

fn json(value: &impl serde::Serialize) -> AttributeValue {
    AttributeValue::S(serde_json::to_string(value).expect("job fields serialize"))
}

fn from_json<T: serde::de::DeserializeOwned>(
    found: &Item,
    attribute: &'static str,
) -> Result<T, StoreError> {
    serde_json::from_str(&item::get_string(found, attribute)?)
        .map_err(|_| item::malformed(attribute))
}

fn to_item(job: &Job) -> Item {
    let mut item = key(job.id);
    item.insert("owner".into(), item::number(job.owner.get()));
    item.insert("photo".into(), AttributeValue::S(job.photo.to_string()));
    item.insert("original".into(), json(&job.original));
    item.insert("spec".into(), json(&job.spec));
    item.insert(STATE.into(), AttributeValue::S("queued".into()));
    item.insert("attempts".into(), item::number(u64::from(job.attempts)));
    item.insert("created_at".into(), item::number(job.created_at_ms));
    item.insert("updated_at".into(), item::number(job.updated_at_ms));
    item.insert(
        EXPIRES_AT.into(),
        item::number(job.created_at_ms / 1000 + RETENTION_SECS),
    );
    item
}

fn from_item(found: &Item) -> Result<Job, StoreError> {
    let state = match item::get_string(found, STATE)?.as_str() {
        "queued" => JobState::Queued,
        "running" => JobState::Running {
            lease_until_ms: item::get_number(found, "lease_until")?,
            final_attempt: matches!(found.get("final_attempt"), Some(AttributeValue::Bool(true))),
        },
        "done" => JobState::Done {
            outputs: from_json::<Vec<JobOutput>>(found, "outputs")?,
        },
        "failed" => JobState::Failed {
            reason: item::get_string(found, "reason")?,
        },
        _ => return Err(item::malformed(STATE)),
    };
    Ok(Job {
        id: item::get_string(found, JOBS_KEY)?
            .parse()
            .map_err(|_| item::malformed(JOBS_KEY))?,
        owner: UserId::new(item::get_number(found, "owner")?)
            .map_err(|_| item::malformed("owner"))?,
        photo: item::get_string(found, "photo")?
            .parse()
            .map_err(|_| item::malformed("photo"))?,
        original: from_json(found, "original")?,
        spec: from_json(found, "spec")?,
        state,
        attempts: item::get_number(found, "attempts")? as u32,
        created_at_ms: item::get_number(found, "created_at")?,
        updated_at_ms: item::get_number(found, "updated_at")?,
    })
}

impl DynamoJobs {
    /// An update that applies only while the job is queued or running.
    fn unfinished_update(
        &self,
        id: JobId,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(id)))
            .condition_expression("#state IN (:queued, :running)")
            .expression_attribute_names("#state", STATE)
            .expression_attribute_values(":queued", AttributeValue::S("queued".into()))
            .expression_attribute_values(":running", AttributeValue::S("running".into()))
    }
}

#[async_trait]
impl Jobs for DynamoJobs {
    async fn insert(&self, job: &Job) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(job)))
            .condition_expression("attribute_not_exists(#key)")
            .expression_attribute_names("#key", JOBS_KEY)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) => match error.into_service_error() {
                aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(_) => Err(StoreError::AlreadyExists),
                other => Err(StoreError::unavailable(other)),
            },
        }
    }

    async fn get(&self, id: JobId) -> Result<Option<Job>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| StoreError::unavailable(error.into_service_error()))?;
        output.item().map(from_item).transpose()
    }

    async fn start(
        &self,
        id: JobId,
        now_ms: u64,
        lease_until_ms: u64,
        final_attempt: bool,
    ) -> Result<Option<Job>, StoreError> {
        let result = self
            .unfinished_update(id)
            .update_expression("SET #state = :running, attempts = attempts + :one, lease_until = :lease, final_attempt = :final, updated_at = :now")
            .expression_attribute_values(":one", item::number(1))
            .expression_attribute_values(":lease", item::number(lease_until_ms))
            .expression_attribute_values(":final", AttributeValue::Bool(final_attempt))
            .expression_attribute_values(":now", item::number(now_ms))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(output) => output.attributes().map(from_item).transpose(),
            Err(error) => match error.into_service_error() {
                // Final already, or missing: report it as it is.
                UpdateItemError::ConditionalCheckFailedException(_) => self.get(id).await,
                other => Err(StoreError::unavailable(other)),
            },
        }
    }

    async fn finish(&self, id: JobId, outcome: &JobState, now_ms: u64) -> Result<bool, StoreError> {
        let update = self
            .unfinished_update(id)
            .expression_attribute_values(":now", item::number(now_ms));
        let update = match outcome {
            JobState::Done { outputs } => update
                .update_expression("SET #state = :done, outputs = :outputs, updated_at = :now")
                .expression_attribute_values(":done", AttributeValue::S("done".into()))
                .expression_attribute_values(":outputs", json(outputs)),
            JobState::Failed { reason } => update
                .update_expression("SET #state = :failed, reason = :reason, updated_at = :now")
                .expression_attribute_values(":failed", AttributeValue::S("failed".into()))
                .expression_attribute_values(":reason", AttributeValue::S(reason.clone())),
            JobState::Queued | JobState::Running { .. } => {
                unreachable!("jobs finish as done or failed")
            }
        };
        match update.send().await {
            Ok(_) => Ok(true),
            Err(error) => match error.into_service_error() {
                UpdateItemError::ConditionalCheckFailedException(_) => Ok(false),
                other => Err(StoreError::unavailable(other)),
            },
        }
    }
}

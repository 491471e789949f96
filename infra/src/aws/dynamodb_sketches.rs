//! The `Sketches` port on a DynamoDB table keyed by `day`: each item holds
//! one UTC day's sketch of its active users (`registers`, 16 KiB), a
//! `version`, and an `expires_at` TTL a month on.
//!
//! A merge reads the day's item strongly, merges in memory and writes it
//! back only if its version is still the one read, trying again when
//! another instance merged in between: no instance's users are lost, and a
//! merge repeated after a timeout adds nothing (a union is idempotent).
//! Instances merge every few seconds, not per request, so the day's item
//! takes a few writes a second however many users are active.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use millions_core::activity::{Sketch, Sketches};
use millions_core::StoreError;

use super::item::{self, Item};
use super::tables::{EXPIRES_AT, SKETCHES_KEY};

/// Merges tried before giving up while other instances keep winning.
const ATTEMPTS: u32 = 16;

/// How long a day's sketch is kept, in seconds after the day starts.
const KEPT_SECS: u64 = 31 * 86_400;

#[derive(Clone)]
pub struct DynamoSketches {
    client: Client,
    table: String,
}

impl DynamoSketches {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The day's sketch and version as stored (version 0: none yet).
    async fn read(&self, day: u32) -> Result<(Sketch, u64), StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(day)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| StoreError::unavailable(error.into_service_error()))?;
        let Some(found) = output.item() else {
            return Ok((Sketch::default(), 0));
        };
        let sketch = match found.get("registers") {
            Some(AttributeValue::B(blob)) => Sketch::from_bytes(blob.as_ref()),
            _ => None,
        }
        .ok_or(item::malformed("registers"))?;
        Ok((sketch, item::get_number(found, "version")?))
    }
}

fn key(day: u32) -> Item {
    HashMap::from([(SKETCHES_KEY.to_owned(), item::number(u64::from(day)))])
}

#[async_trait]
impl Sketches for DynamoSketches {
    async fn merge(&self, day: u32, sketch: &Sketch) -> Result<Sketch, StoreError> {
        for _ in 0..ATTEMPTS {
            let (mut union, version) = self.read(day).await?;
            let before = union.clone();
            union.merge(sketch);
            if union == before {
                return Ok(union);
            }
            let mut written = key(day);
            written.insert(
                "registers".to_owned(),
                AttributeValue::B(Blob::new(union.as_bytes())),
            );
            written.insert("version".to_owned(), item::number(version + 1));
            written.insert(
                EXPIRES_AT.to_owned(),
                item::number(u64::from(day) * 86_400 + KEPT_SECS),
            );
            let put = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(written));
            let put = if version == 0 {
                put.condition_expression("attribute_not_exists(#day)")
                    .expression_attribute_names("#day", SKETCHES_KEY)
            } else {
                put.condition_expression("version = :read")
                    .expression_attribute_values(":read", item::number(version))
            };
            match put.send().await {
                Ok(_) => return Ok(union),
                Err(SdkError::ServiceError(error))
                    if matches!(
                        error.err(),
                        PutItemError::ConditionalCheckFailedException(_)
                    ) => {}
                Err(error) => return Err(StoreError::unavailable(error.into_service_error())),
            }
        }
        Err(StoreError::unavailable(Contended))
    }
}

/// Other instances merged into the day's sketch before every attempt.
#[derive(Debug, thiserror::Error)]
#[error("the day's sketch kept changing under {ATTEMPTS} merges")]
struct Contended;

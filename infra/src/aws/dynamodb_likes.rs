//! The `Likes` port on DynamoDB: one table whose partition key is a part of
//! a count (`{liked}#{part}`) and whose sort key is the liker's id, the
//! part's counter being the item with liker 0 (no user has that id).
//!
//! A like puts its item (only if absent) and adds one to its part's counter
//! in one `TransactWriteItems`, so a retried like counts once; an unlike
//! deletes it (only if present) and takes one away. Both items share a
//! partition key, and the parts of one profile's count have different
//! partition keys, so a celebrity's likes spread over K partitions (each
//! takes 1,000 writes a second) instead of queueing on one. Concurrent
//! transactions on one counter can cancel each other (`TransactionConflict`):
//! nothing was written then, and the write is tried again after a short,
//! jittered wait. A count is one `BatchGetItem` of the K counters.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, KeysAndAttributes, Put, TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;
use millions_core::{CounterParts, Likes, StoreError, UserId};

use super::item::{self, Item};
use super::tables::{LIKES_KEY, LIKES_SORT_KEY};
use super::transactions::{cancellation_reasons, conflicted, failed, TransactionCanceled};

/// The liker id of a part's counter item.
const COUNTER: u64 = 0;

/// How many times a write that lost a transaction conflict is tried in all.
const ATTEMPTS: u32 = 8;

#[derive(Clone)]
pub struct DynamoLikes {
    client: Client,
    table: String,
    parts: CounterParts,
}

impl DynamoLikes {
    /// `parts` must stay the same for the table's whole life.
    pub fn new(client: Client, table: impl Into<String>, parts: CounterParts) -> Self {
        Self {
            client,
            table: table.into(),
            parts,
        }
    }

    fn key(part: &str, liker: u64) -> Item {
        HashMap::from([
            (LIKES_KEY.to_owned(), AttributeValue::S(part.to_owned())),
            (LIKES_SORT_KEY.to_owned(), item::number(liker)),
        ])
    }

    /// The like's item written (or removed) with `write`, and its part's
    /// counter changed by `change`, in one transaction: `false` if the
    /// like's condition failed (nothing changed).
    async fn write_with_count(
        &self,
        write: impl Fn() -> Result<TransactWriteItem, StoreError>,
        part: &str,
        change: i64,
    ) -> Result<bool, StoreError> {
        let count = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(part, COUNTER)))
            .update_expression("ADD #count :change")
            .expression_attribute_names("#count", "count")
            .expression_attribute_values(":change", AttributeValue::N(change.to_string()))
            .build()
            .map_err(StoreError::unavailable)?;
        let count = TransactWriteItem::builder().update(count).build();
        for attempt in 1..=ATTEMPTS {
            let result = self
                .client
                .transact_write_items()
                .transact_items(write()?)
                .transact_items(count.clone())
                .send()
                .await;
            let reasons = match result {
                Ok(_) => return Ok(true),
                Err(error) => cancellation_reasons(error)?,
            };
            if failed(&reasons, 0) {
                return Ok(false);
            }
            if !conflicted(&reasons) || attempt == ATTEMPTS {
                return Err(StoreError::unavailable(TransactionCanceled(reasons)));
            }
            tokio::time::sleep(backoff(attempt)).await;
        }
        unreachable!("the last attempt returns")
    }
}

/// A wait that doubles per attempt from about 5 ms, with full jitter, so
/// writers that conflicted once do not meet again.
fn backoff(attempt: u32) -> Duration {
    let ceiling_ms = 5u64 << attempt.min(6);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| u64::from(since.subsec_nanos()));
    Duration::from_millis(1 + nanos % ceiling_ms)
}

#[async_trait]
impl Likes for DynamoLikes {
    async fn like(&self, liked: UserId, liker: UserId, at_ms: u64) -> Result<bool, StoreError> {
        let part = CounterParts::part_key(liked, self.parts.part_of(liker));
        let put = || {
            let mut like = Self::key(&part, liker.get());
            like.insert("liked_at".to_owned(), item::number(at_ms));
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(like))
                .condition_expression("attribute_not_exists(#part)")
                .expression_attribute_names("#part", LIKES_KEY)
                .build()
                .map_err(StoreError::unavailable)?;
            Ok(TransactWriteItem::builder().put(put).build())
        };
        self.write_with_count(put, &part, 1).await
    }

    async fn unlike(&self, liked: UserId, liker: UserId) -> Result<bool, StoreError> {
        let part = CounterParts::part_key(liked, self.parts.part_of(liker));
        let delete = || {
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(Self::key(&part, liker.get())))
                .condition_expression("attribute_exists(#part)")
                .expression_attribute_names("#part", LIKES_KEY)
                .build()
                .map_err(StoreError::unavailable)?;
            Ok(TransactWriteItem::builder().delete(delete).build())
        };
        self.write_with_count(delete, &part, -1).await
    }

    async fn likes(&self, liked: UserId, liker: UserId) -> Result<bool, StoreError> {
        let part = CounterParts::part_key(liked, self.parts.part_of(liker));
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(&part, liker.get())))
            .send()
            .await
            .map_err(|error| StoreError::unavailable(error.into_service_error()))?;
        Ok(output.item().is_some())
    }

    async fn count(&self, liked: UserId) -> Result<u64, StoreError> {
        let keys: Vec<Item> = self
            .parts
            .part_keys(liked)
            .map(|part| Self::key(&part, COUNTER))
            .collect();
        let mut wanted = HashMap::from([(
            self.table.clone(),
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .projection_expression("#count")
                .expression_attribute_names("#count", "count")
                .build()
                .map_err(StoreError::unavailable)?,
        )]);
        let mut total: i64 = 0;
        // BatchGetItem may answer part of a batch (`UnprocessedKeys`) under
        // load; what is left is asked again, as the SDK documents.
        for attempt in 1..=ATTEMPTS {
            let output = self
                .client
                .batch_get_item()
                .set_request_items(Some(wanted))
                .send()
                .await
                .map_err(|error| StoreError::unavailable(error.into_service_error()))?;
            for counter in output
                .responses()
                .and_then(|r| r.get(&self.table))
                .into_iter()
                .flatten()
            {
                total += signed_count(counter)?;
            }
            wanted = output.unprocessed_keys().cloned().unwrap_or_default();
            if wanted.is_empty() {
                return Ok(u64::try_from(total).unwrap_or(0));
            }
            tokio::time::sleep(backoff(attempt)).await;
        }
        Err(StoreError::unavailable(Unanswered))
    }
}

/// A counter's value: counters go down with unlikes, so they are read signed.
fn signed_count(counter: &Item) -> Result<i64, StoreError> {
    match counter.get("count") {
        Some(AttributeValue::N(text)) => text.parse().map_err(|_| item::malformed("count")),
        _ => Err(item::malformed("count")),
    }
}

/// DynamoDB left some counters unread after every retry.
#[derive(Debug, thiserror::Error)]
#[error("DynamoDB left part of a like count unread after {ATTEMPTS} attempts")]
struct Unanswered;

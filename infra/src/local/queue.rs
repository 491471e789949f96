//! The `JobQueue` port on the embedded database: SQS's semantics, durable.
//!
//! A message waits in `ready`, keyed by the time it becomes visible. Receiving
//! it bumps its receive count and pushes its visibility out by the timeout,
//! in one commit; a worker that dies simply never deletes it, and it is
//! delivered again when the timeout lapses, also after a restart of the whole
//! stack. A message that would be received more than `max_receives` times
//! moves to the dead-letter table instead, as SQS's redrive policy does.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use millions_core::photos::{Delivery, JobQueue, QueueDepth, QueueSettings};
use millions_core::{Clock, StoreError};
use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use super::database::{unavailable, EmbeddedDatabase};
use super::records::{self, Format};

const MESSAGES: TableDefinition<u64, &[u8]> = TableDefinition::new("queue_messages");
/// (visible at, message id): the order in which messages are handed out.
const READY: TableDefinition<(u64, u64), ()> = TableDefinition::new("queue_ready");
const DEAD: TableDefinition<u64, &[u8]> = TableDefinition::new("queue_dead_letters");
const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("queue_counters");
/// 2 added `trace`; messages written in format 1 are still read.
const MESSAGE_FORMAT: Format = Format(2);
const MESSAGE_FORMAT_BEFORE_TRACES: Format = Format(1);
/// How often a waiting receive looks again for messages whose visibility
/// timeout has lapsed (new messages wake it at once).
const POLL: Duration = Duration::from_millis(50);

#[derive(Debug, Serialize, Deserialize)]
struct Message {
    body: String,
    receive_count: u32,
    visible_at_ms: u64,
    /// The `traceparent` it was sent with.
    trace: Option<String>,
}

/// A message as format 1 wrote it.
#[derive(Debug, Deserialize)]
struct MessageBeforeTraces {
    body: String,
    receive_count: u32,
    visible_at_ms: u64,
}

fn decode_message(bytes: &[u8]) -> Result<Message, StoreError> {
    if bytes.first() == Some(&MESSAGE_FORMAT_BEFORE_TRACES.0) {
        let old: MessageBeforeTraces = records::decode(MESSAGE_FORMAT_BEFORE_TRACES, bytes)?;
        return Ok(Message {
            body: old.body,
            receive_count: old.receive_count,
            visible_at_ms: old.visible_at_ms,
            trace: None,
        });
    }
    records::decode(MESSAGE_FORMAT, bytes)
}

/// How many messages are where.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueDepths {
    /// Visible, waiting for a worker.
    pub ready: u64,
    /// Received and not yet deleted or timed out.
    pub in_flight: u64,
    pub dead: u64,
    /// How long the oldest visible message has waited since it became
    /// visible (sent, or back after a failed attempt), in milliseconds; 0
    /// with none waiting. The local counterpart of SQS's
    /// `ApproximateAgeOfOldestMessage`.
    pub oldest_waiting_ms: u64,
}

#[derive(Clone)]
pub struct EmbeddedQueue {
    db: EmbeddedDatabase,
    clock: Arc<dyn Clock>,
    settings: QueueSettings,
    sent: Arc<Notify>,
}

impl EmbeddedQueue {
    pub fn new(
        db: EmbeddedDatabase,
        clock: Arc<dyn Clock>,
        settings: QueueSettings,
    ) -> Result<Self, StoreError> {
        db.create_table(MESSAGES)?;
        db.create_table(READY)?;
        db.create_table(DEAD)?;
        db.create_table(COUNTERS)?;
        Ok(Self {
            db,
            clock,
            settings,
            sent: Arc::new(Notify::new()),
        })
    }

    pub fn settings(&self) -> QueueSettings {
        self.settings
    }

    pub fn depths(&self) -> Result<QueueDepths, StoreError> {
        let now = self.clock.now_ms();
        let txn = self.db.handle().begin_read().map_err(unavailable)?;
        let ready = txn.open_table(READY).map_err(unavailable)?;
        let total = ready.len().map_err(unavailable)?;
        // Keyed by the time each becomes visible: the first is the oldest.
        let mut waiting = ready.range(..=(now, u64::MAX)).map_err(unavailable)?;
        let (visible, oldest_waiting_ms) = match waiting.next() {
            Some(first) => {
                let (visible_at, _) = first.map_err(unavailable)?.0.value();
                (1 + waiting.count() as u64, now.saturating_sub(visible_at))
            }
            None => (0, 0),
        };
        let dead = txn
            .open_table(DEAD)
            .map_err(unavailable)?
            .len()
            .map_err(unavailable)?;
        Ok(QueueDepths {
            ready: visible,
            in_flight: total - visible,
            dead,
            oldest_waiting_ms,
        })
    }

    fn any_due(&self, now: u64) -> Result<bool, StoreError> {
        let txn = self.db.handle().begin_read().map_err(unavailable)?;
        let ready = txn.open_table(READY).map_err(unavailable)?;
        Ok(ready
            .range(..=(now, u64::MAX))
            .map_err(unavailable)?
            .next()
            .is_some())
    }

    async fn receive_due(&self, max: usize) -> Result<Vec<Delivery>, StoreError> {
        let now = self.clock.now_ms();
        if !self.any_due(now)? {
            return Ok(Vec::new());
        }
        let settings = self.settings;
        self.db
            .write(move |db| {
                let txn = db.begin_write().map_err(unavailable)?;
                let mut deliveries = Vec::new();
                {
                    let mut ready = txn.open_table(READY).map_err(unavailable)?;
                    let mut messages = txn.open_table(MESSAGES).map_err(unavailable)?;
                    let mut dead = txn.open_table(DEAD).map_err(unavailable)?;
                    while deliveries.len() < max {
                        let Some((visible_at, id)) = ready
                            .range(..=(now, u64::MAX))
                            .map_err(unavailable)?
                            .next()
                            .transpose()
                            .map_err(unavailable)?
                            .map(|(key, _)| key.value())
                        else {
                            break;
                        };
                        ready.remove((visible_at, id)).map_err(unavailable)?;
                        let Some(mut message) = messages
                            .get(id)
                            .map_err(unavailable)?
                            .map(|bytes| decode_message(bytes.value()))
                            .transpose()?
                        else {
                            continue;
                        };
                        if message.receive_count >= settings.max_receives {
                            messages.remove(id).map_err(unavailable)?;
                            dead.insert(id, message.body.as_bytes())
                                .map_err(unavailable)?;
                            tracing::warn!(
                                message = id,
                                receives = message.receive_count,
                                "a message moved to the dead-letter queue"
                            );
                            continue;
                        }
                        message.receive_count += 1;
                        message.visible_at_ms =
                            now + settings.visibility_timeout.as_millis() as u64;
                        ready
                            .insert((message.visible_at_ms, id), ())
                            .map_err(unavailable)?;
                        messages
                            .insert(id, records::encode(MESSAGE_FORMAT, &message).as_slice())
                            .map_err(unavailable)?;
                        deliveries.push(Delivery {
                            receipt: format!("{id}.{}", message.receive_count),
                            receive_count: message.receive_count,
                            body: message.body,
                            trace: message.trace,
                        });
                    }
                }
                txn.commit().map_err(unavailable)?;
                Ok(deliveries)
            })
            .await
    }
}

#[async_trait]
impl JobQueue for EmbeddedQueue {
    async fn send(&self, body: &str, trace: Option<&str>) -> Result<(), StoreError> {
        let message = Message {
            body: body.to_owned(),
            receive_count: 0,
            visible_at_ms: self.clock.now_ms(),
            trace: trace.map(str::to_owned),
        };
        self.db
            .write(move |db| {
                let txn = db.begin_write().map_err(unavailable)?;
                {
                    let mut counters = txn.open_table(COUNTERS).map_err(unavailable)?;
                    let id = counters
                        .get("next_id")
                        .map_err(unavailable)?
                        .map_or(1, |id| id.value());
                    counters.insert("next_id", id + 1).map_err(unavailable)?;
                    let mut messages = txn.open_table(MESSAGES).map_err(unavailable)?;
                    messages
                        .insert(id, records::encode(MESSAGE_FORMAT, &message).as_slice())
                        .map_err(unavailable)?;
                    let mut ready = txn.open_table(READY).map_err(unavailable)?;
                    ready
                        .insert((message.visible_at_ms, id), ())
                        .map_err(unavailable)?;
                }
                txn.commit().map_err(unavailable)
            })
            .await?;
        self.sent.notify_waiters();
        Ok(())
    }

    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Delivery>, StoreError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Registered before looking, so a send in between is not missed.
            let sent = self.sent.notified();
            let deliveries = self.receive_due(max).await?;
            let now = tokio::time::Instant::now();
            if !deliveries.is_empty() || now >= deadline {
                return Ok(deliveries);
            }
            let _ = tokio::time::timeout((deadline - now).min(POLL), sent).await;
        }
    }

    async fn delete(&self, receipt: &str) -> Result<(), StoreError> {
        let Some((id, count)) = receipt
            .split_once('.')
            .and_then(|(id, count)| Some((id.parse::<u64>().ok()?, count.parse::<u32>().ok()?)))
        else {
            return Err(StoreError::NotFound);
        };
        self.db
            .write(move |db| {
                let txn = db.begin_write().map_err(unavailable)?;
                {
                    let mut messages = txn.open_table(MESSAGES).map_err(unavailable)?;
                    let current = messages
                        .get(id)
                        .map_err(unavailable)?
                        .map(|bytes| decode_message(bytes.value()))
                        .transpose()?;
                    // A receipt from an earlier delivery no longer holds the
                    // message; the later delivery will settle it.
                    if let Some(message) = current.filter(|message| message.receive_count == count)
                    {
                        messages.remove(id).map_err(unavailable)?;
                        let mut ready = txn.open_table(READY).map_err(unavailable)?;
                        ready
                            .remove((message.visible_at_ms, id))
                            .map_err(unavailable)?;
                    }
                }
                txn.commit().map_err(unavailable)
            })
            .await
    }

    async fn backlog(&self) -> Result<u64, StoreError> {
        Ok(self.depths()?.ready)
    }

    async fn depth(&self) -> Result<QueueDepth, StoreError> {
        let depths = self.depths()?;
        Ok(QueueDepth {
            waiting: depths.ready,
            dead_letters: depths.dead,
            oldest_waiting_ms: Some(depths.oldest_waiting_ms),
        })
    }

    async fn dead_letters(&self) -> Result<Vec<String>, StoreError> {
        let txn = self.db.handle().begin_read().map_err(unavailable)?;
        let dead = txn.open_table(DEAD).map_err(unavailable)?;
        dead.iter()
            .map_err(unavailable)?
            .map(|entry| {
                let (_, body) = entry.map_err(unavailable)?;
                Ok(String::from_utf8_lossy(body.value()).into_owned())
            })
            .collect()
    }
}

//! The local stack's photo workers: what the SQS-triggered Lambda is in the
//! cloud, as a pool that grows with the queue's backlog and shrinks when idle.
//!
//! Each worker takes one message at a time and hands it to the same
//! [`JobRunner`] the Lambda uses. A job that outlives `job_timeout` is
//! abandoned, as Lambda stops a function at its timeout: its message is not
//! deleted, so it is delivered again after the visibility timeout, and after
//! the last allowed delivery it moves to the dead-letter queue.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use millions_core::photos::{job_span, Delivery, JobQueue, JobRunner, RunOutcome};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::Instrument;

/// How often the pool looks at the backlog of the embedded queue (a local
/// read); on SQS each look is a `GetQueueAttributes` call, so the stack
/// passes a slower tick there (see `serve::worker_pool`).
pub const LOCAL_TICK: Duration = Duration::from_millis(250);
pub const REMOTE_TICK: Duration = Duration::from_secs(5);
/// How long an idle worker waits on the queue before asking again.
const RECEIVE_WAIT: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    pub max_workers: usize,
    /// A worker with nothing to do for this long stops.
    pub idle: Duration,
    /// A job running longer than this is abandoned (and redelivered).
    pub job_timeout: Duration,
    /// How often the pool reads the backlog to decide its size.
    pub tick: Duration,
}

/// How many workers run and how many of them hold a job.
#[derive(Default)]
pub struct PoolGauge {
    pub workers: AtomicUsize,
    pub busy: AtomicUsize,
}

pub struct WorkerPool {
    queue: Arc<dyn JobQueue>,
    runner: Arc<JobRunner>,
    settings: PoolSettings,
    gauge: Arc<PoolGauge>,
}

impl WorkerPool {
    pub fn new(queue: Arc<dyn JobQueue>, runner: JobRunner, settings: PoolSettings) -> Self {
        Self {
            queue,
            runner: Arc::new(runner),
            settings,
            gauge: Arc::default(),
        }
    }

    pub fn gauge(&self) -> Arc<PoolGauge> {
        Arc::clone(&self.gauge)
    }

    /// Runs until `stopping` fires, then lets each worker finish its job.
    pub async fn run(self, mut stopping: watch::Receiver<()>) {
        let mut workers = JoinSet::new();
        let mut ticks = tokio::time::interval(self.settings.tick);
        loop {
            tokio::select! {
                _ = stopping.changed() => break,
                _ = ticks.tick() => {}
            }
            while workers.try_join_next().is_some() {}
            let running = self.gauge.workers.load(Ordering::SeqCst);
            let idle = running - self.gauge.busy.load(Ordering::SeqCst);
            let backlog = match self.queue.backlog().await {
                Ok(backlog) => usize::try_from(backlog).unwrap_or(usize::MAX),
                Err(error) => {
                    tracing::warn!(%error, "cannot read the job queue's backlog");
                    continue;
                }
            };
            // Enough workers for the messages no idle worker will take.
            let wanted = backlog
                .saturating_sub(idle)
                .min(self.settings.max_workers - running);
            for _ in 0..wanted {
                self.gauge.workers.fetch_add(1, Ordering::SeqCst);
                let worker = Worker {
                    queue: Arc::clone(&self.queue),
                    runner: Arc::clone(&self.runner),
                    settings: self.settings,
                    gauge: Arc::clone(&self.gauge),
                };
                workers.spawn(worker.run(stopping.clone()));
            }
            if wanted > 0 {
                tracing::debug!(
                    backlog,
                    workers = running + wanted,
                    "photo workers scaled up"
                );
            }
        }
        while workers.join_next().await.is_some() {}
    }
}

struct Worker {
    queue: Arc<dyn JobQueue>,
    runner: Arc<JobRunner>,
    settings: PoolSettings,
    gauge: Arc<PoolGauge>,
}

impl Worker {
    async fn run(self, stopping: watch::Receiver<()>) {
        let mut idle_since = tokio::time::Instant::now();
        while !stopping.has_changed().unwrap_or(true) {
            let deliveries = match self.queue.receive(1, RECEIVE_WAIT).await {
                Ok(deliveries) => deliveries,
                Err(error) => {
                    tracing::warn!(%error, "receiving from the job queue failed");
                    tokio::time::sleep(RECEIVE_WAIT).await;
                    Vec::new()
                }
            };
            if deliveries.is_empty() {
                if idle_since.elapsed() >= self.settings.idle {
                    break;
                }
                continue;
            }
            for delivery in deliveries {
                self.gauge.busy.fetch_add(1, Ordering::SeqCst);
                self.handle(delivery).await;
                self.gauge.busy.fetch_sub(1, Ordering::SeqCst);
            }
            idle_since = tokio::time::Instant::now();
        }
        self.gauge.workers.fetch_sub(1, Ordering::SeqCst);
    }

    async fn handle(&self, delivery: Delivery) {
        let span = job_span(delivery.trace.as_deref());
        let run = self.runner.run(&delivery.body, delivery.receive_count);
        let outcome = match tokio::time::timeout(self.settings.job_timeout, run)
            .instrument(span)
            .await
        {
            Ok(outcome) => outcome,
            Err(_) => {
                let reason = format!(
                    "the job ran longer than the {} s timeout",
                    self.settings.job_timeout.as_secs_f32()
                );
                self.runner
                    .abandon(&delivery.body, delivery.receive_count, reason)
                    .await
            }
        };
        match outcome {
            RunOutcome::Finished => {
                if let Err(error) = self.queue.delete(&delivery.receipt).await {
                    // The job is final; a redelivery will find it so and delete it.
                    tracing::warn!(%error, "deleting a finished message failed");
                }
            }
            RunOutcome::Retry(reason) => {
                tracing::info!(receive_count = delivery.receive_count, %reason, "job message left for redelivery");
            }
        }
    }
}

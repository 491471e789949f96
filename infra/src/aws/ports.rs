//! The [`Ports`] of a cloud deployment: DynamoDB tables, the photo bucket and
//! the job queue, from one AWS config.

use std::sync::Arc;

use millions_core::photos::{PhotoPorts, QueueSettings};
use millions_core::{Clock, CounterParts, Ports, StoreError};

use super::{
    clients, create_queues_if_missing, create_tables_if_missing, find_queues, DynamoJobs,
    DynamoLikes, DynamoRateLimits, DynamoSessions, DynamoSketches, DynamoUsers, QueueNames,
    S3Blobs, SqsQueue, TableNames,
};
use crate::{Argon2Passwords, OsRandomness};

/// Everything a deployment's functions are pointed at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    pub tables: TableNames,
    pub bucket: String,
    pub queue_url: String,
    pub dead_letter_url: String,
}

/// An environment variable a function needs is missing.
#[derive(Debug, thiserror::Error)]
#[error("the environment variable {0} is not set")]
pub struct MissingSetting(pub &'static str);

impl Deployment {
    /// Reads the table names (see [`TableNames::from_env`]), `PHOTOS_BUCKET`,
    /// `JOBS_QUEUE_URL` and `JOBS_DLQ_URL`, as Terraform sets them.
    pub fn from_env() -> Result<Self, MissingSetting> {
        let var = |name: &'static str| std::env::var(name).map_err(|_| MissingSetting(name));
        Ok(Self {
            tables: TableNames::from_env().map_err(|missing| MissingSetting(missing.0))?,
            bucket: var("PHOTOS_BUCKET")?,
            queue_url: var("JOBS_QUEUE_URL")?,
            dead_letter_url: var("JOBS_DLQ_URL")?,
        })
    }

    /// Creates, or finds, the tables, bucket and queues named after `prefix`
    /// (for emulators and development accounts; Terraform does it in the cloud).
    pub async fn provision(
        config: &aws_config::SdkConfig,
        prefix: &str,
        queue: QueueSettings,
    ) -> Result<Self, StoreError> {
        let tables = TableNames::with_prefix(prefix);
        create_tables_if_missing(&clients::dynamodb(config), &tables).await?;
        let bucket = format!("{prefix}-photos");
        let s3 = clients::s3(config);
        if s3.head_bucket().bucket(&bucket).send().await.is_err() {
            s3.create_bucket()
                .bucket(&bucket)
                .send()
                .await
                .map_err(|error| StoreError::unavailable(error.into_service_error()))?;
        }
        let sqs = clients::sqs(config);
        let queues =
            create_queues_if_missing(&sqs, &QueueNames::with_prefix(prefix), queue).await?;
        Ok(Self {
            tables,
            bucket,
            queue_url: queues.queue_url().to_owned(),
            dead_letter_url: queues.dead_letter_url().to_owned(),
        })
    }

    /// The existing resources named after `prefix`, as `provision` makes
    /// them: the queues are looked up by name (`GetQueueUrl`), which fails
    /// clearly when they do not exist.
    pub async fn find(config: &aws_config::SdkConfig, prefix: &str) -> Result<Self, StoreError> {
        let sqs = clients::sqs(config);
        let queues = find_queues(&sqs, &QueueNames::with_prefix(prefix)).await?;
        Ok(Self {
            tables: TableNames::with_prefix(prefix),
            bucket: format!("{prefix}-photos"),
            queue_url: queues.queue_url().to_owned(),
            dead_letter_url: queues.dead_letter_url().to_owned(),
        })
    }

    pub fn photo_ports(&self, config: &aws_config::SdkConfig) -> PhotoPorts {
        PhotoPorts {
            blobs: Arc::new(S3Blobs::new(clients::s3(config), &self.bucket)),
            jobs: Arc::new(DynamoJobs::new(
                clients::dynamodb(config),
                &self.tables.jobs,
            )),
            queue: Arc::new(SqsQueue::new(
                clients::sqs(config),
                &self.queue_url,
                &self.dead_letter_url,
            )),
            inspector: Arc::new(millions_imaging::ImageTools::default()),
        }
    }

    pub fn ports(&self, config: &aws_config::SdkConfig, clock: Arc<dyn Clock>) -> Ports {
        let client = clients::dynamodb(config);
        let users = Arc::new(DynamoUsers::new(client.clone(), &self.tables));
        crate::measured(Ports {
            likes: Arc::new(DynamoLikes::new(
                client.clone(),
                &self.tables.likes,
                CounterParts::DEFAULT,
            )),
            users: users.clone(),
            accounts: users,
            sessions: Arc::new(DynamoSessions::new(client.clone(), &self.tables.sessions)),
            limits: Arc::new(DynamoRateLimits::new(
                client.clone(),
                &self.tables.rate_limits,
            )),
            sketches: Arc::new(DynamoSketches::new(client, &self.tables.activity)),
            passwords: Arc::new(Argon2Passwords::new()),
            random: Arc::new(OsRandomness),
            clock,
            photos: self.photo_ports(config),
        })
    }
}

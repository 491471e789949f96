//! The DynamoDB tables and their keys, named once for the adapters, the
//! local stack and the Lambda entry points. Terraform creates the same tables
//! in the cloud (`terraform/modules/tables`); [`create_tables_if_missing`]
//! mirrors those definitions for emulators and development accounts.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::create_table::CreateTableError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;
use millions_core::StoreError;

/// Partition key of the users table.
pub const USERS_KEY: &str = "user_id";
/// Partition key of the logins table.
pub const LOGINS_KEY: &str = "email";
/// Partition key of the sessions table.
pub const SESSIONS_KEY: &str = "token_hash";
/// Partition key of the rate-limit counters table.
pub const COUNTERS_KEY: &str = "counter";
/// Partition key of the photo jobs table.
pub const JOBS_KEY: &str = "job_id";
/// Partition key of the likes table: a part of a count, `{liked}#{part}`.
pub const LIKES_KEY: &str = "part";
/// Sort key of the likes table: the liker's id (0 for the part's counter).
pub const LIKES_SORT_KEY: &str = "liker";
/// Partition key of the active-user sketches table: a UTC day since the epoch.
pub const SKETCHES_KEY: &str = "day";
/// The TTL attribute (Unix seconds) of sessions and counters.
pub const EXPIRES_AT: &str = "expires_at";

/// The names of the tables one deployment uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableNames {
    pub users: String,
    pub logins: String,
    pub sessions: String,
    pub rate_limits: String,
    pub jobs: String,
    pub likes: String,
    pub activity: String,
}

/// An environment variable that names a table is missing.
#[derive(Debug, thiserror::Error)]
#[error("the environment variable {0} (a DynamoDB table name) is not set")]
pub struct MissingTableName(pub &'static str);

impl TableNames {
    /// `{prefix}-users`, `{prefix}-logins`, `{prefix}-sessions`,
    /// `{prefix}-rate-limits`, `{prefix}-jobs`, `{prefix}-likes`, `{prefix}-activity`.
    pub fn with_prefix(prefix: &str) -> Self {
        Self {
            users: format!("{prefix}-users"),
            logins: format!("{prefix}-logins"),
            sessions: format!("{prefix}-sessions"),
            rate_limits: format!("{prefix}-rate-limits"),
            jobs: format!("{prefix}-jobs"),
            likes: format!("{prefix}-likes"),
            activity: format!("{prefix}-activity"),
        }
    }

    /// Reads `USERS_TABLE`, `LOGINS_TABLE`, `SESSIONS_TABLE`,
    /// `RATE_LIMITS_TABLE`, `JOBS_TABLE`, `LIKES_TABLE` and `ACTIVITY_TABLE`, as Terraform sets them on each
    /// function.
    pub fn from_env() -> Result<Self, MissingTableName> {
        let var = |name: &'static str| std::env::var(name).map_err(|_| MissingTableName(name));
        Ok(Self {
            users: var("USERS_TABLE")?,
            logins: var("LOGINS_TABLE")?,
            sessions: var("SESSIONS_TABLE")?,
            rate_limits: var("RATE_LIMITS_TABLE")?,
            jobs: var("JOBS_TABLE")?,
            likes: var("LIKES_TABLE")?,
            activity: var("ACTIVITY_TABLE")?,
        })
    }
}

/// Creates every table that does not exist yet, on-demand, with TTL on the
/// expiring ones.
pub async fn create_tables_if_missing(
    client: &Client,
    names: &TableNames,
) -> Result<(), StoreError> {
    create_table(
        client,
        &names.users,
        USERS_KEY,
        ScalarAttributeType::N,
        false,
    )
    .await?;
    create_table(
        client,
        &names.logins,
        LOGINS_KEY,
        ScalarAttributeType::S,
        false,
    )
    .await?;
    create_table(
        client,
        &names.sessions,
        SESSIONS_KEY,
        ScalarAttributeType::S,
        true,
    )
    .await?;
    create_table(
        client,
        &names.rate_limits,
        COUNTERS_KEY,
        ScalarAttributeType::S,
        true,
    )
    .await?;
    create_table(client, &names.jobs, JOBS_KEY, ScalarAttributeType::S, true).await?;
    create_likes_table(client, &names.likes).await?;
    create_table(
        client,
        &names.activity,
        SKETCHES_KEY,
        ScalarAttributeType::N,
        true,
    )
    .await
}

/// The likes table: a part of a count and a liker id, no TTL.
async fn create_likes_table(client: &Client, name: &str) -> Result<(), StoreError> {
    let attribute = |name: &str, kind| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(kind)
            .build()
            .map_err(StoreError::unavailable)
    };
    let key = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .map_err(StoreError::unavailable)
    };
    let result = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute(LIKES_KEY, ScalarAttributeType::S)?)
        .attribute_definitions(attribute(LIKES_SORT_KEY, ScalarAttributeType::N)?)
        .key_schema(key(LIKES_KEY, KeyType::Hash)?)
        .key_schema(key(LIKES_SORT_KEY, KeyType::Range)?)
        .send()
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(SdkError::ServiceError(error))
            if matches!(error.err(), CreateTableError::ResourceInUseException(_)) =>
        {
            Ok(())
        }
        Err(error) => Err(StoreError::unavailable(error)),
    }
}

async fn create_table(
    client: &Client,
    name: &str,
    key: &str,
    key_type: ScalarAttributeType,
    expires: bool,
) -> Result<(), StoreError> {
    let result = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(key)
                .attribute_type(key_type)
                .build()
                .map_err(StoreError::unavailable)?,
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(key)
                .key_type(KeyType::Hash)
                .build()
                .map_err(StoreError::unavailable)?,
        )
        .send()
        .await;
    match result {
        Ok(_) => {}
        Err(SdkError::ServiceError(error))
            if matches!(error.err(), CreateTableError::ResourceInUseException(_)) =>
        {
            return Ok(());
        }
        Err(error) => return Err(StoreError::unavailable(error)),
    }
    if expires {
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(EXPIRES_AT)
                    .enabled(true)
                    .build()
                    .map_err(StoreError::unavailable)?,
            )
            .send()
            .await
            .map_err(|error| StoreError::unavailable(error.into_service_error()))?;
    }
    Ok(())
}

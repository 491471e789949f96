//! The `Users` port on a DynamoDB table whose partition key is `user_id`.
//!
//! Each write carries a condition expression, so DynamoDB itself rejects a
//! write computed from a stale read; `ConditionalCheckFailed` is mapped to a
//! typed [`StoreError`] (and from there to HTTP 412 or a retry).

use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::create_table::CreateTableError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType,
    ReturnValuesOnConditionCheckFailure, ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;
use millions_core::{Consistency, StoreError, StoredUser, UserId, Users, Version};

use super::item::{self, Item};

/// The partition (shard) key of the users table.
pub const USERS_PARTITION_KEY: &str = item::USER_ID;

/// Users in a DynamoDB table.
#[derive(Clone)]
pub struct DynamoUsers {
    client: Client,
    table: String,
}

impl DynamoUsers {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Creates the table if it does not exist (on-demand capacity, `user_id`
    /// partition key), for the local stack and tests. In the cloud, Terraform
    /// owns the table; this mirrors its definition.
    pub async fn create_table_if_missing(&self) -> Result<(), StoreError> {
        let result = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(USERS_PARTITION_KEY)
                    .attribute_type(ScalarAttributeType::N)
                    .build()
                    .map_err(StoreError::unavailable)?,
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(USERS_PARTITION_KEY)
                    .key_type(KeyType::Hash)
                    .build()
                    .map_err(StoreError::unavailable)?,
            )
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

    /// Puts `item` if `condition` holds; on failure, tells a missing item from
    /// one at another version, using the old item DynamoDB returns.
    async fn conditional_put(&self, item: Item, expected: Version) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("#version = :expected")
            .expression_attribute_names("#version", item::VERSION)
            .expression_attribute_values(":expected", item::number(expected.0))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) => match error.into_service_error() {
                aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(failed) => {
                    Err(mismatch(failed.item()))
                }
                other => Err(StoreError::unavailable(other)),
            },
        }
    }
}

/// What a failed `version = :expected` condition means, from the old item.
fn mismatch(old_item: Option<&Item>) -> StoreError {
    match old_item {
        None => StoreError::NotFound,
        Some(item) => match item::version_of(item) {
            Ok(current) => StoreError::VersionMismatch { current },
            Err(error) => error,
        },
    }
}

#[async_trait]
impl Users for DynamoUsers {
    async fn insert(&self, user: &StoredUser) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item::to_item(user)))
            .condition_expression("attribute_not_exists(#id)")
            .expression_attribute_names("#id", item::USER_ID)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) => match error.into_service_error() {
                aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(_) => {
                    Err(StoreError::AlreadyExists)
                }
                other => Err(StoreError::unavailable(other)),
            },
        }
    }

    async fn get(
        &self,
        id: UserId,
        consistency: Consistency,
    ) -> Result<Option<StoredUser>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(item::key(id)))
            .consistent_read(consistency == Consistency::Strong)
            .send()
            .await
            .map_err(|error| StoreError::unavailable(error.into_service_error()))?;
        output.item().map(item::from_item).transpose()
    }

    async fn replace(&self, user: &StoredUser, expected: Version) -> Result<(), StoreError> {
        self.conditional_put(item::to_item(user), expected).await
    }

    async fn delete(&self, id: UserId, expected: Version) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(item::key(id)))
            .condition_expression("#version = :expected")
            .expression_attribute_names("#version", item::VERSION)
            .expression_attribute_values(":expected", item::number(expected.0))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) => match error.into_service_error() {
                aws_sdk_dynamodb::operation::delete_item::DeleteItemError::ConditionalCheckFailedException(failed) => {
                    Err(mismatch(failed.item()))
                }
                other => Err(StoreError::unavailable(other)),
            },
        }
    }
}

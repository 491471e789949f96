//! The `Users` port on a DynamoDB table whose partition key is `user_id`.
//!
//! Each write carries a condition expression, so DynamoDB itself rejects a
//! write computed from a stale read; `ConditionalCheckFailed` is mapped to a
//! typed [`StoreError`] (and from there to HTTP 412 or a retry).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use aws_sdk_dynamodb::Client;
use millions_core::auth::{AccountError, Accounts, Login, PasswordHash};
use millions_core::{Consistency, Email, StoreError, StoredUser, UserId, Users, Version};

use super::item::{self, Item};
use super::tables::{TableNames, LOGINS_KEY};
use super::transactions::{cancellation_reasons, failed, TransactionCanceled};

/// Users (and their logins) in DynamoDB: the users table keyed by `user_id`,
/// the logins table keyed by `email`.
#[derive(Clone)]
pub struct DynamoUsers {
    client: Client,
    table: String,
    logins_table: String,
}

impl DynamoUsers {
    pub fn new(client: Client, tables: &TableNames) -> Self {
        Self {
            client,
            table: tables.users.clone(),
            logins_table: tables.logins.clone(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Deletes a user and its login in one transaction.
    async fn delete_with_login(
        &self,
        current: &StoredUser,
        email: &Email,
    ) -> Result<(), StoreError> {
        let user = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(item::key(current.id)))
            .condition_expression("#version = :expected")
            .expression_attribute_names("#version", item::VERSION)
            .expression_attribute_values(":expected", item::number(current.version.0))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(StoreError::unavailable)?;
        let login = Delete::builder()
            .table_name(&self.logins_table)
            .set_key(Some(login_key(email)))
            .condition_expression("#user = :id")
            .expression_attribute_names("#user", item::USER_ID)
            .expression_attribute_values(":id", item::number(current.id.get()))
            .build()
            .map_err(StoreError::unavailable)?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().delete(user).build())
            .transact_items(TransactWriteItem::builder().delete(login).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) => match cancellation_reasons(error)? {
                reasons if failed(&reasons, 0) => match reasons[0].item() {
                    Some(old) => Err(mismatch(Some(old))),
                    // Not every implementation returns the old item in a
                    // transaction; a strong read tells the two cases apart.
                    None => match self.get(current.id, Consistency::Strong).await? {
                        None => Err(StoreError::NotFound),
                        Some(user) => Err(StoreError::VersionMismatch {
                            current: user.version,
                        }),
                    },
                },
                // The login no longer belongs to this user: nothing to release.
                reasons if failed(&reasons, 1) => self.delete_alone(current).await,
                reasons => Err(StoreError::unavailable(TransactionCanceled(reasons))),
            },
        }
    }

    async fn delete_alone(&self, current: &StoredUser) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(item::key(current.id)))
            .condition_expression("#version = :expected")
            .expression_attribute_names("#version", item::VERSION)
            .expression_attribute_values(":expected", item::number(current.version.0))
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

    async fn delete(&self, current: &StoredUser) -> Result<(), StoreError> {
        match &current.email {
            Some(email) => self.delete_with_login(current, email).await,
            None => self.delete_alone(current).await,
        }
    }
}

#[async_trait]
impl Accounts for DynamoUsers {
    async fn create(&self, user: &StoredUser, login: &Login) -> Result<(), AccountError> {
        let user_put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item::to_item(user)))
            .condition_expression("attribute_not_exists(#id)")
            .expression_attribute_names("#id", item::USER_ID)
            .build()
            .map_err(StoreError::unavailable)?;
        let login_put = Put::builder()
            .table_name(&self.logins_table)
            .set_item(Some(login_item(login)))
            .condition_expression("attribute_not_exists(#email)")
            .expression_attribute_names("#email", LOGINS_KEY)
            .build()
            .map_err(StoreError::unavailable)?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(user_put).build())
            .transact_items(TransactWriteItem::builder().put(login_put).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) => match cancellation_reasons(error)? {
                reasons if failed(&reasons, 1) => Err(AccountError::EmailTaken),
                reasons if failed(&reasons, 0) => Err(AccountError::IdTaken),
                reasons => Err(StoreError::unavailable(TransactionCanceled(reasons)).into()),
            },
        }
    }

    async fn login(&self, email: &Email) -> Result<Option<Login>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.logins_table)
            .set_key(Some(login_key(email)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| StoreError::unavailable(error.into_service_error()))?;
        let Some(found) = output.item() else {
            return Ok(None);
        };
        let user_id = item::get_number(found, item::USER_ID)?;
        Ok(Some(Login {
            email: email.clone(),
            user_id: UserId::new(user_id).map_err(|_| item::malformed(item::USER_ID))?,
            password_hash: PasswordHash(item::get_string(found, "password_hash")?),
        }))
    }
}

fn login_key(email: &Email) -> Item {
    HashMap::from([(
        LOGINS_KEY.to_owned(),
        AttributeValue::S(email.as_str().to_owned()),
    )])
}

fn login_item(login: &Login) -> Item {
    let mut item = login_key(&login.email);
    item.insert(item::USER_ID.to_owned(), item::number(login.user_id.get()));
    item.insert(
        "password_hash".to_owned(),
        AttributeValue::S(login.password_hash.0.clone()),
    );
    item
}

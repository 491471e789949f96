//! The `Sessions` port on a DynamoDB table keyed by `token_hash`, with TTL on
//! `expires_at`. TTL deletion can lag by days, which is why the auth service
//! judges expiry itself on every read.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use millions_core::auth::{Session, Sessions, TokenHash};
use millions_core::{StoreError, UserId};

use super::item::{self, Item};
use super::tables::{EXPIRES_AT, SESSIONS_KEY};

#[derive(Clone)]
pub struct DynamoSessions {
    client: Client,
    table: String,
}

impl DynamoSessions {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

fn key(hash: &TokenHash) -> Item {
    HashMap::from([(
        SESSIONS_KEY.to_owned(),
        AttributeValue::S(hash.as_str().to_owned()),
    )])
}

fn to_item(session: &Session) -> Item {
    let mut item = key(&session.token_hash);
    item.insert(
        item::USER_ID.to_owned(),
        item::number(session.user_id.get()),
    );
    item.insert("created_at".to_owned(), item::number(session.created_at));
    item.insert(EXPIRES_AT.to_owned(), item::number(session.expires_at));
    item
}

fn from_item(found: &Item) -> Result<Session, StoreError> {
    let user_id = item::get_number(found, item::USER_ID)?;
    Ok(Session {
        token_hash: TokenHash::from_stored(item::get_string(found, SESSIONS_KEY)?),
        user_id: UserId::new(user_id).map_err(|_| item::malformed(item::USER_ID))?,
        created_at: item::get_number(found, "created_at")?,
        expires_at: item::get_number(found, EXPIRES_AT)?,
    })
}

#[async_trait]
impl Sessions for DynamoSessions {
    async fn insert(&self, session: &Session) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(session)))
            .condition_expression("attribute_not_exists(#key)")
            .expression_attribute_names("#key", SESSIONS_KEY)
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

    async fn get(&self, hash: &TokenHash) -> Result<Option<Session>, StoreError> {
        // Strong: a session opened a moment ago on another instance of this
        // region must be found.
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(hash)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| StoreError::unavailable(error.into_service_error()))?;
        output.item().map(from_item).transpose()
    }

    async fn extend(&self, hash: &TokenHash, expires_at: u64) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(hash)))
            .update_expression("SET #expires = :expires")
            .condition_expression("attribute_exists(#key)")
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_names("#key", SESSIONS_KEY)
            .expression_attribute_values(":expires", item::number(expires_at))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) => match error.into_service_error() {
                aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(_) => {
                    Err(StoreError::NotFound)
                }
                other => Err(StoreError::unavailable(other)),
            },
        }
    }

    async fn delete(&self, hash: &TokenHash) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(hash)))
            .send()
            .await
            .map(drop)
            .map_err(|error| StoreError::unavailable(error.into_service_error()))
    }
}

//! The `RateLimits` port on DynamoDB: one item per key and window, counted
//! with an atomic `ADD` and removed by TTL after the window ends.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use aws_sdk_dynamodb::Client;
use millions_core::auth::{RateLimits, Window};
use millions_core::StoreError;

use super::item;
use super::tables::{COUNTERS_KEY, EXPIRES_AT};

#[derive(Clone)]
pub struct DynamoRateLimits {
    client: Client,
    table: String,
}

impl DynamoRateLimits {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

#[async_trait]
impl RateLimits for DynamoRateLimits {
    async fn hit(&self, window: &Window) -> Result<u32, StoreError> {
        let counter = format!("{}#{}", window.key, window.start);
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(HashMap::from([(
                COUNTERS_KEY.to_owned(),
                AttributeValue::S(counter),
            )])))
            .update_expression("ADD hits :one SET #expires = :end")
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_values(":one", item::number(1))
            .expression_attribute_values(":end", item::number(window.end))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|error| StoreError::unavailable(error.into_service_error()))?;
        let hits = output
            .attributes()
            .map(|attributes| item::get_number(attributes, "hits"))
            .transpose()?
            .ok_or(item::malformed("hits"))?;
        Ok(u32::try_from(hits).unwrap_or(u32::MAX))
    }
}

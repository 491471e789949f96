//! The [`Ports`] of a cloud deployment: DynamoDB tables from one AWS config.

use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use millions_core::{Clock, Ports};

use super::{DynamoRateLimits, DynamoSessions, DynamoUsers, TableNames};
use crate::{Argon2Passwords, OsRandomness};

pub fn ports(config: &aws_config::SdkConfig, tables: &TableNames, clock: Arc<dyn Clock>) -> Ports {
    let client = Client::new(config);
    let users = Arc::new(DynamoUsers::new(client.clone(), tables));
    Ports {
        users: users.clone(),
        accounts: users,
        sessions: Arc::new(DynamoSessions::new(client.clone(), &tables.sessions)),
        limits: Arc::new(DynamoRateLimits::new(client, &tables.rate_limits)),
        passwords: Arc::new(Argon2Passwords::new()),
        random: Arc::new(OsRandomness),
        clock,
    }
}

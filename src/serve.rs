//! Builds the store the flags ask for and serves the API router on it.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use millions_api::ApiState;
use millions_core::Users;
use millions_infra::aws::DynamoUsers;
use millions_infra::local::{EmbeddedDatabase, EmbeddedUsers};
use millions_infra::{random_node_id, SystemClock};

use crate::cli::{Backend, ServeArgs, StoreArgs};

pub async fn run(store: &StoreArgs, args: &ServeArgs) -> anyhow::Result<()> {
    let users = open_users(store).await?;
    let node = args.node_id.unwrap_or_else(random_node_id);
    let app = millions_api::router(ApiState::new(users, Arc::new(SystemClock), node));

    let address = SocketAddr::new(args.host, args.port);
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))?;
    let local = listener
        .local_addr()
        .context("cannot read the listening address")?;
    tracing::info!(address = %local, node, "listening on http://{local}");
    axum::serve(listener, app)
        .with_graceful_shutdown(crate::shutdown::signal())
        .await
        .context("the server failed")?;
    tracing::info!("stopped");
    Ok(())
}

/// Opens the users store of the chosen backend.
pub async fn open_users(store: &StoreArgs) -> anyhow::Result<Arc<dyn Users>> {
    match store.backend {
        Backend::Local => {
            let db = EmbeddedDatabase::open(&store.data_dir)?;
            tracing::info!(path = %db.path().display(), "embedded data store at {}", db.path().display());
            Ok(Arc::new(
                EmbeddedUsers::new(db).context("cannot prepare the users table")?,
            ))
        }
        Backend::Aws => {
            let config = millions_infra::aws::load_config().await;
            let users =
                DynamoUsers::new(aws_sdk_dynamodb::Client::new(&config), &store.users_table);
            if store.create_tables {
                users
                    .create_table_if_missing()
                    .await
                    .with_context(|| format!("cannot create the table {}", store.users_table))?;
            }
            tracing::info!(table = %store.users_table, "users in DynamoDB table {}", store.users_table);
            Ok(Arc::new(users))
        }
    }
}

//! Builds the store the flags ask for, serves the API router on it, and puts
//! the local edge in front: the front door applies the same cache rules as
//! the CDN in production.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use anyhow::Context;
use millions_api::ApiState;
use millions_core::Users;
use millions_edge_local::EdgeConfig;
use millions_infra::aws::DynamoUsers;
use millions_infra::local::{EmbeddedDatabase, EmbeddedUsers};
use millions_infra::{random_node_id, SystemClock};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::cli::{Backend, ServeArgs, StoreArgs};

/// Serves the API behind the local edge (or alone with `--no-edge`) until
/// Ctrl-C or SIGTERM, then lets both finish their in-flight requests.
pub async fn run(store: &StoreArgs, args: &ServeArgs) -> anyhow::Result<()> {
    let users = open_users(store).await?;
    let node = args.node_id.unwrap_or_else(random_node_id);
    let api = millions_api::router(ApiState::new(users, Arc::new(SystemClock), node));
    let (stop, stopping) = watch::channel(());
    tokio::spawn(async move {
        crate::shutdown::signal().await;
        let _ = stop.send(());
    });

    if args.no_edge {
        let front = bind(args.host, args.port).await?;
        let address = front.local_addr()?;
        tracing::info!(%address, node, edge = false, "listening on http://{address}");
        serve(front, api, stopping).await?;
    } else {
        let api_listener = bind(args.host, args.api_port).await?;
        let api_address = api_listener.local_addr()?;
        tracing::info!(address = %api_address, node, "API instance on http://{api_address}");
        let mut edge = EdgeConfig::single_origin(format!("http://{api_address}"));
        edge.cache_bytes = args.edge_cache_mib * 1024 * 1024;
        let front = bind(args.host, args.port).await?;
        let address = front.local_addr()?;
        tracing::info!(%address, edge = true, "listening on http://{address}");
        tokio::try_join!(
            serve(api_listener, api, stopping.clone()),
            serve(front, millions_edge_local::router(edge), stopping),
        )?;
    }
    tracing::info!("stopped");
    Ok(())
}

async fn bind(host: IpAddr, port: u16) -> anyhow::Result<TcpListener> {
    let address = SocketAddr::new(host, port);
    TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))
}

async fn serve(
    listener: TcpListener,
    app: axum::Router,
    mut stopping: watch::Receiver<()>,
) -> anyhow::Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = stopping.changed().await;
        })
        .await
        .context("the server failed")
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

//! Builds the stores the flags ask for, serves the API router on one or more
//! instances, and puts the local edge in front: the front door applies the
//! same cache rules as the CDN in production and spreads requests over the
//! instances.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use millions_api::{ApiState, Settings, WebSettings};
use millions_core::auth::{AuthSettings, Limit, LoginLimits, SessionLifetimes};
use millions_core::{Clock, Ports};
use millions_edge_local::EdgeConfig;
use millions_edge_policy::origins::Origin;
use millions_infra::aws::TableNames;
use millions_infra::local::{EmbeddedDatabase, EmbeddedStores};
use millions_infra::{random_node_id, SystemClock};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::cli::{AuthArgs, Backend, ServeArgs, StoreArgs};
use crate::instances::Instances;

/// How often the embedded store forgets expired sessions and counters.
const SWEEP_PERIOD: Duration = Duration::from_secs(300);

/// Serves the API behind the local edge (or alone with `--no-edge`) until
/// Ctrl-C or SIGTERM, then lets everything finish its in-flight requests.
pub async fn run(store: &StoreArgs, args: &ServeArgs) -> anyhow::Result<()> {
    if args.no_edge && args.instances > 1 {
        bail!("--instances needs the edge in front to spread requests; drop --no-edge");
    }
    let ports = open_ports(store).await?;
    let (stop, stopping) = watch::channel(());
    tokio::spawn(async move {
        crate::shutdown::signal().await;
        let _ = stop.send(());
    });
    let first_node = args.node_id.unwrap_or_else(random_node_id);

    if args.no_edge {
        let front = bind(args.host, args.port).await?;
        let address = front.local_addr()?;
        let settings = settings(&args.auth, address, 0);
        let api = millions_api::router(ApiState::new(ports, first_node, settings));
        tracing::info!(%address, node = first_node, edge = false, "listening on http://{address}");
        serve(front, api, stopping).await?;
    } else {
        let front = bind(args.host, args.port).await?;
        let front_address = front.local_addr()?;
        // The edge appends one X-Forwarded-For hop.
        let settings = settings(&args.auth, front_address, 1);
        let mut instances = Instances::default();
        let mut origins = Vec::new();
        for index in 0..args.instances {
            let port = if args.instances == 1 {
                args.api_port
            } else {
                0
            };
            let listener = bind(args.host, port).await?;
            let address = listener.local_addr()?;
            let node = (first_node + index) % millions_core::ids::NODES;
            let api = millions_api::router(ApiState::new(ports.clone(), node, settings.clone()));
            let region = format!("instance-{}", index + 1);
            tracing::info!(%address, node, instance = %region, "API instance on http://{address}");
            instances.start(region.clone(), address, listener, api, stopping.clone());
            origins.push(Origin {
                region,
                url: format!("http://{address}"),
                near: Vec::new(),
            });
        }
        let mut edge = EdgeConfig::single_origin(String::new());
        edge.origins = origins;
        edge.balance = args.instances > 1;
        edge.cache_bytes = args.edge_cache_mib * 1024 * 1024;
        // A stopped instance is skipped after its first refused connection.
        edge.failure_threshold = 1;
        let app = instances
            .control_routes()
            .merge(millions_edge_local::router(edge));
        tracing::info!(address = %front_address, edge = true, instances = args.instances, "listening on http://{front_address}");
        let front = serve(front, app, stopping);
        let (front, stopped) = tokio::join!(front, instances.wait());
        front?;
        stopped?;
    }
    tracing::info!("stopped");
    Ok(())
}

fn settings(auth: &AuthArgs, front: SocketAddr, trusted_proxy_hops: usize) -> Settings {
    let port = front.port();
    let mut allowed_origins = vec![
        format!("http://localhost:{port}"),
        format!("http://127.0.0.1:{port}"),
        format!("http://{front}"),
    ];
    allowed_origins.extend(auth.allowed_origins.iter().cloned());
    Settings {
        auth: AuthSettings {
            sessions: SessionLifetimes {
                idle_secs: auth.session_idle_secs,
                absolute_secs: auth.session_max_secs,
            },
            login_limits: LoginLimits {
                per_account: Limit {
                    max: auth.login_attempts_per_account,
                    window_secs: auth.login_window_secs,
                },
                per_address: Limit {
                    max: auth.login_attempts_per_address,
                    window_secs: auth.login_window_secs,
                },
            },
        },
        web: WebSettings {
            allowed_origins,
            trusted_proxy_hops,
        },
    }
}

pub async fn bind(host: IpAddr, port: u16) -> anyhow::Result<TcpListener> {
    let address = SocketAddr::new(host, port);
    TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))
}

/// Serves `app` until `stopping` fires, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    mut stopping: watch::Receiver<()>,
) -> anyhow::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        let _ = stopping.changed().await;
    })
    .await
    .context("the server failed")
}

/// Opens the stores of the chosen backend as the services' ports.
pub async fn open_ports(store: &StoreArgs) -> anyhow::Result<Ports> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match store.backend {
        Backend::Local => {
            let db = EmbeddedDatabase::open(&store.data_dir)?;
            tracing::info!(path = %db.path().display(), "embedded data store at {}", db.path().display());
            let stores = EmbeddedStores::new(db).context("cannot prepare the embedded tables")?;
            tokio::spawn(
                stores
                    .clone()
                    .sweep_forever(Arc::clone(&clock), SWEEP_PERIOD),
            );
            Ok(stores.ports(clock))
        }
        Backend::Aws => {
            let config = millions_infra::aws::load_config().await;
            let tables = TableNames::with_prefix(&store.table_prefix);
            if store.create_tables {
                let client = aws_sdk_dynamodb::Client::new(&config);
                millions_infra::aws::create_tables_if_missing(&client, &tables)
                    .await
                    .context("cannot create the DynamoDB tables")?;
            }
            tracing::info!(users = %tables.users, sessions = %tables.sessions, "data in DynamoDB tables {}-*", store.table_prefix);
            Ok(millions_infra::aws::ports(&config, &tables, clock))
        }
    }
}

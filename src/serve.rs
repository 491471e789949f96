//! Builds the stores the flags ask for, serves the API router on one or more
//! instances, and puts the local edge in front: the front door applies the
//! same cache rules as the CDN in production and spreads requests over the
//! instances. Beside them runs the pool of photo workers.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use millions_api::{ApiState, Settings, WebSettings};
use millions_core::auth::{AuthSettings, Limit, LoginLimits, SessionLifetimes};
use millions_core::photos::{JobQueue, QueueSettings};
use millions_core::{Clock, Ports};
use millions_edge_local::{EdgeConfig, EdgeSettings};
use millions_edge_policy::origins::Origin;
use millions_infra::aws::Deployment;
use millions_infra::local::{
    DataFolder, EmbeddedStores, LocalBlobs, MoveOptions, PhotoOptions, Resharder,
};
use millions_infra::{random_node_id, SystemClock};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::cli::{AuthArgs, Backend, JobArgs, ServeArgs, StoreArgs};
use crate::instances::Instances;
use crate::metrics::Sources;
use crate::workers::{PoolSettings, WorkerPool};

/// How often the embedded store forgets expired sessions and counters.
const SWEEP_PERIOD: Duration = Duration::from_secs(300);

/// Serves the API behind the local edge (or alone with `--no-edge`) until
/// Ctrl-C or SIGTERM, then lets everything finish its in-flight requests.
pub async fn run(store: &StoreArgs, args: &ServeArgs) -> anyhow::Result<()> {
    if args.no_edge && args.instances > 1 {
        bail!("--instances needs the edge in front to spread requests; drop --no-edge");
    }
    let queue_settings = queue_settings(&args.jobs)?;
    let front = bind(args.host, args.port).await?;
    let front_address = front.local_addr()?;
    let moves = MoveOptions {
        batch: args.move_batch as usize,
        pause: Duration::from_millis(args.move_pause_ms),
    };
    // Before the stores open: their metrics' handles belong to the recorder
    // installed when they are first used (infra/src/measured.rs).
    let metrics = crate::metrics::install()?;
    let stack = open_stack(store, &public_url(front_address), queue_settings, moves).await?;
    let ports = stack.ports.clone();
    let (stop, stopping) = watch::channel(());
    tokio::spawn(async move {
        crate::shutdown::signal().await;
        let _ = stop.send(());
    });
    let first_node = args.node_id.unwrap_or_else(random_node_id);
    let pool = worker_pool(&stack, store.backend, &args.jobs, queue_settings);
    let pool_gauge = pool.gauge();
    let local_routes = crate::uploads::routes(
        stack.local_blobs.clone(),
        Arc::clone(&stack.queue),
        pool.gauge(),
    )
    .merge(crate::shards::routes(stack.resharder.clone()))
    .merge(crate::dashboard::routes());
    let workers = tokio::spawn(pool.run(stopping.clone()));

    if args.no_edge {
        let settings = settings(&args.auth, front_address, 0);
        let state = ApiState::new(ports, first_node, settings);
        tokio::spawn(crate::metrics::flush_activity_forever(
            Arc::clone(&state),
            stopping.clone(),
        ));
        let local_routes = local_routes.merge(crate::metrics::routes(
            metrics,
            Sources {
                queue: Arc::clone(&stack.queue),
                pool: pool_gauge,
                any_instance: Arc::clone(&state),
                edge: None,
                shards: stack.resharder.clone(),
            },
        ));
        let api = millions_api::router(state);
        tracing::info!(address = %front_address, node = first_node, edge = false, "listening on http://{front_address}");
        serve(front, local_routes.merge(api), stopping).await?;
    } else {
        // The edge appends one X-Forwarded-For hop.
        let settings = settings(&args.auth, front_address, 1);
        let mut instances = Instances::default();
        let mut origins = Vec::new();
        let mut states = Vec::new();
        for index in 0..args.instances {
            let port = if args.instances == 1 {
                args.api_port
            } else {
                0
            };
            let listener = bind(args.host, port).await?;
            let address = listener.local_addr()?;
            let node = (first_node + index) % millions_core::ids::NODES;
            let state = ApiState::new(ports.clone(), node, settings.clone());
            tokio::spawn(crate::metrics::flush_activity_forever(
                Arc::clone(&state),
                stopping.clone(),
            ));
            states.push(Arc::clone(&state));
            let api = millions_api::router(state);
            let region = format!("instance-{}", index + 1);
            tracing::info!(%address, node, instance = %region, "API instance on http://{address}");
            instances.start(region.clone(), address, listener, api, stopping.clone());
            origins.push(Origin {
                region,
                url: format!("http://{address}"),
                near: Vec::new(),
            });
        }
        let mut edge = EdgeConfig::new(crate::edge::with_environment(EdgeSettings {
            origins,
            balance: args.instances > 1,
            // A stopped instance is skipped after its first refused
            // connection, and probed again soon: a local restart takes a
            // second, not the minutes a region's outage may.
            failure_threshold: 1,
            cooldown_ms: 5_000,
            ..EdgeSettings::default()
        })?);
        edge.cache_bytes = args.edge_cache_mib * 1024 * 1024;
        let local = instances
            .control_routes()
            .merge(local_routes)
            .merge(crate::metrics::routes(
                metrics,
                Sources {
                    queue: Arc::clone(&stack.queue),
                    pool: pool_gauge,
                    any_instance: Arc::clone(&states[0]),
                    edge: Some(Arc::clone(&edge.stats)),
                    shards: stack.resharder.clone(),
                },
            ));
        tracing::info!(address = %front_address, edge = true, instances = args.instances, "listening on http://{front_address}");
        let front = serve_edge(front, millions_edge_local::front(edge, local), stopping);
        let (front, stopped) = tokio::join!(front, instances.wait());
        front?;
        stopped?;
    }
    workers.await.context("the photo workers failed")?;
    tracing::info!("stopped");
    Ok(())
}

fn queue_settings(jobs: &JobArgs) -> anyhow::Result<QueueSettings> {
    if jobs.job_visibility_secs <= jobs.job_timeout_secs {
        bail!(
            "--job-visibility-secs ({}) must exceed --job-timeout-secs ({}), or a message would be delivered again while its job still runs",
            jobs.job_visibility_secs,
            jobs.job_timeout_secs
        );
    }
    Ok(QueueSettings {
        visibility_timeout: Duration::from_secs_f64(jobs.job_visibility_secs),
        max_receives: jobs.job_max_receives,
    })
}

fn worker_pool(
    stack: &Stack,
    backend: Backend,
    jobs: &JobArgs,
    queue: QueueSettings,
) -> WorkerPool {
    let runner =
        millions_imaging::job_runner(&stack.ports.photos, Arc::clone(&stack.ports.clock), queue);
    let max_workers = jobs
        .workers_max
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |cpus| cpus.get()))
        .max(1);
    WorkerPool::new(
        Arc::clone(&stack.queue),
        runner,
        PoolSettings {
            max_workers,
            idle: Duration::from_secs(jobs.worker_idle_secs),
            job_timeout: Duration::from_secs_f64(jobs.job_timeout_secs),
            tick: match backend {
                Backend::Local => crate::workers::LOCAL_TICK,
                Backend::Aws => crate::workers::REMOTE_TICK,
            },
        },
    )
}

/// The URL clients use to reach the front door (upload URLs start with it).
fn public_url(front: SocketAddr) -> String {
    if front.ip().is_unspecified() {
        format!("http://localhost:{}", front.port())
    } else {
        format!("http://{front}")
    }
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
            ..WebSettings::default()
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

/// Serves the edge (and the routes beside it) until `stopping` fires, then
/// finishes in-flight requests.
pub async fn serve_edge(
    listener: TcpListener,
    front: millions_edge_local::Front,
    mut stopping: watch::Receiver<()>,
) -> anyhow::Result<()> {
    front
        .serve(listener, async move {
            let _ = stopping.changed().await;
        })
        .await
        .context("the edge failed")
}

/// What the chosen backend provides: the services' ports, the queue the
/// workers take jobs from, and (locally) the blob folder that accepts uploads.
pub struct Stack {
    pub ports: Ports,
    pub queue: Arc<dyn JobQueue>,
    pub local_blobs: Option<LocalBlobs>,
    /// Moves the embedded store's keys between shard counts (local only).
    pub resharder: Option<Resharder>,
}

/// Opens the stores of the chosen backend.
pub async fn open_stack(
    store: &StoreArgs,
    public_url: &str,
    queue: QueueSettings,
    moves: MoveOptions,
) -> anyhow::Result<Stack> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match store.backend {
        Backend::Local => {
            let folder = DataFolder::open_with(&store.data_dir, store.shards, store.counter_parts)?;
            let shards = folder.shards();
            if shards.count() != store.shards {
                tracing::info!(shards = %shards.count(), asked = %store.shards, "the data folder keeps the {} shards of its map", shards.count());
            }
            tracing::info!(path = %folder.path().display(), shards = %shards.count(), epoch = shards.epoch(), "embedded data store at {}", folder.path().display());
            let options = PhotoOptions {
                public_url: public_url.to_owned(),
                queue,
            };
            let stores = EmbeddedStores::new(folder, Arc::clone(&clock), options)
                .context("cannot prepare the embedded tables")?;
            tokio::spawn(
                stores
                    .clone()
                    .sweep_forever(Arc::clone(&clock), SWEEP_PERIOD),
            );
            let resharder = Resharder::new(stores.users.clone(), moves);
            // A move that a stop or a crash interrupted goes on.
            resharder.resume();
            Ok(Stack {
                ports: stores.ports(),
                queue: Arc::new(stores.queue.clone()),
                local_blobs: Some(stores.blobs.clone()),
                resharder: Some(resharder),
            })
        }
        Backend::Aws => {
            let config = millions_infra::aws::load_config().await;
            let deployment = if store.create_tables {
                Deployment::provision(&config, &store.table_prefix, queue)
                    .await
                    .context("cannot create the AWS resources")?
            } else if std::env::var_os("USERS_TABLE").is_some() {
                // Names set one by one, as Terraform sets them on the functions.
                Deployment::from_env().context("some resource names are missing")?
            } else {
                Deployment::find(&config, &store.table_prefix)
                    .await
                    .with_context(|| {
                        format!(
                            "cannot find the resources named {}-*; pass --create-tables to make them",
                            store.table_prefix
                        )
                    })?
            };
            tracing::info!(users = %deployment.tables.users, bucket = %deployment.bucket, queue = %deployment.queue_url, "data in AWS");
            let ports = deployment.ports(&config, clock);
            Ok(Stack {
                queue: Arc::clone(&ports.photos.queue),
                ports,
                local_blobs: None,
                resharder: None,
            })
        }
    }
}

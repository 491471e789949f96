//! `millions edge`: the local edge alone, in front of any origin(s), so its
//! cache can be tried (and compared with other caches) against a server that
//! is not ours. It obeys whatever caching headers that origin sends.

use std::time::Duration;

use anyhow::{bail, Context};
use millions_edge_local::policy::Origin;
use millions_edge_local::{EdgeConfig, EdgeSettings};
use tokio::sync::watch;

use crate::cli::EdgeArgs;
use crate::serve::{bind, serve_edge};

/// `settings` with the variables the Worker and Spin read (`ASSET_VERSION`,
/// `STATIC_MAX_AGE`, `FAILURE_THRESHOLD`, `COOLDOWN_MS`,
/// `DEFAULT_CONTINENT`) taken from the environment where set: one parser
/// for every runtime. The local edge's origins are its own instances, or
/// `--origin`, never `ORIGINS`.
pub fn with_environment(settings: EdgeSettings) -> anyhow::Result<EdgeSettings> {
    settings
        .with_vars(|name| std::env::var(name).ok())
        .context("the edge's settings in the environment")
}

pub async fn run(args: &EdgeArgs) -> anyhow::Result<()> {
    if args.origins.is_empty() {
        bail!("give at least one --origin URL (e.g. --origin http://127.0.0.1:9000)");
    }
    let origins = args
        .origins
        .iter()
        .enumerate()
        .map(|(index, url)| Origin {
            region: format!("origin-{}", index + 1),
            url: url.trim_end_matches('/').to_owned(),
            near: Vec::new(),
        })
        .collect();
    let mut config = EdgeConfig::new(with_environment(EdgeSettings {
        origins,
        ..EdgeSettings::default()
    })?);
    config.cache_bytes = args.cache_mib * 1024 * 1024;
    config.origin_timeout = Duration::from_secs_f64(args.origin_timeout_secs);
    let listener = bind(args.host, args.port).await?;
    let address = listener.local_addr()?;
    let (stop, stopping) = watch::channel(());
    tokio::spawn(async move {
        crate::shutdown::signal().await;
        let _ = stop.send(());
    });
    tracing::info!(%address, origins = ?args.origins, "edge listening on http://{address}");
    let front = millions_edge_local::front(config, axum::Router::new());
    serve_edge(listener, front, stopping).await
}

//! `millions edge`: the local edge alone, in front of any origin(s), so its
//! cache can be tried (and compared with other caches) against a server that
//! is not ours. It obeys whatever caching headers that origin sends.

use std::time::Duration;

use anyhow::bail;
use millions_edge_local::policy::Origin;
use millions_edge_local::EdgeConfig;
use tokio::sync::watch;

use crate::cli::EdgeArgs;
use crate::serve::{bind, serve_edge};

pub async fn run(args: &EdgeArgs) -> anyhow::Result<()> {
    if args.origins.is_empty() {
        bail!("give at least one --origin URL (e.g. --origin http://127.0.0.1:9000)");
    }
    let mut config = EdgeConfig::single_origin(String::new());
    config.origins = args
        .origins
        .iter()
        .enumerate()
        .map(|(index, url)| Origin {
            region: format!("origin-{}", index + 1),
            url: url.trim_end_matches('/').to_owned(),
            near: Vec::new(),
        })
        .collect();
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

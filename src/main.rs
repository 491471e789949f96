//! The local stack: the whole of millions on one machine.
//!
//! `cargo run --release` serves the API on 127.0.0.1 with embedded,
//! persistent stand-ins for the cloud's data services, so nothing but this
//! repository is needed. `--backend aws` serves the same router on DynamoDB.

mod cli;
mod dashboard;
mod edge;
mod instances;
mod logging;
mod metrics;
mod reshard;
mod seed;
mod serve;
mod shards;
mod shutdown;
mod uploads;
mod workers;

use clap::Parser;

// A request allocates a few dozen small buffers on whichever worker thread
// runs it; mimalloc's thread-local free lists serve those faster than glibc's
// arenas (see docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = cli::Cli::parse();
    logging::init(cli.log_format);
    match cli.command {
        Some(cli::Command::Seed(args)) => seed::run(&cli.store, &args).await,
        Some(cli::Command::Edge(args)) => edge::run(&args).await,
        Some(cli::Command::Reshard(args)) => reshard::run(&args).await,
        None => serve::run(&cli.store, &cli.serve).await,
    }
}

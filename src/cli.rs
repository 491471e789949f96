//! Command-line flags; each has an environment variable (12-factor) and a
//! default that runs locally.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use millions_core::{CounterParts, ShardCount};

#[derive(Parser, Debug)]
#[command(
    name = "millions",
    version,
    about = "The millions local stack: the API on embedded stand-ins for DynamoDB"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub serve: ServeArgs,
    /// Log lines as JSON objects (for log shippers) or as text (for people).
    #[arg(long, env = "MILLIONS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Load synthetic users straight into the embedded store (for benchmarks and demos).
    Seed(SeedArgs),
    /// Run only the local edge, caching in front of any origin by its headers.
    Edge(EdgeArgs),
    /// Move the running local stack's keys to another shard count, online.
    Reshard(ReshardArgs),
}

/// `millions reshard`.
#[derive(Args, Debug)]
pub struct ReshardArgs {
    /// The shard count to move to.
    #[arg(long)]
    pub shards: ShardCount,
    /// The running stack's front door.
    #[arg(long, env = "MILLIONS_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
}

/// The local edge on its own.
#[derive(Args, Debug)]
pub struct EdgeArgs {
    /// An origin to relay to (repeat for fail-over, preferred first).
    #[arg(
        long = "origin",
        env = "MILLIONS_EDGE_ORIGINS",
        value_delimiter = ',',
        required = true
    )]
    pub origins: Vec<String>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Port to listen on; 0 picks a free one (the log says which).
    #[arg(long, short, default_value_t = 8081)]
    pub port: u16,
    /// Size of the response cache, in MiB.
    #[arg(long, default_value_t = 64)]
    pub cache_mib: u64,
    /// Seconds one attempt at one origin may take.
    #[arg(long, default_value_t = 10.0)]
    pub origin_timeout_secs: f64,
}

/// Where the data lives.
#[derive(Args, Debug)]
pub struct StoreArgs {
    /// `local`: the embedded store under --data-dir. `aws`: DynamoDB, configured
    /// by the standard AWS environment (AWS_REGION, AWS_ENDPOINT_URL, ...).
    #[arg(long, env = "MILLIONS_BACKEND", value_enum, default_value_t = Backend::Local, global = true)]
    pub backend: Backend,
    /// Folder of the embedded store (local backend).
    #[arg(
        long,
        env = "MILLIONS_DATA_DIR",
        default_value = ".millions-data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// How many shards a new data folder gets (local backend). A folder that
    /// exists keeps the shards its map names.
    #[arg(long, env = "MILLIONS_SHARDS", default_value_t = ShardCount::DEFAULT, global = true)]
    pub shards: ShardCount,
    /// How many parts each like count of a new data folder is split into,
    /// each on the shard its key hashes to (local backend; 1 to 256). More
    /// parts take a celebrity's likes on more shards at once; a count costs
    /// a read per part. A folder that exists keeps its own.
    #[arg(long, env = "MILLIONS_COUNTER_PARTS", default_value_t = CounterParts::DEFAULT, global = true)]
    pub counter_parts: CounterParts,
    /// Prefix of the AWS resource names (aws backend): the tables PREFIX-users,
    /// PREFIX-logins, PREFIX-sessions, PREFIX-rate-limits, PREFIX-jobs, the
    /// bucket PREFIX-photos and the queues PREFIX-photo-jobs(-dlq). When
    /// USERS_TABLE is set, every name is read from the environment instead
    /// (USERS_TABLE, LOGINS_TABLE, SESSIONS_TABLE, RATE_LIMITS_TABLE,
    /// JOBS_TABLE, LIKES_TABLE, ACTIVITY_TABLE, PHOTOS_BUCKET, JOBS_QUEUE_URL, JOBS_DLQ_URL), as Terraform
    /// sets them on the functions.
    #[arg(
        long,
        env = "MILLIONS_TABLE_PREFIX",
        default_value = "millions",
        global = true
    )]
    pub table_prefix: String,
    /// Create the tables, bucket and queues if they are missing (aws backend; for
    /// emulators and development accounts: in production Terraform owns them).
    #[arg(long, env = "MILLIONS_CREATE_TABLES", global = true)]
    pub create_tables: bool,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "MILLIONS_HOST", default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Port of the front door (the local edge); 0 picks a free one (the log says which).
    #[arg(long, short, env = "MILLIONS_PORT", default_value_t = 8080)]
    pub port: u16,
    /// Port of the API instance behind the edge; 0 picks a free one (with
    /// several instances, each picks a free port).
    #[arg(long, env = "MILLIONS_API_PORT", default_value_t = 0)]
    pub api_port: u16,
    /// How many API instances to run behind the edge, which spreads requests
    /// over them and moves on when one stops: they share nothing but the store.
    #[arg(long, env = "MILLIONS_INSTANCES", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=32))]
    pub instances: u16,
    /// Serve the API directly on --port, without the local edge in front
    /// (for measuring the API alone).
    #[arg(long, env = "MILLIONS_NO_EDGE")]
    pub no_edge: bool,
    /// Size of the edge's response cache, in MiB.
    #[arg(long, env = "MILLIONS_EDGE_CACHE_MIB", default_value_t = 64)]
    pub edge_cache_mib: u64,
    /// Keys per batch when keys move to another shard count (`millions
    /// reshard`); writers of the shard a batch leaves wait while it moves.
    #[arg(long, env = "MILLIONS_MOVE_BATCH", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub move_batch: u32,
    /// Milliseconds of rest between two batches of a move.
    #[arg(long, env = "MILLIONS_MOVE_PAUSE_MS", default_value_t = 2)]
    pub move_pause_ms: u64,
    /// Node number (0-31) for the id generator; random when not given.
    #[arg(long, env = "MILLIONS_NODE_ID", value_parser = clap::value_parser!(u16).range(0..32))]
    pub node_id: Option<u16>,
    #[command(flatten)]
    pub auth: AuthArgs,
    #[command(flatten)]
    pub jobs: JobArgs,
}

/// The photo job queue and its workers.
#[derive(Args, Debug)]
pub struct JobArgs {
    /// Most photo workers running at once; the pool grows with the queue's
    /// backlog up to this and shrinks when idle (default: one per CPU).
    #[arg(long, env = "MILLIONS_WORKERS_MAX")]
    pub workers_max: Option<usize>,
    /// A worker with no message for this many seconds stops.
    #[arg(long, env = "MILLIONS_WORKER_IDLE_SECS", default_value_t = 10)]
    pub worker_idle_secs: u64,
    /// A job running longer than this many seconds is abandoned and retried,
    /// as Lambda stops a function at its timeout.
    #[arg(long, env = "MILLIONS_JOB_TIMEOUT_SECS", default_value_t = 60.0)]
    pub job_timeout_secs: f64,
    /// Seconds a received message stays hidden before it is delivered again
    /// (must exceed the job timeout).
    #[arg(long, env = "MILLIONS_JOB_VISIBILITY_SECS", default_value_t = 120.0)]
    pub job_visibility_secs: f64,
    /// Deliveries of one message before it moves to the dead-letter queue.
    #[arg(long, env = "MILLIONS_JOB_MAX_RECEIVES", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub job_max_receives: u32,
}

/// Sessions, login limits and browser rules.
#[derive(Args, Debug)]
pub struct AuthArgs {
    /// A session unused for this many seconds ends (default: a week).
    #[arg(long, env = "MILLIONS_SESSION_IDLE_SECS", default_value_t = 7 * 24 * 3600)]
    pub session_idle_secs: u64,
    /// No session lives longer than this many seconds (default: 30 days).
    #[arg(long, env = "MILLIONS_SESSION_MAX_SECS", default_value_t = 30 * 24 * 3600)]
    pub session_max_secs: u64,
    /// Login attempts allowed per account in each window.
    #[arg(
        long,
        env = "MILLIONS_LOGIN_ATTEMPTS_PER_ACCOUNT",
        default_value_t = 10
    )]
    pub login_attempts_per_account: u32,
    /// Login attempts allowed per client address in each window.
    #[arg(
        long,
        env = "MILLIONS_LOGIN_ATTEMPTS_PER_ADDRESS",
        default_value_t = 100
    )]
    pub login_attempts_per_address: u32,
    /// Length of the login-limit window, in seconds.
    #[arg(long, env = "MILLIONS_LOGIN_WINDOW_SECS", default_value_t = 900)]
    pub login_window_secs: u64,
    /// Another origin (e.g. `https://app.example.com`) whose pages may send
    /// cookie-authenticated writes; the front door's own origin always may.
    #[arg(
        long = "allowed-origin",
        env = "MILLIONS_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,
}

#[derive(Args, Debug)]
pub struct SeedArgs {
    /// How many users to create.
    #[arg(long, default_value_t = 100_000)]
    pub users: u64,
    /// Write the new users' ids to this file, one per line.
    #[arg(long)]
    pub ids_out: Option<PathBuf>,
    /// Also sign in this many of the new users (the first ones), for
    /// benchmarks that update profiles as their owners.
    #[arg(long, default_value_t = 0)]
    pub sessions: u64,
    /// Write the signed-in users' ids and session tokens here, `id token`
    /// per line (needed with --sessions).
    #[arg(long, requires = "sessions")]
    pub sessions_out: Option<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Local,
    Aws,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

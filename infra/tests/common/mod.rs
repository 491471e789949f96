//! The adapters under test, built the way the deployments build them: the
//! embedded store in a fresh temporary folder, and DynamoDB on a moto server
//! (started by the test setup) with fresh tables, through the official SDK.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use millions_core::{Clock, Ports};

/// A clock the test moves by hand.
#[derive(Default)]
pub struct ManualClock(AtomicU64);

impl ManualClock {
    pub fn at_secs(secs: u64) -> Arc<Self> {
        Arc::new(Self(AtomicU64::new(secs * 1000)))
    }

    pub fn advance_secs(&self, secs: u64) {
        self.0.fetch_add(secs * 1000, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// What a store physically holds for sessions: each record's key and its
/// full contents as text, to inspect what a leak would expose.
pub type RawSessions = Vec<(String, String)>;

/// An adapter set under test plus whatever must live as long as it.
pub struct Subject {
    pub ports: Ports,
    pub clock: Arc<ManualClock>,
    raw: Raw,
    _data_dir: Option<tempfile::TempDir>,
}

enum Raw {
    Embedded(millions_infra::local::EmbeddedSessions),
    Dynamo(aws_sdk_dynamodb::Client, String),
}

/// 2026-11-27, in Unix seconds: a plausible "now".
pub const START_SECS: u64 = 1_795_737_600;

impl Subject {
    pub async fn raw_sessions(&self) -> RawSessions {
        match &self.raw {
            Raw::Embedded(sessions) => sessions
                .raw_records()
                .unwrap()
                .into_iter()
                .map(|(key, bytes)| (key, String::from_utf8_lossy(&bytes).into_owned()))
                .collect(),
            Raw::Dynamo(client, table) => {
                let scan = client.scan().table_name(table).send().await.unwrap();
                scan.items()
                    .iter()
                    .map(|item| {
                        let key = item["token_hash"].as_s().unwrap().clone();
                        (key, format!("{item:?}"))
                    })
                    .collect()
            }
        }
    }
}

/// The embedded store with `shards` shards.
pub async fn embedded(shards: u32) -> Subject {
    let dir = tempfile::tempdir().unwrap();
    let folder = millions_infra::local::DataFolder::open(
        dir.path(),
        millions_core::ShardCount::new(shards).unwrap(),
    )
    .unwrap();
    let clock = ManualClock::at_secs(START_SECS);
    let stores = millions_infra::local::EmbeddedStores::new(
        folder,
        clock.clone(),
        millions_infra::local::PhotoOptions::default(),
    )
    .unwrap();
    Subject {
        ports: stores.ports(),
        clock,
        raw: Raw::Embedded(stores.sessions.clone()),
        _data_dir: Some(dir),
    }
}

pub async fn dynamodb() -> Subject {
    dynamodb_on(millions_testkit::moto()).await
}

/// DynamoDB on the moto server that runs one request at a time, where
/// concurrent transactions are serializable as they are in the cloud (see
/// `millions_testkit::serial_moto`).
pub async fn dynamodb_serial() -> Subject {
    dynamodb_on(millions_testkit::serial_moto()).await
}

async fn dynamodb_on(moto: &millions_testkit::Moto) -> Subject {
    let config = moto.sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let deployment = millions_infra::aws::Deployment::provision(
        &config,
        &millions_testkit::unique_name("conformance"),
        Default::default(),
    )
    .await
    .unwrap();
    let clock = ManualClock::at_secs(START_SECS);
    Subject {
        ports: deployment.ports(&config, clock.clone()),
        clock,
        raw: Raw::Dynamo(client, deployment.tables.sessions),
        _data_dir: None,
    }
}

/// Instantiates every listed case (an `async fn(Subject)` in `cases`) once
/// per adapter: the embedded store with one shard (every write in one
/// transaction) and with four (users and logins on different shards, so the
/// two-step writes run), and DynamoDB (`dynamodb_serial` after the cases:
/// on the serial moto server, for cases that race transactions).
#[macro_export]
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        $crate::conformance!($($case),*; $crate::common::dynamodb);
    };
    ($($case:ident),* $(,)?; $dynamodb:path) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::cases::$case($crate::common::embedded(1).await).await;
                }
            )*
        }
        mod embedded_sharded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::cases::$case($crate::common::embedded(4).await).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::cases::$case($dynamodb().await).await;
                }
            )*
        }
    };
}

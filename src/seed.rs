//! `millions seed`: loads synthetic users into the embedded store in large
//! transactions, far faster than one request (and one fsync) per user.

use std::io::Write;

use anyhow::{bail, Context};
use millions_core::{Address, Clock, IdGenerator, StoredUser, UserProfile, Version};
use millions_infra::local::{DataFolder, EmbeddedUsers};
use millions_infra::{random_node_id, SystemClock};

use crate::cli::{Backend, SeedArgs, StoreArgs};

const BATCH: u64 = 10_000;

pub async fn run(store: &StoreArgs, args: &SeedArgs) -> anyhow::Result<()> {
    if store.backend != Backend::Local {
        bail!("seed loads the embedded store only; use --backend local");
    }
    let folder = DataFolder::open(&store.data_dir, store.shards)?;
    let users = EmbeddedUsers::new(folder.shards().clone())?;
    let mut ids_out = match &args.ids_out {
        Some(path) => Some(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => None,
    };
    let ids = IdGenerator::new(random_node_id());
    let mut created = 0;
    while created < args.users {
        let batch: Vec<StoredUser> = (created..(created + BATCH).min(args.users))
            .map(|n| StoredUser {
                id: next_id(&ids),
                version: Version::FIRST,
                profile: synthetic_profile(n),
                email: None,
            })
            .collect();
        if let Some(out) = ids_out.as_mut() {
            for user in &batch {
                writeln!(out, "{}", user.id)?;
            }
        }
        created += users.import(batch)? as u64;
    }
    if let Some(mut out) = ids_out {
        out.flush()?;
    }
    tracing::info!(created, total = users.count()?, "seeded {created} users");
    Ok(())
}

fn next_id(ids: &IdGenerator) -> millions_core::UserId {
    loop {
        if let Ok(id) = ids.next_id(SystemClock.now_ms()) {
            return id;
        }
        std::thread::yield_now();
    }
}

fn synthetic_profile(n: u64) -> UserProfile {
    UserProfile {
        first_name: format!("User{n}"),
        last_name: "Smith".into(),
        address: Address {
            street_address: format!("{} 2nd Street", n % 1000 + 1),
            city: "New York".into(),
            state: "NY".into(),
            postal_code: 10021,
        },
        phone_numbers: vec!["212 555-1234".into(), "646 555-4567".into()],
    }
}

//! `millions seed`: loads synthetic users into the embedded store in large
//! transactions, far faster than one request (and one fsync) per user. Each
//! batch is split by shard and the shards commit in parallel.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{bail, Context};
use millions_core::auth::{Randomness, Session, SessionLifetimes};
use millions_core::{Address, Clock, IdGenerator, StoredUser, UserProfile, Version};
use millions_infra::local::{DataFolder, EmbeddedSessions, EmbeddedUsers};
use millions_infra::{random_node_id, OsRandomness, SystemClock};

use crate::cli::{Backend, SeedArgs, StoreArgs};

/// Users per batch: one transaction per shard per batch, so a large batch
/// spends its time writing rather than waiting for `fsync`.
const BATCH: u64 = 50_000;

pub async fn run(store: &StoreArgs, args: &SeedArgs) -> anyhow::Result<()> {
    if store.backend != Backend::Local {
        bail!("seed loads the embedded store only; use --backend local");
    }
    if args.sessions > 0 && args.sessions_out.is_none() {
        bail!("--sessions needs --sessions-out FILE to write the tokens to");
    }
    let folder = DataFolder::open_with(&store.data_dir, store.shards, store.counter_parts)?;
    let users = EmbeddedUsers::new(folder.shards().clone())?;
    let sessions = EmbeddedSessions::new(folder.main().clone())?;
    let mut sessions_out = create(args.sessions_out.as_deref())?;
    let mut ids_out = create(args.ids_out.as_deref())?;
    let ids = IdGenerator::new(random_node_id());
    let started = std::time::Instant::now();
    let progress = indicatif::ProgressBar::new(args.users).with_style(
        indicatif::ProgressStyle::with_template(
            "seeding {bar:40} {human_pos}/{human_len} users, {per_sec}, {elapsed} (eta {eta})",
        )
        .expect("a valid template"),
    );
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
        let signed_in = args
            .sessions
            .saturating_sub(created)
            .min(batch.len() as u64);
        if let Some(out) = sessions_out.as_mut() {
            sign_in(&sessions, &batch[..signed_in as usize], out)?;
        }
        let imported = users.import(batch)? as u64;
        created += imported;
        progress.inc(imported);
    }
    progress.finish_and_clear();
    for mut out in [ids_out, sessions_out].into_iter().flatten() {
        out.flush()?;
    }
    let seconds = started.elapsed().as_secs_f64();
    let shards = folder.shards().count();
    tracing::info!(
        created,
        total = users.count()?,
        %shards,
        seconds,
        "seeded {created} users across {shards} shards in {seconds:.1} s"
    );
    Ok(())
}

fn create(path: Option<&Path>) -> anyhow::Result<Option<BufWriter<File>>> {
    path.map(|path| {
        File::create(path)
            .map(BufWriter::new)
            .with_context(|| format!("cannot create {}", path.display()))
    })
    .transpose()
}

/// Opens a session for each of `users`, as a login would, and writes
/// `id token` lines.
fn sign_in(
    sessions: &EmbeddedSessions,
    users: &[StoredUser],
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let now = SystemClock.now_ms() / 1000;
    let expires_at = SessionLifetimes::default().first_expiry(now);
    let mut opened = Vec::with_capacity(users.len());
    for user in users {
        let token = OsRandomness.session_token();
        writeln!(out, "{} {}", user.id, token.reveal())?;
        opened.push(Session {
            token_hash: token.hash(),
            user_id: user.id,
            created_at: now,
            expires_at,
        });
    }
    sessions.import(&opened)?;
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

//! `millions reshard --shards M`: asks the running local stack to move its
//! keys to M shards, and follows the move with a progress bar until the
//! stack reports it settled.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use millions_infra::local::{MoveState, MoveStatus};
use serde_json::{json, Value};

use crate::cli::ReshardArgs;

/// How often the move's status is read.
const POLL: Duration = Duration::from_millis(200);

pub async fn run(args: &ReshardArgs) -> anyhow::Result<()> {
    let url = format!("{}{}", args.url.trim_end_matches('/'), crate::shards::PATH);
    let client = reqwest::Client::new();
    let started = Instant::now();
    let answer = client
        .post(&url)
        .json(&json!({ "shards": args.shards.get() }))
        .send()
        .await
        .with_context(|| {
            format!(
                "cannot reach the local stack at {}; is it running?",
                args.url
            )
        })?;
    if !answer.status().is_success() {
        let status = answer.status();
        let problem: Value = answer.json().await.unwrap_or_default();
        bail!(
            "the stack refused the move ({status}): {}",
            problem["detail"]
        );
    }
    let progress = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template(
            "moving {bar:40} {human_pos}/{human_len} keys, {per_sec}, {elapsed} (eta {eta})",
        )
        .expect("a valid template"),
    );
    let status = loop {
        let status: MoveStatus = client
            .get(&url)
            .send()
            .await
            .context("lost the local stack during the move; start it again and the move resumes")?
            .json()
            .await?;
        progress.set_length(status.keys_to_move);
        progress.set_position(status.keys_moved);
        match status.state {
            MoveState::Settled if status.shards == args.shards.get() => break status,
            MoveState::Failed => bail!(
                "the move failed: {}; restart the stack to resume it",
                status.error.unwrap_or_default()
            ),
            _ => tokio::time::sleep(POLL).await,
        }
    };
    progress.finish_and_clear();
    let fraction = if status.users == 0 {
        0.0
    } else {
        100.0 * status.users_moved as f64 / status.users as f64
    };
    println!(
        "{} shards (epoch {}): moved {} of {} users ({fraction:.1} %), {} keys in all, in {:.1} s",
        status.shards,
        status.epoch,
        status.users_moved,
        status.users,
        status.keys_moved,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

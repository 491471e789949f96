//! Moving the embedded store's keys from 4 shards to 5 while the stack
//! serves, and after a crash in the middle of the move.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use millions_infra::local::{DataFolder, EmbeddedUsers, MoveState, MoveStatus, PAUSE_AT};
use serde_json::{json, Value};

use crate::helpers::{data_dir, john, signup_body, Owner, TestStack};

const SEEDED: usize = 20_000;
const USERS_PER_WRITER: usize = 8;

/// Seeds `SEEDED` users into a new folder of 4 shards; returns their ids.
fn seed(dir: &Path) -> Vec<u64> {
    let ids = dir.join("ids.txt");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_millions"))
        .args(["seed", "--shards", "4", "--users", &SEEDED.to_string()])
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--ids-out")
        .arg(&ids)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read_to_string(ids)
        .unwrap()
        .lines()
        .map(|line| line.parse().unwrap())
        .collect()
}

/// Starts the stack on `dir`'s data, the API alone (reads must reach the
/// store, not the edge's cache), with small, slow move batches so a move
/// lasts seconds.
fn start(dir: &Path, env: &[(&str, String)]) -> TestStack {
    let data = dir.join("data");
    TestStack::start_with(
        &[
            "--no-edge",
            "--data-dir",
            data.to_str().unwrap(),
            "--move-batch",
            "50",
            "--move-pause-ms",
            "20",
        ],
        env,
    )
}

async fn move_status(stack: &TestStack) -> MoveStatus {
    let response = stack.client.get(stack.url("/_local/shards")).send().await;
    response.unwrap().json().await.unwrap()
}

async fn start_move(stack: &TestStack, shards: u32) {
    let response = stack
        .client
        .post(stack.url("/_local/shards"))
        .json(&json!({ "shards": shards }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
}

async fn wait_until_settled(stack: &TestStack, shards: u32) -> MoveStatus {
    for _ in 0..600 {
        let status = move_status(stack).await;
        assert_ne!(status.state, MoveState::Failed, "{status:?}");
        if status.state == MoveState::Settled && status.shards == shards {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the move to {shards} shards did not settle in 30 s");
}

/// Every user the folder holds, counted on every store of its layout: a key
/// left in two shards would count twice.
fn stored_users(dir: &Path) -> u64 {
    let folder = DataFolder::open(&dir.join("data"), millions_core::ShardCount::DEFAULT).unwrap();
    assert_eq!(folder.shards().layout().target(), None, "the move finished");
    EmbeddedUsers::new(folder.shards().clone())
        .unwrap()
        .count()
        .unwrap()
}

/// Reads every id in `ids`, 16 at a time, each of which must be there.
async fn all_found(stack: &TestStack, ids: &[u64]) {
    use futures::StreamExt;
    futures::stream::iter(ids)
        .map(|id| async move {
            let url = stack.url(&format!("/users/{id}"));
            (id, stack.client.get(url).send().await.unwrap().status())
        })
        .buffer_unordered(16)
        .for_each(|(id, status)| async move { assert_eq!(status, 200, "user {id}") })
        .await;
}

/// Writers update their own user (each update conditional on the version
/// it read) and sign new users up; readers read seeded users; all the while
/// the keys move from 4 shards to 5. No read answers 404, every update
/// acknowledged is there (once: the versions count them), every sign-up
/// acknowledged is there, nothing is stored twice, and about a fifth of the
/// users moved.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn resharding_4_to_5_under_writes_loses_and_duplicates_nothing() {
    let dir = data_dir();
    let seeded = seed(dir.path());
    let stack = start(dir.path(), &[]);
    let (client, base) = (stack.client.clone(), stack.address.clone());
    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicU64::new(0));

    let mut readers = Vec::new();
    for reader in 0..4 {
        let (client, base, stop, reads, ids) = (
            client.clone(),
            base.clone(),
            Arc::clone(&stop),
            Arc::clone(&reads),
            seeded.clone(),
        );
        readers.push(tokio::spawn(async move {
            let mut n = reader * 7919;
            while !stop.load(Ordering::Relaxed) {
                let id = ids[n % ids.len()];
                n += 104_729;
                let response = client
                    .get(format!("{base}/users/{id}"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200, "seeded user {id} read as missing");
                reads.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let updated = Arc::new(Mutex::new(HashMap::new()));
    let signed_up = Arc::new(Mutex::new(Vec::new()));
    let mut writers = Vec::new();
    for writer in 0..4 {
        let (client, base, stop, updated, signed_up) = (
            client.clone(),
            base.clone(),
            Arc::clone(&stop),
            Arc::clone(&updated),
            Arc::clone(&signed_up),
        );
        writers.push(tokio::spawn(async move {
            let signup = || async {
                let body = signup_body(&john());
                let url = format!("{base}/auth/signup");
                let response = client.post(url).json(&body).send().await.unwrap();
                assert_eq!(response.status(), 201);
                response.json::<Value>().await.unwrap()
            };
            // Several users per writer, updated in turn, so some of them are
            // in the batches that move while they are written.
            let mut owned = Vec::new();
            for _ in 0..USERS_PER_WRITER {
                let answer = signup().await;
                let id = answer["user"]["id"].as_u64().unwrap();
                signed_up.lock().unwrap().push(id);
                let owner = Owner {
                    client: client.clone(),
                    token: answer["session"]["token"].as_str().unwrap().to_owned(),
                };
                owned.push((id, owner, 1));
            }
            let mut round = 0;
            while !stop.load(Ordering::Relaxed) {
                let (id, owner, version) = &mut owned[round % USERS_PER_WRITER];
                round += 1;
                let name = format!("Writer{writer}v{}", *version + 1);
                let response = owner
                    .patch(&format!("{base}/users/{id}"))
                    .header("if-match", format!("\"{version}\""))
                    .json(&json!({ "firstName": name }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(
                    response.status(),
                    200,
                    "update of {id} at version {version}"
                );
                *version += 1;
                updated.lock().unwrap().insert(*id, (*version, name));
                if round % 25 == 0 {
                    let answer = signup().await;
                    signed_up
                        .lock()
                        .unwrap()
                        .push(answer["user"]["id"].as_u64().unwrap());
                }
            }
        }));
    }

    // Let the writers sign their users up first.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    start_move(&stack, 5).await;
    let status = wait_until_settled(&stack, 5).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for task in readers.into_iter().chain(writers) {
        task.await.unwrap();
    }

    let fraction = status.users_moved as f64 / status.users as f64;
    assert!(
        (0.17..=0.23).contains(&fraction),
        "moved {} of {} users",
        status.users_moved,
        status.users
    );
    assert!(reads.load(Ordering::Relaxed) > 1000, "the readers read");
    let updated = updated.lock().unwrap().clone();
    for (id, (version, name)) in &updated {
        let user = stack.get_json(&format!("/users/{id}")).await;
        assert_eq!(user["firstName"], *name, "the last update of {id}");
        let response = stack
            .client
            .get(stack.url(&format!("/users/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.headers()["etag"],
            format!("\"{version}\"").as_str()
        );
    }
    let signed_up = signed_up.lock().unwrap().clone();
    all_found(&stack, &signed_up).await;
    all_found(&stack, &seeded).await;
    drop(stack.terminate());
    assert_eq!(
        stored_users(dir.path()),
        (seeded.len() + signed_up.len()) as u64,
        "every user stored once"
    );
}

/// The stack is killed (SIGKILL) in the middle of a move, after a batch was
/// copied to its target and before it was deleted from home (so those keys
/// are in two shards). Started again, it resumes the move by itself and
/// ends with every user found and stored once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_killed_midway_resumes_on_restart() {
    let dir = data_dir();
    let seeded = seed(dir.path());
    let stack = start(dir.path(), &[(PAUSE_AT, "reshard:batch-copied".to_owned())]);
    start_move(&stack, 5).await;
    for _ in 0..200 {
        if stack.has_logged("paused at reshard:batch-copied") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let during = move_status(&stack).await;
    assert_eq!(
        (during.state, during.target),
        (MoveState::Moving, Some(5)),
        "paused in the move"
    );
    all_found(&stack, &seeded[..500]).await;
    stack.kill();

    let stack = start(dir.path(), &[]);
    let status = wait_until_settled(&stack, 5).await;
    assert!(status.users_moved > 0, "{status:?}");
    all_found(&stack, &seeded).await;
    drop(stack.terminate());
    assert_eq!(
        stored_users(dir.path()),
        SEEDED as u64,
        "every user stored once"
    );
}

//! The load generator of `scripts/bench-millions.sh`: an open-model run at a
//! constant arrival rate, with latencies measured from each request's
//! intended start (so a stalled server is charged for the requests it held
//! up: no coordinated omission), over user ids drawn from a Zipf
//! distribution (s = 0.99 by default, as YCSB's), with YCSB workload B's mix:
//! 95 % profile reads and 5 % profile updates by their owners.
//!
//! Why its own generator: wrk and oha send one request shape per run, and
//! this workload needs, per request, an id drawn from a distribution and,
//! for updates, that user's own session token. The scheduling is wrk2's:
//! each of `--connections` connections sends every `connections / rate`
//! seconds, its requests' intended times fixed in advance; a connection that
//! falls behind sends at once, and its latencies include the wait.
//!
//! ```text
//! cargo run --release --example loadgen -- --url http://127.0.0.1:8080 \
//!     --ids ids.txt --sessions sessions.txt --rate 5000 --seconds 10
//! ```
//!
//! With `--like ID --updates 1`, every request is instead a new like of one
//! user (each by the next signed-in user), for the write-hot counter.
//!
//! Prints one JSON object: rate asked and achieved, latency percentiles in
//! microseconds, errors, the edge's `x-cache` labels of the reads (and the
//! hit rate they make), and how many reads of the hottest id the edge
//! answered from the origin.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Zipf};
use serde_json::json;

struct Args {
    url: String,
    ids: Vec<u64>,
    /// (user id, session token) of the users updates go to, hottest first.
    sessions: Vec<(u64, String)>,
    rate: f64,
    seconds: f64,
    connections: usize,
    zipf: f64,
    updates: f64,
    /// With `--like ID`, every update is instead a like of that one user by
    /// the next signed-in user in turn (`PUT /users/ID/likes/LIKER`): the
    /// write-hot key of the celebrity problem.
    like: Option<u64>,
}

/// What one connection saw.
#[derive(Default)]
struct Tally {
    latencies: Option<Histogram<u64>>,
    sent: u64,
    errors: u64,
    statuses: BTreeMap<u16, u64>,
    labels: BTreeMap<String, u64>,
    hottest_from_origin: u64,
    hottest_reads: u64,
    /// Requests of the schedule still unsent at the end (overload).
    unsent: u64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let started = Instant::now() + Duration::from_millis(100);
    let interval = Duration::from_secs_f64(args.connections as f64 / args.rate);
    let total = (args.rate * args.seconds) as u64;
    let args = std::sync::Arc::new(args);
    let connections: Vec<_> = (0..args.connections)
        .map(|connection| {
            let args = std::sync::Arc::clone(&args);
            tokio::spawn(async move {
                run_connection(&args, connection, started, interval, total).await
            })
        })
        .collect();
    let mut all = Tally {
        latencies: Some(histogram()),
        ..Tally::default()
    };
    for connection in connections {
        let tally = connection.await?;
        all.latencies
            .as_mut()
            .expect("set")
            .add(tally.latencies.expect("set"))?;
        all.sent += tally.sent;
        all.errors += tally.errors;
        for (status, count) in tally.statuses {
            *all.statuses.entry(status).or_default() += count;
        }
        for (label, count) in tally.labels {
            *all.labels.entry(label).or_default() += count;
        }
        all.hottest_from_origin += tally.hottest_from_origin;
        all.unsent += tally.unsent;
        all.hottest_reads += tally.hottest_reads;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let latencies = all.latencies.expect("set");
    let hits = all.labels.get("HIT").copied().unwrap_or(0);
    let labelled: u64 = all.labels.values().sum();
    let report = json!({
        "rate": args.rate,
        "achieved": all.sent as f64 / elapsed,
        "requests": all.sent,
        "seconds": elapsed,
        "connections": args.connections,
        "users": args.ids.len(),
        "p50_us": latencies.value_at_quantile(0.50),
        "p90_us": latencies.value_at_quantile(0.90),
        "p99_us": latencies.value_at_quantile(0.99),
        "p999_us": latencies.value_at_quantile(0.999),
        "max_us": latencies.max(),
        "errors": all.errors,
        "unsent": all.unsent,
        "statuses": all.statuses,
        "x_cache": all.labels,
        "hit_rate": if labelled == 0 { 0.0 } else { hits as f64 / labelled as f64 },
        "hottest_reads": all.hottest_reads,
        "hottest_from_origin": all.hottest_from_origin,
        "hottest_origin_per_sec": all.hottest_from_origin as f64 / elapsed,
    });
    println!("{report}");
    Ok(())
}

/// One connection's share of the schedule: requests `connection`,
/// `connection + connections`, … of the run, each at its intended time.
async fn run_connection(
    args: &Args,
    connection: usize,
    started: Instant,
    interval: Duration,
    total: u64,
) -> Tally {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .build()
        .expect("a client");
    let mut random = rand::rngs::SmallRng::seed_from_u64(connection as u64 * 0x9E37_79B9);
    let reads = Zipf::new(args.ids.len() as f64, args.zipf).expect("valid Zipf parameters");
    let writes = Zipf::new(args.sessions.len().max(1) as f64, args.zipf).expect("valid");
    let offset = interval.mul_f64(connection as f64 / args.connections as f64);
    let mut tally = Tally {
        latencies: Some(histogram()),
        ..Tally::default()
    };
    let mut index = connection as u64;
    let mut intended = started + offset;
    // An overloaded server leaves requests unsent when the time is up: the
    // run measures the seconds asked for, not the backlog.
    let deadline = started + Duration::from_secs_f64(args.seconds);
    while index < total && Instant::now() < deadline {
        tokio::time::sleep_until(intended.into()).await;
        let update = !args.sessions.is_empty() && random.random_bool(args.updates);
        let (rank, request) = if let Some(star) = args.like.filter(|_| update) {
            // Each request its own liker, so every like is a new one.
            let (liker, token) = &args.sessions[index as usize % args.sessions.len()];
            let request = client
                .put(format!("{}/users/{star}/likes/{liker}", args.url))
                .bearer_auth(token);
            (0, request)
        } else if update {
            let rank = writes.sample(&mut random) as usize - 1;
            let (id, token) = &args.sessions[rank];
            let body = json!({ "address": { "city": format!("City {}", index % 97) } });
            let request = client
                .patch(format!("{}/users/{id}", args.url))
                .bearer_auth(token)
                .json(&body);
            (rank, request)
        } else {
            let rank = reads.sample(&mut random) as usize - 1;
            let request = client.get(format!("{}/users/{}", args.url, args.ids[rank]));
            (rank, request)
        };
        match request.send().await {
            Ok(response) => {
                *tally
                    .statuses
                    .entry(response.status().as_u16())
                    .or_default() += 1;
                if !response.status().is_success() {
                    tally.errors += 1;
                }
                let label = response
                    .headers()
                    .get("x-cache")
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned);
                if !update && rank == 0 {
                    tally.hottest_reads += 1;
                    // Answers the edge fetched (or revalidated) at the origin.
                    if matches!(label.as_deref(), Some("MISS" | "REVALIDATED") | None) {
                        tally.hottest_from_origin += 1;
                    }
                }
                if let Some(label) = label.filter(|_| !update) {
                    *tally.labels.entry(label).or_default() += 1;
                }
                let _ = response.bytes().await;
            }
            Err(_) => tally.errors += 1,
        }
        let latency = intended.elapsed().as_micros() as u64;
        tally
            .latencies
            .as_mut()
            .expect("set")
            .saturating_record(latency.max(1));
        tally.sent += 1;
        index += args.connections as u64;
        intended += interval;
    }
    tally.unsent = total.saturating_sub(index) / args.connections as u64;
    tally
}

fn histogram() -> Histogram<u64> {
    // 1 µs to 60 s at 3 significant digits.
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds")
}

fn parse_args() -> Result<Args, Box<dyn std::error::Error>> {
    let mut flags = BTreeMap::new();
    let mut words = std::env::args().skip(1);
    while let Some(flag) = words.next() {
        let value = words.next().ok_or(format!("{flag} needs a value"))?;
        flags.insert(flag.trim_start_matches("--").to_owned(), value);
    }
    let take = |name: &str| flags.get(name).cloned();
    let ids_path = take("ids").ok_or("--ids FILE is required")?;
    let ids: Vec<u64> = std::fs::read_to_string(&ids_path)?
        .lines()
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    if ids.is_empty() {
        return Err(format!("{ids_path} holds no ids").into());
    }
    let sessions = match take("sessions") {
        Some(path) => std::fs::read_to_string(path)?
            .lines()
            .map(|line| {
                let (id, token) = line.split_once(' ').ok_or("a line is `id token`")?;
                Ok((id.parse()?, token.to_owned()))
            })
            .collect::<Result<_, Box<dyn std::error::Error>>>()?,
        None => Vec::new(),
    };
    Ok(Args {
        url: take("url").unwrap_or_else(|| "http://127.0.0.1:8080".into()),
        ids,
        sessions,
        rate: take("rate").map_or(Ok(1000.0), |v| v.parse())?,
        seconds: take("seconds").map_or(Ok(10.0), |v| v.parse())?,
        connections: take("connections").map_or(Ok(32), |v| v.parse())?,
        zipf: take("zipf").map_or(Ok(0.99), |v| v.parse())?,
        updates: take("updates").map_or(Ok(0.05), |v| v.parse())?,
        like: take("like").map(|v| v.parse()).transpose()?,
    })
}

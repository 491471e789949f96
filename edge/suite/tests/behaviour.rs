//! The edge behaviour suite, written once and run over real HTTP against
//! every edge: the local edge, the Cloudflare Worker in `workerd` (through
//! `wrangler dev`, offline) and the Spin component in `wasmtime serve`.
//!
//! Where an edge does something differently by design (the Spin component
//! keeps no cache; the Worker's `fetch` cannot tell a refused connection from
//! a lost one), the case asserts that edge's documented behaviour instead.

use std::time::Duration;

use millions_edge_local::policy::Origin;
use millions_edge_suite::{black_hole, EdgeKind, Origins, RunningEdge};
use millions_testkit::look_until;
use serde_json::{json, Value};

/// Two regions (region-0 primary) and the edge in front of them.
struct Setup {
    edge: RunningEdge,
    origins: Origins,
    client: reqwest::Client,
}

const COOLDOWN_MS: u64 = 400;

fn origin(region: &str, url: String) -> Origin {
    Origin {
        region: region.into(),
        url,
        near: Vec::new(),
    }
}

async fn setup(kind: EdgeKind) -> Setup {
    let origins = Origins::start(2).await;
    let list: Vec<Origin> = origins
        .regions
        .iter()
        .enumerate()
        .map(|(i, region)| origin(&format!("region-{i}"), region.url()))
        .collect();
    Setup {
        edge: RunningEdge::start(kind, &list, COOLDOWN_MS).await,
        origins,
        client: reqwest::Client::new(),
    }
}

fn john(n: u64) -> Value {
    json!({
        "email": format!("john{n}.{}@example.com", std::process::id()),
        "password": "correct horse battery staple",
        "firstName": "John", "lastName": "Smith",
        "address": {"streetAddress": "21 2nd Street", "city": "New York", "state": "NY", "postalCode": 10021},
        "phoneNumbers": ["212 555-1234"]
    })
}

fn cache_of(response: &reqwest::Response) -> String {
    response.headers()["x-cache"].to_str().unwrap().to_owned()
}

impl Setup {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.edge.url)
    }

    async fn signup(&self) -> reqwest::Response {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.client
            .post(self.url("/auth/signup"))
            .json(&john(n))
            .send()
            .await
            .unwrap()
    }

    /// Signs a user up through the edge; returns its path and session token.
    async fn create_user(&self) -> (String, String) {
        let response = self.signup().await;
        assert_eq!(response.status(), 201);
        assert_eq!(cache_of(&response), "BYPASS");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let answer: Value = response.json().await.unwrap();
        (
            location,
            answer["session"]["token"].as_str().unwrap().to_owned(),
        )
    }

    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.client.get(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap()
    }

    /// The label the second of two identical reads gets.
    fn repeat_label(&self) -> &'static str {
        if self.edge.kind.caches() {
            "HIT"
        } else {
            "MISS"
        }
    }
}

mod cases {
    use super::*;

    /// Every request the edge sends an origin is its hop of a W3C trace:
    /// the client's trace continued under the edge's own span id, or a new
    /// trace when the client sent none, so the API's lines and the edge's
    /// share one id.
    pub async fn origin_requests_carry_the_trace(s: Setup) {
        let client_hop = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let missing = s
            .get("/users/987654321", &[("traceparent", client_hop)])
            .await;
        assert_eq!(missing.status(), 404);
        let sent = s.origins.last_traceparent().expect("the edge sent a trace");
        let parts: Vec<&str> = sent.split('-').collect();
        assert_eq!(parts.len(), 4, "{sent}");
        assert_eq!(
            (parts[0], parts[1], parts[3]),
            ("00", "4bf92f3577b34da6a3ce929d0e0e4736", "01"),
            "the client's trace, continued: {sent}"
        );
        assert_ne!(parts[2], "00f067aa0ba902b7", "under the edge's own span id");
        assert_eq!(parts[2].len(), 16);

        let mut started = Vec::new();
        for _ in 0..2 {
            assert_eq!(s.signup().await.status(), 201);
            let sent = s
                .origins
                .last_traceparent()
                .expect("the edge started a trace");
            let parts: Vec<&str> = sent.split('-').collect();
            let hex = |part: &str, len: usize| {
                part.len() == len && part.bytes().all(|b| b.is_ascii_hexdigit())
            };
            assert!(
                parts.len() == 4
                    && parts[0] == "00"
                    && hex(parts[1], 32)
                    && hex(parts[2], 16)
                    && parts[3] == "01",
                "a valid, sampled traceparent: {sent}"
            );
            started.push(parts[1].to_owned());
        }
        assert_ne!(started[0], started[1], "each request its own trace");
    }

    pub async fn a_profile_misses_then_hits(s: Setup) {
        let (path, _) = s.create_user().await;
        let first = s.get(&path, &[]).await;
        assert_eq!(
            (first.status().as_u16(), cache_of(&first).as_str()),
            (200, "MISS")
        );
        assert_eq!(
            first.headers()["cache-control"],
            "public, max-age=30, stale-while-revalidate=60, stale-if-error=600"
        );
        assert_eq!(first.headers()["x-edge-origin"], "region-0");
        let first_body = first.text().await.unwrap();
        let second = s.get(&path, &[]).await;
        assert_eq!(
            (second.status().as_u16(), cache_of(&second).as_str()),
            (200, s.repeat_label())
        );
        assert_eq!(second.headers()["x-edge-origin"], "region-0");
        assert_eq!(second.text().await.unwrap(), first_body);
    }

    pub async fn a_hit_does_not_reach_the_origin(s: Setup) {
        // A change made in the store behind the edge is not seen while the
        // entry lives: the answer really comes from the edge's cache.
        let (path, _) = s.create_user().await;
        s.get(&path, &[]).await;
        let id: u64 = path.trim_start_matches("/users/").parse().unwrap();
        let id = millions_core::UserId::new(id).unwrap();
        let users = &s.origins.ports.users;
        let stored = users
            .get(id, millions_core::Consistency::Strong)
            .await
            .unwrap()
            .unwrap();
        let mut changed = stored.clone();
        changed.profile.first_name = "Changed".into();
        changed.version = stored.version.next();
        users.replace(&changed, stored.version).await.unwrap();
        let read: Value = s.get(&path, &[]).await.json().await.unwrap();
        let expected = if s.edge.kind.caches() {
            "John"
        } else {
            "Changed"
        };
        assert_eq!(read["firstName"], expected);
    }

    pub async fn credentials_bypass_the_cache(s: Setup) {
        let (path, token) = s.create_user().await;
        s.get(&path, &[]).await;
        let bearer = format!("Bearer {token}");
        for header in [
            ("cookie", "__Host-session=abc"),
            ("authorization", bearer.as_str()),
        ] {
            let response = s.get(&path, &[header]).await;
            assert_eq!(
                (response.status().as_u16(), cache_of(&response).as_str()),
                (200, "BYPASS"),
                "{header:?}"
            );
        }
        let response = s.get("/auth/session", &[("authorization", &bearer)]).await;
        assert_eq!(
            (response.status().as_u16(), cache_of(&response).as_str()),
            (200, "BYPASS")
        );
    }

    pub async fn the_edge_answers_304_itself(s: Setup) {
        let (path, _) = s.create_user().await;
        let first = s.get(&path, &[]).await;
        let etag = first.headers()["etag"].to_str().unwrap().to_owned();
        let response = s.get(&path, &[("if-none-match", &etag)]).await;
        assert_eq!(
            (response.status().as_u16(), cache_of(&response).as_str()),
            (304, s.repeat_label())
        );
        assert_eq!(response.headers()["etag"], etag.as_str());
        assert!(response.text().await.unwrap().is_empty());
        // A miss with validators is filled with the full body, then answered 304.
        let (other, _) = s.create_user().await;
        let response = s.get(&other, &[("if-none-match", "\"1\"")]).await;
        assert_eq!(
            (response.status().as_u16(), cache_of(&response).as_str()),
            (304, "MISS")
        );
    }

    pub async fn a_write_through_the_edge_purges_the_profile(s: Setup) {
        let (path, token) = s.create_user().await;
        s.get(&path, &[]).await;
        assert_eq!(cache_of(&s.get(&path, &[]).await), s.repeat_label());
        let response = s
            .client
            .patch(s.url(&path))
            .bearer_auth(&token)
            .header("content-type", "application/merge-patch+json")
            .body(r#"{"firstName": "Jane"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(
            (response.status().as_u16(), cache_of(&response).as_str()),
            (200, "BYPASS")
        );
        let read = s.get(&path, &[]).await;
        assert_eq!(cache_of(&read), "MISS");
        assert_eq!(read.json::<Value>().await.unwrap()["firstName"], "Jane");
    }

    pub async fn hashed_assets_are_immutable_and_the_index_revalidates(s: Setup) {
        let index = s.get("/", &[]).await;
        assert_eq!(index.status(), 200);
        assert_eq!(index.headers()["cache-control"], "no-cache");
        assert_eq!(index.headers()["content-type"], "text/html; charset=utf-8");
        let etag = index.headers()["etag"].to_str().unwrap().to_owned();
        let html = index.text().await.unwrap();
        let script = html
            .split('"')
            .find(|part| part.starts_with("/assets/app.") && part.ends_with(".js"))
            .expect("the index links a hashed script")
            .to_owned();
        let revalidated = s.get("/index.html", &[("if-none-match", &etag)]).await;
        assert_eq!(revalidated.status(), 304);
        let asset = s.get(&script, &[]).await;
        assert_eq!(asset.status(), 200);
        assert_eq!(
            asset.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(
            asset.headers()["content-type"],
            "text/javascript; charset=utf-8"
        );
        assert!(asset.text().await.unwrap().contains("fetch("));
        let again = s.get(&script, &[]).await;
        assert_eq!(cache_of(&again), s.repeat_label());
        let missing = s.get("/assets/app.0123456789abcdef.js", &[]).await;
        assert_eq!(missing.status(), 404);
    }

    pub async fn the_app_is_served_to_a_logged_in_browser_with_its_security_headers(s: Setup) {
        // A browser with a session sends its cookie with every request; the
        // app's files are the same for everyone, so they are still cached,
        // and a page route (a shared profile link) answers with the index.
        let (path, token) = s.create_user().await;
        let cookie = format!("__Host-session={token}");
        let id = path.rsplit('/').next().unwrap();
        let first = s.get(&format!("/u/{id}"), &[("cookie", &cookie)]).await;
        assert_eq!(first.status(), 200);
        assert_eq!(first.headers()["content-type"], "text/html; charset=utf-8");
        for (name, value) in millions_web::SECURITY_HEADERS {
            assert_eq!(first.headers()[name], value, "{name}");
        }
        let html = first.text().await.unwrap();
        let style = html
            .split('"')
            .find(|part| part.starts_with("/assets/style.") && part.ends_with(".css"))
            .expect("the index links a hashed style sheet")
            .to_owned();
        s.get(&style, &[("cookie", &cookie)]).await;
        let again = s.get(&style, &[("cookie", &cookie)]).await;
        assert_eq!(again.status(), 200);
        assert_eq!(cache_of(&again), s.repeat_label());
        assert_eq!(again.headers()["x-content-type-options"], "nosniff");
        // The API beside it is still never answered from the cache.
        let session = s.get("/auth/session", &[("cookie", &cookie)]).await;
        assert_eq!(
            (session.status().as_u16(), cache_of(&session).as_str()),
            (200, "BYPASS")
        );
    }

    pub async fn concurrent_misses_share_one_origin_fetch(s: Setup) {
        let (path, _) = s.create_user().await;
        let before = s.origins.requests();
        let reads = (0..20).map(|_| {
            let (client, url) = (s.client.clone(), s.url(&path));
            tokio::spawn(async move { client.get(url).send().await.unwrap() })
        });
        for read in reads.collect::<Vec<_>>() {
            let response = read.await.unwrap();
            assert_eq!(response.status(), 200);
        }
        let fetched = s.origins.requests() - before;
        if s.edge.kind.coalesces() {
            // Requests that arrive after the fill completes are hits; those
            // that arrive during it wait for it. Either way, one fetch.
            assert_eq!(
                fetched, 1,
                "20 concurrent reads reached the origin {fetched} times"
            );
        } else if s.edge.kind.caches() {
            // Each miss fetches; reads arriving after the first store hit.
            assert!((1..=20).contains(&fetched), "{fetched} origin fetches");
        } else {
            assert_eq!(fetched, 20);
        }
    }

    /// A celebrity's profile read by many clients at the moment it is not
    /// stored: the stampede an edge exists to absorb. 200 reads at once,
    /// for three profiles in turn, from an origin that takes 150 ms to
    /// answer a read, so the reads arrive while the first one is filling.
    pub async fn a_stampede_on_one_missing_profile_reaches_the_origin_once(s: Setup) {
        const READS: usize = 200;
        s.origins.delay_reads(Duration::from_millis(150));
        for _ in 0..3 {
            let (path, _) = s.create_user().await;
            let before = s.origins.requests();
            let reads: Vec<_> = (0..READS)
                .map(|_| {
                    let (client, url) = (s.client.clone(), s.url(&path));
                    tokio::spawn(async move { client.get(url).send().await.unwrap() })
                })
                .collect();
            for read in reads {
                assert_eq!(read.await.unwrap().status(), 200);
            }
            let fetched = s.origins.requests() - before;
            let expected = if s.edge.kind.coalesces() { 1 } else { READS };
            assert_eq!(fetched, expected, "{READS} reads of {path} at once");
        }
    }

    pub async fn the_api_is_never_cached(s: Setup) {
        for _ in 0..2 {
            let response = s.get("/health", &[]).await;
            assert_eq!(
                (response.status().as_u16(), cache_of(&response).as_str()),
                (200, "BYPASS")
            );
        }
    }

    pub async fn requests_fail_over_to_the_next_region_and_come_back(mut s: Setup) {
        let (path, _) = s.create_user().await;
        let response = s.get("/health", &[]).await;
        assert_eq!(response.headers()["x-edge-origin"], "region-0");
        let primary = s.origins.regions.remove(0).stop().await;
        for _ in 0..3 {
            let response = s.get(&path, &[("cache-control", "no-cache")]).await;
            assert_eq!(response.status(), 200);
            assert_eq!(response.headers()["x-edge-origin"], "region-1");
        }
        let restarted = s.origins.restart(primary).await;
        tokio::time::sleep(Duration::from_millis(COOLDOWN_MS + 300)).await;
        let mut back = false;
        // One request may be the probe that finds the primary up again.
        for _ in 0..2 {
            let response = s.get("/health", &[]).await;
            assert_eq!(response.status(), 200);
            back |= response.headers()["x-edge-origin"] == "region-0";
        }
        assert!(back, "requests return to the primary after its cool-down");
        let _stopped = restarted.stop().await;
    }

    pub async fn a_missing_profile_is_remembered_briefly(s: Setup) {
        // The API says `public, max-age=10` on a 404; the edge obeys.
        let before = s.origins.requests();
        for expected in ["MISS", s.repeat_label()] {
            let response = s.get("/users/987654321", &[]).await;
            assert_eq!(
                (response.status().as_u16(), cache_of(&response).as_str()),
                (404, expected)
            );
            assert_eq!(response.headers()["cache-control"], "public, max-age=10");
        }
        let fetched = s.origins.requests() - before;
        assert_eq!(fetched, if s.edge.kind.caches() { 1 } else { 2 });
    }

    pub async fn a_stored_answer_stands_in_when_every_region_fails(mut s: Setup) {
        // The profile says `stale-if-error=600` (RFC 5861): with every
        // region down, a request that asks for validation gets the stored copy.
        let (path, _) = s.create_user().await;
        s.get(&path, &[]).await;
        let mut stopped = Vec::new();
        for region in std::mem::take(&mut s.origins.regions) {
            stopped.push(region.stop().await);
        }
        let response = s.get(&path, &[("cache-control", "max-age=0")]).await;
        if s.edge.kind.caches() {
            assert_eq!(
                (response.status().as_u16(), cache_of(&response).as_str()),
                (200, "STALE")
            );
            assert!(response.headers().contains_key("age"));
        } else {
            assert_eq!(response.status(), 502);
        }
    }

    pub async fn a_post_refused_by_a_stopped_region(mut s: Setup) {
        let _stopped = s.origins.regions.remove(0).stop().await;
        let response = s.signup().await;
        if s.edge.kind.knows_unsent_requests() {
            // A refused connection delivered nothing: the POST moves on.
            let status = response.status();
            let origin = response.headers().get("x-edge-origin").cloned();
            assert_eq!(
                status,
                201,
                "{origin:?}: {}",
                response.text().await.unwrap()
            );
            assert_eq!(origin.unwrap(), "region-1");
        } else {
            // Unknown whether it arrived: not replayed, answered 502.
            assert_eq!(response.status(), 502);
            assert_eq!(
                response.headers()["content-type"],
                "application/problem+json"
            );
        }
    }
}

/// A POST that reached a region which then failed is never replayed.
async fn a_post_that_reached_a_failing_region_is_not_replayed(kind: EdgeKind) {
    let origins = Origins::start(1).await;
    let list = [
        origin("region-0", format!("http://{}", black_hole().await)),
        origin("region-1", origins.regions[0].url()),
    ];
    let edge = RunningEdge::start(kind, &list, COOLDOWN_MS).await;
    let response = reqwest::Client::new()
        .post(format!("{}/auth/signup", edge.url))
        .json(&john(10_000))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
}

/// The Worker and the Spin component, which run no metrics recorder, log
/// one JSON line per request (`millions_edge_policy::access_log`): its
/// cache label, the origin that answered, its time and its trace id.
async fn each_request_is_one_json_line_of_the_edges_output(kind: EdgeKind) {
    let s = setup(kind).await;
    let (path, _) = s.create_user().await;
    let client_hop = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    for _ in 0..2 {
        assert_eq!(
            s.get(&path, &[("traceparent", client_hop)]).await.status(),
            200
        );
    }
    let wanted = [s.repeat_label(), "MISS"];
    // The output reaches the file a moment after the answer.
    let lines_of_path = || -> Vec<Value> {
        s.edge
            .output_lines()
            .iter()
            // wasmtime prefixes a component's lines (`stdout [3] :: `).
            .filter_map(|line| serde_json::from_str::<Value>(&line[line.find('{')?..]).ok())
            .filter(|line| line["path"] == path.as_str())
            .collect()
    };
    let lines = look_until(Duration::from_secs(5), lines_of_path, |l| l.len() >= 2).await;
    assert_eq!(
        lines.len(),
        2,
        "one line per read of {path}: {lines:?} in {:?}",
        s.edge.output_lines()
    );
    let mut labels: Vec<&str> = lines.iter().map(|l| l["cache"].as_str().unwrap()).collect();
    labels.sort_unstable();
    let mut expected = wanted.to_vec();
    expected.sort_unstable();
    assert_eq!(labels, expected);
    for line in &lines {
        assert_eq!(line["method"], "GET");
        assert_eq!(line["status"], 200);
        assert_eq!(line["origin"], "region-0");
        assert_eq!(line["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
        assert!(line["millis"].is_u64(), "{line}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_logs_one_json_line_per_request() {
    each_request_is_one_json_line_of_the_edges_output(EdgeKind::Worker).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spin_component_logs_one_json_line_per_request() {
    each_request_is_one_json_line_of_the_edges_output(EdgeKind::Spin).await;
}

/// One module of tests per edge, one test per case.
macro_rules! edge_suite {
    ($edge:ident, $kind:expr, [$($case:ident),* $(,)?]) => {
        mod $edge {
            use super::*;

            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    cases::$case(setup($kind).await).await;
                }
            )*

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_post_that_reached_a_failing_region_is_not_replayed() {
                super::a_post_that_reached_a_failing_region_is_not_replayed($kind).await;
            }
        }
    };
}

macro_rules! behaviour {
    ($($edge:ident: $kind:expr;)*) => {
        $(
            edge_suite!($edge, $kind, [
                a_profile_misses_then_hits,
                origin_requests_carry_the_trace,
                a_hit_does_not_reach_the_origin,
                credentials_bypass_the_cache,
                the_edge_answers_304_itself,
                a_write_through_the_edge_purges_the_profile,
                hashed_assets_are_immutable_and_the_index_revalidates,
                the_app_is_served_to_a_logged_in_browser_with_its_security_headers,
                the_api_is_never_cached,
                concurrent_misses_share_one_origin_fetch,
                a_stampede_on_one_missing_profile_reaches_the_origin_once,
                requests_fail_over_to_the_next_region_and_come_back,
                a_post_refused_by_a_stopped_region,
                a_missing_profile_is_remembered_briefly,
                a_stored_answer_stands_in_when_every_region_fails,
            ]);
        )*
    };
}

behaviour! {
    local: EdgeKind::Local;
    worker: EdgeKind::Worker;
    spin: EdgeKind::Spin;
}

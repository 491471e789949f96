//! The engine's request flow against an in-memory store and a scripted
//! origin: the parts of RFC 9111 that need more than one exchange.

use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use super::*;
use crate::origins::Origin;

thread_local! {
    /// Each test runs on its own thread (current-thread runtime), so each
    /// has its own clock.
    static NOW: Cell<u64> = const { Cell::new(1_800_000_000_000) };
}

fn now_ms() -> u64 {
    NOW.with(Cell::get)
}

fn advance(seconds: u64) {
    NOW.with(|now| now.set(now.get() + seconds * 1000));
}

#[derive(Default)]
struct MemoryStore {
    entries: Mutex<HashMap<String, OriginAnswer>>,
    /// An entry another fill stores just after the next look misses it: the
    /// moment between a request's lookup and its joining the fills in flight.
    landing: Mutex<Option<(String, OriginAnswer)>>,
    /// The fills announced (`+key`) and ended (`-key`), in order.
    fills: Mutex<Vec<String>>,
}

impl ResponseStore for MemoryStore {
    type Entry = OriginAnswer;
    type Ticket = ();

    fn ticket(&self, _: &str) {}

    fn fill_started(&self, key: &str) {
        self.fills.lock().unwrap().push(format!("+{key}"));
    }

    fn fill_ended(&self, key: &str) {
        self.fills.lock().unwrap().push(format!("-{key}"));
    }

    async fn get(&self, key: &str) -> Option<OriginAnswer> {
        let mut entries = self.entries.lock().unwrap();
        let found = entries.get(key).cloned();
        if let Some((landing, entry)) = self.landing.lock().unwrap().take() {
            entries.insert(landing, entry);
        }
        found
    }

    async fn put(&self, key: String, entry: OriginAnswer, _: u32, _: ()) {
        self.entries.lock().unwrap().insert(key, entry);
    }

    async fn purge(&self, keys: &[String]) {
        let mut entries = self.entries.lock().unwrap();
        for key in keys {
            entries.remove(key);
        }
    }
}

/// Answers from a script, in order, and remembers what it was sent.
#[derive(Default)]
struct ScriptedOrigin {
    answers: Mutex<VecDeque<Response<Bytes>>>,
    seen: Mutex<Vec<Request<Bytes>>>,
}

impl Transport for &ScriptedOrigin {
    async fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, SendError> {
        self.seen.lock().unwrap().push(request);
        self.answers
            .lock()
            .unwrap()
            .pop_front()
            .ok_or_else(|| SendError::NotSent("connection refused".into()))
    }
}

fn answer(status: u16, headers: &[(&str, &str)], body: &'static str) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from_static(body.as_bytes()));
    *response.status_mut() = StatusCode::from_u16(status).unwrap();
    for (name, value) in headers {
        response.headers_mut().append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    response
}

fn edge(origin: &ScriptedOrigin) -> Edge<MemoryStore, &ScriptedOrigin> {
    let settings = EdgeSettings {
        asset_version: "r1".into(),
        static_seconds: 3600,
        origins: vec![Origin {
            region: "region-0".into(),
            url: "http://origin.test".into(),
            near: Vec::new(),
        }],
        failure_threshold: 100,
        cooldown_ms: 1,
        ..EdgeSettings::default()
    };
    Edge::new(settings, MemoryStore::default(), origin, now_ms, 7)
}

fn script(origin: &ScriptedOrigin, answers: Vec<Response<Bytes>>) {
    origin.answers.lock().unwrap().extend(answers);
}

async fn send(
    edge: &Edge<MemoryStore, &ScriptedOrigin>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Handled {
    let mut request = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    edge.handle(request.body(Bytes::new()).unwrap(), &Client::default())
        .await
}

fn label(handled: &Handled) -> &str {
    handled.response.headers()["x-cache"].to_str().unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn a_304_freshens_the_stored_fields() {
    // RFC 9111 §4.3.1 and §4.3.4.
    let origin = ScriptedOrigin::default();
    let edge = edge(&origin);
    script(
        &origin,
        vec![
            answer(
                200,
                &[
                    ("cache-control", "max-age=10"),
                    ("etag", "\"a\""),
                    ("x-version", "1"),
                ],
                "body",
            ),
            answer(
                304,
                &[
                    ("cache-control", "max-age=10"),
                    ("etag", "\"a\""),
                    ("x-version", "2"),
                ],
                "",
            ),
        ],
    );
    assert_eq!(label(&send(&edge, "GET", "/doc", &[]).await), "MISS");
    advance(11);
    let handled = send(&edge, "GET", "/doc", &[]).await;
    assert_eq!(label(&handled), "REVALIDATED");
    assert_eq!(handled.response.status(), 200);
    assert_eq!(handled.response.headers()["x-version"], "2");
    assert_eq!(handled.response.body(), "body");
    let validation = origin.seen.lock().unwrap()[1].headers()["if-none-match"].clone();
    assert_eq!(validation, "\"a\"");
    // Freshened for another ten seconds.
    advance(5);
    assert_eq!(label(&send(&edge, "GET", "/doc", &[]).await), "HIT");
}

#[tokio::test(flavor = "current_thread")]
async fn only_if_cached_never_reaches_the_origin() {
    // RFC 9111 §5.2.1.7.
    let origin = ScriptedOrigin::default();
    let edge = edge(&origin);
    let handled = send(&edge, "GET", "/doc", &[("cache-control", "only-if-cached")]).await;
    assert_eq!(handled.response.status(), 504);
    script(
        &origin,
        vec![answer(200, &[("cache-control", "max-age=10")], "body")],
    );
    send(&edge, "GET", "/doc", &[]).await;
    let handled = send(&edge, "GET", "/doc", &[("cache-control", "only-if-cached")]).await;
    assert_eq!(
        (handled.response.status().as_u16(), label(&handled)),
        (200, "HIT")
    );
    advance(11);
    let handled = send(&edge, "GET", "/doc", &[("cache-control", "only-if-cached")]).await;
    assert_eq!(
        handled.response.status(),
        504,
        "stale and not allowed to validate"
    );
    assert_eq!(origin.seen.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn stale_while_revalidate_answers_then_refreshes() {
    // RFC 5861 §3.
    let origin = ScriptedOrigin::default();
    let edge = edge(&origin);
    script(
        &origin,
        vec![
            answer(
                200,
                &[("cache-control", "max-age=10, stale-while-revalidate=30")],
                "v1",
            ),
            answer(
                200,
                &[("cache-control", "max-age=10, stale-while-revalidate=30")],
                "v2",
            ),
        ],
    );
    send(&edge, "GET", "/doc", &[]).await;
    advance(15);
    let handled = send(&edge, "GET", "/doc", &[]).await;
    assert_eq!(
        (label(&handled), handled.response.body().as_ref()),
        ("STALE", &b"v1"[..])
    );
    assert_eq!(handled.response.headers()["age"], "15");
    edge.refresh(
        handled.refresh.expect("a refresh is handed out"),
        &Client::default(),
    )
    .await;
    let handled = send(&edge, "GET", "/doc", &[]).await;
    assert_eq!(
        (label(&handled), handled.response.body().as_ref()),
        ("HIT", &b"v2"[..])
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_write_invalidates_its_target_and_location() {
    // RFC 9111 §4.4.
    let origin = ScriptedOrigin::default();
    let edge = edge(&origin);
    let cacheable = || answer(200, &[("cache-control", "max-age=60")], "read");
    script(&origin, vec![cacheable(), cacheable()]);
    send(&edge, "GET", "/items/1", &[]).await;
    send(&edge, "GET", "/items/2", &[]).await;
    script(&origin, vec![answer(201, &[("location", "/items/2")], "")]);
    let write = send(&edge, "POST", "/items/1", &[]).await;
    // What the runtime spreads to the other copies of its store.
    assert_eq!(write.purged, ["/r1/items/1", "/r1/items/2"]);
    script(&origin, vec![cacheable(), cacheable()]);
    assert_eq!(label(&send(&edge, "GET", "/items/1", &[]).await), "MISS");
    assert_eq!(label(&send(&edge, "GET", "/items/2", &[]).await), "MISS");
}

#[tokio::test(flavor = "current_thread")]
async fn a_refused_write_and_a_read_purge_nothing() {
    // RFC 9111 §4.4: only a non-error answer to an unsafe method.
    let origin = ScriptedOrigin::default();
    let edge = edge(&origin);
    script(&origin, vec![answer(412, &[], "")]);
    assert!(send(&edge, "PUT", "/items/1", &[]).await.purged.is_empty());
    script(
        &origin,
        vec![answer(200, &[("cache-control", "max-age=60")], "")],
    );
    assert!(send(&edge, "GET", "/items/1", &[]).await.purged.is_empty());
}

#[tokio::test(flavor = "current_thread")]
async fn credentialed_answers_are_shared_only_when_public() {
    // RFC 9111 §3.5.
    let origin = ScriptedOrigin::default();
    let edge = edge(&origin);
    let bearer = [("authorization", "Bearer t")];
    script(
        &origin,
        vec![answer(200, &[("cache-control", "max-age=60")], "mine")],
    );
    assert_eq!(label(&send(&edge, "GET", "/a", &bearer).await), "BYPASS");
    script(
        &origin,
        vec![answer(
            200,
            &[("cache-control", "public, max-age=60")],
            "everyone's",
        )],
    );
    send(&edge, "GET", "/b", &bearer).await;
    script(
        &origin,
        vec![answer(200, &[("cache-control", "max-age=60")], "anonymous")],
    );
    assert_eq!(label(&send(&edge, "GET", "/a", &[]).await), "MISS");
    assert_eq!(label(&send(&edge, "GET", "/b", &[]).await), "HIT");
}

#[tokio::test(flavor = "current_thread")]
async fn set_cookie_is_never_replayed_from_the_cache() {
    let origin = ScriptedOrigin::default();
    let edge = edge(&origin);
    script(
        &origin,
        vec![answer(
            200,
            &[
                ("cache-control", "public, max-age=60"),
                ("set-cookie", "id=1"),
            ],
            "x",
        )],
    );
    let first = send(&edge, "GET", "/c", &[]).await;
    assert!(
        first.response.headers().contains_key("set-cookie"),
        "the requester gets its cookie"
    );
    let second = send(&edge, "GET", "/c", &[]).await;
    assert_eq!(label(&second), "HIT");
    assert!(!second.response.headers().contains_key("set-cookie"));
}

#[tokio::test(flavor = "current_thread")]
async fn vary_keeps_one_variant_per_url() {
    // RFC 9111 §4.1: a stored answer serves only matching requests.
    let origin = ScriptedOrigin::default();
    let edge = edge(&origin);
    let varied = |body| {
        answer(
            200,
            &[("cache-control", "max-age=60"), ("vary", "accept-language")],
            body,
        )
    };
    script(&origin, vec![varied("en"), varied("fr")]);
    send(&edge, "GET", "/v", &[("accept-language", "en")]).await;
    let en = send(&edge, "GET", "/v", &[("accept-language", "en")]).await;
    assert_eq!(
        (label(&en), en.response.body().as_ref()),
        ("HIT", &b"en"[..])
    );
    let fr = send(&edge, "GET", "/v", &[("accept-language", "fr")]).await;
    assert_eq!(
        (label(&fr), fr.response.body().as_ref()),
        ("MISS", &b"fr"[..])
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_fill_that_lands_after_the_lookup_is_used_not_fetched_again() {
    // A miss looks at the store, then joins the fills in flight; a fill that
    // stored its answer and left in between must not cost a second fetch.
    let origin = ScriptedOrigin::default();
    let edge = edge(&origin);
    script(
        &origin,
        vec![answer(200, &[("cache-control", "max-age=60")], "one")],
    );
    send(&edge, "GET", "/hot", &[]).await;
    let filled = edge.store.entries.lock().unwrap().drain().next().unwrap();
    *edge.store.landing.lock().unwrap() = Some(filled);
    let handled = send(&edge, "GET", "/hot", &[]).await;
    assert_eq!(
        (label(&handled), handled.response.body().as_ref()),
        ("HIT", &b"one"[..])
    );
    assert_eq!(origin.seen.lock().unwrap().len(), 1, "fetched once");
}

#[test]
fn age_values_read_as_their_seconds() {
    for seconds in [0, 7, 9, 10, 42, 99, 100, 31_536_000] {
        assert_eq!(age_value(seconds), HeaderValue::from(seconds), "{seconds}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn fields_named_in_connection_stop_at_the_edge_both_ways() {
    // RFC 9110 §7.6.1; RFC 9111 §3.1 (not stored either).
    let origin = ScriptedOrigin::default();
    let edge = edge(&origin);
    script(
        &origin,
        vec![answer(
            200,
            &[
                ("cache-control", "max-age=60"),
                ("connection", "x-origin-hop"),
                ("x-origin-hop", "1"),
                ("x-kept", "1"),
            ],
            "body",
        )],
    );
    let first = send(
        &edge,
        "GET",
        "/hop",
        &[("connection", "x-client-hop"), ("x-client-hop", "secret")],
    )
    .await;
    let seen = origin.seen.lock().unwrap().pop().unwrap();
    assert!(!seen.headers().contains_key("x-client-hop"));
    assert!(!seen.headers().contains_key("connection"));
    let hit = send(&edge, "GET", "/hop", &[]).await;
    assert_eq!(label(&hit), "HIT");
    for response in [&first.response, &hit.response] {
        assert!(!response.headers().contains_key("x-origin-hop"));
        assert_eq!(response.headers()["x-kept"], "1");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_304_for_another_strong_validator_is_not_used_and_the_edge_asks_again() {
    // RFC 9111 §4.3.4: only a stored answer with the same strong validator
    // is updated; with none, the 304 cannot answer the request.
    let origin = ScriptedOrigin::default();
    let edge = edge(&origin);
    script(
        &origin,
        vec![
            answer(
                200,
                &[("cache-control", "max-age=10"), ("etag", "\"a\"")],
                "old",
            ),
            answer(
                304,
                &[("cache-control", "max-age=10"), ("etag", "\"b\"")],
                "",
            ),
            answer(
                200,
                &[("cache-control", "max-age=10"), ("etag", "\"b\"")],
                "new",
            ),
        ],
    );
    send(&edge, "GET", "/doc", &[]).await;
    advance(11);
    let handled = send(&edge, "GET", "/doc", &[]).await;
    assert_eq!(handled.response.status(), 200);
    assert_eq!(handled.response.body().as_ref(), b"new");
    assert_eq!(handled.response.headers()["etag"], "\"b\"");
    let seen = origin.seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[1].headers()["if-none-match"], "\"a\"");
    assert!(!seen[2].headers().contains_key("if-none-match"));
}

#[tokio::test(flavor = "current_thread")]
async fn a_range_is_cut_from_the_whole_answer_the_edge_fills_with() {
    // RFC 9111 §3.4: no partial content is stored; RFC 9110 §14: the edge
    // answers the range itself, from the complete answer.
    let origin = ScriptedOrigin::default();
    let edge = edge(&origin);
    let whole = || {
        answer(
            200,
            &[("cache-control", "max-age=60"), ("etag", "\"a\"")],
            "0123456789",
        )
    };
    script(&origin, vec![whole()]);
    let first = send(&edge, "GET", "/items/1", &[("range", "bytes=2-4")]).await;
    assert_eq!(first.response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(first.response.body().as_ref(), b"234");
    assert_eq!(first.response.headers()["content-range"], "bytes 2-4/10");
    assert_eq!(first.response.headers()["content-length"], "3");
    let sent = origin.seen.lock().unwrap()[0].headers().clone();
    assert!(!sent.contains_key("range"), "{sent:?}");

    let hit = send(&edge, "GET", "/items/1", &[("range", "bytes=-2")]).await;
    assert_eq!(
        (label(&hit), hit.response.status()),
        ("HIT", StatusCode::PARTIAL_CONTENT)
    );
    assert_eq!(hit.response.body().as_ref(), b"89");
    let stale_tag = send(
        &edge,
        "GET",
        "/items/1",
        &[("range", "bytes=0-0"), ("if-range", "\"b\"")],
    )
    .await;
    assert_eq!(stale_tag.response.status(), StatusCode::OK);
    assert_eq!(stale_tag.response.body().as_ref(), b"0123456789");
    let past_the_end = send(&edge, "GET", "/items/1", &[("range", "bytes=10-")]).await;
    assert_eq!(
        past_the_end.response.status(),
        StatusCode::RANGE_NOT_SATISFIABLE
    );
    assert_eq!(
        past_the_end.response.headers()["content-range"],
        "bytes */10"
    );
    assert!(!past_the_end
        .response
        .headers()
        .contains_key("cache-control"));
    // §13.2.2: a matching If-None-Match is answered 304 before any range.
    let validated = send(
        &edge,
        "GET",
        "/items/1",
        &[("range", "bytes=0-0"), ("if-none-match", "\"a\"")],
    )
    .await;
    assert_eq!(validated.response.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(origin.seen.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn a_head_miss_fills_with_a_get_that_later_reads_share() {
    // RFC 9110 §9.3.2: HEAD is GET without the content. The edge asks the
    // origin with GET, so no HEAD answer ever has to update a stored GET
    // (RFC 9111 §4.3.5): the one stored answer serves both methods.
    let origin = ScriptedOrigin::default();
    let edge = edge(&origin);
    script(
        &origin,
        vec![answer(200, &[("cache-control", "max-age=60")], "body")],
    );
    let head = send(&edge, "HEAD", "/items/1", &[]).await;
    assert_eq!(
        (label(&head), head.response.status()),
        ("MISS", StatusCode::OK)
    );
    assert!(head.response.body().is_empty());
    assert_eq!(origin.seen.lock().unwrap()[0].method(), Method::GET);
    let get = send(&edge, "GET", "/items/1", &[]).await;
    assert_eq!(label(&get), "HIT");
    assert_eq!(get.response.body().as_ref(), b"body");
    assert_eq!(origin.seen.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn a_stale_answer_stands_in_for_a_503_or_no_answer_only_where_allowed() {
    // RFC 5861 §4 (stale-if-error) for a 5xx and for an origin that cannot
    // be reached; RFC 9111 §5.2.2.2: must-revalidate forbids it, and the
    // error is passed on.
    let origin = ScriptedOrigin::default();
    let edge = edge(&origin);
    let unavailable = || answer(503, &[("retry-after", "5")], "down");
    script(
        &origin,
        vec![
            answer(
                200,
                &[("cache-control", "max-age=10, stale-if-error=600")],
                "kept",
            ),
            answer(
                200,
                &[(
                    "cache-control",
                    "max-age=10, must-revalidate, stale-if-error=600",
                )],
                "strict",
            ),
        ],
    );
    send(&edge, "GET", "/items/1", &[]).await;
    send(&edge, "GET", "/items/2", &[]).await;
    advance(60);
    script(&origin, vec![unavailable()]);
    let on_503 = send(&edge, "GET", "/items/1", &[]).await;
    assert_eq!(
        (label(&on_503), on_503.response.body().as_ref()),
        ("STALE", &b"kept"[..])
    );
    // Nothing scripted: the origin refuses the connection.
    let unreachable = send(&edge, "GET", "/items/1", &[]).await;
    assert_eq!(label(&unreachable), "STALE");
    // A 503 sends the edge to the next region; with none left, the edge
    // answers 502 itself (`origins`).
    script(&origin, vec![unavailable()]);
    let strict = send(&edge, "GET", "/items/2", &[]).await;
    assert_eq!(strict.response.status(), StatusCode::BAD_GATEWAY);
    // Past the stale-if-error window, the error goes through too.
    advance(600);
    script(&origin, vec![unavailable()]);
    let late = send(&edge, "GET", "/items/1", &[]).await;
    assert_eq!(late.response.status(), StatusCode::BAD_GATEWAY);
}

#[tokio::test(flavor = "current_thread")]
async fn every_fill_the_store_is_told_of_ends_however_it_ends() {
    // What lets the Worker's misses wait for a fill without ever waiting
    // for one that is over: stored, not storable, failed, or stale answered.
    let origin = ScriptedOrigin::default();
    let edge = edge(&origin);
    script(
        &origin,
        vec![
            answer(
                200,
                &[("cache-control", "max-age=1, stale-if-error=60")],
                "kept",
            ),
            answer(200, &[("cache-control", "no-store")], "not kept"),
        ],
    );
    send(&edge, "GET", "/items/1", &[]).await;
    send(&edge, "GET", "/items/2", &[]).await;
    // Nothing scripted: refused, no stored answer to stand in.
    send(&edge, "GET", "/items/3", &[]).await;
    advance(5);
    // Refused again: the stale copy of /items/1 stands in.
    assert_eq!(label(&send(&edge, "GET", "/items/1", &[]).await), "STALE");
    // Credentialed reads are relayed, not fills others could wait for.
    script(&origin, vec![answer(200, &[], "mine")]);
    send(&edge, "GET", "/items/4", &[("authorization", "Bearer t")]).await;
    let fills = edge.store.fills.lock().unwrap().clone();
    assert_eq!(
        fills,
        [
            "+/r1/items/1",
            "-/r1/items/1",
            "+/r1/items/2",
            "-/r1/items/2",
            "+/r1/items/3",
            "-/r1/items/3",
            "+/r1/items/1",
            "-/r1/items/1"
        ]
    );
}

#[tokio::test(flavor = "current_thread")]
async fn if_modified_since_is_read_against_date_when_there_is_no_last_modified() {
    // RFC 9111 §4.3.2: the stored Last-Modified, or else its Date (the
    // test clock's now).
    let origin = ScriptedOrigin::default();
    let edge = edge(&origin);
    script(
        &origin,
        vec![answer(
            200,
            &[
                ("cache-control", "max-age=60"),
                ("date", "Fri, 15 Jan 2027 08:00:00 GMT"),
            ],
            "dated",
        )],
    );
    send(&edge, "GET", "/items/1", &[]).await;
    let since_then = send(
        &edge,
        "GET",
        "/items/1",
        &[("if-modified-since", "Fri, 15 Jan 2027 08:00:00 GMT")],
    )
    .await;
    assert_eq!(since_then.response.status(), StatusCode::NOT_MODIFIED);
    let before = send(
        &edge,
        "GET",
        "/items/1",
        &[("if-modified-since", "Fri, 15 Jan 2027 07:00:00 GMT")],
    )
    .await;
    assert_eq!(before.response.status(), StatusCode::OK);
}

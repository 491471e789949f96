//! The local edge in front of real API instances (the API router on the
//! embedded store), over real HTTP: cache hits and misses, bypass for
//! credentials, 304s from the edge, purge on write, and failover between
//! two origin regions.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use millions_edge_local::policy::Origin;
use millions_edge_local::EdgeConfig;
use serde_json::{json, Value};
use tokio::sync::oneshot;

/// An API instance ("region") serving a shared store.
struct Region {
    address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Region {
    async fn start(ports: millions_core::Ports, address: SocketAddr) -> Self {
        let app = millions_api::router(millions_api::ApiState::new(
            ports,
            1,
            millions_api::Settings::default(),
        ));
        let listener = tokio::net::TcpListener::bind(address).await.unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Self {
            address,
            stop: Some(stop),
            task,
        }
    }

    async fn stop(mut self) -> SocketAddr {
        self.stop.take().unwrap().send(()).unwrap();
        self.task.await.unwrap();
        self.address
    }
}

struct Setup {
    edge: String,
    client: reqwest::Client,
    users: Arc<dyn millions_core::Users>,
    ports: millions_core::Ports,
    regions: Vec<Region>,
    /// The session of the last user signed up.
    token: std::sync::Mutex<String>,
    _dir: tempfile::TempDir,
}

/// What answers at each origin address.
#[derive(Clone, Copy)]
enum Kind {
    Api,
    /// Accepts the connection, reads the request, closes without answering.
    Black,
}

async fn setup(regions: usize) -> Setup {
    setup_with(&vec![Kind::Api; regions]).await
}

async fn setup_with(regions: &[Kind]) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let db = millions_infra::local::EmbeddedDatabase::open(dir.path()).unwrap();
    let stores = millions_infra::local::EmbeddedStores::new(db).unwrap();
    let ports = stores.ports(Arc::new(millions_infra::SystemClock));
    let users = Arc::clone(&ports.users);
    let mut started = Vec::new();
    for _ in regions.iter().filter(|kind| matches!(kind, Kind::Api)) {
        started.push(Region::start(ports.clone(), "127.0.0.1:0".parse().unwrap()).await);
    }
    let mut config = EdgeConfig::single_origin("unused");
    let mut addresses = started.iter().map(|region| region.address);
    let mut origins = Vec::new();
    for (i, kind) in regions.iter().enumerate() {
        let address = match kind {
            Kind::Api => addresses.next().unwrap(),
            Kind::Black => black_hole().await,
        };
        origins.push(Origin {
            region: format!("region-{i}"),
            url: format!("http://{address}"),
            near: Vec::new(),
        });
    }
    config.origins = origins;
    config.cooldown = Duration::from_millis(300);
    config.origin_timeout = Duration::from_secs(2);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let edge = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, millions_edge_local::router(config))
            .await
            .unwrap()
    });
    Setup {
        edge,
        client: reqwest::Client::new(),
        users,
        ports,
        regions: started,
        token: std::sync::Mutex::new(String::new()),
        _dir: dir,
    }
}

fn john() -> Value {
    json!({
        "firstName": "John", "lastName": "Smith",
        "address": {"streetAddress": "21 2nd Street", "city": "New York", "state": "NY", "postalCode": 10021},
        "phoneNumbers": ["212 555-1234"]
    })
}

impl Setup {
    async fn post_user(&self) -> reqwest::Response {
        static SIGNUPS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = SIGNUPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut body = john();
        body["email"] = json!(format!("john{n}@example.com"));
        body["password"] = json!("correct horse battery staple");
        self.client
            .post(format!("{}/auth/signup", self.edge))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap()
    }

    /// Signs a user up through the edge; returns its path.
    async fn create_user(&self) -> String {
        let response = self.post_user().await;
        assert_eq!(response.status(), 201);
        assert_eq!(response.headers()["x-cache"], "BYPASS");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let answer: Value = response.json().await.unwrap();
        *self.token.lock().unwrap() = answer["session"]["token"].as_str().unwrap().to_owned();
        location
    }

    fn bearer(&self) -> String {
        format!("Bearer {}", self.token.lock().unwrap())
    }

    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.client.get(format!("{}{path}", self.edge));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap()
    }
}

fn cache_of(response: &reqwest::Response) -> &str {
    response.headers()["x-cache"].to_str().unwrap()
}

#[tokio::test]
async fn a_profile_misses_then_hits() {
    let setup = setup(1).await;
    let path = setup.create_user().await;
    let first = setup.get(&path, &[]).await;
    assert_eq!((first.status().as_u16(), cache_of(&first)), (200, "MISS"));
    assert_eq!(
        first.headers()["cache-control"],
        "public, max-age=30, stale-while-revalidate=60"
    );
    let first_body = first.text().await.unwrap();
    let second = setup.get(&path, &[]).await;
    assert_eq!((second.status().as_u16(), cache_of(&second)), (200, "HIT"));
    assert_eq!(second.headers()["x-edge-origin"], "region-0");
    assert_eq!(second.text().await.unwrap(), first_body);
}

#[tokio::test]
async fn a_hit_is_served_even_if_the_data_changed_behind_the_edge() {
    // Shows the answer really comes from the cache: a change made directly
    // in the store (not through the edge) is not seen until the entry expires.
    let setup = setup(1).await;
    let path = setup.create_user().await;
    setup.get(&path, &[]).await;
    let id: u64 = path.trim_start_matches("/users/").parse().unwrap();
    let id = millions_core::UserId::new(id).unwrap();
    let stored = setup
        .users
        .get(id, millions_core::Consistency::Strong)
        .await
        .unwrap()
        .unwrap();
    let mut changed = stored.clone();
    changed.profile.first_name = "Changed".into();
    changed.version = stored.version.next();
    setup.users.replace(&changed, stored.version).await.unwrap();
    let cached: Value = setup.get(&path, &[]).await.json().await.unwrap();
    assert_eq!(cached["firstName"], "John");
}

#[tokio::test]
async fn credentials_bypass_the_cache() {
    let setup = setup(1).await;
    let path = setup.create_user().await;
    setup.get(&path, &[]).await;
    for header in [("cookie", "session=abc"), ("authorization", "Bearer abc")] {
        let response = setup.get(&path, &[header]).await;
        assert_eq!(
            (response.status().as_u16(), cache_of(&response)),
            (200, "BYPASS"),
            "{header:?}"
        );
    }
}

#[tokio::test]
async fn the_edge_answers_304_itself() {
    let setup = setup(1).await;
    let path = setup.create_user().await;
    let first = setup.get(&path, &[]).await;
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let response = setup.get(&path, &[("if-none-match", &etag)]).await;
    assert_eq!(
        (response.status().as_u16(), cache_of(&response)),
        (304, "HIT")
    );
    assert_eq!(response.headers()["etag"], etag.as_str());
    assert!(response.text().await.unwrap().is_empty());
    // A miss with validators is filled with the full body, then answered 304.
    let other = setup.create_user().await;
    let response = setup.get(&other, &[("if-none-match", "\"1\"")]).await;
    assert_eq!(
        (response.status().as_u16(), cache_of(&response)),
        (304, "MISS")
    );
}

#[tokio::test]
async fn a_write_through_the_edge_purges_the_profile() {
    let setup = setup(1).await;
    let path = setup.create_user().await;
    setup.get(&path, &[]).await;
    assert_eq!(cache_of(&setup.get(&path, &[]).await), "HIT");
    let response = setup
        .client
        .patch(format!("{}{path}", setup.edge))
        .header("authorization", setup.bearer())
        .header("content-type", "application/merge-patch+json")
        .body(r#"{"firstName": "Jane"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (response.status().as_u16(), cache_of(&response)),
        (200, "BYPASS")
    );
    let read = setup.get(&path, &[]).await;
    assert_eq!(cache_of(&read), "MISS");
    assert_eq!(read.json::<Value>().await.unwrap()["firstName"], "Jane");
}

#[tokio::test]
async fn the_api_is_never_cached() {
    let setup = setup(1).await;
    for _ in 0..2 {
        let response = setup.get("/health", &[]).await;
        assert_eq!(
            (response.status().as_u16(), cache_of(&response)),
            (200, "BYPASS")
        );
    }
}

#[tokio::test]
async fn requests_fail_over_to_the_next_region_and_come_back() {
    let mut setup = setup(2).await;
    let path = setup.create_user().await;
    let response = setup.get("/health", &[]).await;
    assert_eq!(response.headers()["x-edge-origin"], "region-0");

    let primary = setup.regions.remove(0).stop().await;
    for _ in 0..3 {
        let response = setup.get(&path, &[("cache-control", "no-cache")]).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["x-edge-origin"], "region-1");
    }
    // A POST is not replayed on another region: it may have been applied.
    // (The primary is marked down by now, so it goes to region-1 directly.)
    let created = setup.post_user().await;
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["x-edge-origin"], "region-1");

    let restarted = Region::start(setup.ports.clone(), primary).await;
    tokio::time::sleep(Duration::from_millis(400)).await; // the cool-down
    let response = setup.get("/health", &[]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["x-edge-origin"],
        "region-0",
        "back on the primary"
    );
    restarted.stop().await;
}

/// A server that takes requests and never answers them: the request may
/// have been applied, as far as the edge can tell.
async fn black_hole() -> SocketAddr {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buffer = [0u8; 4096];
            let _ = socket.read(&mut buffer).await;
            drop(socket);
        }
    });
    address
}

#[tokio::test]
async fn a_post_that_reached_a_failing_region_is_not_replayed_elsewhere() {
    let setup = setup_with(&[Kind::Black, Kind::Api]).await;
    let response = setup.post_user().await;
    assert_eq!(response.status(), 502);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
}

#[tokio::test]
async fn a_post_refused_by_a_stopped_region_moves_on() {
    // A refused connection never delivered the request, so any method may
    // try the next region.
    let mut setup = setup(2).await;
    setup.regions.remove(0).stop().await;
    let response = setup.post_user().await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["x-edge-origin"], "region-1");
}

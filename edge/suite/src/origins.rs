//! Origin "regions": API instances on one shared embedded store, each on its
//! own port, that a test can stop and start again on the same address.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use millions_core::Ports;
use tokio::sync::oneshot;

/// One API instance.
pub struct Region {
    pub address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Region {
    /// Serves the API on `address`, noting each request in `seen`.
    pub async fn start(ports: Ports, address: SocketAddr, seen: Arc<Seen>) -> Self {
        let app = millions_api::router(millions_api::ApiState::new(
            ports,
            1,
            millions_api::Settings::default(),
        ))
        .layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                let delay = seen.note(&request);
                async move {
                    tokio::time::sleep(delay).await;
                    next.run(request).await
                }
            },
        ));
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .expect("the port is free");
        let address = listener.local_addr().expect("bound");
        // Restarted on this address later: no edge process may be given it.
        millions_testkit::claim_port(address.port());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .expect("the origin serves");
        });
        Self {
            address,
            stop: Some(stop),
            task,
        }
    }

    /// Stops the instance; its port then refuses connections for as long
    /// as the returned [`Stopped`] is kept.
    pub async fn stop(mut self) -> Stopped {
        let _ = self.stop.take().expect("running").send(());
        let _ = self.task.await;
        Stopped::hold(self.address)
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }
}

/// A stopped region's port, held so that it refuses connections.
///
/// A released port can be handed to any other listener on the machine (a
/// concurrent test's region, or one of workerd's own loopback servers): an
/// edge would then reach that server instead of a refused connection, and a
/// test of what a stopped region does would see another server's answer. A
/// socket bound to the port without listening keeps it: connections to it
/// are refused, and without `SO_REUSEADDR` no one else can bind it.
#[must_use = "dropping it releases the port"]
pub struct Stopped {
    pub address: SocketAddr,
    _held: Option<tokio::net::TcpSocket>,
}

impl Stopped {
    fn hold(address: SocketAddr) -> Self {
        let held = tokio::net::TcpSocket::new_v4()
            .and_then(|socket| socket.bind(address).map(|()| socket))
            .ok();
        Self {
            address,
            _held: held,
        }
    }
}

/// What reached the regions.
#[derive(Debug, Default)]
pub struct Seen {
    requests: AtomicUsize,
    /// The `traceparent` of each request, in order (`None`: it had none).
    traceparents: Mutex<Vec<Option<String>>>,
    /// How long each GET waits before the API answers it, in milliseconds.
    read_delay_ms: AtomicU64,
}

impl Seen {
    /// Notes `request`; what it returns is how long to hold it.
    fn note(&self, request: &axum::extract::Request) -> Duration {
        self.requests.fetch_add(1, Ordering::SeqCst);
        let traceparent = request
            .headers()
            .get("traceparent")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        self.traceparents
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .push(traceparent);
        if request.method() == axum::http::Method::GET {
            Duration::from_millis(self.read_delay_ms.load(Ordering::Relaxed))
        } else {
            Duration::ZERO
        }
    }
}

/// Regions on one fresh store.
pub struct Origins {
    pub ports: Ports,
    pub regions: Vec<Region>,
    /// What reached any region.
    pub seen: Arc<Seen>,
    _data_dir: tempfile::TempDir,
}

impl Origins {
    pub async fn start(count: usize) -> Self {
        let (stores, dir) =
            millions_infra::local::EmbeddedStores::temporary().expect("the store opens");
        let ports = stores.ports();
        let seen = Arc::new(Seen::default());
        let mut regions = Vec::new();
        for _ in 0..count {
            let address = "127.0.0.1:0".parse().expect("an address");
            regions.push(Region::start(ports.clone(), address, Arc::clone(&seen)).await);
        }
        Self {
            ports,
            regions,
            seen,
            _data_dir: dir,
        }
    }

    /// Starts a region again on the address it had.
    pub async fn restart(&self, stopped: Stopped) -> Region {
        let address = stopped.address;
        drop(stopped);
        Region::start(self.ports.clone(), address, Arc::clone(&self.seen)).await
    }

    /// Makes every region take `delay` to answer a GET from now on: an
    /// origin slow enough that many reads arrive while one is filling.
    pub fn delay_reads(&self, delay: Duration) {
        let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.seen.read_delay_ms.store(millis, Ordering::Relaxed);
    }

    /// Requests that reached any region.
    pub fn requests(&self) -> usize {
        self.seen.requests.load(Ordering::SeqCst)
    }

    /// The `traceparent` the last request to reach a region carried.
    pub fn last_traceparent(&self) -> Option<String> {
        self.seen
            .traceparents
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .last()
            .cloned()
            .flatten()
    }
}

/// A server that takes requests and never answers them: as far as the edge
/// can tell, the request may have been applied.
pub async fn black_hole() -> SocketAddr {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bound");
    let address = listener.local_addr().expect("bound");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = [0u8; 4096];
            let _ = socket.read(&mut buffer).await;
            drop(socket);
        }
    });
    address
}

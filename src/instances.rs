//! The API instances of the local stack, and the control to stop one.
//!
//! Instances share nothing but the data store, like Lambda instances. To
//! watch the edge route around a failure, stop one while traffic flows:
//!
//! ```text
//! curl -X POST http://localhost:8080/_local/instances/2/stop
//! ```
//!
//! It stops accepting connections and closes its open ones once their
//! requests finish, as a crashed or scaled-in instance disappears.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use millions_api::ApiError;
use millions_core::Problem;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

#[derive(Serialize, Clone)]
struct InstanceInfo {
    name: String,
    address: SocketAddr,
    running: bool,
}

struct Instance {
    info: InstanceInfo,
    stop: watch::Sender<()>,
}

#[derive(Default)]
pub struct Instances {
    list: Arc<Mutex<Vec<Instance>>>,
    tasks: JoinSet<anyhow::Result<()>>,
}

impl Instances {
    /// Serves `app` on `listener` until the stack stops or this instance is stopped.
    pub fn start(
        &mut self,
        name: String,
        address: SocketAddr,
        listener: TcpListener,
        app: Router,
        mut stack_stopping: watch::Receiver<()>,
    ) {
        let (stop, mut stopping) = watch::channel(());
        let own = stop.clone();
        self.tasks.spawn(async move {
            // Either signal stops the instance.
            let (relay, relayed) = watch::channel(());
            tokio::spawn(async move {
                tokio::select! {
                    _ = stack_stopping.changed() => {}
                    _ = stopping.changed() => {}
                }
                let _ = relay.send(());
                drop(own);
            });
            crate::serve::serve(listener, app, relayed).await
        });
        self.list.lock().expect("not poisoned").push(Instance {
            info: InstanceInfo {
                name,
                address,
                running: true,
            },
            stop,
        });
    }

    /// `GET /_local/instances` and `POST /_local/instances/{n}/stop`.
    pub fn control_routes(&self) -> Router {
        Router::new()
            .route("/_local/instances", get(list))
            .route("/_local/instances/{number}/stop", post(stop))
            .with_state(Arc::clone(&self.list))
    }

    /// Waits for every instance to stop.
    pub async fn wait(mut self) -> anyhow::Result<()> {
        while let Some(result) = self.tasks.join_next().await {
            result??;
        }
        Ok(())
    }
}

type Shared = Arc<Mutex<Vec<Instance>>>;

async fn list(State(list): State<Shared>) -> Json<Vec<InstanceInfo>> {
    let list = list.lock().expect("not poisoned");
    Json(list.iter().map(|instance| instance.info.clone()).collect())
}

/// Stops instance `number` (counting from 1) and answers the updated list.
async fn stop(
    State(list): State<Shared>,
    Path(number): Path<usize>,
) -> Result<Json<Vec<InstanceInfo>>, ApiError> {
    let mut list = list.lock().expect("not poisoned");
    let count = list.len();
    let instance = number
        .checked_sub(1)
        .and_then(|index| list.get_mut(index))
        .ok_or_else(|| Problem::not_found(format!("there are instances 1 to {count}")))?;
    let _ = instance.stop.send(());
    instance.info.running = false;
    tracing::warn!(instance = %instance.info.name, "instance stopped on request");
    Ok(Json(
        list.iter().map(|instance| instance.info.clone()).collect(),
    ))
}

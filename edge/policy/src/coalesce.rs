//! Sharing one origin fetch between concurrent misses for the same key.

use std::collections::HashMap;
use std::sync::Mutex;

use millions_core::Problem;

use crate::runtime::OriginAnswer;

/// What one origin fetch produced, handed to every request that waited on it.
pub(crate) type Fetched = Result<OriginAnswer, Problem>;

/// Cache fills under way, by key, with the requests waiting for each: while
/// one request fetches a key from the origin, the others for the same key
/// wait for its answer instead of all reaching the origin (a stampede on a
/// popular profile that has just expired).
#[derive(Default)]
pub(crate) struct InFlight {
    waiting: Mutex<HashMap<String, Vec<futures_channel::oneshot::Sender<Fetched>>>>,
}

/// Whether this request fetches the key itself or waits for another's fetch.
pub(crate) enum Role<'a> {
    Leader(LeaderGuard<'a>),
    Follower(futures_channel::oneshot::Receiver<Fetched>),
}

/// Held by the request that fetches; when it ends (or is dropped because
/// the client went away) the waiters get the answer, or a cancellation that
/// sends them to fetch for themselves.
pub(crate) struct LeaderGuard<'a> {
    in_flight: &'a InFlight,
    key: String,
}

impl InFlight {
    pub(crate) fn join(&self, key: &str) -> Role<'_> {
        let mut waiting = self
            .waiting
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        match waiting.get_mut(key) {
            Some(followers) => {
                let (sender, receiver) = futures_channel::oneshot::channel();
                followers.push(sender);
                Role::Follower(receiver)
            }
            None => {
                waiting.insert(key.to_owned(), Vec::new());
                Role::Leader(LeaderGuard {
                    in_flight: self,
                    key: key.to_owned(),
                })
            }
        }
    }
}

impl LeaderGuard<'_> {
    pub(crate) fn finish(self, fetched: &Fetched) {
        for follower in self.take_followers() {
            let _ = follower.send(fetched.clone());
        }
    }

    fn take_followers(&self) -> Vec<futures_channel::oneshot::Sender<Fetched>> {
        let mut waiting = self
            .in_flight
            .waiting
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        waiting.remove(&self.key).unwrap_or_default()
    }
}

impl Drop for LeaderGuard<'_> {
    fn drop(&mut self) {
        // Dropping the senders cancels the followers, which then fetch alone.
        drop(self.take_followers());
    }
}

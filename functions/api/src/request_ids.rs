//! Request ids for log correlation, made without a system call per request.
//!
//! A UUIDv4 per request costs a `getrandom` syscall; instead each instance
//! draws one random 64-bit prefix at start and counts from there, which is as
//! unique across instances for this purpose and an order of magnitude cheaper.
//! A request that arrives with an `x-request-id` (from the edge) keeps it.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use http::{HeaderValue, Request};
use tower_http::request_id::{MakeRequestId, RequestId};

#[derive(Clone)]
pub struct InstanceRequestIds {
    prefix: u64,
    counter: Arc<AtomicU64>,
}

impl InstanceRequestIds {
    pub fn new() -> Self {
        // `RandomState` is seeded from the operating system's randomness.
        let prefix = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        Self {
            prefix,
            counter: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl MakeRequestId for InstanceRequestIds {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let id = format!("{:016x}-{n:x}", self.prefix);
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_differ_between_requests_and_instances() {
        let request = Request::new(());
        let (mut a, mut b) = (InstanceRequestIds::new(), InstanceRequestIds::new());
        let first = a.make_request_id(&request).unwrap();
        let second = a.make_request_id(&request).unwrap();
        let other = b.make_request_id(&request).unwrap();
        assert_ne!(first.header_value(), second.header_value());
        assert_ne!(first.header_value(), other.header_value());
    }
}

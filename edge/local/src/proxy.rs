//! What every request handler of the local edge shares: the engine, with
//! its cache and HTTP client, and what the edge knows about its clients.

use millions_edge_policy::engine::{Client, Edge};

use crate::cache::ResponseCache;
use crate::transport::HyperTransport;

pub type LocalEdge = Edge<ResponseCache, HyperTransport>;

pub struct Shared {
    pub edge: LocalEdge,
    pub client: Client,
}

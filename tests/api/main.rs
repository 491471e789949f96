//! End-to-end tests: the real `millions` binary, started per test on a free
//! port with a fresh data folder, driven over HTTP like any client.

mod aws_backend;
mod browser;
mod concurrency;
mod durability;
mod front_door;
mod helpers;
mod instances;
mod invalid_input;
mod likes;
mod logs;
mod metrics;
mod photos;
mod resharding;
mod sessions;
mod store_faults;
mod users;

//! W3C Trace Context (`traceparent`), so one id follows a request from the
//! client or the edge through the API, the job queue and the photo worker.
//!
//! `00-<trace id: 32 hex>-<parent id: 16 hex>-<flags: 2 hex>`: the trace id
//! names the whole journey, the parent id the hop that sent it. Each hop
//! keeps the trace id it was given and passes its own id on as the parent.
//!
//! Ids are made by [`TraceIds`] from a per-instance random seed and a
//! counter, through SplitMix64 (a bijection): unique within an instance,
//! spread like random ones, and without a system call per request (the API
//! mints one for every request that arrives without a `traceparent`).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::shards::mix;

/// The header's name.
pub const TRACEPARENT: &str = "traceparent";

/// One hop of a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    trace_id: u128,
    parent_id: u64,
    flags: u8,
}

impl TraceParent {
    /// Reads a `traceparent` value; `None` if it is not a valid one (the
    /// receiver then starts a new trace, as the specification says).
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        let mut parts = value.split('-');
        let (version, trace, parent, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        // Version 00 has exactly four parts; later versions may add more.
        if version.len() != 2 || version == "ff" || (version == "00" && parts.next().is_some()) {
            return None;
        }
        u8::from_str_radix(version, 16).ok()?;
        let lower_hex = |part: &str, len: usize| {
            part.len() == len
                && part
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        if !lower_hex(trace, 32) || !lower_hex(parent, 16) || !lower_hex(flags, 2) {
            return None;
        }
        let parsed = Self {
            trace_id: u128::from_str_radix(trace, 16).ok()?,
            parent_id: u64::from_str_radix(parent, 16).ok()?,
            flags: u8::from_str_radix(flags, 16).ok()?,
        };
        (parsed.trace_id != 0 && parsed.parent_id != 0).then_some(parsed)
    }

    /// The hop an AWS X-Ray trace header describes
    /// (`Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`,
    /// what Lambda gives an invocation as `_X_AMZN_TRACE_ID`). X-Ray's trace
    /// id is a version, 8 hex digits of time and 24 random ones: the 32
    /// digits after the version are the W3C trace id X-Ray itself maps it
    /// to, so a trace started this way has the same id in X-Ray and in the
    /// logs. `None` without a valid root and parent.
    pub fn from_xray(header: &str) -> Option<Self> {
        let (mut root, mut parent, mut sampled) = (None, None, false);
        for field in header.split(';') {
            match field.trim().split_once('=')? {
                ("Root", value) => root = Some(value),
                ("Parent", value) => parent = Some(value),
                ("Sampled", value) => sampled = value == "1",
                _ => {}
            }
        }
        let mut root_parts = root?.split('-');
        let (version, time, random) = (root_parts.next()?, root_parts.next()?, root_parts.next()?);
        if version != "1" || time.len() != 8 || random.len() != 24 || root_parts.next().is_some() {
            return None;
        }
        let flags = if sampled { "01" } else { "00" };
        Self::parse(&format!("00-{time}{random}-{}-{flags}", parent?))
    }

    /// The trace id, as 32 hex digits: what the logs carry.
    pub fn trace_id(&self) -> String {
        format!("{:032x}", self.trace_id)
    }

    /// This hop, with `parent_id` as its own id, in the same trace.
    pub fn child(&self, parent_id: u64) -> Self {
        Self { parent_id, ..*self }
    }
}

impl fmt::Display for TraceParent {
    /// The header value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "00-{:032x}-{:016x}-{:02x}",
            self.trace_id, self.parent_id, self.flags
        )
    }
}

/// Makes the ids of one instance's hops and new traces.
pub struct TraceIds {
    seeds: [u64; 3],
    next: AtomicU64,
}

impl TraceIds {
    /// `seed` must be random (from the operating system, once).
    pub fn new(seed: u128) -> Self {
        let (high, low) = ((seed >> 64) as u64, seed as u64);
        Self {
            seeds: [high, low, high ^ low.rotate_left(32)],
            next: AtomicU64::new(1),
        }
    }

    fn next(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    /// A new span id, never 0.
    pub fn span_id(&self) -> u64 {
        mix(self.seeds[2].wrapping_add(self.next())).max(1)
    }

    /// This hop of `incoming`'s trace, or the first hop of a new (sampled)
    /// trace if there is none.
    pub fn hop(&self, incoming: Option<TraceParent>) -> TraceParent {
        match incoming {
            Some(incoming) => incoming.child(self.span_id()),
            None => {
                let n = self.next();
                let trace_id = (u128::from(mix(self.seeds[0].wrapping_add(n))) << 64)
                    | u128::from(mix(self.seeds[1] ^ n));
                TraceParent {
                    trace_id: trace_id.max(1),
                    parent_id: self.span_id(),
                    flags: 1,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specifications_example_reads_and_writes_back() {
        let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let parsed = TraceParent::parse(header).unwrap();
        assert_eq!(parsed.to_string(), header);
        assert_eq!(parsed.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        let child = parsed.child(0x1234);
        assert_eq!(
            child.to_string(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000001234-01"
        );
    }

    #[test]
    fn invalid_headers_are_refused() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad:?}");
        }
        // A later version may carry more parts.
        assert!(
            TraceParent::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz")
                .is_some()
        );
    }

    #[test]
    fn an_xray_header_is_the_same_trace() {
        let hop = TraceParent::from_xray(
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        )
        .unwrap();
        assert_eq!(
            hop.to_string(),
            "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"
        );
        let unsampled = TraceParent::from_xray(
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0;Lineage=a:1",
        );
        assert_eq!(
            unsampled.unwrap().to_string(),
            "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-00"
        );
        for bad in [
            "",
            "Root=1-5759e988-bd862e3fe1be46a994272793",
            "Parent=53995c3f42cd8ad8;Sampled=1",
            "Root=2-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8",
            "Root=1-5759e98-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8",
            "Root=1-5759e988-BD862E3FE1BE46A994272793;Parent=53995c3f42cd8ad8",
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=5399",
            "Root",
        ] {
            assert_eq!(TraceParent::from_xray(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn new_traces_are_distinct_and_hops_keep_theirs() {
        let ids = TraceIds::new(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        let traces: std::collections::HashSet<String> =
            (0..10_000).map(|_| ids.hop(None).trace_id()).collect();
        assert_eq!(traces.len(), 10_000);
        let incoming =
            TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        let hop = ids.hop(incoming);
        assert_eq!(hop.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_ne!(hop, incoming.unwrap());
    }
}

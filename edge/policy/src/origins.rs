//! Which origin region the edge asks, in what order, and which it skips.
//!
//! Regions are listed in the deployment's order of preference; each names the
//! continents it is nearest to. A request tries the regions near its client
//! first, then the rest. A region that fails `failure_threshold` times in a
//! row (or fails a health probe) is marked down and skipped until its
//! cool-down ends; then one request probes it, and a success brings it back.
//! Time is passed in, so this runs anywhere, wasm included.

/// One origin region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Region name, e.g. `us-east-1`; reported in `x-edge-origin`.
    pub region: String,
    /// Base URL of the region's API.
    pub url: String,
    /// Continent codes (`NA`, `EU`, `AS`, ...) whose clients this region serves first.
    pub near: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Health {
    consecutive_failures: u32,
    down_until_ms: Option<u64>,
}

/// The origins with their health, as one edge instance sees them.
#[derive(Debug, Clone)]
pub struct Origins {
    origins: Vec<Origin>,
    health: Vec<Health>,
    failure_threshold: u32,
    cooldown_ms: u64,
}

impl Origins {
    pub fn new(origins: Vec<Origin>, failure_threshold: u32, cooldown_ms: u64) -> Self {
        let health = vec![Health::default(); origins.len()];
        Self {
            origins,
            health,
            failure_threshold: failure_threshold.max(1),
            cooldown_ms,
        }
    }

    pub fn get(&self, index: usize) -> &Origin {
        &self.origins[index]
    }

    pub fn len(&self) -> usize {
        self.origins.len()
    }

    pub fn is_empty(&self) -> bool {
        self.origins.is_empty()
    }

    /// The origins to try for a client on `continent`, best first, as indexes.
    /// Regions that are down are left out; if every region is down, all are
    /// returned in order, since trying is better than failing outright.
    pub fn plan(&self, continent: Option<&str>, now_ms: u64) -> Vec<usize> {
        let is_near = |i: &usize| {
            continent.is_some_and(|c| {
                self.origins[*i]
                    .near
                    .iter()
                    .any(|n| n.eq_ignore_ascii_case(c))
            })
        };
        let (mut order, far): (Vec<usize>, Vec<usize>) = (0..self.origins.len()).partition(is_near);
        order.extend(far);
        let up: Vec<usize> = order
            .iter()
            .copied()
            .filter(|&i| self.is_available(i, now_ms))
            .collect();
        if up.is_empty() {
            order
        } else {
            up
        }
    }

    /// Up, or down with its cool-down over (so the next request probes it).
    pub fn is_available(&self, index: usize, now_ms: u64) -> bool {
        self.health[index]
            .down_until_ms
            .is_none_or(|until| now_ms >= until)
    }

    /// Records a failed request (connection error, timeout or 5xx) or a failed probe.
    pub fn record_failure(&mut self, index: usize, now_ms: u64) {
        let health = &mut self.health[index];
        health.consecutive_failures += 1;
        let probing = health.down_until_ms.is_some();
        if probing || health.consecutive_failures >= self.failure_threshold {
            health.down_until_ms = Some(now_ms + self.cooldown_ms);
        }
    }

    /// Records a success: the region is up again.
    pub fn record_success(&mut self, index: usize) {
        self.health[index] = Health::default();
    }
}

/// Whether a request that failed on one origin may be sent to the next.
/// A request that never reached the origin (the connection was refused)
/// may always move on; one that may have been applied moves only if it is
/// idempotent (RFC 9110 §9.2.2), so a POST is never applied twice.
pub fn may_retry_elsewhere(method: &http::Method, reached_origin: bool) -> bool {
    !reached_origin || method.is_idempotent()
}

/// Spreads load over equivalent origins (instances of one region): the
/// `turn`-th request starts at a different origin of the plan, and keeps the
/// others, in order, as its fallbacks.
pub fn spread(mut plan: Vec<usize>, turn: usize) -> Vec<usize> {
    if !plan.is_empty() {
        let start = turn % plan.len();
        plan.rotate_left(start);
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins() -> Origins {
        let origin = |region: &str, near: &[&str]| Origin {
            region: region.into(),
            url: format!("https://{region}.example"),
            near: near.iter().map(|s| s.to_string()).collect(),
        };
        Origins::new(
            vec![
                origin("us-east-1", &["NA", "SA"]),
                origin("eu-west-1", &["EU", "AF"]),
            ],
            2,
            30_000,
        )
    }

    #[test]
    fn nearest_region_first() {
        let origins = origins();
        assert_eq!(origins.plan(Some("EU"), 0), [1, 0]);
        assert_eq!(origins.plan(Some("NA"), 0), [0, 1]);
        assert_eq!(
            origins.plan(Some("AS"), 0),
            [0, 1],
            "no near region: configured order"
        );
        assert_eq!(origins.plan(None, 0), [0, 1]);
    }

    #[test]
    fn a_failing_region_is_skipped_then_probed_after_the_cooldown() {
        let mut origins = origins();
        let plan = |origins: &Origins, now| origins.plan(Some("NA"), now);
        origins.record_failure(0, 1_000);
        assert_eq!(plan(&origins, 1_000), [0, 1], "one failure is not enough");
        origins.record_failure(0, 1_001);
        assert_eq!(plan(&origins, 1_002), [1], "two in a row: down");
        assert_eq!(plan(&origins, 31_000), [1], "still cooling down");
        assert_eq!(plan(&origins, 31_001), [0, 1], "cool-down over: probe it");
        origins.record_failure(0, 31_001);
        assert_eq!(plan(&origins, 31_002), [1], "a failed probe: down at once");
        origins.record_success(0);
        assert_eq!(plan(&origins, 31_003), [0, 1], "a success: up again");
    }

    #[test]
    fn when_every_region_is_down_all_are_tried() {
        let mut origins = origins();
        for i in 0..2 {
            origins.record_failure(i, 0);
            origins.record_failure(i, 0);
        }
        assert_eq!(origins.plan(Some("EU"), 1), [1, 0]);
    }

    #[test]
    fn only_idempotent_requests_move_on_after_reaching_an_origin() {
        let method = |name: &str| name.parse::<http::Method>().expect("a method");
        for name in ["GET", "HEAD", "OPTIONS", "PUT", "DELETE"] {
            assert!(may_retry_elsewhere(&method(name), true), "{name}");
        }
        for name in ["POST", "PATCH"] {
            assert!(!may_retry_elsewhere(&method(name), true), "{name}");
            // Refused connections never applied anything.
            assert!(may_retry_elsewhere(&method(name), false), "{name}");
        }
    }

    #[test]
    fn spreading_rotates_the_start_and_keeps_every_fallback() {
        assert_eq!(spread(vec![0, 1, 2], 0), [0, 1, 2]);
        assert_eq!(spread(vec![0, 1, 2], 1), [1, 2, 0]);
        assert_eq!(spread(vec![0, 2], 5), [2, 0]);
        assert_eq!(spread(vec![], 3), Vec::<usize>::new());
    }
}

//! What the front door answered, counted by the edge's `x-cache` label
//! (HIT, MISS, REVALIDATED, STALE, BYPASS), and how many answers were the
//! edge's own errors (a 502 or 504 when no origin answered). Plain atomics,
//! not the `metrics` facade: a cached read is a few microseconds, and a
//! relaxed increment is the cheapest count there is; the stack's metrics
//! route copies these into its registry when it is scraped.

use std::sync::atomic::{AtomicU64, Ordering};

/// The labels the engine gives answers, in the order they are reported.
pub const LABELS: [&str; 5] = ["HIT", "MISS", "REVALIDATED", "STALE", "BYPASS"];

/// Counts of answers by label, shared by the front door and whoever reports them.
#[derive(Debug, Default)]
pub struct EdgeStats {
    by_label: [AtomicU64; LABELS.len()],
    /// Answers with no label: the edge's own problems, such as a 502 when
    /// no origin answered.
    unlabelled: AtomicU64,
    /// 502 and 504 answers: no origin region answered in time.
    origin_failures: AtomicU64,
}

impl EdgeStats {
    /// Counts one answer with `label` (its `x-cache`, if any) and `status`.
    pub fn count(&self, label: Option<&[u8]>, status: u16) {
        let slot = label.and_then(|label| LABELS.iter().position(|l| l.as_bytes() == label));
        match slot {
            Some(index) => self.by_label[index].fetch_add(1, Ordering::Relaxed),
            None => self.unlabelled.fetch_add(1, Ordering::Relaxed),
        };
        if status == 502 || status == 504 {
            self.origin_failures.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// `(label, count)` for every label, then `("none", count)`.
    pub fn answers(&self) -> Vec<(&'static str, u64)> {
        LABELS
            .iter()
            .zip(&self.by_label)
            .map(|(label, count)| (*label, count.load(Ordering::Relaxed)))
            .chain([("none", self.unlabelled.load(Ordering::Relaxed))])
            .collect()
    }

    /// Answers that were 502 or 504.
    pub fn origin_failures(&self) -> u64 {
        self.origin_failures.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_counted_by_label() {
        let stats = EdgeStats::default();
        stats.count(Some(b"HIT"), 200);
        stats.count(Some(b"HIT"), 304);
        stats.count(Some(b"MISS"), 200);
        stats.count(Some(b"BYPASS"), 502);
        stats.count(None, 413);
        stats.count(Some(b"ODD"), 200);
        let answers = stats.answers();
        assert_eq!(answers[0], ("HIT", 2));
        assert_eq!(answers[1], ("MISS", 1));
        assert_eq!(answers[4], ("BYPASS", 1));
        assert_eq!(answers[5], ("none", 2));
        assert_eq!(stats.origin_failures(), 1);
    }
}

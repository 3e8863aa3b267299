//! Each queue's depth over time: per minute, the deepest it was and how deep it was at the
//! minute's last change, kept for a week. Fed with every change of a queue's contents at the
//! event's recorded time (so a rebuild from the log gives the same series), stored in the
//! projection snapshot (the cache alone cannot say what waited when).

use crate::domain::{Millis, QueueName};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// How long the series reach back: a week of minutes.
pub const KEPT_MINUTES: i64 = 7 * 24 * 60;

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueTrend {
    /// Per queue, per minute (milliseconds since the epoch / 60,000): (deepest, at the end).
    minutes: HashMap<QueueName, BTreeMap<i64, (u32, u32)>>,
}

/// One step of a series: the depth at its end, the deepest it was during it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepthStep {
    pub start: Millis,
    pub depth: u32,
    pub max_depth: u32,
}

impl QueueTrend {
    /// `queue` holds `depth` items from `at` on.
    pub fn record(&mut self, queue: &QueueName, depth: usize, at: Millis) {
        let depth = u32::try_from(depth).unwrap_or(u32::MAX);
        let minute = at.0.div_euclid(60_000);
        let series = self.minutes.entry(queue.clone()).or_default();
        let slot = series.entry(minute).or_insert((0, 0));
        slot.0 = slot.0.max(depth);
        slot.1 = depth;
        // A week back from the newest minute: the oldest minutes go, one at a time, all but
        // the last before the cut (the depth a series starting then carries in).
        let cut = series.last_key_value().map_or(minute, |(&m, _)| m) - KEPT_MINUTES;
        while series.len() > 1 {
            let mut keys = series.keys();
            let (first, second) = (keys.next().copied(), keys.next().copied());
            match (first, second) {
                (Some(a), Some(b)) if a < cut && b <= cut => {
                    series.remove(&a);
                }
                _ => break,
            }
        }
    }

    /// Whether anything was ever recorded for `queue` (within the week kept).
    pub fn knows(&self, queue: &QueueName) -> bool {
        self.minutes.contains_key(queue)
    }

    /// The series of `queue` from `from`, `count` steps of `step_ms` each (whole minutes from a
    /// minute's start: the series' grain).
    pub fn series(
        &self,
        queue: &QueueName,
        from: Millis,
        step_ms: i64,
        count: usize,
    ) -> Vec<DepthStep> {
        let empty = BTreeMap::new();
        let m = self.minutes.get(queue).unwrap_or(&empty);
        let first_minute = from.0.div_euclid(60_000);
        // The depth when the series starts: the last change before it.
        let mut depth = m.range(..first_minute).next_back().map_or(0, |(_, v)| v.1);
        (0..count)
            .map(|k| {
                let start = from.0 + step_ms * k as i64;
                let (lo, hi) = (
                    start.div_euclid(60_000),
                    (start + step_ms).div_euclid(60_000),
                );
                let mut max_depth = depth;
                for (_, &(most, end)) in m.range(lo.max(first_minute)..hi.max(lo + 1)) {
                    max_depth = max_depth.max(most);
                    depth = end;
                }
                DepthStep {
                    start: Millis(start),
                    depth,
                    max_depth,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(name: &str) -> QueueName {
        QueueName::parse(name).unwrap()
    }

    #[test]
    fn a_series_carries_the_depth_and_keeps_each_steps_peak() {
        let mut t = QueueTrend::default();
        let inbound = q("inbound");
        let min = |m: i64| Millis(m * 60_000);
        t.record(&inbound, 1, min(10));
        t.record(&inbound, 2, Millis(min(10).0 + 5_000));
        t.record(&inbound, 1, Millis(min(10).0 + 9_000));
        t.record(&inbound, 3, min(25));
        t.record(&inbound, 0, min(26));
        // Steps of 10 minutes from minute 0: nothing, then peak 2 ending at 1, carried, then 3 → 0.
        let s = t.series(&inbound, min(0), 600_000, 4);
        let got: Vec<(u32, u32)> = s.iter().map(|d| (d.depth, d.max_depth)).collect();
        assert_eq!(got, [(0, 0), (1, 2), (0, 3), (0, 0)]);
        // Started later, the depth before the series is carried in.
        let s = t.series(&inbound, min(12), 60_000, 2);
        assert_eq!((s[0].depth, s[0].max_depth), (1, 1));
        assert!(t
            .series(&q("other"), min(0), 60_000, 3)
            .iter()
            .all(|d| d.depth == 0));
        assert!(t.knows(&inbound) && !t.knows(&q("other")));
    }

    #[test]
    fn a_week_is_kept_and_the_depth_before_it() {
        let mut t = QueueTrend::default();
        let inbound = q("inbound");
        let min = |m: i64| Millis(m * 60_000);
        t.record(&inbound, 5, min(0));
        t.record(&inbound, 3, min(10));
        // Nine days on, one more arrives: minute 0 goes, minute 10 stays (3 waited since).
        t.record(&inbound, 4, min(9 * 24 * 60));
        assert_eq!(t.minutes[&inbound].len(), 2);
        let s = t.series(&inbound, min(9 * 24 * 60 - 1), 60_000, 2);
        assert_eq!((s[0].depth, s[0].max_depth), (3, 3));
        assert_eq!(s[1].depth, 4);
    }
}

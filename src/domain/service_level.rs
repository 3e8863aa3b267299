//! Service levels: per queue, a first-response target and a resolution target, counted in
//! business time (a weekly calendar at a fixed UTC offset), with the share of each target after
//! which an interaction is at risk, and the priority a breach adds (escalation). Pure: the due
//! times are computed from the arrival when an interaction is first queued, and recorded.

use super::interaction::{ServiceLevel, ServiceLevelSet};
use super::{Millis, QueueName};
use std::collections::BTreeMap;

const MINUTE: i64 = 60_000;
const DAY: i64 = 86_400_000;

/// When the business is open: days of the week (Monday first) and a daily window, at a fixed
/// offset from UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    pub days: [bool; 7],
    /// Minutes after local midnight.
    pub open: u32,
    pub close: u32,
    pub offset_minutes: i32,
}

impl Calendar {
    /// Open all the time.
    pub fn always() -> Calendar {
        Calendar {
            days: [true; 7],
            open: 0,
            close: 24 * 60,
            offset_minutes: 0,
        }
    }

    /// `mon-fri 09:00-17:00` (days: `mon`…`sun`, a range or a comma list; empty: always) at
    /// `+01:00` (or `-05:30`, `Z`).
    pub fn parse(hours: &str, offset: &str) -> Result<Calendar, String> {
        let offset_minutes = parse_offset(offset)?;
        let hours = hours.trim();
        if hours.is_empty() {
            return Ok(Calendar {
                offset_minutes,
                ..Calendar::always()
            });
        }
        let (days, window) = hours
            .split_once(' ')
            .ok_or_else(|| format!("{hours:?} is not like \"mon-fri 09:00-17:00\""))?;
        let (open, close) = window
            .trim()
            .split_once('-')
            .ok_or_else(|| format!("{window:?} is not a window like 09:00-17:00"))?;
        let (open, close) = (clock(open)?, clock(close)?);
        if open >= close {
            return Err(format!("{window:?}: the window must open before it closes"));
        }
        let mut set = [false; 7];
        for part in days.split(',') {
            match part.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (weekday(a)?, weekday(b)?);
                    if a > b {
                        return Err(format!("{part:?}: the days must run Monday to Sunday"));
                    }
                    set[a..=b].iter_mut().for_each(|d| *d = true);
                }
                None => set[weekday(part)?] = true,
            }
        }
        Ok(Calendar {
            days: set,
            open,
            close,
            offset_minutes,
        })
    }

    /// The moment `secs` of business time after `start`.
    pub fn add(&self, start: Millis, secs: u64) -> Millis {
        let offset = self.offset_minutes as i64 * MINUTE;
        let mut remaining = (secs as i64).saturating_mul(1000);
        let mut t = start.0 + offset;
        // Ten years of calendar days at most (a calendar with no open day never ends).
        for _ in 0..3660 {
            let day = t.div_euclid(DAY);
            let midnight = day * DAY;
            // 1970-01-01 was a Thursday.
            let weekday = (day + 3).rem_euclid(7) as usize;
            if self.days[weekday] {
                let open = midnight + self.open as i64 * MINUTE;
                let close = midnight + self.close as i64 * MINUTE;
                let from = t.max(open);
                if from < close {
                    let left = close - from;
                    if remaining <= left {
                        return Millis(from + remaining - offset);
                    }
                    remaining -= left;
                }
            }
            t = midnight + DAY;
        }
        Millis(i64::MAX)
    }
}

fn parse_offset(s: &str) -> Result<i32, String> {
    let s = s.trim();
    if s.is_empty() || s == "Z" || s == "z" {
        return Ok(0);
    }
    let (sign, rest) = match s.as_bytes()[0] {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return Err(format!("{s:?} is not an offset like +01:00")),
    };
    let minutes = clock(rest).map_err(|_| format!("{s:?} is not an offset like +01:00"))?;
    if minutes > 14 * 60 {
        return Err(format!("{s:?}: offsets run from -14:00 to +14:00"));
    }
    Ok(sign * minutes as i32)
}

/// `HH:MM` as minutes after midnight (`24:00` is the end of the day).
fn clock(s: &str) -> Result<u32, String> {
    let bad = || format!("{s:?} is not a time like 09:00");
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m > 59 || h > 24 || (h == 24 && m > 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

fn weekday(s: &str) -> Result<usize, String> {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let d = s.trim().to_ascii_lowercase();
    DAYS.iter()
        .position(|x| d.starts_with(x))
        .ok_or_else(|| format!("{s:?} is not a day (mon … sun)"))
}

/// One queue's targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub first_response_secs: u64,
    pub resolution_secs: u64,
    /// At risk once this share of a target's time is used (1 to 100).
    pub at_risk_percent: u8,
    /// Added to the priority when the first response is late (0: none).
    pub escalate_priority: i32,
    pub calendar: Calendar,
}

/// Every queue's targets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceLevels {
    pub by_queue: BTreeMap<QueueName, Target>,
}

impl ServiceLevels {
    /// The due times of an interaction that arrived at `arrived` and is first queued in `queue`
    /// at `at` (none: the queue has no targets).
    pub fn due(&self, queue: &QueueName, arrived: Millis, at: Millis) -> Option<ServiceLevelSet> {
        let t = self.by_queue.get(queue)?;
        let share = |secs: u64| secs * t.at_risk_percent as u64 / 100;
        Some(ServiceLevelSet {
            queue: queue.clone(),
            first_response_due: t.calendar.add(arrived, t.first_response_secs),
            first_response_at_risk: t.calendar.add(arrived, share(t.first_response_secs)),
            resolution_due: t.calendar.add(arrived, t.resolution_secs),
            resolution_at_risk: t.calendar.add(arrived, share(t.resolution_secs)),
            escalate_priority: t.escalate_priority,
            at,
        })
    }
}

/// How an interaction stands against one target at a moment (in order: the later, the worse).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Standing {
    /// Met in time.
    Met,
    /// Still open, not yet at risk.
    Ok,
    AtRisk,
    Breached,
}

/// Where an interaction's first response and resolution stand at `now`, and the worse of the
/// two (what a queue counts). A recorded breach stands whatever the clock says.
pub fn standings(sla: &ServiceLevel, now: Millis) -> (Standing, Standing, Standing) {
    let first = if sla.first_response_breached {
        Standing::Breached
    } else {
        Standing::of(
            sla.first_response_due,
            sla.first_response_at_risk,
            sla.first_response_at,
            now,
        )
    };
    let resolution = if sla.resolution_breached {
        Standing::Breached
    } else {
        Standing::of(
            sla.resolution_due,
            sla.resolution_at_risk,
            sla.resolved_at,
            now,
        )
    };
    (first, resolution, first.max(resolution))
}

impl Standing {
    pub fn name(&self) -> &'static str {
        match self {
            Standing::Met => "met",
            Standing::Ok => "ok",
            Standing::AtRisk => "at_risk",
            Standing::Breached => "breached",
        }
    }

    /// Where a target stands at `now`: `done` when it was met (or missed) at that time.
    pub fn of(due: Millis, at_risk: Millis, done: Option<Millis>, now: Millis) -> Standing {
        match done {
            Some(d) if d <= due => Standing::Met,
            Some(_) => Standing::Breached,
            None if now > due => Standing::Breached,
            None if now >= at_risk => Standing::AtRisk,
            None => Standing::Ok,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Millis {
        let t =
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap();
        Millis((t.unix_timestamp_nanos() / 1_000_000) as i64)
    }

    #[test]
    fn business_time_skips_nights_and_weekends_at_the_offset() {
        let office = Calendar::parse("mon-fri 09:00-17:00", "+01:00").unwrap();
        // Friday 2026-11-27 15:00 local (14:00 UTC): 2 hours left on Friday, 2 on Monday.
        assert_eq!(
            office.add(at("2026-11-27T14:00:00Z"), 4 * 3600),
            at("2026-11-30T10:00:00Z")
        );
        // Saturday: counting starts Monday 09:00 local.
        assert_eq!(
            office.add(at("2026-11-28T12:00:00Z"), 3600),
            at("2026-11-30T09:00:00Z")
        );
        // Before opening, on a weekday.
        assert_eq!(
            office.add(at("2026-11-30T05:00:00Z"), 1800),
            at("2026-11-30T08:30:00Z")
        );
        let always = Calendar::always();
        assert_eq!(always.add(Millis(0), 90), Millis(90_000));
        let some = Calendar::parse("mon,wed 08:00-12:00", "Z").unwrap();
        assert_eq!(some.days, [true, false, true, false, false, false, false]);
    }

    #[test]
    fn calendars_that_make_no_sense_are_refused_naming_why() {
        for (hours, offset) in [
            ("mon-fri 17:00-09:00", "Z"),
            ("fri-mon 09:00-17:00", "Z"),
            ("someday 09:00-17:00", "Z"),
            ("mon-fri 9-17", "Z"),
            ("mon-fri 09:00-17:00", "+15:00"),
            ("mon-fri 09:00-17:00", "CET"),
        ] {
            assert!(Calendar::parse(hours, offset).is_err(), "{hours} {offset}");
        }
    }

    #[test]
    fn standing_against_a_target() {
        let (due, risk) = (Millis(100), Millis(80));
        assert_eq!(Standing::of(due, risk, None, Millis(10)), Standing::Ok);
        assert_eq!(Standing::of(due, risk, None, Millis(80)), Standing::AtRisk);
        assert_eq!(
            Standing::of(due, risk, None, Millis(101)),
            Standing::Breached
        );
        assert_eq!(
            Standing::of(due, risk, Some(Millis(100)), Millis(500)),
            Standing::Met
        );
        assert_eq!(
            Standing::of(due, risk, Some(Millis(101)), Millis(500)),
            Standing::Breached
        );
    }
}

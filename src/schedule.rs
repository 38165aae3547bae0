//! Cron schedules for `depwatch watch`: fire times in a time zone, catch-up of missed runs, and
//! random jitter.
//!
//! The crate is `croner`, with seconds and years disallowed, so an expression is exactly the
//! 5-field form GitHub Actions `schedule:` accepts (Sunday = 0 or 7, Monday = 1). Not the `cron`
//! crate: it rejects 5-field expressions and numbers weekdays from Sunday = 1, so `0 9 * * 1`
//! would fire on Sundays.

use core::cmp::Ordering;
use croner::parser::{CronParser, Seconds, Year};
use croner::{CivilDate, CivilDateTime, CivilTime, Cron, CronDateTime, Resolution, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp, Zoned};
use std::time::Duration;

/// Why a schedule cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// The cron expression is not a valid 5-field expression.
    #[error(
        "schedule {expr:?}: {reason} (expected 5 fields: minute hour day-of-month month day-of-week)"
    )]
    Expression {
        /// The expression.
        expr: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The time zone is unknown.
    #[error("time zone {name:?}: {reason}")]
    TimeZone {
        /// The name given.
        name: String,
        /// What went wrong.
        reason: String,
    },
    /// The expression never fires (e.g. `0 0 30 2 *`) near the given time.
    #[error("schedule {expr:?} has no fire time {direction} {at}")]
    NoFireTime {
        /// The expression.
        expr: String,
        /// "after" or "at or before".
        direction: &'static str,
        /// The reference instant.
        at: Timestamp,
    },
}

/// A parsed cron schedule in a time zone.
#[derive(Debug, Clone)]
pub struct Schedule {
    expr: String,
    cron: Cron,
    tz: TimeZone,
    tz_name: String,
}

/// A `jiff::Zoned` that croner can search over (croner's own jiff support is a crate feature
/// we do not enable; this mirrors it).
#[derive(Clone)]
struct Z(Zoned);

fn to_civil(d: jiff::civil::DateTime) -> CivilDateTime {
    CivilDateTime::new(
        CivilDate::from_parts_unchecked(i32::from(d.year()), d.month() as u32, d.day() as u32),
        CivilTime::from_parts_unchecked(d.hour() as u32, d.minute() as u32, d.second() as u32),
    )
}

impl CronDateTime for Z {
    fn to_civil(&self) -> CivilDateTime {
        to_civil(self.0.datetime())
    }

    fn civil_weekday(&self) -> Weekday {
        Weekday::from_days_from_sunday(self.0.weekday().to_sunday_zero_offset() as u32)
    }

    fn resolve_civil(
        &self,
        c: CivilDateTime,
    ) -> Result<Resolution<Self>, croner::errors::CronError> {
        use croner::errors::CronError;
        let year = i16::try_from(c.year()).map_err(|_| CronError::InvalidDate)?;
        let dt = jiff::civil::DateTime::new(
            year,
            c.month() as i8,
            c.day() as i8,
            c.hour() as i8,
            c.minute() as i8,
            c.second() as i8,
            0,
        )
        .map_err(|_| CronError::InvalidDate)?;
        let amb = self.0.time_zone().to_ambiguous_zoned(dt);
        Ok(match amb.offset() {
            AmbiguousOffset::Unambiguous { .. } => {
                Resolution::Single(Z(amb.unambiguous().map_err(|_| CronError::InvalidTime)?))
            }
            AmbiguousOffset::Fold { .. } => {
                let earlier = amb.clone().earlier().map_err(|_| CronError::InvalidTime)?;
                let later = amb.later().map_err(|_| CronError::InvalidTime)?;
                Resolution::Ambiguous(Z(earlier), Z(later))
            }
            AmbiguousOffset::Gap { .. } => Resolution::Gap,
        })
    }

    fn checked_add_seconds(&self, seconds: i64) -> Option<Self> {
        self.0
            .checked_add(SignedDuration::from_secs(seconds))
            .ok()
            .map(Z)
    }

    fn cmp_instant(&self, other: &Self) -> Ordering {
        self.0.timestamp().cmp(&other.0.timestamp())
    }
}

impl Schedule {
    /// Parse a 5-field cron expression (`minute hour day-of-month month day-of-week`, as GitHub
    /// Actions accepts it) evaluated in the IANA time zone `tz` (e.g. `UTC`, `Europe/Berlin`).
    pub fn parse(expr: &str, tz: &str) -> Result<Schedule, ScheduleError> {
        let bad = |reason: String| ScheduleError::Expression {
            expr: expr.to_string(),
            reason,
        };
        // croner also takes nicknames (@daily) and Quartz extras; GitHub Actions takes neither
        // nicknames nor fewer/more fields, so insist on five plain fields.
        let fields = expr.split_whitespace().count();
        if fields != 5 {
            return Err(bad(format!("{fields} fields")));
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build()
            .parse(expr)
            .map_err(|e| bad(e.to_string()))?;
        let zone = TimeZone::get(tz).map_err(|e| ScheduleError::TimeZone {
            name: tz.to_string(),
            reason: e.to_string(),
        })?;
        Ok(Schedule {
            expr: expr.trim().to_string(),
            cron,
            tz: zone,
            tz_name: tz.to_string(),
        })
    }

    /// The expression as given.
    pub fn expr(&self) -> &str {
        &self.expr
    }

    /// The time zone's name as given.
    pub fn timezone(&self) -> &str {
        &self.tz_name
    }

    /// The first fire time strictly after `t`.
    pub fn next_after(&self, t: Timestamp) -> Result<Timestamp, ScheduleError> {
        let z = Z(t.to_zoned(self.tz.clone()));
        self.cron
            .find_next_occurrence(&z, false)
            .map(|z| z.0.timestamp())
            .map_err(|_| ScheduleError::NoFireTime {
                expr: self.expr.clone(),
                direction: "after",
                at: t,
            })
    }

    /// The latest fire time at or before `t`.
    pub fn previous_at_or_before(&self, t: Timestamp) -> Result<Timestamp, ScheduleError> {
        // Fire times are whole minutes: drop sub-second precision so `t` itself can match.
        let t0 = Timestamp::from_second(t.as_second()).unwrap_or(t);
        let z = Z(t0.to_zoned(self.tz.clone()));
        self.cron
            .find_previous_occurrence(&z, true)
            .map(|z| z.0.timestamp())
            .map_err(|_| ScheduleError::NoFireTime {
                expr: self.expr.clone(),
                direction: "at or before",
                at: t,
            })
    }

    /// Whether a fire time was missed: the latest fire time at or before `now` is after the
    /// last run's start (or there was never a run). However many slots were missed, the
    /// answer is one yes: the watcher catches up once.
    pub fn missed_since(&self, last_run: Option<Timestamp>, now: Timestamp) -> bool {
        match self.previous_at_or_before(now) {
            Err(_) => false,
            Ok(prev) => match last_run {
                None => true,
                Some(last) => last < prev,
            },
        }
    }
}

/// Random delays in `[0, max)` from a small xorshift generator: scheduling jitter needs spread,
/// not cryptographic quality, and a seed makes tests repeatable.
#[derive(Debug, Clone)]
pub struct Jitter {
    state: u64,
}

impl Jitter {
    /// A generator from a seed (0 is replaced, as xorshift would stay at 0).
    pub fn new(seed: u64) -> Jitter {
        Jitter {
            state: if seed == 0 {
                0x9E37_79B9_7F4A_7C15
            } else {
                seed
            },
        }
    }

    /// A generator seeded from the clock and the process id, so watchers started together
    /// spread out.
    pub fn from_entropy() -> Jitter {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        Jitter::new(nanos ^ (u64::from(std::process::id()) << 32))
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state = x;
        x
    }

    /// A delay in `[0, max)`; zero when `max` is zero.
    pub fn delay(&mut self, max: Duration) -> Duration {
        let ms = max.as_millis() as u64;
        if ms == 0 {
            return Duration::ZERO;
        }
        Duration::from_millis(self.next_u64() % ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn monday_is_1_and_sunday_is_0_or_7() {
        // 2026-12-05 is a Saturday.
        let sat = ts("2026-12-05T12:00:00Z");
        let mon = Schedule::parse("0 9 * * 1", "UTC").unwrap();
        assert_eq!(mon.next_after(sat).unwrap(), ts("2026-12-07T09:00:00Z"));
        for sun in ["0 9 * * 0", "0 9 * * 7", "0 9 * * SUN"] {
            let s = Schedule::parse(sun, "UTC").unwrap();
            assert_eq!(
                s.next_after(sat).unwrap(),
                ts("2026-12-06T09:00:00Z"),
                "{sun}"
            );
        }
        let weekdays = Schedule::parse("30 6 * * 1-5", "UTC").unwrap();
        // Friday 06:30 -> next is Monday.
        assert_eq!(
            weekdays.next_after(ts("2026-12-04T06:30:00Z")).unwrap(),
            ts("2026-12-07T06:30:00Z")
        );
    }

    #[test]
    fn rejects_what_github_actions_rejects() {
        for bad in [
            "* * * *",
            "0 * * * * *",
            "0 0 * * * 2026",
            "@daily",
            "61 * * * *",
            "",
        ] {
            assert!(Schedule::parse(bad, "UTC").is_err(), "{bad:?}");
        }
        assert!(matches!(
            Schedule::parse("0 * * * *", "Mars/Olympus"),
            Err(ScheduleError::TimeZone { .. })
        ));
    }

    #[test]
    fn every_minute_and_steps() {
        let s = Schedule::parse("*/15 * * * *", "UTC").unwrap();
        assert_eq!(
            s.next_after(ts("2026-12-01T10:07:30Z")).unwrap(),
            ts("2026-12-01T10:15:00Z")
        );
        // Strictly after: a fire time is not its own next.
        assert_eq!(
            s.next_after(ts("2026-12-01T10:15:00Z")).unwrap(),
            ts("2026-12-01T10:30:00Z")
        );
    }

    #[test]
    fn time_zone_applies() {
        let s = Schedule::parse("0 9 * * *", "Europe/Berlin").unwrap();
        // Winter: Berlin is UTC+1.
        assert_eq!(
            s.next_after(ts("2026-12-01T00:00:00Z")).unwrap(),
            ts("2026-12-01T08:00:00Z")
        );
        // Summer: UTC+2.
        assert_eq!(
            s.next_after(ts("2026-07-01T00:00:00Z")).unwrap(),
            ts("2026-07-01T07:00:00Z")
        );
    }

    #[test]
    fn dst_spring_forward_and_fall_back() {
        // 2026-03-29: Berlin clocks jump 02:00 -> 03:00, so 02:30 does not exist that day.
        let s = Schedule::parse("30 2 * * *", "Europe/Berlin").unwrap();
        let n = s.next_after(ts("2026-03-28T12:00:00Z")).unwrap();
        // Like Vixie cron, a fixed-time job in the gap runs once, at the first instant after
        // it (03:00 CEST = 01:00Z), not skipped for the day and not twice.
        assert_eq!(n, ts("2026-03-29T01:00:00Z"));
        let after = s.next_after(n).unwrap();
        assert_eq!(
            after,
            ts("2026-03-30T00:30:00Z"),
            "the next day is normal (UTC+2)"
        );
        // 2026-10-25: 02:30 happens twice (UTC+2 then UTC+1); fire once.
        let first = s.next_after(ts("2026-10-24T12:00:00Z")).unwrap();
        assert_eq!(first, ts("2026-10-25T00:30:00Z"));
        let second = s.next_after(first).unwrap();
        assert_eq!(
            second,
            ts("2026-10-26T01:30:00Z"),
            "not again at 01:30Z on the 25th"
        );
    }

    #[test]
    fn catch_up_is_once_not_per_slot() {
        let s = Schedule::parse("0 * * * *", "UTC").unwrap();
        let now = ts("2026-12-01T10:20:00Z");
        // Down for 5 hours: missed, and answering once covers all 5 slots.
        assert!(s.missed_since(Some(ts("2026-12-01T05:00:00Z")), now));
        // The last run started after the latest slot: nothing missed.
        assert!(!s.missed_since(Some(ts("2026-12-01T10:00:30Z")), now));
        // After the catch-up run (recorded at `now`), nothing is missed any more.
        assert!(!s.missed_since(Some(now), now));
        // Never ran: catch up.
        assert!(s.missed_since(None, now));
        // The slot exactly at `now` counts.
        assert!(s.missed_since(Some(ts("2026-12-01T09:30:00Z")), ts("2026-12-01T10:00:00Z")));
        assert_eq!(
            s.previous_at_or_before(ts("2026-12-01T10:00:00.500Z"))
                .unwrap(),
            ts("2026-12-01T10:00:00Z")
        );
    }

    #[test]
    fn jitter_stays_in_bounds_and_spreads() {
        let mut j = Jitter::new(42);
        let max = Duration::from_secs(30);
        let delays: Vec<Duration> = (0..1000).map(|_| j.delay(max)).collect();
        assert!(delays.iter().all(|d| *d < max));
        assert!(delays.iter().any(|d| *d < Duration::from_secs(5)));
        assert!(delays.iter().any(|d| *d > Duration::from_secs(25)));
        assert_eq!(Jitter::new(0).delay(Duration::ZERO), Duration::ZERO);
        // Same seed, same sequence.
        let mut a = Jitter::new(7);
        let mut b = Jitter::new(7);
        assert_eq!(a.delay(max), b.delay(max));
    }
}

//! The clock: the one place that reads the time, so tests can drive it by hand.

use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A source of the current time. The transport reads the time only through this trait.
pub trait Clock: Send + Sync + Debug + 'static {
    /// The current instant.
    fn now(&self) -> Instant;
}

/// The real, monotonic clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told to, for tests of dead-node timeouts and sniff intervals.
///
/// # Example
/// ```
/// use es_transport::{Clock, ManualClock};
/// use std::time::Duration;
///
/// let clock = ManualClock::new();
/// let t0 = clock.now();
/// clock.advance(Duration::from_secs(5));
/// assert_eq!(clock.now() - t0, Duration::from_secs(5));
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    base: Instant,
    offset: Arc<Mutex<Duration>>,
}

impl ManualClock {
    /// A clock stopped at the current instant.
    pub fn new() -> Self {
        ManualClock {
            base: Instant::now(),
            offset: Arc::new(Mutex::new(Duration::ZERO)),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        *self.offset.lock().unwrap_or_else(|p| p.into_inner()) += by;
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.base + *self.offset.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The proleptic Gregorian date `(year, month 1-12, day 1-31)` of a day count since
/// 1970-01-01 (negative before), by Howard Hinnant's `civil_from_days`: the one date routine
/// of the workspace (TLS error messages, es-api's `Date` parameters).
///
/// # Example
/// ```
/// assert_eq!(es_transport::civil_from_days(0), (1970, 1, 1));
/// assert_eq!(es_transport::civil_from_days(-1), (1969, 12, 31));
/// assert_eq!(es_transport::civil_from_days(19_782), (2024, 2, 29));
/// ```
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod civil_tests {
    use super::civil_from_days;

    /// Against a day-by-day walk of the calendar from 1600 to 2400 (leap years by the
    /// Gregorian rule): every day, both directions of the epoch.
    #[test]
    fn every_day_from_1600_to_2400() {
        let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let len = |y: i64, m: u32| match m {
            2 if leap(y) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        // 1600-01-01 is 135,140 days before the epoch.
        let (mut y, mut m, mut d) = (1600i64, 1u32, 1u32);
        for days in -135_140i64..157_000 {
            assert_eq!(civil_from_days(days), (y, m, d), "{days}");
            d += 1;
            if d > len(y, m) {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }
}

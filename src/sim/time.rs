//! `SimTime`: simulated time as an integer count of microseconds.
//!
//! Owns the time type and its arithmetic. Never reads a wall clock.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// A point in (or a span of) simulated time, in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);
    pub const MICROS_PER_SEC: u64 = 1_000_000;

    pub const fn from_micros(us: u64) -> Self {
        SimTime(us)
    }
    pub const fn from_millis(ms: u64) -> Self {
        SimTime(ms * 1_000)
    }
    pub const fn from_secs(s: u64) -> Self {
        SimTime(s * Self::MICROS_PER_SEC)
    }
    /// Rounds to the nearest microsecond; negative or NaN become zero.
    pub fn from_secs_f64(s: f64) -> Self {
        if s.is_nan() || s <= 0.0 {
            SimTime(0)
        } else if s >= (u64::MAX / 2) as f64 / 1e6 {
            SimTime(u64::MAX / 2)
        } else {
            // floor(x + 0.5) rounds half up like `round` for x >= 0, without a libm call.
            SimTime((s * 1e6 + 0.5) as u64)
        }
    }
    pub const fn micros(self) -> u64 {
        self.0
    }
    pub fn secs_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
    pub fn millis_f64(self) -> f64 {
        self.0 as f64 / 1e3
    }
    /// The whole second this instant falls in.
    pub const fn second(self) -> usize {
        (self.0 / Self::MICROS_PER_SEC) as usize
    }
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
    pub fn saturating_sub(self, o: SimTime) -> SimTime {
        SimTime(self.0.saturating_sub(o.0))
    }
    pub fn mul_f64(self, f: f64) -> SimTime {
        SimTime::from_secs_f64(self.secs_f64() * f)
    }
    /// This span for a person to read (trace details): see `Human`.
    pub fn human(self) -> Human {
        Human(self)
    }
}

/// A span rounded for reading: from one second up to a tenth of a second in the
/// scenario's units (`12m5.8s`, `1h2m`), below it whole milliseconds (`726ms`) or
/// microseconds. `Display` of `SimTime` itself stays exact (it is written back into
/// scenario files).
#[derive(Clone, Copy, Debug)]
pub struct Human(SimTime);

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0.0;
        if us == 0 {
            return write!(f, "0s");
        }
        if us < 1_000 {
            return write!(f, "{us}us");
        }
        if us < 999_500 {
            return write!(f, "{}ms", (us + 500) / 1_000);
        }
        let tenths = us.saturating_add(50_000) / 100_000;
        let (h, m, t) = (tenths / 36_000, tenths / 600 % 60, tenths % 600);
        if h > 0 {
            write!(f, "{h}h")?;
        }
        if m > 0 {
            write!(f, "{m}m")?;
        }
        match (t / 10, t % 10) {
            (0, 0) if h > 0 || m > 0 => Ok(()),
            (s, 0) => write!(f, "{s}s"),
            (s, d) => write!(f, "{s}.{d}s"),
        }
    }
}

impl Add for SimTime {
    type Output = SimTime;
    fn add(self, o: SimTime) -> SimTime {
        SimTime(self.0.saturating_add(o.0))
    }
}
impl AddAssign for SimTime {
    fn add_assign(&mut self, o: SimTime) {
        self.0 = self.0.saturating_add(o.0);
    }
}
impl Sub for SimTime {
    type Output = SimTime;
    fn sub(self, o: SimTime) -> SimTime {
        SimTime(self.0.saturating_sub(o.0))
    }
}

/// Formats like the scenario format: `1m30s`, `250ms`, `0s`.
impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0;
        if us == 0 {
            return write!(f, "0s");
        }
        if !us.is_multiple_of(1_000_000) {
            if us.is_multiple_of(1_000) {
                return write!(f, "{}ms", us / 1_000);
            }
            return write!(f, "{}us", us);
        }
        let mut s = us / 1_000_000;
        let h = s / 3600;
        s %= 3600;
        let m = s / 60;
        s %= 60;
        if h > 0 {
            write!(f, "{h}h")?;
        }
        if m > 0 {
            write!(f, "{m}m")?;
        }
        if s > 0 {
            write!(f, "{s}s")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_round_trips_common_forms() {
        assert_eq!(SimTime::from_secs(90).to_string(), "1m30s");
        assert_eq!(SimTime::from_millis(250).to_string(), "250ms");
        assert_eq!(SimTime::from_secs(3600).to_string(), "1h");
        assert_eq!(SimTime::ZERO.to_string(), "0s");
    }

    #[test]
    fn human_rounds_for_reading() {
        let check = |us: u64, want: &str| assert_eq!(SimTime(us).human().to_string(), want);
        // 725.809376 s = 12 min 5.809376 s, to a tenth of a second.
        check(725_809_376, "12m5.8s");
        check(3_600_000_000 + 120_000_000, "1h2m");
        check(59_960_000, "1m");
        check(20_123_456, "20.1s");
        check(999_400, "999ms");
        check(999_600, "1s");
        check(1_500, "2ms");
        check(40, "40us");
        check(0, "0s");
    }

    #[test]
    fn second_buckets_floor() {
        assert_eq!(SimTime::from_micros(1_999_999).second(), 1);
        assert_eq!(SimTime::from_secs(2).second(), 2);
    }
}

//! Commit timestamps: microseconds since the Unix epoch, strictly increasing per database.

use std::time::{SystemTime, UNIX_EPOCH};

/// Hands out commit timestamps. Lives inside the engine's sequencer mutex.
#[derive(Debug)]
pub(crate) struct Clock {
    last: u64,
}

impl Clock {
    /// A clock that never goes back below `last` (the newest recovered timestamp).
    pub(crate) fn starting_after(last: u64) -> Self {
        Clock { last }
    }

    /// The newest timestamp handed out (or recovered).
    pub(crate) fn last(&self) -> u64 {
        self.last
    }

    /// The next timestamp: the wall clock, or one above the previous one when the wall clock has
    /// not moved on (or went backwards, as it may across a restart).
    pub(crate) fn next(&mut self) -> u64 {
        let ts = wall_clock_micros().max(self.last + 1);
        self.last = ts;
        ts
    }
}

pub(crate) fn wall_clock_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_next_strictly_increases_even_from_the_future() {
        let future = wall_clock_micros() + 10_000_000;
        let mut clock = Clock::starting_after(future);
        let a = clock.next();
        let b = clock.next();
        assert_eq!(a, future + 1);
        assert_eq!(b, future + 2);
    }

    #[test]
    fn clock_next_follows_the_wall_clock() {
        let mut clock = Clock::starting_after(0);
        let before = wall_clock_micros();
        let ts = clock.next();
        assert!(ts >= before && ts <= wall_clock_micros());
    }
}

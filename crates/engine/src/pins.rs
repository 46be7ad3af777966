//! Snapshot pins and the retention horizon.
//!
//! A snapshot (or a transaction) pins its read timestamp for as long as it is open; compaction
//! never collects a version that a pinned timestamp can still see. The *horizon* is the oldest
//! time at which reads are still exact: compaction raises it (never lowers it) before it
//! decides what to drop, and a pin or a read older than the horizon is refused. Both live under
//! one mutex so that a pin taken while a compaction computes its horizon is either counted by
//! that compaction or refused.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::{Error, Result};

#[derive(Debug, Default)]
struct State {
    /// Pinned timestamp -> number of pins on it.
    pins: BTreeMap<u64, usize>,
    /// Reads before this time may miss collected versions. 0 = nothing collected yet.
    horizon: u64,
}

/// The pins of one engine. Shared (`Arc`) so a [`SnapshotPin`] can outlive a closed engine.
#[derive(Debug, Default)]
pub(crate) struct Pins {
    state: Mutex<State>,
}

impl Pins {
    pub(crate) fn new(horizon: u64) -> Arc<Pins> {
        Arc::new(Pins {
            state: Mutex::new(State {
                pins: BTreeMap::new(),
                horizon,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is a map of counters; a panic elsewhere cannot leave it half-updated.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Pins `ts`; fails if `ts` is older than the horizon.
    pub(crate) fn pin(self: &Arc<Self>, ts: u64) -> Result<SnapshotPin> {
        let mut state = self.lock();
        check_against(state.horizon, "a snapshot", ts)?;
        *state.pins.entry(ts).or_default() += 1;
        Ok(SnapshotPin {
            pins: Arc::clone(self),
            ts,
        })
    }

    fn unpin(&self, ts: u64) {
        let mut state = self.lock();
        if let Some(count) = state.pins.get_mut(&ts) {
            *count -= 1;
            if *count == 0 {
                state.pins.remove(&ts);
            }
        }
    }

    /// The current horizon.
    pub(crate) fn horizon(&self) -> u64 {
        self.lock().horizon
    }

    /// Raises the horizon toward `wanted`, but never past the oldest pin; returns the new horizon.
    pub(crate) fn advance(&self, wanted: u64) -> u64 {
        let mut state = self.lock();
        let limit = state.pins.keys().next().copied().unwrap_or(u64::MAX);
        state.horizon = state.horizon.max(wanted.min(limit));
        state.horizon
    }

    /// Number of open pins.
    pub(crate) fn count(&self) -> usize {
        self.lock().pins.values().sum()
    }
}

/// Refuses a read (or pin) at `at` older than `horizon`.
pub(crate) fn check_against(horizon: u64, what: &str, at: u64) -> Result<()> {
    if at < horizon {
        return Err(Error::InvalidArgument(format!(
            "{what} at {at} is older than the retention horizon {horizon}: versions before it may have been collected"
        )));
    }
    Ok(())
}

/// Keeps every version visible at [`SnapshotPin::ts`] from being collected until dropped.
#[derive(Debug)]
pub struct SnapshotPin {
    pins: Arc<Pins>,
    ts: u64,
}

impl SnapshotPin {
    /// The pinned timestamp.
    pub fn ts(&self) -> u64 {
        self.ts
    }
}

impl Drop for SnapshotPin {
    fn drop(&mut self) {
        self.pins.unpin(self.ts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_horizon_stops_at_the_oldest_pin_and_refuses_older_pins() {
        let pins = Pins::new(0);
        let a = pins.pin(100).unwrap();
        let b = pins.pin(50).unwrap();
        assert_eq!(pins.advance(1_000), 50);
        assert!(pins.pin(49).is_err());
        drop(b);
        assert_eq!(pins.advance(1_000), 100);
        drop(a);
        assert_eq!(pins.advance(1_000), 1_000);
        assert_eq!(pins.advance(10), 1_000, "the horizon never moves back");
        assert_eq!(pins.count(), 0);
    }
}

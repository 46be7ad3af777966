//! Range cursors: ordered scans of live entries at one snapshot, pulled in batches.

use std::ops::{Bound, ControlFlow};
use std::sync::Arc;

use crate::database::live;
use crate::limits::check_key;
use crate::{Database, Result};

/// Which keys a range scan covers, in which order, and at what time.
#[derive(Debug, Clone)]
pub struct RangeOptions {
    /// Lower bound on keys (byte order).
    pub lower: Bound<Vec<u8>>,
    /// Upper bound on keys (byte order).
    pub upper: Bound<Vec<u8>>,
    /// Descending key order when true.
    pub reverse: bool,
    /// At most this many entries.
    pub limit: Option<usize>,
    /// Snapshot timestamp; `None` = the newest visible commit when the cursor is created.
    pub at: Option<u64>,
}

impl Default for RangeOptions {
    fn default() -> Self {
        RangeOptions {
            lower: Bound::Unbounded,
            upper: Bound::Unbounded,
            reverse: false,
            limit: None,
            at: None,
        }
    }
}

/// A resumable scan over one snapshot. Each [`RangeCursor::next_batch`] re-seeks the key index
/// just past the last key it visited (O(log n)) and walks on, so a cursor holds no iterator
/// state inside the index and costs nothing while idle.
#[derive(Debug)]
pub struct RangeCursor {
    db: Arc<Database>,
    at: u64,
    lower: Bound<Vec<u8>>,
    upper: Bound<Vec<u8>>,
    reverse: bool,
    remaining: usize,
    done: bool,
}

impl RangeCursor {
    /// A cursor over `db` fixed at `options.at` (or now).
    pub fn new(db: Arc<Database>, options: RangeOptions) -> Result<RangeCursor> {
        for bound in [&options.lower, &options.upper] {
            if let Bound::Included(key) | Bound::Excluded(key) = bound {
                check_key(key)?;
            }
        }
        let at = db.read_ts(options.at)?;
        Ok(RangeCursor {
            db,
            at,
            lower: options.lower,
            upper: options.upper,
            reverse: options.reverse,
            remaining: options.limit.unwrap_or(usize::MAX),
            done: false,
        })
    }

    /// The snapshot timestamp the cursor reads at.
    pub fn at(&self) -> u64 {
        self.at
    }

    /// Calls `f(key, ts, value)` for up to `max` further live entries; returns how many it
    /// reported (0 once the scan is exhausted).
    pub fn next_batch(&mut self, max: usize, mut f: impl FnMut(&[u8], u64, &[u8])) -> Result<usize> {
        self.db.ensure_open()?;
        if self.done || max == 0 {
            return Ok(0);
        }
        let want = max.min(self.remaining);
        let mut reported = 0;
        let mut last_visited: Option<Vec<u8>> = None;
        let mut stopped_early = false;
        let at = self.at;
        self.db.memtable().scan(
            as_slice_bound(&self.lower),
            as_slice_bound(&self.upper),
            self.reverse,
            at,
            |key, version| {
                if let Some((ts, value)) = live(version) {
                    f(key, ts, value);
                    reported += 1;
                }
                if reported == want {
                    last_visited = Some(key.to_vec());
                    stopped_early = true;
                    return ControlFlow::Break(());
                }
                ControlFlow::Continue(())
            },
        );
        self.remaining -= reported;
        match last_visited {
            Some(key) if stopped_early && self.remaining > 0 => {
                // Resume strictly past the last key reported.
                if self.reverse {
                    self.upper = Bound::Excluded(key);
                } else {
                    self.lower = Bound::Excluded(key);
                }
            }
            _ => self.done = true,
        }
        Ok(reported)
    }
}

fn as_slice_bound(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match bound {
        Bound::Included(key) => Bound::Included(key.as_slice()),
        Bound::Excluded(key) => Bound::Excluded(key.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

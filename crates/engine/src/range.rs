//! Range cursors: ordered scans of live entries at one snapshot, pulled in batches.

use std::ops::{Bound, ControlFlow};
use std::sync::Arc;

use crate::database::live;
use crate::limits::{check_key, check_timestamp};
use crate::view::View;
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

/// A resumable scan over one snapshot. Each [`RangeCursor::next_batch`] re-seeks every layer
/// just past the last key it reported (O(log n) each) and walks on, so a cursor holds no
/// iterator state inside any index and costs nothing while idle. It keeps the read view it
/// started with (and so every layer of it) until it is dropped.
#[derive(Debug)]
pub struct RangeCursor {
    db: Arc<Database>,
    view: Arc<View>,
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
        let view = db.view();
        Ok(RangeCursor {
            db,
            view,
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
    pub fn next_batch(
        &mut self,
        max: usize,
        mut f: impl FnMut(&[u8], u64, &[u8]),
    ) -> Result<usize> {
        self.db.ensure_open()?;
        if self.done || max == 0 || self.remaining == 0 {
            return Ok(0);
        }
        let want = max.min(self.remaining);
        let (reported, resume) = if self.view.is_single_layer() {
            self.batch_from_memtable(want, &mut f)
        } else {
            self.merged_batch(want, &mut f)?
        };
        self.remaining -= reported;
        match resume {
            Some(key) if self.remaining > 0 => {
                // Resume strictly past the last key covered.
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

    /// The in-memory case: one memtable, walked directly.
    fn batch_from_memtable(
        &self,
        want: usize,
        f: &mut impl FnMut(&[u8], u64, &[u8]),
    ) -> (usize, Option<Vec<u8>>) {
        let mut reported = 0;
        let mut resume = None;
        self.view.active.scan(
            as_slice_bound(&self.lower),
            as_slice_bound(&self.upper),
            self.reverse,
            self.at,
            |key, version| {
                if let Some((ts, value)) = live(version.map(|v| (v.ts(), v.value()))) {
                    f(key, ts, value);
                    reported += 1;
                }
                if reported == want {
                    resume = Some(key.to_vec());
                    return ControlFlow::Break(());
                }
                ControlFlow::Continue(())
            },
        );
        (reported, resume)
    }

    /// Memtables and extents merged: each layer offers its next keys, the newest version of
    /// each key wins, tombstones hide older layers.
    fn merged_batch(
        &self,
        want: usize,
        f: &mut impl FnMut(&[u8], u64, &[u8]),
    ) -> Result<(usize, Option<Vec<u8>>)> {
        let mut reported = 0;
        let (mut lower, mut upper) = (self.lower.clone(), self.upper.clone());
        loop {
            // Ask each layer for a few more keys than needed: tombstones take places too.
            let per_layer = (want - reported).saturating_add(8);
            let (items, frontier) = self.view.scan_batch(
                as_slice_bound(&lower),
                as_slice_bound(&upper),
                self.reverse,
                self.at,
                per_layer,
            )?;
            for item in &items {
                if let Some(value) = &item.value {
                    f(&item.key, item.ts, value);
                    reported += 1;
                    if reported == want {
                        return Ok((reported, Some(item.key.clone())));
                    }
                }
            }
            let Some(frontier) = frontier else {
                return Ok((reported, None));
            };
            if self.reverse {
                upper = Bound::Excluded(frontier);
            } else {
                lower = Bound::Excluded(frontier);
            }
        }
    }
}

/// Which versions a rectangle query covers: keys within the bounds, timestamps in
/// `[since, until)`.
#[derive(Debug, Clone)]
pub struct ChangesOptions {
    /// Lower bound on keys.
    pub lower: Bound<Vec<u8>>,
    /// Upper bound on keys.
    pub upper: Bound<Vec<u8>>,
    /// Inclusive lower bound on the commit timestamp.
    pub since: Option<u64>,
    /// Exclusive upper bound on the commit timestamp.
    pub until: Option<u64>,
    /// At most this many versions.
    pub limit: Option<usize>,
}

impl Default for ChangesOptions {
    fn default() -> Self {
        ChangesOptions {
            lower: Bound::Unbounded,
            upper: Bound::Unbounded,
            since: None,
            until: None,
            limit: None,
        }
    }
}

/// Every version inside a key range x time window (the rectangle), in (key, ts) order, pulled
/// in batches over the read view it started with. Extents are pruned by the interval table and
/// their blocks by key, time and Morton bounds (see `stats().blocks_skipped`).
#[derive(Debug)]
pub struct ChangesCursor {
    db: Arc<Database>,
    view: Arc<View>,
    lower: Bound<Vec<u8>>,
    upper: Bound<Vec<u8>>,
    since: u64,
    until_incl: u64,
    remaining: usize,
    /// Versions of the last batch not yet reported (a key's versions are fetched together).
    pending: std::collections::VecDeque<crate::view::ScanItem>,
    done: bool,
}

impl ChangesCursor {
    /// A cursor over `db`'s versions in the rectangle, up to the newest visible commit.
    pub fn new(db: Arc<Database>, options: ChangesOptions) -> Result<ChangesCursor> {
        for bound in [&options.lower, &options.upper] {
            if let Bound::Included(key) | Bound::Excluded(key) = bound {
                check_key(key)?;
            }
        }
        let since = options.since.unwrap_or(0);
        check_timestamp("since", since)?;
        if let Some(until) = options.until {
            check_timestamp("until", until)?;
        }
        let visible = db.read_ts(None)?;
        let until_incl = options
            .until
            .map_or(visible, |until| until.saturating_sub(1).min(visible));
        let empty = options.until == Some(0) || since > until_incl;
        let view = db.view();
        Ok(ChangesCursor {
            db,
            view,
            lower: options.lower,
            upper: options.upper,
            since,
            until_incl,
            remaining: options.limit.unwrap_or(usize::MAX),
            pending: Default::default(),
            done: empty,
        })
    }

    /// Calls `f(key, ts, value)` (`None` = a delete) for up to `max` further versions; returns
    /// how many it reported (0 once the rectangle is exhausted).
    pub fn next_batch(
        &mut self,
        max: usize,
        mut f: impl FnMut(&[u8], u64, Option<&[u8]>),
    ) -> Result<usize> {
        self.db.ensure_open()?;
        let want = max.min(self.remaining);
        let mut reported = 0;
        while reported < want {
            if let Some(item) = self.pending.pop_front() {
                f(&item.key, item.ts, item.value.as_deref());
                reported += 1;
                continue;
            }
            if self.done {
                break;
            }
            let per_layer = (want - reported).clamp(16, 1024);
            let (items, frontier) = self.view.changes_batch(
                as_slice_bound(&self.lower),
                as_slice_bound(&self.upper),
                self.since,
                self.until_incl,
                per_layer,
            )?;
            self.pending.extend(items);
            match frontier {
                Some(key) => self.lower = Bound::Excluded(key),
                None => self.done = true,
            }
        }
        self.remaining -= reported;
        if self.remaining == 0 {
            self.done = true;
            self.pending.clear();
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

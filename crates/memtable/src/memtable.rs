//! The memtable: an ordered, lock-free map from key bytes to version chains.

use std::ops::{Bound, ControlFlow};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crossbeam_skiplist::SkipMap;
use crossbeam_utils::CachePadded;

use crate::{Chain, Version};

/// Counters describing a memtable's contents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemtableStats {
    /// Distinct keys (tombstoned ones included).
    pub keys: usize,
    /// Versions of all keys.
    pub versions: usize,
    /// Approximate bytes held: keys, values and bookkeeping.
    pub bytes: usize,
}

/// Every version of every key written since the memtable was created. Readers take no lock.
pub struct Memtable {
    map: SkipMap<Box<[u8]>, Chain>,
    /// Written only by the WriteToken holder, read by stats(); padded so the appender's
    /// counter updates never share a cache line with the map's hot root.
    versions: CachePadded<AtomicUsize>,
    bytes: CachePadded<AtomicUsize>,
}

/// The right to append versions to one memtable. Exactly one exists per memtable; whoever holds
/// it is the only appender, which keeps every chain in timestamp order without a lock of ours.
#[derive(Debug)]
pub struct WriteToken {
    memtable: Arc<Memtable>,
}

impl Memtable {
    /// A new empty memtable and its unique write token.
    pub fn new() -> (Arc<Memtable>, WriteToken) {
        let memtable = Arc::new(Memtable {
            map: SkipMap::new(),
            versions: CachePadded::new(AtomicUsize::new(0)),
            bytes: CachePadded::new(AtomicUsize::new(0)),
        });
        let token = WriteToken { memtable: Arc::clone(&memtable) };
        (memtable, token)
    }

    /// Runs `f` on the version of `key` visible at `at` (the newest with `ts <= at`, tombstones
    /// included), or on `None` when the key has no version that old.
    pub fn get_at<R>(&self, key: &[u8], at: u64, f: impl FnOnce(Option<&Version>) -> R) -> R {
        match self.map.get(key) {
            Some(entry) => f(entry.value().find(at)),
            None => f(None),
        }
    }

    /// Runs `f` on the chain of `key` if the key was ever written.
    pub fn with_chain<R>(&self, key: &[u8], f: impl FnOnce(&Chain) -> R) -> Option<R> {
        self.map.get(key).map(|entry| f(entry.value()))
    }

    /// Visits keys within `(lo, hi)` in byte order (descending when `reverse`), with their chains,
    /// until `f` breaks. Costs O(log n) to find the start plus O(1) per key visited.
    pub fn scan(
        &self,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        reverse: bool,
        mut f: impl FnMut(&[u8], &Chain) -> ControlFlow<()>,
    ) {
        if bounds_are_empty(lo, hi) {
            return;
        }
        let range = self.map.range::<[u8], _>((lo, hi));
        if reverse {
            for entry in range.rev() {
                if f(entry.key(), entry.value()).is_break() {
                    return;
                }
            }
        } else {
            for entry in range {
                if f(entry.key(), entry.value()).is_break() {
                    return;
                }
            }
        }
    }

    /// Current counters.
    pub fn stats(&self) -> MemtableStats {
        MemtableStats {
            keys: self.map.len(),
            // ORDERING: Relaxed: statistics only; no other memory is published through them.
            versions: self.versions.load(Ordering::Relaxed),
            // ORDERING: Relaxed: as above.
            bytes: self.bytes.load(Ordering::Relaxed),
        }
    }
}

impl std::fmt::Debug for Memtable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memtable").field("stats", &self.stats()).finish()
    }
}

impl WriteToken {
    /// The memtable this token appends to.
    pub fn memtable(&self) -> &Arc<Memtable> {
        &self.memtable
    }

    /// Appends a version of `key` (`None` = tombstone). `ts` must not be older than the key's
    /// newest version: the engine assigns timestamps under the same lock that holds this token.
    /// A version equal in `ts` to the newest one shadows it (the later write of a batch wins).
    pub fn insert(&mut self, key: &[u8], ts: u64, value: Option<&[u8]>) {
        let version = Version { ts, value: value.map(Box::from) };
        let mut added = version.footprint();
        let entry = match self.memtable.map.get(key) {
            Some(entry) => entry,
            None => {
                added += key.len() + std::mem::size_of::<Chain>();
                self.memtable.map.get_or_insert_with(Box::from(key), Chain::new)
            }
        };
        let chain = entry.value();
        assert!(
            chain.newest().is_none_or(|newest| newest.ts <= ts),
            "memtable versions must be appended in timestamp order"
        );
        chain.push(version);
        // ORDERING: Relaxed: statistics only.
        self.memtable.versions.fetch_add(1, Ordering::Relaxed);
        // ORDERING: Relaxed: statistics only.
        self.memtable.bytes.fetch_add(added, Ordering::Relaxed);
    }
}

/// True when no key can lie within the bounds (the skip list's range would otherwise be asked
/// for an inverted interval).
fn bounds_are_empty(lo: Bound<&[u8]>, hi: Bound<&[u8]>) -> bool {
    match (lo, hi) {
        (Bound::Included(a), Bound::Included(b)) => a > b,
        (Bound::Included(a), Bound::Excluded(b))
        | (Bound::Excluded(a), Bound::Included(b))
        | (Bound::Excluded(a), Bound::Excluded(b)) => a >= b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(m: &Memtable, lo: Bound<&[u8]>, hi: Bound<&[u8]>, reverse: bool) -> Vec<Vec<u8>> {
        let mut keys = Vec::new();
        m.scan(lo, hi, reverse, |k, _| {
            keys.push(k.to_vec());
            ControlFlow::Continue(())
        });
        keys
    }

    #[test]
    fn memtable_get_at_returns_newest_version_not_after_at() {
        let (m, mut w) = Memtable::new();
        for ts in [10, 20, 30] {
            w.insert(b"k", ts, Some(&ts.to_be_bytes()));
        }
        w.insert(b"k", 40, None);
        let value_at = |at| m.get_at(b"k", at, |v| v.map(|v| v.value.clone()));
        assert_eq!(value_at(9), None);
        assert_eq!(value_at(10), Some(Some(Box::from(&10u64.to_be_bytes()[..]))));
        assert_eq!(value_at(29), Some(Some(Box::from(&20u64.to_be_bytes()[..]))));
        assert_eq!(value_at(40), Some(None));
        assert_eq!(m.stats().versions, 4);
        assert_eq!(m.stats().keys, 1);
    }

    #[test]
    fn memtable_chain_spans_many_fat_nodes_in_order() {
        let (m, mut w) = Memtable::new();
        for ts in 1..=100u64 {
            w.insert(b"k", ts, Some(&ts.to_le_bytes()));
        }
        let tss: Vec<u64> = m.with_chain(b"k", |c| c.iter().map(|v| v.ts).collect()).unwrap();
        assert_eq!(tss, (1..=100).rev().collect::<Vec<_>>());
        for at in 1..=100u64 {
            assert_eq!(m.get_at(b"k", at, |v| v.unwrap().ts), at);
        }
    }

    #[test]
    fn memtable_same_ts_write_shadows_earlier_one() {
        let (m, mut w) = Memtable::new();
        w.insert(b"k", 5, Some(b"a"));
        w.insert(b"k", 5, Some(b"b"));
        assert_eq!(m.get_at(b"k", 5, |v| v.unwrap().value.clone()), Some(Box::from(&b"b"[..])));
    }

    #[test]
    #[should_panic(expected = "timestamp order")]
    fn memtable_insert_rejects_older_timestamp() {
        let (_m, mut w) = Memtable::new();
        w.insert(b"k", 5, Some(b"a"));
        w.insert(b"k", 4, Some(b"b"));
    }

    #[test]
    fn memtable_scan_respects_bounds_and_direction() {
        let (m, mut w) = Memtable::new();
        for k in [&b"a"[..], b"b", b"c", b"d"] {
            w.insert(k, 1, Some(k));
        }
        let inc = |k: &'static [u8]| Bound::Included(k);
        let exc = |k: &'static [u8]| Bound::Excluded(k);
        assert_eq!(collect(&m, inc(b"b"), exc(b"d"), false), vec![b"b".to_vec(), b"c".to_vec()]);
        assert_eq!(collect(&m, exc(b"a"), inc(b"d"), true), vec![b"d".to_vec(), b"c".to_vec(), b"b".to_vec()]);
        assert!(collect(&m, inc(b"d"), exc(b"a"), false).is_empty());
        assert!(collect(&m, exc(b"b"), exc(b"b"), false).is_empty());
        assert_eq!(collect(&m, Bound::Unbounded, Bound::Unbounded, false).len(), 4);
    }

    #[test]
    fn memtable_readers_see_whole_versions_while_one_thread_appends() {
        let (m, mut w) = Memtable::new();
        let writer = std::thread::spawn(move || {
            for ts in 1..=20_000u64 {
                let key = (ts % 64).to_be_bytes();
                w.insert(&key, ts, Some(&ts.to_le_bytes()));
            }
        });
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let m = Arc::clone(&m);
                std::thread::spawn(move || {
                    let mut seen = 0u64;
                    while seen < 20_000 {
                        for k in 0..64u64 {
                            m.get_at(&k.to_be_bytes(), u64::MAX, |v| {
                                if let Some(v) = v {
                                    // A version's value always matches its timestamp: no torn reads.
                                    let bytes: [u8; 8] = v.value.as_deref().unwrap().try_into().unwrap();
                                    assert_eq!(u64::from_le_bytes(bytes), v.ts);
                                    assert_eq!(v.ts % 64, k);
                                    seen = seen.max(v.ts);
                                }
                            });
                        }
                    }
                })
            })
            .collect();
        writer.join().unwrap();
        for r in readers {
            r.join().unwrap();
        }
        assert_eq!(m.stats().versions, 20_000);
    }
}

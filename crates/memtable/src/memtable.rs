//! The memtable: a hash index for point reads and a skip list for ordered scans, both over the
//! same version chains.

use std::borrow::Borrow;
use std::hash::{BuildHasher, RandomState};
use std::ops::{Bound, ControlFlow};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chronokv_hazard::Domain;
use crossbeam_skiplist::SkipMap;
use crossbeam_utils::CachePadded;

use crate::chain::{Hazards, Trimmed};
use crate::index::{self, Index};
use crate::{Chain, Version, WriteError};

/// Counters describing a memtable's contents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemtableStats {
    /// Distinct keys (tombstoned ones included).
    pub keys: usize,
    /// Committed versions of all keys (trimmed ones excluded).
    pub versions: usize,
    /// Approximate bytes held: keys, values and bookkeeping.
    pub bytes: usize,
}

/// A key and its chain. Allocated once per key, owned by the skip list's [`EntryKey`], pointed
/// to by the hash index, freed when the memtable drops. One cache line when the key is short.
#[repr(align(64))]
pub(crate) struct Entry {
    pub(crate) chain: Chain,
    key: KeyBytes,
}

/// Keys up to this many bytes live inside their entry, so comparing a key during an index probe
/// or a skip-list search touches the entry's cache line only.
const INLINE_KEY_BYTES: usize = 38;

enum KeyBytes {
    Inline {
        len: u8,
        bytes: [u8; INLINE_KEY_BYTES],
    },
    Heap(Box<[u8]>),
}

impl Entry {
    fn new(key: &[u8]) -> Entry {
        let key = if key.len() <= INLINE_KEY_BYTES {
            let mut bytes = [0; INLINE_KEY_BYTES];
            bytes[..key.len()].copy_from_slice(key);
            KeyBytes::Inline {
                len: key.len() as u8,
                bytes,
            }
        } else {
            KeyBytes::Heap(Box::from(key))
        };
        Entry {
            chain: Chain::new(),
            key,
        }
    }

    #[inline]
    pub(crate) fn key(&self) -> &[u8] {
        match &self.key {
            KeyBytes::Inline { len, bytes } => &bytes[..usize::from(*len)],
            KeyBytes::Heap(bytes) => bytes,
        }
    }
}

/// The skip list's key: owns an [`Entry`] and orders by its key bytes. A raw pointer rather than
/// a `Box`, because the hash index keeps pointers to the entry while the skip list moves this.
struct EntryKey(NonNull<Entry>);

// SAFETY: an EntryKey owns its Entry (Chain and Box<[u8]> are Send + Sync).
unsafe impl Send for EntryKey {}
// SAFETY: as above.
unsafe impl Sync for EntryKey {}

impl EntryKey {
    fn new(key: &[u8]) -> EntryKey {
        let entry = Box::new(Entry::new(key));
        EntryKey(NonNull::from(Box::leak(entry)))
    }

    fn entry(&self) -> &Entry {
        // SAFETY: the entry lives until this EntryKey drops.
        unsafe { self.0.as_ref() }
    }
}

impl Drop for EntryKey {
    fn drop(&mut self) {
        // SAFETY: created by Box::leak in `new`, dropped once. The index's pointers to it are
        // only used while the memtable (which drops the skip list last) is alive.
        drop(unsafe { Box::from_raw(self.0.as_ptr()) });
    }
}

impl Borrow<[u8]> for EntryKey {
    fn borrow(&self) -> &[u8] {
        self.entry().key()
    }
}

impl PartialEq for EntryKey {
    fn eq(&self, other: &Self) -> bool {
        self.entry().key() == other.entry().key()
    }
}

impl Eq for EntryKey {}

impl PartialOrd for EntryKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for EntryKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.entry().key().cmp(other.entry().key())
    }
}

/// Every version of every key written since the memtable was created (less what trimming
/// removed). Readers take no lock; see the crate docs.
pub struct Memtable {
    /// Point reads: key -> entry in O(1).
    index: Index,
    /// Ordered scans; owns the entries. Declared after `index`, so it drops last.
    map: SkipMap<EntryKey, ()>,
    seed: u64,
    keys: CachePadded<AtomicUsize>,
    versions: CachePadded<AtomicUsize>,
    bytes: CachePadded<AtomicUsize>,
    /// The oldest commit timestamp ever written here (`u64::MAX` while empty): a read as of an
    /// earlier time finds nothing in this memtable and need not look (see [`Memtable::oldest_ts`]).
    oldest: CachePadded<crate::sync::AtomicU64>,
}

/// The right to append committed versions on the sequencer path. Exactly one exists per
/// memtable; whoever holds it assigns timestamps in order (the engine keeps it under its commit
/// sequencer), so [`WriteToken::insert`] never meets an out-of-order timestamp.
#[derive(Debug)]
pub struct WriteToken {
    memtable: Arc<Memtable>,
}

/// Bytes of bookkeeping per key on top of its bytes: the entry, its skip-list node and index slot.
const KEY_OVERHEAD: usize = std::mem::size_of::<Entry>() + 64;
/// Bytes of bookkeeping per version on top of [`Version::footprint`]: its share of a fat node.
const NODE_SHARE: usize = 192 / crate::SLOTS;

impl Memtable {
    /// A new empty memtable and its unique write token.
    pub fn new() -> (Arc<Memtable>, WriteToken) {
        let memtable = Arc::new(Memtable {
            index: Index::new(),
            map: SkipMap::new(),
            seed: RandomState::new().hash_one(0x6368_726f_6e6f_6b76u64) | 1,
            keys: CachePadded::new(AtomicUsize::new(0)),
            versions: CachePadded::new(AtomicUsize::new(0)),
            bytes: CachePadded::new(AtomicUsize::new(0)),
            oldest: CachePadded::new(crate::sync::AtomicU64::new(u64::MAX)),
        });
        let token = WriteToken {
            memtable: Arc::clone(&memtable),
        };
        (memtable, token)
    }

    fn hash(&self, key: &[u8]) -> u64 {
        index::hash(self.seed, key)
    }

    fn entry(&self, key: &[u8]) -> Option<&Entry> {
        self.index.get(self.hash(key), key)
    }

    /// The entry of `key`, created (in the skip list, then the index) if new.
    fn entry_or_insert(&self, key: &[u8]) -> &Entry {
        let hash = self.hash(key);
        if let Some(entry) = self.index.get(hash, key) {
            return entry;
        }
        // The skip list decides which entry wins when writers race to add a key: every one of
        // them indexes the winner before writing a version, so a version is never reachable
        // through the skip list but missing from the index.
        let skip_entry = self.map.get_or_insert(EntryKey::new(key), ());
        let candidate = skip_entry.key().0.as_ptr();
        let (entry, added) = self.index.insert(hash, key, candidate);
        if added {
            // ORDERING: Relaxed (both): statistics only.
            self.keys.fetch_add(1, Ordering::Relaxed);
            self.bytes
                .fetch_add(key.len() + KEY_OVERHEAD, Ordering::Relaxed);
        }
        entry
    }

    /// Lowers [`Memtable::oldest_ts`] to `ts` before a version at `ts` is written.
    fn note_ts(&self, ts: u64) {
        // ORDERING: the common case (not older than the oldest) only loads. A lowering is a
        // Release RMW made before the version is written, so a reader that can see the version
        // (it learned `ts` through the engine's acknowledged watermark, published after the
        // write) also sees `oldest <= ts` when it loads it with Acquire.
        if self.oldest.load(crate::sync::Ordering::Relaxed) > ts {
            self.oldest.fetch_min(ts, crate::sync::Ordering::Release);
        }
    }

    /// The oldest commit timestamp written to this memtable (`u64::MAX` when none was): every
    /// version here is at or after it, so a read as of an earlier time can skip the memtable.
    /// Trimming never raises it (a lower bound stays a lower bound).
    pub fn oldest_ts(&self) -> u64 {
        // ORDERING: Acquire: pairs with the Release in `note_ts`.
        self.oldest.load(crate::sync::Ordering::Acquire)
    }

    fn counted(&self, version_bytes: usize) {
        // ORDERING: Relaxed (both): statistics only.
        self.versions.fetch_add(1, Ordering::Relaxed);
        self.bytes
            .fetch_add(version_bytes + NODE_SHARE, Ordering::Relaxed);
    }

    /// Runs `f` on the version of `key` visible at `at` (the newest committed with `ts <= at`,
    /// tombstones included), or on `None` when the key has no version that old. The version is
    /// protected (not freed by trimming) while `f` runs.
    pub fn get_at<R>(&self, key: &[u8], at: u64, f: impl FnOnce(Option<&Version>) -> R) -> R {
        match self.entry(key) {
            Some(entry) => entry.chain.read_at(at, &mut Hazards::local(), f),
            None => f(None),
        }
    }

    /// Like [`Memtable::get_at`], but transaction `txn` sees its own uncommitted write first.
    pub fn get_own<R>(
        &self,
        key: &[u8],
        txn: u64,
        at: u64,
        f: impl FnOnce(Option<&Version>) -> R,
    ) -> R {
        match self.entry(key) {
            Some(entry) => entry.chain.read_own(txn, at, &mut Hazards::local(), f),
            None => f(None),
        }
    }

    /// Calls `f` on the committed versions of `key`, newest first, until it breaks; returns the
    /// break value. Each version is protected while `f` runs on it (and only then).
    pub fn history<B>(&self, key: &[u8], f: impl FnMut(&Version) -> ControlFlow<B>) -> Option<B> {
        self.entry(key)?.chain.for_each(&mut Hazards::local(), f)
    }

    /// Runs `f` on the chain of `key` if the key was ever written. Chain reads take
    /// [`Hazards`]; [`Hazards::local`] gives this thread's.
    pub fn with_chain<R>(&self, key: &[u8], f: impl FnOnce(&Chain) -> R) -> Option<R> {
        self.entry(key).map(|entry| f(&entry.chain))
    }

    /// Visits keys within `(lo, hi)` in byte order (descending when `reverse`) with the version
    /// each has at `at` (`None` when it has none), until `f` breaks. Costs O(log n) to find the
    /// start plus O(1) per key visited.
    pub fn scan(
        &self,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        reverse: bool,
        at: u64,
        mut f: impl FnMut(&[u8], Option<&Version>) -> ControlFlow<()>,
    ) {
        let mut hazards = Hazards::local();
        self.scan_chains(lo, hi, reverse, |key, chain| {
            chain.read_at(at, &mut hazards, |v| f(key, v))
        });
    }

    /// Visits keys within `(lo, hi)` in byte order (descending when `reverse`) with their chains,
    /// until `f` breaks.
    pub fn scan_chains(
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
        let mut visit = |entry: crossbeam_skiplist::map::Entry<'_, EntryKey, ()>| {
            let entry = entry.key().entry();
            f(entry.key(), &entry.chain)
        };
        if reverse {
            for entry in range.rev() {
                if visit(entry).is_break() {
                    return;
                }
            }
        } else {
            for entry in range {
                if visit(entry).is_break() {
                    return;
                }
            }
        }
    }

    /// Appends a committed version of `key` at `ts` (`None` = tombstone). Safe from any number
    /// of threads; `ts` must not be older than the key's newest version (equal shadows it), and
    /// another transaction's intent on the key is a conflict.
    pub fn insert(&self, key: &[u8], ts: u64, value: Option<&[u8]>) -> Result<(), WriteError> {
        let entry = self.entry_or_insert(key);
        self.note_ts(ts);
        entry.chain.insert(ts, value, &mut Hazards::local())?;
        self.counted(Version::footprint_of(value));
        Ok(())
    }

    /// Writes `value` (`None` = tombstone) to `key` as transaction `txn`'s uncommitted intent,
    /// invisible to every other reader until [`Memtable::commit_intent`]. Fails on a write-write
    /// conflict: another transaction's intent at the head, or a version committed after
    /// `snapshot`. Writing a key twice replaces the transaction's own intent.
    pub fn put_intent(
        &self,
        key: &[u8],
        txn: u64,
        snapshot: u64,
        value: Option<&[u8]>,
    ) -> Result<(), WriteError> {
        let entry = self.entry_or_insert(key);
        entry.chain.put_intent(
            txn,
            snapshot,
            value,
            &mut Hazards::local(),
            Domain::global(),
        )
    }

    /// Commits `txn`'s intent on `key` at `ts`. Make a multi-key commit visible all at once by
    /// committing every key before publishing `ts` to readers (a [`crate::Watermark`], or the
    /// engine's acknowledged log position).
    pub fn commit_intent(&self, key: &[u8], txn: u64, ts: u64) -> Result<(), WriteError> {
        let entry = self.entry(key).ok_or(WriteError::NoIntent)?;
        self.note_ts(ts);
        let footprint = entry.chain.commit(txn, ts, &mut Hazards::local())?;
        self.counted(footprint);
        Ok(())
    }

    /// Removes `txn`'s intent on `key` (retiring it); returns whether there was one.
    pub fn abort_intent(&self, key: &[u8], txn: u64) -> bool {
        match self.entry(key) {
            Some(entry) => entry
                .chain
                .abort(txn, &mut Hazards::local(), Domain::global()),
            None => false,
        }
    }

    /// Trims every chain: unlinks and retires the versions that no read at `horizon` or later
    /// can see, keeping at least `keep_min` per key (see [`Chain::trim_before`]). Returns the
    /// number of versions retired. Runs alongside readers and writers.
    pub fn trim_before(&self, horizon: u64, keep_min: usize) -> usize {
        let mut hazards = Hazards::local();
        let mut total = Trimmed::default();
        for entry in self.map.iter() {
            total += entry.key().entry().chain.trim_before(
                horizon,
                keep_min,
                &mut hazards,
                Domain::global(),
            );
        }
        self.uncount(total)
    }

    /// [`Memtable::trim_before`] for one key.
    pub fn trim_key_before(&self, key: &[u8], horizon: u64, keep_min: usize) -> usize {
        match self.entry(key) {
            Some(entry) => {
                let trimmed = entry.chain.trim_before(
                    horizon,
                    keep_min,
                    &mut Hazards::local(),
                    Domain::global(),
                );
                self.uncount(trimmed)
            }
            None => 0,
        }
    }

    fn uncount(&self, trimmed: Trimmed) -> usize {
        // ORDERING: Relaxed (both): statistics only.
        self.versions.fetch_sub(trimmed.versions, Ordering::Relaxed);
        self.bytes.fetch_sub(
            trimmed.bytes + trimmed.versions * NODE_SHARE,
            Ordering::Relaxed,
        );
        trimmed.versions
    }

    /// Current counters.
    pub fn stats(&self) -> MemtableStats {
        MemtableStats {
            // ORDERING: Relaxed: statistics only; no other memory is published through them.
            keys: self.keys.load(Ordering::Relaxed),
            // ORDERING: Relaxed: as above.
            versions: self.versions.load(Ordering::Relaxed),
            // ORDERING: Relaxed: as above.
            bytes: self.bytes.load(Ordering::Relaxed),
        }
    }
}

impl std::fmt::Debug for Memtable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memtable")
            .field("stats", &self.stats())
            .finish()
    }
}

impl WriteToken {
    /// The memtable this token appends to.
    pub fn memtable(&self) -> &Arc<Memtable> {
        &self.memtable
    }

    /// Appends a committed version of `key` (`None` = tombstone). `ts` must not be older than
    /// the key's newest version: the engine assigns timestamps under the same lock that holds
    /// this token. A version equal in `ts` to the newest one shadows it (the later write of a
    /// batch wins).
    ///
    /// # Panics
    /// On an out-of-order timestamp, or when a transaction holds an intent on the key (the
    /// sequencer path and transactions must not write the same memtable unsynchronized).
    pub fn insert(&mut self, key: &[u8], ts: u64, value: Option<&[u8]>) {
        if let Err(error) = self.memtable.insert(key, ts, value) {
            panic!("{error}");
        }
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
        m.scan(lo, hi, reverse, u64::MAX, |k, _| {
            keys.push(k.to_vec());
            ControlFlow::Continue(())
        });
        keys
    }

    fn value_at(m: &Memtable, key: &[u8], at: u64) -> Option<Option<Vec<u8>>> {
        m.get_at(key, at, |v| v.map(|v| v.value().map(<[u8]>::to_vec)))
    }

    fn history(m: &Memtable, key: &[u8]) -> Vec<u64> {
        let mut tss = Vec::new();
        m.history::<()>(key, |v| {
            tss.push(v.ts());
            ControlFlow::Continue(())
        });
        tss
    }

    #[test]
    fn memtable_get_at_returns_newest_version_not_after_at() {
        let (m, mut w) = Memtable::new();
        for ts in [10u64, 20, 30] {
            w.insert(b"k", ts, Some(&ts.to_be_bytes()));
        }
        w.insert(b"k", 40, None);
        assert_eq!(value_at(&m, b"k", 9), None);
        assert_eq!(
            value_at(&m, b"k", 10),
            Some(Some(10u64.to_be_bytes().to_vec()))
        );
        assert_eq!(
            value_at(&m, b"k", 29),
            Some(Some(20u64.to_be_bytes().to_vec()))
        );
        assert_eq!(value_at(&m, b"k", 40), Some(None));
        assert_eq!(value_at(&m, b"missing", 40), None);
        assert_eq!(m.stats().versions, 4);
        assert_eq!(m.stats().keys, 1);
    }

    #[test]
    fn memtable_oldest_ts_is_the_oldest_version_written_and_never_rises() {
        let (m, mut w) = Memtable::new();
        assert_eq!(m.oldest_ts(), u64::MAX);
        w.insert(b"b", 50, Some(b"x"));
        assert_eq!(m.oldest_ts(), 50);
        w.insert(b"a", 60, None);
        w.insert(b"b", 70, Some(b"y"));
        assert_eq!(m.oldest_ts(), 50);
        m.put_intent(b"c", 7, 70, Some(b"z")).unwrap();
        assert_eq!(m.oldest_ts(), 50, "an intent is not a version");
        m.commit_intent(b"c", 7, 80).unwrap();
        assert_eq!(m.oldest_ts(), 50);
        // Trimming the oldest version leaves a lower bound in place.
        m.trim_before(75, 1);
        assert_eq!(m.oldest_ts(), 50);
        assert!(value_at(&m, b"b", 49).is_none());
    }

    #[test]
    fn memtable_chain_spans_many_fat_nodes_in_order() {
        let (m, mut w) = Memtable::new();
        for ts in 1..=100u64 {
            w.insert(b"k", ts, Some(&ts.to_le_bytes()));
        }
        assert_eq!(history(&m, b"k"), (1..=100).rev().collect::<Vec<_>>());
        for at in 1..=100u64 {
            assert_eq!(m.get_at(b"k", at, |v| v.unwrap().ts()), at);
        }
    }

    #[test]
    fn memtable_same_ts_write_shadows_earlier_one() {
        let (m, mut w) = Memtable::new();
        w.insert(b"k", 5, Some(b"a"));
        w.insert(b"k", 5, Some(b"b"));
        assert_eq!(value_at(&m, b"k", 5), Some(Some(b"b".to_vec())));
    }

    #[test]
    #[should_panic(expected = "timestamp order")]
    fn memtable_insert_rejects_older_timestamp() {
        let (_m, mut w) = Memtable::new();
        w.insert(b"k", 5, Some(b"a"));
        w.insert(b"k", 4, Some(b"b"));
    }

    #[test]
    fn memtable_insert_rejects_older_timestamp_across_a_node_boundary() {
        let (m, mut w) = Memtable::new();
        for ts in 1..=8u64 {
            w.insert(b"k", ts * 10, Some(b"v"));
        }
        assert_eq!(
            m.insert(b"k", 75, Some(b"x")),
            Err(WriteError::OutOfOrder { newest: 80 })
        );
        assert_eq!(m.insert(b"k", 80, Some(b"x")), Ok(()));
    }

    #[test]
    fn memtable_values_inline_and_on_the_heap_round_trip() {
        let (m, mut w) = Memtable::new();
        let small = vec![7u8; crate::INLINE_VALUE_BYTES];
        let large = vec![9u8; 10_000];
        w.insert(b"small", 1, Some(&small));
        w.insert(b"large", 1, Some(&large));
        w.insert(b"empty", 1, Some(b""));
        assert_eq!(value_at(&m, b"small", 1), Some(Some(small)));
        assert_eq!(value_at(&m, b"large", 1), Some(Some(large)));
        assert_eq!(value_at(&m, b"empty", 1), Some(Some(Vec::new())));
    }

    #[test]
    fn memtable_scan_respects_bounds_and_direction() {
        let (m, mut w) = Memtable::new();
        for k in [&b"a"[..], b"b", b"c", b"d"] {
            w.insert(k, 1, Some(k));
        }
        let inc = |k: &'static [u8]| Bound::Included(k);
        let exc = |k: &'static [u8]| Bound::Excluded(k);
        assert_eq!(
            collect(&m, inc(b"b"), exc(b"d"), false),
            vec![b"b".to_vec(), b"c".to_vec()]
        );
        assert_eq!(
            collect(&m, exc(b"a"), inc(b"d"), true),
            vec![b"d".to_vec(), b"c".to_vec(), b"b".to_vec()]
        );
        assert!(collect(&m, inc(b"d"), exc(b"a"), false).is_empty());
        assert!(collect(&m, exc(b"b"), exc(b"b"), false).is_empty());
        assert_eq!(
            collect(&m, Bound::Unbounded, Bound::Unbounded, false).len(),
            4
        );
    }

    #[test]
    fn memtable_index_finds_every_key_across_resizes() {
        let (m, mut w) = Memtable::new();
        for i in 0..20_000u32 {
            w.insert(&i.to_be_bytes(), 1, Some(&i.to_le_bytes()));
        }
        for i in 0..20_000u32 {
            assert_eq!(
                value_at(&m, &i.to_be_bytes(), 1),
                Some(Some(i.to_le_bytes().to_vec()))
            );
        }
        assert_eq!(value_at(&m, &20_000u32.to_be_bytes(), 1), None);
        assert_eq!(m.stats().keys, 20_000);
    }

    #[test]
    fn memtable_intent_is_invisible_until_committed() {
        let (m, mut w) = Memtable::new();
        w.insert(b"k", 10, Some(b"old"));
        m.put_intent(b"k", 7, 10, Some(b"new")).unwrap();
        assert_eq!(value_at(&m, b"k", u64::MAX), Some(Some(b"old".to_vec())));
        assert_eq!(history(&m, b"k"), vec![10]);
        m.commit_intent(b"k", 7, 20).unwrap();
        assert_eq!(value_at(&m, b"k", 19), Some(Some(b"old".to_vec())));
        assert_eq!(value_at(&m, b"k", 20), Some(Some(b"new".to_vec())));
        assert_eq!(m.stats().versions, 2);
        assert_eq!(m.commit_intent(b"k", 7, 30), Err(WriteError::NoIntent));
    }

    #[test]
    fn memtable_second_writer_meets_the_intent_as_a_conflict() {
        let (m, _w) = Memtable::new();
        m.put_intent(b"k", 1, 0, Some(b"a")).unwrap();
        assert_eq!(
            m.put_intent(b"k", 2, 0, Some(b"b")),
            Err(WriteError::Conflict { owner: 1 })
        );
        assert_eq!(
            m.insert(b"k", 5, Some(b"c")),
            Err(WriteError::Conflict { owner: 1 })
        );
        // The owner may overwrite its own intent.
        m.put_intent(b"k", 1, 0, Some(b"a2")).unwrap();
        assert_eq!(
            m.get_own(b"k", 1, 0, |v| v
                .and_then(Version::value)
                .map(<[u8]>::to_vec)),
            Some(b"a2".to_vec())
        );
        assert!(!m.get_own(b"k", 2, u64::MAX, |v| v.is_some()));
    }

    #[test]
    fn memtable_abort_removes_the_intent_and_frees_the_slot() {
        let (m, mut w) = Memtable::new();
        for ts in 1..=7u64 {
            w.insert(b"k", ts, Some(b"v"));
        }
        // Slot 7 (the node's last) and then a new node's slot 0.
        for (txn, ts) in [(1u64, 8u64), (2, 9)] {
            m.put_intent(b"k", txn, ts - 1, Some(b"x")).unwrap();
            assert!(!m.abort_intent(b"k", txn + 100));
            assert!(m.abort_intent(b"k", txn));
            assert!(!m.abort_intent(b"k", txn));
            m.put_intent(b"k", txn + 10, ts - 1, Some(b"y")).unwrap();
            m.commit_intent(b"k", txn + 10, ts).unwrap();
        }
        assert_eq!(history(&m, b"k"), (1..=9).rev().collect::<Vec<_>>());
        assert_eq!(value_at(&m, b"k", 9), Some(Some(b"y".to_vec())));
    }

    #[test]
    fn memtable_intent_conflicts_with_a_commit_after_the_snapshot() {
        let (m, mut w) = Memtable::new();
        w.insert(b"k", 10, Some(b"a"));
        assert_eq!(
            m.put_intent(b"k", 1, 9, Some(b"b")),
            Err(WriteError::CommittedAfterSnapshot { ts: 10 })
        );
        m.put_intent(b"k", 1, 10, Some(b"b")).unwrap();
    }

    #[test]
    fn memtable_trim_keeps_what_reads_at_the_horizon_see() {
        let (m, mut w) = Memtable::new();
        for ts in 1..=40u64 {
            w.insert(b"k", ts, Some(&ts.to_le_bytes()));
        }
        // Horizon 20: slot of ts 20 is in the node [17..=24]; nodes [1..=8] and [9..=16] go.
        assert_eq!(m.trim_key_before(b"k", 20, 1), 16);
        assert_eq!(m.stats().versions, 24);
        assert_eq!(history(&m, b"k"), (17..=40).rev().collect::<Vec<_>>());
        for at in 20..=40u64 {
            assert_eq!(m.get_at(b"k", at, |v| v.unwrap().ts()), at);
        }
        // keep_min wins over the horizon.
        assert_eq!(m.trim_before(40, 20), 0);
        assert_eq!(m.trim_before(40, 1), 16);
        assert_eq!(history(&m, b"k"), (33..=40).rev().collect::<Vec<_>>());
        Domain::global().reclaim();
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
                                    let bytes: [u8; 8] = v.value().unwrap().try_into().unwrap();
                                    assert_eq!(u64::from_le_bytes(bytes), v.ts());
                                    assert_eq!(v.ts() % 64, k);
                                    seen = seen.max(v.ts());
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

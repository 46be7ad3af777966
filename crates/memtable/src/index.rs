//! The point-read index: an open-addressing hash table from key to entry.
//!
//! Readers take no lock: they load the current table (Acquire) and probe linearly; a slot's
//! entry pointer is published with Release after its hash. Entries are never removed, so a
//! probe ends at the first empty slot. New keys are inserted under a mutex that only writers of
//! new keys take (existing keys, the common write, never touch it); a full table is copied into
//! one twice its size and swapped in. Old tables are kept until the memtable drops (a reader may
//! still probe one); their sizes halve, so together they cost less than the current table.

use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::Mutex;

use crate::memtable::Entry;

const INITIAL_CAPACITY: usize = 1024;

#[derive(Default)]
struct Slot {
    hash: AtomicU64,
    entry: AtomicPtr<Entry>,
}

struct Table {
    mask: usize,
    slots: Box<[Slot]>,
}

impl Table {
    fn with_capacity(capacity: usize) -> Box<Table> {
        debug_assert!(capacity.is_power_of_two());
        let slots = (0..capacity).map(|_| Slot::default()).collect();
        Box::new(Table {
            mask: capacity - 1,
            slots,
        })
    }

    /// Stores `entry` in the first empty slot of its probe sequence. Writers only (under the
    /// mutex), and the key must not be in the table.
    fn place(&self, hash: u64, entry: *mut Entry) {
        let mut i = hash as usize & self.mask;
        loop {
            let slot = &self.slots[i];
            // ORDERING: Relaxed: only writers store entries, and they hold the mutex.
            if slot.entry.load(Ordering::Relaxed).is_null() {
                // ORDERING: Relaxed: published by the Release store of the entry below.
                slot.hash.store(hash, Ordering::Relaxed);
                // ORDERING: Release, pairs with the Acquire load in `get`: a reader that sees
                // the entry sees the hash and the entry's contents.
                slot.entry.store(entry, Ordering::Release);
                return;
            }
            i = (i + 1) & self.mask;
        }
    }
}

pub(crate) struct Index {
    table: AtomicPtr<Table>,
    writer: Mutex<Writer>,
}

struct Writer {
    len: usize,
    /// Replaced tables, freed when the index drops.
    old: Vec<*mut Table>,
}

// SAFETY: the raw table pointers are owned by the index; tables are only read through atomics
// by readers and written under the mutex; entries are owned by the memtable's key map and
// outlive the index's use of them.
unsafe impl Send for Index {}
// SAFETY: as above.
unsafe impl Sync for Index {}

impl Index {
    pub(crate) fn new() -> Index {
        Index {
            table: AtomicPtr::new(Box::into_raw(Table::with_capacity(INITIAL_CAPACITY))),
            writer: Mutex::new(Writer {
                len: 0,
                old: Vec::new(),
            }),
        }
    }

    /// The entry of `key`, if the index has it.
    #[inline]
    pub(crate) fn get(&self, hash: u64, key: &[u8]) -> Option<&Entry> {
        // ORDERING: Acquire, pairs with the Release store in `insert` that swapped the table
        // in: its slots are visible.
        // SAFETY: tables are freed only when the index drops.
        let table = unsafe { &*self.table.load(Ordering::Acquire) };
        let mut i = hash as usize & table.mask;
        loop {
            let slot = &table.slots[i];
            // ORDERING: Acquire, pairs with the Release store in `place`.
            let entry = slot.entry.load(Ordering::Acquire);
            if entry.is_null() {
                return None;
            }
            // ORDERING: Relaxed: ordered by the Acquire load of the entry above.
            if slot.hash.load(Ordering::Relaxed) == hash {
                // SAFETY: entries live as long as the memtable, which outlives `&self`.
                let entry = unsafe { &*entry };
                if entry.key() == key {
                    return Some(entry);
                }
            }
            i = (i + 1) & table.mask;
        }
    }

    /// Adds `entry` for `key` unless the index has the key already; returns the indexed entry
    /// and whether it was added.
    pub(crate) fn insert(&self, hash: u64, key: &[u8], entry: *mut Entry) -> (&Entry, bool) {
        let mut writer = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(existing) = self.get(hash, key) {
            return (existing, false);
        }
        // ORDERING: Relaxed: only writers (holding the mutex) store the table pointer.
        let mut table = self.table.load(Ordering::Relaxed);
        // SAFETY: tables live as long as the index.
        let current = unsafe { &*table };
        let capacity = current.slots.len();
        if (writer.len + 1) * 2 > capacity {
            let bigger = Table::with_capacity(capacity * 2);
            for slot in current.slots.iter() {
                // ORDERING: Relaxed: we hold the mutex, under which every entry was stored.
                let existing = slot.entry.load(Ordering::Relaxed);
                if !existing.is_null() {
                    // ORDERING: Relaxed: as above.
                    bigger.place(slot.hash.load(Ordering::Relaxed), existing);
                }
            }
            writer.old.push(table);
            table = Box::into_raw(bigger);
            // ORDERING: Release, pairs with the Acquire load in `get`: publishes the new
            // table's slots.
            self.table.store(table, Ordering::Release);
        }
        // SAFETY: as above.
        unsafe { &*table }.place(hash, entry);
        writer.len += 1;
        // SAFETY: the caller's entry lives as long as the memtable.
        (unsafe { &*entry }, true)
    }
}

impl Drop for Index {
    fn drop(&mut self) {
        let writer = self
            .writer
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for table in writer.old.drain(..) {
            // SAFETY: exclusive access; each table came from Box::into_raw once.
            drop(unsafe { Box::from_raw(table) });
        }
        let table = std::mem::replace(self.table.get_mut(), ptr::null_mut());
        // SAFETY: as above.
        drop(unsafe { Box::from_raw(table) });
    }
}

/// A seeded 64-bit hash of key bytes: eight bytes at a time through a 64x64->128-bit multiply
/// folded back to 64 bits. Fast for short keys; the per-memtable random seed keeps collision
/// patterns unpredictable across processes.
#[inline]
pub(crate) fn hash(seed: u64, key: &[u8]) -> u64 {
    const K0: u64 = 0x9e37_79b9_7f4a_7c15;
    const K1: u64 = 0xbf58_476d_1ce4_e5b9;
    #[inline(always)]
    fn fold(a: u64, b: u64) -> u64 {
        let product = u128::from(a) * u128::from(b);
        (product as u64) ^ ((product >> 64) as u64)
    }
    // Each word is mixed with the secret seed before the multiply, so an input cannot zero the
    // state (and collide prefixes) without knowing the seed.
    let mut h = seed.rotate_left(29) ^ (key.len() as u64).wrapping_mul(K0);
    let mut chunks = key.chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        h = fold(word ^ seed, h ^ K1);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut buf = [0u8; 8];
        buf[..rest.len()].copy_from_slice(rest);
        h = fold(u64::from_le_bytes(buf) ^ seed, h ^ K1);
    }
    fold(h ^ K0, seed ^ K1)
}

//! Fat-node version chains: the versions of one key, newest last, eight pointers per node.

use std::marker::PhantomData;
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use crate::Version;

/// Version pointers per fat node: 8 x 8 bytes fill one 64-byte cache line.
pub const SLOTS: usize = 8;

/// A fat node. `slots` comes first so the eight pointers share one cache line.
#[repr(C, align(64))]
struct Node {
    slots: [AtomicPtr<Version>; SLOTS],
    /// Published slot count. Written only by the chain's appender.
    len: AtomicUsize,
    /// The next older node (always full), or null. Immutable after the node is published.
    older: *mut Node,
}

/// The versions of one key, appended in non-decreasing timestamp order and read lock-free.
///
/// Appends are crate-private and only reachable through the memtable's unique
/// [`WriteToken`](crate::WriteToken), so a chain never has two appenders at once.
pub struct Chain {
    /// The newest node, or null while the chain is empty.
    head: AtomicPtr<Node>,
}

// SAFETY: a Chain owns its nodes and versions through raw pointers. Published versions are
// immutable, nodes are freed only in Drop (which has `&mut self`), and appends are serialized by
// the memtable's single WriteToken, so sharing `&Chain` across threads is sound.
unsafe impl Send for Chain {}
// SAFETY: as above.
unsafe impl Sync for Chain {}

impl Chain {
    pub(crate) fn new() -> Self {
        Chain { head: AtomicPtr::new(ptr::null_mut()) }
    }

    /// Appends `version` as the newest. Only called by the holder of the memtable's WriteToken.
    pub(crate) fn push(&self, version: Version) {
        let version = Box::into_raw(Box::new(version));
        // ORDERING: Relaxed: only the appender (this thread, holding the WriteToken) stores head.
        let head = self.head.load(Ordering::Relaxed);
        if !head.is_null() {
            // SAFETY: head points to a node this chain owns; nodes are freed only in Drop.
            let node = unsafe { &*head };
            // ORDERING: Relaxed: only the appender stores len.
            let len = node.len.load(Ordering::Relaxed);
            if len < SLOTS {
                // ORDERING: Relaxed: the Release store of len below publishes the slot.
                node.slots[len].store(version, Ordering::Relaxed);
                // ORDERING: Release, pairs with the Acquire load of len in `iter`: a reader that
                // sees the new length also sees the slot and the version it points to.
                node.len.store(len + 1, Ordering::Release);
                return;
            }
        }
        let node = Box::new(Node {
            slots: Default::default(),
            len: AtomicUsize::new(1),
            older: head,
        });
        // ORDERING: Relaxed: the node is not shared until the Release store of head below.
        node.slots[0].store(version, Ordering::Relaxed);
        // ORDERING: Release, pairs with the Acquire load of head in `iter`: publishes the node,
        // its first slot and version.
        self.head.store(Box::into_raw(node), Ordering::Release);
    }

    /// Versions newest first.
    pub fn iter(&self) -> ChainIter<'_> {
        // ORDERING: Acquire, pairs with the Release store in `push` that published the node.
        let node = self.head.load(Ordering::Acquire);
        let next = if node.is_null() {
            0
        } else {
            // SAFETY: a published node stays alive as long as the chain (`&self` borrows it).
            // ORDERING: Acquire, pairs with the Release store of len in `push`.
            unsafe { (*node).len.load(Ordering::Acquire) }
        };
        ChainIter { node, next, _chain: PhantomData }
    }

    /// The newest version with `ts <= at`, tombstones included.
    pub fn find(&self, at: u64) -> Option<&Version> {
        self.iter().find(|v| v.ts <= at)
    }

    /// The newest version, whatever its timestamp.
    pub fn newest(&self) -> Option<&Version> {
        self.iter().next()
    }
}

impl Default for Chain {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Drop for Chain {
    fn drop(&mut self) {
        let mut node = *self.head.get_mut();
        while !node.is_null() {
            // SAFETY: `&mut self` proves no reader or appender remains; every node and every
            // version below a node's len was created by Box::into_raw in `push` and is freed once.
            let mut owned = unsafe { Box::from_raw(node) };
            let len = *owned.len.get_mut();
            for slot in &mut owned.slots[..len] {
                // SAFETY: as above: a published slot holds a Box-allocated version owned here.
                drop(unsafe { Box::from_raw(*slot.get_mut()) });
            }
            node = owned.older;
        }
    }
}

/// Iterator over a chain's versions, newest first. Borrows the chain, so the versions outlive it.
#[derive(Debug)]
pub struct ChainIter<'a> {
    node: *const Node,
    /// Slots of `node` not yet returned: indices `0..next`.
    next: usize,
    _chain: PhantomData<&'a Chain>,
}

impl<'a> Iterator for ChainIter<'a> {
    type Item = &'a Version;

    fn next(&mut self) -> Option<&'a Version> {
        loop {
            if self.node.is_null() {
                return None;
            }
            // SAFETY: the node belongs to the borrowed chain and lives as long as it.
            let node = unsafe { &*self.node };
            if self.next > 0 {
                self.next -= 1;
                // ORDERING: Relaxed: the Acquire load of head or len in `iter` (or the full older
                // node published before the head moved past it) already ordered this slot's store.
                let version = node.slots[self.next].load(Ordering::Relaxed);
                // SAFETY: slots below a published len hold live versions owned by the chain.
                return Some(unsafe { &*version });
            }
            self.node = node.older;
            // Older nodes are full and immutable.
            self.next = if self.node.is_null() { 0 } else { SLOTS };
        }
    }
}

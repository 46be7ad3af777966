//! Fat-node version chains: the versions of one key, newest last, eight per node, with write
//! intents, conflict detection and trimming. See the crate docs for the protocol.

use std::fmt;
use std::ops::ControlFlow;
use std::ptr;

use chronokv_hazard::{Domain, HazardPointer};

use crate::sync::{spin_wait, AtomicBool, AtomicPtr, AtomicU64, Liveness, Ordering};
use crate::Version;

/// Version pointers per fat node: 8 x 8 bytes fill one 64-byte cache line.
pub const SLOTS: usize = 8;

/// Low bits of a node's tail word: how many slots are reserved (0..=SLOTS).
const LEN_BITS: u32 = 8;
const LEN_MASK: u64 = (1 << LEN_BITS) - 1;

/// The largest transaction id: ids live in the tail word's 56 high bits, 0 meaning "no owner"
/// and the all-ones value being the sequencer path's transient owner.
pub const MAX_TXN: u64 = (1 << (64 - LEN_BITS)) - 2;
/// The owner a committed (non-transactional) insert holds for the three stores between
/// reserving its slot and publishing it.
const SEQUENCER: u64 = MAX_TXN + 1;

fn tail_word(len: usize, owner: u64) -> u64 {
    (owner << LEN_BITS) | len as u64
}

fn tail_len(tail: u64) -> usize {
    (tail & LEN_MASK) as usize
}

fn tail_owner(tail: u64) -> u64 {
    tail >> LEN_BITS
}

/// Why a write to a chain was refused. Nothing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WriteError {
    /// Another transaction's uncommitted intent is at the key's head: a write-write conflict.
    /// Abort (or retry after that transaction finishes).
    Conflict {
        /// The transaction holding the intent.
        owner: u64,
    },
    /// A version committed after the writer's snapshot (first committer wins). Abort and retry
    /// on a newer snapshot.
    CommittedAfterSnapshot {
        /// The newer commit's timestamp.
        ts: u64,
    },
    /// The commit timestamp is older than the key's newest committed version. Versions of a key
    /// must be committed in timestamp order: assign timestamps under one sequencer.
    OutOfOrder {
        /// The key's newest commit timestamp.
        newest: u64,
    },
    /// The transaction holds no intent on this key (commit without a write, or twice).
    NoIntent,
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Conflict { owner } => {
                write!(
                    f,
                    "write-write conflict: transaction {owner} holds an uncommitted write"
                )
            }
            WriteError::CommittedAfterSnapshot { ts } => {
                write!(
                    f,
                    "write-write conflict: a version committed at {ts}, after the snapshot"
                )
            }
            WriteError::OutOfOrder { newest } => write!(
                f,
                "memtable versions must be committed in timestamp order (newest is {newest})"
            ),
            WriteError::NoIntent => f.write_str("the transaction holds no intent on this key"),
        }
    }
}

impl std::error::Error for WriteError {}

/// What a trim removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Trimmed {
    /// Versions unlinked and retired.
    pub versions: usize,
    /// Their [`Version::footprint`]s, summed.
    pub bytes: usize,
}

impl std::ops::AddAssign for Trimmed {
    fn add_assign(&mut self, other: Trimmed) {
        self.versions += other.versions;
        self.bytes += other.bytes;
    }
}

/// One cache line.
#[repr(C, align(64))]
struct Line<T>(T);

impl<T> std::ops::Deref for Line<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// The node's control words: they change on every reservation, so they get a line of their own.
struct Control {
    /// `len | owner << LEN_BITS`: slots `0..len` are reserved; while `owner != 0` the last of
    /// them is owned by that transaction (an intent, possibly not yet stored) and invisible.
    tail: AtomicU64,
    /// The next older node (full and committed), or null. Only trimming changes it (to null).
    older: AtomicPtr<Node>,
    liveness: Liveness,
}

/// A fat node: eight version slots (one cache line), their commit timestamps (one line, so an
/// as-of read searches timestamps without touching the versions), and the control words. The
/// node is 128-byte aligned with the control line and the stamps forming one 128-byte pair, which
/// the hardware's adjacent-line prefetcher fetches together: a read costs two node misses, not three.
#[repr(C, align(128))]
struct Node {
    control: Line<Control>,
    /// `stamps[i]` is the commit timestamp of `slots[i]` once that slot is committed.
    stamps: Line<[AtomicU64; SLOTS]>,
    slots: Line<[AtomicPtr<Version>; SLOTS]>,
}

impl Node {
    /// A node whose slot 0 holds `first`: committed at `ts` when `owner == 0`, else an intent.
    fn new(first: *mut Version, ts: u64, owner: u64, older: *mut Node) -> Box<Node> {
        let node = Box::new(Node {
            control: Line(Control {
                tail: AtomicU64::new(tail_word(1, owner)),
                older: AtomicPtr::new(older),
                liveness: Liveness::default(),
            }),
            stamps: Line(std::array::from_fn(|_| AtomicU64::new(0))),
            slots: Line(std::array::from_fn(|_| AtomicPtr::new(ptr::null_mut()))),
        });
        // ORDERING: Relaxed (both): the node is private until the Release CAS of the chain's
        // head publishes it.
        node.slots[0].store(first, Ordering::Relaxed);
        node.stamps[0].store(ts, Ordering::Relaxed);
        node
    }

    /// How many slots, from 0, hold committed versions a reader may use.
    fn committed_len(&self) -> usize {
        // ORDERING: Acquire, pairs with the Release store (or the release sequence of CASes)
        // of the tail by the writer that committed each slot: its version, value and stamp are
        // visible before we read them.
        let tail = self.control.tail.load(Ordering::Acquire);
        tail_len(tail) - usize::from(tail_owner(tail) != 0)
    }

    /// The commit timestamp of committed slot `i`.
    fn stamp(&self, i: usize) -> u64 {
        // ORDERING: Relaxed: ordered by the Acquire load of the tail in `committed_len`.
        self.stamps[i].load(Ordering::Relaxed)
    }

    /// The version in committed slot `i`; lives as long as the node.
    fn version(&self, i: usize) -> &Version {
        // ORDERING: Relaxed: ordered by the Acquire load of the tail in `committed_len`.
        let version = self.slots[i].load(Ordering::Relaxed);
        debug_assert!(!version.is_null());
        // SAFETY: a committed slot never changes, and its version is freed only with the node,
        // which the caller keeps alive (it holds `&self` under a hazard or owns the chain).
        unsafe { &*version }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.control.0.liveness.retire();
        // ORDERING: Relaxed: `&mut self` means exclusive access (the node was unlinked and
        // reclaimed, or its chain is being dropped).
        let len = tail_len(self.control.tail.load(Ordering::Relaxed));
        for slot in &self.slots.0[..len] {
            // ORDERING: Relaxed: as above.
            let version = slot.load(Ordering::Relaxed);
            if !version.is_null() {
                // SAFETY: every version in a slot came from Box::into_raw and is owned by the
                // node (aborted and replaced intents were swapped out before being retired).
                drop(unsafe { Box::from_raw(version) });
            }
        }
    }
}

/// The hazard pointers one chain operation needs: the node being read, the next older one
/// (hand over hand) and, for intents, the version. The last two are acquired on first use.
pub struct Hazards<'d> {
    node: HazardPointer<'d>,
    next: Option<HazardPointer<'d>>,
    item: Option<HazardPointer<'d>>,
    /// Where further hazard pointers come from; `None` = this thread's pool of the global domain.
    domain: Option<&'d Domain>,
}

impl<'d> Hazards<'d> {
    /// Hazard pointers of `domain` (loom models use a domain of their own).
    pub fn new(domain: &'d Domain) -> Hazards<'d> {
        Hazards {
            node: domain.acquire(),
            next: None,
            item: None,
            domain: Some(domain),
        }
    }

    /// Hazard pointers of the global domain from this thread's pool.
    #[cfg(not(loom))]
    pub fn local() -> Hazards<'static> {
        Hazards {
            node: HazardPointer::local(),
            next: None,
            item: None,
            domain: None,
        }
    }

    fn fresh(domain: Option<&'d Domain>) -> HazardPointer<'d> {
        match domain {
            Some(domain) => domain.acquire(),
            #[cfg(not(loom))]
            None => HazardPointer::local(),
            #[cfg(loom)]
            None => unreachable!("loom builds have no global domain"),
        }
    }

    fn next(&mut self) -> &mut HazardPointer<'d> {
        let domain = self.domain;
        self.next.get_or_insert_with(|| Self::fresh(domain))
    }

    fn item(&mut self) -> &mut HazardPointer<'d> {
        let domain = self.domain;
        self.item.get_or_insert_with(|| Self::fresh(domain))
    }

    /// Moves the protection of the next node into the current one.
    fn advance(&mut self) {
        if let Some(next) = self.next.as_mut() {
            std::mem::swap(&mut self.node, next);
        }
    }

    /// Stops protecting anything (the hazard pointers stay owned).
    pub fn reset(&mut self) {
        self.node.reset();
        if let Some(next) = self.next.as_mut() {
            next.reset();
        }
        if let Some(item) = self.item.as_mut() {
            item.reset();
        }
    }
}

impl fmt::Debug for Hazards<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hazards")
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}

/// The versions of one key, newest last, in fat nodes linked from the newest to the oldest.
///
/// Any number of threads read, write intents, commit, abort and trim concurrently; see the
/// crate docs for the protocol. Operations take the [`Hazards`] they protect nodes with and, when
/// they unlink something, the [`Domain`] they retire it to.
pub struct Chain {
    /// The newest node, or null while the chain is empty.
    head: AtomicPtr<Node>,
    /// Held by the one thread trimming this chain.
    trimming: AtomicBool,
}

// SAFETY: a Chain owns its nodes and versions through raw pointers. Committed slots are
// immutable; everything that changes goes through atomics; nodes and intents that other threads
// may still read are freed only through a hazard-pointer domain after being unlinked.
unsafe impl Send for Chain {}
// SAFETY: as above.
unsafe impl Sync for Chain {}

impl Chain {
    /// An empty chain.
    pub fn new() -> Self {
        Chain {
            head: AtomicPtr::new(ptr::null_mut()),
            trimming: AtomicBool::new(false),
        }
    }

    /// Calls `visit(node, committed_len)` for each node from the newest, holding a hazard on it,
    /// until `visit` breaks; returns the break value.
    fn walk<B>(
        &self,
        hazards: &mut Hazards<'_>,
        mut visit: impl FnMut(&Node, usize) -> ControlFlow<B>,
    ) -> Option<B> {
        let mut node = hazards.node.protect(&self.head);
        while !node.is_null() {
            // SAFETY: `hazards.node` protects `node`, validated against its source (the head or
            // the older link of a node we protected), so it is not freed while we use it.
            let current = unsafe { &*node };
            current.control.liveness.touch();
            if let ControlFlow::Break(b) = visit(current, current.committed_len()) {
                return Some(b);
            }
            // Hand over hand: protect the older node (validated against `current.older`, which
            // a trim may null) before moving off `current`.
            node = hazards.next().protect(&current.control.older);
            hazards.advance();
        }
        None
    }

    /// Runs `f` on the newest committed version with `ts <= at` (tombstones included), or on
    /// `None`. Intents are never visible here.
    pub fn read_at<R>(
        &self,
        at: u64,
        hazards: &mut Hazards<'_>,
        f: impl FnOnce(Option<&Version>) -> R,
    ) -> R {
        let mut f = Some(f);
        let found = self.walk(hazards, |node, len| {
            // Stamps grow with the slot index: scan down from the newest.
            for i in (0..len).rev() {
                if node.stamp(i) <= at {
                    let f = f.take().expect("called once");
                    return ControlFlow::Break(f(Some(node.version(i))));
                }
            }
            ControlFlow::Continue(())
        });
        match found {
            Some(result) => result,
            None => (f.take().expect("called once"))(None),
        }
    }

    /// Calls `f` on every committed version, newest first, until it breaks; returns the break
    /// value. Versions trimmed meanwhile may end the walk early.
    pub fn for_each<B>(
        &self,
        hazards: &mut Hazards<'_>,
        mut f: impl FnMut(&Version) -> ControlFlow<B>,
    ) -> Option<B> {
        self.walk(hazards, |node, len| {
            for i in (0..len).rev() {
                f(node.version(i))?;
            }
            ControlFlow::Continue(())
        })
    }

    /// Like [`Chain::read_at`], but `txn` sees its own uncommitted intent first.
    pub fn read_own<R>(
        &self,
        txn: u64,
        at: u64,
        hazards: &mut Hazards<'_>,
        f: impl FnOnce(Option<&Version>) -> R,
    ) -> R {
        let node = hazards.node.protect(&self.head);
        if !node.is_null() {
            // SAFETY: protected by `hazards.node`.
            let head = unsafe { &*node };
            head.control.liveness.touch();
            // ORDERING: Acquire, pairs with the AcqRel CAS that reserved the slot.
            let tail = head.control.tail.load(Ordering::Acquire);
            if tail_owner(tail) == txn && tail_len(tail) > 0 {
                // The intent can be aborted (and freed) or replaced concurrently, for example by
                // a rollback on another thread: protect it, then check it is still ours.
                let intent = hazards.item().protect(&head.slots[tail_len(tail) - 1]);
                if !intent.is_null() {
                    // SAFETY: protected by `hazards.item` and validated against the slot;
                    // aborted intents are freed only through the domain.
                    let intent = unsafe { &*intent };
                    if intent.txn() == Some(txn) {
                        return f(Some(intent));
                    }
                }
            }
        }
        self.read_at(at, hazards, f)
    }

    /// The newest committed timestamp below `(node, len)`: slot `len - 1`, or the older node's
    /// last slot when `len == 0`.
    fn newest_below(node: &Node, len: usize, hazards: &mut Hazards<'_>) -> Option<u64> {
        if len > 0 {
            return Some(node.stamp(len - 1));
        }
        let older = hazards.next().protect(&node.control.older);
        if older.is_null() {
            return None;
        }
        // SAFETY: protected by `hazards.next`, validated against `node.older`.
        let older = unsafe { &*older };
        older.control.liveness.touch();
        let len = older.committed_len();
        (len > 0).then(|| older.stamp(len - 1))
    }

    /// Publishes a new head node holding `version`; false if the head moved (retry).
    fn push_node(&self, head: *mut Node, version: *mut Version, ts: u64, owner: u64) -> bool {
        let node = Box::into_raw(Node::new(version, ts, owner, head));
        // ORDERING: Release on success, pairs with the Acquire load of the head in `protect`:
        // publishes the node and its first slot (and, for `owner == 0`, commits it). Relaxed
        // on failure: we retry from a fresh protected load.
        match self
            .head
            .compare_exchange(head, node, Ordering::Release, Ordering::Relaxed)
        {
            Ok(_) => true,
            Err(_) => {
                // SAFETY: the CAS failed, so the node was never shared. Take the version back
                // out so dropping the node does not free it.
                let node = unsafe { Box::from_raw(node) };
                // ORDERING: Relaxed: private node.
                node.slots[0].store(ptr::null_mut(), Ordering::Relaxed);
                false
            }
        }
    }

    /// Appends a committed version at `ts` (the sequencer path): reserve, store, publish.
    /// `ts` must not be older than the newest committed version.
    pub fn insert(
        &self,
        ts: u64,
        value: Option<&[u8]>,
        hazards: &mut Hazards<'_>,
    ) -> Result<(), WriteError> {
        let version = Box::into_raw(Box::new(Version::committed(ts, value)));
        let result = self.insert_version(ts, version, hazards);
        if result.is_err() {
            // SAFETY: never published.
            drop(unsafe { Box::from_raw(version) });
        }
        hazards.reset();
        result
    }

    fn insert_version(
        &self,
        ts: u64,
        version: *mut Version,
        hazards: &mut Hazards<'_>,
    ) -> Result<(), WriteError> {
        let mut round = 0;
        loop {
            let head = hazards.node.protect(&self.head);
            if head.is_null() {
                if self.push_node(head, version, ts, 0) {
                    return Ok(());
                }
                continue;
            }
            // SAFETY: protected by `hazards.node`.
            let node = unsafe { &*head };
            node.control.liveness.touch();
            // ORDERING: Acquire, pairs with the Release publication of the slots below `len`
            // (we read the newest stamp).
            let tail = node.control.tail.load(Ordering::Acquire);
            let (len, owner) = (tail_len(tail), tail_owner(tail));
            if owner == SEQUENCER {
                spin_wait(&mut round);
                continue;
            }
            if owner != 0 {
                return Err(WriteError::Conflict { owner });
            }
            if let Some(newest) = Self::newest_below(node, len, hazards) {
                if newest > ts {
                    return Err(WriteError::OutOfOrder { newest });
                }
            }
            if len == SLOTS {
                // A full node without an owner is immutable forever: start a new head.
                if self.push_node(head, version, ts, 0) {
                    return Ok(());
                }
                continue;
            }
            // ORDERING: AcqRel on success: Acquire so we follow the previous committer, Release
            // to continue the release sequence readers synchronize with. Relaxed on failure.
            if node
                .control
                .tail
                .compare_exchange(
                    tail,
                    tail_word(len + 1, SEQUENCER),
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                )
                .is_err()
            {
                continue;
            }
            // ORDERING: Relaxed (both): slot `len` is ours and invisible until the Release store
            // of the tail below publishes it.
            node.slots[len].store(version, Ordering::Relaxed);
            node.stamps[len].store(ts, Ordering::Relaxed);
            // ORDERING: Release, pairs with the Acquire load in `committed_len`: a reader that
            // sees the new length sees the slot, the stamp and the version.
            node.control
                .tail
                .store(tail_word(len + 1, 0), Ordering::Release);
            return Ok(());
        }
    }

    /// Writes `value` (`None` = tombstone) as transaction `txn`'s uncommitted intent. Fails with
    /// a conflict when another transaction holds an intent at the head, or when a version newer
    /// than `snapshot` is committed. Writing again replaces the transaction's own intent.
    /// The conflict check and the slot reservation are one CAS.
    pub fn put_intent(
        &self,
        txn: u64,
        snapshot: u64,
        value: Option<&[u8]>,
        hazards: &mut Hazards<'_>,
        domain: &Domain,
    ) -> Result<(), WriteError> {
        assert!(
            txn != 0 && txn <= MAX_TXN,
            "transaction ids are 1..=MAX_TXN"
        );
        let version = Box::into_raw(Box::new(Version::intent(txn, value)));
        let result = self.put_intent_version(txn, snapshot, version, hazards, domain);
        if result.is_err() {
            // SAFETY: never published.
            drop(unsafe { Box::from_raw(version) });
        }
        hazards.reset();
        result
    }

    fn put_intent_version(
        &self,
        txn: u64,
        snapshot: u64,
        version: *mut Version,
        hazards: &mut Hazards<'_>,
        domain: &Domain,
    ) -> Result<(), WriteError> {
        let mut round = 0;
        loop {
            let head = hazards.node.protect(&self.head);
            if head.is_null() {
                if self.push_node(head, version, 0, txn) {
                    return Ok(());
                }
                continue;
            }
            // SAFETY: protected by `hazards.node`.
            let node = unsafe { &*head };
            node.control.liveness.touch();
            // ORDERING: Acquire, as in `insert_version`.
            let tail = node.control.tail.load(Ordering::Acquire);
            let (len, owner) = (tail_len(tail), tail_owner(tail));
            if owner == txn {
                // Our own intent: replace it. Only we change the slot while we own the tail.
                // ORDERING: AcqRel: Release publishes the new intent to own-reads (their
                // protect's Acquire); Acquire orders our later retire after the old one's stores.
                let old = node.slots[len - 1].swap(version, Ordering::AcqRel);
                if !old.is_null() {
                    // SAFETY: swapped out of its only slot, so unlinked; retired once; an own-read
                    // on another thread may still hold it, which the domain waits for.
                    unsafe { domain.retire_box(old) };
                }
                return Ok(());
            }
            if owner == SEQUENCER {
                spin_wait(&mut round);
                continue;
            }
            if owner != 0 {
                return Err(WriteError::Conflict { owner });
            }
            if let Some(newest) = Self::newest_below(node, len, hazards) {
                if newest > snapshot {
                    return Err(WriteError::CommittedAfterSnapshot { ts: newest });
                }
            }
            if len == SLOTS {
                if self.push_node(head, version, 0, txn) {
                    return Ok(());
                }
                continue;
            }
            // The conflict check and the reservation in one step: from here every other writer
            // sees `txn` as the owner and every reader skips slot `len`, stored or not.
            // ORDERING: AcqRel on success, as in `insert_version`. Relaxed on failure.
            if node
                .control
                .tail
                .compare_exchange(
                    tail,
                    tail_word(len + 1, txn),
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                )
                .is_err()
            {
                continue;
            }
            // ORDERING: Release, pairs with the Acquire in an own-read's protect of the slot.
            node.slots[len].store(version, Ordering::Release);
            return Ok(());
        }
    }

    /// Commits `txn`'s intent at `ts`: stamps the version, then clears the owner, which makes
    /// the slot committed. Readers still only see it once their snapshot reaches `ts` (the
    /// engine's watermark passes `ts` only after every version of the commit is stamped).
    /// Returns the committed version's [`Version::footprint`].
    pub fn commit(
        &self,
        txn: u64,
        ts: u64,
        hazards: &mut Hazards<'_>,
    ) -> Result<usize, WriteError> {
        let result = self.commit_inner(txn, ts, hazards);
        hazards.reset();
        result
    }

    fn commit_inner(
        &self,
        txn: u64,
        ts: u64,
        hazards: &mut Hazards<'_>,
    ) -> Result<usize, WriteError> {
        let head = hazards.node.protect(&self.head);
        if head.is_null() {
            return Err(WriteError::NoIntent);
        }
        // SAFETY: protected by `hazards.node`.
        let node = unsafe { &*head };
        node.control.liveness.touch();
        // ORDERING: Acquire, as in `insert_version`.
        let tail = node.control.tail.load(Ordering::Acquire);
        let len = tail_len(tail);
        if tail_owner(tail) != txn || len == 0 {
            return Err(WriteError::NoIntent);
        }
        if let Some(newest) = Self::newest_below(node, len - 1, hazards) {
            if newest > ts {
                return Err(WriteError::OutOfOrder { newest });
            }
        }
        // ORDERING: Relaxed: we stored it (put_intent) on this transaction's thread, or the
        // Acquire load of the tail above ordered it.
        let version = node.slots[len - 1].load(Ordering::Relaxed);
        assert!(
            !version.is_null(),
            "commit raced the transaction's own put_intent"
        );
        // SAFETY: only the owner frees its intent (abort/replace), and the owner is committing.
        let version = unsafe { &*version };
        version.stamp(ts);
        // ORDERING: Relaxed: published by the Release store of the tail below.
        node.stamps[len - 1].store(ts, Ordering::Relaxed);
        // ORDERING: Release, pairs with the Acquire load in `committed_len`: the stamp and the
        // stamped state are visible to every reader that sees the owner cleared.
        node.control
            .tail
            .store(tail_word(len, 0), Ordering::Release);
        Ok(version.footprint())
    }

    /// Removes `txn`'s intent (if it holds one) and retires it; returns whether it did.
    pub fn abort(&self, txn: u64, hazards: &mut Hazards<'_>, domain: &Domain) -> bool {
        let aborted = self.abort_inner(txn, hazards, domain);
        hazards.reset();
        aborted
    }

    fn abort_inner(&self, txn: u64, hazards: &mut Hazards<'_>, domain: &Domain) -> bool {
        let head = hazards.node.protect(&self.head);
        if head.is_null() {
            return false;
        }
        // SAFETY: protected by `hazards.node`.
        let node = unsafe { &*head };
        node.control.liveness.touch();
        // ORDERING: Acquire, as in `insert_version`.
        let tail = node.control.tail.load(Ordering::Acquire);
        let len = tail_len(tail);
        if tail_owner(tail) != txn || len == 0 {
            return false;
        }
        // Unlink first, then give the slot back.
        // ORDERING: AcqRel: Acquire orders our retire after the intent's stores; Release orders
        // the null before the tail store below (and thus before the slot's next owner).
        let intent = node.slots[len - 1].swap(ptr::null_mut(), Ordering::AcqRel);
        // ORDERING: Release, pairs with the Acquire load or AcqRel CAS of the next writer, who
        // reuses slot `len - 1`; readers keep skipping it (it is beyond `len - 1`).
        node.control
            .tail
            .store(tail_word(len - 1, 0), Ordering::Release);
        if !intent.is_null() {
            // SAFETY: unlinked from its only slot above and retired once; an own-read on another
            // thread may still protect it, which the domain waits for.
            unsafe { domain.retire_box(intent) };
        }
        true
    }

    /// Unlinks and retires the versions a read at `horizon` or later can no longer see, keeping
    /// at least the `keep_min` newest, with node granularity: every node older than the one that
    /// holds the newest version `<= horizon` (and the `keep_min`-th newest) goes. Returns the
    /// what it retired. If another thread is trimming this chain, returns at once.
    pub fn trim_before(
        &self,
        horizon: u64,
        keep_min: usize,
        hazards: &mut Hazards<'_>,
        domain: &Domain,
    ) -> Trimmed {
        // ORDERING: Acquire on success, pairs with the Release store ending the previous trim:
        // we see the older links it cut.
        if self.trimming.swap(true, Ordering::Acquire) {
            return Trimmed::default();
        }
        let mut seen = 0usize;
        let mut floor = false;
        let boundary = self.walk(hazards, |node, len| {
            seen += len;
            floor = floor || (len > 0 && node.stamp(0) <= horizon);
            if floor && seen >= keep_min {
                ControlFlow::Break(ptr::from_ref(node))
            } else {
                ControlFlow::Continue(())
            }
        });
        let mut retired = Trimmed::default();
        if let Some(boundary) = boundary {
            // SAFETY: `walk` returned while `hazards.node` still protects the boundary node.
            let boundary = unsafe { &*boundary };
            // ORDERING: AcqRel: Acquire to own the cut list's contents; Release so readers that
            // see null cannot see the list (they stop), and pairs with the domain's fences.
            let mut cut = boundary
                .control
                .older
                .swap(ptr::null_mut(), Ordering::AcqRel);
            while !cut.is_null() {
                // SAFETY: the cut list is unreachable from the head and only this trimmer (we
                // hold `trimming`) follows or frees it; nodes are retired after we read them.
                let node = unsafe { &*cut };
                // Null the link before retiring the node. A reader standing on this node (it
                // protected it before the cut) validates its hazard on the next node against
                // this link; were the link left intact, that validation could succeed for a
                // node already retired and freed — a hazard must be validated against a source
                // that is still reachable, and a retired node's link is not.
                // ORDERING: AcqRel: Release so a reader's re-read after its SeqCst fence sees
                // null once our reclamation's fence came first; Acquire to own the next node.
                let next = node.control.older.swap(ptr::null_mut(), Ordering::AcqRel);
                let len = node.committed_len();
                retired.versions += len;
                retired.bytes += (0..len).map(|i| node.version(i).footprint()).sum::<usize>();
                // SAFETY: unlinked (the swap above made it unreachable for new readers), retired
                // once; dropping a node frees its committed versions with it.
                unsafe { domain.retire_box(cut) };
                cut = next;
            }
        }
        hazards.reset();
        // ORDERING: Release, pairs with the Acquire swap of the next trim.
        self.trimming.store(false, Ordering::Release);
        retired
    }

    /// The transaction holding an intent at the head, if any (the sequencer path's transient
    /// reservation is not reported).
    pub fn intent_owner(&self, hazards: &mut Hazards<'_>) -> Option<u64> {
        let head = hazards.node.protect(&self.head);
        let owner = if head.is_null() {
            0
        } else {
            // SAFETY: protected by `hazards.node`.
            let node = unsafe { &*head };
            // ORDERING: Acquire: pairs with the reserving CAS (diagnostics; no data follows).
            tail_owner(node.control.tail.load(Ordering::Acquire))
        };
        hazards.reset();
        (owner != 0 && owner != SEQUENCER).then_some(owner)
    }
}

impl Default for Chain {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chain").finish_non_exhaustive()
    }
}

impl Drop for Chain {
    fn drop(&mut self) {
        // ORDERING: Relaxed: `&mut self` means no reader or writer remains.
        let mut node = self.head.load(Ordering::Relaxed);
        while !node.is_null() {
            // SAFETY: exclusive access; every linked node came from Box::into_raw in `push_node`
            // and is linked exactly once (trimmed nodes were unlinked before being retired).
            let owned = unsafe { Box::from_raw(node) };
            // ORDERING: Relaxed: exclusive access.
            node = owned.control.older.load(Ordering::Relaxed);
        }
    }
}

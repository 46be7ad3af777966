//! The domain: the list of hazard records and the stack of retired objects.

use std::ptr;

use crossbeam_utils::CachePadded;

use crate::sync::{fence, AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use crate::HazardPointer;

/// Retired objects a domain holds before [`Domain::retire`] runs a reclamation pass.
pub const DEFAULT_THRESHOLD: usize = 128;

/// One hazard slot. Cache-padded: two threads' records never share a cache line.
pub(crate) struct Record {
    /// The pointer its owner is reading, or null.
    pub(crate) hazard: AtomicPtr<()>,
    /// True while a [`HazardPointer`] (or a thread-local pool) owns the record.
    pub(crate) active: AtomicBool,
    /// The record pushed before this one. Written before the record is published, then immutable.
    next: *mut CachePadded<Record>,
}

impl Record {
    /// Gives the record back to the domain for reuse by any thread.
    pub(crate) fn release(&self) {
        // ORDERING: Release, pairs with the Acquire load of the hazards in `reclaim`: every read
        // of the object this record protected happens before a reclaimer sees it cleared.
        self.hazard.store(ptr::null_mut(), Ordering::Release);
        // ORDERING: Release, pairs with the Acquire CAS in `acquire_record`: the next owner
        // starts after everything this owner did with the record.
        self.active.store(false, Ordering::Release);
    }
}

/// An object waiting for reclamation.
struct Retired {
    ptr: *mut (),
    deleter: unsafe fn(*mut ()),
    next: *mut Retired,
}

/// A hazard-pointer domain: records that readers publish into, and objects writers retired.
///
/// See the crate docs for the protocol.
pub struct Domain {
    /// Newest record of the push-only list.
    records: AtomicPtr<CachePadded<Record>>,
    /// Treiber stack of retired objects.
    retired: CachePadded<AtomicPtr<Retired>>,
    /// At least the number of objects on `retired` (incremented before a push, decremented after
    /// a reclamation pass took them off).
    retired_count: CachePadded<AtomicUsize>,
    /// `retire` reclaims once `retired_count` reaches this.
    threshold: usize,
}

// SAFETY: the raw pointers name records and retired objects owned by the domain; records are
// only touched through atomics (or their immutable `next`), retired objects only by the one
// reclaimer that took them off the stack, and `retire`'s contract makes every retired object
// safe to free from any thread.
unsafe impl Send for Domain {}
// SAFETY: as above; all shared mutation goes through atomics.
unsafe impl Sync for Domain {}

#[cfg(not(loom))]
static GLOBAL: Domain = Domain::with_threshold(DEFAULT_THRESHOLD);

impl Domain {
    /// An empty domain that reclaims every [`DEFAULT_THRESHOLD`] retirements.
    #[cfg(not(loom))]
    pub const fn new() -> Domain {
        Domain::with_threshold(DEFAULT_THRESHOLD)
    }

    /// An empty domain that reclaims once `threshold` objects are retired (at least 1).
    #[cfg(not(loom))]
    pub const fn with_threshold(threshold: usize) -> Domain {
        Domain {
            records: AtomicPtr::new(ptr::null_mut()),
            retired: CachePadded::new(AtomicPtr::new(ptr::null_mut())),
            retired_count: CachePadded::new(AtomicUsize::new(0)),
            threshold: if threshold == 0 { 1 } else { threshold },
        }
    }

    /// An empty domain that reclaims every [`DEFAULT_THRESHOLD`] retirements.
    #[cfg(loom)]
    pub fn new() -> Domain {
        Domain::with_threshold(DEFAULT_THRESHOLD)
    }

    /// An empty domain that reclaims once `threshold` objects are retired (at least 1).
    #[cfg(loom)]
    pub fn with_threshold(threshold: usize) -> Domain {
        Domain {
            records: AtomicPtr::new(ptr::null_mut()),
            retired: CachePadded::new(AtomicPtr::new(ptr::null_mut())),
            retired_count: CachePadded::new(AtomicUsize::new(0)),
            threshold: threshold.max(1),
        }
    }

    /// The process-wide domain. It is never dropped; objects still retired at exit are leaked.
    #[cfg(not(loom))]
    pub fn global() -> &'static Domain {
        &GLOBAL
    }

    /// A hazard pointer owning one record of this domain until it drops. Scans the record list
    /// for an inactive record; prefer [`HazardPointer::local`] on hot paths of the global domain.
    pub fn acquire(&self) -> HazardPointer<'_> {
        HazardPointer::new(self.acquire_record())
    }

    pub(crate) fn acquire_record(&self) -> &Record {
        // ORDERING: Acquire, pairs with the Release CAS that pushed each record: its `next` and
        // initial fields are visible before we follow or use it.
        let mut cursor = self.records.load(Ordering::Acquire);
        while !cursor.is_null() {
            // SAFETY: records are never freed before the domain, which `&self` keeps alive.
            let record: &Record = unsafe { &*cursor };
            // ORDERING: Relaxed: a cheap pre-check; the CAS below decides.
            if !record.active.load(Ordering::Relaxed)
                // ORDERING: Acquire on success, pairs with the Release store in `release`: we
                // start after the previous owner finished. Relaxed on failure: nothing is read.
                && record
                    .active
                    .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                return record;
            }
            cursor = record.next;
        }
        let mut record = Box::new(CachePadded::new(Record {
            hazard: AtomicPtr::new(ptr::null_mut()),
            active: AtomicBool::new(true),
            next: ptr::null_mut(),
        }));
        // ORDERING: Relaxed: only a CAS expected value; the CAS below publishes.
        let mut head = self.records.load(Ordering::Relaxed);
        loop {
            record.next = head;
            let raw = Box::into_raw(record);
            // ORDERING: Release on success, pairs with the Acquire load in the walk above and in
            // `reclaim`: publishes the record's fields. Relaxed on failure: we only retry.
            match self.records.compare_exchange_weak(
                head,
                raw,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                // SAFETY: published; the record now lives (never freed) as long as the domain.
                Ok(_) => return unsafe { &*raw },
                Err(current) => {
                    // SAFETY: the CAS failed, so `raw` was never shared: take it back.
                    record = unsafe { Box::from_raw(raw) };
                    head = current;
                }
            }
        }
    }

    /// Hands `ptr` to the domain, which calls `deleter(ptr)` once no hazard protects it (from a
    /// later `retire` or `reclaim` on any thread, or when the domain drops). May run a
    /// reclamation pass first.
    ///
    /// # Safety
    /// - `ptr` is unlinked: no reader can newly load it from any shared location (readers that
    ///   protected it before may still hold it; that is what the domain waits for).
    /// - `ptr` is retired once, and `deleter(ptr)` is sound to call from any thread, once.
    pub unsafe fn retire(&self, ptr: *mut (), deleter: unsafe fn(*mut ())) {
        // ORDERING: Relaxed: a heuristic trigger; the Treiber stack below carries the data.
        let count = self.retired_count.fetch_add(1, Ordering::Relaxed) + 1;
        let node = Box::into_raw(Box::new(Retired {
            ptr,
            deleter,
            next: ptr::null_mut(),
        }));
        // SAFETY: `node` is a fresh one-element list.
        unsafe { self.push_retired(node, node) };
        if count >= self.threshold {
            self.reclaim();
        }
    }

    /// [`Domain::retire`] with a deleter that drops `Box::from_raw(ptr)`.
    ///
    /// # Safety
    /// As for [`Domain::retire`]; `ptr` comes from `Box::into_raw` and `T` may be dropped on any
    /// thread.
    pub unsafe fn retire_box<T>(&self, ptr: *mut T) {
        unsafe fn drop_box<T>(ptr: *mut ()) {
            // SAFETY: `retire_box`'s caller passed a `Box::into_raw` pointer, retired once.
            drop(unsafe { Box::from_raw(ptr.cast::<T>()) });
        }
        // SAFETY: the caller upholds `retire`'s contract; drop_box::<T> matches the allocation.
        unsafe { self.retire(ptr.cast(), drop_box::<T>) }
    }

    /// Pushes the list `first ..= last` (linked by `next`) onto the retired stack.
    ///
    /// # Safety
    /// The list is owned by the caller and `last` is reachable from `first`.
    unsafe fn push_retired(&self, first: *mut Retired, last: *mut Retired) {
        // ORDERING: Relaxed: only a CAS expected value.
        let mut head = self.retired.load(Ordering::Relaxed);
        loop {
            // SAFETY: the list is still the caller's until the CAS publishes it.
            unsafe { (*last).next = head };
            // ORDERING: Release on success, pairs with the Acquire swap in `reclaim`: the list's
            // links, and (through the caller) the unlinking of every object on it, happen before
            // the reclaimer's fence and scan. Relaxed on failure: we only retry.
            match self.retired.compare_exchange_weak(
                head,
                first,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(current) => head = current,
            }
        }
    }

    /// Frees every retired object that no hazard protects; returns how many it freed. Objects
    /// still protected stay retired for a later pass.
    pub fn reclaim(&self) -> usize {
        // ORDERING: Acquire, pairs with the Release CAS in `push_retired`: we own the whole list
        // and everything the retirers did before retiring (above all, unlinking) happens before.
        let mut list = self.retired.swap(ptr::null_mut(), Ordering::Acquire);
        if list.is_null() {
            return 0;
        }
        // ORDERING: SeqCst, pairs with the SeqCst fence in `HazardPointer::protect`. Either that
        // fence comes first in the single total order, and our loads below see the hazard the
        // reader stored before it; or ours comes first, and the reader's re-read after its fence
        // sees the unlink (which happens before this fence) and retries.
        fence(Ordering::SeqCst);
        let mut hazards = Vec::new();
        // ORDERING: Acquire, pairs with the Release CAS that pushed each record.
        let mut cursor = self.records.load(Ordering::Acquire);
        while !cursor.is_null() {
            // SAFETY: records live as long as the domain.
            let record: &Record = unsafe { &*cursor };
            // ORDERING: Acquire, pairs with the Release stores of the hazard in `protect`,
            // `reset` and `release`: when a reader moves off an object, its reads of the object
            // happen before we free it.
            let hazard = record.hazard.load(Ordering::Acquire);
            if !hazard.is_null() {
                hazards.push(hazard);
            }
            cursor = record.next;
        }
        hazards.sort_unstable();
        let (mut kept_first, mut kept_last, mut freed) = (
            ptr::null_mut::<Retired>(),
            ptr::null_mut::<Retired>(),
            0usize,
        );
        while !list.is_null() {
            // SAFETY: the swap above made this reclaimer the list's only owner.
            let next = unsafe { (*list).next };
            // SAFETY: as above.
            let object = unsafe { (*list).ptr };
            if hazards.binary_search(&object).is_ok() {
                // SAFETY: as above; relink the protected node into the kept list.
                unsafe { (*list).next = kept_first };
                if kept_first.is_null() {
                    kept_last = list;
                }
                kept_first = list;
            } else {
                // SAFETY: we own the node; retire's contract lets us run the deleter once, and no
                // hazard published before our fence names the object, so no reader holds it.
                let retired = unsafe { Box::from_raw(list) };
                // SAFETY: as above.
                unsafe { (retired.deleter)(retired.ptr) };
                freed += 1;
            }
            list = next;
        }
        if !kept_first.is_null() {
            // SAFETY: kept_first ..= kept_last is a list we own.
            unsafe { self.push_retired(kept_first, kept_last) };
        }
        // ORDERING: Relaxed: heuristic count (see the field).
        self.retired_count.fetch_sub(freed, Ordering::Relaxed);
        freed
    }

    /// Objects retired and not yet freed (approximate while other threads retire or reclaim).
    pub fn retired(&self) -> usize {
        // ORDERING: Relaxed: statistics only.
        self.retired_count.load(Ordering::Relaxed)
    }

    /// Records in the domain (active or not): how many threads ever held hazards at once, about.
    pub fn records(&self) -> usize {
        let mut count = 0;
        // ORDERING: Acquire, pairs with the Release CAS that pushed each record.
        let mut cursor = self.records.load(Ordering::Acquire);
        while !cursor.is_null() {
            count += 1;
            // SAFETY: records live as long as the domain.
            let record: &Record = unsafe { &*cursor };
            cursor = record.next;
        }
        count
    }
}

impl Default for Domain {
    fn default() -> Self {
        Domain::new()
    }
}

impl std::fmt::Debug for Domain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Domain")
            .field("records", &self.records())
            .field("retired", &self.retired())
            .field("threshold", &self.threshold)
            .finish()
    }
}

impl Drop for Domain {
    fn drop(&mut self) {
        // `&mut self` outlives every HazardPointer (they borrow the domain), so nothing is
        // protected any more: free every retired object, then the records.
        // ORDERING: Relaxed: exclusive access.
        let mut list = self.retired.swap(ptr::null_mut(), Ordering::Relaxed);
        while !list.is_null() {
            // SAFETY: exclusive access; each node and object was retired once.
            let retired = unsafe { Box::from_raw(list) };
            // SAFETY: as above; retire's contract allows running the deleter here.
            unsafe { (retired.deleter)(retired.ptr) };
            list = retired.next;
        }
        // ORDERING: Relaxed: exclusive access.
        let mut cursor = self.records.swap(ptr::null_mut(), Ordering::Relaxed);
        while !cursor.is_null() {
            // SAFETY: exclusive access; every record came from Box::into_raw in acquire_record.
            let record = unsafe { Box::from_raw(cursor) };
            cursor = record.next;
        }
    }
}

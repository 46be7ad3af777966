//! The hazard domain outside loom: protection across threads, thread-local records released at
//! thread exit, reclamation and drop.
#![cfg(not(loom))]

use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::Arc;

use chronokv_hazard::{Domain, HazardPointer};

static FREED: AtomicUsize = AtomicUsize::new(0);

struct Counted(#[allow(dead_code)] u64);

impl Drop for Counted {
    fn drop(&mut self) {
        FREED.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn hazard_domain_keeps_protected_objects_and_frees_the_rest_on_drop() {
    let before = FREED.load(Ordering::SeqCst);
    let domain = Domain::with_threshold(1);
    let src = AtomicPtr::new(Box::into_raw(Box::new(Counted(1))));
    {
        let mut hazard = domain.acquire();
        let protected = hazard.protect(&src);
        src.store(Box::into_raw(Box::new(Counted(2))), Ordering::SeqCst);
        // SAFETY: unlinked above, retired once.
        unsafe { domain.retire_box(protected) };
        assert_eq!(domain.reclaim(), 0, "a protected object is kept");
        assert_eq!(domain.retired(), 1);
        hazard.reset();
        assert_eq!(domain.reclaim(), 1);
    }
    assert_eq!(FREED.load(Ordering::SeqCst) - before, 1);
    // Retired but unreclaimed objects are freed when the domain drops.
    let last = src.swap(std::ptr::null_mut(), Ordering::SeqCst);
    let domain = Domain::with_threshold(1000);
    // SAFETY: unlinked above, retired once.
    unsafe { domain.retire_box(last) };
    drop(domain);
    assert_eq!(FREED.load(Ordering::SeqCst) - before, 2);
}

#[test]
fn hazard_local_records_are_released_when_threads_exit() {
    // Threads come and go (as the napi pool's do); each takes thread-local hazard pointers. The
    // domain reuses the records of exited threads instead of growing with every thread.
    for _ in 0..50 {
        let threads: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| {
                    let a = HazardPointer::local();
                    let b = HazardPointer::local();
                    drop((a, b));
                    // Taken again from the thread's pool, not the domain.
                    let _c = HazardPointer::local();
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
    }
    assert!(
        Domain::global().records() <= 4 * 2 + 8,
        "records: {}",
        Domain::global().records()
    );
}

#[test]
fn hazard_protect_under_concurrent_swaps_never_sees_a_freed_object() {
    let domain = Arc::new(Domain::with_threshold(8));
    let src = Arc::new(AtomicPtr::new(Box::into_raw(Box::new(0u64))));
    let writer = {
        let (domain, src) = (Arc::clone(&domain), Arc::clone(&src));
        std::thread::spawn(move || {
            for i in 1..=100_000u64 {
                let old = src.swap(Box::into_raw(Box::new(i)), Ordering::AcqRel);
                // SAFETY: unlinked by the swap, retired once.
                unsafe { domain.retire_box(old) };
            }
        })
    };
    let mut hazard = domain.acquire();
    let mut last = 0;
    while last < 100_000 {
        let ptr = hazard.protect(&src);
        // SAFETY: protected and validated; freed only through the domain.
        let value = unsafe { *ptr };
        assert!(value >= last, "values only grow");
        last = value;
    }
    drop(hazard);
    writer.join().unwrap();
    let last = src.swap(std::ptr::null_mut(), Ordering::SeqCst);
    // SAFETY: the writer is joined; the final object is ours.
    drop(unsafe { Box::from_raw(last) });
    domain.reclaim();
    assert_eq!(domain.retired(), 0);
}

//! Loom models of the hazard-pointer protocol: protect / retire / reclaim, and a deliberately
//! broken protect (dereference first, publish after, never re-validate) that the model catches.
//!
//! Run (see the crate docs): `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2
//! cargo test --release -p chronokv-hazard --test loom_hazard`.
#![cfg(loom)]

use std::sync::Arc;

use chronokv_hazard::Domain;
use loom::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use loom::thread;

/// A test object. Its deleter only marks it freed (and the model frees it at the end), so a
/// broken protocol shows up as an assertion instead of real undefined behaviour.
struct Object {
    value: usize,
    freed: AtomicBool,
}

fn object(value: usize) -> *mut Object {
    Box::into_raw(Box::new(Object {
        value,
        freed: AtomicBool::new(false),
    }))
}

/// # Safety
/// `ptr` is a live `Object`.
unsafe fn mark_freed(ptr: *mut ()) {
    // SAFETY: the model keeps every object allocated until it ends.
    let object = unsafe { &*ptr.cast::<Object>() };
    // ORDERING: Relaxed: the flag is what the readers check; loom explores every value it can
    // read, and the hazard protocol itself must order a reader's check before this store.
    assert!(
        !object.freed.swap(true, Ordering::Relaxed),
        "an object was reclaimed twice"
    );
}

/// Reads an object the caller has protected (or, in the broken model, not yet).
fn check(ptr: *mut Object, allowed: &[usize]) {
    // SAFETY: models never free objects before they end.
    let object = unsafe { &*ptr };
    // ORDERING: Relaxed: see mark_freed.
    assert!(
        !object.freed.load(Ordering::Relaxed),
        "read a reclaimed object"
    );
    assert!(allowed.contains(&object.value));
}

/// Raw pointers to move into model threads.
#[derive(Clone, Copy)]
struct Ptr(*mut Object);
// SAFETY: test-only carrier; the models synchronize every access through the domain.
unsafe impl Send for Ptr {}

fn free(objects: &[Ptr]) {
    for object in objects {
        // SAFETY: the model's threads are joined; each object is freed once here.
        drop(unsafe { Box::from_raw(object.0) });
    }
}

#[test]
fn hazard_protect_retire_reclaim_never_frees_a_protected_object() {
    loom::model(|| {
        // Threshold 1: every retire runs a reclamation pass, racing the reader.
        let domain = Arc::new(Domain::with_threshold(1));
        let (a, b) = (Ptr(object(1)), Ptr(object(2)));
        let src = Arc::new(AtomicPtr::new(a.0));
        let reader = {
            let (domain, src) = (Arc::clone(&domain), Arc::clone(&src));
            thread::spawn(move || {
                let mut hazard = domain.acquire();
                let ptr = hazard.protect(&src);
                check(ptr, &[1, 2]);
                // Still protected after any number of the writer's steps.
                thread::yield_now();
                check(ptr, &[1, 2]);
            })
        };
        // The writer: unlink `a`, then retire it (which reclaims at once).
        // ORDERING: AcqRel: publishes `b` and unlinks `a` before the retire.
        let old = src.swap(b.0, Ordering::AcqRel);
        // SAFETY: `a` is unlinked and retired once; mark_freed is sound on any thread.
        unsafe { domain.retire(old.cast(), mark_freed) };
        reader.join().unwrap();
        // Nobody protects `a` any more: reclamation must free it now.
        domain.reclaim();
        // ORDERING: Relaxed: the reader is joined.
        assert!(
            unsafe { &*a.0 }.freed.load(Ordering::Relaxed),
            "an unprotected object was kept"
        );
        assert_eq!(domain.retired(), 0);
        free(&[a, b]);
    });
}

#[test]
fn hazard_protect_retries_when_the_source_moves_twice() {
    loom::model(|| {
        let domain = Arc::new(Domain::with_threshold(1));
        let (a, b, c) = (Ptr(object(1)), Ptr(object(2)), Ptr(object(3)));
        let src = Arc::new(AtomicPtr::new(a.0));
        let reader = {
            let (domain, src) = (Arc::clone(&domain), Arc::clone(&src));
            thread::spawn(move || {
                let mut hazard = domain.acquire();
                let ptr = hazard.protect(&src);
                check(ptr, &[1, 2, 3]);
                thread::yield_now();
                check(ptr, &[1, 2, 3]);
            })
        };
        for next in [b, c] {
            // ORDERING: AcqRel: as in the model above.
            let old = src.swap(next.0, Ordering::AcqRel);
            // SAFETY: unlinked, retired once.
            unsafe { domain.retire(old.cast(), mark_freed) };
        }
        reader.join().unwrap();
        domain.reclaim();
        assert_eq!(domain.retired(), 0);
        free(&[a, b, c]);
    });
}

#[test]
fn hazard_released_record_is_reused_by_another_thread() {
    loom::model(|| {
        let domain = Arc::new(Domain::new());
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let domain = Arc::clone(&domain);
                thread::spawn(move || drop(domain.acquire()))
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        // One record when the second thread reused the first's; two only if they overlapped.
        assert!((1..=2).contains(&domain.records()));
        drop(domain.acquire());
        assert!((1..=2).contains(&domain.records()));
    });
}

/// The broken protocol: dereference before publishing and never re-read the source. The model
/// finds the interleaving where the writer retires and reclaims the object in between.
#[test]
#[should_panic(expected = "read a reclaimed object")]
fn hazard_broken_protect_after_deref_is_caught() {
    loom::model(|| {
        let domain = Arc::new(Domain::with_threshold(1));
        let (a, b) = (Ptr(object(1)), Ptr(object(2)));
        let src = Arc::new(AtomicPtr::new(a.0));
        let reader = {
            let (domain, src) = (Arc::clone(&domain), Arc::clone(&src));
            thread::spawn(move || {
                let mut hazard = domain.acquire();
                hazard.protect_after_deref(&src, |ptr| check(ptr, &[1, 2]));
            })
        };
        // ORDERING: AcqRel: as in the models above.
        let old = src.swap(b.0, Ordering::AcqRel);
        // SAFETY: unlinked, retired once.
        unsafe { domain.retire(old.cast(), mark_freed) };
        reader.join().unwrap();
        free(&[a, b]);
    });
}

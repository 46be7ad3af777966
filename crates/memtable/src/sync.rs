//! Every atomic of the crate comes through here, so loom's model-checked atomics replace the
//! standard ones under `--cfg loom` in one place.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};

/// Lets loom check object lifetimes: readers `touch` an object before using it and its drop
/// `retires` it; under `--cfg loom` a touch that is not ordered before the drop (a use of freed
/// memory the hazard protocol failed to prevent) fails the model as a causality violation.
/// Without loom it is an empty type and both calls compile to nothing.
#[derive(Debug, Default)]
pub(crate) struct Liveness {
    #[cfg(loom)]
    cell: loom::cell::UnsafeCell<()>,
}

impl Liveness {
    #[inline(always)]
    pub(crate) fn touch(&self) {
        #[cfg(loom)]
        self.cell.with(|_| ());
    }

    #[inline(always)]
    pub(crate) fn retire(&mut self) {
        #[cfg(loom)]
        self.cell.with_mut(|_| ());
    }
}

/// One step of a short wait for another thread (a sequencer-path writer between reserving a
/// slot and publishing it, three stores apart). Under loom, yields so the model can progress.
#[inline]
pub(crate) fn spin_wait(round: &mut u32) {
    #[cfg(loom)]
    {
        let _ = round;
        loom::thread::yield_now();
    }
    #[cfg(not(loom))]
    {
        *round += 1;
        if *round < 64 {
            std::hint::spin_loop();
        } else {
            // The other writer was preempted mid-publication: let it run.
            std::thread::yield_now();
        }
    }
}

//! Multi-threaded stress: transactional writers (intents, commits, aborts, conflicts), a
//! sequencer-path writer, readers at the watermark (point reads, own reads, histories, scans)
//! and a trimmer retiring old versions through the hazard domain, all at once.
//!
//! `CHRONOKV_STRESS_OPS` sets the number of reads and writes (default 1,200,000);
//! `CHRONOKV_STRESS_SEED` replays a run (the seed is printed). Under valgrind use a small count:
//! `CHRONOKV_STRESS_OPS=20000 valgrind --error-exitcode=1 --leak-check=full <test binary>`.
#![cfg(not(loom))]

use std::ops::{Bound, ControlFlow};
use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chronokv_hazard::Domain;
use chronokv_memtable::{Memtable, Watermark, WriteError};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const KEYS: u64 = 256;
/// The trimmer's horizon trails the watermark by this many commits.
const LAG: u64 = 64;

fn key(k: u64) -> [u8; 8] {
    k.to_be_bytes()
}

/// A value names its own key, the other key its transaction wrote (itself when alone), and
/// carries padding that pushes some values past the inline limit.
fn value(k: u64, partner: u64, rng: &mut SmallRng) -> Vec<u8> {
    let mut v = Vec::with_capacity(80);
    v.extend_from_slice(&k.to_le_bytes());
    v.extend_from_slice(&partner.to_le_bytes());
    let pad = if rng.random_bool(0.2) {
        64
    } else {
        rng.random_range(0..40)
    };
    v.resize(16 + pad, k as u8);
    v
}

fn decode(v: &[u8]) -> (u64, u64) {
    (
        u64::from_le_bytes(v[..8].try_into().unwrap()),
        u64::from_le_bytes(v[8..16].try_into().unwrap()),
    )
}

struct Shared {
    memtable: Arc<Memtable>,
    watermark: Watermark,
    /// Commit timestamps are taken and published under this lock (one sequencer).
    sequencer: Mutex<u64>,
    next_txn: AtomicU64,
    ops: AtomicUsize,
    target: usize,
    /// The largest horizon a trim may have used; readers below it cannot assert exactness.
    trimmed_up_to: AtomicU64,
    done: AtomicBool,
    conflicts: AtomicUsize,
    aborts: AtomicUsize,
    checked_pairs: AtomicUsize,
}

impl Shared {
    fn tick(&self) -> bool {
        // ORDERING: Relaxed: a counter; `done` stops the others.
        let before = self.ops.fetch_add(1, Ordering::Relaxed);
        if before + 1 >= self.target {
            self.done.store(true, Ordering::Relaxed);
        }
        !self.done.load(Ordering::Relaxed)
    }

    fn commit(&self, f: impl FnOnce(u64)) {
        let mut last = self.sequencer.lock().unwrap();
        *last += 1;
        f(*last);
        self.watermark.publish(*last);
    }
}

fn txn_writer(shared: &Shared, seed: u64) {
    let mut rng = SmallRng::seed_from_u64(seed);
    let m = &shared.memtable;
    loop {
        let txn = shared.next_txn.fetch_add(1, Ordering::Relaxed);
        let snapshot = shared.watermark.load();
        let a = rng.random_range(0..KEYS);
        let b = (a + rng.random_range(1..KEYS)) % KEYS;
        let mut placed = Vec::new();
        let mut failed = false;
        for (k, partner) in [(a, b), (b, a)] {
            match m.put_intent(&key(k), txn, snapshot, Some(&value(k, partner, &mut rng))) {
                Ok(()) => placed.push(k),
                Err(WriteError::Conflict { .. } | WriteError::CommittedAfterSnapshot { .. }) => {
                    shared.conflicts.fetch_add(1, Ordering::Relaxed);
                    failed = true;
                    break;
                }
                Err(other) => panic!("unexpected {other}"),
            }
            if !shared.tick() {
                failed = true;
                break;
            }
        }
        // Read our own write back.
        if let Some(&k) = placed.first() {
            let own = m.get_own(&key(k), txn, snapshot, |v| {
                v.map(|v| (v.txn(), decode(v.value().unwrap()).0))
            });
            assert_eq!(own, Some((Some(txn), k)));
        }
        if failed || rng.random_bool(0.1) {
            for k in placed {
                assert!(m.abort_intent(&key(k), txn));
            }
            shared.aborts.fetch_add(1, Ordering::Relaxed);
        } else {
            shared.commit(|ts| {
                for k in [a, b] {
                    m.commit_intent(&key(k), txn, ts).unwrap();
                }
            });
        }
        if shared.done.load(Ordering::Relaxed) {
            return;
        }
    }
}

fn sequencer_writer(shared: &Shared, seed: u64) {
    let mut rng = SmallRng::seed_from_u64(seed);
    let m = &shared.memtable;
    while shared.tick() {
        let k = rng.random_range(0..KEYS);
        let v = rng.random_bool(0.9).then(|| value(k, k, &mut rng));
        shared.commit(|ts| match m.insert(&key(k), ts, v.as_deref()) {
            Ok(()) | Err(WriteError::Conflict { .. }) => {}
            Err(other) => panic!("unexpected {other}"),
        });
    }
}

fn reader(shared: &Shared, seed: u64) {
    let mut rng = SmallRng::seed_from_u64(seed);
    let m = &shared.memtable;
    while shared.tick() {
        let at = shared.watermark.load();
        let a = rng.random_range(0..KEYS);
        let mut pair = None;
        match rng.random_range(0..10) {
            0..=6 => {
                let first = m.get_at(&key(a), at, |v| v.map(|v| (v.ts(), v.value().map(decode))));
                if let Some((ts, Some((k, partner)))) = first {
                    assert!(ts <= at);
                    assert_eq!(k, a, "a version is filed under its own key");
                    if partner != a {
                        let second = m.get_at(&key(partner), at, |v| v.map(|v| v.ts()));
                        pair = Some((ts, second));
                    }
                }
            }
            7 => {
                // Own reads of a transaction with no intent see the committed state.
                let own = m.get_own(&key(a), u64::MAX >> 9, at, |v| v.map(|v| v.ts()));
                assert!(own.is_none_or(|ts| ts <= at));
            }
            8 => {
                let mut last = u64::MAX;
                m.history::<()>(&key(a), |v| {
                    assert!(v.ts() <= last, "history is newest first");
                    last = v.ts();
                    if let Some(value) = v.value() {
                        assert_eq!(decode(value).0, a);
                    }
                    ControlFlow::Continue(())
                });
            }
            _ => {
                let hi = (a + 16).min(KEYS);
                let mut previous: Option<Vec<u8>> = None;
                m.scan(
                    Bound::Included(&key(a)),
                    Bound::Excluded(&key(hi)),
                    false,
                    at,
                    |k, v| {
                        assert!(previous.as_deref().is_none_or(|p| p < k));
                        previous = Some(k.to_vec());
                        if let Some(v) = v {
                            assert!(v.ts() <= at);
                            if let Some(value) = v.value() {
                                assert_eq!(key(decode(value).0), k);
                            }
                        }
                        ControlFlow::Continue(())
                    },
                );
            }
        }
        // A transaction's versions appear together: the partner written at `ts` is visible at
        // `at` too (as that version or a newer one) — unless a trim passed `at` meanwhile.
        if let Some((ts, second)) = pair {
            // ORDERING: SeqCst fence, pairs with the trimmer's: our reads above precede a trim
            // that used a horizon we do not see.
            fence(Ordering::SeqCst);
            if shared.trimmed_up_to.load(Ordering::Relaxed) <= at {
                let second = second.expect("the partner of a visible transaction is visible");
                assert!(
                    second >= ts,
                    "saw part of a transaction: partner at {second} < {ts}"
                );
                shared.checked_pairs.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

fn trimmer(shared: &Shared) -> usize {
    let mut retired = 0;
    let mut passes = 0usize;
    while !shared.done.load(Ordering::Relaxed) || passes == 0 {
        let horizon = shared.watermark.load().saturating_sub(LAG);
        shared.trimmed_up_to.fetch_max(horizon, Ordering::Relaxed);
        // ORDERING: SeqCst fence, pairs with the readers': see there.
        fence(Ordering::SeqCst);
        retired += shared.memtable.trim_before(horizon, 1);
        passes += 1;
        std::thread::yield_now();
    }
    retired
}

#[test]
fn memtable_stress_concurrent_writers_readers_and_trimming() {
    let target: usize = std::env::var("CHRONOKV_STRESS_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_200_000);
    let seed: u64 = std::env::var("CHRONOKV_STRESS_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    println!("memtable_stress: seed {seed} (CHRONOKV_STRESS_SEED), {target} operations");
    let (memtable, _token) = Memtable::new();
    let shared = Arc::new(Shared {
        memtable,
        watermark: Watermark::new(0),
        sequencer: Mutex::new(0),
        next_txn: AtomicU64::new(1),
        ops: AtomicUsize::new(0),
        target,
        trimmed_up_to: AtomicU64::new(0),
        done: AtomicBool::new(false),
        conflicts: AtomicUsize::new(0),
        aborts: AtomicUsize::new(0),
        checked_pairs: AtomicUsize::new(0),
    });
    let started = Instant::now();
    let spawn = |role: u64| {
        let shared = Arc::clone(&shared);
        std::thread::spawn(move || match role {
            0 | 1 => {
                txn_writer(&shared, seed ^ role);
                0
            }
            2 => {
                sequencer_writer(&shared, seed ^ role);
                0
            }
            3 | 4 => {
                reader(&shared, seed ^ role);
                0
            }
            _ => trimmer(&shared),
        })
    };
    let threads: Vec<_> = (0..6).map(spawn).collect();
    let results: Vec<usize> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let trimmed = results[5];
    let elapsed = started.elapsed();

    // Everything committed is in order, whole, and counted.
    let m = &shared.memtable;
    let mut versions = 0;
    for k in 0..KEYS {
        let mut last = u64::MAX;
        m.history::<()>(&key(k), |v| {
            assert!(v.ts() <= last);
            last = v.ts();
            versions += 1;
            ControlFlow::Continue(())
        });
    }
    assert_eq!(m.stats().versions, versions);
    let stats = m.stats();
    println!(
        "memtable_stress: {} ops in {elapsed:?}; {} versions live, {trimmed} trimmed; {} conflicts, {} aborts, {} transaction pairs checked",
        shared.ops.load(Ordering::Relaxed),
        stats.versions,
        shared.conflicts.load(Ordering::Relaxed),
        shared.aborts.load(Ordering::Relaxed),
        shared.checked_pairs.load(Ordering::Relaxed),
    );
    assert!(trimmed > 0, "the trimmer retired versions");
    // No reader holds a hazard now: one pass frees everything retired.
    Domain::global().reclaim();
    assert_eq!(Domain::global().retired(), 0);
}

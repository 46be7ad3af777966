//! Simulated power loss at every sync point of workloads that interleave appends and
//! checkpoints, with crash images that may keep any subset of the unsynced directory
//! operations: the log always reopens, without gaps, with every acknowledged record above
//! the highest seq a checkpoint was called with.
//!
//! That is the last *completed* checkpoint's seq, or the seq of the one the power loss cut
//! short: that one may already have removed some of its segments (each removal is durable once
//! its directory sync returns). The engine calls `checkpoint(S)` only once the records up to S
//! are durable elsewhere, so losing them from the log is fine; what must never happen is a
//! gap, a failed recovery, or a lost record above every checkpoint.
//!
//! `CHRONOKV_SEED` replays a run; `CHRONOKV_SCALE=n` runs n times as many workloads.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use chronokv_wal::sim::{Fault, SimStorage};
use chronokv_wal::{Durability, Wal};
use common::workload::{mix, Workload, DIR};
use common::{open_collect, scaled};

/// How a workload checkpoints: after every `every`th acknowledged seq, at `lag` below it.
#[derive(Debug, Clone, Copy)]
struct Plan {
    every: u64,
    lag: u64,
}

impl Plan {
    fn new(workload: &Workload) -> Self {
        Plan {
            every: 2 + mix(workload.seed ^ 11) % 6,
            lag: mix(workload.seed ^ 12) % 8,
        }
    }
}

/// What a run did.
#[derive(Debug, Default)]
struct Outcome {
    /// Seqs 1..=appended were appended.
    appended: u64,
    /// Highest seq whose `wait_acked` returned `Ok`.
    acked: u64,
    /// Highest seq of a checkpoint that returned `Ok`.
    completed: u64,
    /// Highest seq any checkpoint was called with (finished or not).
    attempted: u64,
    /// Segments removed by completed checkpoints.
    removed: u64,
}

/// Opens a fresh log on `storage` and runs `workload`'s writers; each checkpoints after its
/// seq reaches a multiple of `plan.every`, concurrently with the other writers' appends.
fn run(workload: &Workload, plan: Plan, storage: &SimStorage) -> Outcome {
    let Ok((wal, _)) = open_collect(Path::new(DIR), workload.options(storage)) else {
        return Outcome::default();
    };
    let wal = Arc::new(wal);
    let next = Arc::new(Mutex::new(0u64));
    // Relaxed counters below: read after the threads are joined.
    let acked = Arc::new(AtomicU64::new(0));
    let completed = Arc::new(AtomicU64::new(0));
    let attempted = Arc::new(AtomicU64::new(0));
    let removed = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..workload.threads)
        .map(|_| {
            let (wal, next, workload) = (Arc::clone(&wal), Arc::clone(&next), workload.clone());
            let (acked, completed, attempted, removed) = (
                Arc::clone(&acked),
                Arc::clone(&completed),
                Arc::clone(&attempted),
                Arc::clone(&removed),
            );
            thread::spawn(move || loop {
                let seq = {
                    let mut next = next.lock().unwrap();
                    if *next >= workload.records {
                        return;
                    }
                    let seq = *next + 1;
                    if wal.append(seq, workload.payload(seq)).is_err() {
                        return;
                    }
                    *next = seq;
                    seq
                };
                if wal.wait_acked(seq).is_err() {
                    return;
                }
                acked.fetch_max(seq, Ordering::Relaxed);
                if seq % plan.every == 0 {
                    let at = seq.saturating_sub(plan.lag);
                    attempted.fetch_max(at, Ordering::Relaxed);
                    // A failure means the power went: the writers find out at their next
                    // append.
                    if let Ok(stats) = wal.checkpoint(at) {
                        completed.fetch_max(at, Ordering::Relaxed);
                        removed.fetch_add(stats.segments, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let _ = wal.close();
    let appended = *next.lock().unwrap();
    Outcome {
        appended,
        acked: acked.load(Ordering::Relaxed),
        completed: completed.load(Ordering::Relaxed),
        attempted: attempted.load(Ordering::Relaxed),
        removed: removed.load(Ordering::Relaxed),
    }
}

/// Opens the log on `storage` and checks what it replays: consecutive seqs with the right
/// payloads, none above `outcome.appended`, starting no later than just after the highest
/// seq a checkpoint was asked for, and holding every seq in `(outcome.attempted, keep]`.
/// Returns the open log and the highest seq it holds.
fn check(
    workload: &Workload,
    storage: &SimStorage,
    outcome: &Outcome,
    keep: u64,
    ctx: &str,
) -> (Wal, u64) {
    let (wal, seen) = open_collect(Path::new(DIR), workload.options(storage))
        .unwrap_or_else(|e| panic!("{ctx}: reopening failed: {e}\n{workload:?}"));
    for pair in seen.windows(2) {
        assert_eq!(
            pair[1].0,
            pair[0].0 + 1,
            "{ctx}: a gap in the recovered seqs"
        );
    }
    for (seq, payload) in &seen {
        assert!(
            *payload == workload.payload(*seq),
            "{ctx}: record {seq} came back with other bytes"
        );
    }
    if let Some(&(first, _)) = seen.first() {
        assert!(
            first <= outcome.attempted + 1,
            "{ctx}: records {}..{first} are missing, but no checkpoint went past {}",
            outcome.attempted + 1,
            outcome.attempted
        );
    }
    let last = seen.last().map_or(0, |r| r.0);
    assert!(
        last <= outcome.appended,
        "{ctx}: recovered seq {last}, only {} appended",
        outcome.appended
    );
    if keep > outcome.attempted {
        let first = seen.first().map_or(u64::MAX, |r| r.0);
        assert!(
            first <= outcome.attempted + 1 && last >= keep,
            "{ctx}: recovered {first}..={last}, but {}..={keep} were acknowledged above every checkpoint",
            outcome.attempted + 1
        );
    }
    let acked = wal.acked();
    assert!(
        acked >= last && acked <= outcome.appended.max(last),
        "{ctx}: acked {acked}"
    );
    (wal, acked)
}

#[test]
fn power_loss_checkpoint_every_sync_point() {
    let seed = common::seed("power_loss_checkpoint_every_sync_point");
    let mut crash_points = 0;
    let mut removed = 0;
    for i in 0..scaled(10) {
        let mut workload = Workload::new(seed, 300 + i);
        workload.records += 20;
        let plan = Plan::new(&workload);
        let dry = SimStorage::new(workload.seed);
        dry.set_unordered_dir_ops(true);
        let outcome = run(&workload, plan, &dry);
        assert_eq!(outcome.appended, workload.records, "{workload:?} {plan:?}");
        assert_eq!(
            outcome.completed, outcome.attempted,
            "without faults every checkpoint completes: {workload:?} {plan:?}"
        );
        removed += outcome.removed;
        let syncs = dry.syncs();
        for k in 1..=syncs + 1 {
            crash_points += 1;
            let storage = SimStorage::new(mix(workload.seed ^ k));
            storage.set_unordered_dir_ops(true);
            storage.set_fault(Fault::CrashAtSync(k));
            let outcome = run(&workload, plan, &storage);
            let keep = if workload.durability == Durability::Sync {
                outcome.acked
            } else {
                0
            };
            for image in 0..2u64 {
                let image_seed = mix(workload.seed ^ k ^ (image << 32));
                let ctx = format!(
                    "seed {seed} workload {i} crash at sync {k}/{syncs} image {image_seed} ({:?}, {plan:?}; {outcome:?})",
                    workload.durability
                );
                let image = storage.crash_image(image_seed);
                let (wal, last) = check(&workload, &image, &outcome, keep, &ctx);

                // Life goes on: more records, a checkpoint, a clean restart.
                for seq in last + 1..=last + 3 {
                    wal.append(seq, workload.payload(seq)).unwrap();
                }
                wal.wait_acked(last + 3).unwrap();
                let done = wal.checkpoint(last + 1).unwrap();
                wal.close().unwrap();
                drop(wal);
                let after = Outcome {
                    appended: last + 3,
                    acked: last + 3,
                    completed: last + 1,
                    attempted: last + 1,
                    removed: done.segments,
                };
                let (wal, _) = check(&workload, &image.restart(), &after, last + 3, &ctx);
                drop(wal);
            }
        }
    }
    eprintln!(
        "power_loss_checkpoint_every_sync_point: {crash_points} crash points, 2 images each; {removed} segments removed by the dry runs"
    );
    assert!(removed > 0, "the workloads never removed a segment");
}

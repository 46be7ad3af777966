//! Injected I/O errors at every sync and at every operation of a workload: the failure poisons
//! the log, nothing is acknowledged after it, later appends are refused, and the log reopens
//! consistently afterwards (after a process restart and after a power loss).
//!
//! `CHRONOKV_SEED` replays a run; `CHRONOKV_SCALE=n` runs n times as many workloads.

mod common;

use std::collections::BTreeMap;

use chronokv_wal::sim::{Fault, SimStorage};
use chronokv_wal::Durability;
use common::scaled;
use common::workload::{check_prefix, mix, run, Outcome, Workload};

/// Checks one faulty run and reopens what it left twice: as the same process would find it
/// after a restart, and after a power loss.
fn check_faulty_run(workload: &Workload, storage: &SimStorage, outcome: &Outcome, ctx: &str) {
    if let Some(e) = &outcome.open_error {
        assert_eq!(outcome.appended, 0, "{ctx}");
        assert!(e.contains("simulated"), "{ctx}: open failed with {e}");
    } else if let Some(e) = &outcome.first_error {
        assert!(
            e.contains("poisoned") && e.contains("simulated"),
            "{ctx}: unexpected error {e}"
        );
        assert!(
            outcome.acked <= outcome.acked_at_error,
            "{ctx}: a write was acknowledged after the failure ({outcome:?})"
        );
        assert_eq!(
            outcome.acked_after_close, outcome.acked_at_error,
            "{ctx}: acked advanced after the failure"
        );
        match &outcome.append_after_error {
            Some(Err(e)) if e.contains("poisoned") => {}
            other => panic!("{ctx}: an append after the failure returned {other:?}"),
        }
    }
    let keep = if workload.durability == Durability::Sync {
        outcome.acked
    } else {
        0
    };
    drop(check_prefix(
        workload,
        &storage.restart(),
        outcome.acked,
        outcome.appended,
        &format!("{ctx}, restarted"),
    ));
    drop(check_prefix(
        workload,
        &storage.crash_image(mix(outcome.appended ^ 0xC0FFEE)),
        keep,
        outcome.appended,
        &format!("{ctx}, after a power loss"),
    ));
}

/// The kind of sync a trace label names.
fn site(label: &str) -> &'static str {
    if label.starts_with("sync_dir") {
        "directory sync"
    } else if label.ends_with(".tmp") {
        "new segment fdatasync"
    } else {
        "segment fdatasync (batch, seal, close or recovery)"
    }
}

#[test]
fn flusher_faults_fsync_eio_at_every_sync() {
    let seed = common::seed("flusher_faults_fsync_eio_at_every_sync");
    let mut sites: BTreeMap<&str, u64> = BTreeMap::new();
    let mut errors_seen = 0;
    for i in 0..scaled(10) {
        let mut workload = Workload::new(seed, 300 + i);
        if i == 0 {
            workload.durability = Durability::Sync;
        }
        let dry = SimStorage::new(workload.seed);
        run(&workload, &dry);
        for k in 1..=dry.syncs() {
            let storage = SimStorage::new(mix(workload.seed ^ k));
            storage.set_fault(Fault::FailSync(k));
            let outcome = run(&workload, &storage);
            let failed_at = storage
                .trace()
                .get(k as usize - 1)
                .cloned()
                .unwrap_or_default();
            if !failed_at.is_empty() {
                *sites.entry(site(&failed_at)).or_default() += 1;
                errors_seen += 1;
                assert!(
                    outcome.reported_error(),
                    "seed {seed} workload {i}: the failed sync {k} ({failed_at}) was never reported: {outcome:?}"
                );
            }
            let ctx =
                format!("seed {seed} workload {i} ({workload:?}): EIO at sync {k} ({failed_at})");
            check_faulty_run(&workload, &storage, &outcome, &ctx);
        }
    }
    eprintln!("flusher_faults_fsync_eio_at_every_sync: failed syncs by site {sites:?}; {errors_seen} failures injected, all reported");
    assert_eq!(sites.len(), 3, "every kind of sync site was hit: {sites:?}");
}

#[test]
fn flusher_faults_nth_io_failure() {
    let seed = common::seed("flusher_faults_nth_io_failure");
    let mut runs = 0;
    for i in 0..scaled(4) {
        let workload = Workload::new(seed, 400 + i);
        let dry = SimStorage::new(workload.seed);
        run(&workload, &dry);
        for n in 1..=dry.ops() + 1 {
            runs += 1;
            let storage = SimStorage::new(mix(workload.seed ^ n));
            storage.set_fault(Fault::FailOp(n));
            let outcome = run(&workload, &storage);
            let ctx = format!("seed {seed} workload {i} ({workload:?}): EIO at operation {n}");
            if storage.ops() >= n && !outcome.reported_error() {
                // Only a failed read of a file that turned out not to matter may go unreported;
                // there are none in a run from an empty log.
                panic!("{ctx}: the failure was never reported: {outcome:?}");
            }
            check_faulty_run(&workload, &storage, &outcome, &ctx);
        }
    }
    eprintln!("flusher_faults_nth_io_failure: {runs} runs");
}

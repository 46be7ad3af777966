//! Simulated power loss at every sync point: whatever survives, the log reopens, holds a
//! gap-free prefix of what was appended, and (under `Sync`) every acknowledged record.
//!
//! `CHRONOKV_SEED` replays a run; `CHRONOKV_SCALE=n` runs n times as many workloads.

mod common;

use std::path::Path;

use chronokv_wal::sim::{Fault, SimStorage};
use chronokv_wal::{Durability, Storage};
use common::workload::{check_prefix, mix, run, run_from, Workload, DIR};
use common::{open_collect, scaled};

/// At least this many records must survive a crash of `workload` that acked `acked`.
fn must_keep(workload: &Workload, acked: u64) -> u64 {
    if workload.durability == Durability::Sync {
        acked
    } else {
        0
    }
}

#[test]
fn power_loss_wal_every_sync_point() {
    let seed = common::seed("power_loss_wal_every_sync_point");
    let mut crash_points = 0;
    for i in 0..scaled(12) {
        let workload = Workload::new(seed, i);
        let dry = SimStorage::new(workload.seed);
        let outcome = run(&workload, &dry);
        assert!(outcome.first_error.is_none(), "{workload:?}: {outcome:?}");
        let syncs = dry.syncs();
        for k in 1..=syncs + 1 {
            crash_points += 1;
            let storage = SimStorage::new(mix(workload.seed ^ k));
            storage.set_fault(Fault::CrashAtSync(k));
            let outcome = run(&workload, &storage);
            let keep = must_keep(&workload, outcome.acked);
            for image_seed in 0..2 {
                let image_seed = mix(workload.seed ^ k ^ (image_seed << 32));
                let ctx = format!(
                    "seed {seed} workload {i} crash at sync {k}/{syncs} image {image_seed} ({:?}; acked {})",
                    workload.durability, outcome.acked
                );
                let image = storage.crash_image(image_seed);
                let (n, wal) = check_prefix(&workload, &image, keep, outcome.appended, &ctx);

                // Life goes on after recovery: more records, then a clean restart.
                for seq in n + 1..=n + 3 {
                    wal.append(seq, workload.payload(seq)).unwrap();
                }
                wal.wait_acked(n + 3).unwrap();
                wal.close().unwrap();
                drop(wal);
                let (_, wal) = check_prefix(&workload, &image.restart(), n + 3, n + 3, &ctx);
                drop(wal);
            }
        }
    }
    eprintln!("power_loss_wal_every_sync_point: {crash_points} crash points, 2 images each");
}

#[test]
fn power_loss_wal_during_recovery() {
    // A crash image, then a second power loss at each sync point of the recovery that
    // follows (it zeroes the torn tail and syncs): the log must still open consistently.
    let seed = common::seed("power_loss_wal_during_recovery");
    let mut cases = 0;
    for i in 0..scaled(12) {
        let workload = Workload::new(seed, 100 + i);
        let dry = SimStorage::new(workload.seed);
        run(&workload, &dry);
        let syncs = dry.syncs();
        for k in (1..=syncs).step_by(3) {
            let storage = SimStorage::new(mix(workload.seed ^ k));
            storage.set_fault(Fault::CrashAtSync(k));
            let outcome = run(&workload, &storage);
            let keep = must_keep(&workload, outcome.acked);
            let image = storage.crash_image(mix(k));
            // How many syncs does recovering this image take?
            let probe = image.restart();
            drop(open_collect(Path::new(DIR), workload.options(&probe)));
            for j in 1..=probe.syncs() {
                cases += 1;
                let again = image.restart();
                again.set_fault(Fault::CrashAtSync(j));
                drop(open_collect(Path::new(DIR), workload.options(&again)));
                let ctx = format!(
                    "seed {seed} workload {i} crash at sync {k}, then at recovery sync {j}"
                );
                let (n, wal) = check_prefix(
                    &workload,
                    &again.crash_image(mix(j ^ k)),
                    keep,
                    outcome.appended,
                    &ctx,
                );
                drop(wal);
                assert!(n >= keep, "{ctx}");
            }
        }
    }
    eprintln!("power_loss_wal_during_recovery: {cases} cases");
}

#[test]
fn power_loss_wal_after_process_kill() {
    // A process writes without syncing and dies (its writes stay in the page cache, unsynced);
    // the next process recovers them and goes on with synced commits; then the power fails.
    // Recovery must have synced what it replayed before new records claimed it was synced.
    let seed = common::seed("power_loss_wal_after_process_kill");
    let mut cases = 0;
    for i in 0..scaled(12) {
        let mut first = Workload::new(seed, 200 + i);
        first.durability = Durability::None;
        // Large enough segments that the first run leaves unsynced records in its last
        // segment and the second run's first records still fit there.
        first.segment_bytes = if i % 2 == 0 {
            8192
        } else {
            first.segment_bytes
        };
        let storage = SimStorage::new(first.seed);
        let (wal, _) = open_collect(Path::new(DIR), first.options(&storage)).unwrap();
        for seq in 1..=first.records {
            wal.append(seq, first.payload(seq)).unwrap();
        }
        wal.wait_acked(first.records).unwrap();
        // kill -9: the page cache keeps the writes; the process never closes the log.
        let killed = storage.restart();
        std::mem::forget(wal);

        let mut second = first.clone();
        second.durability = Durability::Sync;
        second.threads = 1;
        let dry = killed.restart();
        run_from(&second, &dry, first.records);
        for k in 1..=dry.syncs() + 1 {
            cases += 1;
            let storage = killed.restart();
            storage.set_fault(Fault::CrashAtSync(k));
            let outcome = run_from(&second, &storage, first.records);
            for image in 0..3 {
                let ctx = format!(
                    "seed {seed} workload {i}: killed, then power lost at sync {k} (image {image})"
                );
                let (_, wal) = check_prefix(
                    &second,
                    &storage.crash_image(mix(k ^ (image << 40))),
                    outcome.acked,
                    first.records + outcome.appended,
                    &ctx,
                );
                drop(wal);
            }
        }
    }
    eprintln!("power_loss_wal_after_process_kill: {cases} crash points");
}

#[test]
fn power_loss_wal_spare_renamed_but_directory_not_synced() {
    // A run was killed after its helper renamed segment 2 into place but before it synced the
    // directory. The next run rotates into segment 2 and acknowledges records there; a power
    // loss must not lose segment 2's name.
    let workload = Workload {
        seed: 7,
        threads: 1,
        records: 0,
        segment_bytes: 1024,
        durability: Durability::Sync,
    };
    let dir = Path::new(DIR);
    let storage = SimStorage::new(1);
    storage.create_dir_all(dir).unwrap();
    let (segment1, _) = common::build_segment(1, &Vec::new(), false, 1024);
    storage.write_file(&dir.join(chronokv_wal::segment_file_name(1)), &segment1);
    let tmp = dir.join(format!("{}.tmp", chronokv_wal::segment_file_name(2)));
    let mut file = storage.create(&tmp).unwrap();
    let (segment2, _) = common::build_segment(2, &Vec::new(), false, 1024);
    file.write_all_at(0, &segment2).unwrap();
    file.sync_data().unwrap();
    storage
        .rename(&tmp, &dir.join(chronokv_wal::segment_file_name(2)))
        .unwrap();
    let killed = storage.restart();

    let (wal, seen) = open_collect(dir, workload.options(&killed)).unwrap();
    assert!(seen.is_empty());
    let mut seq = 0;
    while killed
        .read_file(&dir.join(chronokv_wal::segment_file_name(2)))
        .unwrap()[32..]
        .iter()
        .all(|&b| b == 0)
    {
        seq += 1;
        wal.append(seq, workload.payload(seq)).unwrap();
        wal.wait_acked(seq).unwrap();
    }
    for image in 0..64 {
        let ctx = format!("image {image} after {seq} records acked, the last in segment 2");
        drop(check_prefix(
            &workload,
            &killed.crash_image(image),
            seq,
            seq,
            &ctx,
        ));
    }
}

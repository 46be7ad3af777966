//! Concurrent writers share syncs; a lone writer is not delayed.

mod common;

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use chronokv_wal::{Durability, WalOptions};
use common::open_collect;

#[test]
fn flusher_group_commit_8_threads_sync() {
    const THREADS: u64 = 8;
    const PER_THREAD: u64 = 500;
    let dir = tempfile::tempdir().unwrap();
    let opts = WalOptions {
        durability: Durability::Sync,
        ..WalOptions::default()
    };
    let (wal, _) = open_collect(dir.path(), opts.clone()).unwrap();
    let wal = Arc::new(wal);
    // The engine's commit lock: seq order == queue order.
    let next_seq = Arc::new(Mutex::new(0u64));
    let started = Instant::now();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (wal, next_seq) = (Arc::clone(&wal), Arc::clone(&next_seq));
            thread::spawn(move || {
                for i in 0..PER_THREAD {
                    let seq = {
                        let mut next = next_seq.lock().unwrap();
                        *next += 1;
                        wal.append(*next, format!("t{t} i{i}").into_bytes())
                            .expect("append");
                        *next
                    };
                    let acked = wal.wait_acked(seq).expect("wait_acked");
                    assert!(acked >= seq);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let took = started.elapsed();
    let total = THREADS * PER_THREAD;
    let stats = wal.stats();
    eprintln!(
        "{total} commits from {THREADS} threads in {took:?} ({:.0}/s): {stats:?}",
        total as f64 / took.as_secs_f64()
    );
    assert_eq!(wal.acked(), total);
    assert_eq!(stats.records, total);
    assert_eq!(stats.syncs, stats.batches, "Sync mode: one sync per batch");
    assert!(
        stats.syncs < total,
        "group commit should share syncs: {stats:?}"
    );
    drop(wal);

    let (_wal, seen) = open_collect(dir.path(), opts).unwrap();
    assert_eq!(seen.len() as u64, total);
    for (i, (seq, _)) in seen.iter().enumerate() {
        assert_eq!(*seq, i as u64 + 1);
    }
    let mut per_thread = vec![0u64; THREADS as usize];
    for (_, payload) in &seen {
        let text = String::from_utf8(payload.clone()).unwrap();
        let (t, i) = text.split_once(' ').unwrap();
        let t: usize = t[1..].parse().unwrap();
        let i: u64 = i[1..].parse().unwrap();
        assert_eq!(i, per_thread[t], "thread {t}'s records in order");
        per_thread[t] += 1;
    }
    assert!(per_thread.iter().all(|&n| n == PER_THREAD));
}

#[test]
fn flusher_group_commit_lone_writer_not_delayed() {
    // No fdatasync here, so the time is the flusher's wake-up latency. A flusher that slept a
    // fixed 10 ms per batch would need 10 s for these round trips.
    const COMMITS: u64 = 1_000;
    let dir = tempfile::tempdir().unwrap();
    let opts = WalOptions {
        durability: Durability::None,
        ..WalOptions::default()
    };
    let (wal, _) = open_collect(dir.path(), opts).unwrap();
    let started = Instant::now();
    for seq in 1..=COMMITS {
        wal.append(seq, vec![1; 100]).unwrap();
        assert_eq!(wal.wait_acked(seq).unwrap(), seq);
    }
    let took = started.elapsed();
    eprintln!("{COMMITS} sequential commits in {took:?}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert_eq!(wal.stats().batches, COMMITS);
}

/// Prints durable (`Durability::Sync`) commit rates for 1 to 64 writers on this machine's disk,
/// each writer waiting for its own commit before the next. Asserts only that every commit is
/// acknowledged and that writers share syncs; the figures are for reading (run with
/// `--nocapture`).
#[test]
fn flusher_group_commit_sync_rates() {
    for (threads, per_thread) in [(1u64, 2_000u64), (4, 1_000), (16, 400), (64, 100)] {
        let dir = tempfile::tempdir().unwrap();
        let opts = WalOptions {
            durability: Durability::Sync,
            ..WalOptions::default()
        };
        let (wal, _) = open_collect(dir.path(), opts).unwrap();
        let wal = Arc::new(wal);
        let next_seq = Arc::new(Mutex::new(0u64));
        let started = Instant::now();
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let (wal, next_seq) = (Arc::clone(&wal), Arc::clone(&next_seq));
                thread::spawn(move || {
                    let mut latencies = Vec::with_capacity(per_thread as usize);
                    for _ in 0..per_thread {
                        let begun = Instant::now();
                        let seq = {
                            let mut next = next_seq.lock().unwrap();
                            *next += 1;
                            wal.append(*next, vec![0x5A; 100]).unwrap();
                            *next
                        };
                        wal.wait_acked(seq).unwrap();
                        latencies.push(begun.elapsed());
                    }
                    latencies
                })
            })
            .collect();
        let mut latencies: Vec<Duration> = workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect();
        let took = started.elapsed();
        latencies.sort();
        let total = threads * per_thread;
        let stats = wal.stats();
        eprintln!(
            "{threads:>2} writers: {total} durable commits in {took:.2?} = {:>7.0}/s; latency p50 {:.0?} p99 {:.0?}; {} fdatasyncs ({:.1} commits each)",
            total as f64 / took.as_secs_f64(),
            latencies[latencies.len() / 2],
            latencies[latencies.len() * 99 / 100],
            stats.syncs,
            total as f64 / stats.syncs as f64
        );
        assert_eq!(wal.acked(), total);
        if threads > 1 {
            assert!(
                stats.syncs < total,
                "{threads} writers never shared a sync: {stats:?}"
            );
        }
    }
}

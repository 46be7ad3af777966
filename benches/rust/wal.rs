//! WAL benches: chronokv's write-ahead log (lock-free queue, flusher thread, group commit,
//! durability Sync) beside the raw floor, `write` + `fdatasync` on a plain file, in the same run.
//!
//! - `wal_commit_single_writer`: one 136-byte record appended and waited for at a time
//!   (the Rust floor under the JS workload W4).
//! - `wal_commit_burst_100`: 100 records appended at once, then wait for the last (group commit;
//!   the floor is one write of all 100 plus one fdatasync).
//!
//! - `wal_commit_concurrent_writers/{1,2,8,64}`: that many threads each appending one record
//!   and waiting for it, over and over (group commit shares each fdatasync among the waiters;
//!   the goal is 64 writers >= 20x one writer in commits/s).
//!
//! Baselines: `raw_append_fdatasync` appends and grows the file; `raw_prealloc_fdatasync`
//! overwrites a zero-filled, synced file in place, so fdatasync has no metadata to write.
//!
//! Run: cargo bench -p chronokv-bench -- wal_

use chronokv_bench::{key, value, RawLog};
use chronokv_wal::{Wal, WalOptions};
use criterion::{criterion_group, Criterion, Throughput};

fn record(i: u64) -> Vec<u8> {
    // About what the engine logs for one put: a small header, the key and the value.
    let mut r = Vec::with_capacity(136);
    r.extend_from_slice(&[
        1, 0, 0, 0, 16, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
    r.extend_from_slice(&key(i));
    r.extend_from_slice(&value(i));
    r
}

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let wal = Wal::open(
        &dir.path().join("wal"),
        WalOptions::default(),
        &mut |_, _| Ok(()),
    )
    .expect("open wal");
    let payload = record(1);
    let mut raw_append = RawLog::appending(dir.path(), "raw-append.log").expect("raw log");
    let mut raw_prealloc =
        RawLog::preallocated(dir.path(), "raw-prealloc.log", 64 << 20).expect("raw log");
    let mut seq = 0u64;

    let mut g = c.benchmark_group("wal_commit_single_writer");
    g.throughput(Throughput::Elements(1));
    g.bench_function("chronokv", |b| {
        b.iter(|| {
            seq += 1;
            wal.append(seq, payload.clone()).expect("append");
            wal.wait_acked(seq).expect("ack")
        })
    });
    g.bench_function("raw_append_fdatasync", |b| {
        b.iter(|| raw_append.commit(&[&payload]).expect("raw commit"))
    });
    g.bench_function("raw_prealloc_fdatasync", |b| {
        b.iter(|| raw_prealloc.commit(&[&payload]).expect("raw commit"))
    });
    g.finish();

    let burst: Vec<Vec<u8>> = (0..100).map(record).collect();
    let burst_refs: Vec<&[u8]> = burst.iter().map(Vec::as_slice).collect();
    let mut g = c.benchmark_group("wal_commit_burst_100");
    g.throughput(Throughput::Elements(100));
    g.bench_function("chronokv", |b| {
        b.iter(|| {
            for r in &burst {
                seq += 1;
                wal.append(seq, r.clone()).expect("append");
            }
            wal.wait_acked(seq).expect("ack")
        })
    });
    g.bench_function("raw_append_fdatasync", |b| {
        b.iter(|| raw_append.commit(&burst_refs).expect("raw commit"))
    });
    g.bench_function("raw_prealloc_fdatasync", |b| {
        b.iter(|| raw_prealloc.commit(&burst_refs).expect("raw commit"))
    });
    g.finish();

    // The engine appends under its sequencer lock, so appends reach the queue in seq order;
    // the Mutex here plays that part.
    let sequencer = std::sync::Mutex::new(seq);
    let mut g = c.benchmark_group("wal_commit_concurrent_writers");
    g.throughput(Throughput::Elements(1));
    for writers in [1u64, 2, 8, 64] {
        g.bench_function(format!("chronokv/{writers}"), |b| {
            b.iter_custom(|iters| {
                let per_writer = iters.div_ceil(writers);
                let start = std::time::Instant::now();
                std::thread::scope(|scope| {
                    for _ in 0..writers {
                        scope.spawn(|| {
                            for _ in 0..per_writer {
                                let mine = {
                                    let mut last = sequencer.lock().expect("sequencer");
                                    *last += 1;
                                    wal.append(*last, payload.clone()).expect("append");
                                    *last
                                };
                                wal.wait_acked(mine).expect("ack");
                            }
                        });
                    }
                });
                // Report per commit: the threads together made writers * per_writer commits.
                start
                    .elapsed()
                    .mul_f64(iters as f64 / (writers * per_writer) as f64)
            })
        });
    }
    g.finish();

    wal.close().expect("close wal");
}

criterion_group!(wal, benches);

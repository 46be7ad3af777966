//! Engine benches: `chronokv_engine::Database` (the layer under the Node binding) beside the
//! `RwLock<BTreeMap>` baseline holding the very same versions, and a single-writer durable commit
//! beside the raw `write` + `fdatasync` floor.
//!
//! Data: 10,000 keys x 20 versions (100-byte values) committed in batches of 1,000, so versions
//! of a key are spread over the timeline, as in the JS temporal workloads.
//!
//! - `engine_get_as_of`: a random key as of a random past commit timestamp (JS T1's core).
//! - `engine_get_latest`: a random key as of now (JS W2's core).
//! - `engine_history_20`: all 20 versions of a random key (JS T2's core).
//! - `engine_commit_single_writer`: one put committed and made durable at a time (JS W4's core).
//!
//! Run: cargo bench -p chronokv-bench -- engine_

use std::hint::black_box;

use chronokv_bench::{key, random_indexes, value, BTreeBaseline, RawLog};
use chronokv_engine::{Database, Durability, HistoryOptions, Op, Options};
use criterion::{criterion_group, Criterion, Throughput};

const KEYS: u64 = 10_000;
const VERSIONS: u64 = 20;
const BATCH: u64 = 1_000;
const MASK: usize = (1 << 16) - 1;

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let options = Options {
        durability: Durability::Sync,
        ..Options::default()
    };
    let db = Database::open_exclusive(&dir.path().join("db"), &options).expect("open");
    let baseline = BTreeBaseline::new();
    let mut stamps = Vec::new();
    for round in 0..VERSIONS {
        for start in (0..KEYS).step_by(BATCH as usize) {
            let keys: Vec<[u8; 16]> = (start..start + BATCH).map(key).collect();
            let values: Vec<[u8; 100]> = (start..start + BATCH)
                .map(|i| value(i * VERSIONS + round))
                .collect();
            let ops: Vec<Op<'_>> = keys
                .iter()
                .zip(&values)
                .map(|(k, v)| Op::Put { key: k, value: v })
                .collect();
            let ts = db.commit(&ops).expect("commit");
            for (k, v) in keys.iter().zip(&values) {
                baseline.insert(k, ts, Some(v));
            }
            stamps.push(ts);
        }
    }
    let first = stamps[0];
    let span = stamps[stamps.len() - 1] - first + 1;
    let keys: Vec<[u8; 16]> = random_indexes(MASK + 1, KEYS, 11)
        .into_iter()
        .map(key)
        .collect();
    let times: Vec<u64> = random_indexes(MASK + 1, span, 12)
        .into_iter()
        .map(|d| first + d)
        .collect();

    let mut g = c.benchmark_group("engine_get_as_of");
    g.throughput(Throughput::Elements(1));
    let mut i = 0usize;
    g.bench_function("chronokv", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            let j = i & MASK;
            db.get_with(black_box(&keys[j]), Some(times[j]), |v| {
                v.map(|(ts, value)| (ts, value.len()))
            })
            .expect("get")
        })
    });
    g.bench_function("rwlock_btreemap", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            let j = i & MASK;
            baseline.get_at(black_box(&keys[j]), times[j], |v| {
                v.and_then(|(ts, value)| value.map(|v| (ts, v.len())))
            })
        })
    });
    g.finish();

    let mut g = c.benchmark_group("engine_get_latest");
    g.throughput(Throughput::Elements(1));
    g.bench_function("chronokv", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            db.get_with(black_box(&keys[i & MASK]), None, |v| {
                v.map(|(ts, value)| (ts, value.len()))
            })
            .expect("get")
        })
    });
    g.bench_function("rwlock_btreemap", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            baseline.get_at(black_box(&keys[i & MASK]), u64::MAX, |v| {
                v.and_then(|(ts, value)| value.map(|v| (ts, v.len())))
            })
        })
    });
    g.finish();

    let mut g = c.benchmark_group("engine_history_20");
    g.throughput(Throughput::Elements(VERSIONS));
    g.bench_function("chronokv", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            let mut n = 0usize;
            db.history_with(
                black_box(&keys[i & MASK]),
                HistoryOptions::default(),
                |ts, v| {
                    n += black_box((ts, v.map_or(0, <[u8]>::len))).1;
                },
            )
            .expect("history");
            n
        })
    });
    g.bench_function("rwlock_btreemap", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            let mut n = 0usize;
            baseline.history(black_box(&keys[i & MASK]), |ts, v| {
                n += black_box((ts, v.map_or(0, <[u8]>::len))).1;
            });
            n
        })
    });
    g.finish();

    let mut g = c.benchmark_group("engine_commit_single_writer");
    g.throughput(Throughput::Elements(1));
    let k = key(KEYS + 1);
    let v = value(1);
    g.bench_function("chronokv", |b| {
        b.iter(|| {
            db.commit(&[Op::Put { key: &k, value: &v }])
                .expect("commit")
        })
    });
    let mut raw = RawLog::appending(dir.path(), "raw.log").expect("raw log");
    let record: Vec<u8> = [&[0u8; 20][..], &k, &v].concat();
    g.bench_function("raw_append_fdatasync", |b| {
        b.iter(|| raw.commit(&[&record]).expect("raw commit"))
    });
    g.finish();

    db.close().expect("close");
}

criterion_group!(engine, benches);

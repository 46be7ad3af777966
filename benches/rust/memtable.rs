//! Memtable benches: chronokv's lock-free memtable beside an `RwLock<BTreeMap>` baseline
//! (single thread, uncontended), 100,000 keys of 16 bytes with one 100-byte version each.
//!
//! - `memtable_get_hit`: the newest version of a random existing key.
//! - `memtable_get_miss`: a random never-written key that sorts right after an existing one.
//! - `memtable_insert`: append a version (keys cycle over 100,000, so most appends extend a chain).
//! - `memtable_scan_100`: 100 consecutive keys and their newest versions from a random start.
//!
//! Run: cargo bench -p chronokv-bench --bench memtable

use std::hint::black_box;
use std::ops::{Bound, ControlFlow};
use std::time::Instant;

use chronokv_bench::{key, missing_key, random_indexes, value, BTreeBaseline};
use chronokv_memtable::Memtable;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const KEYS: u64 = 100_000;
const MASK: usize = (1 << 16) - 1;

fn loaded() -> (
    std::sync::Arc<Memtable>,
    chronokv_memtable::WriteToken,
    BTreeBaseline,
) {
    let (memtable, mut token) = Memtable::new();
    let baseline = BTreeBaseline::new();
    for i in 0..KEYS {
        token.insert(&key(i), i + 1, Some(&value(i)));
        baseline.insert(&key(i), i + 1, Some(&value(i)));
    }
    (memtable, token, baseline)
}

fn benches(c: &mut Criterion) {
    let (memtable, _token, baseline) = loaded();
    let hits: Vec<[u8; 16]> = random_indexes(MASK + 1, KEYS, 1)
        .into_iter()
        .map(key)
        .collect();
    let misses: Vec<Vec<u8>> = random_indexes(MASK + 1, KEYS, 2)
        .into_iter()
        .map(|i| missing_key(i).to_vec())
        .collect();
    let hits: Vec<Vec<u8>> = hits.iter().map(|k| k.to_vec()).collect();
    let starts: Vec<[u8; 16]> = random_indexes(MASK + 1, KEYS - 100, 3)
        .into_iter()
        .map(key)
        .collect();

    for (name, keys) in [("memtable_get_hit", &hits), ("memtable_get_miss", &misses)] {
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Elements(1));
        let mut i = 0usize;
        g.bench_function("chronokv", |b| {
            b.iter(|| {
                i = i.wrapping_add(1);
                memtable.get_at(black_box(&keys[i & MASK]), u64::MAX, |v| v.is_some())
            })
        });
        g.bench_function("rwlock_btreemap", |b| {
            b.iter(|| {
                i = i.wrapping_add(1);
                baseline.get_at(black_box(&keys[i & MASK]), u64::MAX, |v| v.is_some())
            })
        });
        g.finish();
    }

    let mut g = c.benchmark_group("memtable_insert");
    g.throughput(Throughput::Elements(1));
    let keys: Vec<[u8; 16]> = (0..KEYS).map(key).collect();
    let v = value(7);
    g.bench_function("chronokv", |b| {
        b.iter_custom(|iters| {
            let (memtable, mut token) = Memtable::new();
            let start = Instant::now();
            for n in 0..iters {
                token.insert(&keys[(n % KEYS) as usize], n + 1, Some(&v));
            }
            let elapsed = start.elapsed();
            drop((token, memtable));
            elapsed
        })
    });
    g.bench_function("rwlock_btreemap", |b| {
        b.iter_custom(|iters| {
            let baseline = BTreeBaseline::new();
            let start = Instant::now();
            for n in 0..iters {
                baseline.insert(&keys[(n % KEYS) as usize], n + 1, Some(&v));
            }
            let elapsed = start.elapsed();
            drop(baseline);
            elapsed
        })
    });
    g.finish();

    let mut g = c.benchmark_group("memtable_scan_100");
    g.throughput(Throughput::Elements(100));
    let mut i = 0usize;
    g.bench_function("chronokv", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            let mut seen = 0;
            memtable.scan(
                Bound::Included(&starts[i & MASK][..]),
                Bound::Unbounded,
                false,
                u64::MAX,
                |k, newest| {
                    black_box((k, newest.is_some()));
                    seen += 1;
                    if seen == 100 {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                },
            );
            seen
        })
    });
    g.bench_function("rwlock_btreemap", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            let mut seen = 0;
            baseline.scan_at(
                Bound::Included(&starts[i & MASK][..]),
                Bound::Unbounded,
                u64::MAX,
                |k, v| {
                    black_box((k, v.is_some()));
                    seen += 1;
                    if seen == 100 {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                },
            );
            seen
        })
    });
    g.finish();
}

criterion_group!(memtable, benches);
criterion_main!(memtable);

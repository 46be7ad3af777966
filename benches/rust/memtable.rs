//! Memtable benches: chronokv's lock-free memtable beside an `RwLock<BTreeMap>` baseline
//! (single thread, uncontended), 100,000 keys of 16 bytes with one 100-byte version each.
//!
//! - `memtable_get_hit`: the newest version of a random existing key.
//! - `memtable_get_miss`: a random never-written key that sorts right after an existing one.
//! - `memtable_insert`: append a version (keys cycle over 100,000, so most appends extend a chain).
//! - `memtable_scan_100`: 100 consecutive keys and their newest versions from a random start.
//! - `memtable_get_as_of`: 100,000 keys with 8 versions each, a random key at a random one of
//!   its 8 commit times.
//! - `memtable_mixed_2_threads_90_10`: 2 threads on one shared table, each doing 90% newest-
//!   version gets and 10% appends of random keys; the baseline takes its RwLock for each.
//!
//! Run: cargo bench -p chronokv-bench -- memtable_

use std::hint::black_box;
use std::ops::{Bound, ControlFlow};
use std::time::Instant;

use chronokv_bench::{key, missing_key, random_indexes, value, BTreeBaseline};
use chronokv_memtable::Memtable;
use criterion::{criterion_group, Criterion, Throughput};

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

/// 100,000 keys with 8 versions each, at timestamps key*8+1 ..= key*8+8.
fn loaded_with_history() -> (std::sync::Arc<Memtable>, BTreeBaseline) {
    let (memtable, mut token) = Memtable::new();
    let baseline = BTreeBaseline::new();
    for i in 0..KEYS {
        for v in 1..=8 {
            token.insert(&key(i), i * 8 + v, Some(&value(i + v)));
            baseline.insert(&key(i), i * 8 + v, Some(&value(i + v)));
        }
    }
    (memtable, baseline)
}

fn as_of_benches(c: &mut Criterion) {
    let (memtable, baseline) = loaded_with_history();
    let picks: Vec<(Vec<u8>, u64)> = random_indexes(MASK + 1, KEYS * 8, 4)
        .into_iter()
        .map(|n| (key(n / 8).to_vec(), (n / 8) * 8 + 1 + n % 8))
        .collect();
    let mut g = c.benchmark_group("memtable_get_as_of");
    g.throughput(Throughput::Elements(1));
    let mut i = 0usize;
    g.bench_function("chronokv", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            let (k, at) = &picks[i & MASK];
            memtable.get_at(black_box(k), *at, |v| v.map(|v| v.ts()))
        })
    });
    g.bench_function("rwlock_btreemap", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            let (k, at) = &picks[i & MASK];
            baseline.get_at(black_box(k), *at, |v| v.is_some())
        })
    });
    g.finish();
}

/// Runs `ops` operations on each of 2 threads (90% gets, 10% appends) and returns the time.
fn two_threads(ops: u64, op: impl Fn(u64, bool) + Sync) -> std::time::Duration {
    let start = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..2u64 {
            let op = &op;
            scope.spawn(move || {
                let mut rng = chronokv_bench::SplitMix(t + 11);
                for _ in 0..ops {
                    let n = rng.next_u64();
                    op(n % KEYS, n.is_multiple_of(10));
                }
            });
        }
    });
    start.elapsed()
}

fn mixed_benches(c: &mut Criterion) {
    let (memtable, _token, baseline) = loaded();
    // Appends need increasing timestamps per key; one shared counter above every loaded one.
    let clock = std::sync::atomic::AtomicU64::new(KEYS + 1);
    let next_ts = || clock.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut g = c.benchmark_group("memtable_mixed_2_threads_90_10");
    g.throughput(Throughput::Elements(2));
    g.bench_function("chronokv", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, |k, write| {
                if write {
                    // Two threads may race on one key: a late, older timestamp is refused, as the
                    // engine's sequencer would never produce it; the attempt still counts.
                    let _ = memtable.insert(&key(k), next_ts(), Some(&value(k)));
                } else {
                    black_box(memtable.get_at(&key(k), u64::MAX, |v| v.is_some()));
                }
            })
        })
    });
    g.bench_function("rwlock_btreemap", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, |k, write| {
                if write {
                    baseline.insert(&key(k), next_ts(), Some(&value(k)));
                } else {
                    black_box(baseline.get_at(&key(k), u64::MAX, |v| v.is_some()));
                }
            })
        })
    });
    g.finish();
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

criterion_group!(memtable, benches, as_of_benches, mixed_benches);

//! Quick single-process timings of the memtable (not a benchmark suite: the criterion benches
//! live in benches/). Run: `cargo run --release -p chronokv-memtable --example memtable_timing`.
//!
//! Prints ops/s for inserts, point reads of the newest version, as-of reads over 8 versions
//! per key, short scans, and the skip list's own point lookup for comparison (why point reads
//! go through the hash index).

use std::hint::black_box;
use std::ops::{Bound, ControlFlow};
use std::sync::Arc;
use std::time::Instant;

use chronokv_memtable::Memtable;
use crossbeam_skiplist::SkipMap;
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

const KEYS: usize = 100_000;

fn key(i: usize) -> [u8; 16] {
    let mut k = *b"user:00000000000";
    let digits = format!("{i:011}");
    k[5..].copy_from_slice(digits.as_bytes());
    k
}

/// Nanoseconds this thread spent on a CPU (Linux), so a busy shared machine's descheduling does
/// not count against the measurement. None elsewhere.
fn on_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

fn rate(label: &str, ops: usize, f: impl FnOnce()) {
    let (start, cpu_start) = (Instant::now(), on_cpu_ns());
    f();
    let secs = start.elapsed().as_secs_f64();
    let cpu = on_cpu_ns()
        .zip(cpu_start)
        .map(|(end, start)| (end - start) as f64 / 1e9);
    print!(
        "{label:<44} {:>7.2} M ops/s wall ({:>6.1} ns/op)",
        ops as f64 / secs / 1e6,
        secs * 1e9 / ops as f64
    );
    match cpu {
        Some(cpu) => println!(
            "  {:>7.2} M ops/s on-CPU ({:>6.1} ns/op)",
            ops as f64 / cpu / 1e6,
            cpu * 1e9 / ops as f64
        ),
        None => println!(),
    }
}

fn main() {
    let mut rng = SmallRng::seed_from_u64(7);
    let keys: Vec<[u8; 16]> = (0..KEYS).map(key).collect();
    let mut order: Vec<u32> = (0..KEYS as u32).collect();
    order.shuffle(&mut rng);
    let value = [7u8; 32];

    // Inserts: 100K new keys in random order, then 7 more versions of each.
    let (m, mut token) = Memtable::new();
    rate("insert (new key, random order)", KEYS, || {
        for &i in &order {
            token.insert(&keys[i as usize], 1, Some(&value));
        }
    });
    rate("insert (existing key, random order)", KEYS * 7, || {
        for ts in 2..=8 {
            for &i in &order {
                token.insert(&keys[i as usize], ts, Some(&value));
            }
        }
    });

    let lookups: Vec<u32> = (0..4_000_000)
        .map(|_| rng.random_range(0..KEYS as u32))
        .collect();
    rate(
        "get newest (100K keys, 8 versions each)",
        lookups.len(),
        || {
            for &i in &lookups {
                black_box(m.get_at(&keys[i as usize], u64::MAX, |v| {
                    v.map(|v| v.value().map(<[u8]>::len))
                }));
            }
        },
    );
    let ats: Vec<u64> = (0..lookups.len())
        .map(|_| rng.random_range(1..=8))
        .collect();
    rate("get as-of (random of 8 versions)", lookups.len(), || {
        for (&i, &at) in lookups.iter().zip(&ats) {
            black_box(m.get_at(&keys[i as usize], at, |v| v.map(|v| v.ts())));
        }
    });
    rate("get miss", lookups.len(), || {
        for &i in &lookups {
            let mut k = keys[i as usize];
            k[0] = b'x';
            black_box(m.get_at(&k, u64::MAX, |v| v.is_some()));
        }
    });

    // One version per key (fresh memtable): the case the 8.5M/s target names.
    let (single, mut token1) = Memtable::new();
    for &i in &order {
        token1.insert(&keys[i as usize], 1, Some(&value));
    }
    rate(
        "get newest (100K keys, 1 version each)",
        lookups.len(),
        || {
            for &i in &lookups {
                black_box(single.get_at(&keys[i as usize], u64::MAX, |v| {
                    v.map(|v| v.value().map(<[u8]>::len))
                }));
            }
        },
    );

    // A hot set that stays in cache: what the read path itself costs (hash, index probe, hazard
    // publish + fence + re-read, stamp search), without the memory latency of a cold key.
    let hot: Vec<u32> = lookups.iter().map(|i| i % 1_000).collect();
    rate("get newest (1K hot keys of the 100K)", hot.len(), || {
        for &i in &hot {
            black_box(m.get_at(&keys[i as usize], u64::MAX, |v| {
                v.map(|v| v.value().map(<[u8]>::len))
            }));
        }
    });
    rate("get as-of (1K hot keys, random of 8)", hot.len(), || {
        for (&i, &at) in hot.iter().zip(&ats) {
            black_box(m.get_at(&keys[i as usize], at, |v| v.map(|v| v.ts())));
        }
    });

    // The skip list alone, as the point-read index it would otherwise be (and the floor of a
    // new-key insert, which must add the key to it).
    let skip: SkipMap<Box<[u8]>, u64> = SkipMap::new();
    rate("skip list insert (new key, random order)", KEYS, || {
        for &i in &order {
            skip.insert(Box::from(&keys[i as usize][..]), u64::from(i));
        }
    });
    let (sequential, mut token2) = Memtable::new();
    rate("insert (new key, ascending order)", KEYS, || {
        for k in keys.iter() {
            token2.insert(k, 1, Some(&value));
        }
    });
    drop(sequential);
    rate(
        "skip list get (same keys, no chain read)",
        lookups.len(),
        || {
            for &i in &lookups {
                black_box(skip.get(&keys[i as usize][..]).map(|e| *e.value()));
            }
        },
    );
    rate("skip list get (1K hot keys)", hot.len(), || {
        for &i in &hot {
            black_box(skip.get(&keys[i as usize][..]).map(|e| *e.value()));
        }
    });

    let starts: Vec<u32> = (0..200_000)
        .map(|_| rng.random_range(0..(KEYS - 100) as u32))
        .collect();
    rate(
        "scan 100 keys at a snapshot (per key)",
        starts.len() * 100,
        || {
            for &s in &starts {
                let mut n = 0;
                m.scan(
                    Bound::Included(&keys[s as usize][..]),
                    Bound::Unbounded,
                    false,
                    5,
                    |_, v| {
                        black_box(v);
                        n += 1;
                        if n == 100 {
                            ControlFlow::Break(())
                        } else {
                            ControlFlow::Continue(())
                        }
                    },
                );
            }
        },
    );

    // Two reader threads on two cores.
    let m = Arc::new(m);
    let lookups = Arc::new(lookups);
    let keys = Arc::new(keys);
    let start = Instant::now();
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let (m, lookups, keys) = (Arc::clone(&m), Arc::clone(&lookups), Arc::clone(&keys));
            std::thread::spawn(move || {
                for &i in lookups.iter() {
                    black_box(m.get_at(&keys[i as usize], u64::MAX, |v| v.map(|v| v.ts())));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{:<44} {:>7.2} M ops/s",
        "get newest, 2 threads (total)",
        2.0 * lookups.len() as f64 / secs / 1e6
    );
}

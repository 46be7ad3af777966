//! Times point reads and short scans on one extent shaped like the engine's flushes: 10,000
//! keys x 20 versions (200,000 versions), 100-byte random values, 4 KiB blocks, LZ4 on.
//!
//! `cargo run --release -p chronokv-extent --example get_timing` (`GET_TIMING_KEYS=1000` for an
//! extent that fits in the CPU caches, to see what reading from memory costs;
//! `GET_TIMING_TEXT=1` for compressible JSON-like values, so blocks go through LZ4). Random
//! values do not compress, and such blocks are stored raw and read in place.

use std::hint::black_box;
use std::ops::{Bound, ControlFlow};
use std::sync::Arc;
use std::time::Instant;

use chronokv_extent::{ExtentReader, ExtentWriter, ReadStats, WriterOptions};
use rand::rngs::SmallRng;
use rand::{Rng, RngCore, SeedableRng};

const VERSIONS: u64 = 20;
const BASE_TS: u64 = 1_795_000_000_000_000;
const READS: usize = 500_000;
const TRIAL: usize = 5_000;

fn keys() -> u64 {
    std::env::var("GET_TIMING_KEYS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(10_000)
}

fn key(k: u64) -> Vec<u8> {
    format!("user/{:08}", k * 7).into_bytes()
}

/// Version `v` of key `k`: time moves across the whole key space once per version.
fn ts(k: u64, v: u64) -> u64 {
    BASE_TS + v * 1_000_000 + k * 50
}

/// Nanoseconds this thread has spent on a CPU (Linux; `None` elsewhere). On a busy machine
/// wall-clock time mostly measures waiting for a core; this does not.
fn cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// Runs `op` in trials of `TRIAL` calls and prints per call: the on-CPU time over all trials,
/// and the best and median trial by wall clock.
fn time(label: &str, ops: usize, mut op: impl FnMut(usize)) {
    let cpu_start = cpu_ns();
    let mut trials: Vec<f64> = (0..ops / TRIAL)
        .map(|t| {
            let start = Instant::now();
            for i in t * TRIAL..(t + 1) * TRIAL {
                op(i);
            }
            start.elapsed().as_nanos() as f64 / TRIAL as f64
        })
        .collect();
    let cpu = match (cpu_start, cpu_ns()) {
        (Some(a), Some(b)) => format!("{:>7.0}", (b - a) as f64 / (ops / TRIAL * TRIAL) as f64),
        _ => "    n/a".to_string(),
    };
    trials.sort_by(f64::total_cmp);
    println!(
        "{label:<46} cpu {cpu} ns/op   wall best {:>7.0}  median {:>7.0}",
        trials[0],
        trials[trials.len() / 2]
    );
}

fn main() {
    let mut rng = SmallRng::seed_from_u64(42);
    let keys = keys();
    let text = std::env::var_os("GET_TIMING_TEXT").is_some();
    let mut writer = ExtentWriter::new(WriterOptions {
        block_bytes: 4096,
        compress: true,
    });
    let mut value = [0u8; 100];
    for k in 0..keys {
        for v in 0..VERSIONS {
            if text {
                let json = format!(
                    r#"{{"id":{k},"version":{v},"name":"user {k}","score":{},"tags":["a","b"]}}"#,
                    rng.random_range(0..1000)
                );
                value = [b' '; 100];
                value[..json.len()].copy_from_slice(json.as_bytes());
            } else {
                rng.fill_bytes(&mut value);
            }
            writer.add(&key(k), ts(k, v), Some(&value)).unwrap();
        }
    }
    let (bytes, summary) = writer.finish().unwrap();
    println!(
        "extent: {} versions, {} blocks, {:.1} MiB ({:.0} bytes/block)",
        summary.versions,
        summary.blocks,
        bytes.len() as f64 / 1048576.0,
        bytes.len() as f64 / summary.blocks as f64
    );
    let reader = Arc::new(ExtentReader::open(bytes).unwrap());
    let stats = ReadStats::default();

    // Random keys and times chosen up front so the loop times the read alone.
    let probes: Vec<(Vec<u8>, u64)> = (0..4096)
        .map(|_| {
            let k = rng.random_range(0..keys);
            (key(k), rng.random_range(ts(k, 0)..=ts(k, VERSIONS - 1) + 1))
        })
        .collect();
    let misses: Vec<Vec<u8>> = probes
        .iter()
        .map(|(k, _)| [k.as_slice(), b"!"].concat())
        .collect();

    let mut found = 0usize;
    time("get_with, random key, random as-of time", READS, |i| {
        let (k, at) = &probes[i % probes.len()];
        found += reader
            .get_with(k, *at, &stats, |v| {
                v.map_or(0, |(_, v)| black_box(v).map_or(0, <[u8]>::len))
            })
            .unwrap();
    });
    assert!(found > 0);
    time("get_with, random key, latest", READS, |i| {
        let (k, _) = &probes[i % probes.len()];
        black_box(
            reader
                .get_with(k, u64::MAX, &stats, |v| v.is_some())
                .unwrap(),
        );
    });
    time(
        "get_with, absent key (inside a block's range)",
        READS,
        |i| {
            black_box(
                reader
                    .get_with(&misses[i % misses.len()], u64::MAX, &stats, |v| v.is_some())
                    .unwrap(),
            );
        },
    );
    time("get (copies the value out)", READS, |i| {
        let (k, at) = &probes[i % probes.len()];
        black_box(reader.get(k, *at, &stats).unwrap());
    });
    for reverse in [false, true] {
        time(
            &format!("scan of 100 keys as of a time, reverse {reverse}"),
            100_000,
            |i| {
                let (k, at) = &probes[i % probes.len()];
                let (lower, upper) = if reverse {
                    (Bound::Unbounded, Bound::Included(k.as_slice()))
                } else {
                    (Bound::Included(k.as_slice()), Bound::Unbounded)
                };
                let mut n = 0;
                reader
                    .scan(lower, upper, reverse, *at, &stats, |k, ts, v| {
                        black_box((k, ts, v));
                        n += 1;
                        if n == 100 {
                            ControlFlow::Break(())
                        } else {
                            ControlFlow::Continue(())
                        }
                    })
                    .unwrap();
            },
        );
    }

    // Two threads (the engine's two cores) reading one shared reader, counting into one shared
    // ReadStats (as the engine does) or one each: on-CPU time per read includes any cost of
    // the threads contending for the counters' cache line.
    for shared in [true, false] {
        let start = Instant::now();
        let cpu: Vec<Option<u64>> = std::thread::scope(|s| {
            let threads: Vec<_> = (0..2)
                .map(|t| {
                    let (reader, probes, stats) = (&reader, &probes, &stats);
                    s.spawn(move || {
                        let own = ReadStats::default();
                        let stats = if shared { stats } else { &own };
                        let cpu_start = cpu_ns();
                        for i in 0..READS {
                            let (k, at) = &probes[(i * 7 + t) % probes.len()];
                            black_box(reader.get_with(k, *at, stats, |v| v.is_some()).unwrap());
                        }
                        Some(cpu_ns()? - cpu_start?)
                    })
                })
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        let rate = 2.0 * READS as f64 / start.elapsed().as_secs_f64();
        let cpu: Option<u64> = cpu.into_iter().sum();
        let cpu = cpu.map_or("n/a".to_string(), |ns| {
            format!("{:.0}", ns as f64 / (2 * READS) as f64)
        });
        println!("get_with, 2 threads, shared stats {shared:<5}        cpu {cpu:>7} ns/op   wall {:.2} M gets/s", rate / 1e6);
    }
}

//! As-of point reads against an existing database, native only (no JavaScript in the way), to
//! tell the engine's cost from the binding's:
//!
//! `cargo run --release -p chronokv-engine --example asof_reads -- <dir> <keys> <reads> <oldest-ts> [<newest-ts>]`
//!
//! Keys are the JS benches' (`key:` + 12 digits, indexes below `<keys>`), times uniform from
//! `<oldest-ts>` to `<newest-ts>` (default: now); four rounds over the same draws, the first
//! one warming the caches.

use std::path::Path;
use std::process::exit;
use std::time::Instant;

use chronokv_engine::{Database, Options};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (dir, keys, reads, oldest, newest) = match args.as_slice() {
        [dir, keys, reads, oldest] => (dir, keys, reads, oldest, None),
        [dir, keys, reads, oldest, newest] => (dir, keys, reads, oldest, Some(newest)),
        _ => {
            eprintln!("usage: asof_reads <dir> <keys> <reads> <oldest-ts> [<newest-ts>]");
            exit(2);
        }
    };
    let number = |s: &str| -> u64 {
        s.parse().unwrap_or_else(|_| {
            eprintln!("not a number: {s}");
            exit(2)
        })
    };
    let (keys, reads, oldest) = (number(keys), number(reads) as usize, number(oldest));
    let db = Database::open_exclusive(Path::new(dir), &Options::default()).unwrap_or_else(|e| {
        eprintln!("cannot open {dir}: {e}");
        exit(1)
    });
    let newest = newest.map_or_else(|| db.now(), |n| number(n));
    let span = newest.saturating_sub(oldest).max(1);
    // xorshift64: the same draws every run.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let probes: Vec<(Vec<u8>, u64)> = (0..reads)
        .map(|_| {
            let key = format!("key:{:012}", next() % keys.max(1)).into_bytes();
            (key, oldest + next() % span)
        })
        .collect();
    for round in 0..4 {
        let started = Instant::now();
        let mut found = 0usize;
        for (key, at) in &probes {
            let hit = db.get_with(key, Some(*at), |v| v.is_some());
            found += usize::from(hit.unwrap_or_else(|e| {
                eprintln!("read failed: {e}");
                exit(1)
            }));
        }
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "round {round}: {:.0} reads/s ({:.0} ns/read), {found} found",
            reads as f64 / seconds,
            seconds * 1e9 / reads as f64
        );
    }
}

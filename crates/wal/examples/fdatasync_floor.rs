//! Measures what one small `write` + `fdatasync` costs on the disk under a directory, for four
//! ways of preparing the file. Run with:
//!
//! ```text
//! cargo run --release -p chronokv-wal --example fdatasync_floor -- [dir] [iterations]
//! ```
//!
//! - `growing`: appends at the end, so every fdatasync also commits the new size and block
//!   allocation through the file-system journal (what the log did before preallocation);
//! - `zeroed`: the file was filled with written zeros and synced first, then overwritten in
//!   place (what the log does now);
//! - `sparse`: the file was extended with `set_len` (a hole), then written in place;
//! - `fallocated`: the file was extended with the `fallocate` tool (unwritten extents), then
//!   written in place (skipped when the tool is missing).
//!
//! Prints percentiles per variant; it asserts nothing.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const RECORD: usize = 128;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().map_or_else(std::env::temp_dir, PathBuf::from);
    let iterations: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(2_000);
    let dir = tempfile::tempdir_in(dir).expect("temp dir");
    let size = (iterations * RECORD) as u64 + (1 << 20);
    println!(
        "{iterations} x ({RECORD}-byte write + fdatasync) in {}",
        dir.path().display()
    );
    for variant in [
        "growing",
        "zeroed",
        "sparse",
        "fallocated",
        "growing",
        "zeroed",
    ] {
        let path = dir.path().join(variant);
        let _ = std::fs::remove_file(&path);
        let Some(file) = prepare(variant, &path, size) else {
            println!("{variant:>10}: skipped (no fallocate tool)");
            continue;
        };
        let mut times = Vec::with_capacity(iterations);
        let record = [0xA5u8; RECORD];
        for i in 0..iterations {
            let started = Instant::now();
            file.write_all_at(&record, (i * RECORD) as u64)
                .expect("write");
            file.sync_data().expect("fdatasync");
            times.push(started.elapsed());
        }
        report(variant, &mut times);
    }
}

fn prepare(variant: &str, path: &Path, size: u64) -> Option<File> {
    let open = || {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .expect("open")
    };
    match variant {
        "growing" => Some(open()),
        "zeroed" => {
            let mut file = open();
            let chunk = vec![0u8; 1 << 20];
            let mut left = size;
            while left > 0 {
                let n = left.min(chunk.len() as u64) as usize;
                file.write_all(&chunk[..n]).expect("zero fill");
                left -= n as u64;
            }
            file.sync_all().expect("fsync");
            Some(file)
        }
        "sparse" => {
            let file = open();
            file.set_len(size).expect("set_len");
            file.sync_all().expect("fsync");
            Some(file)
        }
        "fallocated" => {
            let status = Command::new("fallocate")
                .arg("-l")
                .arg(size.to_string())
                .arg(path)
                .status()
                .ok()?;
            if !status.success() {
                return None;
            }
            let file = open();
            file.sync_all().expect("fsync");
            Some(file)
        }
        _ => unreachable!(),
    }
}

fn report(variant: &str, times: &mut [Duration]) {
    times.sort();
    let pct = |p: f64| times[((times.len() - 1) as f64 * p) as usize];
    let total: Duration = times.iter().sum();
    println!(
        "{variant:>10}: p50 {:>7.1?}  p90 {:>7.1?}  p99 {:>7.1?}  mean {:>7.1?}  ({:.0}/s)",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        total / times.len() as u32,
        times.len() as f64 / total.as_secs_f64()
    );
}

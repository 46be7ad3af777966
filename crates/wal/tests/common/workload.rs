//! A seeded workload run against a simulated file system, and the checks every crash or fault
//! test applies to what it leaves behind.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use chronokv_wal::sim::SimStorage;
use chronokv_wal::{Durability, Wal, WalError, WalOptions};

use super::{open_collect, Records};

/// Where the log lives inside every simulated file system.
pub const DIR: &str = "/sim/db/wal";

/// splitmix64, for choices derived from a seed.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// What one seeded workload does.
#[derive(Debug, Clone)]
pub struct Workload {
    pub seed: u64,
    pub threads: u64,
    pub records: u64,
    pub segment_bytes: u64,
    pub durability: Durability,
}

impl Workload {
    /// Workload number `i` of a run seeded with `seed`: mostly `Sync`, 1..=4 writers, small
    /// segments so that rotation happens often, some records larger than a segment.
    pub fn new(seed: u64, i: u64) -> Self {
        let seed = mix(seed ^ mix(i));
        let pick = |k: u64, n: u64| mix(seed ^ k) % n;
        Workload {
            seed,
            threads: 1 + pick(1, 4),
            records: 20 + pick(2, 30),
            segment_bytes: [512, 1024, 4096][pick(3, 3) as usize],
            durability: match pick(4, 6) {
                0 => Durability::Async,
                1 => Durability::None,
                _ => Durability::Sync,
            },
        }
    }

    pub fn options(&self, storage: &SimStorage) -> WalOptions {
        WalOptions {
            durability: self.durability,
            segment_bytes: self.segment_bytes,
            sync_interval: Duration::from_millis(1),
            storage: Arc::new(storage.clone()),
            ..WalOptions::default()
        }
    }

    /// The payload of `seq`: derived from the seed, so any copy can be checked. Mostly small,
    /// one in 12 larger than a segment.
    pub fn payload(&self, seq: u64) -> Vec<u8> {
        let h = mix(self.seed ^ seq.wrapping_mul(0x1000_0001));
        let len = if h.is_multiple_of(12) {
            self.segment_bytes as usize + (h >> 8) as usize % 700
        } else {
            (h >> 8) as usize % 160
        };
        (0..len).map(|i| (mix(h ^ i as u64) >> 24) as u8).collect()
    }
}

/// What a run of a workload did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Whether `Wal::open` failed (nothing was written then).
    pub open_error: Option<String>,
    /// Highest seq appended (seqs are 1..=appended, in order).
    pub appended: u64,
    /// Highest seq whose `wait_acked` returned `Ok`.
    pub acked: u64,
    /// The first error any writer saw after open, if any.
    pub first_error: Option<String>,
    /// `acked()` when the first error was seen, and after close.
    pub acked_at_error: u64,
    pub acked_after_close: u64,
    /// After the first error: what one more append returned (it must be refused).
    pub append_after_error: Option<Result<(), String>>,
    /// What `close` returned, if it failed.
    pub close_error: Option<String>,
}

impl Outcome {
    /// Whether open, a writer or close reported an error.
    pub fn reported_error(&self) -> bool {
        self.open_error.is_some() || self.first_error.is_some() || self.close_error.is_some()
    }
}

/// Runs `workload` from an empty log (seqs from 1) on `storage` until it is done or fails.
pub fn run(workload: &Workload, storage: &SimStorage) -> Outcome {
    run_from(workload, storage, 0)
}

/// Runs `workload` on a log whose records `1..=already` exist already (`acked` counts only
/// this run's acknowledgements).
pub fn run_from(workload: &Workload, storage: &SimStorage, already: u64) -> Outcome {
    let wal = match open_collect(Path::new(DIR), workload.options(storage)) {
        Ok((wal, seen)) => {
            assert_eq!(seen.len() as u64, already, "{workload:?}");
            wal
        }
        Err(e) => {
            return Outcome {
                open_error: Some(e.to_string()),
                ..Outcome::default()
            }
        }
    };
    let wal = Arc::new(wal);
    let next = Arc::new(Mutex::new(already));
    let acked = Arc::new(AtomicU64::new(0));
    let failure: Arc<Mutex<Option<(String, u64)>>> = Arc::default();
    let last = already + workload.records;
    let threads: Vec<_> = (0..workload.threads)
        .map(|_| {
            let (wal, next, acked, failure) = (
                Arc::clone(&wal),
                Arc::clone(&next),
                Arc::clone(&acked),
                Arc::clone(&failure),
            );
            let workload = workload.clone();
            thread::spawn(move || {
                let fail = |e: WalError| {
                    let mut failure = failure.lock().unwrap();
                    if failure.is_none() {
                        *failure = Some((e.to_string(), wal.acked()));
                    }
                };
                loop {
                    let seq = {
                        let mut next = next.lock().unwrap();
                        if *next >= last {
                            return;
                        }
                        let seq = *next + 1;
                        if let Err(e) = wal.append(seq, workload.payload(seq)) {
                            fail(e);
                            return;
                        }
                        *next = seq;
                        seq
                    };
                    match wal.wait_acked(seq) {
                        Ok(_) => {
                            // Relaxed: read after the threads are joined.
                            acked.fetch_max(seq, Ordering::Relaxed);
                        }
                        Err(e) => {
                            fail(e);
                            return;
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let failure = failure.lock().unwrap().clone();
    let appended = *next.lock().unwrap();
    let append_after_error = failure.as_ref().map(|_| {
        wal.append(appended + 1, workload.payload(appended + 1))
            .map_err(|e| e.to_string())
    });
    let close_error = wal.close().err().map(|e| e.to_string());
    // Relaxed: the writers are joined.
    Outcome {
        open_error: None,
        appended,
        acked: acked.load(Ordering::Relaxed),
        acked_at_error: failure.as_ref().map_or(0, |f| f.1),
        first_error: failure.map(|f| f.0),
        acked_after_close: wal.acked(),
        append_after_error,
        close_error,
    }
}

/// Opens the log on `storage` (which must work), checks that it holds exactly the records
/// `1..=n` of `workload` for some `n` with `at_least <= n <= at_most`, and returns `n` and
/// the open log.
pub fn check_prefix(
    workload: &Workload,
    storage: &SimStorage,
    at_least: u64,
    at_most: u64,
    ctx: &str,
) -> (u64, Wal) {
    let (wal, seen): (Wal, Records) = open_collect(Path::new(DIR), workload.options(storage))
        .unwrap_or_else(|e| panic!("{ctx}: reopening failed: {e}\n{workload:?}"));
    let n = seen.len() as u64;
    for (i, (seq, payload)) in seen.iter().enumerate() {
        assert_eq!(*seq, i as u64 + 1, "{ctx}: a gap in the recovered seqs");
        assert!(
            *payload == workload.payload(*seq),
            "{ctx}: record {seq} came back with other bytes"
        );
    }
    assert!(
        n >= at_least,
        "{ctx}: recovered {n} records, but {at_least} were acknowledged"
    );
    assert!(
        n <= at_most,
        "{ctx}: recovered {n} records, only {at_most} appended"
    );
    assert_eq!(wal.acked(), n, "{ctx}");
    (n, wal)
}

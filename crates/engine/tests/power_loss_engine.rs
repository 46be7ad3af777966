//! The database under simulated power loss and injected I/O errors, with the write-ahead log
//! on `chronokv_wal::sim::SimStorage` (the format marker and LOCK file are real files in a
//! temporary directory).
//!
//! Every seeded workload commits single puts, deletes, multi-key batches and transfers between
//! accounts whose sum is constant, from 1 to 3 threads, under `Durability::Sync`. After each
//! crash or fault the database is reopened and checked against a model (a BTreeMap of versions):
//! reopening never fails, every commit acknowledged before the crash is there, no batch is
//! partly visible, and the recovered state is exactly the commits with timestamps up to some T:
//! a gap-free prefix of commit order.
//!
//! `CHRONOKV_SEED` replays a run; `CHRONOKV_SCALE=n` runs n times as many workloads (or N values).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{SystemTime, UNIX_EPOCH};

use chronokv_engine::{Database, Durability, Error, HistoryOptions, Op, Options};
use chronokv_wal::sim::{Fault, SimStorage};

const ACCOUNTS: usize = 6;
const TOTAL: i64 = 6_000;

fn seed(test: &str) -> u64 {
    let seed = std::env::var("CHRONOKV_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .expect("clock after 1970")
                .as_nanos() as u64
        });
    eprintln!("{test}: seed {seed} (replay with CHRONOKV_SEED={seed})");
    seed
}

fn scaled(default: u64) -> u64 {
    let scale: u64 = std::env::var("CHRONOKV_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    default * scale.max(1)
}

/// splitmix64.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = mix(self.0);
        self.0 % n.max(1)
    }
}

fn acct(i: usize) -> Vec<u8> {
    format!("acct:{i}").into_bytes()
}

type OwnedOps = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// Every key's versions, oldest first: (timestamp, value or `None` for a delete).
type Versions = BTreeMap<Vec<u8>, Vec<(u64, Option<Vec<u8>>)>>;

/// One seeded workload.
#[derive(Debug, Clone, Copy)]
struct Workload {
    seed: u64,
    threads: u64,
    commits_per_thread: u64,
    /// One commit in this many carries a value of 20-60 KiB (so the log rotates segments).
    big_every: u64,
    /// A tiny memtable (flushes to extents every few commits) and a compaction every few
    /// commits of thread 0: crash points inside flushes, manifest switches and compactions.
    persist: bool,
}

impl Workload {
    fn new(seed: u64, i: u64) -> Self {
        let seed = mix(seed ^ mix(i));
        Workload {
            seed,
            threads: 1 + mix(seed ^ 1) % 3,
            commits_per_thread: 8 + mix(seed ^ 2) % 10,
            big_every: [4, 8, 1_000_000][(mix(seed ^ 3) % 3) as usize],
            persist: false,
        }
    }
}

/// What happened in one run.
#[derive(Debug, Default)]
struct Outcome {
    open_error: Option<String>,
    /// Every commit `write` accepted (its timestamp and operations), in any order.
    written: Vec<(u64, OwnedOps)>,
    /// Timestamps whose `wait_durable` returned Ok.
    acked: Vec<u64>,
    /// The first error a writer saw, and `now()` right then.
    first_error: Option<(String, u64)>,
    now_after: u64,
    /// What one more commit returned after the first error.
    commit_after_error: Option<Result<u64, String>>,
    close_error: Option<String>,
}

fn options(storage: &SimStorage) -> Options {
    Options {
        durability: Durability::Sync,
        storage: Arc::new(storage.clone()),
        ..Options::default()
    }
}

/// Options for a workload: [`options`], with a tiny memtable and small extents when it persists.
fn workload_options(workload: &Workload, storage: &SimStorage) -> Options {
    if workload.persist {
        Options {
            memtable_bytes: 2048,
            extent_bytes: 4096,
            block_bytes: 512,
            ..options(storage)
        }
    } else {
        options(storage)
    }
}

/// The accounts' initial commit, made once by the first run on an empty database.
fn init_ops() -> OwnedOps {
    (0..ACCOUNTS)
        .map(|i| {
            (
                acct(i),
                Some((TOTAL / ACCOUNTS as i64).to_string().into_bytes()),
            )
        })
        .collect()
}

fn as_ops(ops: &OwnedOps) -> Vec<Op<'_>> {
    ops.iter()
        .map(|(key, value)| match value {
            Some(value) => Op::Put { key, value },
            None => Op::Delete { key },
        })
        .collect()
}

/// Runs `workload` on a fresh database in `dir` whose log lives on `storage`.
fn run(workload: &Workload, dir: &Path, storage: &SimStorage) -> Outcome {
    let db = match Database::open_exclusive(dir, &workload_options(workload, storage)) {
        Ok(db) => Arc::new(db),
        Err(e) => {
            return Outcome {
                open_error: Some(e.to_string()),
                ..Outcome::default()
            }
        }
    };
    let written: Arc<Mutex<Vec<(u64, OwnedOps)>>> = Arc::default();
    let acked: Arc<Mutex<Vec<u64>>> = Arc::default();
    let first_error: Arc<Mutex<Option<(String, u64)>>> = Arc::default();
    // Balances, held across each transfer's write so that transfers apply in commit order.
    let balances = Arc::new(Mutex::new(None::<Vec<i64>>));

    let threads: Vec<_> = (0..workload.threads)
        .map(|t| {
            let (db, written, acked, first_error, balances) = (
                Arc::clone(&db),
                Arc::clone(&written),
                Arc::clone(&acked),
                Arc::clone(&first_error),
                Arc::clone(&balances),
            );
            let workload = *workload;
            thread::spawn(move || {
                let mut rng = Rng(mix(workload.seed ^ ((t + 1) * 0x1234_5678)));
                let fail = |e: Error| {
                    let mut first = first_error.lock().unwrap();
                    if first.is_none() {
                        *first = Some((e.to_string(), db.now()));
                    }
                };
                for n in 0..workload.commits_per_thread {
                    // Transfers hold the balances lock over their write: commit order is
                    // the order of balance updates.
                    let mut guard = None;
                    let ops: OwnedOps = match rng.below(10) {
                        _ if t == 0 && n == 0 => {
                            let mut b = balances.lock().unwrap();
                            if b.is_none() {
                                *b = Some(vec![TOTAL / ACCOUNTS as i64; ACCOUNTS]);
                                guard = Some(b);
                                init_ops()
                            } else {
                                continue;
                            }
                        }
                        0..=3 => {
                            let key = format!("k:{}", rng.below(12)).into_bytes();
                            let len = if rng.below(workload.big_every) == 0 {
                                20_000 + rng.below(40_000)
                            } else {
                                rng.below(200)
                            } as usize;
                            let value: Vec<u8> = (0..len)
                                .map(|i| (mix(workload.seed ^ n ^ i as u64) >> 7) as u8)
                                .collect();
                            vec![(key, Some(value))]
                        }
                        4 => vec![(format!("k:{}", rng.below(12)).into_bytes(), None)],
                        5..=7 => {
                            let k = 2 + rng.below(5);
                            (0..k)
                                .map(|j| {
                                    let key = format!("b:{t}.{n}:{j}").into_bytes();
                                    (key, Some(format!("{t}.{n}/{k}").into_bytes()))
                                })
                                .collect()
                        }
                        _ => {
                            let mut b = balances.lock().unwrap();
                            let Some(bal) = b.as_mut() else {
                                continue;
                            };
                            let from = rng.below(ACCOUNTS as u64) as usize;
                            let to =
                                (from + 1 + rng.below(ACCOUNTS as u64 - 1) as usize) % ACCOUNTS;
                            let amount = rng.below(bal[from] as u64 + 1) as i64;
                            bal[from] -= amount;
                            bal[to] += amount;
                            let ops = vec![
                                (acct(from), Some(bal[from].to_string().into_bytes())),
                                (acct(to), Some(bal[to].to_string().into_bytes())),
                            ];
                            guard = Some(b);
                            ops
                        }
                    };
                    let ts = match db.write(&as_ops(&ops)) {
                        Ok(ts) => ts,
                        Err(e) => {
                            fail(e);
                            return;
                        }
                    };
                    written.lock().unwrap().push((ts, ops));
                    drop(guard);
                    match db.wait_durable(ts) {
                        Ok(_) => acked.lock().unwrap().push(ts),
                        Err(e) => {
                            fail(e);
                            return;
                        }
                    }
                    if workload.persist && t == 0 && n % 5 == 4 {
                        if let Err(e) = db.compact() {
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
    let first_error = first_error.lock().unwrap().clone();
    let commit_after_error = first_error.as_ref().map(|_| {
        db.commit(&[Op::Put {
            key: b"after",
            value: b"error",
        }])
        .map_err(|e| e.to_string())
    });
    let now_after = db.now();
    let close_error = db.close().err().map(|e| e.to_string());
    let outcome = Outcome {
        open_error: None,
        written: written.lock().unwrap().clone(),
        acked: acked.lock().unwrap().clone(),
        first_error,
        now_after,
        commit_after_error,
        close_error,
    };
    outcome
}

/// The versions of every key after applying `commits` in timestamp order.
fn model(commits: &[&(u64, OwnedOps)]) -> Versions {
    let mut model = Versions::new();
    for (ts, ops) in commits {
        for (key, value) in ops {
            model
                .entry(key.clone())
                .or_default()
                .push((*ts, value.clone()));
        }
    }
    model
}

/// Reopens the database on `storage` and checks it against `outcome`: returns the recovered
/// watermark. `must_keep` is the highest timestamp that must survive. Then commits once more,
/// closes, reopens, and checks again (nothing from before the crash may reappear).
fn check(dir: &Path, storage: &SimStorage, outcome: &Outcome, must_keep: u64, ctx: &str) -> u64 {
    let db = Database::open_exclusive(dir, &options(storage))
        .unwrap_or_else(|e| panic!("{ctx}: reopening failed: {e}"));
    let now = db.now();
    assert!(
        now >= must_keep,
        "{ctx}: recovered up to {now}, but {must_keep} was acknowledged"
    );
    let mut written: Vec<(u64, OwnedOps)> = outcome.written.clone();
    written.sort_by_key(|(ts, _)| *ts);
    assert!(
        now == 0 || written.iter().any(|(ts, _)| *ts == now),
        "{ctx}: recovered watermark {now} is no commit's timestamp"
    );
    written.retain(|(ts, _)| *ts <= now);
    let all_keys: Vec<Vec<u8>> = model(&outcome.written.iter().collect::<Vec<_>>())
        .into_keys()
        .collect();
    check_state(&db, &written, &all_keys, ctx);

    // Timestamps continue above everything recovered, and life goes on.
    let probe: OwnedOps = vec![(b"probe".to_vec(), Some(b"after recovery".to_vec()))];
    let next = db.commit(&as_ops(&probe)).unwrap();
    assert!(
        next > now && next > must_keep,
        "{ctx}: a commit after recovery got ts {next}, not above {now}"
    );
    db.close().unwrap();
    drop(db);
    written.push((next, probe));
    let db = Database::open_exclusive(dir, &options(storage)).unwrap_or_else(|e| {
        panic!("{ctx}: reopening after recovery and one more commit failed: {e}")
    });
    assert_eq!(db.now(), next, "{ctx}: after recovery and one more commit");
    let mut keys = all_keys;
    keys.push(b"probe".to_vec());
    check_state(
        &db,
        &written,
        &keys,
        &format!("{ctx}, reopened after one more commit"),
    );
    db.close().unwrap();
    now
}

/// Checks that `db` holds exactly the versions of `commits` for each of `keys`, and that the
/// accounts sum to TOTAL at every version.
fn check_state(db: &Database, commits: &[(u64, OwnedOps)], keys: &[Vec<u8>], ctx: &str) {
    let expect = model(&commits.iter().collect::<Vec<_>>());
    for key in keys {
        let mut seen = Vec::new();
        db.history_with(key, HistoryOptions::default(), |ts, value| {
            seen.push((ts, value.map(<[u8]>::to_vec)))
        })
        .unwrap();
        let want = expect.get(key).cloned().unwrap_or_default();
        assert!(
            seen == want,
            "{ctx}: history of {} is {:?}, the prefix of commit order gives {:?}",
            String::from_utf8_lossy(key),
            seen.iter()
                .map(|(ts, v)| (ts, v.as_ref().map(Vec::len)))
                .collect::<Vec<_>>(),
            want.iter()
                .map(|(ts, v)| (ts, v.as_ref().map(Vec::len)))
                .collect::<Vec<_>>(),
        );
    }
    let mut version_ts: Vec<u64> = Vec::new();
    for i in 0..ACCOUNTS {
        db.history_with(&acct(i), HistoryOptions::default(), |ts, _| {
            version_ts.push(ts)
        })
        .unwrap();
    }
    for ts in version_ts {
        let values: Vec<Option<i64>> = (0..ACCOUNTS)
            .map(|i| {
                db.get(&acct(i), Some(ts))
                    .unwrap()
                    .map(|(_, v)| String::from_utf8(v).unwrap().parse().unwrap())
            })
            .collect();
        let sum: Option<i64> = values.iter().copied().sum();
        assert_eq!(sum, Some(TOTAL), "{ctx}: accounts at {ts}: {values:?}");
    }
}

#[test]
fn power_loss_engine_every_sync_point() {
    let seed = seed("power_loss_engine_every_sync_point");
    let root = tempfile::tempdir().unwrap();
    let mut crash_points = 0;
    for i in 0..scaled(50) {
        let workload = Workload::new(seed, i);
        let dir = root.path().join(format!("w{i}"));
        let dry = SimStorage::new(workload.seed);
        let outcome = run(&workload, &dir, &dry);
        assert!(
            outcome.first_error.is_none() && outcome.close_error.is_none(),
            "{workload:?}: {outcome:?}"
        );
        let syncs = dry.syncs();
        for k in 1..=syncs + 1 {
            crash_points += 1;
            let storage = SimStorage::new(mix(workload.seed ^ k));
            storage.set_fault(Fault::CrashAtSync(k));
            let outcome = run(&workload, &dir, &storage);
            let acked = outcome.acked.iter().copied().max().unwrap_or(0);
            let image_seed = mix(workload.seed ^ k ^ 0xDEAD);
            let ctx = format!(
                "seed {seed} workload {i} {workload:?}: power lost at sync {k} of {syncs} (image {image_seed}, {} written, {} acked)",
                outcome.written.len(),
                outcome.acked.len()
            );
            check(
                &dir,
                &storage.crash_image(image_seed),
                &outcome,
                acked,
                &ctx,
            );
        }
    }
    eprintln!("power_loss_engine_every_sync_point: {crash_points} crash points");
}

/// Whether a sync (as `SimStorage::trace` labels it) belongs to the persistent layer: the data
/// file, the manifest, or the database directory (the log syncs its own `wal/` directory).
fn persistent_layer_sync(label: &str, dir: &Path) -> bool {
    label.contains("DATA")
        || label.contains("MANIFEST")
        || label.trim_end_matches(" (power lost)") == format!("sync_dir {}", dir.display())
}

#[test]
fn power_loss_engine_inside_flush_manifest_and_compaction() {
    let seed = seed("power_loss_engine_inside_flush_manifest_and_compaction");
    let root = tempfile::tempdir().unwrap();
    let (mut crash_points, mut persistent) = (0, 0);
    for i in 0..scaled(12) {
        let mut workload = Workload::new(seed, 3000 + i);
        workload.persist = true;
        let dir = root.path().join(format!("w{i}"));
        let dry = SimStorage::new(workload.seed);
        let outcome = run(&workload, &dir, &dry);
        assert!(
            outcome.first_error.is_none() && outcome.close_error.is_none(),
            "{workload:?}: {outcome:?}"
        );
        let syncs = dry.syncs();
        for k in 1..=syncs + 1 {
            let storage = SimStorage::new(mix(workload.seed ^ k));
            storage.set_fault(Fault::CrashAtSync(k));
            let outcome = run(&workload, &dir, &storage);
            let at = storage.trace().last().cloned().unwrap_or_default();
            crash_points += 1;
            if persistent_layer_sync(&at, &std::fs::canonicalize(&dir).unwrap()) {
                persistent += 1;
            }
            let acked = outcome.acked.iter().copied().max().unwrap_or(0);
            let image_seed = mix(workload.seed ^ k ^ 0xBEEF);
            let ctx = format!(
                "seed {seed} workload {i} {workload:?}: power lost at sync {k} of {syncs} ({at}; image {image_seed}, {} written, {} acked)",
                outcome.written.len(),
                outcome.acked.len()
            );
            check(
                &dir,
                &storage.crash_image(image_seed),
                &outcome,
                acked,
                &ctx,
            );
        }
    }
    eprintln!(
        "power_loss_engine_inside_flush_manifest_and_compaction: {crash_points} crash points, {persistent} in the data file, manifest or directory"
    );
    assert!(
        persistent * 10 >= crash_points * 3,
        "seed {seed}: only {persistent} of {crash_points} crash points hit the persistent layer"
    );
}

/// The checks after a run with an injected failure, then reopening twice: as a restarted
/// process finds the files, and after a power loss.
fn check_faulty(dir: &Path, storage: &SimStorage, outcome: &Outcome, ctx: &str) {
    let acked = outcome.acked.iter().copied().max().unwrap_or(0);
    if let Some((e, now_at_error)) = &outcome.first_error {
        assert!(e.contains("simulated"), "{ctx}: unexpected error {e}");
        assert!(
            acked <= *now_at_error,
            "{ctx}: ts {acked} acknowledged after the failure at {now_at_error}"
        );
        assert_eq!(
            outcome.now_after, *now_at_error,
            "{ctx}: the watermark advanced after the failure"
        );
        match &outcome.commit_after_error {
            Some(Err(e)) if e.contains("refuses writes") || e.contains("closed") => {}
            other => panic!("{ctx}: a commit after the failure returned {other:?}"),
        }
    }
    check(
        dir,
        &storage.restart(),
        outcome,
        acked,
        &format!("{ctx}, restarted"),
    );
    check(
        dir,
        &storage.crash_image(mix(acked)),
        outcome,
        acked,
        &format!("{ctx}, after a power loss"),
    );
}

#[test]
fn power_loss_engine_fsync_eio_at_every_sync() {
    let seed = seed("power_loss_engine_fsync_eio_at_every_sync");
    let root = tempfile::tempdir().unwrap();
    let mut failures = 0;
    for i in 0..scaled(4) {
        let mut workload = Workload::new(seed, 1000 + i);
        workload.big_every = 4; // rotate segments
        let dir = root.path().join(format!("w{i}"));
        let dry = SimStorage::new(workload.seed);
        run(&workload, &dir, &dry);
        for k in 1..=dry.syncs() {
            let storage = SimStorage::new(mix(workload.seed ^ k));
            storage.set_fault(Fault::FailSync(k));
            let outcome = run(&workload, &dir, &storage);
            let failed_at = storage
                .trace()
                .get(k as usize - 1)
                .cloned()
                .unwrap_or_default();
            let ctx =
                format!("seed {seed} workload {i} {workload:?}: EIO at sync {k} ({failed_at})");
            if !failed_at.is_empty() {
                failures += 1;
                assert!(
                    outcome.open_error.is_some()
                        || outcome.first_error.is_some()
                        || outcome.close_error.is_some(),
                    "{ctx}: the failure was never reported: {outcome:?}"
                );
            }
            check_faulty(&dir, &storage, &outcome, &ctx);
        }
    }
    eprintln!("power_loss_engine_fsync_eio_at_every_sync: {failures} failed syncs");
}

#[test]
fn power_loss_engine_nth_io_failure() {
    let seed = seed("power_loss_engine_nth_io_failure");
    let root = tempfile::tempdir().unwrap();
    let mut runs = 0;
    for i in 0..scaled(2) {
        let mut workload = Workload::new(seed, 2000 + i);
        workload.big_every = 6;
        let dir = root.path().join(format!("w{i}"));
        let dry = SimStorage::new(workload.seed);
        run(&workload, &dir, &dry);
        for n in 1..=dry.ops() + 1 {
            runs += 1;
            let storage = SimStorage::new(mix(workload.seed ^ n));
            storage.set_fault(Fault::FailOp(n));
            let outcome = run(&workload, &dir, &storage);
            let ctx = format!("seed {seed} workload {i} {workload:?}: EIO at operation {n}");
            check_faulty(&dir, &storage, &outcome, &ctx);
        }
    }
    eprintln!("power_loss_engine_nth_io_failure: {runs} runs");
}

//! Model-based test of the persistent layer: small memtables so data spans many extents,
//! flushes, compactions and reopens at random points, and every query kind (point reads as
//! of random times, range scans forward and backward, histories, rectangles) checked against
//! an in-memory model after each step.
//!
//! `CHRONOKV_SEED` replays a run; `CHRONOKV_SCALE=n` runs n times as many steps.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use chronokv_engine::{
    ChangesCursor, ChangesOptions, Database, Durability, Error, HistoryOptions, Op, Options,
    RangeCursor, RangeOptions, Retention,
};

/// Every key's versions, oldest first.
type Model = BTreeMap<Vec<u8>, Vec<(u64, Option<Vec<u8>>)>>;

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

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn options(retention: Option<Retention>) -> Options {
    Options {
        durability: Durability::None,
        memtable_bytes: 24 * 1024,
        extent_bytes: 8 * 1024,
        block_bytes: 256,
        retention,
        wal_segment_bytes: 64 * 1024,
        ..Options::default()
    }
}

fn key(rng: &mut Rng, keys: u64) -> Vec<u8> {
    format!("key:{:04}", rng.below(keys)).into_bytes()
}

/// The newest version at or before `at` in the model.
fn model_get(model: &Model, key: &[u8], at: u64) -> Option<(u64, Vec<u8>)> {
    let versions = model.get(key)?;
    let (ts, value) = versions.iter().rev().find(|(ts, _)| *ts <= at)?;
    value.as_ref().map(|v| (*ts, v.clone()))
}

fn bound_for(rng: &mut Rng, keys: u64) -> Bound<Vec<u8>> {
    match rng.below(3) {
        0 => Bound::Unbounded,
        1 => Bound::Included(key(rng, keys + 2)),
        _ => Bound::Excluded(key(rng, keys + 2)),
    }
}

fn within(key: &[u8], lower: &Bound<Vec<u8>>, upper: &Bound<Vec<u8>>) -> bool {
    (match lower {
        Bound::Included(lo) => key >= lo.as_slice(),
        Bound::Excluded(lo) => key > lo.as_slice(),
        Bound::Unbounded => true,
    }) && (match upper {
        Bound::Included(hi) => key <= hi.as_slice(),
        Bound::Excluded(hi) => key < hi.as_slice(),
        Bound::Unbounded => true,
    })
}

/// A time to read at: a commit's timestamp, one just before it, or a random one in range.
fn time(rng: &mut Rng, commits: &[u64], horizon: u64) -> u64 {
    let (first, last) = (
        commits.first().copied().unwrap_or(1),
        commits.last().copied().unwrap_or(1),
    );
    let t = match rng.below(3) {
        0 => commits[rng.below(commits.len() as u64) as usize],
        1 => commits[rng.below(commits.len() as u64) as usize].saturating_sub(1),
        _ => first.saturating_sub(10) + rng.below(last - first.saturating_sub(10) + 10),
    };
    t.max(horizon)
}

/// Checks every query kind against the model at random times no older than `horizon`.
fn check_all(
    db: &Arc<Database>,
    model: &Model,
    commits: &[u64],
    rng: &mut Rng,
    keys: u64,
    horizon: u64,
    ctx: &str,
) {
    if commits.is_empty() {
        return;
    }
    for _ in 0..60 {
        let k = key(rng, keys);
        let at = time(rng, commits, horizon);
        let got = db.get(&k, Some(at)).unwrap();
        assert_eq!(
            got,
            model_get(model, &k, at),
            "{ctx}: get {} at {at}",
            String::from_utf8_lossy(&k)
        );
    }
    for _ in 0..8 {
        let (lower, upper) = (bound_for(rng, keys), bound_for(rng, keys));
        let reverse = rng.below(2) == 0;
        let limit = if rng.below(3) == 0 {
            Some(rng.below(30) as usize)
        } else {
            None
        };
        let at = time(rng, commits, horizon);
        let mut want: Vec<(Vec<u8>, u64, Vec<u8>)> = model
            .keys()
            .filter(|k| within(k, &lower, &upper))
            .filter_map(|k| model_get(model, k, at).map(|(ts, v)| (k.clone(), ts, v)))
            .collect();
        if reverse {
            want.reverse();
        }
        want.truncate(limit.unwrap_or(usize::MAX));
        let mut cursor = RangeCursor::new(
            Arc::clone(db),
            RangeOptions {
                lower: lower.clone(),
                upper: upper.clone(),
                reverse,
                limit,
                at: Some(at),
            },
        )
        .unwrap();
        let mut got = Vec::new();
        let batch = 1 + rng.below(40) as usize;
        while cursor
            .next_batch(batch, |k, ts, v| got.push((k.to_vec(), ts, v.to_vec())))
            .unwrap()
            > 0
        {}
        if got != want {
            let missing: Vec<String> = want
                .iter()
                .filter(|w| !got.contains(w))
                .take(5)
                .map(|w| String::from_utf8_lossy(&w.0).into_owned())
                .collect();
            let extra: Vec<String> = got
                .iter()
                .filter(|g| !want.contains(g))
                .take(5)
                .map(|g| String::from_utf8_lossy(&g.0).into_owned())
                .collect();
            panic!("{ctx}: range {lower:?}..{upper:?} reverse {reverse} limit {limit:?} at {at} batch {batch}: got {} entries, want {}; missing {missing:?}, extra {extra:?}; {:?}", got.len(), want.len(), db.stats().unwrap());
        }
    }
    for _ in 0..10 {
        let k = key(rng, keys);
        let since = if rng.below(2) == 0 {
            None
        } else {
            Some(time(rng, commits, 0))
        };
        let until = if rng.below(2) == 0 {
            None
        } else {
            Some(time(rng, commits, 0))
        };
        let reverse = rng.below(2) == 0;
        let mut want: Vec<(u64, Option<Vec<u8>>)> = model
            .get(&k)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|(ts, _)| since.is_none_or(|s| *ts >= s) && until.is_none_or(|u| *ts < u))
            .collect();
        if reverse {
            want.reverse();
        }
        let mut got = Vec::new();
        db.history_with(
            &k,
            HistoryOptions {
                since,
                until,
                reverse,
                limit: None,
            },
            |ts, v| got.push((ts, v.map(<[u8]>::to_vec))),
        )
        .unwrap();
        assert_eq!(
            got,
            want,
            "{ctx}: history of {} since {since:?} until {until:?}",
            String::from_utf8_lossy(&k)
        );
    }
    for _ in 0..6 {
        let lower = match rng.below(2) {
            0 => Bound::Unbounded,
            _ => Bound::Included(key(rng, keys)),
        };
        let upper = match rng.below(2) {
            0 => Bound::Unbounded,
            _ => Bound::Excluded(key(rng, keys + 2)),
        };
        let since = time(rng, commits, 0);
        let until = since + rng.below(commits.last().unwrap() - commits[0] + 10);
        let want: Vec<(Vec<u8>, u64, Option<Vec<u8>>)> = model
            .iter()
            .filter(|(k, _)| within(k, &lower, &upper))
            .flat_map(|(k, vs)| {
                vs.iter()
                    .filter(|(ts, _)| *ts >= since && *ts < until)
                    .map(|(ts, v)| (k.clone(), *ts, v.clone()))
            })
            .collect();
        let mut cursor = ChangesCursor::new(
            Arc::clone(db),
            ChangesOptions {
                lower: lower.clone(),
                upper: upper.clone(),
                since: Some(since),
                until: Some(until),
                limit: None,
            },
        )
        .unwrap();
        let mut got = Vec::new();
        let batch = 1 + rng.below(50) as usize;
        while cursor
            .next_batch(batch, |k, ts, v| {
                got.push((k.to_vec(), ts, v.map(<[u8]>::to_vec)))
            })
            .unwrap()
            > 0
        {}
        assert!(
            got == want,
            "{ctx}: changes {lower:?}..{upper:?} in [{since}, {until}): got {} versions, want {}",
            got.len(),
            want.len()
        );
    }
}

fn open(dir: &Path, retention: Option<Retention>) -> Arc<Database> {
    Arc::new(Database::open_exclusive(dir, &options(retention)).unwrap())
}

/// Writes one random commit; returns its timestamp and records it in the model.
fn write_one(db: &Database, model: &mut Model, rng: &mut Rng, keys: u64, step: u64) -> u64 {
    let n = if rng.below(4) == 0 {
        1 + rng.below(6)
    } else {
        1
    };
    let mut ops: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
    for _ in 0..n {
        let k = key(rng, keys);
        let value = if rng.below(7) == 0 {
            None
        } else {
            let len = if rng.below(20) == 0 {
                200 + rng.below(3000)
            } else {
                rng.below(120)
            };
            Some(
                (0..len)
                    .map(|i| (step as u8).wrapping_mul(31).wrapping_add(i as u8))
                    .collect(),
            )
        };
        ops.insert(k, value);
    }
    let list: Vec<Op<'_>> = ops
        .iter()
        .map(|(k, v)| match v {
            Some(v) => Op::Put { key: k, value: v },
            None => Op::Delete { key: k },
        })
        .collect();
    let ts = db.commit(&list).unwrap();
    for (k, v) in ops {
        model.entry(k).or_default().push((ts, v));
    }
    ts
}

#[test]
fn extents_model_every_query_across_flush_compaction_and_reopen() {
    let seed = seed("extents_model_every_query_across_flush_compaction_and_reopen");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let keys = 150 + rng.below(300);
    let mut db = open(dir.path(), None);
    let mut model = Model::new();
    let mut commits = Vec::new();
    let mut most_extents = 0;
    let steps = scaled(3000);
    for step in 0..steps {
        commits.push(write_one(&db, &mut model, &mut rng, keys, step));
        match rng.below(400) {
            0 => db.flush().unwrap(),
            1 => {
                db.compact().unwrap();
            }
            2 => {
                db.close().unwrap();
                drop(db);
                db = open(dir.path(), None);
                check_all(
                    &db,
                    &model,
                    &commits,
                    &mut rng,
                    keys,
                    0,
                    &format!("seed {seed} step {step} after reopen"),
                );
            }
            3..=12 => check_all(
                &db,
                &model,
                &commits,
                &mut rng,
                keys,
                0,
                &format!("seed {seed} step {step}"),
            ),
            _ => {}
        }
        most_extents = most_extents.max(db.stats().unwrap().extents);
    }
    assert!(
        most_extents >= 5,
        "seed {seed}: the data never spread over several extents ({most_extents})"
    );
    db.flush().unwrap();
    check_all(
        &db,
        &model,
        &commits,
        &mut rng,
        keys,
        0,
        &format!("seed {seed} at the end"),
    );
    // Counters start at each open: after the final flush and reads, both kinds of block count
    // must have moved (the reads went to extents, and their bounds ruled some blocks out).
    let stats = db.stats().unwrap();
    assert!(
        stats.flushes > 0 && stats.blocks_read > 0 && stats.blocks_skipped > 0,
        "seed {seed}: {stats:?}"
    );
    db.compact().unwrap();
    check_all(
        &db,
        &model,
        &commits,
        &mut rng,
        keys,
        0,
        &format!("seed {seed} after a final compaction"),
    );
    db.close().unwrap();
    drop(db);
    let db = open(dir.path(), None);
    check_all(
        &db,
        &model,
        &commits,
        &mut rng,
        keys,
        0,
        &format!("seed {seed} reopened at the end"),
    );
}

/// Bytes the file system has allocated for `file` (holes excluded).
fn disk_usage(file: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(file).map(|m| m.blocks() * 512).unwrap()
}

#[test]
fn retention_collects_old_versions_and_keeps_reads_inside_the_window_exact() {
    let seed = seed("retention_collects_old_versions_and_keeps_reads_inside_the_window_exact");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let keys = 200;
    let mut model = Model::new();
    let mut commits = Vec::new();
    {
        let db = open(dir.path(), None);
        for step in 0..4000 {
            commits.push(write_one(&db, &mut model, &mut rng, keys, step));
        }
        db.compact().unwrap();
        db.close().unwrap();
    }
    let before = disk_usage(&dir.path().join("DATA"));
    // A window that ends at the middle commit: everything before it may go.
    let horizon = commits[commits.len() / 2];
    let max_age_us = commits.last().unwrap() - horizon;
    let db = open(
        dir.path(),
        Some(Retention {
            max_age_us,
            min_versions: 1,
        }),
    );
    // A snapshot pinned inside the window keeps nothing extra; one before it would hold the
    // horizon back (checked below with a second compaction).
    let stats = db.compact_as_of(*commits.last().unwrap()).unwrap();
    assert_eq!(stats.horizon, horizon, "seed {seed}");
    assert!(
        stats.versions_out < stats.versions_in,
        "seed {seed}: nothing was collected: {stats:?}"
    );
    let after = disk_usage(&dir.path().join("DATA"));
    assert!(
        after < before,
        "seed {seed}: disk usage did not fall ({before} -> {after} bytes)"
    );
    let inside: Vec<u64> = commits
        .iter()
        .copied()
        .filter(|ts| *ts >= horizon)
        .collect();
    // Reads inside the window are what they were.
    for _ in 0..500 {
        let k = key(&mut rng, keys);
        let at = inside[rng.below(inside.len() as u64) as usize];
        assert_eq!(
            db.get(&k, Some(at)).unwrap(),
            model_get(&model, &k, at),
            "seed {seed}: get at {at}"
        );
    }
    let mut cursor = RangeCursor::new(
        Arc::clone(&db),
        RangeOptions {
            at: Some(horizon),
            ..RangeOptions::default()
        },
    )
    .unwrap();
    let mut got = Vec::new();
    while cursor
        .next_batch(100, |k, ts, v| got.push((k.to_vec(), ts, v.to_vec())))
        .unwrap()
        > 0
    {}
    let want: Vec<(Vec<u8>, u64, Vec<u8>)> = model
        .keys()
        .filter_map(|k| model_get(&model, k, horizon).map(|(ts, v)| (k.clone(), ts, v)))
        .collect();
    assert!(got == want, "seed {seed}: the range at the horizon changed");
    // Older reads are refused with a clear error, never answered from partial history.
    match db.get(b"key:0001", Some(horizon - 1)) {
        Err(Error::InvalidArgument(msg)) => assert!(msg.contains("retention horizon"), "{msg}"),
        other => panic!("seed {seed}: a read before the horizon returned {other:?}"),
    }
    assert!(db.pin(Some(horizon - 1)).is_err());
    // A pin holds the horizon back.
    let pin = db.pin(Some(inside[inside.len() / 2])).unwrap();
    let held = db.compact_as_of(u64::MAX / 2).unwrap();
    assert_eq!(
        held.horizon,
        pin.ts(),
        "seed {seed}: the horizon passed an open pin"
    );
    drop(pin);
    // And it survives a reopen.
    db.close().unwrap();
    drop(db);
    let db = open(dir.path(), None);
    assert!(db.retention_horizon() >= horizon);
    for _ in 0..200 {
        let k = key(&mut rng, keys);
        let at = inside[rng.below(inside.len() as u64) as usize].max(db.retention_horizon());
        assert_eq!(
            db.get(&k, Some(at)).unwrap(),
            model_get(&model, &k, at),
            "seed {seed}: get at {at} after reopen"
        );
    }
}

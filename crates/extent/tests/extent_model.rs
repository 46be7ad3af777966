//! Every query kind against a model, over extents of many small blocks (so keys span blocks).

mod common;

use std::ops::{Bound, ControlFlow, RangeBounds};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use chronokv_extent::{ExtentReader, ExtentWriter, ReadStats, ScanStep, VersionRef, WriterOptions};
use common::{build, random_model, seed, Model, Row};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

fn newest_at(model: &Model, key: &[u8], at: u64) -> Option<VersionRef> {
    let (ts, value) = model.get(key)?.range(..=at).next_back()?;
    Some(VersionRef {
        ts: *ts,
        value: value.clone(),
    })
}

/// Few keys with long histories and far-apart time ranges: keys span many blocks, and whole
/// blocks hold only versions newer than a given time (so scans skip blocks inside a key's run).
fn spanning_model(seed: u64) -> Model {
    let mut rng = SmallRng::seed_from_u64(seed ^ 0x5a4e);
    let mut model = Model::new();
    for k in 0..40u32 {
        let key = format!("k/{:03}{}", k * 3, "y".repeat((k % 4) as usize)).into_bytes();
        let mut ts = rng.random_range(0..1_000_000u64);
        let versions = if rng.random_bool(0.3) {
            rng.random_range(40..120)
        } else {
            rng.random_range(1..8)
        };
        let history = model.entry(key).or_default();
        for _ in 0..versions {
            ts += rng.random_range(1..10_000);
            let value = (!rng.random_bool(0.15)).then(|| {
                (0..rng.random_range(0..120))
                    .map(|i| (i as u8) ^ (ts as u8))
                    .collect()
            });
            history.insert(ts, value);
        }
    }
    model
}

/// A key near the model's keys: one of them, or just before or after one, or beyond them all.
fn probe_key(rng: &mut SmallRng, keys: &[&Vec<u8>]) -> Vec<u8> {
    let mut key = keys[rng.random_range(0..keys.len())].clone();
    match rng.random_range(0..10) {
        0 => key.push(0),
        1 => {
            key.pop();
        }
        2 => {
            key = if rng.random_bool(0.5) {
                b"".to_vec()
            } else {
                b"\xff".to_vec()
            }
        }
        _ => {}
    }
    key
}

fn bound(rng: &mut SmallRng, keys: &[&Vec<u8>]) -> Bound<Vec<u8>> {
    match rng.random_range(0..5) {
        0 => Bound::Unbounded,
        1 | 2 => Bound::Included(probe_key(rng, keys)),
        _ => Bound::Excluded(probe_key(rng, keys)),
    }
}

fn as_slice(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(k) => Bound::Included(k.as_slice()),
        Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

fn rows(model: &Model) -> Vec<Row> {
    model
        .iter()
        .flat_map(|(k, h)| h.iter().map(move |(ts, v)| (k.clone(), *ts, v.clone())))
        .collect()
}

/// Checks every query kind on `model` built with `options`, with the reader shared by
/// `threads` threads (each thread has its own scratch buffers).
fn check_model(seed: u64, model: &Model, options: WriterOptions) {
    let (bytes, summary) = build(model, options);
    let reader: Arc<ExtentReader<Arc<[u8]>>> =
        Arc::new(ExtentReader::open(Arc::from(bytes)).unwrap());
    if options.block_bytes <= 512 {
        assert!(
            reader.blocks().len() > 20,
            "small blocks: {}",
            reader.blocks().len()
        );
    }
    assert_eq!(
        summary.versions,
        model.values().map(|h| h.len() as u64).sum::<u64>()
    );
    assert_eq!(summary.blocks, reader.blocks().len());

    let stats = ReadStats::default();
    let mut all = Vec::new();
    reader
        .versions(&stats, |k, ts, v| {
            all.push((k.to_vec(), ts, v.map(<[u8]>::to_vec)));
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(all, rows(model), "versions");
    let mut first = Vec::new();
    reader
        .versions(&stats, |k, ts, _| {
            first.push((k.to_vec(), ts));
            if first.len() == 7 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
    assert_eq!(first.len(), 7.min(all.len()));

    std::thread::scope(|scope| {
        for thread in 0..2u64 {
            let reader = &reader;
            let stats = &stats;
            scope.spawn(move || {
                queries(
                    seed ^ thread,
                    model,
                    reader,
                    stats,
                    (summary.ts_min, summary.ts_max),
                )
            });
        }
    });
    assert!(stats.blocks_skipped.load(Ordering::Relaxed) > 0);
}

fn queries(
    seed: u64,
    model: &Model,
    reader: &ExtentReader<Arc<[u8]>>,
    stats: &ReadStats,
    (ts_lo, ts_hi): (u64, u64),
) {
    let mut rng = SmallRng::seed_from_u64(seed ^ 0x5eed);
    let keys: Vec<&Vec<u8>> = model.keys().collect();
    let time = |rng: &mut SmallRng| rng.random_range(ts_lo.saturating_sub(10)..=ts_hi + 10);
    for _ in 0..600 {
        let key = probe_key(&mut rng, &keys);
        let at = time(&mut rng);
        let want = newest_at(model, &key, at);
        let got = reader.get_with(&key, at, stats, |found| {
            found.map(|(ts, v)| VersionRef {
                ts,
                value: v.map(<[u8]>::to_vec),
            })
        });
        assert_eq!(got.unwrap(), want, "get_with {key:?} at {at}");
        assert_eq!(
            reader.get(&key, at, stats).unwrap(),
            want,
            "get {key:?} at {at}"
        );

        let (since, until) = (time(&mut rng), time(&mut rng));
        let mut seen = Vec::new();
        reader
            .history(&key, since, until, stats, |ts, v| {
                seen.push((ts, v.map(<[u8]>::to_vec)))
            })
            .unwrap();
        let want: Vec<_> = model.get(&key).map_or(vec![], |h| {
            h.iter()
                .filter(|(ts, _)| (since..until).contains(*ts))
                .map(|(ts, v)| (*ts, v.clone()))
                .collect()
        });
        assert_eq!(seen, want, "history {key:?} [{since}, {until})");
    }
    for _ in 0..300 {
        let (lower, upper) = (bound(&mut rng, &keys), bound(&mut rng, &keys));
        let reverse = rng.random_bool(0.5);
        let at = time(&mut rng);
        let limit = if rng.random_bool(0.3) {
            usize::MAX
        } else {
            rng.random_range(1..50)
        };
        let mut got = Vec::new();
        reader
            .scan(
                as_slice(&lower),
                as_slice(&upper),
                reverse,
                at,
                stats,
                |k, ts, v| {
                    got.push((k.to_vec(), ts, v.map(<[u8]>::to_vec)));
                    if got.len() == limit {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                },
            )
            .unwrap();
        let in_range = |k: &Vec<u8>| (as_slice(&lower), as_slice(&upper)).contains(k.as_slice());
        let mut want: Vec<Row> = model
            .keys()
            .filter(|k| in_range(k))
            .filter_map(|k| newest_at(model, k, at).map(|v| (k.clone(), v.ts, v.value)))
            .collect();
        if reverse {
            want.reverse();
        }
        want.truncate(limit);
        assert_eq!(
            got, want,
            "scan {lower:?}..{upper:?} reverse {reverse} at {at} limit {limit}"
        );
        check_scan_steps(reader, model, (&lower, &upper), reverse, at, limit, stats);

        let (key_lo, key_hi) = (
            rng.random_bool(0.8).then(|| probe_key(&mut rng, &keys)),
            rng.random_bool(0.8).then(|| probe_key(&mut rng, &keys)),
        );
        let (t0, t1) = (time(&mut rng), time(&mut rng));
        let (t0, t1) = (t0.min(t1), t0.max(t1));
        let limit = if rng.random_bool(0.5) {
            usize::MAX
        } else {
            rng.random_range(1..100)
        };
        let mut rect = Vec::new();
        reader
            .rect(
                key_lo.as_deref(),
                key_hi.as_deref(),
                t0,
                t1,
                stats,
                |k, ts, v| {
                    rect.push((k.to_vec(), ts, v.map(<[u8]>::to_vec)));
                    if rect.len() == limit {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                },
            )
            .unwrap();
        let want: Vec<Row> = rows(model)
            .into_iter()
            .filter(|(k, ts, _)| {
                key_lo.as_ref().is_none_or(|lo| k >= lo)
                    && key_hi.as_ref().is_none_or(|hi| k <= hi)
                    && (t0..=t1).contains(ts)
            })
            .take(limit)
            .collect();
        assert_eq!(
            rect, want,
            "rect [{key_lo:?}, {key_hi:?}] x [{t0}, {t1}] limit {limit}"
        );
    }
}

#[test]
fn extent_model_every_query_kind_matches_the_model() {
    let seed = seed();
    let model = random_model(seed, 300);
    for block_bytes in [256, 4096] {
        for compress in [false, true] {
            check_model(
                seed,
                &model,
                WriterOptions {
                    block_bytes,
                    compress,
                },
            );
        }
    }
}

#[test]
fn extent_model_keys_spanning_many_blocks_match_the_model() {
    let seed = seed();
    let model = spanning_model(seed);
    for compress in [false, true] {
        check_model(
            seed,
            &model,
            WriterOptions {
                block_bytes: 256,
                compress,
            },
        );
    }
}

#[test]
fn extent_model_reads_nest_inside_a_scan_callback() {
    // A caller may read the extent again from inside a callback (the per-thread buffers are
    // then in use, and the inner read gets its own).
    let model = random_model(7, 100);
    let (bytes, _) = build(
        &model,
        WriterOptions {
            block_bytes: 256,
            compress: true,
        },
    );
    let reader = ExtentReader::open(bytes).unwrap();
    let stats = ReadStats::default();
    let mut checked = 0;
    for reverse in [false, true] {
        reader
            .scan(
                Bound::Unbounded,
                Bound::Unbounded,
                reverse,
                u64::MAX,
                &stats,
                |key, ts, value| {
                    let inner = reader.get_with(key, ts, &stats, |found| {
                        found.map(|(ts, v)| (ts, v.map(<[u8]>::to_vec)))
                    });
                    assert_eq!(inner.unwrap(), Some((ts, value.map(<[u8]>::to_vec))));
                    checked += 1;
                    ControlFlow::Continue(())
                },
            )
            .unwrap();
    }
    assert_eq!(checked, 2 * model.len());
}

#[test]
fn extent_model_scans_skip_blocks_out_of_range_or_too_new() {
    let mut writer = ExtentWriter::new(WriterOptions {
        block_bytes: 4096,
        compress: true,
    });
    for k in 0..2_000u32 {
        for v in 0..20u64 {
            writer
                .add(
                    format!("key{k:06}").as_bytes(),
                    1_000_000 + v * 1_000 + u64::from(k),
                    Some(&[7u8; 100]),
                )
                .unwrap();
        }
    }
    let (bytes, _) = writer.finish().unwrap();
    let reader = ExtentReader::open(bytes.as_slice()).unwrap();
    let blocks = reader.blocks().len() as u64;
    for reverse in [false, true] {
        let stats = ReadStats::default();
        let mut keys = 0;
        reader
            .scan(
                Bound::Included(b"key000500"),
                Bound::Excluded(b"key000520"),
                reverse,
                u64::MAX,
                &stats,
                |_, _, _| {
                    keys += 1;
                    ControlFlow::Continue(())
                },
            )
            .unwrap();
        assert_eq!(keys, 20);
        let read = stats.blocks_read.load(Ordering::Relaxed);
        assert!(
            read * 20 <= blocks,
            "reverse {reverse}: read {read} of {blocks} blocks"
        );
        // Before the first commit nothing qualifies and no block needs reading.
        let stats = ReadStats::default();
        reader
            .scan(
                Bound::Unbounded,
                Bound::Unbounded,
                reverse,
                999_999,
                &stats,
                |_, _, _| unreachable!(),
            )
            .unwrap();
        assert_eq!(stats.blocks_read.load(Ordering::Relaxed), 0);
    }
}

#[test]
fn extent_model_rectangle_reads_only_the_blocks_that_can_hold_answers() {
    // 2,000 keys x 20 versions with time increasing across the whole set: a narrow rectangle
    // (1% of keys x 10% of time) must touch a small share of the blocks.
    let mut writer = ExtentWriter::new(WriterOptions {
        block_bytes: 4096,
        compress: true,
    });
    for k in 0..2_000u32 {
        for v in 0..20u64 {
            writer
                .add(
                    format!("key{k:06}").as_bytes(),
                    1_000_000 + v * 1_000 + u64::from(k),
                    Some(&[7u8; 100]),
                )
                .unwrap();
        }
    }
    let (bytes, _) = writer.finish().unwrap();
    let reader = ExtentReader::open(&bytes).unwrap();
    let stats = ReadStats::default();
    let mut found = 0;
    reader
        .rect(
            Some(b"key000500"),
            Some(b"key000519"),
            1_010_000,
            1_011_999,
            &stats,
            |_, _, _| {
                found += 1;
                ControlFlow::Continue(())
            },
        )
        .unwrap();
    assert_eq!(found, 20 * 2, "20 keys x 2 versions in the window");
    let (read, skipped) = (
        stats.blocks_read.load(Ordering::Relaxed),
        stats.blocks_skipped.load(Ordering::Relaxed),
    );
    assert_eq!(read + skipped, reader.blocks().len() as u64);
    assert!(
        read * 20 <= reader.blocks().len() as u64,
        "read {read} of {} blocks",
        reader.blocks().len()
    );
}

#[test]
fn extent_model_refuses_versions_out_of_order() {
    let mut writer = ExtentWriter::new(WriterOptions::default());
    writer.add(b"b", 5, Some(b"v")).unwrap();
    assert!(writer.add(b"b", 5, None).is_err());
    assert!(writer.add(b"a", 9, None).is_err());
    writer.add(b"b", 6, None).unwrap();
    assert!(ExtentWriter::new(WriterOptions::default())
        .finish()
        .is_none());
}

#[test]
fn extent_model_readers_are_send_and_sync() {
    fn shareable<T: Send + Sync>() {}
    shareable::<ExtentReader<Vec<u8>>>();
    shareable::<ExtentReader<Arc<[u8]>>>();
    shareable::<ExtentReader<&'static [u8]>>();
    shareable::<ReadStats>();
}

/// `scan_steps` stopped after `limit` steps (versions and passed keys alike): the versions it
/// gave are exactly the model's answers up to the last step's key, every passed key is in range
/// with nothing at or before `at`, and keys never go back.
fn check_scan_steps<B: AsRef<[u8]>>(
    reader: &ExtentReader<B>,
    model: &Model,
    (lower, upper): (&Bound<Vec<u8>>, &Bound<Vec<u8>>),
    reverse: bool,
    at: u64,
    limit: usize,
    stats: &ReadStats,
) {
    let in_range = |k: &[u8]| (as_slice(lower), as_slice(upper)).contains(k);
    let context =
        format!("scan_steps {lower:?}..{upper:?} reverse {reverse} at {at} limit {limit}");
    let mut versions: Vec<Row> = Vec::new();
    let mut last: Option<Vec<u8>> = None;
    let mut steps = 0;
    reader
        .scan_steps(
            as_slice(lower),
            as_slice(upper),
            reverse,
            at,
            stats,
            |step| {
                let key = match step {
                    ScanStep::Version { key, ts, value } => {
                        versions.push((key.to_vec(), ts, value.map(<[u8]>::to_vec)));
                        key
                    }
                    ScanStep::Passed(key) => {
                        assert!(in_range(key), "{context}: passed {key:?} out of range");
                        // A key whose answer was just given may be passed too ("nothing more").
                        let answered = versions.last().is_some_and(|(k, _, _)| k == key);
                        assert!(
                            answered || newest_at(model, key, at).is_none(),
                            "{context}: passed {key:?}, which has a version at or before {at}"
                        );
                        key
                    }
                };
                if let Some(prev) = &last {
                    let back = if reverse {
                        key > prev.as_slice()
                    } else {
                        key < prev.as_slice()
                    };
                    assert!(!back, "{context}: step {key:?} after {prev:?}");
                }
                last = Some(key.to_vec());
                steps += 1;
                if steps == limit {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            },
        )
        .unwrap();
    let covered = |k: &[u8]| match (&last, steps == limit) {
        (_, false) => true,
        (Some(last), true) if reverse => k >= last.as_slice(),
        (Some(last), true) => k <= last.as_slice(),
        (None, true) => false,
    };
    let mut want: Vec<Row> = model
        .keys()
        .filter(|k| in_range(k) && covered(k))
        .filter_map(|k| newest_at(model, k, at).map(|v| (k.clone(), v.ts, v.value)))
        .collect();
    if reverse {
        want.reverse();
    }
    assert_eq!(versions, want, "{context}");
}

//! Every query kind against a model, over extents of many small blocks.

mod common;

use std::ops::{Bound, ControlFlow};
use std::sync::atomic::Ordering;

use chronokv_extent::{ExtentReader, ExtentWriter, ReadStats, VersionRef, WriterOptions};
use common::{build, random_model, seed, Model};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

fn newest_at(model: &Model, key: &[u8], at: u64) -> Option<VersionRef> {
    let (ts, value) = model.get(key)?.range(..=at).next_back()?;
    Some(VersionRef { ts: *ts, value: value.clone() })
}

#[test]
fn extent_model_every_query_kind_matches_the_model() {
    let seed = seed();
    let model = random_model(seed, 300);
    for compress in [false, true] {
        let (bytes, summary) = build(&model, WriterOptions { block_bytes: 512, compress });
        let reader = ExtentReader::open(&bytes).unwrap();
        assert!(reader.blocks().len() > 20, "small blocks: {}", reader.blocks().len());
        assert_eq!(summary.versions, model.values().map(|h| h.len() as u64).sum::<u64>());
        let stats = ReadStats::default();
        let (ts_lo, ts_hi) = (summary.ts_min, summary.ts_max);
        let mut rng = SmallRng::seed_from_u64(seed ^ 0x5eed);
        let keys: Vec<&Vec<u8>> = model.keys().collect();
        for _ in 0..500 {
            let key = if rng.random_bool(0.9) { keys[rng.random_range(0..keys.len())].clone() } else { b"user/zzzz".to_vec() };
            let at = rng.random_range(ts_lo.saturating_sub(10)..=ts_hi + 10);
            assert_eq!(reader.get(&key, at, &stats).unwrap(), newest_at(&model, &key, at), "get {key:?} at {at}");

            let (since, until) = (rng.random_range(ts_lo..=ts_hi), rng.random_range(ts_lo..=ts_hi + 1));
            let mut seen = Vec::new();
            reader.history(&key, since, until, &stats, |ts, v| seen.push((ts, v.map(<[u8]>::to_vec)))).unwrap();
            let want: Vec<_> = model.get(&key).map_or(vec![], |h| {
                h.iter().filter(|(ts, _)| (since..until).contains(*ts)).map(|(ts, v)| (*ts, v.clone())).collect()
            });
            assert_eq!(seen, want, "history {key:?} [{since}, {until})");
        }
        for _ in 0..100 {
            let mut bounds = [keys[rng.random_range(0..keys.len())].clone(), keys[rng.random_range(0..keys.len())].clone()];
            bounds.sort();
            let at = rng.random_range(ts_lo..=ts_hi);
            let limit = rng.random_range(1..50);
            let mut got = Vec::new();
            reader
                .scan(Bound::Included(&bounds[0]), Bound::Excluded(&bounds[1]), at, &stats, |k, ts, v| {
                    got.push((k.to_vec(), ts, v.map(<[u8]>::to_vec)));
                    if got.len() == limit { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
                })
                .unwrap();
            let want: Vec<_> = model
                .range(bounds[0].clone()..bounds[1].clone())
                .filter_map(|(k, _)| newest_at(&model, k, at).map(|v| (k.clone(), v.ts, v.value)))
                .take(limit)
                .collect();
            assert_eq!(got, want, "scan [{:?}, {:?}) at {at}", bounds[0], bounds[1]);

            let (t0, t1) = (rng.random_range(ts_lo..=ts_hi), rng.random_range(ts_lo..=ts_hi));
            let (t0, t1) = (t0.min(t1), t0.max(t1));
            let mut rect = Vec::new();
            reader.rect(Some(&bounds[0]), Some(&bounds[1]), t0, t1, &stats, |k, ts, v| rect.push((k.to_vec(), ts, v.map(<[u8]>::to_vec)))).unwrap();
            let want: Vec<_> = model
                .range(bounds[0].clone()..=bounds[1].clone())
                .flat_map(|(k, h)| h.range(t0..=t1).map(move |(ts, v)| (k.clone(), *ts, v.clone())))
                .collect();
            assert_eq!(rect, want, "rect [{:?}, {:?}] x [{t0}, {t1}]", bounds[0], bounds[1]);
        }
        assert!(stats.blocks_skipped.load(Ordering::Relaxed) > 0);
    }
}

#[test]
fn extent_model_rectangle_reads_only_the_blocks_that_can_hold_answers() {
    // 2,000 keys x 20 versions with time increasing across the whole set: a narrow rectangle
    // (1% of keys x 10% of time) must touch a small share of the blocks.
    let mut writer = ExtentWriter::new(WriterOptions { block_bytes: 4096, compress: true });
    for k in 0..2_000u32 {
        for v in 0..20u64 {
            writer.add(format!("key{k:06}").as_bytes(), 1_000_000 + v * 1_000 + u64::from(k), Some(&[7u8; 100])).unwrap();
        }
    }
    let (bytes, _) = writer.finish().unwrap();
    let reader = ExtentReader::open(&bytes).unwrap();
    let stats = ReadStats::default();
    let mut found = 0;
    reader
        .rect(Some(b"key000500"), Some(b"key000519"), 1_010_000, 1_011_999, &stats, |_, _, _| found += 1)
        .unwrap();
    assert_eq!(found, 20 * 2, "20 keys x 2 versions in the window");
    let (read, skipped) = (stats.blocks_read.load(Ordering::Relaxed), stats.blocks_skipped.load(Ordering::Relaxed));
    assert_eq!(read + skipped, reader.blocks().len() as u64);
    assert!(read * 20 <= reader.blocks().len() as u64, "read {read} of {} blocks", reader.blocks().len());
}

#[test]
fn extent_model_refuses_versions_out_of_order() {
    let mut writer = ExtentWriter::new(WriterOptions::default());
    writer.add(b"b", 5, Some(b"v")).unwrap();
    assert!(writer.add(b"b", 5, None).is_err());
    assert!(writer.add(b"a", 9, None).is_err());
    writer.add(b"b", 6, None).unwrap();
    assert!(ExtentWriter::new(WriterOptions::default()).finish().is_none());
}

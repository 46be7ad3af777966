//! The interval table under concurrent copy-on-write updates and readers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chronokv_morton::{
    interleave, key_coordinate, Extent, ExtentInfo, IntervalTable, TableSnapshot,
};

fn info(id: u64, key_min: &[u8], key_max: &[u8], ts_min: u64, ts_max: u64) -> Arc<ExtentInfo> {
    Arc::new(ExtentInfo {
        id,
        extent: Extent {
            offset: id * 4096,
            len: 4096,
        },
        z_min: interleave(key_coordinate(key_min), ts_min),
        z_max: interleave(key_coordinate(key_max), ts_max),
        key_min: key_min.into(),
        key_max: key_max.into(),
        ts_min,
        ts_max,
    })
}

#[test]
fn interval_table_prunes_extents_outside_the_query_box() {
    let table = IntervalTable::new(TableSnapshot::new(vec![
        info(1, b"a", b"f", 10, 20),
        info(2, b"g", b"m", 10, 20),
        info(3, b"a", b"z", 30, 40),
    ]));
    let snapshot = table.load();
    let ids = |lo: &[u8], hi: &[u8], t0, t1| -> Vec<u64> {
        let mut ids: Vec<u64> = snapshot
            .overlapping(Some(lo), Some(hi), t0, t1)
            .map(|e| e.id)
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(b"b", b"c", 0, 25), vec![1]);
    assert_eq!(ids(b"h", b"h", 15, 35), vec![2, 3]);
    assert!(ids(b"n", b"o", 21, 29).is_empty());
    assert_eq!(snapshot.overlapping(None, None, 0, u64::MAX).count(), 3);
}

#[test]
fn interval_table_readers_see_whole_snapshots_during_concurrent_updates() {
    let table: Arc<IntervalTable> = Arc::new(IntervalTable::new(TableSnapshot::default()));
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (table, done) = (Arc::clone(&table), Arc::clone(&done));
            std::thread::spawn(move || {
                let mut loads = 0u64;
                while !done.load(Ordering::Relaxed) || loads == 0 {
                    // Update n adds extent n and drops those below n-1 in one swap, so a snapshot
                    // always holds consecutive ids; a torn table would show a gap.
                    let snapshot = table.load();
                    let mut ids: Vec<u64> = snapshot.extents().iter().map(|e| e.id).collect();
                    ids.sort();
                    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "{ids:?}");
                    loads += 1;
                }
                loads
            })
        })
        .collect();
    for n in 1..=2_000u64 {
        table.update(|current| {
            let removed: Vec<u64> = current
                .extents()
                .iter()
                .map(|e| e.id)
                .filter(|&id| id + 1 < n)
                .collect();
            current.with_changes(&[info(n, b"a", b"b", n, n)], &removed)
        });
    }
    done.store(true, Ordering::Relaxed);
    for reader in readers {
        assert!(reader.join().unwrap() > 0);
    }
    let ids: Vec<u64> = table.load().extents().iter().map(|e| e.id).collect();
    assert_eq!(ids, vec![1999, 2000]);
}

//! `backup`: the copy opens as a database with the same history up to `at`, made while the
//! source keeps taking writes.

use std::ops::Bound;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chronokv_engine::{
    ChangesCursor, ChangesOptions, Database, Durability, Error, Op, Options, Progress,
};

fn options() -> Options {
    Options {
        durability: Durability::None,
        block_bytes: 256,
        memtable_bytes: 16 << 10,
        ..Options::default()
    }
}

type Versions = Vec<(Vec<u8>, u64, Option<Vec<u8>>)>;

fn everything(db: &Arc<Database>, until: Option<u64>) -> Versions {
    let mut cursor = ChangesCursor::new(
        Arc::clone(db),
        ChangesOptions {
            lower: Bound::Unbounded,
            until,
            ..ChangesOptions::default()
        },
    )
    .unwrap();
    let mut out = Vec::new();
    while cursor
        .next_batch(100, |k, ts, v| {
            out.push((k.to_vec(), ts, v.map(<[u8]>::to_vec)))
        })
        .unwrap()
        > 0
    {}
    out
}

fn fill(db: &Database, rounds: u32) -> Vec<u64> {
    let mut stamps = Vec::new();
    for round in 0..rounds {
        for i in 0..50u32 {
            let key = format!("key:{i:03}").into_bytes();
            let value = format!("round {round} value {i}").into_bytes();
            let op = if (i + round) % 11 == 0 {
                Op::Delete { key: &key }
            } else {
                Op::Put {
                    key: &key,
                    value: &value,
                }
            };
            stamps.push(db.commit(&[op]).unwrap());
        }
    }
    stamps
}

#[test]
fn backup_copy_has_the_history_up_to_at_while_writes_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Database::open_exclusive(dir.path(), &options()).unwrap());
    let stamps = fill(&db, 6);
    db.flush().unwrap();
    fill(&db, 2);
    let at = stamps[stamps.len() / 2];

    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (db, stop) = (Arc::clone(&db), Arc::clone(&stop));
        std::thread::spawn(move || {
            // ORDERING: Relaxed: a stop flag; the join below orders everything after it.
            while !stop.load(Ordering::Relaxed) {
                fill(&db, 1);
            }
        })
    };
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("copy-at");
    let progress = Progress::new();
    let stats = db.backup(&target, Some(at), &progress).unwrap();
    let now_target = out.path().join("copy-now");
    let now_stats = db.backup(&now_target, None, &Progress::new()).unwrap();
    // ORDERING: Relaxed: see the loop; join() synchronizes with the writer's end.
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();

    assert_eq!(stats.at, at);
    assert!(stats.extents >= 1);
    assert_eq!(progress.done(), stats.versions);
    let expected = everything(&db, Some(at + 1));
    assert_eq!(stats.versions, expected.len() as u64);
    let copy = Arc::new(Database::open_exclusive(&target, &options()).unwrap());
    assert_eq!(copy.now(), at);
    assert_eq!(everything(&copy, None), expected);
    assert_eq!(
        copy.get(b"key:001", Some(at)).unwrap(),
        db.get(b"key:001", Some(at)).unwrap()
    );
    let ts = copy
        .commit(&[Op::Put {
            key: b"new",
            value: b"v",
        }])
        .unwrap();
    assert!(ts > at, "the copy's clock continues above at");
    copy.close().unwrap();

    let copy_now = Arc::new(Database::open_exclusive(&now_target, &options()).unwrap());
    assert_eq!(
        everything(&copy_now, None),
        everything(&db, Some(now_stats.at + 1))
    );
    copy_now.close().unwrap();
    db.close().unwrap();
}

#[test]
fn backup_refuses_a_target_with_a_database_or_other_files() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Database::open_exclusive(dir.path(), &options()).unwrap());
    fill(&db, 1);
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("copy");
    db.backup(&target, None, &Progress::new()).unwrap();
    let again = db.backup(&target, None, &Progress::new());
    assert!(
        matches!(&again, Err(Error::InvalidArgument(m)) if m.contains("already holds")),
        "{again:?}"
    );
    let busy = out.path().join("busy");
    std::fs::create_dir(&busy).unwrap();
    std::fs::write(busy.join("notes.txt"), "mine").unwrap();
    assert!(matches!(
        db.backup(&busy, None, &Progress::new()),
        Err(Error::InvalidArgument(_))
    ));
    assert_eq!(
        std::fs::read_to_string(busy.join("notes.txt")).unwrap(),
        "mine"
    );
    assert!(matches!(
        db.backup(dir.path(), None, &Progress::new()),
        Err(Error::InvalidArgument(_))
    ));
    let empty = out.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    db.backup(&empty, None, &Progress::new()).unwrap();
    db.close().unwrap();
}

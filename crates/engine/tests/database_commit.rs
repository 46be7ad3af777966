//! Commits, timestamps, visibility and reopen of the engine.

use std::ops::Bound;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chronokv_engine::{
    open, Database, Durability, Error, HistoryOptions, Op, Options, RangeCursor, RangeOptions,
};

fn options(durability: Durability) -> Options {
    Options {
        durability,
        ..Options::default()
    }
}

fn value_at(db: &Database, key: &[u8], at: Option<u64>) -> Option<Vec<u8>> {
    db.get(key, at).unwrap().map(|(_, v)| v)
}

#[test]
fn database_commit_reads_every_version_as_of_its_time() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_exclusive(dir.path(), &Options::default()).unwrap();
    let t1 = db
        .commit(&[Op::Put {
            key: b"k",
            value: b"one",
        }])
        .unwrap();
    let t2 = db
        .commit(&[Op::Put {
            key: b"k",
            value: b"two",
        }])
        .unwrap();
    let t3 = db.commit(&[Op::Delete { key: b"k" }]).unwrap();
    assert!(t1 < t2 && t2 < t3);
    assert_eq!(value_at(&db, b"k", Some(t1 - 1)), None);
    assert_eq!(value_at(&db, b"k", Some(t1)).as_deref(), Some(&b"one"[..]));
    assert_eq!(
        value_at(&db, b"k", Some(t3 - 1)).as_deref(),
        Some(&b"two"[..])
    );
    assert_eq!(value_at(&db, b"k", None), None);
    assert_eq!(db.now(), t3);
    let mut seen = Vec::new();
    db.history_with(b"k", HistoryOptions::default(), |ts, v| {
        seen.push((ts, v.map(<[u8]>::to_vec)))
    })
    .unwrap();
    assert_eq!(
        seen,
        vec![
            (t1, Some(b"one".to_vec())),
            (t2, Some(b"two".to_vec())),
            (t3, None)
        ]
    );
}

#[test]
fn database_commit_survives_reopen_in_every_durability_mode() {
    for durability in [Durability::Sync, Durability::Async, Durability::None] {
        let dir = tempfile::tempdir().unwrap();
        let last = {
            let db = Database::open_exclusive(dir.path(), &options(durability)).unwrap();
            let mut last = 0;
            for i in 0..100u32 {
                last = db
                    .commit(&[Op::Put {
                        key: &i.to_be_bytes(),
                        value: &i.to_le_bytes(),
                    }])
                    .unwrap();
            }
            db.close().unwrap();
            last
        };
        let db = Database::open_exclusive(dir.path(), &options(durability)).unwrap();
        assert_eq!(db.now(), last, "{durability:?}");
        for i in 0..100u32 {
            assert_eq!(
                value_at(&db, &i.to_be_bytes(), None),
                Some(i.to_le_bytes().to_vec())
            );
        }
        let next = db
            .commit(&[Op::Put {
                key: b"after",
                value: b"",
            }])
            .unwrap();
        assert!(next > last, "timestamps continue above the recovered ones");
    }
}

#[test]
fn database_commit_batch_shares_one_timestamp_and_last_write_wins() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_exclusive(dir.path(), &Options::default()).unwrap();
    let ts = db
        .commit(&[
            Op::Put {
                key: b"a",
                value: b"1",
            },
            Op::Put {
                key: b"b",
                value: b"2",
            },
            Op::Put {
                key: b"a",
                value: b"3",
            },
            Op::Delete { key: b"b" },
        ])
        .unwrap();
    assert_eq!(db.get(b"a", None).unwrap(), Some((ts, b"3".to_vec())));
    assert_eq!(db.get(b"b", None).unwrap(), None);
    let mut versions = 0;
    db.history_with(b"a", HistoryOptions::default(), |_, _| versions += 1)
        .unwrap();
    assert_eq!(versions, 1, "one version per key per commit");
}

#[test]
fn database_commit_batches_are_never_half_visible_to_concurrent_readers() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Database::open_exclusive(dir.path(), &options(Durability::None)).unwrap());
    let done = Arc::new(AtomicBool::new(false));
    let keys: Vec<[u8; 2]> = (0..8u8).map(|i| [b'k', i]).collect();
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (db, done, keys) = (Arc::clone(&db), Arc::clone(&done), keys.clone());
            std::thread::spawn(move || {
                let mut checks = 0u64;
                while !done.load(Ordering::Relaxed) || checks == 0 {
                    // Every key of a batch carries the batch number: a snapshot sees one number.
                    let at = db.now();
                    let values: Vec<_> = keys.iter().map(|k| value_at(&db, k, Some(at))).collect();
                    assert!(
                        values.windows(2).all(|w| w[0] == w[1]),
                        "torn batch at {at}: {values:?}"
                    );
                    checks += 1;
                }
                checks
            })
        })
        .collect();
    for n in 0..2_000u32 {
        let value = n.to_le_bytes();
        let ops: Vec<Op<'_>> = keys
            .iter()
            .map(|k| Op::Put {
                key: k,
                value: &value,
            })
            .collect();
        let ts = db.write(&ops).unwrap();
        if n % 64 == 0 {
            db.wait_durable(ts).unwrap();
        }
    }
    done.store(true, Ordering::Relaxed);
    for reader in readers {
        assert!(reader.join().unwrap() > 0);
    }
}

#[test]
fn database_commit_rejects_bad_input_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_exclusive(dir.path(), &Options::default()).unwrap();
    let long_key = vec![b'x'; 4097];
    let big_value = vec![0u8; (64 << 20) + 1];
    let bad: [&[Op<'_>]; 3] = [
        &[Op::Put {
            key: b"",
            value: b"v",
        }],
        &[
            Op::Put {
                key: b"ok",
                value: b"v",
            },
            Op::Put {
                key: &long_key,
                value: b"v",
            },
        ],
        &[Op::Put {
            key: b"ok",
            value: &big_value,
        }],
    ];
    for ops in bad {
        assert!(matches!(db.commit(ops), Err(Error::InvalidArgument(_))));
    }
    assert_eq!(db.now(), 0);
    assert_eq!(db.stats().unwrap().versions, 0);
    assert!(matches!(
        db.get(b"ok", Some(1 << 53)),
        Err(Error::InvalidArgument(_))
    ));
    assert!(db
        .commit(&[Op::Put {
            key: &vec![b'x'; 4096],
            value: b"v"
        }])
        .is_ok());
}

#[test]
fn database_commit_refuses_everything_after_close() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_exclusive(dir.path(), &Options::default()).unwrap();
    db.commit(&[Op::Put {
        key: b"k",
        value: b"v",
    }])
    .unwrap();
    db.close().unwrap();
    db.close().unwrap();
    assert!(matches!(
        db.write(&[Op::Put {
            key: b"k",
            value: b"v"
        }]),
        Err(Error::Closed)
    ));
    assert!(matches!(db.get(b"k", None), Err(Error::Closed)));
}

#[test]
fn database_open_second_exclusive_open_is_locked_until_close() {
    let dir = tempfile::tempdir().unwrap();
    let first = Database::open_exclusive(dir.path(), &Options::default()).unwrap();
    assert!(matches!(
        Database::open_exclusive(dir.path(), &Options::default()),
        Err(Error::Locked { .. })
    ));
    first.close().unwrap();
    Database::open_exclusive(dir.path(), &Options::default()).unwrap();
}

#[test]
fn database_open_shares_one_engine_per_directory_in_a_process() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(dir.path(), &Options::default()).unwrap();
    let b = open(&dir.path().join("."), &Options::default()).unwrap();
    let ts = a
        .db()
        .unwrap()
        .commit(&[Op::Put {
            key: b"k",
            value: b"v",
        }])
        .unwrap();
    assert_eq!(
        b.db().unwrap().get(b"k", None).unwrap(),
        Some((ts, b"v".to_vec()))
    );
    a.close().unwrap();
    assert!(matches!(a.db(), Err(Error::Closed)));
    assert!(
        b.db().unwrap().get(b"k", None).unwrap().is_some(),
        "the other handle stays open"
    );
    b.close().unwrap();
    // The last close released the directory lock.
    Database::open_exclusive(dir.path(), &Options::default()).unwrap();
}

#[test]
fn database_open_refuses_a_foreign_directory_and_a_missing_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    assert!(matches!(
        Database::open_exclusive(dir.path(), &Options::default()),
        Err(Error::InvalidArgument(_))
    ));
    let missing = dir.path().join("missing");
    let no_create = Options {
        create_if_missing: false,
        ..Options::default()
    };
    assert!(matches!(
        Database::open_exclusive(&missing, &no_create),
        Err(Error::Io { .. })
    ));
    assert!(!missing.exists());
}

#[test]
fn database_open_read_only_refuses_writes() {
    let dir = tempfile::tempdir().unwrap();
    Database::open_exclusive(dir.path(), &Options::default())
        .unwrap()
        .close()
        .unwrap();
    let ro = Options {
        read_only: true,
        ..Options::default()
    };
    let db = Database::open_exclusive(dir.path(), &ro).unwrap();
    assert!(matches!(
        db.write(&[Op::Put {
            key: b"k",
            value: b"v"
        }]),
        Err(Error::ReadOnly)
    ));
}

#[test]
fn database_range_cursor_resumes_across_batches_in_both_directions() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Database::open_exclusive(dir.path(), &options(Durability::None)).unwrap());
    for i in 0..100u8 {
        db.commit(&[Op::Put {
            key: &[i],
            value: &[i],
        }])
        .unwrap();
    }
    for i in (0..100u8).step_by(3) {
        db.commit(&[Op::Delete { key: &[i] }]).unwrap();
    }
    let expected: Vec<u8> = (10..=90u8).filter(|i| i % 3 != 0).collect();
    for reverse in [false, true] {
        let mut cursor = RangeCursor::new(
            Arc::clone(&db),
            RangeOptions {
                lower: Bound::Included(vec![10]),
                upper: Bound::Included(vec![90]),
                reverse,
                ..RangeOptions::default()
            },
        )
        .unwrap();
        let mut keys = Vec::new();
        while cursor.next_batch(7, |k, _, _| keys.push(k[0])).unwrap() > 0 {}
        let mut want = expected.clone();
        if reverse {
            want.reverse();
        }
        assert_eq!(keys, want, "reverse={reverse}");
    }
    let mut limited = RangeCursor::new(
        Arc::clone(&db),
        RangeOptions {
            limit: Some(5),
            ..RangeOptions::default()
        },
    )
    .unwrap();
    let mut n = 0;
    while limited.next_batch(2, |_, _, _| n += 1).unwrap() > 0 {}
    assert_eq!(n, 5);
}

#[test]
fn database_open_closed_handle_keeps_no_engine_alive() {
    let dir = tempfile::tempdir().unwrap();
    let handle = open(dir.path(), &Options::default()).unwrap();
    handle
        .db()
        .unwrap()
        .commit(&[Op::Put {
            key: b"k",
            value: &[7u8; 4096],
        }])
        .unwrap();
    let engine = Arc::downgrade(&*handle.db().unwrap());
    handle.close().unwrap();
    // The handle object lives on (as a JS object would until garbage collection), but the
    // engine and its memtable are gone.
    assert!(
        engine.upgrade().is_none(),
        "a closed handle must not keep the engine alive"
    );
    assert!(matches!(handle.db(), Err(Error::Closed)));
}

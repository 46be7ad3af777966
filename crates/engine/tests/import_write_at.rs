//! `write_at`: commits at given timestamps, ascending and newer than everything, durable, and
//! the clock continues above them.

use chronokv_engine::{Database, Durability, Error, HistoryOptions, Op, Options};

fn options() -> Options {
    Options {
        durability: Durability::Sync,
        ..Options::default()
    }
}

fn history(db: &Database, key: &[u8]) -> Vec<(u64, Option<Vec<u8>>)> {
    let mut out = Vec::new();
    db.history_with(key, HistoryOptions::default(), |ts, v| {
        out.push((ts, v.map(<[u8]>::to_vec)))
    })
    .unwrap();
    out
}

#[test]
fn import_write_at_keeps_the_given_timestamps_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_exclusive(dir.path(), &options()).unwrap();
    let t = [1_000_000u64, 1_000_005, 2_000_000];
    db.write_at(
        t[0],
        &[
            Op::Put {
                key: b"a",
                value: b"1",
            },
            Op::Put {
                key: b"b",
                value: b"x",
            },
        ],
    )
    .unwrap();
    db.write_at(t[1], &[Op::Delete { key: b"a" }]).unwrap();
    let ts = db
        .write_at(
            t[2],
            &[Op::Put {
                key: b"a",
                value: b"3",
            }],
        )
        .unwrap();
    assert_eq!(ts, t[2]);
    db.wait_durable(ts).unwrap();
    assert_eq!(db.now(), t[2]);
    let expected = vec![
        (t[0], Some(b"1".to_vec())),
        (t[1], None),
        (t[2], Some(b"3".to_vec())),
    ];
    assert_eq!(history(&db, b"a"), expected);
    assert_eq!(history(&db, b"b"), vec![(t[0], Some(b"x".to_vec()))]);
    db.close().unwrap();

    let db = Database::open_exclusive(dir.path(), &options()).unwrap();
    assert_eq!(
        history(&db, b"a"),
        expected,
        "imported versions are durable"
    );
    let next = db
        .commit(&[Op::Put {
            key: b"c",
            value: b"",
        }])
        .unwrap();
    assert!(next > t[2]);
    db.close().unwrap();
}

#[test]
fn import_write_at_refuses_old_or_repeated_timestamps_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_exclusive(dir.path(), &options()).unwrap();
    let now = db
        .commit(&[Op::Put {
            key: b"k",
            value: b"v",
        }])
        .unwrap();
    for ts in [1, now - 1, now] {
        let err = db.write_at(
            ts,
            &[Op::Put {
                key: b"late",
                value: b"v",
            }],
        );
        match err {
            Err(Error::InvalidArgument(message)) => {
                assert!(message.contains(&ts.to_string()), "{message}");
                assert!(message.contains(&now.to_string()), "{message}");
            }
            other => panic!("expected an invalid argument, got {other:?}"),
        }
    }
    assert!(matches!(
        db.write_at(now + 10, &[]),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        db.write_at(
            1 << 60,
            &[Op::Put {
                key: b"k",
                value: b"v"
            }]
        ),
        Err(Error::InvalidArgument(_))
    ));
    assert_eq!(history(&db, b"late"), vec![]);

    let future = now + 60_000_000;
    db.write_at(
        future,
        &[Op::Put {
            key: b"f",
            value: b"v",
        }],
    )
    .unwrap();
    let after = db
        .commit(&[Op::Put {
            key: b"g",
            value: b"v",
        }])
        .unwrap();
    assert_eq!(
        after,
        future + 1,
        "the clock never issues at or below an imported ts"
    );
    db.close().unwrap();
}

//! Commit-time validation of transactions: first committer wins, and serializable read sets.

use std::ops::Bound;

use chronokv_engine::{Database, Durability, Error, Op, Options, Validation};

fn db() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_exclusive(
        dir.path(),
        &Options {
            durability: Durability::None,
            ..Options::default()
        },
    )
    .unwrap();
    (dir, db)
}

fn put<'a>(key: &'a [u8], value: &'a [u8]) -> Op<'a> {
    Op::Put { key, value }
}

#[test]
fn transaction_conflict_first_committer_wins_on_a_written_key() {
    let (_dir, db) = db();
    db.commit(&[put(b"x", b"0")]).unwrap();
    let read_ts = db.now();
    db.commit(&[put(b"x", b"other")]).unwrap();
    let snapshot_only = Validation {
        read_ts,
        ..Validation::default()
    };
    match db.write_transaction(&[put(b"x", b"mine")], &snapshot_only) {
        Err(Error::Conflict { key }) => assert_eq!(key, b"x"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(
        db.get(b"x", None).unwrap().unwrap().1,
        b"other",
        "the loser wrote nothing"
    );
    // Other keys do not conflict.
    let ts = db
        .write_transaction(&[put(b"y", b"mine")], &snapshot_only)
        .unwrap();
    db.wait_durable(ts).unwrap();
    assert_eq!(db.get(b"y", None).unwrap(), Some((ts, b"mine".to_vec())));
}

#[test]
fn transaction_conflict_serializable_read_keys_and_ranges_catch_write_skew_and_phantoms() {
    let (_dir, db) = db();
    db.commit(&[put(b"a", b"1"), put(b"b", b"1")]).unwrap();
    let read_ts = db.now();
    // Another transaction changes b, which ours only read.
    db.commit(&[put(b"b", b"0")]).unwrap();
    let snapshot = Validation {
        read_ts,
        ..Validation::default()
    };
    let serializable = Validation {
        read_ts,
        read_keys: vec![b"a", b"b"],
        ..Validation::default()
    };
    assert!(matches!(
        db.write_transaction(&[put(b"a", b"0")], &serializable),
        Err(Error::Conflict { .. })
    ));
    // Snapshot isolation allows the write skew.
    assert!(db.write_transaction(&[put(b"a", b"0")], &snapshot).is_ok());

    let read_ts = db.now();
    db.commit(&[put(b"m/3", b"new")]).unwrap(); // a phantom in m/..
    let ranged = |lo: &'static [u8], hi: &'static [u8]| Validation {
        read_ts,
        read_ranges: vec![(Bound::Included(lo), Bound::Excluded(hi))],
        ..Validation::default()
    };
    match db.write_transaction(&[put(b"z", b"1")], &ranged(b"m/", b"m0")) {
        Err(Error::Conflict { key }) => assert_eq!(key, b"m/3"),
        other => panic!("expected a phantom conflict, got {other:?}"),
    }
    assert!(db
        .write_transaction(&[put(b"z", b"1")], &ranged(b"n/", b"n0"))
        .is_ok());
}

#[test]
fn transaction_conflict_read_only_transactions_validate_without_writing() {
    let (_dir, db) = db();
    db.commit(&[put(b"k", b"1")]).unwrap();
    let read_ts = db.now();
    let versions = db.stats().unwrap().versions;
    let reads = Validation {
        read_ts,
        read_keys: vec![b"k"],
        ..Validation::default()
    };
    assert_eq!(db.write_transaction(&[], &reads).unwrap(), read_ts);
    db.commit(&[put(b"k", b"2")]).unwrap();
    assert!(matches!(
        db.write_transaction(&[], &reads),
        Err(Error::Conflict { .. })
    ));
    assert_eq!(db.stats().unwrap().versions, versions + 1);
}

#[test]
fn transaction_conflict_rejects_a_read_ts_from_the_future() {
    let (_dir, db) = db();
    let future = Validation {
        read_ts: db.now() + 1_000_000,
        ..Validation::default()
    };
    assert!(matches!(
        db.write_transaction(&[put(b"k", b"v")], &future),
        Err(Error::InvalidArgument(_))
    ));
}

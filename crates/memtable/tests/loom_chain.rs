//! Loom models of the version chain: a fat-node push racing a reader, an intent racing a commit
//! and an abort, an own-read racing the abort that frees its intent, a trim racing a reader, and
//! watermark publication. Versions and nodes carry a loom-tracked cell that readers touch and
//! drops write, so a use of memory the hazard protocol let go fails the model.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2
//! cargo test --release -p chronokv-memtable --test loom_chain`.
#![cfg(loom)]

use std::ops::ControlFlow;
use std::sync::Arc;

use chronokv_hazard::Domain;
use chronokv_memtable::{Chain, Hazards, Watermark, WriteError};
use loom::thread;

/// The version visible at `at`, as (ts, value).
fn read(chain: &Chain, domain: &Domain, at: u64) -> Option<(u64, Vec<u8>)> {
    let mut hazards = Hazards::new(domain);
    chain.read_at(at, &mut hazards, |v| {
        v.map(|v| (v.ts(), v.value().unwrap().to_vec()))
    })
}

/// Every committed timestamp, newest first.
fn timestamps(chain: &Chain, domain: &Domain) -> Vec<u64> {
    let mut hazards = Hazards::new(domain);
    let mut seen = Vec::new();
    chain.for_each::<()>(&mut hazards, |v| {
        assert_eq!(
            v.value(),
            Some(&[v.ts() as u8][..]),
            "a version's value matches its ts"
        );
        seen.push(v.ts());
        ControlFlow::Continue(())
    });
    seen
}

/// A chain holding committed versions `1..=n`, each valued `[ts]`.
fn chain_with(n: u64, domain: &Domain) -> Arc<Chain> {
    let chain = Arc::new(Chain::new());
    let mut hazards = Hazards::new(domain);
    for ts in 1..=n {
        chain.insert(ts, Some(&[ts as u8]), &mut hazards).unwrap();
    }
    chain
}

#[test]
fn chain_push_races_reader_across_a_node_boundary() {
    loom::model(|| {
        let domain = Arc::new(Domain::with_threshold(1));
        // Seven versions: the writer fills slot 7, then opens a new node.
        let chain = chain_with(7, &domain);
        let writer = {
            let (chain, domain) = (Arc::clone(&chain), Arc::clone(&domain));
            thread::spawn(move || {
                let mut hazards = Hazards::new(&domain);
                chain.insert(8, Some(&[8]), &mut hazards).unwrap();
                chain.insert(9, Some(&[9]), &mut hazards).unwrap();
            })
        };
        let newest = read(&chain, &domain, u64::MAX).unwrap();
        assert!((7..=9).contains(&newest.0) && newest.1 == [newest.0 as u8]);
        assert_eq!(read(&chain, &domain, 7), Some((7, vec![7])));
        // A walk sees a gap-free suffix of the history, never a reserved-but-empty slot.
        let seen = timestamps(&chain, &domain);
        assert!(seen.len() >= 7);
        assert!(seen.iter().rev().copied().eq(1..=seen.len() as u64));
        writer.join().unwrap();
        assert_eq!(
            timestamps(&chain, &domain),
            (1..=9).rev().collect::<Vec<_>>()
        );
    });
}

#[test]
fn chain_intent_races_commit_and_abort() {
    loom::model(|| {
        let domain = Arc::new(Domain::with_threshold(1));
        let chain = chain_with(1, &domain);
        // Transaction 1 writes and aborts; transaction 2 writes and commits at 2 if it got the
        // head first or after the abort, and conflicts otherwise.
        let aborter = {
            let (chain, domain) = (Arc::clone(&chain), Arc::clone(&domain));
            thread::spawn(move || {
                let mut hazards = Hazards::new(&domain);
                match chain.put_intent(1, 1, Some(&[101]), &mut hazards, &domain) {
                    Ok(()) => assert!(chain.abort(1, &mut hazards, &domain)),
                    // Transaction 2 holds the head, or already committed after our snapshot.
                    Err(error) => assert!(
                        error == WriteError::Conflict { owner: 2 }
                            || error == WriteError::CommittedAfterSnapshot { ts: 2 },
                        "{error:?}"
                    ),
                }
            })
        };
        let committer = {
            let (chain, domain) = (Arc::clone(&chain), Arc::clone(&domain));
            thread::spawn(move || {
                let mut hazards = Hazards::new(&domain);
                match chain.put_intent(2, 1, Some(&[2]), &mut hazards, &domain) {
                    Ok(()) => {
                        chain.commit(2, 2, &mut hazards).unwrap();
                        true
                    }
                    Err(error) => {
                        assert_eq!(error, WriteError::Conflict { owner: 1 });
                        false
                    }
                }
            })
        };
        // A reader never sees an intent: only the committed versions.
        let seen = read(&chain, &domain, u64::MAX).unwrap();
        assert!(seen == (1, vec![1]) || seen == (2, vec![2]), "saw {seen:?}");
        aborter.join().unwrap();
        let committed = committer.join().unwrap();
        let expected: Vec<u64> = if committed { vec![2, 1] } else { vec![1] };
        assert_eq!(timestamps(&chain, &domain), expected);
        assert_eq!(chain.intent_owner(&mut Hazards::new(&domain)), None);
        assert_eq!(
            domain.reclaim() + domain.retired(),
            0,
            "the aborted intent was freed at once"
        );
    });
}

#[test]
fn chain_own_read_races_the_abort_that_frees_its_intent() {
    loom::model(|| {
        let domain = Arc::new(Domain::with_threshold(1));
        let chain = chain_with(1, &domain);
        chain
            .put_intent(7, 1, Some(&[70]), &mut Hazards::new(&domain), &domain)
            .unwrap();
        // A rollback on another thread frees the intent while the transaction reads it.
        let aborter = {
            let (chain, domain) = (Arc::clone(&chain), Arc::clone(&domain));
            thread::spawn(move || assert!(chain.abort(7, &mut Hazards::new(&domain), &domain)))
        };
        let mut hazards = Hazards::new(&domain);
        let seen = chain.read_own(7, u64::MAX, &mut hazards, |v| {
            let v = v.unwrap();
            (v.txn(), v.value().unwrap().to_vec())
        });
        assert!(
            seen == (Some(7), vec![70]) || seen == (None, vec![1]),
            "saw {seen:?}"
        );
        drop(hazards);
        aborter.join().unwrap();
        domain.reclaim();
        assert_eq!(domain.retired(), 0);
    });
}

#[test]
fn chain_trim_races_a_reader_walking_old_nodes() {
    loom::model(|| {
        let domain = Arc::new(Domain::with_threshold(1));
        // Nodes [1..=8], [9..=16], [17]: trimming at 16 cuts and frees the oldest one.
        let chain = chain_with(17, &domain);
        let trimmer = {
            let (chain, domain) = (Arc::clone(&chain), Arc::clone(&domain));
            thread::spawn(move || {
                let trimmed = chain.trim_before(16, 1, &mut Hazards::new(&domain), &domain);
                assert_eq!(trimmed.versions, 8);
            })
        };
        // The walk reads the node being freed: it sees a gap-free suffix, whole versions.
        let seen = timestamps(&chain, &domain);
        assert!(seen.len() == 17 || seen.len() == 9, "saw {seen:?}");
        assert!(seen.iter().rev().copied().eq(18 - seen.len() as u64..=17));
        let old = read(&chain, &domain, 3);
        assert!(old.is_none() || old == Some((3, vec![3])));
        trimmer.join().unwrap();
        assert_eq!(
            timestamps(&chain, &domain),
            (9..=17).rev().collect::<Vec<_>>()
        );
        domain.reclaim();
        assert_eq!(domain.retired(), 0);
    });
}

#[test]
fn chain_trim_of_two_nodes_races_a_reader_standing_on_the_first() {
    loom::model(|| {
        let domain = Arc::new(Domain::with_threshold(1));
        // Nodes [1..=8], [9..=16], [17..=24], [25]: trimming at 24 cuts [9..=16] and [1..=8].
        // A reader protecting [9..=16] before the cut must not follow its link to [1..=8] once
        // that node may be freed: the trimmer nulls the links of the nodes it retires, so the
        // reader's re-validation fails instead of succeeding against a retired node's link.
        let chain = chain_with(25, &domain);
        let trimmer = {
            let (chain, domain) = (Arc::clone(&chain), Arc::clone(&domain));
            thread::spawn(move || {
                let trimmed = chain.trim_before(24, 1, &mut Hazards::new(&domain), &domain);
                assert_eq!(trimmed.versions, 16);
            })
        };
        let old = read(&chain, &domain, 2);
        assert!(old.is_none() || old == Some((2, vec![2])));
        trimmer.join().unwrap();
        assert_eq!(read(&chain, &domain, 2), None);
        domain.reclaim();
        assert_eq!(domain.retired(), 0);
    });
}

#[test]
fn watermark_publishes_a_transaction_all_at_once() {
    loom::model(|| {
        let domain = Arc::new(Domain::with_threshold(1));
        let (k1, k2) = (chain_with(1, &domain), chain_with(1, &domain));
        let watermark = Arc::new(Watermark::new(1));
        // Transaction 5 writes both keys, stamps both at 2, then publishes 2.
        let writer = {
            let (k1, k2, domain, watermark) = (
                Arc::clone(&k1),
                Arc::clone(&k2),
                Arc::clone(&domain),
                Arc::clone(&watermark),
            );
            thread::spawn(move || {
                let mut hazards = Hazards::new(&domain);
                k1.put_intent(5, 1, Some(&[2]), &mut hazards, &domain)
                    .unwrap();
                k2.put_intent(5, 1, Some(&[2]), &mut hazards, &domain)
                    .unwrap();
                k1.commit(5, 2, &mut hazards).unwrap();
                k2.commit(5, 2, &mut hazards).unwrap();
                watermark.publish(2);
            })
        };
        let at = watermark.load();
        let (a, b) = (
            read(&k1, &domain, at).unwrap(),
            read(&k2, &domain, at).unwrap(),
        );
        assert_eq!(a, b, "a reader at the watermark saw part of a transaction");
        assert_eq!(a.0, at);
        writer.join().unwrap();
    });
}

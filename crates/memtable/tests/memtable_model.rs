//! Randomized single-threaded model test: the memtable against a BTreeMap of versions, over
//! committed inserts, intents (put, overwrite, commit, abort, conflicts), own reads, as-of
//! reads, histories and trims. Prints its seed; `CHRONOKV_MODEL_SEED` replays it.
#![cfg(not(loom))]

use std::collections::{BTreeMap, HashMap};
use std::ops::{Bound, ControlFlow};

use chronokv_memtable::{Memtable, WriteError};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

type Value = Option<Vec<u8>>;

#[derive(Default)]
struct Model {
    /// Committed versions per key, oldest first.
    committed: BTreeMap<Vec<u8>, Vec<(u64, Value)>>,
    /// Uncommitted intents per key: (txn, value).
    intents: HashMap<Vec<u8>, (u64, Value)>,
    /// Per key, the largest trim horizon applied (reads below it may have lost versions).
    floor: HashMap<Vec<u8>, u64>,
    now: u64,
}

impl Model {
    fn visible(&self, key: &[u8], at: u64) -> Option<(u64, Value)> {
        self.committed
            .get(key)?
            .iter()
            .rev()
            .find(|(ts, _)| *ts <= at)
            .cloned()
    }
}

fn random_value(rng: &mut SmallRng) -> Value {
    match rng.random_range(0..10) {
        0 => None,
        1 => Some(vec![rng.random(); rng.random_range(57..200)]),
        _ => Some(vec![rng.random(); rng.random_range(0..57)]),
    }
}

#[test]
fn memtable_model_matches_a_btreemap_of_versions() {
    let seed: u64 = std::env::var("CHRONOKV_MODEL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    println!("memtable_model: seed {seed} (CHRONOKV_MODEL_SEED)");
    let mut rng = SmallRng::seed_from_u64(seed);
    let (m, _token) = Memtable::new();
    let mut model = Model::default();
    let keys: Vec<Vec<u8>> = (0..24u8).map(|k| vec![b'k', k]).collect();
    for _ in 0..40_000 {
        let key = keys[rng.random_range(0..keys.len())].clone();
        let txn = rng.random_range(1..5u64);
        match rng.random_range(0..100) {
            0..=24 => {
                let value = random_value(&mut rng);
                model.now += 1;
                let result = m.insert(&key, model.now, value.as_deref());
                match model.intents.get(&key) {
                    Some(&(owner, _)) => assert_eq!(result, Err(WriteError::Conflict { owner })),
                    None => {
                        result.unwrap();
                        model
                            .committed
                            .entry(key)
                            .or_default()
                            .push((model.now, value));
                    }
                }
            }
            25..=44 => {
                let value = random_value(&mut rng);
                let snapshot = model.now.saturating_sub(rng.random_range(0..3));
                let result = m.put_intent(&key, txn, snapshot, value.as_deref());
                let newest = model
                    .committed
                    .get(&key)
                    .and_then(|v| v.last())
                    .map(|(ts, _)| *ts);
                match model.intents.get(&key) {
                    Some(&(owner, _)) if owner != txn => {
                        assert_eq!(result, Err(WriteError::Conflict { owner }));
                    }
                    Some(_) => {
                        result.unwrap();
                        model.intents.insert(key, (txn, value));
                    }
                    None if newest.is_some_and(|ts| ts > snapshot) => {
                        assert_eq!(
                            result,
                            Err(WriteError::CommittedAfterSnapshot {
                                ts: newest.unwrap()
                            })
                        );
                    }
                    None => {
                        result.unwrap();
                        model.intents.insert(key, (txn, value));
                    }
                }
            }
            45..=54 => {
                // Commit every intent of `txn` at one new timestamp.
                let mine: Vec<Vec<u8>> = model
                    .intents
                    .iter()
                    .filter(|(_, (t, _))| *t == txn)
                    .map(|(k, _)| k.clone())
                    .collect();
                model.now += 1;
                for k in mine {
                    m.commit_intent(&k, txn, model.now).unwrap();
                    let (_, value) = model.intents.remove(&k).unwrap();
                    model
                        .committed
                        .entry(k)
                        .or_default()
                        .push((model.now, value));
                }
                assert_eq!(
                    m.commit_intent(&key, txn, model.now),
                    Err(WriteError::NoIntent)
                );
            }
            55..=61 => {
                let had = model.intents.get(&key).is_some_and(|(t, _)| *t == txn);
                assert_eq!(m.abort_intent(&key, txn), had);
                if had {
                    model.intents.remove(&key);
                }
            }
            62..=64 => {
                let horizon = rng.random_range(0..=model.now);
                let keep_min = rng.random_range(1..4);
                let trimmed = m.trim_key_before(&key, horizon, keep_min);
                let mut history = Vec::new();
                m.history::<()>(&key, |v| {
                    history.push((v.ts(), v.value().map(<[u8]>::to_vec)));
                    ControlFlow::Continue(())
                });
                history.reverse();
                let versions = model.committed.entry(key.clone()).or_default();
                // What remains is a suffix of the history, holding the read at the horizon and
                // at least `keep_min` versions.
                assert_eq!(versions.len() - trimmed, history.len());
                assert_eq!(&versions[trimmed..], &history[..]);
                assert!(history.len() >= keep_min.min(versions.len()));
                if let Some(first) = history.first() {
                    let at_horizon = versions.iter().rev().find(|(ts, _)| *ts <= horizon);
                    assert!(at_horizon.is_none_or(|(ts, _)| *ts >= first.0));
                }
                versions.drain(..trimmed);
                let floor = model.floor.entry(key).or_default();
                *floor = (*floor).max(horizon);
            }
            65..=89 => {
                let floor = model.floor.get(&key).copied().unwrap_or(0);
                let at = rng.random_range(floor..=model.now + 1);
                let got = m.get_at(&key, at, |v| {
                    v.map(|v| (v.ts(), v.value().map(<[u8]>::to_vec)))
                });
                assert_eq!(got, model.visible(&key, at), "get_at({key:?}, {at})");
                let own = m.get_own(&key, txn, at, |v| {
                    v.map(|v| (v.txn(), v.value().map(<[u8]>::to_vec)))
                });
                let expected = match model.intents.get(&key) {
                    Some((t, value)) if *t == txn => Some((Some(txn), value.clone())),
                    _ => model.visible(&key, at).map(|(_, value)| (None, value)),
                };
                assert_eq!(own, expected, "get_own({key:?}, {txn}, {at})");
            }
            _ => {
                let at = model.now;
                let mut got = Vec::new();
                m.scan(
                    Bound::Unbounded,
                    Bound::Unbounded,
                    rng.random_bool(0.5),
                    at,
                    |k, v| {
                        if let Some(v) = v {
                            got.push((k.to_vec(), v.ts()));
                        }
                        ControlFlow::Continue(())
                    },
                );
                got.sort();
                let expected: Vec<(Vec<u8>, u64)> = model
                    .committed
                    .keys()
                    .filter_map(|k| model.visible(k, at).map(|(ts, _)| (k.clone(), ts)))
                    .collect();
                assert_eq!(got, expected);
            }
        }
    }
    let versions: usize = model.committed.values().map(Vec::len).sum();
    assert_eq!(m.stats().versions, versions);
}

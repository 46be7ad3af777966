//! Shared by the extent tests: a model of versions and a seeded generator.

// Compiled into each test binary; not every binary uses every helper.
#![allow(dead_code)]

use std::collections::BTreeMap;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// One version as the tests compare them: key, ts, value (None = tombstone).
pub type Row = (Vec<u8>, u64, Option<Vec<u8>>);

/// key -> (ts -> value or tombstone)
pub type Model = BTreeMap<Vec<u8>, BTreeMap<u64, Option<Vec<u8>>>>;

pub fn seed() -> u64 {
    let seed = std::env::var("CHRONOKV_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("seed={seed} (replay with CHRONOKV_SEED={seed})");
    seed
}

/// Keys with shared prefixes (to exercise prefix compression), some with long histories (to
/// make histories span blocks), values of 0..200 bytes and some tombstones.
pub fn random_model(seed: u64, keys: usize) -> Model {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut model = Model::new();
    for k in 0..keys {
        let key = format!(
            "user/{:04}/{}",
            rng.random_range(0..keys * 4),
            "x".repeat(k % 5)
        )
        .into_bytes();
        let versions = if rng.random_bool(0.1) {
            rng.random_range(20..80)
        } else {
            rng.random_range(1..6)
        };
        let mut ts = 1_795_000_000_000_000u64 + rng.random_range(0..1_000_000);
        let history = model.entry(key).or_default();
        for _ in 0..versions {
            ts += rng.random_range(1..50_000);
            let value = (!rng.random_bool(0.15)).then(|| {
                let len = rng.random_range(0..200);
                (0..len)
                    .map(|i| (i as u8).wrapping_mul(31).wrapping_add(ts as u8))
                    .collect()
            });
            history.insert(ts, value);
        }
    }
    model
}

pub fn build(
    model: &Model,
    options: chronokv_extent::WriterOptions,
) -> (Vec<u8>, chronokv_extent::ExtentSummary) {
    let mut writer = chronokv_extent::ExtentWriter::new(options);
    for (key, history) in model {
        for (ts, value) in history {
            writer.add(key, *ts, value.as_deref()).unwrap();
        }
    }
    writer.finish().unwrap()
}

//! A golden manifest: its bytes are stable, and every truncation and bit flip is an error
//! with an offset inside the file, never a panic.

use chronokv_extent::{Manifest, ManifestExtent};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/manifest-v1.bin");

/// A manifest using every field: free regions, extents with keys of several lengths, a
/// retention horizon, values needing multi-byte varints.
fn golden_manifest() -> Manifest {
    Manifest {
        checkpoint_seq: 1_795_000_000_000_123,
        last_ts: 1_795_000_000_000_456,
        next_extent_id: 4,
        retention_horizon: 1_794_999_000_000_000,
        data_end: 5 * 65_536,
        free: vec![(65_536, 65_536), (196_608, 4_096)],
        extents: (1..=3u64)
            .map(|id| ManifestExtent {
                id,
                offset: [0, 131_072, 262_144][id as usize - 1],
                len: 65_536,
                bytes: 60_000 + id,
                z_min: u128::from(id) << 100,
                z_max: u128::MAX - u128::from(id),
                key_min: format!("user/{id}").into_bytes(),
                key_max: format!("user/{}/{}", id, "z".repeat(id as usize * 40)).into_bytes(),
                ts_min: 1_795_000_000_000_000 + id,
                ts_max: 1_795_000_000_000_100 + id,
                versions: 40_000 * id,
            })
            .collect(),
    }
}

/// Writes the golden file: `cargo test -p chronokv-extent --test manifest_corruption -- --ignored`
/// (only when the format changes on purpose, with FORMAT bumped in manifest.rs).
#[test]
#[ignore = "rewrites the golden manifest"]
fn manifest_corruption_write_golden() {
    std::fs::write(GOLDEN, golden_manifest().encode()).unwrap();
}

#[test]
fn manifest_corruption_golden_file_is_what_the_encoder_produces() {
    let golden = std::fs::read(GOLDEN).expect("the golden manifest is committed");
    assert_eq!(
        golden_manifest().encode(),
        golden,
        "manifest format v1 changed: bump its format and keep reading v1"
    );
    assert_eq!(Manifest::decode(&golden).unwrap(), golden_manifest());
}

#[test]
fn manifest_corruption_every_truncation_fails_with_an_offset() {
    let golden = std::fs::read(GOLDEN).unwrap();
    for len in 0..golden.len() {
        let err =
            Manifest::decode(&golden[..len]).expect_err("a truncated manifest must not decode");
        assert!(
            err.offset <= len as u64,
            "truncated to {len}: error at {} ({})",
            err.offset,
            err.reason
        );
    }
}

#[test]
fn manifest_corruption_every_bit_flip_fails_with_an_offset() {
    let golden = std::fs::read(GOLDEN).unwrap();
    for byte in 0..golden.len() {
        for bit in 0..8 {
            let mut damaged = golden.clone();
            damaged[byte] ^= 1 << bit;
            let err = Manifest::decode(&damaged).expect_err("a flipped bit must not decode");
            assert!(
                err.offset <= golden.len() as u64,
                "flip at {byte}.{bit}: error at {} ({})",
                err.offset,
                err.reason
            );
        }
    }
}

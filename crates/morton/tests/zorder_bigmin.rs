//! BIGMIN and LITMAX against brute force, exhaustively on small domains.

use chronokv_morton::{bigmin, deinterleave, interleave, litmax, ZRect};

/// Coordinates 0..SIDE in each dimension: codes 0..SIDE^2.
const SIDE: u64 = 16;

fn in_rect(z: u128, (k_lo, k_hi, t_lo, t_hi): (u64, u64, u64, u64)) -> bool {
    let (k, t) = deinterleave(z);
    (k_lo..=k_hi).contains(&k) && (t_lo..=t_hi).contains(&t)
}

fn rects() -> impl Iterator<Item = (u64, u64, u64, u64)> {
    (0..SIDE).flat_map(|k_lo| {
        (k_lo..SIDE).flat_map(move |k_hi| {
            (0..SIDE).flat_map(move |t_lo| (t_lo..SIDE).map(move |t_hi| (k_lo, k_hi, t_lo, t_hi)))
        })
    })
}

#[test]
fn zorder_bigmin_matches_brute_force_on_every_rectangle_and_code() {
    let codes = u128::from(SIDE * SIDE);
    let mut checked = 0u64;
    for r in rects() {
        let rect = ZRect::new(r.0, r.1, r.2, r.3).unwrap();
        let members: Vec<u128> = (0..codes).filter(|&z| in_rect(z, r)).collect();
        for z in 0..codes {
            assert_eq!(rect.contains(z), in_rect(z, r), "contains z={z} rect={r:?}");
            let next = members.iter().copied().find(|&m| m >= z);
            assert_eq!(rect.next_at_or_after(z), next, "next z={z} rect={r:?}");
            let prev = members.iter().rev().copied().find(|&m| m <= z);
            assert_eq!(rect.prev_at_or_before(z), prev, "prev z={z} rect={r:?}");
            if !in_rect(z, r) && z > rect.min && z < rect.max {
                // Outside the rectangle but within its code range: the cases BIGMIN/LITMAX solve.
                assert_eq!(
                    bigmin(z, rect.min, rect.max),
                    members.iter().copied().find(|&m| m > z),
                    "bigmin z={z} rect={r:?}"
                );
                assert_eq!(
                    litmax(z, rect.min, rect.max),
                    members.iter().rev().copied().find(|&m| m < z),
                    "litmax z={z} rect={r:?}"
                );
                checked += 1;
            }
        }
    }
    assert!(
        checked > 100_000,
        "only {checked} outside-rectangle cases were checked"
    );
}

#[test]
fn zorder_scan_with_bigmin_visits_exactly_the_rectangle_in_a_large_domain() {
    // Keys near the top of the u64 space and microsecond timestamps: the realistic magnitudes.
    let (k_lo, k_hi) = (u64::MAX - 40, u64::MAX - 3);
    let (t_lo, t_hi) = (1_795_000_000_000_000, 1_795_000_000_000_050);
    let rect = ZRect::new(k_lo, k_hi, t_lo, t_hi).unwrap();
    let mut z = rect.min;
    let mut visited = 0u64;
    while let Some(next) = rect.next_at_or_after(z) {
        let (k, t) = deinterleave(next);
        assert!((k_lo..=k_hi).contains(&k) && (t_lo..=t_hi).contains(&t));
        visited += 1;
        if next == rect.max {
            break;
        }
        z = next + 1;
    }
    assert_eq!(visited, (k_hi - k_lo + 1) * (t_hi - t_lo + 1));
    assert_eq!(interleave(k_lo, t_lo), rect.min);
}

//! Morton-T codes: the bits of a key coordinate and a commit timestamp, interleaved.
//!
//! `z = interleave(k, t)` puts bit `i` of `k` at bit `2i + 1` of `z` and bit `i` of `t` at bit
//! `2i`, so at every level the key bit is the more significant. Versions close in key *and* time
//! get close codes, and a query rectangle `[k_lo, k_hi] x [t_lo, t_hi]` covers the codes between
//! `interleave(k_lo, t_lo)` and `interleave(k_hi, t_hi)` — along with codes outside the
//! rectangle, which [`bigmin`] and [`litmax`] jump over (Tropf & Herzog, 1981).

/// Bits of `z` that belong to the timestamp (even positions).
const TIME_BITS: u128 = 0x5555_5555_5555_5555_5555_5555_5555_5555;
/// Bits of `z` that belong to the key coordinate (odd positions).
const KEY_BITS: u128 = !TIME_BITS;

/// Interleaves a key coordinate and a timestamp into a Morton-T code.
pub fn interleave(key: u64, ts: u64) -> u128 {
    (spread(key) << 1) | spread(ts)
}

/// The key coordinate and timestamp of a Morton-T code.
pub fn deinterleave(z: u128) -> (u64, u64) {
    (compact(z >> 1), compact(z))
}

/// The order-preserving coordinate of a key: its first 8 bytes, big-endian, zero-padded.
/// If `a <= b` in byte order then `key_coordinate(a) <= key_coordinate(b)`; keys sharing their
/// first 8 bytes share a coordinate (the rectangle test then compares the keys themselves).
pub fn key_coordinate(key: &[u8]) -> u64 {
    let mut bytes = [0u8; 8];
    let n = key.len().min(8);
    bytes[..n].copy_from_slice(&key[..n]);
    u64::from_be_bytes(bytes)
}

/// Spreads the 64 bits of `x` to the even bit positions of a u128.
fn spread(x: u64) -> u128 {
    let mut x = u128::from(x);
    x = (x | (x << 32)) & 0x0000_0000_FFFF_FFFF_0000_0000_FFFF_FFFF;
    x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF_0000_FFFF_0000_FFFF;
    x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF_00FF_00FF_00FF_00FF;
    x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F_0F0F_0F0F_0F0F_0F0F;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333_3333_3333_3333_3333;
    x = (x | (x << 1)) & TIME_BITS;
    x
}

/// Gathers the even bit positions of `z` into a u64 (the inverse of [`spread`]).
fn compact(z: u128) -> u64 {
    let mut x = z & TIME_BITS;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333_3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F_0F0F_0F0F_0F0F_0F0F;
    x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF_00FF_00FF_00FF_00FF;
    x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF_0000_FFFF_0000_FFFF;
    x = (x | (x >> 16)) & 0x0000_0000_FFFF_FFFF_0000_0000_FFFF_FFFF;
    x = (x | (x >> 32)) & 0x0000_0000_0000_0000_FFFF_FFFF_FFFF_FFFF;
    x as u64
}

/// A query rectangle in (key coordinate, timestamp) space, both bounds inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZRect {
    /// The smallest code in the rectangle: `interleave(k_lo, t_lo)`.
    pub min: u128,
    /// The largest code in the rectangle: `interleave(k_hi, t_hi)`.
    pub max: u128,
}

impl ZRect {
    /// The rectangle `[k_lo, k_hi] x [t_lo, t_hi]`; `None` when it is empty.
    pub fn new(k_lo: u64, k_hi: u64, t_lo: u64, t_hi: u64) -> Option<ZRect> {
        (k_lo <= k_hi && t_lo <= t_hi).then(|| ZRect {
            min: interleave(k_lo, t_lo),
            max: interleave(k_hi, t_hi),
        })
    }

    /// True when the code's key coordinate and timestamp both lie within the rectangle.
    pub fn contains(&self, z: u128) -> bool {
        let within =
            |mask: u128| (z & mask) >= (self.min & mask) && (z & mask) <= (self.max & mask);
        within(KEY_BITS) && within(TIME_BITS)
    }

    /// The smallest code `>= z` inside the rectangle, if any: `z` itself or [`bigmin`].
    pub fn next_at_or_after(&self, z: u128) -> Option<u128> {
        if z <= self.min {
            Some(self.min)
        } else if z > self.max {
            None
        } else if self.contains(z) {
            Some(z)
        } else {
            bigmin(z, self.min, self.max)
        }
    }

    /// The largest code `<= z` inside the rectangle, if any: `z` itself or [`litmax`].
    pub fn prev_at_or_before(&self, z: u128) -> Option<u128> {
        if z >= self.max {
            Some(self.max)
        } else if z < self.min {
            None
        } else if self.contains(z) {
            Some(z)
        } else {
            litmax(z, self.min, self.max)
        }
    }
}

/// Bits below position `p` that belong to the same dimension as bit `p`.
fn same_dimension_below(p: u32) -> u128 {
    let dimension = if p % 2 == 1 { KEY_BITS } else { TIME_BITS };
    dimension & ((1u128 << p) - 1)
}

/// `value` with bit `p` set and the lower bits of its dimension cleared ("load 1000...").
fn load_ones_then_zeros(value: u128, p: u32) -> u128 {
    (value | (1u128 << p)) & !same_dimension_below(p)
}

/// `value` with bit `p` cleared and the lower bits of its dimension set ("load 0111...").
fn load_zero_then_ones(value: u128, p: u32) -> u128 {
    (value & !(1u128 << p)) | same_dimension_below(p)
}

/// BIGMIN: the smallest code greater than `z` inside the rectangle spanned by `min` and `max`
/// (Tropf & Herzog), or `None` when no code in the rectangle is greater than `z`.
pub fn bigmin(z: u128, mut min: u128, mut max: u128) -> Option<u128> {
    let mut best = None;
    for p in (0..128).rev() {
        let bit = |v: u128| (v >> p) & 1 == 1;
        match (bit(z), bit(min), bit(max)) {
            (false, false, true) => {
                best = Some(load_ones_then_zeros(min, p));
                max = load_zero_then_ones(max, p);
            }
            (false, true, true) => return Some(min),
            (true, false, false) => return best,
            (true, false, true) => min = load_ones_then_zeros(min, p),
            // (false, false, false) and (true, true, true): keep going.
            // (_, true, false) cannot happen while min <= max within each dimension.
            _ => {}
        }
    }
    best
}

/// LITMAX: the largest code smaller than `z` inside the rectangle spanned by `min` and `max`
/// (Tropf & Herzog), or `None` when no code in the rectangle is smaller than `z`.
pub fn litmax(z: u128, mut min: u128, mut max: u128) -> Option<u128> {
    let mut best = None;
    for p in (0..128).rev() {
        let bit = |v: u128| (v >> p) & 1 == 1;
        match (bit(z), bit(min), bit(max)) {
            (false, false, true) => max = load_zero_then_ones(max, p),
            (false, true, true) => return best,
            (true, false, false) => return Some(max),
            (true, false, true) => {
                best = Some(load_zero_then_ones(max, p));
                min = load_ones_then_zeros(min, p);
            }
            _ => {}
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zorder_interleave_round_trips_and_orders_key_bits_first() {
        for (k, t) in [
            (0, 0),
            (1, 0),
            (0, 1),
            (u64::MAX, 0),
            (0, u64::MAX),
            (0xDEAD_BEEF, 42),
        ] {
            assert_eq!(deinterleave(interleave(k, t)), (k, t));
        }
        assert_eq!(interleave(1, 0), 0b10);
        assert_eq!(interleave(0, 1), 0b01);
        assert_eq!(interleave(u64::MAX, u64::MAX), u128::MAX);
    }

    #[test]
    fn zorder_key_coordinate_preserves_byte_order() {
        let keys: [&[u8]; 6] = [b"", b"\x00", b"a", b"ab", b"abcdefgh", b"b"];
        for pair in keys.windows(2) {
            assert!(
                key_coordinate(pair[0]) <= key_coordinate(pair[1]),
                "{pair:?}"
            );
        }
        assert_eq!(key_coordinate(b"abcdefgh"), key_coordinate(b"abcdefghZZZ"));
    }
}

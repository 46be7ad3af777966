//! Fixed-width bit packing of u64 timestamp deltas (the maintained bitpacking crates pack u32
//! lanes only, and microsecond deltas outgrow u32 after 71 minutes).

/// Bits needed for the largest of `values` (0 when all are zero).
pub(crate) fn width_for(values: &[u64]) -> u8 {
    values.iter().fold(0u64, |acc, v| acc | v).checked_ilog2().map_or(0, |b| b as u8 + 1)
}

/// Bytes `count` values of `width` bits take.
pub(crate) fn packed_len(count: usize, width: u8) -> usize {
    (count * width as usize).div_ceil(8)
}

/// Appends `values`, `width` bits each, least significant bit first.
pub(crate) fn pack(values: &[u64], width: u8, out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + packed_len(values.len(), width), 0);
    let bytes = &mut out[start..];
    for (i, &value) in values.iter().enumerate() {
        for bit in 0..width as usize {
            if (value >> bit) & 1 == 1 {
                let at = i * width as usize + bit;
                bytes[at / 8] |= 1 << (at % 8);
            }
        }
    }
}

/// Reads `count` values of `width` bits from `bytes` (which holds at least packed_len bytes).
pub(crate) fn unpack(bytes: &[u8], count: usize, width: u8) -> Vec<u64> {
    (0..count)
        .map(|i| {
            (0..width as usize).fold(0u64, |value, bit| {
                let at = i * width as usize + bit;
                value | (u64::from((bytes[at / 8] >> (at % 8)) & 1) << bit)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitpack_round_trips_every_width() {
        for width in 0..=64u8 {
            let max = if width == 64 { u64::MAX } else { (1u64 << width).wrapping_sub(1) };
            let values: Vec<u64> = (0..37u64).map(|i| if i % 3 == 0 { max } else { i.min(max) }).collect();
            assert_eq!(width_for(&values).max(width), width.max(width_for(&values)));
            let mut out = vec![0xAA];
            pack(&values, width, &mut out);
            assert_eq!(out.len(), 1 + packed_len(values.len(), width));
            assert_eq!(unpack(&out[1..], values.len(), width), values, "width {width}");
        }
        assert_eq!(width_for(&[0, 0]), 0);
        assert_eq!(width_for(&[1, 5]), 3);
        assert_eq!(width_for(&[u64::MAX]), 64);
    }
}

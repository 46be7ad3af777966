//! Fixed-width bit packing of u64 timestamp deltas (the maintained bitpacking crates pack u32
//! lanes only, and microsecond deltas outgrow u32 after 71 minutes).

/// Bits needed for the largest of `values` (0 when all are zero).
pub(crate) fn width_for(values: &[u64]) -> u8 {
    values
        .iter()
        .fold(0u64, |acc, v| acc | v)
        .checked_ilog2()
        .map_or(0, |b| b as u8 + 1)
}

/// Bytes `count` values of `width` bits take.
pub(crate) fn packed_len(count: usize, width: u8) -> usize {
    (count * width as usize).div_ceil(8)
}

/// The largest value `width` bits hold.
pub(crate) fn max_value(width: u8) -> u64 {
    if width >= 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    }
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

/// Value `i` of those packed at `width` bits in `bytes` (which holds at least
/// `packed_len(count, width)` bytes for some `count > i`). Reads are random access so a point
/// read can walk a key's timestamps without unpacking them into a buffer.
pub(crate) fn get(bytes: &[u8], i: usize, width: u8) -> u64 {
    if width == 0 {
        return 0;
    }
    let bit = i * width as usize;
    let (byte, shift) = (bit / 8, bit % 8);
    // A value starts `shift` (< 8) bits into its first byte and spans at most 9 bytes, so 16
    // bytes (zero-padded past the end) always hold it.
    let word = match bytes.get(byte..byte + 16) {
        // A fixed-size load on the common path (a variable-length copy is a memcpy call).
        Some(sixteen) => <[u8; 16]>::try_from(sixteen).expect("16 bytes"),
        None => {
            let mut word = [0u8; 16];
            word[..bytes.len() - byte].copy_from_slice(&bytes[byte..]);
            word
        }
    };
    (u128::from_le_bytes(word) >> shift) as u64 & max_value(width)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitpack_round_trips_every_width() {
        for width in 0..=64u8 {
            let max = max_value(width);
            let values: Vec<u64> = (0..37u64)
                .map(|i| if i % 3 == 0 { max } else { i.min(max) })
                .collect();
            assert_eq!(width_for(&values), width, "width {width}");
            let mut out = vec![0xAA];
            pack(&values, width, &mut out);
            assert_eq!(out.len(), 1 + packed_len(values.len(), width));
            let packed = &out[1..];
            let got: Vec<u64> = (0..values.len()).map(|i| get(packed, i, width)).collect();
            assert_eq!(got, values, "width {width}");
        }
        assert_eq!(width_for(&[0, 0]), 0);
        assert_eq!(width_for(&[1, 5]), 3);
        assert_eq!(width_for(&[u64::MAX]), 64);
    }
}

//! The WAL payload of one commit.
//!
//! ```text
//! commit  := format:u8 (=1) | count:u32 | op{count}
//! op      := kind:u8 (1 = put, 2 = delete) | key_len:u32 | key | [value_len:u32 | value]   (value for puts)
//! ```
//! Integers are little-endian. The commit timestamp is the WAL record's sequence number, so it
//! is not repeated here. The WAL checksums the whole payload; decoding still checks every length
//! so a damaged record can never cause a panic or a huge allocation.

use crate::database::Op;

const FORMAT: u8 = 1;
const PUT: u8 = 1;
const DELETE: u8 = 2;

/// Encodes a commit's operations.
pub(crate) fn encode(ops: &[Op<'_>]) -> Vec<u8> {
    let size = 5 + ops
        .iter()
        .map(|op| match op {
            Op::Put { key, value } => 9 + key.len() + value.len(),
            Op::Delete { key } => 5 + key.len(),
        })
        .sum::<usize>();
    let mut out = Vec::with_capacity(size);
    out.push(FORMAT);
    out.extend_from_slice(&len32(ops.len()).to_le_bytes());
    for op in ops {
        match op {
            Op::Put { key, value } => {
                out.push(PUT);
                put_bytes(&mut out, key);
                put_bytes(&mut out, value);
            }
            Op::Delete { key } => {
                out.push(DELETE);
                put_bytes(&mut out, key);
            }
        }
    }
    out
}

/// Decodes a commit; `Err` names what is malformed.
pub(crate) fn decode(payload: &[u8]) -> Result<Vec<Op<'_>>, String> {
    let mut r = Reader {
        buf: payload,
        pos: 0,
    };
    let format = r.u8()?;
    if format != FORMAT {
        return Err(format!("unknown commit record format {format}"));
    }
    let count = r.u32()? as usize;
    // Each op takes at least 5 bytes: refuse counts the payload cannot hold before allocating.
    if count > payload.len() / 5 {
        return Err(format!(
            "commit record claims {count} operations in {} bytes",
            payload.len()
        ));
    }
    let mut ops = Vec::with_capacity(count);
    for _ in 0..count {
        let op = match r.u8()? {
            PUT => Op::Put {
                key: r.bytes()?,
                value: r.bytes()?,
            },
            DELETE => Op::Delete { key: r.bytes()? },
            kind => return Err(format!("unknown operation kind {kind}")),
        };
        ops.push(op);
    }
    if r.pos != payload.len() {
        return Err(format!(
            "{} trailing bytes after the last operation",
            payload.len() - r.pos
        ));
    }
    Ok(ops)
}

fn len32(len: usize) -> u32 {
    // Keys are at most 4 KiB, values 64 MiB, commits under the WAL's 1 GiB record limit.
    u32::try_from(len).expect("lengths are checked against the limits before encoding")
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&len32(bytes.len()).to_le_bytes());
    out.extend_from_slice(bytes);
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.buf.len())
            .ok_or_else(|| {
                format!(
                    "commit record ends early: needs {n} bytes at offset {}",
                    self.pos
                )
            })?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, String> {
        let bytes = self.take(4)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let len = self.u32()? as usize;
        self.take(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trips_puts_and_deletes() {
        let ops = vec![
            Op::Put {
                key: b"a",
                value: b"1",
            },
            Op::Delete { key: b"b" },
            Op::Put {
                key: b"c",
                value: b"",
            },
        ];
        let payload = encode(&ops);
        assert_eq!(decode(&payload).unwrap(), ops);
    }

    #[test]
    fn record_decode_rejects_every_truncation_without_panicking() {
        let payload = encode(&[
            Op::Put {
                key: b"key",
                value: b"value",
            },
            Op::Delete { key: b"k" },
        ]);
        for cut in 0..payload.len() {
            assert!(decode(&payload[..cut]).is_err(), "cut at {cut} decoded");
        }
    }

    #[test]
    fn record_decode_rejects_a_huge_count() {
        let mut payload = vec![FORMAT];
        payload.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(&payload).unwrap_err().contains("claims"));
    }
}

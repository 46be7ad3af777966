//! Bounds-checked decoding: every read names the offset where the input ran short or went wrong.

use integer_encoding::VarInt;

use crate::FormatError;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Offset of `buf[0]` within the extent, for error messages.
    base: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(buf: &'a [u8], base: usize) -> Self {
        Cursor { buf, pos: 0, base }
    }

    /// The bytes this cursor reads.
    pub(crate) fn buf(&self) -> &'a [u8] {
        self.buf
    }

    pub(crate) fn offset(&self) -> usize {
        self.base + self.pos
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos == self.buf.len()
    }

    pub(crate) fn error(&self, reason: impl Into<String>) -> FormatError {
        FormatError::new(self.offset(), reason)
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], FormatError> {
        let end = self.pos.checked_add(n).filter(|&end| end <= self.buf.len());
        let end =
            end.ok_or_else(|| self.error(format!("needs {n} more bytes; the data ends first")))?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, FormatError> {
        Ok(self.bytes(1)?[0])
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], FormatError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N)?);
        Ok(out)
    }

    pub(crate) fn varint(&mut self) -> Result<u64, FormatError> {
        // Most varints in a block (shared prefix lengths, value tags, counts) fit in one byte.
        if let Some(&byte) = self.buf.get(self.pos) {
            if byte < 0x80 {
                self.pos += 1;
                return Ok(u64::from(byte));
            }
        }
        let (value, used) = u64::decode_var(&self.buf[self.pos..])
            .ok_or_else(|| self.error("malformed or truncated varint"))?;
        self.pos += used;
        Ok(value)
    }

    /// A varint used as a length or count, which must not exceed `max`.
    pub(crate) fn len(&mut self, max: usize) -> Result<usize, FormatError> {
        let at = self.offset();
        let value = self.varint()?;
        usize::try_from(value)
            .ok()
            .filter(|&v| v <= max)
            .ok_or_else(|| FormatError::new(at, format!("length {value} exceeds {max}")))
    }

    pub(crate) fn len_prefixed(&mut self) -> Result<&'a [u8], FormatError> {
        let n = self.len(self.buf.len() - self.pos)?;
        self.bytes(n)
    }
}

pub(crate) fn put_varint(out: &mut Vec<u8>, value: u64) {
    let mut buf = [0u8; 10];
    let n = value.encode_var(&mut buf);
    out.extend_from_slice(&buf[..n]);
}

pub(crate) fn put_len_prefixed(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

//! A version: one value (or tombstone) of a key, with its commit timestamp or its writer's intent.

use crate::sync::{AtomicU64, Liveness, Ordering};

/// Values up to this many bytes live inside the version; larger ones in a separate allocation.
pub const INLINE_VALUE_BYTES: usize = 56;

/// Set in a version's state while it is an uncommitted intent; the low bits hold the txn id.
const INTENT: u64 = 1 << 63;

#[derive(Debug)]
enum Payload {
    Tombstone,
    Inline {
        len: u8,
        bytes: [u8; INLINE_VALUE_BYTES],
    },
    Heap(Box<[u8]>),
}

/// One version of a key: its value (or a tombstone) and either its commit timestamp or, while
/// uncommitted, the id of the transaction that wrote it. The value never changes after
/// creation; the state changes once, from intent to committed, before the version is published
/// as committed.
#[derive(Debug)]
pub struct Version {
    /// The commit timestamp, or `INTENT | txn` for an uncommitted intent.
    state: AtomicU64,
    payload: Payload,
    liveness: Liveness,
}

impl Version {
    fn new(state: u64, value: Option<&[u8]>) -> Version {
        let payload = match value {
            None => Payload::Tombstone,
            Some(value) if value.len() <= INLINE_VALUE_BYTES => {
                let mut bytes = [0; INLINE_VALUE_BYTES];
                bytes[..value.len()].copy_from_slice(value);
                Payload::Inline {
                    len: value.len() as u8,
                    bytes,
                }
            }
            Some(value) => Payload::Heap(Box::from(value)),
        };
        Version {
            state: AtomicU64::new(state),
            payload,
            liveness: Liveness::default(),
        }
    }

    pub(crate) fn committed(ts: u64, value: Option<&[u8]>) -> Version {
        debug_assert!(ts & INTENT == 0, "commit timestamps stay below 2^63");
        Version::new(ts, value)
    }

    pub(crate) fn intent(txn: u64, value: Option<&[u8]>) -> Version {
        Version::new(INTENT | txn, value)
    }

    /// Stamps the commit timestamp into an intent. Called only by the intent's owner while the
    /// version is still unpublished as committed (the chain's tail word publishes it).
    pub(crate) fn stamp(&self, ts: u64) {
        // ORDERING: Relaxed: readers of committed versions reach this one only through the
        // Release store of the node's tail that follows, which orders this store before them.
        self.state.store(ts, Ordering::Relaxed);
    }

    fn state(&self) -> u64 {
        self.liveness.touch();
        // ORDERING: Relaxed: the state was written before the version was published (or, for
        // an intent read by its owner, by this same transaction); the publication ordered it.
        self.state.load(Ordering::Relaxed)
    }

    /// The commit timestamp, or `u64::MAX` while the version is an uncommitted intent (only its
    /// own transaction ever sees it so).
    pub fn ts(&self) -> u64 {
        let state = self.state();
        if state & INTENT != 0 {
            u64::MAX
        } else {
            state
        }
    }

    /// The id of the transaction whose uncommitted intent this is, or `None` once committed.
    pub fn txn(&self) -> Option<u64> {
        let state = self.state();
        (state & INTENT != 0).then_some(state & !INTENT)
    }

    /// The value bytes, or `None` for a tombstone (a delete).
    pub fn value(&self) -> Option<&[u8]> {
        self.liveness.touch();
        match &self.payload {
            Payload::Tombstone => None,
            Payload::Inline { len, bytes } => Some(&bytes[..usize::from(*len)]),
            Payload::Heap(bytes) => Some(bytes),
        }
    }

    /// True when this version records a delete.
    pub fn is_tombstone(&self) -> bool {
        self.value().is_none()
    }

    /// True when the value lives inside the version (tombstones included).
    pub fn is_inline(&self) -> bool {
        !matches!(self.payload, Payload::Heap(_))
    }

    /// Bytes this version accounts for in the memtable budget.
    pub fn footprint(&self) -> usize {
        std::mem::size_of::<Self>()
            + match &self.payload {
                Payload::Heap(bytes) => bytes.len(),
                _ => 0,
            }
    }

    /// The [`Version::footprint`] of a version holding `value`.
    pub fn footprint_of(value: Option<&[u8]>) -> usize {
        std::mem::size_of::<Self>()
            + value
                .filter(|v| v.len() > INLINE_VALUE_BYTES)
                .map_or(0, <[u8]>::len)
    }
}

impl Drop for Version {
    fn drop(&mut self) {
        self.liveness.retire();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn version_inline_up_to_56_bytes_then_heap() {
        let small = Version::committed(7, Some(&[1; INLINE_VALUE_BYTES]));
        assert!(small.is_inline());
        assert_eq!(small.value(), Some(&[1; INLINE_VALUE_BYTES][..]));
        let large = Version::committed(7, Some(&[2; INLINE_VALUE_BYTES + 1]));
        assert!(!large.is_inline());
        assert_eq!(large.value().map(<[u8]>::len), Some(INLINE_VALUE_BYTES + 1));
        let empty = Version::committed(7, Some(b""));
        assert_eq!(empty.value(), Some(&b""[..]));
        assert!(Version::committed(7, None).is_tombstone());
        assert_eq!(std::mem::size_of::<Version>(), 72);
    }

    #[test]
    fn version_intent_becomes_committed_when_stamped() {
        let v = Version::intent(42, Some(b"x"));
        assert_eq!((v.txn(), v.ts()), (Some(42), u64::MAX));
        v.stamp(9);
        assert_eq!((v.txn(), v.ts()), (None, 9));
    }
}

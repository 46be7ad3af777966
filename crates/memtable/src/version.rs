/// One committed version of a key: its commit timestamp and its value, or `None` for a
/// tombstone (a delete). Immutable once published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// Commit timestamp, microseconds since the Unix epoch.
    pub ts: u64,
    /// The value bytes; `None` marks a delete.
    pub value: Option<Box<[u8]>>,
}

impl Version {
    /// Bytes this version accounts for in the memtable budget (payload plus bookkeeping).
    pub fn footprint(&self) -> usize {
        std::mem::size_of::<Self>() + self.value.as_ref().map_or(0, |v| v.len())
    }

    /// True when this version records a delete.
    pub fn is_tombstone(&self) -> bool {
        self.value.is_none()
    }
}

//! [`Mapped`]: the bytes of a region of a data file, as [`Storage::map`](crate::Storage::map)
//! returns them: either a read-only memory map (the real file system) or a copy read into
//! memory (the default, used by test backends such as [`crate::sim::SimStorage`]).

use std::fmt;
use std::fs::File;
use std::io;
use std::ops::Deref;

/// A read-only region of a file. Derefs to its bytes; cheap to share between threads.
pub struct Mapped(Repr);

enum Repr {
    /// Read into memory.
    Owned(Box<[u8]>),
    /// A memory map of exactly the region.
    Map(memmap2::Mmap),
}

// Extents are read from any thread of the engine.
const _: fn() = || {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Mapped>();
};

impl Mapped {
    /// Whether the bytes are a memory map of the file (not a copy in memory).
    pub fn is_mapped(&self) -> bool {
        matches!(self.0, Repr::Map(_))
    }
}

impl From<Vec<u8>> for Mapped {
    /// A region read into memory (for backends that cannot map).
    fn from(bytes: Vec<u8>) -> Self {
        Mapped(Repr::Owned(bytes.into_boxed_slice()))
    }
}

impl From<Box<[u8]>> for Mapped {
    fn from(bytes: Box<[u8]>) -> Self {
        Mapped(Repr::Owned(bytes))
    }
}

impl Deref for Mapped {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match &self.0 {
            Repr::Owned(bytes) => bytes,
            Repr::Map(map) => map,
        }
    }
}

impl AsRef<[u8]> for Mapped {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl fmt::Debug for Mapped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mapped")
            .field("len", &self.len())
            .field("mapped", &self.is_mapped())
            .finish()
    }
}

/// Maps `len` bytes of `file` from `offset`, read-only. The caller has checked that the file
/// is at least `offset + len` bytes long and that `len` is not zero.
///
/// `offset` need not be page aligned: memmap2 maps from the page boundary below it and points
/// the slice at `offset` (its `MmapInner::new` rounds down and adds the difference to both the
/// pointer and the mapped length).
#[allow(unsafe_code)]
pub(crate) fn map_file(file: &File, offset: u64, len: usize) -> io::Result<Mapped> {
    debug_assert!(
        len > 0,
        "mmap of zero bytes fails; the caller returns an empty copy"
    );
    // SAFETY: a map is only unsound if the mapped bytes change (or vanish) while it is alive.
    // The engine writes a data-file region once, syncs it, and only then maps it; it never
    // writes into a region while a map of it may be alive (a freed region is reused only after
    // every reader of its extent is gone), and it never shrinks the data file. The caller
    // checked the file's length against `offset + len` just before, so no byte of the map lies
    // past the end of the file (an access there would raise SIGBUS).
    let map = unsafe {
        memmap2::MmapOptions::new()
            .offset(offset)
            .len(len)
            .map(file)?
    };
    Ok(Mapped(Repr::Map(map)))
}

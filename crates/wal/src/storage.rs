//! The file-system backend: two small traits and their `std::fs` implementation.
//!
//! The log touches files only through these traits so that tests can inject faults (a failing
//! `fdatasync`, a short write) or simulate a power loss (see [`crate::sim`]) without touching the
//! real disk. The engine writes its data file through them too, for the same reason, and reads
//! it back through [`Storage::map`].

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::Path;

use crate::mapped::{map_file, Mapped};

/// One open segment file. Reads and writes are positional.
pub trait LogFile: Send + fmt::Debug {
    /// Fills `buf` from the bytes at `offset`; fails if the file ends first.
    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
    /// Writes all of `buf` at `offset`, extending the file if it ends before `offset + len`.
    /// Not durable until [`LogFile::sync_data`].
    fn write_all_at(&mut self, offset: u64, buf: &[u8]) -> io::Result<()>;
    /// Makes the file's data, and the size needed to read it, durable: `fdatasync`.
    fn sync_data(&mut self) -> io::Result<()>;
    /// The file's current length in bytes.
    fn len(&self) -> io::Result<u64>;
    /// Whether the file is empty.
    fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }
}

/// Opens, creates, renames, removes and lists files in a directory.
///
/// Nothing here syncs implicitly (except [`Storage::create_dir_all`]): the log calls
/// [`LogFile::sync_data`] and [`Storage::sync_dir`] where its protocol needs them, so a test
/// backend sees every sync point.
pub trait Storage: Send + Sync + fmt::Debug {
    /// Creates `dir` (and missing parents) if it does not exist, durably: a directory that was
    /// created is synced into its parent. Does nothing if it exists.
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
    /// The names of the entries in `dir` (names only, any order).
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;
    /// Opens an existing file for reading and writing.
    fn open(&self, path: &Path) -> io::Result<Box<dyn LogFile>>;
    /// Creates a new, empty file, failing if it exists. Neither the file nor its directory entry
    /// is synced.
    fn create(&self, path: &Path) -> io::Result<Box<dyn LogFile>>;
    /// Renames `from` to `to` (same directory), replacing `to` if it exists. Not durable until
    /// [`Storage::sync_dir`].
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Removes a file. Not durable until [`Storage::sync_dir`].
    fn remove(&self, path: &Path) -> io::Result<()>;
    /// Makes the directory's entries (created, removed, renamed files) durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;

    /// The `len` bytes of the file at `path` from `offset`, read-only. Fails with
    /// [`io::ErrorKind::UnexpectedEof`] if the file ends before `offset + len`.
    ///
    /// The region must not be written while the result is alive (a memory map would show the
    /// change, or worse). The default opens the file through [`Storage::open`] and reads the
    /// region into memory; [`FsStorage`] maps it.
    fn map(&self, path: &Path, offset: u64, len: u64) -> io::Result<Mapped> {
        let mut file = self.open(path)?;
        check_region(file.len()?, offset, len)?;
        let mut bytes = vec![0u8; region_len(len)?];
        file.read_exact_at(offset, &mut bytes)?;
        Ok(Mapped::from(bytes))
    }

    /// Gives the disk space of `len` bytes from `offset` back to the file system without
    /// changing the file's length, where the file system can (compaction frees extents this
    /// way). What a read of the region returns afterwards is unspecified (zeros on Linux, the
    /// old bytes where nothing was done), and a power loss before the next
    /// [`LogFile::sync_data`] may undo it. The default does nothing.
    fn punch_hole(&self, path: &Path, offset: u64, len: u64) -> io::Result<()> {
        let _ = (path, offset, len);
        Ok(())
    }
}

/// Fails with `UnexpectedEof` unless a file of `file_len` bytes holds `offset..offset + len`.
fn check_region(file_len: u64, offset: u64, len: u64) -> io::Result<()> {
    match offset.checked_add(len) {
        Some(end) if end <= file_len => Ok(()),
        _ => Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("region {offset}+{len} lies past the end of the file ({file_len} bytes)"),
        )),
    }
}

/// `len` as a buffer length.
fn region_len(len: u64) -> io::Result<usize> {
    usize::try_from(len).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("a region of {len} bytes does not fit in memory"),
        )
    })
}

/// The real file system through `std::fs`.
#[derive(Debug, Clone, Copy, Default)]
pub struct FsStorage;

impl Storage for FsStorage {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        if dir.is_dir() {
            return Ok(());
        }
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            self.create_dir_all(parent)?;
        }
        match fs::create_dir(dir) {
            Ok(()) => {}
            // Lost a race with another creator: fine, it is there now.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => return Ok(()),
            Err(e) => return Err(e),
        }
        self.sync_dir(dir)?;
        match dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(parent) => self.sync_dir(parent),
            None => self.sync_dir(Path::new(".")),
        }
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(dir)? {
            if let Ok(name) = entry?.file_name().into_string() {
                names.push(name);
            }
        }
        Ok(names)
    }

    fn open(&self, path: &Path) -> io::Result<Box<dyn LogFile>> {
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        Ok(Box::new(FsLogFile::new(file)?))
    }

    fn create(&self, path: &Path) -> io::Result<Box<dyn LogFile>> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)?;
        Ok(Box::new(FsLogFile::new(file)?))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }

    #[cfg(unix)]
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }

    #[cfg(not(unix))]
    fn sync_dir(&self, _dir: &Path) -> io::Result<()> {
        // Directories cannot be opened as files here; NTFS journals directory entries itself.
        Ok(())
    }

    /// A read-only memory map of exactly the region (any offset: see `map_file`).
    fn map(&self, path: &Path, offset: u64, len: u64) -> io::Result<Mapped> {
        let file = File::open(path)?;
        // Checked before mapping: touching a mapped page past the end of the file raises
        // SIGBUS, which would kill the process instead of reporting a truncated file.
        check_region(file.metadata()?.len(), offset, len)?;
        let len = region_len(len)?;
        if len == 0 {
            // mmap refuses empty maps.
            return Ok(Mapped::from(Vec::new()));
        }
        map_file(&file, offset, len)
    }

    #[cfg(target_os = "linux")]
    fn punch_hole(&self, path: &Path, offset: u64, len: u64) -> io::Result<()> {
        use rustix::fs::{fallocate, FallocateFlags};
        use rustix::io::Errno;

        if len == 0 {
            // fallocate rejects an empty range with EINVAL; there is nothing to free.
            return Ok(());
        }
        let file = OpenOptions::new().write(true).open(path)?;
        match fallocate(
            &file,
            FallocateFlags::PUNCH_HOLE | FallocateFlags::KEEP_SIZE,
            offset,
            len,
        ) {
            Ok(()) => Ok(()),
            // The file system cannot punch holes: the space stays allocated, which only costs
            // disk space until the region is reused.
            Err(e) if e == Errno::OPNOTSUPP || e == Errno::NOSYS => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// A segment file on the real file system. Tracks the length itself: the log is the only
/// writer.
#[derive(Debug)]
struct FsLogFile {
    file: File,
    len: u64,
}

impl FsLogFile {
    fn new(file: File) -> io::Result<Self> {
        let len = file.metadata()?.len();
        Ok(FsLogFile { file, len })
    }
}

impl LogFile for FsLogFile {
    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        positional::read_exact_at(&mut self.file, offset, buf)
    }

    fn write_all_at(&mut self, offset: u64, buf: &[u8]) -> io::Result<()> {
        let result = positional::write_all_at(&mut self.file, offset, buf);
        match &result {
            Ok(()) => self.len = self.len.max(offset + buf.len() as u64),
            Err(_) => {
                // Part of `buf` may have landed; learn the real length if we can.
                if let Ok(meta) = self.file.metadata() {
                    self.len = meta.len();
                }
            }
        }
        result
    }

    fn sync_data(&mut self) -> io::Result<()> {
        self.file.sync_data()
    }

    fn len(&self) -> io::Result<u64> {
        Ok(self.len)
    }
}

#[cfg(unix)]
mod positional {
    use std::fs::File;
    use std::io;
    use std::os::unix::fs::FileExt;

    pub(super) fn read_exact_at(file: &mut File, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        FileExt::read_exact_at(file, buf, offset)
    }

    pub(super) fn write_all_at(file: &mut File, offset: u64, buf: &[u8]) -> io::Result<()> {
        FileExt::write_all_at(file, buf, offset)
    }
}

#[cfg(not(unix))]
mod positional {
    use std::fs::File;
    use std::io::{self, Read, Seek, SeekFrom, Write};

    pub(super) fn read_exact_at(file: &mut File, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        file.seek(SeekFrom::Start(offset))?;
        file.read_exact(buf)
    }

    pub(super) fn write_all_at(file: &mut File, offset: u64, buf: &[u8]) -> io::Result<()> {
        file.seek(SeekFrom::Start(offset))?;
        file.write_all(buf)
    }
}

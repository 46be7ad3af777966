//! The file-system backend: two small traits and their `std::fs` implementation.
//!
//! The log touches files only through these traits so that tests can inject faults (a failing
//! `fdatasync`, a short write, a simulated power loss) without touching the real disk.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// One open segment file. Reads are positional; writes always append at the end.
pub trait LogFile: Send + fmt::Debug {
    /// Fills `buf` from the bytes at `offset`; fails if the file ends first.
    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
    /// Appends all of `buf` at the end of the file.
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()>;
    /// Makes the file's data (and the size needed to read it) durable: `fdatasync`.
    fn sync_data(&mut self) -> io::Result<()>;
    /// Truncates or extends the file to `len` bytes (not synced; call `sync_data`).
    fn set_len(&mut self, len: u64) -> io::Result<()>;
    /// The file's current length in bytes.
    fn len(&self) -> io::Result<u64>;
    /// Whether the file is empty.
    fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }
}

/// Opens, creates and lists segment files in a directory.
pub trait Storage: Send + Sync + fmt::Debug {
    /// Creates `dir` (and missing parents) if it does not exist, durably: a directory that was
    /// created is synced into its parent. Does nothing if it exists.
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
    /// The names of the entries in `dir` (names only, any order).
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;
    /// Opens an existing file for reading and appending.
    fn open(&self, path: &Path) -> io::Result<Box<dyn LogFile>>;
    /// Creates a new, empty file (failing if it exists) and syncs it. The caller syncs the
    /// directory afterwards with [`Storage::sync_dir`].
    fn create(&self, path: &Path) -> io::Result<Box<dyn LogFile>>;
    /// Makes the directory's entries (created, removed, renamed files) durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
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
        // A new inode: sync all of it, not just the (empty) data.
        file.sync_all()?;
        Ok(Box::new(FsLogFile::new(file)?))
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
}

/// A segment file on the real file system.
///
/// Tracks the length itself (the flusher is the only writer) and where the OS cursor is, so an
/// append seeks only after a read moved the cursor.
#[derive(Debug)]
struct FsLogFile {
    file: File,
    len: u64,
    /// Position of the OS file cursor, `None` when unknown (after a failed call).
    cursor: Option<u64>,
}

impl FsLogFile {
    fn new(file: File) -> io::Result<Self> {
        let len = file.metadata()?.len();
        Ok(FsLogFile {
            file,
            len,
            cursor: Some(0),
        })
    }

    fn seek_to(&mut self, pos: u64) -> io::Result<()> {
        if self.cursor != Some(pos) {
            self.cursor = None;
            self.file.seek(SeekFrom::Start(pos))?;
            self.cursor = Some(pos);
        }
        Ok(())
    }
}

impl LogFile for FsLogFile {
    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.seek_to(offset)?;
        self.cursor = None;
        self.file.read_exact(buf)?;
        self.cursor = Some(offset + buf.len() as u64);
        Ok(())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.seek_to(self.len)?;
        self.cursor = None;
        match self.file.write_all(buf) {
            Ok(()) => {
                self.len += buf.len() as u64;
                self.cursor = Some(self.len);
                Ok(())
            }
            Err(e) => {
                // Part of `buf` may have landed; learn the real length if we can.
                if let Ok(meta) = self.file.metadata() {
                    self.len = meta.len();
                }
                Err(e)
            }
        }
    }

    fn sync_data(&mut self) -> io::Result<()> {
        self.file.sync_data()
    }

    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.file.set_len(len)?;
        self.len = len;
        Ok(())
    }

    fn len(&self) -> io::Result<u64> {
        Ok(self.len)
    }
}

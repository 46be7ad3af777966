//! The files of a database directory.
//!
//! ```text
//! <dir>/CHRONOKV   format marker: "chronokv <format version>\n", written once at creation
//! <dir>/LOCK       advisory lock held by the process that has the database open
//! <dir>/wal/       write-ahead log segments (chronokv-wal)
//! <dir>/MANIFEST   live extents, free regions, the log position they cover (chronokv-extent's
//!                  manifest format; replaced atomically, see manifest_file.rs)
//! <dir>/DATA       every extent, each in its own allocated region (see extents.rs)
//! ```
//! A database written before extents existed has no MANIFEST and no DATA: it opens as one
//! whose every version is still in the log, which is exactly what it is.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

const MARKER: &str = "CHRONOKV";
const FORMAT_LINE: &str = "chronokv 1\n";

pub(crate) fn wal_dir(dir: &Path) -> PathBuf {
    dir.join("wal")
}

/// Makes sure `dir` is a chronokv database (creating it when allowed) and returns its canonical
/// path, so that two spellings of one directory share one engine.
pub(crate) fn prepare(dir: &Path, create_if_missing: bool) -> Result<PathBuf> {
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(Error::InvalidArgument(format!(
                "{} is not a directory",
                dir.display()
            )))
        }
        Err(err) if err.kind() == ErrorKind::NotFound && create_if_missing => {
            fs::create_dir_all(dir).map_err(|e| Error::io("create the directory", dir, e))?;
            if let Some(parent) = dir.parent() {
                sync_dir(parent)?;
            }
        }
        Err(err) => return Err(Error::io("open the database directory", dir, err)),
    }
    let dir = dir
        .canonicalize()
        .map_err(|e| Error::io("resolve the path", dir, e))?;
    let marker = dir.join(MARKER);
    match fs::read_to_string(&marker) {
        Ok(text) if text == FORMAT_LINE => Ok(dir),
        Ok(text) => Err(Error::Corruption {
            path: marker,
            offset: 0,
            reason: format!("unknown format marker {text:?}"),
        }),
        Err(err) if err.kind() == ErrorKind::NotFound => {
            let foreign = fs::read_dir(&dir)
                .map_err(|e| Error::io("list", &dir, e))?
                .filter_map(|entry| entry.ok())
                .any(|entry| entry.file_name() != "LOCK");
            if foreign {
                return Err(Error::InvalidArgument(format!(
                    "{} holds other files and is not a chronokv database",
                    dir.display()
                )));
            }
            if !create_if_missing {
                return Err(Error::io(
                    "open the database",
                    &dir,
                    std::io::Error::new(ErrorKind::NotFound, "no chronokv database here"),
                ));
            }
            write_marker(&dir)?;
            Ok(dir)
        }
        Err(err) => Err(Error::io("read the format marker", marker, err)),
    }
}

/// Writes the marker atomically: a temporary file, fsync, rename, fsync of the directory.
fn write_marker(dir: &Path) -> Result<()> {
    let tmp = dir.join(format!("{MARKER}.tmp"));
    let mut file = File::create(&tmp).map_err(|e| Error::io("create", &tmp, e))?;
    file.write_all(FORMAT_LINE.as_bytes())
        .map_err(|e| Error::io("write", &tmp, e))?;
    file.sync_all().map_err(|e| Error::io("fsync", &tmp, e))?;
    fs::rename(&tmp, dir.join(MARKER)).map_err(|e| Error::io("rename", &tmp, e))?;
    sync_dir(dir)
}

pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("fsync the directory", dir, e))
}

/// Takes the process-exclusive advisory lock on `<dir>/LOCK`. The OS drops it if the process dies.
pub(crate) fn lock(dir: &Path) -> Result<File> {
    let path = dir.join("LOCK");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io("open the lock file", &path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Locked {
            path: dir.to_path_buf(),
        }),
        Err(std::fs::TryLockError::Error(err)) => Err(Error::io("lock", &path, err)),
    }
}

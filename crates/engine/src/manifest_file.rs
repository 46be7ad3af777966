//! The `MANIFEST` file: loaded at open, replaced atomically by flushes and compactions.
//!
//! Replacement goes through the [`Storage`] backend (so the power-loss simulator sees every
//! step): write `MANIFEST.tmp`, fdatasync it, rename it over `MANIFEST`, sync the directory. A
//! crash before the rename leaves the old manifest (and a stale temp file, removed at the next
//! switch); after the directory sync, the new one. Either way the manifest on disk names only
//! extents whose bytes were synced before it was written.

use std::io;
use std::path::{Path, PathBuf};

use chronokv_extent::Manifest;

use crate::{crash, Error, Result, Storage};

pub(crate) const MANIFEST: &str = "MANIFEST";
const TEMP: &str = "MANIFEST.tmp";

pub(crate) fn path(dir: &Path) -> PathBuf {
    dir.join(MANIFEST)
}

/// The manifest in `dir`, or an empty one when there is none (a database that never flushed).
pub(crate) fn load(storage: &dyn Storage, dir: &Path) -> Result<Manifest> {
    let path = path(dir);
    let mut file = match storage.open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Manifest::default()),
        Err(e) => return Err(Error::io("open", &path, e)),
    };
    let len = file.len().map_err(|e| Error::io("stat", &path, e))?;
    let mut bytes = vec![0; usize::try_from(len).map_err(|_| too_large(&path, len))?];
    file.read_exact_at(0, &mut bytes)
        .map_err(|e| Error::io("read", &path, e))?;
    Manifest::decode(&bytes).map_err(|e| Error::Corruption {
        path,
        offset: e.offset,
        reason: e.reason,
    })
}

fn too_large(path: &Path, len: u64) -> Error {
    Error::Corruption {
        path: path.to_owned(),
        offset: 0,
        reason: format!("a manifest of {len} bytes"),
    }
}

/// Replaces the manifest in `dir` with `manifest`, durably.
pub(crate) fn store(storage: &dyn Storage, dir: &Path, manifest: &Manifest) -> Result<()> {
    let temp = dir.join(TEMP);
    match storage.remove(&temp) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io("remove", &temp, e)),
    }
    let mut file = storage
        .create(&temp)
        .map_err(|e| Error::io("create", &temp, e))?;
    file.write_all_at(0, &manifest.encode())
        .map_err(|e| Error::io("write", &temp, e))?;
    file.sync_data()
        .map_err(|e| Error::io("fdatasync", &temp, e))?;
    drop(file);
    crash::point("manifest:temp-written");
    let target = path(dir);
    storage
        .rename(&temp, &target)
        .map_err(|e| Error::io("rename", &temp, e))?;
    crash::point("manifest:renamed");
    storage
        .sync_dir(dir)
        .map_err(|e| Error::io("fsync the directory", dir, e))?;
    crash::point("manifest:switched");
    Ok(())
}

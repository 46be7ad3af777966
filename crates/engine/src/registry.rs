//! One engine per directory per process.
//!
//! worker_threads of one Node process load the addon once, so they share this registry: every
//! `open` of a directory that is already open here returns a new [`Handle`] on the same
//! `Arc<Database>`. The engine closes when its last handle closes. The registry's mutex is held
//! while an engine opens or closes, so a close and a re-open of the same directory never race
//! for the directory lock.

use std::collections::HashMap;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

use arc_swap::{ArcSwapOption, Guard};

use crate::{Database, Error, Options, Result};

struct Entry {
    db: Arc<Database>,
    handles: usize,
}

static OPEN: LazyLock<Mutex<HashMap<PathBuf, Entry>>> = LazyLock::new(Default::default);

fn registry() -> std::sync::MutexGuard<'static, HashMap<PathBuf, Entry>> {
    // The map stays consistent even if a holder panicked: entries are inserted and removed whole.
    OPEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Opens the database in `dir`, or joins the engine this process already has open there. When
/// joining, the engine keeps the options it was opened with, except that a read-only handle
/// still refuses writes.
pub fn open(dir: &Path, options: &Options) -> Result<Handle> {
    let key = match dir.canonicalize() {
        Ok(path) => path,
        // Not there yet: Database::open_exclusive creates it (or reports why it cannot).
        Err(_) => dir.to_path_buf(),
    };
    let mut open = registry();
    if let Some(entry) = open.get_mut(&key) {
        entry.handles += 1;
        return Ok(Handle::new(Arc::clone(&entry.db), options.read_only));
    }
    let db = Arc::new(Database::open_exclusive(dir, options)?);
    open.insert(
        db.path().to_path_buf(),
        Entry {
            db: Arc::clone(&db),
            handles: 1,
        },
    );
    Ok(Handle::new(db, options.read_only))
}

/// One opener's reference to a shared engine.
///
/// The engine sits in an `ArcSwapOption` (arc-swap): reads load it without a lock or a
/// reference-count bump, and `close()` takes it out at once, so a closed handle holds no memory
/// even while the JavaScript object that owns it waits for garbage collection.
#[derive(Debug)]
pub struct Handle {
    db: ArcSwapOption<Database>,
    read_only: bool,
}

/// A borrowed engine, valid while the guard lives (keep it for the length of one call).
#[derive(Debug)]
pub struct DbRef(Guard<Option<Arc<Database>>>);

impl Deref for DbRef {
    type Target = Arc<Database>;

    fn deref(&self) -> &Arc<Database> {
        self.0
            .as_ref()
            .expect("a DbRef is only made from an open handle")
    }
}

impl Handle {
    fn new(db: Arc<Database>, read_only: bool) -> Self {
        Handle {
            db: ArcSwapOption::new(Some(db)),
            read_only,
        }
    }

    /// The engine, or [`Error::Closed`] once this handle is closed.
    pub fn db(&self) -> Result<DbRef> {
        let guard = self.db.load();
        if guard.is_none() {
            return Err(Error::Closed);
        }
        Ok(DbRef(guard))
    }

    /// The engine for a write, refusing if this handle is read-only.
    pub fn writable(&self) -> Result<DbRef> {
        let db = self.db()?;
        if self.read_only {
            return Err(Error::ReadOnly);
        }
        Ok(db)
    }

    /// Releases this handle; the last one closes the engine (draining and syncing the log and
    /// releasing the directory lock). Idempotent.
    pub fn close(&self) -> Result<()> {
        let Some(db) = self.db.swap(None) else {
            return Ok(());
        };
        let mut open = registry();
        let path = db.path().to_path_buf();
        let last = match open.get_mut(&path) {
            Some(entry) if Arc::ptr_eq(&entry.db, &db) => {
                entry.handles -= 1;
                entry.handles == 0
            }
            _ => false,
        };
        if last {
            open.remove(&path);
            return db.close();
        }
        Ok(())
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

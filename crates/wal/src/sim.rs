//! A simulated file system for crash tests (not part of the stable API).
//!
//! [`SimStorage`] implements [`Storage`] in memory and remembers, for every file, what a sync
//! made durable and which writes since then are not; for every directory, which entries
//! (created, renamed, removed files) a directory sync made durable. From that it builds what a
//! power loss could leave behind ([`SimStorage::crash_image`]):
//!
//! - every synced byte and every synced directory entry;
//! - a prefix of the unsynced directory operations (a created or renamed file whose directory
//!   was not synced may vanish, a removed one may come back), or with
//!   [`SimStorage::set_unordered_dir_ops`] any subset of them, as POSIX allows;
//! - a seeded choice among the unsynced writes: none, all, a prefix, an arbitrary subset, or
//!   every 512-byte sector of them kept, lost or torn (part old bytes, part new).
//!
//! It can also fail operations on purpose ([`Fault`]): the Nth I/O operation, the Nth sync, or
//! a crash at the Nth sync, after which every operation fails and the image of the moment just
//! before that sync is kept for [`SimStorage::crash_image`]. A failed write may leave a prefix of
//! its bytes; a failed `fdatasync` makes each of the file's unsynced writes either durable or
//! lost for good (later syncs do not bring it back), as Linux may after an I/O error.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::storage::{LogFile, Storage};
use crate::sync::{lock, Mutex};

/// Sector size for torn writes.
pub const SECTOR: usize = 512;

/// A fault to inject, counted from the creation of the storage (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fault {
    /// Nothing fails.
    #[default]
    None,
    /// The Nth operation (any call on the storage or one of its files) fails with an I/O
    /// error; later ones work.
    FailOp(u64),
    /// The Nth sync (`sync_data` or `sync_dir`) fails with an I/O error; later ones work.
    FailSync(u64),
    /// The machine loses power at the Nth sync: the state just before it is kept for
    /// [`SimStorage::crash_image`], and that sync and every later operation fail.
    CrashAtSync(u64),
}

/// An in-memory file system that knows what is durable. Cloning shares the same files.
#[derive(Clone)]
pub struct SimStorage {
    state: Arc<Mutex<State>>,
}

type Ino = u64;

#[derive(Debug, Clone)]
enum DirOp {
    Link { path: PathBuf, ino: Ino },
    Unlink { path: PathBuf },
    Rename { from: PathBuf, to: PathBuf },
}

impl DirOp {
    fn dir(&self) -> Option<&Path> {
        match self {
            DirOp::Link { path, .. } | DirOp::Unlink { path } => path.parent(),
            DirOp::Rename { to, .. } => to.parent(),
        }
    }

    fn apply(&self, names: &mut BTreeMap<PathBuf, Ino>) {
        match self {
            DirOp::Link { path, ino } => {
                names.insert(path.clone(), *ino);
            }
            DirOp::Unlink { path } => {
                names.remove(path);
            }
            DirOp::Rename { from, to } => {
                if let Some(ino) = names.remove(from) {
                    names.insert(to.clone(), ino);
                }
            }
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Inode {
    /// What reads see.
    data: Vec<u8>,
    /// What survives a crash, before unsynced writes are considered.
    durable: Vec<u8>,
}

#[derive(Debug, Clone)]
struct PendingWrite {
    ino: Ino,
    offset: u64,
    data: Vec<u8>,
}

#[derive(Debug, Clone, Default)]
struct State {
    dirs: BTreeSet<PathBuf>,
    names: BTreeMap<PathBuf, Ino>,
    durable_names: BTreeMap<PathBuf, Ino>,
    dir_ops: Vec<DirOp>,
    inodes: BTreeMap<Ino, Inode>,
    next_ino: Ino,
    writes: Vec<PendingWrite>,
    fault: Fault,
    /// Whether a crash image may keep any subset of the unsynced directory operations (not
    /// only a prefix).
    unordered_dir_ops: bool,
    ops: u64,
    syncs: u64,
    /// What each sync was, in order: `"fdatasync <file>"` or `"sync_dir <dir>"`.
    trace: Vec<String>,
    /// Set at a `CrashAtSync` point: the state just before it.
    crashed: Option<Box<State>>,
    rng: Rng,
}

impl State {
    /// Counts an operation and decides whether it fails.
    fn begin(&mut self, sync: Option<String>) -> Result<(), Failure> {
        if self.crashed.is_some() {
            return Err(Failure::Dead);
        }
        self.ops += 1;
        if let Some(label) = sync {
            self.syncs += 1;
            if self.fault == Fault::CrashAtSync(self.syncs) {
                let mut before = self.clone();
                before.crashed = None;
                self.crashed = Some(Box::new(before));
                self.trace.push(format!("{label} (power lost)"));
                return Err(Failure::Dead);
            }
            self.trace.push(label);
            if self.fault == Fault::FailSync(self.syncs) {
                return Err(Failure::Injected);
            }
        }
        if self.fault == Fault::FailOp(self.ops) {
            return Err(Failure::Injected);
        }
        Ok(())
    }

    fn ino(&self, path: &Path) -> io::Result<Ino> {
        self.names.get(path).copied().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("{}: no such file", path.display()),
            )
        })
    }

    fn check_parent(&self, path: &Path) -> io::Result<()> {
        match path.parent() {
            Some(dir) if self.dirs.contains(dir) => Ok(()),
            _ => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{}: no such directory", path.display()),
            )),
        }
    }

    fn write(&mut self, ino: Ino, offset: u64, buf: &[u8]) {
        let inode = self.inodes.entry(ino).or_default();
        write_into(&mut inode.data, offset, buf);
        self.writes.push(PendingWrite {
            ino,
            offset,
            data: buf.to_vec(),
        });
    }

    /// Makes the pending writes of `ino` durable (all of them, or when `failed` a random
    /// choice, the rest lost for good).
    fn sync_file(&mut self, ino: Ino, failed: bool) {
        let mut kept = Vec::with_capacity(self.writes.len());
        for write in std::mem::take(&mut self.writes) {
            if write.ino != ino {
                kept.push(write);
            } else if !failed || self.rng.below(2) == 0 {
                let inode = self.inodes.entry(ino).or_default();
                write_into(&mut inode.durable, write.offset, &write.data);
            }
        }
        self.writes = kept;
        if !failed {
            let inode = self.inodes.entry(ino).or_default();
            // Sizes agree too (data is never shorter than what was written to it).
            inode.durable.resize(inode.data.len(), 0);
        }
    }

    fn sync_dir(&mut self, dir: &Path) {
        let mut kept = Vec::new();
        for op in std::mem::take(&mut self.dir_ops) {
            if op.dir() == Some(dir) {
                op.apply(&mut self.durable_names);
            } else {
                kept.push(op);
            }
        }
        self.dir_ops = kept;
    }

    /// A state where everything the running system sees is what is on disk, after a power loss
    /// chosen by `seed` (see the module docs).
    fn image(&self, seed: u64) -> State {
        let mut rng = Rng::new(seed);
        let mut names = self.durable_names.clone();
        if self.unordered_dir_ops {
            for op in &self.dir_ops {
                if rng.below(2) == 0 {
                    op.apply(&mut names);
                }
            }
        } else {
            let keep_ops = rng.below(self.dir_ops.len() as u64 + 1) as usize;
            for op in &self.dir_ops[..keep_ops] {
                op.apply(&mut names);
            }
        }
        let mut inodes: BTreeMap<Ino, Inode> = names
            .values()
            .map(|ino| {
                let durable = self
                    .inodes
                    .get(ino)
                    .map(|i| i.durable.clone())
                    .unwrap_or_default();
                (
                    *ino,
                    Inode {
                        data: durable,
                        durable: Vec::new(),
                    },
                )
            })
            .collect();
        let n = self.writes.len();
        let mode = rng.below(5);
        let prefix = rng.below(n as u64 + 1) as usize;
        for (i, write) in self.writes.iter().enumerate() {
            let Some(inode) = inodes.get_mut(&write.ino) else {
                continue;
            };
            match mode {
                0 => {}
                1 => write_into(&mut inode.data, write.offset, &write.data),
                2 if i < prefix => write_into(&mut inode.data, write.offset, &write.data),
                2 => {}
                3 => {
                    if rng.below(2) == 0 {
                        write_into(&mut inode.data, write.offset, &write.data);
                    }
                }
                _ => tear_into(&mut inode.data, write.offset, &write.data, &mut rng),
            }
        }
        for inode in inodes.values_mut() {
            inode.durable = inode.data.clone();
        }
        State {
            dirs: self.dirs.clone(),
            durable_names: names.clone(),
            names,
            inodes,
            next_ino: self.next_ino,
            unordered_dir_ops: self.unordered_dir_ops,
            rng: Rng::new(seed ^ 0x5eed),
            ..State::default()
        }
    }
}

/// Writes `buf` at `offset`, extending with zeros as needed.
fn write_into(data: &mut Vec<u8>, offset: u64, buf: &[u8]) {
    let offset = usize::try_from(offset).expect("simulated files fit in memory");
    if data.len() < offset + buf.len() {
        data.resize(offset + buf.len(), 0);
    }
    data[offset..offset + buf.len()].copy_from_slice(buf);
}

/// Applies `buf` at `offset` sector by sector: each sector piece is kept, lost, or torn (a
/// random split, one side new bytes, the other old).
fn tear_into(data: &mut Vec<u8>, offset: u64, buf: &[u8], rng: &mut Rng) {
    let mut at = 0usize;
    while at < buf.len() {
        let pos = offset + at as u64;
        let in_sector = SECTOR - (pos % SECTOR as u64) as usize;
        let piece = &buf[at..(at + in_sector).min(buf.len())];
        match rng.below(3) {
            0 => write_into(data, pos, piece),
            1 => {}
            _ => {
                let split = rng.below(piece.len() as u64 + 1) as usize;
                if rng.below(2) == 0 {
                    write_into(data, pos, &piece[..split]);
                } else if split < piece.len() {
                    write_into(data, pos + split as u64, &piece[split..]);
                }
            }
        }
        at += piece.len();
    }
}

/// Why a simulated operation failed.
enum Failure {
    Injected,
    Dead,
}

impl Failure {
    fn error(&self, what: &str) -> io::Error {
        match self {
            Failure::Injected => io::Error::other(format!("simulated I/O error (EIO) in {what}")),
            Failure::Dead => io::Error::other(format!("simulated power loss before {what}")),
        }
    }
}

impl SimStorage {
    /// An empty file system; `seed` drives the random effects of failed writes and syncs.
    pub fn new(seed: u64) -> Self {
        SimStorage {
            state: Arc::new(Mutex::new(State {
                rng: Rng::new(seed),
                ..State::default()
            })),
        }
    }

    /// Sets the fault to inject (operations and syncs are counted from creation).
    pub fn set_fault(&self, fault: Fault) {
        lock(&self.state).fault = fault;
    }

    /// Lets crash images keep any subset of the unsynced directory operations, not only a
    /// prefix: a later removal may survive an earlier one, as POSIX allows. Off by default.
    /// Kept by [`SimStorage::crash_image`] and [`SimStorage::restart`].
    pub fn set_unordered_dir_ops(&self, unordered: bool) {
        lock(&self.state).unordered_dir_ops = unordered;
    }

    /// Operations so far (every call on the storage or its files).
    pub fn ops(&self) -> u64 {
        lock(&self.state).ops
    }

    /// Syncs so far (`sync_data` and `sync_dir`).
    pub fn syncs(&self) -> u64 {
        lock(&self.state).syncs
    }

    /// What each sync so far was, in order.
    pub fn trace(&self) -> Vec<String> {
        lock(&self.state).trace.clone()
    }

    /// Whether a [`Fault::CrashAtSync`] point was reached.
    pub fn crashed(&self) -> bool {
        lock(&self.state).crashed.is_some()
    }

    /// What a power loss leaves, as a new, healthy file system: at the crash point if one was
    /// reached, else now. `seed` chooses which unsynced writes and directory operations
    /// survive.
    pub fn crash_image(&self, seed: u64) -> SimStorage {
        let state = lock(&self.state);
        let from = state.crashed.as_deref().unwrap_or(&state);
        SimStorage {
            state: Arc::new(Mutex::new(from.image(seed))),
        }
    }

    /// The same files after the process died but the machine did not: what reads saw stays,
    /// unsynced writes stay unsynced (a later crash image may still lose them), faults are
    /// cleared. Panics if a power loss was simulated (use [`SimStorage::crash_image`]).
    pub fn restart(&self) -> SimStorage {
        let state = lock(&self.state);
        assert!(
            state.crashed.is_none(),
            "the power was lost: use crash_image"
        );
        let mut state = state.clone();
        state.fault = Fault::None;
        state.ops = 0;
        state.syncs = 0;
        state.trace.clear();
        SimStorage {
            state: Arc::new(Mutex::new(state)),
        }
    }

    /// The contents of a file as reads see them, if it exists.
    pub fn read_file(&self, path: &Path) -> Option<Vec<u8>> {
        let state = lock(&self.state);
        let ino = state.names.get(path)?;
        Some(
            state
                .inodes
                .get(ino)
                .map(|i| i.data.clone())
                .unwrap_or_default(),
        )
    }

    /// Replaces (or creates) a file with `bytes`, durably, as if written and synced before
    /// anything else happened. For tests that damage a log on purpose.
    pub fn write_file(&self, path: &Path, bytes: &[u8]) {
        let mut state = lock(&self.state);
        if let Some(dir) = path.parent() {
            state.dirs.insert(dir.to_path_buf());
        }
        let ino = match state.names.get(path) {
            Some(ino) => *ino,
            None => {
                state.next_ino += 1;
                let ino = state.next_ino;
                state.names.insert(path.to_path_buf(), ino);
                state.durable_names.insert(path.to_path_buf(), ino);
                ino
            }
        };
        state.writes.retain(|w| w.ino != ino);
        state.inodes.insert(
            ino,
            Inode {
                data: bytes.to_vec(),
                durable: bytes.to_vec(),
            },
        );
    }

    /// The names of the files in `dir` as reads see them, sorted.
    pub fn list_files(&self, dir: &Path) -> Vec<String> {
        let state = lock(&self.state);
        state
            .names
            .keys()
            .filter(|p| p.parent() == Some(dir))
            .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
            .collect()
    }

    fn with<T>(
        &self,
        what: &str,
        sync: Option<String>,
        f: impl FnOnce(&mut State) -> io::Result<T>,
    ) -> io::Result<T> {
        let mut state = lock(&self.state);
        match state.begin(sync) {
            Ok(()) => f(&mut state),
            Err(failure) => Err(failure.error(what)),
        }
    }
}

impl fmt::Debug for SimStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("SimStorage")
            .field("files", &state.names.len())
            .field("unsynced_writes", &state.writes.len())
            .field("unsynced_dir_ops", &state.dir_ops.len())
            .field("ops", &state.ops)
            .field("syncs", &state.syncs)
            .field("fault", &state.fault)
            .field("crashed", &state.crashed.is_some())
            .finish()
    }
}

impl Storage for SimStorage {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        self.with("create_dir_all", None, |state| {
            let mut at = Some(dir);
            while let Some(d) = at.filter(|d| !d.as_os_str().is_empty()) {
                state.dirs.insert(d.to_path_buf());
                at = d.parent();
            }
            Ok(())
        })
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        self.with("list", None, |state| {
            if !state.dirs.contains(dir) {
                return Err(io::Error::new(io::ErrorKind::NotFound, "no such directory"));
            }
            Ok(state
                .names
                .keys()
                .filter(|p| p.parent() == Some(dir))
                .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
                .collect())
        })
    }

    fn open(&self, path: &Path) -> io::Result<Box<dyn LogFile>> {
        let ino = self.with("open", None, |state| state.ino(path))?;
        Ok(Box::new(SimFile {
            storage: self.clone(),
            ino,
            name: path.display().to_string(),
        }))
    }

    fn create(&self, path: &Path) -> io::Result<Box<dyn LogFile>> {
        let ino = self.with("create", None, |state| {
            state.check_parent(path)?;
            if state.names.contains_key(path) {
                return Err(io::Error::new(io::ErrorKind::AlreadyExists, "file exists"));
            }
            state.next_ino += 1;
            let ino = state.next_ino;
            state.inodes.insert(ino, Inode::default());
            state.names.insert(path.to_path_buf(), ino);
            state.dir_ops.push(DirOp::Link {
                path: path.to_path_buf(),
                ino,
            });
            Ok(ino)
        })?;
        Ok(Box::new(SimFile {
            storage: self.clone(),
            ino,
            name: path.display().to_string(),
        }))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.with("rename", None, |state| {
            let ino = state.ino(from)?;
            state.check_parent(to)?;
            state.names.remove(from);
            state.names.insert(to.to_path_buf(), ino);
            state.dir_ops.push(DirOp::Rename {
                from: from.to_path_buf(),
                to: to.to_path_buf(),
            });
            Ok(())
        })
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        self.with("remove", None, |state| {
            state.ino(path)?;
            state.names.remove(path);
            state.dir_ops.push(DirOp::Unlink {
                path: path.to_path_buf(),
            });
            Ok(())
        })
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let label = format!("sync_dir {}", dir.display());
        let mut state = lock(&self.state);
        match state.begin(Some(label)) {
            Ok(()) => {
                state.sync_dir(dir);
                Ok(())
            }
            // A failed directory sync leaves its operations unsynced: they may or may not
            // survive a crash.
            Err(failure) => Err(failure.error("sync_dir")),
        }
    }
}

/// A file of a [`SimStorage`]; stays valid across renames, like an open file descriptor.
struct SimFile {
    storage: SimStorage,
    ino: Ino,
    /// The path it was opened or created under, for messages.
    name: String,
}

impl fmt::Debug for SimFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimFile")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl LogFile for SimFile {
    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.storage.with("read", None, |state| {
            let data = &state.inodes.get(&self.ino).expect("open inode").data;
            let start = usize::try_from(offset).unwrap_or(usize::MAX);
            match start.checked_add(buf.len()) {
                Some(end) if end <= data.len() => {
                    buf.copy_from_slice(&data[start..end]);
                    Ok(())
                }
                _ => Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "read past the end of the file",
                )),
            }
        })
    }

    fn write_all_at(&mut self, offset: u64, buf: &[u8]) -> io::Result<()> {
        let mut state = lock(&self.storage.state);
        match state.begin(None) {
            Ok(()) => {
                state.write(self.ino, offset, buf);
                Ok(())
            }
            Err(Failure::Injected) => {
                // A short write: some prefix of the bytes may have landed.
                let landed = state.rng.below(buf.len() as u64 + 1) as usize;
                if landed > 0 {
                    state.write(self.ino, offset, &buf[..landed]);
                }
                Err(Failure::Injected.error("write"))
            }
            Err(failure) => Err(failure.error("write")),
        }
    }

    fn sync_data(&mut self) -> io::Result<()> {
        let mut state = lock(&self.storage.state);
        // Named as it is now (a prepared segment is synced again after its rename).
        let name = state
            .names
            .iter()
            .find(|(_, ino)| **ino == self.ino)
            .map_or_else(|| self.name.clone(), |(path, _)| path.display().to_string());
        let label = format!("fdatasync {name}");
        match state.begin(Some(label)) {
            Ok(()) => {
                state.sync_file(self.ino, false);
                Ok(())
            }
            Err(Failure::Injected) => {
                state.sync_file(self.ino, true);
                Err(Failure::Injected.error("fdatasync"))
            }
            Err(failure) => Err(failure.error("fdatasync")),
        }
    }

    fn len(&self) -> io::Result<u64> {
        self.storage.with("stat", None, |state| {
            Ok(state
                .inodes
                .get(&self.ino)
                .map_or(0, |i| i.data.len() as u64))
        })
    }
}

/// splitmix64: small, seedable, good enough to choose crash images.
#[derive(Debug, Clone, Default)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(storage: &SimStorage, path: &str) -> Box<dyn LogFile> {
        storage.create(Path::new(path)).unwrap()
    }

    #[test]
    fn sim_synced_data_survives_every_crash_image() {
        let storage = SimStorage::new(1);
        storage.create_dir_all(Path::new("/d")).unwrap();
        let mut f = file(&storage, "/d/a");
        storage.sync_dir(Path::new("/d")).unwrap();
        f.write_all_at(0, b"durable").unwrap();
        f.sync_data().unwrap();
        f.write_all_at(7, &[0xAB; 2000]).unwrap();
        for seed in 0..200 {
            let image = storage.crash_image(seed);
            let data = image.read_file(Path::new("/d/a")).unwrap();
            assert_eq!(&data[..7], b"durable", "seed {seed}");
            assert!(
                data[7..].iter().all(|&b| b == 0xAB || b == 0),
                "seed {seed}"
            );
        }
    }

    #[test]
    fn sim_unsynced_create_may_vanish_and_rename_is_atomic() {
        let storage = SimStorage::new(2);
        storage.create_dir_all(Path::new("/d")).unwrap();
        let mut f = file(&storage, "/d/tmp");
        f.write_all_at(0, b"x").unwrap();
        f.sync_data().unwrap();
        storage
            .rename(Path::new("/d/tmp"), Path::new("/d/final"))
            .unwrap();
        let mut seen = BTreeSet::new();
        for seed in 0..100 {
            let image = storage.crash_image(seed);
            seen.insert(image.list_files(Path::new("/d")));
        }
        assert!(seen.contains(&Vec::<String>::new()));
        assert!(seen.contains(&vec!["tmp".to_owned()]));
        assert!(seen.contains(&vec!["final".to_owned()]));
        storage.sync_dir(Path::new("/d")).unwrap();
        for seed in 0..20 {
            let image = storage.crash_image(seed);
            assert_eq!(image.list_files(Path::new("/d")), vec!["final".to_owned()]);
            assert_eq!(image.read_file(Path::new("/d/final")).unwrap(), b"x");
        }
    }

    #[test]
    fn sim_unordered_dir_ops_may_keep_a_later_removal_alone() {
        let storage = SimStorage::new(6);
        storage.create_dir_all(Path::new("/d")).unwrap();
        drop(file(&storage, "/d/1"));
        drop(file(&storage, "/d/2"));
        storage.sync_dir(Path::new("/d")).unwrap();
        storage.remove(Path::new("/d/1")).unwrap();
        storage.remove(Path::new("/d/2")).unwrap();
        let seen = |storage: &SimStorage| {
            (0..100)
                .map(|seed| storage.crash_image(seed).list_files(Path::new("/d")))
                .collect::<BTreeSet<_>>()
        };
        let only_first = vec!["1".to_owned()];
        assert!(!seen(&storage).contains(&only_first), "prefixes only");
        storage.set_unordered_dir_ops(true);
        assert!(seen(&storage).contains(&only_first));
    }

    #[test]
    fn sim_crash_at_sync_keeps_the_state_before_it() {
        let storage = SimStorage::new(3);
        storage.set_fault(Fault::CrashAtSync(2));
        storage.create_dir_all(Path::new("/d")).unwrap();
        let mut f = file(&storage, "/d/a");
        storage.sync_dir(Path::new("/d")).unwrap();
        f.write_all_at(0, b"one").unwrap();
        assert!(f.sync_data().is_err());
        assert!(storage.crashed());
        assert!(f.write_all_at(3, b"two").is_err());
        assert_eq!(storage.syncs(), 2);
        let mut seen = BTreeSet::new();
        for seed in 0..200 {
            seen.insert(
                storage
                    .crash_image(seed)
                    .read_file(Path::new("/d/a"))
                    .unwrap(),
            );
        }
        assert!(seen.contains(b"one".as_slice()));
        assert!(seen.contains(&Vec::new()));
        assert!(seen.iter().all(|d| d.len() <= 3));
    }

    #[test]
    fn sim_torn_sectors_mix_old_and_new_bytes() {
        let storage = SimStorage::new(4);
        storage.create_dir_all(Path::new("/d")).unwrap();
        let mut f = file(&storage, "/d/a");
        storage.sync_dir(Path::new("/d")).unwrap();
        f.write_all_at(0, &[1u8; 4 * SECTOR]).unwrap();
        f.sync_data().unwrap();
        f.write_all_at(0, &[2u8; 4 * SECTOR]).unwrap();
        let mut mixed_sector = false;
        for seed in 0..300 {
            let data = storage
                .crash_image(seed)
                .read_file(Path::new("/d/a"))
                .unwrap();
            assert_eq!(data.len(), 4 * SECTOR);
            for sector in data.chunks(SECTOR) {
                mixed_sector |= sector.contains(&1) && sector.contains(&2);
            }
        }
        assert!(mixed_sector, "no crash image tore a sector");
    }

    #[test]
    fn sim_failed_fdatasync_loses_writes_for_good() {
        let storage = SimStorage::new(5);
        storage.create_dir_all(Path::new("/d")).unwrap();
        let mut f = file(&storage, "/d/a");
        storage.sync_dir(Path::new("/d")).unwrap();
        storage.set_fault(Fault::FailSync(2));
        for i in 0..64u8 {
            f.write_all_at(u64::from(i), &[i + 1]).unwrap();
        }
        assert!(f.sync_data().is_err());
        f.sync_data().unwrap();
        let image = storage.crash_image(0).read_file(Path::new("/d/a")).unwrap();
        // Reads still see every byte; the disk lost some of them.
        assert_eq!(
            storage.read_file(Path::new("/d/a")).unwrap(),
            (1..=64).collect::<Vec<u8>>()
        );
        assert!(
            image.contains(&0),
            "a failed fdatasync should lose some writes: {image:?}"
        );
    }
}

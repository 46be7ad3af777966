//! Data-file access through `Storage`: regions written through `LogFile` and synced map back
//! byte for byte (a memory map on the real file system, a copy in the simulator), a region
//! past the end of the file is an error rather than a SIGBUS, and punching a hole keeps the
//! file's length and the bytes around it.

use std::fs;
use std::io;
use std::path::Path;

use chronokv_wal::sim::SimStorage;
use chronokv_wal::{FsStorage, Mapped, Storage};

/// (offset, length) of the regions written: page aligned, unaligned, crossing pages, empty.
const REGIONS: [(u64, usize); 5] = [
    (0, 4096),
    (4096, 100),
    (4196 + 17, 9000),
    (65536, 4096),
    (5000, 0),
];

fn region_bytes(offset: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((offset as usize + i) * 7 % 251) as u8)
        .collect()
}

/// Writes the regions into `dir/data` through `storage`, syncs, maps each back and compares.
/// Returns the maps of the non-empty regions.
fn write_and_map(storage: &dyn Storage, dir: &Path) -> Vec<Mapped> {
    storage.create_dir_all(dir).unwrap();
    let path = dir.join("data");
    let mut file = storage.create(&path).unwrap();
    storage.sync_dir(dir).unwrap();
    for (offset, len) in REGIONS {
        file.write_all_at(offset, &region_bytes(offset, len))
            .unwrap();
    }
    file.sync_data().unwrap();
    drop(file);
    let mut maps = Vec::new();
    for (offset, len) in REGIONS {
        let mapped = storage.map(&path, offset, len as u64).unwrap();
        assert_eq!(mapped.len(), len, "region {offset}+{len}");
        assert!(
            *mapped == region_bytes(offset, len)[..],
            "region {offset}+{len} maps back other bytes"
        );
        if len > 0 {
            maps.push(mapped);
        }
    }
    maps
}

fn assert_past_end(result: io::Result<Mapped>, what: &str) {
    match result {
        Err(e) => assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof, "{what}: {e}"),
        Ok(m) => panic!("{what}: mapped {m:?} past the end of the file"),
    }
}

#[test]
fn storage_map_fs_round_trip_is_a_memory_map() {
    let dir = tempfile::tempdir().unwrap();
    let maps = write_and_map(&FsStorage, dir.path());
    assert!(maps.iter().all(Mapped::is_mapped));
    // The maps outlive the file handles, and can be read from other threads.
    let total: usize = std::thread::scope(|s| {
        let handles: Vec<_> = maps
            .iter()
            .map(|m| s.spawn(move || m.iter().map(|&b| b as usize).sum::<usize>()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    let expect: usize = REGIONS
        .iter()
        .flat_map(|&(o, l)| region_bytes(o, l))
        .map(usize::from)
        .sum();
    assert_eq!(total, expect);
}

#[test]
fn storage_map_sim_round_trip_reads_a_copy() {
    let storage = SimStorage::new(1);
    let maps = write_and_map(&storage, Path::new("/sim/db"));
    assert!(maps.iter().all(|m| !m.is_mapped()));
    // What a sync made durable maps back after a power loss too.
    let image = storage.crash_image(7);
    for (offset, len) in REGIONS {
        let mapped = image
            .map(Path::new("/sim/db/data"), offset, len as u64)
            .unwrap();
        assert!(*mapped == region_bytes(offset, len)[..]);
    }
}

#[test]
fn storage_map_past_the_end_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    fs::write(&path, vec![1u8; 10_000]).unwrap();
    let sim = SimStorage::new(2);
    sim.write_file(Path::new("/d/data"), &[1u8; 10_000]);
    let backends: [(&dyn Storage, &Path); 2] = [(&FsStorage, &path), (&sim, Path::new("/d/data"))];
    for (storage, path) in backends {
        let what = format!("{storage:?}");
        assert_eq!(&*storage.map(path, 9_000, 1_000).unwrap(), &[1u8; 1_000]);
        assert_past_end(storage.map(path, 9_000, 1_001), &what);
        assert_past_end(storage.map(path, 8192, 8192), &what);
        assert_past_end(storage.map(path, 1 << 40, 1), &what);
        assert_past_end(storage.map(path, u64::MAX, 2), &what);
        // The end of the file is fine, empty.
        assert!(storage.map(path, 10_000, 0).unwrap().is_empty());
        assert!(storage.map(&path.with_extension("missing"), 0, 1).is_err());
    }

    // A file truncated after it was written: the map is refused, not made (reading a mapped
    // page past the end would kill the process with SIGBUS).
    let file = fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(4096).unwrap();
    assert_past_end(FsStorage.map(&path, 0, 8192), "truncated");
    assert_eq!(FsStorage.map(&path, 0, 4096).unwrap().len(), 4096);
}

#[test]
fn storage_map_punch_hole_keeps_the_length_and_the_bytes_around() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    let bytes = region_bytes(0, 5 * 4096);
    fs::write(&path, &bytes).unwrap();
    FsStorage.punch_hole(&path, 4096, 2 * 4096).unwrap();
    FsStorage.punch_hole(&path, 0, 0).unwrap();
    let after = fs::read(&path).unwrap();
    assert_eq!(after.len(), bytes.len(), "the length is kept");
    assert_eq!(after[..4096], bytes[..4096]);
    assert_eq!(after[3 * 4096..], bytes[3 * 4096..]);
    let hole = &after[4096..3 * 4096];
    assert!(
        hole.iter().all(|&b| b == 0) || *hole == bytes[4096..3 * 4096],
        "a punched region reads as zeros (or, where unsupported, as before)"
    );
    assert!(FsStorage
        .punch_hole(&dir.path().join("missing"), 0, 1)
        .is_err());

    // The simulator does nothing.
    let sim = SimStorage::new(3);
    sim.write_file(Path::new("/d/data"), &bytes);
    sim.punch_hole(Path::new("/d/data"), 4096, 4096).unwrap();
    assert_eq!(sim.read_file(Path::new("/d/data")).unwrap(), bytes);
}

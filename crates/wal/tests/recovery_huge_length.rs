//! A length field claiming gigabytes is never trusted: no allocation, quick, a torn tail.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::fs;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chronokv_wal::{HEADER_LEN, MAX_RECORD_LEN};
use common::{
    assert_zeros_from, logical_bytes, no_sync, open_collect, segment, write_log, Records,
};

/// The system allocator, recording the largest single request.
struct LargestAlloc;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// `GlobalAlloc` contract holds exactly as it does for `System`; it only records sizes.
unsafe impl GlobalAlloc for LargestAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // Relaxed: a statistic read after the work it measures, on the same thread.
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller upholds `alloc`'s contract, which `System` shares.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // Relaxed: as above.
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller upholds `alloc_zeroed`'s contract, which `System` shares.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Relaxed: as above.
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        // SAFETY: `ptr` and `layout` come from this allocator, i.e. from `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` and `layout` come from this allocator, i.e. from `System`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: LargestAlloc = LargestAlloc;

/// Rewrites the length field of the record at `offset` and fixes its header crc, so only the
/// length is wrong.
fn set_len_field(bytes: &mut [u8], offset: usize, len: u32) {
    let header = &mut bytes[offset..offset + HEADER_LEN];
    header[0..4].copy_from_slice(&len.to_le_bytes());
    let crc = crc32c_of(&header[..28]);
    header[28..32].copy_from_slice(&crc.to_le_bytes());
}

/// crc32c (Castagnoli), bitwise: the tests do not depend on the crate under test for it.
fn crc32c_of(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn check_torn(len_field: u32) {
    let source = tempfile::tempdir().unwrap();
    let records: Records = (1..=3u64).map(|seq| (seq, vec![seq as u8; 100])).collect();
    let offsets = write_log(source.path(), &records);
    let mut bytes = fs::read(segment(source.path())).unwrap();
    set_len_field(&mut bytes, offsets[2] as usize, len_field);

    let dir = tempfile::tempdir().unwrap();
    fs::write(segment(dir.path()), &bytes).unwrap();
    // Relaxed: read back on this thread after the open.
    LARGEST.store(0, Ordering::Relaxed);
    let started = Instant::now();
    let (wal, seen) = open_collect(dir.path(), no_sync()).unwrap();
    let took = started.elapsed();
    // Relaxed: as above.
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(
        largest < 16 << 20,
        "len {len_field}: allocated {largest} bytes at once"
    );
    assert!(
        took < Duration::from_secs(5),
        "len {len_field}: took {took:?}"
    );
    assert_eq!(seen, records[..2].to_vec());
    assert_eq!(wal.bytes(), logical_bytes(&records[..2].to_vec()));
    drop(wal);
    assert_zeros_from(
        &fs::read(segment(dir.path())).unwrap(),
        offsets[2],
        "torn record",
    );
}

#[test]
fn recovery_huge_length_4gib_is_torn_tail() {
    check_torn(u32::MAX);
}

#[test]
fn recovery_huge_length_1gib_past_end_is_torn_tail() {
    check_torn(MAX_RECORD_LEN as u32);
}

#[test]
fn recovery_huge_length_crc32c_reference() {
    // The check value of CRC-32C (RFC 3720, "123456789").
    assert_eq!(crc32c_of(b"123456789"), 0xE306_9283);
}

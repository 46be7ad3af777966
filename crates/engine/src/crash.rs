//! Named crash points for the kill -9 harness.
//!
//! The JavaScript crash test (`__test__/recovery.spec.ts`) aims part of its kills at the
//! moments that matter most for the persistent layer: between writing an extent and switching
//! the manifest, between the manifest's rename and its directory sync, before the log is
//! checkpointed, in the middle of a compaction. It sets `CHRONOKV_CRASH_AT=<point>[:<n>]` in the
//! writer process, and the n-th time (default: the first) the engine passes that point the
//! process sends itself SIGKILL: no destructor runs, no buffer is flushed, no core is dumped,
//! exactly as after `kill -9`. Unset (always, outside that test), a crash point costs one
//! relaxed load after the first.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// Every crash point, for the harness to choose from (kept in sync with the calls below by
/// the `every_point_is_listed` test).
pub const CRASH_POINTS: &[&str] = &[
    "flush:extents-written",
    "flush:extents-synced",
    "manifest:temp-written",
    "manifest:renamed",
    "manifest:switched",
    "flush:before-checkpoint",
    "compact:extents-written",
    "compact:before-release",
];

struct Target {
    point: String,
    remaining: AtomicU64,
}

fn target() -> Option<&'static Target> {
    static TARGET: OnceLock<Option<Target>> = OnceLock::new();
    TARGET
        .get_or_init(|| {
            let spec = std::env::var("CHRONOKV_CRASH_AT").ok()?;
            // Points contain ':' themselves ("flush:extents-written"): the count is after the last.
            let (point, nth) = match spec.rsplit_once(':') {
                Some((point, n)) if n.chars().all(|c| c.is_ascii_digit()) && !n.is_empty() => {
                    (point.to_owned(), n.parse().unwrap_or(1))
                }
                _ => (spec, 1),
            };
            Some(Target {
                point,
                remaining: AtomicU64::new(nth),
            })
        })
        .as_ref()
}

/// Aborts the process if the harness aimed at `point` and this is the chosen pass.
pub(crate) fn point(point: &str) {
    debug_assert!(
        CRASH_POINTS.contains(&point),
        "unlisted crash point {point}"
    );
    if let Some(target) = target() {
        // ORDERING: Relaxed: a counter; whichever thread takes it to zero aborts.
        if target.point == point && target.remaining.fetch_sub(1, Ordering::Relaxed) == 1 {
            eprintln!(
                "chronokv: crash point {point} reached, killing the process (CHRONOKV_CRASH_AT)"
            );
            kill_self();
        }
    }
}

#[cfg(unix)]
fn kill_self() -> ! {
    let _ = rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::KILL);
    // SIGKILL cannot be caught; if sending it failed, end the process anyway.
    std::process::abort()
}

#[cfg(not(unix))]
fn kill_self() -> ! {
    std::process::abort()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_point_is_listed() {
        let sources = [
            include_str!("flush.rs"),
            include_str!("compact.rs"),
            include_str!("manifest_file.rs"),
        ]
        .concat();
        let mut used: Vec<&str> = sources
            .split("crash::point(\"")
            .skip(1)
            .map(|rest| rest.split('"').next().unwrap_or_default())
            .collect();
        used.sort_unstable();
        used.dedup();
        let mut listed = super::CRASH_POINTS.to_vec();
        listed.sort_unstable();
        assert_eq!(used, listed);
    }
}

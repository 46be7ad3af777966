//! chronokv's criterion benches, one bench target: the memtable, the WAL and the engine, each
//! group beside a baseline measured in the same run (see each module's docs).
//!
//! One binary rather than one per component: the bench profile inherits the release profile's
//! thin LTO, and every bench binary links criterion and its dependencies through LTO again.
//! Three binaries cost ~175 s of CPU to build on the 2-core bench machine, one ~75 s, which
//! matters on the first `npm run bench` of a clone (benches/README.md).
//!
//! Run: cargo bench -p chronokv-bench [-- <filter>], e.g. `-- wal_` or `-- memtable_get_hit`.
//! A filter skips the other benches but not their set-up (loading the memtable and the engine
//! takes a second or two).

mod engine;
mod memtable;
mod wal;

criterion::criterion_main!(memtable::memtable, wal::wal, engine::engine);

//! Morton-T codes over (key, time), and the structures that place and find extents by them.
//!
//! - [`zorder`]: interleaving a key coordinate with a commit timestamp into a Morton-T code,
//!   and BIGMIN/LITMAX (Tropf & Herzog, 1981), which let a Z-ordered scan of a query rectangle
//!   jump over runs of codes that fall outside it.
//! - [`allocator`]: the extent allocator — an atomic bump pointer plus lock-free free lists,
//!   so concurrent flushes and compactions write their own regions with no file lock.
//! - [`interval`]: the interval table mapping Morton ranges and bounding boxes to extents,
//!   replaced copy-on-write behind an atomic pointer and reclaimed with crossbeam-epoch, so
//!   readers never block.

pub mod allocator;
pub mod interval;
pub mod zorder;

pub use allocator::{Extent, ExtentAllocator};
pub use interval::{collect_garbage, EpochCell, ExtentInfo, IntervalTable, TableSnapshot};
pub use zorder::{bigmin, deinterleave, interleave, key_coordinate, litmax, ZRect};

//! Per-thread shards of `u64` cells, so that counters incremented on several
//! worker threads never bounce one cache line between cores.
//!
//! Each shard is a run of 128-byte aligned lines (two 64-byte lines, because
//! adjacent-line prefetch on x86 pairs them). A thread increments only the
//! shard picked by its shard index; a scrape sums the slot across shards.
//! Relaxed ordering is enough: each cell is an independent monotonic count.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

const CELLS_PER_LINE: usize = 16;

#[repr(align(128))]
struct Line([AtomicU64; CELLS_PER_LINE]);

impl Line {
    fn new() -> Line {
        Line(std::array::from_fn(|_| AtomicU64::new(0)))
    }
}

/// Upper bound on shards per metric; threads beyond it share shards (still
/// correct, just contended).
const MAX_SHARDS: usize = 64;

static SHARDS: AtomicUsize = AtomicUsize::new(0);

/// Sets how many shards metrics created from now on get: the number of
/// threads that increment them (the worker count). Every shard costs memory
/// and a scrape reads them all, so fewer is cheaper when fewer threads count.
pub fn set_shard_count(n: usize) {
    SHARDS.store(n.clamp(1, MAX_SHARDS), Ordering::Relaxed);
}

/// Shards for a new metric: as set by [`set_shard_count`], else the number
/// of cores this process may run on.
pub(crate) fn shard_count() -> usize {
    match SHARDS.load(Ordering::Relaxed) {
        0 => std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, MAX_SHARDS),
        n => n,
    }
}

thread_local! {
    static SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
}

static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

/// Pins the calling thread to shard `index` (workers call this with their
/// worker number so that N workers use N distinct shards).
pub fn set_current_shard(index: usize) {
    SHARD.with(|s| s.set(index));
}

#[inline]
pub(crate) fn current_shard() -> usize {
    SHARD.with(|s| {
        let v = s.get();
        if v != usize::MAX {
            return v;
        }
        let v = NEXT_SHARD.fetch_add(1, Ordering::Relaxed);
        s.set(v);
        v
    })
}

/// `slots` monotonic `u64` cells, replicated once per shard.
pub(crate) struct ShardedCells {
    lines: Box<[Line]>,
    slots: usize,
    lines_per_shard: usize,
    shards: usize,
}

impl ShardedCells {
    pub(crate) fn new(slots: usize, shards: usize) -> ShardedCells {
        let shards = shards.max(1);
        let lines_per_shard = slots.div_ceil(CELLS_PER_LINE).max(1);
        ShardedCells {
            lines: (0..lines_per_shard * shards).map(|_| Line::new()).collect(),
            slots,
            lines_per_shard,
            shards,
        }
    }

    pub(crate) fn slots(&self) -> usize {
        self.slots
    }

    #[inline]
    pub(crate) fn add(&self, slot: usize, v: u64) {
        debug_assert!(slot < self.slots);
        let shard = current_shard() % self.shards;
        let line = &self.lines[shard * self.lines_per_shard + slot / CELLS_PER_LINE];
        line.0[slot % CELLS_PER_LINE].fetch_add(v, Ordering::Relaxed);
    }

    pub(crate) fn shards(&self) -> usize {
        self.shards
    }

    /// The cell of `slot` in `shard` (which wraps around the shard count).
    #[inline]
    pub(crate) fn cell(&self, shard: usize, slot: usize) -> &AtomicU64 {
        let line = &self.lines[(shard % self.shards) * self.lines_per_shard + slot / CELLS_PER_LINE];
        &line.0[slot % CELLS_PER_LINE]
    }

    /// Calls `f(slot, total)` for every slot in order, with the totals
    /// summed a line at a time: what a scrape of a whole vector does,
    /// without working out each slot's place in every shard.
    pub(crate) fn for_each_total(&self, mut f: impl FnMut(usize, u64)) {
        for line in 0..self.lines_per_shard {
            let mut totals = [0u64; CELLS_PER_LINE];
            for shard in 0..self.shards {
                let cells = &self.lines[shard * self.lines_per_shard + line].0;
                for (total, cell) in totals.iter_mut().zip(cells) {
                    *total = total.wrapping_add(cell.load(Ordering::Relaxed));
                }
            }
            let first = line * CELLS_PER_LINE;
            let used = self.slots.saturating_sub(first).min(CELLS_PER_LINE);
            for (i, total) in totals[..used].iter().enumerate() {
                f(first + i, *total);
            }
        }
    }

    /// Sum of `slot` over all shards. Wraps like the cells do (after 2^64).
    pub(crate) fn get(&self, slot: usize) -> u64 {
        (0..self.shards)
            .map(|s| {
                let line = &self.lines[s * self.lines_per_shard + slot / CELLS_PER_LINE];
                line.0[slot % CELLS_PER_LINE].load(Ordering::Relaxed)
            })
            .fold(0u64, u64::wrapping_add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_cache_padded() {
        assert_eq!(std::mem::align_of::<Line>(), 128);
        assert_eq!(std::mem::size_of::<Line>(), 128);
    }

    #[test]
    fn sums_across_threads_and_shards() {
        let cells = std::sync::Arc::new(ShardedCells::new(20, 4));
        let threads: Vec<_> = (0..6)
            .map(|t| {
                let cells = cells.clone();
                std::thread::spawn(move || {
                    set_current_shard(t);
                    for _ in 0..10_000 {
                        cells.add(17, 1);
                        cells.add(3, 2);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(cells.get(17), 60_000);
        assert_eq!(cells.get(3), 120_000);
        assert_eq!(cells.get(0), 0);
    }

    #[test]
    fn totals_a_line_at_a_time_match_slot_by_slot() {
        // 37 slots: three lines, the last one partly used; three shards.
        let cells = ShardedCells::new(37, 3);
        for slot in 0..37 {
            for shard in 0..3 {
                cells
                    .cell(shard, slot)
                    .fetch_add((slot * 10 + shard) as u64, Ordering::Relaxed);
            }
        }
        let mut seen = Vec::new();
        cells.for_each_total(|slot, total| seen.push((slot, total)));
        let want: Vec<_> = (0..37).map(|slot| (slot, cells.get(slot))).collect();
        assert_eq!(seen, want);
        assert_eq!(seen[36], (36, 3 * 360 + 3));
    }
}

//! A fixed set of connections, each behind its own mutex: a pool without `Option`s to unwrap.
//! A caller takes the first free slot, or waits until one is free, for a bounded time.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::{Duration, Instant};

use crate::StoreError;

/// The upper bounds (microseconds) of the buckets [`Slots::take`]'s waits are counted in; a
/// last bucket counts the waits above them all.
const WAIT_BOUNDS_US: [u64; 12] = [
    100, 500, 1_000, 5_000, 10_000, 50_000, 100_000, 500_000, 1_000_000, 5_000_000, 10_000_000,
    30_000_000,
];

/// What one connection pool measured since the store opened: how long [`crate::Store::begin`]
/// and [`crate::Store::read`] waited for a connection (a histogram with fixed buckets), and how
/// often they gave up ([`StoreError::Busy`]). Counts only: nothing of what the connections did.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolStats {
    /// Which pool: `read` and `write` (SQLite's readers and its writer) or `postgres`.
    pub pool: &'static str,
    /// The buckets' upper bounds, in seconds, ascending.
    pub bounds_seconds: Vec<f64>,
    /// How many waits fell in each bucket (at most its bound, above the one before); one more
    /// entry than `bounds_seconds`, the last counting the waits above every bound.
    pub waits: Vec<u64>,
    /// The waits' total, in seconds.
    pub wait_seconds_sum: f64,
    /// How many callers got no connection within the wait.
    pub timeouts: u64,
}

/// The counters behind [`PoolStats`], updated with atomics only.
struct WaitStats {
    buckets: [AtomicU64; WAIT_BOUNDS_US.len() + 1],
    sum_us: AtomicU64,
    timeouts: AtomicU64,
}

impl WaitStats {
    fn new() -> WaitStats {
        WaitStats {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_us: AtomicU64::new(0),
            timeouts: AtomicU64::new(0),
        }
    }

    fn waited(&self, took: Duration) {
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let bucket = WAIT_BOUNDS_US.partition_point(|&bound| bound < us);
        if let Some(count) = self.buckets.get(bucket) {
            count.fetch_add(1, Ordering::Relaxed);
        }
        self.sum_us.fetch_add(us, Ordering::Relaxed);
    }

    fn snapshot(&self, pool: &'static str) -> PoolStats {
        #[allow(clippy::cast_precision_loss)]
        let seconds = |us: u64| us as f64 / 1e6;
        PoolStats {
            pool,
            bounds_seconds: WAIT_BOUNDS_US.iter().map(|&us| seconds(us)).collect(),
            waits: self.buckets.iter().map(|c| c.load(Ordering::Relaxed)).collect(),
            wait_seconds_sum: seconds(self.sum_us.load(Ordering::Relaxed)),
            timeouts: self.timeouts.load(Ordering::Relaxed),
        }
    }
}

/// How long [`Slots::take`] waits for a free connection before it answers
/// [`StoreError::Busy`]: a server whose every connection stays held this long is stuck or
/// overloaded, and a request that fails is better than one that waits forever (a holder that
/// waits for a second connection while every other holder waits on it would otherwise hang
/// the whole server).
const WAIT: Duration = Duration::from_secs(30);

/// N connections, opened up front.
pub(crate) struct Slots<C> {
    slots: Vec<Mutex<C>>,
    /// Signalled when a slot is given back; its mutex orders the signal after a waiter's look
    /// at the slots, so none is missed.
    freed: (Mutex<()>, Condvar),
    /// How many callers wait: while any does, a newcomer queues behind them instead of taking
    /// the slot a woken waiter is about to take.
    waiting: AtomicUsize,
    wait: Duration,
    /// How long takers waited, and how often in vain.
    stats: WaitStats,
}

/// A connection taken from [`Slots`]: given back when dropped, and then a waiter is woken
/// (fields drop in order: the connection's mutex is released before the signal).
pub(crate) struct Slot<'a, C> {
    guard: MutexGuard<'a, C>,
    _given_back: GivenBack<'a>,
}

/// Wakes a waiter of [`Slots::take`] when dropped.
struct GivenBack<'a>(&'a (Mutex<()>, Condvar));

impl Drop for GivenBack<'_> {
    fn drop(&mut self) {
        let _signal = self.0 .0.lock().unwrap_or_else(PoisonError::into_inner);
        self.0 .1.notify_one();
    }
}

impl<C> Deref for Slot<'_, C> {
    type Target = C;
    fn deref(&self) -> &C {
        &self.guard
    }
}

impl<C> DerefMut for Slot<'_, C> {
    fn deref_mut(&mut self) -> &mut C {
        &mut self.guard
    }
}

impl<C> Slots<C> {
    /// Opens `n` (at least one) connections with `open`.
    pub(crate) fn open<F>(n: usize, mut open: F) -> Result<Self, StoreError>
    where
        F: FnMut() -> Result<C, StoreError>,
    {
        let slots = (0..n.max(1)).map(|_| open().map(Mutex::new)).collect::<Result<_, _>>()?;
        Ok(Self {
            slots,
            freed: (Mutex::new(()), Condvar::new()),
            waiting: AtomicUsize::new(0),
            wait: WAIT,
            stats: WaitStats::new(),
        })
    }

    /// Takes a connection: the first free one, else the first given back within [`WAIT`];
    /// [`StoreError::Busy`] after that.
    ///
    /// A slot whose last holder panicked is taken all the same: holders leave no transaction
    /// open that the next one does not end (their guards roll back on drop, unwinding
    /// included, or leave a reader's rollback to the connection's next `BEGIN`), and each
    /// backend checks the connection's state when it begins.
    pub(crate) fn take(&self) -> Result<Slot<'_, C>, StoreError> {
        if self.waiting.load(Ordering::Acquire) == 0 {
            if let Some(slot) = self.free() {
                self.stats.waited(Duration::ZERO);
                return Ok(slot);
            }
        }
        let started = Instant::now();
        let deadline = started + self.wait;
        let mut signal = self.freed.0.lock().unwrap_or_else(PoisonError::into_inner);
        self.waiting.fetch_add(1, Ordering::AcqRel);
        let taken = loop {
            if let Some(slot) = self.free() {
                break Ok(slot);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break Err(StoreError::Busy);
            }
            // A slot given back signals; the timeout is only a backstop.
            signal = match self.freed.1.wait_timeout(signal, left.min(Duration::from_secs(1))) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        };
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        self.stats.waited(started.elapsed());
        if taken.is_err() {
            self.stats.timeouts.fetch_add(1, Ordering::Relaxed);
        }
        taken
    }

    /// What the pool measured so far, under the name `pool`.
    pub(crate) fn stats(&self, pool: &'static str) -> PoolStats {
        self.stats.snapshot(pool)
    }

    /// The first free slot, if any.
    fn free(&self) -> Option<Slot<'_, C>> {
        self.slots.iter().find_map(|slot| {
            let guard = match slot.try_lock() {
                Ok(guard) => guard,
                Err(TryLockError::Poisoned(p)) => p.into_inner(),
                Err(TryLockError::WouldBlock) => return None,
            };
            Some(Slot { guard, _given_back: GivenBack(&self.freed) })
        })
    }

    /// Runs `f` on each connection that is free at this moment, one at a time, and waits for
    /// none that is held (housekeeping must not delay the connections' users); nothing while
    /// callers wait for a connection. A waiter is woken after each, as when a holder gives one
    /// back.
    pub(crate) fn for_each_free(&self, mut f: impl FnMut(&mut C)) {
        for slot in &self.slots {
            if self.waiting.load(Ordering::Acquire) != 0 {
                return;
            }
            let guard = match slot.try_lock() {
                Ok(guard) => guard,
                Err(TryLockError::Poisoned(p)) => p.into_inner(),
                Err(TryLockError::WouldBlock) => continue,
            };
            let mut taken = Slot { guard, _given_back: GivenBack(&self.freed) };
            f(&mut *taken);
        }
    }

    /// How many connections there are.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_out_free_slots_first() {
        let mut n = 0;
        let slots = Slots::open(2, || {
            n += 1;
            Ok(n)
        })
        .unwrap();
        assert_eq!(slots.len(), 2);
        let a = slots.take().unwrap();
        let b = slots.take().unwrap();
        assert_ne!(*a, *b);
        drop(a);
        assert_eq!(*slots.take().unwrap(), 1);
    }

    #[test]
    fn a_waiter_gets_the_slot_given_back() {
        let slots = Slots::open(1, || Ok(7)).unwrap();
        let held = slots.take().unwrap();
        std::thread::scope(|s| {
            let waiter = s.spawn(|| slots.take().map(|slot| *slot));
            std::thread::sleep(Duration::from_millis(50));
            drop(held);
            assert_eq!(waiter.join().unwrap().unwrap(), 7);
        });
    }

    /// A thread that holds every slot and asks for one more gets `Busy` once the wait is over,
    /// instead of waiting forever.
    #[test]
    fn no_free_slot_within_the_wait_is_busy() {
        let mut slots = Slots::open(1, || Ok(7)).unwrap();
        slots.wait = Duration::from_millis(20);
        let held = slots.take().unwrap();
        assert!(matches!(slots.take(), Err(StoreError::Busy)));
        drop(held);
        assert_eq!(*slots.take().unwrap(), 7);
        let stats = slots.stats("read");
        assert_eq!(stats.timeouts, 1);
        // Three takes: two at once (the first bucket), one that waited 20 ms in vain.
        assert_eq!(stats.waits.iter().sum::<u64>(), 3);
        assert_eq!(stats.waits[0], 2);
        assert!(stats.wait_seconds_sum >= 0.02, "{stats:?}");
    }

    /// Housekeeping visits the free connections only, and counts no wait.
    #[test]
    fn for_each_free_skips_held_slots() {
        let mut n = 0;
        let slots = Slots::open(3, || {
            n += 1;
            Ok(n)
        })
        .unwrap();
        let held = slots.take().unwrap();
        let mut seen = Vec::new();
        slots.for_each_free(|c| {
            seen.push(*c);
            *c += 10;
        });
        assert_eq!(seen, vec![2, 3]);
        assert_eq!(*held, 1);
        drop(held);
        let (a, b, c) = (slots.take().unwrap(), slots.take().unwrap(), slots.take().unwrap());
        assert_eq!((*a, *b, *c), (1, 12, 13));
        assert_eq!(slots.stats("postgres").waits.iter().sum::<u64>(), 4);
    }

    /// Each wait lands in the first bucket whose bound is at least the wait; above every bound
    /// it lands in the last one.
    #[test]
    fn waits_are_counted_in_fixed_buckets() {
        let stats = WaitStats::new();
        stats.waited(Duration::from_micros(100));
        stats.waited(Duration::from_micros(101));
        stats.waited(Duration::from_secs(31));
        let snap = stats.snapshot("write");
        assert_eq!(snap.waits.len(), snap.bounds_seconds.len() + 1);
        assert_eq!(snap.waits[0], 1);
        assert_eq!(snap.waits[1], 1);
        assert_eq!(*snap.waits.last().unwrap(), 1);
        assert!((snap.bounds_seconds[0] - 0.0001).abs() < 1e-12);
        assert!((snap.bounds_seconds.last().unwrap() - 30.0).abs() < 1e-12);
        assert!((snap.wait_seconds_sum - 31.000201).abs() < 1e-9, "{snap:?}");
        assert_eq!(snap.pool, "write");
    }
}

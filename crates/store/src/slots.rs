//! A fixed set of connections, each behind its own mutex: a pool without `Option`s to unwrap.
//! A caller takes the first free slot, or waits until one is free, for a bounded time.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::{Duration, Instant};

use crate::StoreError;

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
        })
    }

    /// Takes a connection: the first free one, else the first given back within [`WAIT`];
    /// [`StoreError::Busy`] after that.
    ///
    /// A slot whose last holder panicked is taken all the same: holders leave no transaction
    /// open (their guards roll back on drop, unwinding included), and each backend checks the
    /// connection's state when it begins.
    pub(crate) fn take(&self) -> Result<Slot<'_, C>, StoreError> {
        if self.waiting.load(Ordering::Acquire) == 0 {
            if let Some(slot) = self.free() {
                return Ok(slot);
            }
        }
        let deadline = Instant::now() + self.wait;
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
        taken
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
    }
}

//! A fixed set of connections, each behind its own mutex: a pool without `Option`s to unwrap.
//! A caller takes the first free slot, or waits on one in turn when all are busy.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};

use crate::StoreError;

/// N connections, opened up front.
pub(crate) struct Slots<C> {
    slots: Vec<Mutex<C>>,
    next: AtomicUsize,
}

impl<C> Slots<C> {
    /// Opens `n` (at least one) connections with `open`.
    pub(crate) fn open<F>(n: usize, mut open: F) -> Result<Self, StoreError>
    where
        F: FnMut() -> Result<C, StoreError>,
    {
        let slots = (0..n.max(1)).map(|_| open().map(Mutex::new)).collect::<Result<_, _>>()?;
        Ok(Self { slots, next: AtomicUsize::new(0) })
    }

    /// Takes a connection: the first free one, else waits for one, each in turn.
    ///
    /// A slot whose last holder panicked is taken all the same: holders leave no transaction
    /// open (their guards roll back on drop, unwinding included), and each backend checks the
    /// connection's state when it begins.
    pub(crate) fn take(&self) -> Result<MutexGuard<'_, C>, StoreError> {
        for slot in &self.slots {
            match slot.try_lock() {
                Ok(guard) => return Ok(guard),
                Err(TryLockError::Poisoned(p)) => return Ok(p.into_inner()),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        let n = self.slots.len();
        let i = self.next.fetch_add(1, Ordering::Relaxed) % n.max(1);
        let slot = self
            .slots
            .get(i)
            .ok_or_else(|| StoreError::Backend("connection pool is empty".into()))?;
        Ok(slot.lock().unwrap_or_else(PoisonError::into_inner))
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
}

//! Group commit for audit-only appends (reads, denials, failed authentication): requests hand
//! their event to one writer thread, which appends a batch in one transaction and answers each
//! request only after the batch has committed. One fsync then covers many requests, and every
//! request still waits for its own event to be durable (fail closed: a failed batch fails every
//! request in it).

use crate::error::ApiError;
use crate::observe::Metrics;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Instant;

/// Most events in one transaction.
pub const MAX_BATCH: usize = 256;

struct Job {
    account: String,
    event: Vec<u8>,
    leaf: audit::merkle::Hash,
    /// When the request handed it over (its wait ends when its batch does).
    enqueued: Instant,
    done: tokio::sync::oneshot::Sender<Result<(), ApiError>>,
}

/// The handle requests use to append their event.
#[derive(Clone, Debug)]
pub struct AuditWriter {
    jobs: mpsc::Sender<JobEnvelope>,
}

/// Keeps `Job` private while the channel type is public-facing.
pub struct JobEnvelope(Job);

impl std::fmt::Debug for JobEnvelope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JobEnvelope")
    }
}

impl AuditWriter {
    /// Starts the writer thread over `store`, measuring its batches into `metrics`.
    pub fn start(store: Arc<dyn store::Store>, metrics: Arc<Metrics>) -> AuditWriter {
        let (tx, rx) = mpsc::channel::<JobEnvelope>();
        std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || writer(store.as_ref(), &rx, &metrics))
            .ok();
        AuditWriter { jobs: tx }
    }

    /// Appends `event` to `account`'s log; resolves once it is committed.
    pub async fn append(&self, account: &str, event: Vec<u8>) -> Result<(), ApiError> {
        let (done, wait) = tokio::sync::oneshot::channel();
        let leaf = audit::merkle::leaf_hash(&event);
        let job = Job { account: account.to_string(), event, leaf, enqueued: Instant::now(), done };
        self.jobs
            .send(JobEnvelope(job))
            .map_err(|_| ApiError::unavailable("the audit log is unavailable"))?;
        wait.await.unwrap_or_else(|_| Err(ApiError::unavailable("the audit log is unavailable")))
    }
}

fn writer(store: &dyn store::Store, rx: &mpsc::Receiver<JobEnvelope>, metrics: &Metrics) {
    loop {
        let Ok(JobEnvelope(first)) = rx.recv() else { return };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(JobEnvelope(job)) => batch.push(job),
                Err(_) => break,
            }
        }
        let result = commit(store, &batch);
        metrics.audit_batch(batch.len(), result.is_err());
        for job in batch {
            metrics.audit_waited(job.enqueued.elapsed());
            let _ = job.done.send(result.clone());
        }
    }
}

fn commit(store: &dyn store::Store, batch: &[Job]) -> Result<(), ApiError> {
    let unavailable = |_| ApiError::unavailable("the audit log could not be written");
    let mut tx = store.begin().map_err(unavailable)?;
    // Per account (accounts' logs are independent), in account order: every transaction that
    // appends to several logs locks their heads in that order (`events::append`), so two
    // of them never wait for each other's heads.
    let mut accounts: Vec<&str> = batch.iter().map(|job| job.account.as_str()).collect();
    accounts.sort_unstable();
    accounts.dedup();
    for account in accounts {
        let events: Vec<(&[u8], audit::merkle::Hash)> = batch
            .iter()
            .filter(|j| j.account == account)
            .map(|j| (j.event.as_slice(), j.leaf))
            .collect();
        // A log whose head fails its MAC (events appended or rewritten behind the server's
        // back) takes no more events: said as an alarm, and the requests fail.
        tx.append_events(account, &events).map_err(|e| match e {
            e @ store::StoreError::Forged { .. } => ApiError::from(e),
            other => unavailable(other),
        })?;
    }
    tx.commit().map_err(unavailable)
}

//! Plain OS threads for store work. The store is synchronous, and its PostgreSQL client runs a
//! private async runtime of its own, which cannot start on a thread tokio is driving (tokio's
//! blocking pool included). These threads belong to no runtime, so either backend works there.
//!
//! A server's pool has three lanes. Requests run on the store lane, as many threads as the
//! store has connections (at least [`STORE_THREADS`]): more would only wait for a connection,
//! and on a small machine their waking costs the database CPU (PERFORMANCE.md, issue
//! 20's "Step 5"). A request whose body streams holds its thread while the body arrives, and a
//! streamed answer holds one while the client reads it: those wait on the network, not the
//! store, and run on lanes of their own, so that slow uploads or downloads never take the
//! threads every other request needs.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

type Job = Box<dyn FnOnce() + Send>;

/// Fewest threads of the store lane.
pub const STORE_THREADS: usize = 8;
/// Threads of the download lane: streamed answers being sent at once (more wait their turn).
pub const DOWNLOAD_THREADS: usize = 16;

/// Where a job runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    /// A request's store work (authentication, authorization, its handler).
    Store,
    /// A request whose body streams to it while it runs
    /// ([`crate::protocol::payload::MAX_STREAMS`] at once, so never queued).
    Upload,
    /// A streamed answer's producer.
    Download,
}

/// A fixed pool of threads outside any async runtime, in lanes.
#[derive(Clone, Debug)]
pub struct Pool {
    store: mpsc::Sender<Job>,
    /// `None`: the lane runs on the store lane.
    upload: Option<mpsc::Sender<Job>>,
    download: Option<mpsc::Sender<Job>>,
}

/// Starts `threads` workers named `name-N` taking jobs from one queue.
fn lane(name: &str, threads: usize) -> mpsc::Sender<Job> {
    let (tx, rx) = mpsc::channel::<Job>();
    let rx = Arc::new(Mutex::new(rx));
    for i in 0..threads.max(1) {
        let rx = rx.clone();
        let _ = std::thread::Builder::new().name(format!("{name}-{i}")).spawn(move || loop {
            let job = match rx.lock() {
                Ok(guard) => guard.recv(),
                Err(_) => return,
            };
            match job {
                // A job that panics answers `None` (its sender is dropped) and the thread
                // lives on: a lane never loses threads.
                Ok(job) => {
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                }
                Err(_) => return,
            }
        });
    }
    tx
}

impl Pool {
    /// `threads` workers, every lane on them (for start-up work).
    pub fn new(threads: usize) -> Pool {
        Pool { store: lane("store", threads), upload: None, download: None }
    }

    /// A server's pool: a store lane of `store` threads, an upload lane of `uploads` and a
    /// download lane of `downloads`.
    pub fn with_lanes(store: usize, uploads: usize, downloads: usize) -> Pool {
        Pool {
            store: lane("store", store),
            upload: Some(lane("upload", uploads)),
            download: Some(lane("download", downloads)),
        }
    }

    /// Runs `work` on a store-lane thread; `None` if the pool is gone or the work panicked.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        self.run_in(Lane::Store, work).await
    }

    /// Runs `work` on a thread of `lane`; `None` if the pool is gone or the work panicked.
    pub async fn run_in<T: Send + 'static>(
        &self,
        lane: Lane,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (done, wait) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(work());
        });
        let queue = match lane {
            Lane::Store => &self.store,
            Lane::Upload => self.upload.as_ref().unwrap_or(&self.store),
            Lane::Download => self.download.as_ref().unwrap_or(&self.store),
        };
        queue.send(job).ok()?;
        wait.await.ok()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    fn thread_name() -> String {
        std::thread::current().name().unwrap_or("").to_string()
    }

    #[tokio::test]
    async fn each_lane_runs_on_its_own_threads() {
        let pool = Pool::with_lanes(2, 1, 1);
        assert!(pool.run(thread_name).await.unwrap().starts_with("store-"));
        assert_eq!(pool.run_in(Lane::Upload, thread_name).await.unwrap(), "upload-0");
        assert_eq!(pool.run_in(Lane::Download, thread_name).await.unwrap(), "download-0");
        // A start-up pool has one lane.
        let small = Pool::new(1);
        assert_eq!(small.run_in(Lane::Upload, thread_name).await.unwrap(), "store-0");
    }

    #[tokio::test]
    async fn busy_stream_lanes_leave_the_store_lane_free() {
        let pool = Pool::with_lanes(1, 1, 1);
        // The upload and download lanes' only threads block until released.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let held = Arc::new(Mutex::new(held));
        let (h1, h2) = (held.clone(), held.clone());
        let upload = tokio::spawn({
            let pool = pool.clone();
            async move { pool.run_in(Lane::Upload, move || h1.lock().unwrap().recv().ok()).await }
        });
        let download = tokio::spawn({
            let pool = pool.clone();
            async move { pool.run_in(Lane::Download, move || h2.lock().unwrap().recv().ok()).await }
        });
        // The store lane still answers while both stream lanes are held.
        assert_eq!(pool.run(|| 7).await, Some(7));
        release.send(()).unwrap();
        release.send(()).unwrap();
        upload.await.unwrap().unwrap();
        download.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn a_panicking_job_answers_none_and_the_lane_goes_on() {
        let pool = Pool::with_lanes(1, 1, 1);
        assert_eq!(pool.run(|| -> u8 { panic!("boom") }).await, None);
        assert_eq!(pool.run(|| 1).await, Some(1));
    }
}

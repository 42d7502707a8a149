//! The pool that runs CPU-heavy work (diagnoses, device queries, log analysis) off the async
//! workers. A fixed number of threads (one per core by default) take jobs from a bounded queue,
//! so at most that many heavy jobs run at once and a flood of them waits in the queue (or is
//! refused with 503 when the queue is full) instead of holding the threads that answer every
//! other route. The threads can run at a lower scheduling priority ([`HeavyPool::with_nice`];
//! `nice` 0 by default, see [`NICE`]).

use std::sync::mpsc::{RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Job = Box<dyn FnOnce() + Send + 'static>;

/// Why a job did not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    #[error("the server is busy: too many heavy requests are waiting; try again in a moment")]
    Busy,
    #[error("the work failed unexpectedly")]
    Failed,
}

pub struct HeavyPool {
    tx: SyncSender<Job>,
    workers: usize,
}

impl std::fmt::Debug for HeavyPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeavyPool")
            .field("workers", &self.workers)
            .finish()
    }
}

/// Jobs that may wait for a worker, per worker.
pub const QUEUE_PER_WORKER: usize = 256;
/// After this long without a job, a worker that worked hands freed memory back to the system.
pub const IDLE_TRIM: Duration = Duration::from_secs(1);
/// How much lower the workers' priority is (`nice`). 0: measured with `scripts/load-web.sh`
/// on the shared 2-core machine, nice 10 kept `/api/explain` a little faster beside heavy
/// requests (p99 8-12 ms against 10-15 ms) but let every other process on the machine (and
/// the load generator) starve the diagnoses: variety p99 130 ms against 76-107 ms, heavy p99
/// 210-260 ms against 50 ms. The bound on workers is what keeps the async workers free.
pub const NICE: i32 = 0;

impl HeavyPool {
    /// `workers` threads (at least one) and a queue of `QUEUE_PER_WORKER` jobs per thread.
    pub fn new(workers: usize) -> HeavyPool {
        HeavyPool::with_nice(workers, NICE)
    }

    /// As [`new`](Self::new), the workers at `nice` (0: the same priority as the rest).
    pub fn with_nice(workers: usize, nice: i32) -> HeavyPool {
        let workers = workers.max(1);
        let (tx, rx) = sync_channel::<Job>(workers * QUEUE_PER_WORKER);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..workers {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("heavy-{i}"))
                .spawn(move || {
                    lower_priority(nice);
                    let mut dirty = false;
                    loop {
                        let job = {
                            let guard = rx.lock().unwrap_or_else(|p| p.into_inner());
                            guard.recv_timeout(IDLE_TRIM)
                        };
                        match job {
                            // A panicking job is caught so that the worker lives on.
                            Ok(job) => {
                                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                                dirty = true;
                            }
                            Err(RecvTimeoutError::Timeout) => {
                                if dirty {
                                    release_free_memory();
                                    dirty = false;
                                }
                            }
                            Err(RecvTimeoutError::Disconnected) => break,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::warn!("cannot start heavy worker {i}: {e}");
            }
        }
        HeavyPool { tx, workers }
    }

    /// The default size: one worker per core.
    pub fn default_workers() -> usize {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    }

    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Run `f` on a worker and wait for its result without blocking the async thread.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PoolError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        match self.tx.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(PoolError::Busy),
            Err(TrySendError::Disconnected(_)) => return Err(PoolError::Failed),
        }
        rx.await.map_err(|_| PoolError::Failed)
    }
}

impl Default for HeavyPool {
    fn default() -> Self {
        HeavyPool::new(HeavyPool::default_workers())
    }
}

/// Lower this thread's scheduling priority (Linux: `nice` is per thread).
fn lower_priority(nice: i32) {
    #[cfg(target_os = "linux")]
    if nice > 0 {
        // SAFETY: setpriority on the calling thread (who = 0); no memory involved.
        unsafe {
            let _ = libc::setpriority(libc::PRIO_PROCESS, 0, nice);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = nice;
}

/// Hand memory freed by heavy requests back to the system (glibc keeps it in its arenas
/// otherwise, and the server would stay at its peak after a burst).
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn jobs_run_and_return() {
        let p = HeavyPool::new(2);
        assert_eq!(p.run(|| 6 * 7).await, Ok(42));
    }

    #[tokio::test]
    async fn no_more_than_the_workers_run_at_once() {
        let p = Arc::new(HeavyPool::new(2));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (p, running, most) = (p.clone(), running.clone(), most.clone());
            tasks.push(tokio::spawn(async move {
                p.run(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
                .await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_full_queue_says_busy_and_a_panic_does_not_kill_the_worker() {
        let p = Arc::new(HeavyPool::new(1));
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let release_rx = Arc::new(Mutex::new(release_rx));
        // Hold the only worker, then fill the queue.
        let blocker = {
            let (p, r) = (p.clone(), release_rx.clone());
            tokio::spawn(async move {
                p.run(move || {
                    let _ = r.lock().unwrap().recv();
                })
                .await
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut queued = Vec::new();
        for _ in 0..QUEUE_PER_WORKER {
            let p = p.clone();
            queued.push(tokio::spawn(async move { p.run(|| ()).await }));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(p.run(|| ()).await, Err(PoolError::Busy));
        release_tx.send(()).unwrap();
        blocker.await.unwrap().unwrap();
        for q in queued {
            q.await.unwrap().unwrap();
        }
        assert_eq!(
            p.run(|| -> () { panic!("boom") }).await,
            Err(PoolError::Failed)
        );
        assert_eq!(p.run(|| 1).await, Ok(1));
    }
}

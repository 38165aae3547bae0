//! Blocking work called from async code. The binary owns the one tokio runtime; library
//! async functions move their blocking parts (SQLite, file parsing, rayon) onto its blocking
//! pool with [`off_executor`], so they never stall the executor threads.

/// Run `f` on the runtime's blocking pool and wait for it. A panic in `f` resumes here, as
/// if `f` had run inline.
pub async fn off_executor<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(f).await {
        Ok(v) => v,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Only a runtime shutting down cancels a blocking task; nothing is left to answer.
        Err(e) => panic!("blocking task cancelled: {e}"),
    }
}

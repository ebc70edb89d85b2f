//! Why `agentc run` stops before its input ends: SIGINT or SIGTERM, or standard output
//! closed under it (the trace's reader went away). Either way it stops reading, lets the
//! actions running finish for a grace period, emits the `end` records and exits non-zero.

use std::process::ExitCode;
use tokio::sync::Notify;

/// What stopped a run early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopped {
    Interrupt,
    Terminate,
    /// Writing the trace failed: nobody reads it any more.
    OutputClosed,
}

impl Stopped {
    /// 128 + the signal's number for a signal, as shells report it; 1 otherwise.
    pub fn exit_code(self) -> ExitCode {
        match self {
            Stopped::Interrupt => ExitCode::from(130),
            Stopped::Terminate => ExitCode::from(143),
            Stopped::OutputClosed => ExitCode::FAILURE,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Stopped::Interrupt => "interrupted (SIGINT)",
            Stopped::Terminate => "terminated (SIGTERM)",
            Stopped::OutputClosed => "standard output was closed",
        }
    }
}

/// SIGINT and SIGTERM, listened to from the start of the run (they no longer kill it).
pub struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    pub fn listen() -> std::io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Signals {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    /// The next signal.
    pub async fn next(&mut self) -> Stopped {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => Stopped::Interrupt,
                _ = self.terminate.recv() => Stopped::Terminate,
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            Stopped::Interrupt
        }
    }
}

/// Set by the trace's sink when standard output fails; the run waits on it.
#[derive(Default)]
pub struct OutputGone {
    gone: std::sync::atomic::AtomicBool,
    notify: Notify,
}

impl OutputGone {
    pub fn set(&self) {
        if !self.gone.swap(true, std::sync::atomic::Ordering::SeqCst) {
            // A permit is stored if nobody waits yet.
            self.notify.notify_one();
        }
    }

    pub fn is_set(&self) -> bool {
        self.gone.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub async fn wait(&self) {
        self.notify.notified().await;
    }
}

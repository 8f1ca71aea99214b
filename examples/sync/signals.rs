//! SIGINT, SIGTERM and SIGHUP all stop a sync the same way: the runner is
//! cancelled, commits what the output has durably accepted, and the process
//! exits with 128 + the signal's number (130, 143, 129), as shells and
//! service managers expect. A second signal exits at once: the state still
//! names the last commit, so nothing is lost, only the last batch redone.

use std::sync::{Arc, OnceLock};

use connector_core::{CancellationToken, Error, ErrorKind};

/// A signal that stops the sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// SIGINT: Ctrl-C at a terminal.
    Interrupt,
    /// SIGTERM: `kill`, a service manager, a container runtime.
    Terminate,
    /// SIGHUP: the terminal went away.
    Hangup,
}

impl Stop {
    pub fn name(self) -> &'static str {
        match self {
            Stop::Interrupt => "interrupted (SIGINT)",
            Stop::Terminate => "terminated (SIGTERM)",
            Stop::Hangup => "hung up (SIGHUP)",
        }
    }

    /// 128 + the signal number.
    pub fn exit_code(self) -> u8 {
        match self {
            Stop::Interrupt => 130,
            Stop::Terminate => 143,
            Stop::Hangup => 129,
        }
    }
}

/// Remembers the first stopping signal.
#[derive(Debug, Default)]
pub struct Signals {
    first: Arc<OnceLock<Stop>>,
}

impl Signals {
    /// The signal that stopped the sync, if one did.
    pub fn received(&self) -> Option<Stop> {
        self.first.get().copied()
    }

    /// Cancel `cancel` on the first signal; exit on the second. Must be
    /// called inside the runtime.
    pub fn watch(&self, cancel: CancellationToken) -> Result<(), Error> {
        let mut listener = Listener::new()?;
        let first = Arc::clone(&self.first);
        tokio::spawn(async move {
            let Some(stop) = listener.next().await else {
                return;
            };
            let _ = first.set(stop);
            cancel.cancel();
            if let Some(again) = listener.next().await {
                eprintln!(
                    "{}: stopping without waiting for the commit; the next run resumes from the last one",
                    again.name()
                );
                std::process::exit(i32::from(again.exit_code()));
            }
        });
        Ok(())
    }
}

#[cfg(unix)]
struct Listener {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
    hangup: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Listener {
    fn new() -> Result<Self, Error> {
        use tokio::signal::unix::{SignalKind, signal};
        let install = |kind: SignalKind| {
            signal(kind).map_err(|e| {
                Error::new(ErrorKind::Io, format!("cannot handle signals: {e}")).with_source(e)
            })
        };
        Ok(Self {
            interrupt: install(SignalKind::interrupt())?,
            terminate: install(SignalKind::terminate())?,
            hangup: install(SignalKind::hangup())?,
        })
    }

    async fn next(&mut self) -> Option<Stop> {
        tokio::select! {
            s = self.interrupt.recv() => s.map(|()| Stop::Interrupt),
            s = self.terminate.recv() => s.map(|()| Stop::Terminate),
            s = self.hangup.recv() => s.map(|()| Stop::Hangup),
        }
    }
}

/// Elsewhere only Ctrl-C exists.
#[cfg(not(unix))]
struct Listener;

#[cfg(not(unix))]
impl Listener {
    fn new() -> Result<Self, Error> {
        Ok(Self)
    }

    async fn next(&mut self) -> Option<Stop> {
        tokio::signal::ctrl_c().await.ok().map(|()| Stop::Interrupt)
    }
}

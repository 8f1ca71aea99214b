//! What the user sees while a sync runs: a progress bar on a terminal,
//! plain lines otherwise, or JSON events for a host that reads stderr.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use connector_core::DocumentFailure;
use connector_core::runner::{SyncEvent, SyncObserver, SyncStatus, SyncWarning};
use indicatif::{ProgressBar, ProgressStyle};

/// Plain progress lines at most this often.
const LINE_EVERY: Duration = Duration::from_secs(2);

pub enum Progress {
    Bar(ProgressBar),
    Lines(Mutex<Instant>),
    Json,
}

impl Progress {
    pub fn new(json: bool) -> Self {
        if json {
            return Progress::Json;
        }
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            Progress::Bar(bar)
        } else {
            Progress::Lines(Mutex::new(Instant::now()))
        }
    }

    pub fn finish(&self) {
        if let Progress::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }

    fn line(&self, text: &str) {
        match self {
            Progress::Bar(bar) => bar.println(text),
            _ => eprintln!("{text}"),
        }
    }
}

fn counts(e: &SyncEvent) -> String {
    format!(
        "{} documents, {} unchanged, {} failed, {} deleted",
        e.documents_processed, e.documents_skipped, e.documents_failed, e.documents_deleted
    )
}

impl SyncObserver for Progress {
    fn on_event(&self, event: &SyncEvent) {
        match self {
            Progress::Json => {
                if let Ok(line) = serde_json::to_string(event) {
                    eprintln!("{line}");
                }
            }
            Progress::Bar(bar) => bar.set_message(counts(event)),
            Progress::Lines(last) => {
                if event.status != SyncStatus::SyncProgress {
                    return;
                }
                let Ok(mut last) = last.lock() else { return };
                if last.elapsed() >= LINE_EVERY {
                    *last = Instant::now();
                    eprintln!("progress: {}", counts(event));
                }
            }
        }
    }

    fn on_failure(&self, failure: &DocumentFailure) {
        match self {
            Progress::Json => {
                let event = serde_json::json!({"type": "document_failed", "id": failure.id, "reason": failure.reason});
                eprintln!("{event}");
            }
            _ => self.line(&format!("failed: {}: {}", failure.id, failure.reason)),
        }
    }

    fn on_deleted(&self, id: &str) {
        if let Progress::Json = self {
            eprintln!(
                "{}",
                serde_json::json!({"type": "document_deleted", "id": id})
            );
        }
    }

    fn on_warning(&self, warning: &SyncWarning) {
        // People read the warnings in the summary; a host reading JSON gets
        // each as it happens.
        if let Progress::Json = self {
            let mut event = serde_json::to_value(warning).unwrap_or_default();
            if let Some(fields) = event.as_object_mut() {
                fields.insert("type".into(), "sync_warning".into());
                fields.insert("message".into(), warning.to_string().into());
            }
            eprintln!("{event}");
        }
    }
}

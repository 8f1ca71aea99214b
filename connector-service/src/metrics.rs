//! Prometheus metrics, served as text at `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

/// A connector kind label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConnectorLabel {
    /// `jira`, `confluence`, …
    pub connector: String,
}

/// A rejection reason label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    /// `unauthorized`, `invalid`, `too_large`.
    pub reason: String,
}

/// The service's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Mutex<Registry>,
    /// Sync jobs accepted onto the queue.
    pub jobs_queued: Counter,
    /// Sync requests folded into a job already queued or running.
    pub jobs_coalesced: Counter,
    /// Sync jobs running in this process.
    pub jobs_running: Gauge,
    /// Sync jobs completed.
    pub jobs_completed: Counter,
    /// Sync jobs failed.
    pub jobs_failed: Counter,
    /// Verifications run.
    pub verifications: Counter,
    /// Documents delivered to sinks.
    pub documents: Counter,
    /// Webhooks refused, by reason.
    pub webhooks_rejected: Family<ReasonLabel, Counter>,
    /// Requests sent to sources, by connector.
    pub source_requests: Family<ConnectorLabel, Counter>,
    /// Seconds source requests waited on rate control, by connector.
    pub source_throttled_seconds: Family<ConnectorLabel, Counter<f64, AtomicU64>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every metric, registered under the `connector_service` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("connector_service");
        let m = Self {
            registry: Mutex::new(Registry::default()),
            jobs_queued: Counter::default(),
            jobs_coalesced: Counter::default(),
            jobs_running: Gauge::default(),
            jobs_completed: Counter::default(),
            jobs_failed: Counter::default(),
            verifications: Counter::default(),
            documents: Counter::default(),
            webhooks_rejected: Family::default(),
            source_requests: Family::default(),
            source_throttled_seconds: Family::default(),
        };
        registry.register("jobs_queued", "Sync jobs queued", m.jobs_queued.clone());
        registry.register(
            "jobs_coalesced",
            "Sync requests coalesced into a queued or running job",
            m.jobs_coalesced.clone(),
        );
        registry.register(
            "jobs_running",
            "Sync jobs running in this process",
            m.jobs_running.clone(),
        );
        registry.register(
            "jobs_completed",
            "Sync jobs completed",
            m.jobs_completed.clone(),
        );
        registry.register("jobs_failed", "Sync jobs failed", m.jobs_failed.clone());
        registry.register(
            "verifications",
            "Credential verifications run",
            m.verifications.clone(),
        );
        registry.register(
            "documents",
            "Documents delivered to sinks",
            m.documents.clone(),
        );
        registry.register(
            "webhooks_rejected",
            "Webhooks refused",
            m.webhooks_rejected.clone(),
        );
        registry.register(
            "source_requests",
            "Requests sent to sources",
            m.source_requests.clone(),
        );
        registry.register(
            "source_throttled_seconds",
            "Time source requests waited on rate control or Retry-After",
            m.source_throttled_seconds.clone(),
        );
        *m.registry.lock().unwrap_or_else(|e| e.into_inner()) = registry;
        m
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        out
    }

    /// Count a webhook refused for `reason`.
    pub fn rejected(&self, reason: &str) {
        self.webhooks_rejected
            .get_or_create(&ReasonLabel {
                reason: reason.into(),
            })
            .inc();
    }

    /// Add a sync's source figures.
    pub fn source(&self, connector: &str, metrics: &connector_core::SourceMetrics) {
        let label = ConnectorLabel {
            connector: connector.into(),
        };
        self.source_requests
            .get_or_create(&label)
            .inc_by(metrics.requests);
        self.source_throttled_seconds
            .get_or_create(&label)
            .inc_by(metrics.throttled_time.as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_exposition_names_the_metrics() {
        let m = Metrics::new();
        m.jobs_queued.inc();
        m.rejected("unauthorized");
        let text = m.encode();
        assert!(
            text.contains("connector_service_jobs_queued_total 1"),
            "{text}"
        );
        assert!(
            text.contains("connector_service_webhooks_rejected_total{reason=\"unauthorized\"} 1"),
            "{text}"
        );
    }
}

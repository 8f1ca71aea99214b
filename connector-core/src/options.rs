//! Options every source shares, in one serde shape a host embeds in each
//! connector's configuration: rate, concurrency, retry, timeouts, the
//! attachment cap, TLS roots and proxy. One way to set each knob; each
//! source picks its own defaults for what is unset.
//!
//! ```
//! use connector_core::options::SourceOptions;
//!
//! let options: SourceOptions = serde_json::from_value(serde_json::json!({
//!     "rate": 20.0,
//!     "concurrency": 4,
//!     "retry": {"max_attempts": 5, "max_elapsed_secs": 120},
//!     "request_timeout_secs": 30,
//!     "attachment_max_bytes": 10485760,
//! }))?;
//! options.validate()?;
//! assert_eq!(options.concurrency_or(8), 4);
//! assert_eq!(options.retry.max_attempts, 5);
//!
//! let err = serde_json::from_value::<SourceOptions>(serde_json::json!({"rate_limit": 5}))
//!     .unwrap_err();
//! assert!(err.to_string().contains("rate_limit"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// What every source's configuration embeds (`#[serde(flatten)]` or a
/// field named `options`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct SourceOptions {
    /// Requests per second at most. Unset: the source starts at its own
    /// default and adapts to what the server allows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// Requests in flight at once for downloads and sub-resources (comments,
    /// permissions). Unset: the source's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<usize>,
    /// How failed requests are retried.
    pub retry: RetryPolicy,
    /// Time to open a connection (default 10 s).
    #[serde(
        rename = "connect_timeout_secs",
        with = "opt_secs",
        skip_serializing_if = "Option::is_none"
    )]
    pub connect_timeout: Option<Duration>,
    /// Time for a whole request, body included (default 120 s).
    #[serde(
        rename = "request_timeout_secs",
        with = "opt_secs",
        skip_serializing_if = "Option::is_none"
    )]
    pub request_timeout: Option<Duration>,
    /// Download attachment bytes up to this size each (none by default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment_max_bytes: Option<u64>,
    /// Extra trusted root certificates (PEM files), added to the platform's
    /// trust store — for a TLS-inspecting proxy or a private CA.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tls_roots: Vec<PathBuf>,
    /// A proxy for every request (`http://proxy:3128`). Unset: `HTTPS_PROXY`,
    /// `HTTP_PROXY` and `NO_PROXY` from the environment apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
    /// A client the host built itself (its own TLS, proxy, connection pool);
    /// replaces `tls_roots`, `proxy` and the timeouts.
    #[cfg(feature = "http")]
    #[serde(skip)]
    pub client: Option<reqwest::Client>,
}

impl SourceOptions {
    /// Check the values; errors name the field and the fix.
    pub fn validate(&self) -> Result<()> {
        if let Some(rate) = self.rate
            && !(rate.is_finite() && rate > 0.0)
        {
            return Err(Error::config(
                "rate must be a positive number of requests per second",
            ));
        }
        if self.concurrency == Some(0) {
            return Err(Error::config("concurrency must be at least 1"));
        }
        if self.retry.max_attempts == 0 {
            return Err(Error::config("retry.max_attempts must be at least 1"));
        }
        for (name, value) in [
            ("connect_timeout_secs", self.connect_timeout),
            ("request_timeout_secs", self.request_timeout),
        ] {
            if value == Some(Duration::ZERO) {
                return Err(Error::config(format!("{name} must be more than 0")));
            }
        }
        if let Some(proxy) = &self.proxy
            && !(proxy.starts_with("http://")
                || proxy.starts_with("https://")
                || proxy.starts_with("socks5://"))
        {
            return Err(Error::config(
                "proxy must be a URL such as http://proxy.example.com:3128",
            ));
        }
        Ok(())
    }

    /// The concurrency, or the source's `default`.
    pub fn concurrency_or(&self, default: usize) -> usize {
        self.concurrency.unwrap_or(default).max(1)
    }

    /// Set the rate ceiling.
    pub fn with_rate(mut self, rate: f64) -> Self {
        self.rate = Some(rate);
        self
    }

    /// Set the concurrency.
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = Some(concurrency);
        self
    }

    /// Set the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Download attachment bytes up to `max_bytes` each.
    pub fn with_attachment_bytes(mut self, max_bytes: u64) -> Self {
        self.attachment_max_bytes = Some(max_bytes);
        self
    }

    /// Trust the root certificates in this PEM file too.
    pub fn with_tls_root(mut self, pem: impl Into<PathBuf>) -> Self {
        self.tls_roots.push(pem.into());
        self
    }

    /// Use a client the host built.
    #[cfg(feature = "http")]
    pub fn with_client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }
}

/// How a client retries failed idempotent requests.
///
/// Delays grow exponentially from `min_delay` to `max_delay`, each with a
/// random jitter of up to the delay itself added (so with the defaults a
/// late retry waits between 30 and 60 seconds, and requests that failed
/// together do not retry together); a
/// server's `Retry-After` (or rate-limit reset header) replaces the delay when
/// it is longer, unless it exceeds `max_retry_after`, in which case the
/// request fails with a [`RateLimited`](crate::ErrorKind::RateLimited) error
/// carrying the wait, so the host can reschedule.
///
/// ```
/// use std::time::Duration;
/// use connector_core::options::RetryPolicy;
/// let patient = RetryPolicy::default().with_max_attempts(12).with_max_elapsed(Duration::from_secs(900));
/// assert_eq!(patient.max_attempts, 12);
/// assert_eq!(RetryPolicy::none().max_attempts, 1);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// No retry starts once this much time has passed since the first attempt.
    #[serde(rename = "max_elapsed_secs", with = "secs")]
    pub max_elapsed: Duration,
    /// First backoff delay.
    #[serde(rename = "min_delay_secs", with = "secs")]
    pub min_delay: Duration,
    /// Longest backoff delay.
    #[serde(rename = "max_delay_secs", with = "secs")]
    pub max_delay: Duration,
    /// Longest server-requested wait the client accepts.
    #[serde(rename = "max_retry_after_secs", with = "secs")]
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            max_elapsed: Duration::from_secs(300),
            min_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Set [`max_attempts`](Self::max_attempts) (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Set [`max_elapsed`](Self::max_elapsed).
    pub fn with_max_elapsed(mut self, elapsed: Duration) -> Self {
        self.max_elapsed = elapsed;
        self
    }

    /// Set the backoff range.
    pub fn with_delays(mut self, min: Duration, max: Duration) -> Self {
        self.min_delay = min;
        self.max_delay = max.max(min);
        self
    }

    /// Set [`max_retry_after`](Self::max_retry_after).
    pub fn with_max_retry_after(mut self, wait: Duration) -> Self {
        self.max_retry_after = wait;
        self
    }
}

/// Durations as seconds (fractions allowed) in configuration.
mod secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        Duration::try_from_secs_f64(secs).map_err(|_| {
            serde::de::Error::custom(format!("{secs} is not a number of seconds of 0 or more"))
        })
    }
}

mod opt_secs {
    use std::time::Duration;

    use serde::{Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::secs::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        super::secs::deserialize(d).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_field_names_in_errors() {
        let options = SourceOptions::default()
            .with_rate(5.0)
            .with_retry(RetryPolicy::default().with_max_attempts(3));
        let json = serde_json::to_value(&options).unwrap();
        assert_eq!(json["rate"], 5.0);
        assert_eq!(json["retry"]["max_attempts"], 3);
        assert_eq!(json["retry"]["max_elapsed_secs"], 300.0);
        let back: SourceOptions = serde_json::from_value(json).unwrap();
        assert_eq!(back.retry, options.retry);

        for (bad, field) in [
            (serde_json::json!({"rate": -1}), "rate"),
            (serde_json::json!({"concurrency": 0}), "concurrency"),
            (
                serde_json::json!({"retry": {"max_attempts": 0}}),
                "retry.max_attempts",
            ),
            (
                serde_json::json!({"request_timeout_secs": 0}),
                "request_timeout_secs",
            ),
            (serde_json::json!({"proxy": "proxy:3128"}), "proxy"),
        ] {
            let parsed: SourceOptions = serde_json::from_value(bad).unwrap();
            let err = parsed.validate().unwrap_err().to_string();
            assert!(err.contains(field), "{err}");
        }
        let err = serde_json::from_value::<SourceOptions>(
            serde_json::json!({"connect_timeout_secs": -2}),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("seconds"), "{err}");
    }
}

//! The token cache: one token request in flight, failures shared.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use oauth2::TokenResponse;
use oauth2::basic::BasicTokenResponse;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;

use crate::{Error, ErrorKind, Result};

/// What one token request produced.
pub(crate) struct Fetched {
    pub(crate) access_token: SecretString,
    pub(crate) expires_in: Option<Duration>,
    pub(crate) refresh_token: Option<SecretString>,
}

impl Fetched {
    pub(crate) fn from_response(response: &BasicTokenResponse) -> Self {
        Self {
            access_token: SecretString::from(response.access_token().secret().clone()),
            expires_in: response.expires_in(),
            refresh_token: response
                .refresh_token()
                .map(|t| SecretString::from(t.secret().clone())),
        }
    }
}

/// A cached `Authorization` header value and how long it lives.
struct Cached {
    header: SecretString,
    obtained: Instant,
    lifetime: Option<Duration>,
}

impl Cached {
    /// When to replace the token: `skew` before expiry, but a token that
    /// lives less than twice the skew is kept for half its life instead of
    /// being fetched again on every call.
    fn refresh_at(&self, skew: Duration) -> Option<Instant> {
        self.lifetime
            .map(|lifetime| self.obtained + lifetime.saturating_sub(skew.min(lifetime / 2)))
    }

    fn is_fresh(&self, skew: Duration) -> bool {
        self.refresh_at(skew).is_none_or(|at| Instant::now() < at)
    }
}

/// The single-flight token cache both providers share.
pub(super) struct TokenCache {
    pub(super) skew: Duration,
    current: RwLock<Option<Arc<Cached>>>,
    // Held for the whole token request: the one in flight.
    flight: Mutex<()>,
    // Counts finished fetches, so a waiter can tell one happened while it waited.
    fetches: AtomicU64,
    // The last fetch's failure, replayed to callers that waited for it.
    last_failure: RwLock<Option<FailureCopy>>,
}

struct FailureCopy {
    kind: ErrorKind,
    message: String,
    request: Option<String>,
    status: Option<u16>,
}

impl FailureCopy {
    fn of(err: &Error) -> Self {
        Self {
            kind: err.kind(),
            message: err.message().to_string(),
            request: err.request().map(str::to_string),
            status: err.status(),
        }
    }

    fn error(&self) -> Error {
        let mut error = Error::new(self.kind, self.message.clone());
        if let Some(request) = &self.request {
            let (method, url) = request
                .split_once(' ')
                .unwrap_or(("POST", request.as_str()));
            error = error.with_request(method, url);
        }
        if let Some(status) = self.status {
            error = error.with_status(status);
        }
        error
    }
}

impl TokenCache {
    pub(super) fn new(skew: Duration) -> Self {
        Self {
            skew,
            current: RwLock::new(None),
            flight: Mutex::new(()),
            fetches: AtomicU64::new(0),
            last_failure: RwLock::new(None),
        }
    }

    fn fresh(&self) -> Option<SecretString> {
        read_lock(&self.current)
            .as_ref()
            .filter(|c| c.is_fresh(self.skew))
            .map(|c| c.header.clone())
    }

    pub(super) fn store(&self, fetched: Fetched) -> SecretString {
        let header = SecretString::from(format!("Bearer {}", fetched.access_token.expose_secret()));
        *write_lock(&self.current) = Some(Arc::new(Cached {
            header: header.clone(),
            obtained: Instant::now(),
            lifetime: fetched.expires_in,
        }));
        header
    }

    /// The failure of a fetch that finished after `seen`, if it failed.
    fn failure_since(&self, seen: u64) -> Option<Error> {
        if self.fetches.load(Ordering::Acquire) == seen {
            return None;
        }
        read_lock(&self.last_failure)
            .as_ref()
            .map(FailureCopy::error)
    }

    async fn run_fetch<F, Fut>(&self, fetch: F) -> Result<SecretString>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Fetched>>,
    {
        let outcome = fetch().await;
        *write_lock(&self.last_failure) = outcome.as_ref().err().map(FailureCopy::of);
        self.fetches.fetch_add(1, Ordering::AcqRel);
        outcome.map(|fetched| self.store(fetched))
    }

    pub(super) async fn get_or_fetch<F, Fut>(&self, fetch: F) -> Result<SecretString>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Fetched>>,
    {
        if let Some(header) = self.fresh() {
            return Ok(header);
        }
        let seen = self.fetches.load(Ordering::Acquire);
        let _flight = self.flight.lock().await;
        // Whoever held the lock before us may have fetched already.
        if let Some(header) = self.fresh() {
            return Ok(header);
        }
        if let Some(error) = self.failure_since(seen) {
            return Err(error);
        }
        self.run_fetch(fetch).await
    }

    pub(super) async fn refresh<F, Fut>(&self, rejected: &SecretString, fetch: F) -> Result<bool>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Fetched>>,
    {
        let seen = self.fetches.load(Ordering::Acquire);
        let _flight = self.flight.lock().await;
        if let Some(current) = self.fresh()
            && current.expose_secret() != rejected.expose_secret()
        {
            // Another caller already replaced the rejected token.
            return Ok(true);
        }
        if let Some(error) = self.failure_since(seen) {
            return Err(error);
        }
        self.run_fetch(fetch).await.map(|_| true)
    }
}

// Poisoning only means another thread panicked mid-update of a plain value
// that is still valid, so carry on with it.
pub(super) fn read_lock<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(super) fn write_lock<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_lived_tokens_are_kept_for_half_their_life() {
        let cache = TokenCache::new(Duration::from_secs(60));
        cache.store(Fetched {
            access_token: SecretString::from("a"),
            expires_in: Some(Duration::from_secs(10)),
            refresh_token: None,
        });
        assert!(cache.fresh().is_some());
        let cached = read_lock(&cache.current).clone().unwrap();
        let left = cached.refresh_at(cache.skew).unwrap() - Instant::now();
        assert!(left > Duration::from_secs(4) && left <= Duration::from_secs(5));
    }
}

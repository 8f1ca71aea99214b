//! What a response's headers say about waiting and about the budget left:
//! `Retry-After` (seconds or an HTTP date), rate-limit reset times (epoch
//! seconds, seconds from now, RFC 3339, or Atlassian's minute-precision
//! `yyyy-MM-ddTHH:mmZ`), and the budget headers read into a [`Budget`].

use std::time::{Duration, SystemTime};

use chrono::{DateTime, NaiveDateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::rate::Budget;

/// Longest wait read from a header: anything longer is a day.
const MAX_WAIT: Duration = Duration::from_secs(86_400);

pub(crate) fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name)?.to_str().ok().map(str::trim)
}

/// How long the server asked us to wait: `Retry-After` in seconds or as an
/// HTTP date, else — on a 429 — a rate-limit reset header.
pub(crate) fn server_wait(status: StatusCode, headers: &HeaderMap) -> Option<Duration> {
    if let Some(value) = header_str(headers, RETRY_AFTER.as_str()) {
        if let Ok(secs) = value.parse::<f64>() {
            return (secs.is_finite() && secs >= 0.0)
                .then(|| Duration::from_secs_f64(secs.min(MAX_WAIT.as_secs_f64())));
        }
        if let Ok(when) = httpdate::parse_http_date(value) {
            return Some(
                when.duration_since(SystemTime::now())
                    .unwrap_or_default()
                    .min(MAX_WAIT),
            );
        }
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        return reset_in(headers);
    }
    None
}

/// Whether a 403 is a rate limit rather than a refusal, and the wait it
/// asks for: GitHub's secondary limit with `Retry-After`; a spent primary
/// budget with `X-RateLimit-Remaining: 0` (wait until the reset); Google's
/// `usageLimits` reasons (`userRateLimitExceeded`, `rateLimitExceeded`),
/// whose documented answer is exponential backoff (`Some(None)`: the retry
/// schedule's delays); or a body naming the rate limit and no header, where
/// GitHub documents a wait of at least a minute. `None`: a plain refusal.
pub(crate) fn forbidden_limit(headers: &HeaderMap, body: &[u8]) -> Option<Option<Duration>> {
    if let Some(wait) = server_wait(StatusCode::FORBIDDEN, headers) {
        return Some(Some(wait));
    }
    let spent = header_str(headers, "x-ratelimit-remaining")
        .or_else(|| header_str(headers, "ratelimit-remaining"))
        .is_some_and(|v| v == "0");
    if spent {
        return Some(Some(reset_in(headers).unwrap_or(UNSTATED_LIMIT_WAIT)));
    }
    if google_rate_limit(body) {
        return Some(None);
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(4096)]).to_ascii_lowercase();
    text.contains("rate limit")
        .then_some(Some(UNSTATED_LIMIT_WAIT))
}

/// Google's error body naming a rate limit:
/// `{"error": {"errors": [{"domain": "usageLimits", "reason": "userRateLimitExceeded"}]}}`.
/// Daily quotas (`dailyLimitExceeded`) are not: retrying cannot help today.
fn google_rate_limit(body: &[u8]) -> bool {
    const REASONS: [&str; 2] = ["userRateLimitExceeded", "rateLimitExceeded"];
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else {
        return false;
    };
    json.pointer("/error/errors")
        .and_then(serde_json::Value::as_array)
        .is_some_and(|errors| {
            errors.iter().any(|e| {
                e.get("reason")
                    .and_then(serde_json::Value::as_str)
                    .is_some_and(|r| REASONS.contains(&r))
            })
        })
}

/// The wait after a rate limit that states none (GitHub: "at least one minute").
const UNSTATED_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// Time until the server's rate-limit window resets, from `X-RateLimit-Reset`
/// or `RateLimit-Reset`.
pub(crate) fn reset_in(headers: &HeaderMap) -> Option<Duration> {
    ["x-ratelimit-reset", "ratelimit-reset"]
        .iter()
        .find_map(|name| header_str(headers, name).and_then(parse_reset))
}

/// A reset value: epoch seconds, seconds from now, an RFC 3339 time, or a
/// time without seconds (`2026-11-30T14:05Z`, as Atlassian sends it).
fn parse_reset(value: &str) -> Option<Duration> {
    if let Ok(n) = value.parse::<u64>() {
        // Epoch seconds are ~1.7e9; a delta is never that large.
        if n > 1_000_000_000 {
            let now = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs();
            return Some(Duration::from_secs(n.saturating_sub(now)).min(MAX_WAIT));
        }
        return Some(Duration::from_secs(n).min(MAX_WAIT));
    }
    let when = DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            let naive = value.strip_suffix('Z')?;
            NaiveDateTime::parse_from_str(naive, "%Y-%m-%dT%H:%M")
                .ok()
                .map(|t| t.and_utc())
        })?;
    Some(
        (when - Utc::now())
            .to_std()
            .unwrap_or_default()
            .min(MAX_WAIT),
    )
}

/// The budget headers of one response.
pub(crate) fn budget(headers: &HeaderMap) -> Budget {
    let number = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| header_str(headers, n).and_then(|v| v.parse::<u64>().ok()))
    };
    Budget {
        limit: number(&["x-ratelimit-limit", "ratelimit-limit"]),
        remaining: number(&["x-ratelimit-remaining", "ratelimit-remaining"]),
        reset_in: reset_in(headers),
        near_limit: header_str(headers, "x-ratelimit-nearlimit")
            .is_some_and(|v| v.eq_ignore_ascii_case("true")),
        fill_rate: header_str(headers, "x-ratelimit-fillrate")
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v > 0.0),
        interval: header_str(headers, "x-ratelimit-interval-seconds")
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v > 0.0)
            .map(Duration::from_secs_f64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn retry_after_seconds_and_http_date() {
        let ok = StatusCode::SERVICE_UNAVAILABLE;
        assert_eq!(
            server_wait(ok, &headers(&[("retry-after", "7")])),
            Some(Duration::from_secs(7))
        );
        let later = SystemTime::now() + Duration::from_secs(30);
        let date = httpdate::fmt_http_date(later);
        let wait = server_wait(ok, &headers(&[("retry-after", &date)])).unwrap();
        assert!(
            wait <= Duration::from_secs(30) && wait >= Duration::from_secs(28),
            "{wait:?}"
        );
        let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(30));
        assert_eq!(
            server_wait(ok, &headers(&[("retry-after", &past)])),
            Some(Duration::ZERO)
        );
        assert_eq!(server_wait(ok, &headers(&[("retry-after", "soon")])), None);
        assert_eq!(
            server_wait(ok, &headers(&[("retry-after", "99999999999")])),
            Some(MAX_WAIT)
        );
    }

    #[test]
    fn reset_headers_apply_to_429_only() {
        let h = headers(&[("x-ratelimit-reset", "12")]);
        assert_eq!(
            server_wait(StatusCode::TOO_MANY_REQUESTS, &h),
            Some(Duration::from_secs(12))
        );
        assert_eq!(server_wait(StatusCode::BAD_GATEWAY, &h), None);
        let at = (Utc::now() + chrono::Duration::seconds(20)).to_rfc3339();
        let wait = reset_in(&headers(&[("x-ratelimit-reset", &at)])).unwrap();
        assert!(wait <= Duration::from_secs(20) && wait >= Duration::from_secs(18));
        let epoch = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 5;
        let wait = reset_in(&headers(&[("x-ratelimit-reset", &epoch.to_string())])).unwrap();
        assert!(wait <= Duration::from_secs(5));
    }

    #[test]
    fn atlassian_reset_without_seconds() {
        let at = (Utc::now() + chrono::Duration::minutes(3))
            .format("%Y-%m-%dT%H:%MZ")
            .to_string();
        let wait = reset_in(&headers(&[("x-ratelimit-reset", &at)])).unwrap();
        assert!(
            wait > Duration::from_secs(110) && wait <= Duration::from_secs(180),
            "{at} → {wait:?}"
        );
        let past = "2020-01-01T00:00Z";
        assert_eq!(
            reset_in(&headers(&[("x-ratelimit-reset", past)])),
            Some(Duration::ZERO)
        );
        assert_eq!(
            reset_in(&headers(&[("x-ratelimit-reset", "2026-13-99T99:99Z")])),
            None
        );
    }

    #[test]
    fn forbidden_as_a_rate_limit() {
        let none = headers(&[]);
        assert_eq!(
            forbidden_limit(&headers(&[("retry-after", "30")]), b"{}"),
            Some(Some(Duration::from_secs(30)))
        );
        let reset = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 40;
        let wait = forbidden_limit(
            &headers(&[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", &reset.to_string()),
            ]),
            b"{}",
        )
        .flatten()
        .unwrap();
        assert!(wait <= Duration::from_secs(40) && wait >= Duration::from_secs(38));
        let secondary = br#"{"message":"You have exceeded a secondary rate limit and have been temporarily blocked from content creation. Please retry your request again later.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}"#;
        assert_eq!(
            forbidden_limit(&none, secondary),
            Some(Some(UNSTATED_LIMIT_WAIT))
        );
        // Google: backoff, not a minute.
        for reason in ["userRateLimitExceeded", "rateLimitExceeded"] {
            let body = format!(
                r#"{{"error":{{"code":403,"message":"Rate Limit Exceeded","errors":[{{"domain":"usageLimits","reason":"{reason}","message":"Rate Limit Exceeded"}}]}}}}"#
            );
            assert_eq!(
                forbidden_limit(&none, body.as_bytes()),
                Some(None),
                "{reason}"
            );
        }
        let denied = br#"{"error":{"code":403,"message":"The user does not have sufficient permissions for this file.","errors":[{"domain":"global","reason":"insufficientFilePermissions","message":"The user does not have sufficient permissions for this file."}]}}"#;
        assert_eq!(forbidden_limit(&none, denied), None);
        let daily = br#"{"error":{"code":403,"message":"Daily Limit Exceeded","errors":[{"domain":"usageLimits","reason":"dailyLimitExceeded","message":"Daily Limit Exceeded"}]}}"#;
        assert_eq!(forbidden_limit(&none, daily), None);
        // A refusal stays a refusal.
        let refused = br#"{"message":"Resource not accessible by personal access token"}"#;
        assert_eq!(forbidden_limit(&none, refused), None);
        assert_eq!(
            forbidden_limit(&headers(&[("x-ratelimit-remaining", "4999")]), refused),
            None
        );
    }

    #[test]
    fn budget_headers() {
        let b = budget(&headers(&[
            ("x-ratelimit-limit", "100"),
            ("x-ratelimit-remaining", "7"),
            ("x-ratelimit-nearlimit", "true"),
            ("x-ratelimit-fillrate", "10"),
            ("x-ratelimit-interval-seconds", "2"),
        ]));
        assert_eq!(
            (b.limit, b.remaining, b.near_limit),
            (Some(100), Some(7), true)
        );
        assert_eq!(b.quota_per_second(), Some(5.0));
        let odd = budget(&headers(&[
            ("x-ratelimit-remaining", "-3"),
            ("x-ratelimit-fillrate", "NaN"),
            ("x-ratelimit-interval-seconds", "0"),
        ]));
        assert_eq!(odd, Budget::default());
    }
}

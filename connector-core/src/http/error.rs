use serde_json::Value;

use crate::{Error, ErrorKind};

/// Longest part of an error body quoted in a message.
const MAX_DETAIL: usize = 300;

/// The error for a non-success response: kind from the status, detail from
/// the body's usual error fields (Atlassian `errorMessages`/`errors`, Graph
/// `error.message`, OAuth `error_description`, `message`), request attached.
pub(crate) fn from_status(
    source: &str,
    method: &str,
    url: &str,
    status: reqwest::StatusCode,
    body: &[u8],
) -> Error {
    let kind = match status.as_u16() {
        401 => ErrorKind::Auth,
        403 => ErrorKind::Forbidden,
        404 | 410 => ErrorKind::NotFound,
        429 => ErrorKind::RateLimited,
        408 | 500..=599 => ErrorKind::Transient,
        _ => ErrorKind::Http,
    };
    let reason = status.canonical_reason().unwrap_or("");
    let mut message = format!("{source} answered HTTP {} {reason}", status.as_u16());
    if let Some(detail) = detail(body) {
        message.push_str(": ");
        message.push_str(&detail);
    }
    match status.as_u16() {
        401 => message.push_str(" — check the credentials"),
        403 => message.push_str(" — the credentials lack permission for this"),
        _ => {}
    }
    Error::new(kind, message)
        .with_request(method, url)
        .with_status(status.as_u16())
}

/// A short human-readable detail from an error body.
fn detail(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?.trim();
    if text.is_empty() {
        return None;
    }
    let detail = match serde_json::from_str::<Value>(text) {
        Ok(json) => json_detail(&json)?,
        // An HTML error page says nothing useful in a one-line error.
        Err(_) if text.starts_with('<') => return None,
        Err(_) => text.to_string(),
    };
    Some(shorten(
        detail.split_whitespace().collect::<Vec<_>>().join(" "),
    ))
}

fn json_detail(json: &Value) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    if let Some(list) = json.get("errorMessages").and_then(Value::as_array) {
        parts.extend(list.iter().filter_map(Value::as_str).map(str::to_string));
    }
    if let Some(map) = json.get("errors").and_then(Value::as_object) {
        parts.extend(
            map.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}: {v}"))),
        );
    }
    if let Some(error) = json.get("error") {
        match error {
            Value::Object(obj) => {
                let code = obj.get("code").and_then(Value::as_str);
                let message = obj.get("message").and_then(Value::as_str);
                parts.extend(match (code, message) {
                    (Some(c), Some(m)) => Some(format!("{c}: {m}")),
                    (c, m) => c.or(m).map(str::to_string),
                });
            }
            Value::String(code) => {
                let description = json.get("error_description").and_then(Value::as_str);
                parts.push(match description {
                    Some(d) => format!("{code}: {d}"),
                    None => code.clone(),
                });
            }
            _ => {}
        }
    }
    if parts.is_empty() {
        for key in ["message", "detail", "title", "reason"] {
            if let Some(text) = json.get(key).and_then(Value::as_str) {
                parts.push(text.to_string());
                break;
            }
        }
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn shorten(mut text: String) -> String {
    if text.len() > MAX_DETAIL {
        let mut cut = MAX_DETAIL;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    fn message(status: u16, body: &str) -> (ErrorKind, String) {
        let err = from_status(
            "jira",
            "GET",
            "https://x.example/rest",
            StatusCode::from_u16(status).unwrap(),
            body.as_bytes(),
        );
        (err.kind(), err.to_string())
    }

    #[test]
    fn vendor_error_bodies_become_one_line() {
        let (kind, text) = message(
            404,
            r#"{"errorMessages":["Project 'NOPE' does not exist."],"errors":{}}"#,
        );
        assert_eq!(kind, ErrorKind::NotFound);
        assert_eq!(
            text,
            "not found: jira answered HTTP 404 Not Found: Project 'NOPE' does not exist. (GET https://x.example/rest)"
        );
        let (kind, text) = message(
            403,
            r#"{"error":{"code":"accessDenied","message":"Access denied","innerError":{}}}"#,
        );
        assert_eq!(kind, ErrorKind::Forbidden);
        assert!(text.contains("accessDenied: Access denied"), "{text}");
        let (_, text) = message(
            401,
            r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}"#,
        );
        assert!(text.contains("invalid_client: AADSTS7000215"), "{text}");
        let (_, text) = message(
            400,
            r#"{"errorMessages":[],"errors":{"jql":"The value 'X' does not exist for the field 'project'."}}"#,
        );
        assert!(text.contains("jql: The value"), "{text}");
        let (kind, text) = message(502, "<html><body>Bad gateway</body></html>");
        assert_eq!(kind, ErrorKind::Transient);
        assert!(!text.contains("html"));
        let (_, text) = message(500, &"x".repeat(5000));
        assert!(text.len() < 500);
    }
}

//! Email messages (`.eml`, `message/rfc822`) through `mail-parser`: the
//! headers a reader wants (subject, from, to, cc, date) as one section, the
//! body (the plain-text parts; an HTML-only body rendered to text) as
//! another, and each attachment extracted like any other file, its sections
//! placed under [`Place::Attachment`]. Attachments nest at most
//! `max_nesting` deep and count against `max_entries`; one that cannot be
//! read is a warning, not a failure of the message.

use mail_parser::{Address, Message, MessageParser, MimeHeaders};

use crate::budget::{Budget, Collector};
use crate::error::{Failure, Res};
use crate::model::{Place, Warning};

pub(crate) fn extract(
    bytes: &[u8],
    budget: &Budget<'_>,
    depth: u32,
    out: &mut Collector,
) -> Res<()> {
    let message = MessageParser::default()
        .parse(bytes)
        .ok_or_else(|| Failure::malformed("not a readable email message"))?;
    message_text(&message, budget, depth, out)
}

fn message_text(
    message: &Message<'_>,
    budget: &Budget<'_>,
    depth: u32,
    out: &mut Collector,
) -> Res<()> {
    let subject = message.subject().map(str::trim).unwrap_or("");
    if !subject.is_empty() && out.doc.title.is_none() {
        out.doc.title = Some(subject.to_owned());
    }
    if let Some(from) = message.from() {
        for author in addresses(from) {
            if !out.doc.authors.contains(&author) {
                out.doc.authors.push(author);
            }
        }
    }
    if let Some(date) = message.date() {
        out.doc.created = chrono::DateTime::from_timestamp(date.to_timestamp(), 0);
    }
    let mut headers = String::new();
    if !subject.is_empty() {
        headers.push_str(&format!("Subject: {subject}\n"));
    }
    for (label, value) in [
        ("From", message.from()),
        ("To", message.to()),
        ("Cc", message.cc()),
    ] {
        if let Some(value) = value {
            let list = addresses(value).join(", ");
            if !list.is_empty() {
                headers.push_str(&format!("{label}: {list}\n"));
            }
        }
    }
    if let Some(date) = message.date() {
        headers.push_str(&format!("Date: {}\n", date.to_rfc3339()));
    }
    out.push(Place::Headers, &headers);

    let mut body = String::new();
    for part in message.text_bodies() {
        budget.check_time()?;
        let text = if part.is_text_html() {
            html_text(part.text_contents().unwrap_or(""), budget)?
        } else {
            part.text_contents().unwrap_or("").to_owned()
        };
        if !body.is_empty() {
            body.push_str("\n\n");
        }
        body.push_str(&text);
    }
    out.push(Place::Body, &body);

    for (count, part) in message.attachments().enumerate() {
        budget.check_time()?;
        let name = part
            .attachment_name()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("attachment-{}", count + 1));
        if count as u64 >= budget.options.max_entries {
            out.warn(Warning::Skipped {
                part: format!("attachments after the first {count}"),
                reason: format!("more than max_entries = {}", budget.options.max_entries),
            });
            break;
        }
        if depth + 1 > budget.options.max_nesting {
            out.warn(Warning::Skipped {
                part: name,
                reason: format!(
                    "nested more than max_nesting = {} levels",
                    budget.options.max_nesting
                ),
            });
            continue;
        }
        let inner = if let Some(nested) = part.message() {
            let mut inner = Collector::new(
                crate::model::Extracted::empty(crate::Format::Email),
                budget.options.max_text_bytes,
            );
            message_text(nested, budget, depth + 1, &mut inner).map(|_| inner.finish())
        } else {
            let mime = part.content_type().map(|ct| match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub),
                None => ct.ctype().to_owned(),
            });
            crate::extract_nested(part.contents(), &name, mime.as_deref(), budget, depth + 1)
        };
        match inner {
            Ok(inner) => {
                for section in inner.sections {
                    out.push(
                        Place::Attachment {
                            name: name.clone(),
                            place: Box::new(section.place),
                        },
                        &section.text,
                    );
                }
                for warning in inner.warnings {
                    out.warn(Warning::Skipped {
                        part: name.clone(),
                        reason: warning.to_string(),
                    });
                }
            }
            Err(f) if matches!(f.reason, crate::Reason::TimedOut) => return Err(f),
            Err(f) => out.warn(Warning::Skipped {
                part: name,
                reason: f.to_string(),
            }),
        }
        if out.full() {
            break;
        }
    }
    Ok(())
}

fn addresses(address: &Address<'_>) -> Vec<String> {
    address
        .iter()
        .filter_map(|a| match (&a.name, &a.address) {
            (Some(name), Some(email)) => Some(format!("{name} <{email}>")),
            (None, Some(email)) => Some(email.to_string()),
            (Some(name), None) => Some(name.to_string()),
            (None, None) => None,
        })
        .collect()
}

#[cfg(feature = "html")]
fn html_text(html: &str, budget: &Budget<'_>) -> Res<String> {
    Ok(crate::formats::html::render(html, budget)?.text)
}

#[cfg(not(feature = "html"))]
fn html_text(html: &str, _budget: &Budget<'_>) -> Res<String> {
    // Without the `html` feature, mail-parser's own conversion.
    Ok(mail_parser::decoders::html::html_to_text(html))
}

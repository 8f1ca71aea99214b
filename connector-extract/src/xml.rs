//! A pull reader over XML parts (OOXML, OpenDocument) that keeps to the
//! limits: nesting deeper than `max_markup_depth` fails, every event is
//! charged to the time [`Budget`], and entity references resolve only to
//! the five XML entities and character references (no DTD entities, so no
//! "billion laughs").

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::budget::Budget;
use crate::error::{Failure, Res};

/// What the reader hands out: elements by local name (namespace prefixes
/// dropped), and text with references resolved.
pub(crate) enum Node<'x> {
    /// `<name …>`; `Empty` is `<name …/>`.
    Start(BytesStart<'x>),
    Empty(BytesStart<'x>),
    End(Vec<u8>),
    Text(Cow<'x, str>),
    Eof,
}

pub(crate) struct Xml<'x, 'b, 'o> {
    reader: Reader<&'x [u8]>,
    depth: u32,
    budget: &'b Budget<'o>,
}

impl<'x, 'b, 'o> Xml<'x, 'b, 'o> {
    pub(crate) fn new(bytes: &'x [u8], budget: &'b Budget<'o>) -> Self {
        let mut reader = Reader::from_reader(bytes);
        let config = reader.config_mut();
        config.trim_text(false);
        config.expand_empty_elements = false;
        config.check_end_names = true;
        Self {
            reader,
            depth: 0,
            budget,
        }
    }

    /// The current element depth (0 outside the root).
    pub(crate) fn depth(&self) -> u32 {
        self.depth
    }

    pub(crate) fn next(&mut self) -> Res<Node<'x>> {
        loop {
            self.budget.tick()?;
            let event = self
                .reader
                .read_event()
                .map_err(|e| Failure::malformed(format!("XML: {e}")))?;
            return Ok(match event {
                Event::Start(e) => {
                    self.depth += 1;
                    let limit = self.budget.options.max_markup_depth;
                    if self.depth > limit {
                        return Err(Failure::too_large(format!(
                            "XML nested more than max_markup_depth = {limit} levels"
                        )));
                    }
                    Node::Start(e)
                }
                Event::Empty(e) => Node::Empty(e),
                Event::End(e) => {
                    self.depth = self.depth.saturating_sub(1);
                    Node::End(e.local_name().as_ref().to_vec())
                }
                Event::Text(t) => match t.xml10_content() {
                    Ok(text) => Node::Text(text),
                    Err(e) => return Err(Failure::malformed(format!("XML text: {e}"))),
                },
                Event::CData(t) => Node::Text(Cow::Owned(
                    String::from_utf8_lossy(&t.into_inner()).into_owned(),
                )),
                Event::GeneralRef(r) => {
                    let resolved = match r.resolve_char_ref() {
                        Ok(Some(c)) => Some(c),
                        Ok(None) => match &*r {
                            b"amp" => Some('&'),
                            b"lt" => Some('<'),
                            b"gt" => Some('>'),
                            b"quot" => Some('"'),
                            b"apos" => Some('\''),
                            _ => None,
                        },
                        Err(_) => None,
                    };
                    match resolved {
                        Some(c) => Node::Text(Cow::Owned(c.to_string())),
                        None => continue,
                    }
                }
                Event::Eof => Node::Eof,
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => continue,
            });
        }
    }

    /// Skip to the end of the element just started.
    pub(crate) fn skip(&mut self) -> Res<()> {
        let target = self.depth.saturating_sub(1);
        loop {
            match self.next()? {
                Node::End(_) if self.depth == target => return Ok(()),
                Node::Eof => return Ok(()),
                _ => {}
            }
        }
    }

    /// The text inside the element just started, to its end.
    pub(crate) fn text_of(&mut self) -> Res<String> {
        let target = self.depth.saturating_sub(1);
        let mut out = String::new();
        loop {
            match self.next()? {
                Node::Text(t) => out.push_str(&t),
                Node::End(_) if self.depth == target => return Ok(out),
                Node::Eof => return Ok(out),
                _ => {}
            }
        }
    }
}

/// An element's local name (`w:p` → `p`).
pub(crate) fn local(e: &BytesStart<'_>) -> Vec<u8> {
    e.local_name().as_ref().to_vec()
}

/// The value of the attribute whose local name is `name`, prefix ignored.
pub(crate) fn attr(e: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    e.attributes().flatten().find_map(|a| {
        if a.key.local_name().as_ref() == name {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(Cow::into_owned)
        } else {
            None
        }
    })
}

/// The value of the attribute with exactly this qualified name (`r:id`).
pub(crate) fn qattr(e: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    e.attributes().flatten().find_map(|a| {
        if a.key.as_ref() == name {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(Cow::into_owned)
        } else {
            None
        }
    })
}

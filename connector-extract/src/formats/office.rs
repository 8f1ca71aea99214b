//! Word (`.docx`) and PowerPoint (`.pptx`) 2007+: the OOXML parts read
//! with a streaming XML reader.
//!
//! Word: the body's paragraphs (headings from the paragraph style or
//! outline level, list items from numbering), tables row by row, text boxes;
//! footnotes and endnotes as their own sections. Deleted revisions, field
//! codes and the fallback copies of drawings are left out.
//!
//! PowerPoint: each slide in presentation order (titles as headings, text
//! frames, tables), then its speaker notes; slide numbers, dates and footers
//! are left out.

use std::collections::HashMap;

use crate::archive::Archive;
use crate::budget::{Budget, Collector};
use crate::error::{Failure, Res};
use crate::formats::layout::Lines;
use crate::formats::package::{main_part, read_properties, rels};
use crate::model::Place;
use crate::xml::{Node, Xml, attr, local, qattr};

pub(crate) fn docx(bytes: &[u8], budget: &Budget<'_>, out: &mut Collector) -> Res<()> {
    let mut archive = Archive::open(bytes, budget)?;
    read_properties(&mut archive, budget, "docProps/core.xml", out)?;
    let main = main_part(&mut archive, budget, "word/document.xml")?;
    let part_rels = rels(&mut archive, budget, &main)?;
    let target = |kind: &str| {
        part_rels
            .iter()
            .find(|r| r.kind == kind)
            .map(|r| r.target.clone())
    };
    let headings = match target("styles") {
        Some(path) => match archive.read(&path)? {
            Some(styles) => heading_styles(&styles, budget)?,
            None => HashMap::new(),
        },
        None => HashMap::new(),
    };
    let body = archive
        .read(&main)?
        .ok_or_else(|| Failure::malformed(format!("the document has no {main} part")))?;
    let limit = budget.options.max_text_bytes as usize;
    out.push(Place::Body, &word_text(&body, &headings, budget, limit)?);
    for (kind, place) in [
        ("footnotes", Place::Footnotes),
        ("endnotes", Place::Endnotes),
    ] {
        if let Some(path) = target(kind)
            && let Some(notes) = archive.read(&path)?
        {
            out.push(place, &word_text(&notes, &headings, budget, limit)?);
        }
    }
    Ok(())
}

/// Style ids of heading styles and their level: from the style's outline
/// level, or a name `heading N` / `Title` (names are not localised).
fn heading_styles(bytes: &[u8], budget: &Budget<'_>) -> Res<HashMap<String, u8>> {
    let mut xml = Xml::new(bytes, budget);
    let mut out = HashMap::new();
    let mut current: Option<String> = None;
    loop {
        match xml.next()? {
            Node::Start(e) if local(&e) == b"style" => current = attr(&e, b"styleId"),
            Node::Start(e) | Node::Empty(e) => {
                let Some(id) = current.clone() else { continue };
                match local(&e).as_slice() {
                    b"name" => {
                        let name = attr(&e, b"val").unwrap_or_default().to_ascii_lowercase();
                        if let Some(level) = name.strip_prefix("heading ") {
                            if let Ok(level) = level.trim().parse::<u8>() {
                                out.entry(id).or_insert(level);
                            }
                        } else if name == "title" {
                            out.entry(id).or_insert(1);
                        }
                    }
                    b"outlineLvl" => {
                        if let Some(level) = attr(&e, b"val").and_then(|v| v.parse::<u8>().ok())
                            && level < 9
                        {
                            out.insert(id, level + 1);
                        }
                    }
                    _ => {}
                }
            }
            Node::End(name) if name == b"style" => current = None,
            Node::Eof => return Ok(out),
            _ => {}
        }
    }
}

/// The text of a WordprocessingML part (body, footnotes, endnotes).
fn word_text(
    bytes: &[u8],
    headings: &HashMap<String, u8>,
    budget: &Budget<'_>,
    limit: usize,
) -> Res<String> {
    let mut xml = Xml::new(bytes, budget);
    let mut lines = Lines::default();
    let mut in_text = false;
    loop {
        match xml.next()? {
            Node::Start(e) => match local(&e).as_slice() {
                b"p" => lines.start_para(),
                b"pPr" => paragraph_properties(&mut xml, headings, &mut lines)?,
                b"t" => in_text = true,
                b"tbl" => lines.start_table(),
                b"tr" => lines.start_row(),
                b"tc" => lines.start_cell(),
                // Formatting, deleted or moved-away text, field codes, and the
                // fallback copy of drawings (their text is in the choice).
                b"rPr" | b"delText" | b"instrText" | b"Fallback" | b"moveFrom" | b"sectPr"
                | b"del" => xml.skip()?,
                _ => {}
            },
            Node::Empty(e) => match local(&e).as_slice() {
                b"tab" => lines.tab(),
                b"br" | b"cr" => lines.line_break(),
                b"noBreakHyphen" => lines.literal("-"),
                _ => {}
            },
            Node::End(name) => match name.as_slice() {
                b"t" => in_text = false,
                b"p" => lines.end_para(),
                b"tc" => lines.end_cell(),
                b"tr" => lines.end_row(),
                b"tbl" => lines.end_table(),
                _ => {}
            },
            Node::Text(text) if in_text => {
                lines.literal(&text);
                if lines.len() > limit {
                    break;
                }
            }
            Node::Text(_) => {}
            Node::Eof => break,
        }
    }
    Ok(lines.finish())
}

/// `w:pPr`: the paragraph's style (heading?), outline level and numbering.
fn paragraph_properties(
    xml: &mut Xml<'_, '_, '_>,
    headings: &HashMap<String, u8>,
    lines: &mut Lines,
) -> Res<()> {
    let end = xml.depth() - 1;
    loop {
        match xml.next()? {
            Node::Start(e) | Node::Empty(e) => match local(&e).as_slice() {
                b"pStyle" => {
                    let style = attr(&e, b"val").unwrap_or_default();
                    if let Some(level) = headings.get(&style) {
                        lines.heading(*level);
                    } else if let Some(level) = style
                        .strip_prefix("Heading")
                        .and_then(|l| l.parse::<u8>().ok())
                    {
                        lines.heading(level);
                    } else if style == "Title" {
                        lines.heading(1);
                    }
                }
                b"outlineLvl" => {
                    if let Some(level) = attr(&e, b"val").and_then(|v| v.parse::<u8>().ok())
                        && level < 9
                    {
                        lines.heading(level + 1);
                    }
                }
                b"numPr" => lines.list_item(),
                _ => {}
            },
            Node::End(_) if xml.depth() == end => return Ok(()),
            Node::Eof => return Ok(()),
            _ => {}
        }
    }
}

pub(crate) fn pptx(bytes: &[u8], budget: &Budget<'_>, out: &mut Collector) -> Res<()> {
    let mut archive = Archive::open(bytes, budget)?;
    read_properties(&mut archive, budget, "docProps/core.xml", out)?;
    let main = main_part(&mut archive, budget, "ppt/presentation.xml")?;
    let presentation = archive
        .read(&main)?
        .ok_or_else(|| Failure::malformed(format!("the presentation has no {main} part")))?;
    let targets: HashMap<String, String> = rels(&mut archive, budget, &main)?
        .into_iter()
        .filter(|r| r.kind == "slide")
        .map(|r| (r.id, r.target))
        .collect();
    // Slides in the order of `p:sldIdLst`.
    let mut order = Vec::new();
    let mut xml = Xml::new(&presentation, budget);
    loop {
        match xml.next()? {
            Node::Start(e) | Node::Empty(e) if local(&e) == b"sldId" => {
                if let Some(target) = qattr(&e, b"r:id")
                    .or_else(|| attr(&e, b"id").filter(|id| targets.contains_key(id)))
                    .and_then(|id| targets.get(&id))
                {
                    order.push(target.clone());
                }
            }
            Node::Eof => break,
            _ => {}
        }
    }
    for (i, slide) in order.iter().enumerate() {
        budget.check_time()?;
        let number = i as u32 + 1;
        let Some(bytes) = archive.read(slide)? else {
            continue;
        };
        out.push(Place::Slide(number), &drawing_text(&bytes, budget)?);
        let notes = rels(&mut archive, budget, slide)?
            .into_iter()
            .find(|r| r.kind == "notesSlide");
        if let Some(notes) = notes
            && let Some(bytes) = archive.read(&notes.target)?
        {
            out.push(Place::Notes(number), &drawing_text(&bytes, budget)?);
        }
        if out.full() {
            break;
        }
    }
    Ok(())
}

/// Placeholders whose text is furniture, not content.
const SKIPPED_PLACEHOLDERS: &[&str] = &["sldNum", "dt", "ftr", "hdr", "sldImg"];

/// The text of a slide or notes part: shapes in order, titles as headings,
/// tables row by row.
fn drawing_text(bytes: &[u8], budget: &Budget<'_>) -> Res<String> {
    let mut xml = Xml::new(bytes, budget);
    let mut lines = Lines::default();
    let mut in_text = false;
    // Per open shape: is it a title, and is it skipped furniture.
    let mut shapes: Vec<(bool, bool)> = Vec::new();
    loop {
        match xml.next()? {
            Node::Start(e) => match local(&e).as_slice() {
                b"sp" | b"graphicFrame" | b"cxnSp" | b"pic" => shapes.push((false, false)),
                b"p" => {
                    lines.start_para();
                    if shapes.last().is_some_and(|s| s.0) {
                        lines.heading(1);
                    }
                }
                b"t" => in_text = true,
                b"tbl" => lines.start_table(),
                b"tr" => lines.start_row(),
                b"tc" => lines.start_cell(),
                b"ph" => placeholder(&e, &mut shapes),
                b"txBody" if shapes.last().is_some_and(|s| s.1) => xml.skip()?,
                b"rPr" | b"pPr" | b"Fallback" => xml.skip()?,
                _ => {}
            },
            Node::Empty(e) => match local(&e).as_slice() {
                b"ph" => placeholder(&e, &mut shapes),
                b"br" => lines.line_break(),
                _ => {}
            },
            Node::End(name) => match name.as_slice() {
                b"sp" | b"graphicFrame" | b"cxnSp" | b"pic" => {
                    shapes.pop();
                }
                b"t" => in_text = false,
                b"p" => lines.end_para(),
                b"tc" => lines.end_cell(),
                b"tr" => lines.end_row(),
                b"tbl" => lines.end_table(),
                _ => {}
            },
            Node::Text(text) if in_text => lines.literal(&text),
            Node::Text(_) => {}
            Node::Eof => break,
        }
    }
    Ok(lines.finish())
}

fn placeholder(e: &quick_xml::events::BytesStart<'_>, shapes: &mut [(bool, bool)]) {
    let kind = attr(e, b"type").unwrap_or_default();
    if let Some(shape) = shapes.last_mut() {
        shape.0 = kind == "title" || kind == "ctrTitle";
        shape.1 = SKIPPED_PLACEHOLDERS.contains(&kind.as_str());
    }
}

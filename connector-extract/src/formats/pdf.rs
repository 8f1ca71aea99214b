//! PDF: the text layer of every page, in content-stream order, with spaces
//! and line breaks inferred from where the text is placed.
//!
//! `lopdf` parses the file, decrypts it (an empty user password only) and
//! decodes strings through each font's encoding or `ToUnicode` map; this
//! module walks the page tree and the content streams itself so that
//! hostile files stay bounded: the page tree and form XObjects are walked
//! with a visited set (cyclic references end, they do not loop), every
//! compressed stream is inflated under the unpacked-bytes budget before
//! `lopdf` sees it, and the time budget is checked per operator.
//!
//! After a page is read, ligature glyphs (`ﬁ`, `ﬂ`, …) become their letters
//! and a word hyphenated at a line end is joined again.

use std::collections::{HashMap, HashSet};
use std::io::Read;

use lopdf::content::Content;
use lopdf::{Dictionary, Document, Encoding, Object, ObjectId};

use crate::budget::{Budget, Collector};
use crate::error::{Failure, Reason, Res};
use crate::model::{Place, Warning};

/// Most pages read from one PDF.
const MAX_PAGES: usize = 100_000;
/// How deep form XObjects may invoke each other.
const MAX_FORM_DEPTH: u32 = 16;
/// How many `Parent` hops an inherited page attribute may take.
const MAX_PARENT_HOPS: usize = 64;

pub(crate) fn extract(bytes: &[u8], budget: &Budget<'_>, out: &mut Collector) -> Res<()> {
    check_streams(bytes, budget)?;
    let mut doc = Document::load_mem(bytes).map_err(load_failure)?;
    if doc.is_encrypted() {
        // A PDF with an empty user password opens for anyone; try it.
        doc.decrypt("")
            .map_err(|_| Failure::encrypted("the PDF needs a password to open"))?;
    }
    budget.check_time()?;
    read_info(&doc, out);
    let pages = page_ids(&doc, budget)?;
    if pages.is_empty() {
        return Err(Failure::malformed("the PDF has no pages"));
    }
    let mut fonts = FontCache::default();
    let mut without_text = Vec::new();
    for (i, page) in pages.iter().enumerate() {
        let number = i as u32 + 1;
        match page_text(&doc, *page, budget, &mut fonts) {
            Ok(text) => {
                let text = repair(&text);
                if text.trim().is_empty() {
                    without_text.push(number);
                } else {
                    out.push(Place::Page(number), &text);
                }
            }
            Err(f) if matches!(f.reason, Reason::TimedOut | Reason::TooLarge) => return Err(f),
            Err(f) => out.warn(Warning::Skipped {
                part: format!("page {number}"),
                reason: f.to_string(),
            }),
        }
        if out.full() {
            break;
        }
    }
    if without_text.len() == pages.len() {
        out.warn(Warning::NoTextLayer {
            pages: pages.len() as u32,
        });
    } else if !without_text.is_empty() {
        out.warn(Warning::PagesWithoutText {
            pages: without_text,
        });
    }
    Ok(())
}

fn load_failure(e: lopdf::Error) -> Failure {
    let text = e.to_string();
    let lower = text.to_ascii_lowercase();
    if lower.contains("decrypt") || lower.contains("password") || lower.contains("encrypt") {
        Failure::encrypted(format!("the PDF could not be decrypted: {text}"))
    } else {
        Failure::malformed(format!("not a readable PDF: {text}"))
    }
}

/// Inflate every non-image `FlateDecode` stream once, under the budget,
/// before `lopdf` loads the file: `lopdf` inflates object streams while
/// loading and font maps while decoding, without a size limit of its own.
fn check_streams(bytes: &[u8], budget: &Budget<'_>) -> Res<()> {
    let mut at = 0;
    while let Some(found) = find(&bytes[at..], b"stream") {
        let keyword = at + found;
        at = keyword + 6;
        // `endstream` contains `stream`; only a keyword followed by EOL opens one.
        if keyword >= 3 && &bytes[keyword - 3..keyword] == b"end" {
            continue;
        }
        let mut start = keyword + 6;
        match bytes.get(start) {
            Some(b'\r') if bytes.get(start + 1) == Some(&b'\n') => start += 2,
            Some(b'\n') | Some(b'\r') => start += 1,
            _ => continue,
        }
        // The stream's dictionary is between the last `obj` and the keyword.
        let dict_from = rfind(&bytes[keyword.saturating_sub(4096)..keyword], b"obj")
            .map(|p| keyword.saturating_sub(4096) + p)
            .unwrap_or(keyword.saturating_sub(4096));
        let dict = &bytes[dict_from..keyword];
        if find(dict, b"/FlateDecode").is_none() && find(dict, b"/Fl ").is_none()
            || find(dict, b"/Image").is_some()
        {
            continue;
        }
        let end = find(&bytes[start..], b"endstream")
            .map(|p| start + p)
            .unwrap_or(bytes.len());
        inflate(&bytes[start..end], budget, &mut std::io::sink())?;
        at = end;
        budget.check_time()?;
    }
    Ok(())
}

/// Inflate zlib data into `out`, charging the budget; damaged data ends
/// the stream quietly (as PDF readers do), a budget overrun fails.
fn inflate(data: &[u8], budget: &Budget<'_>, out: &mut dyn std::io::Write) -> Res<()> {
    let mut decoder = flate2::read::ZlibDecoder::new(data);
    let mut buf = [0u8; 32 * 1024];
    loop {
        match decoder.read(&mut buf) {
            Ok(0) | Err(_) => return Ok(()),
            Ok(n) => {
                budget.unpack(n as u64)?;
                budget.tick()?;
                let _ = out.write_all(&buf[..n]);
            }
        }
    }
}

/// A stream's decoded bytes: `FlateDecode` (alone) inflated here under the
/// budget, anything else through `lopdf`.
fn stream_bytes(stream: &lopdf::Stream, budget: &Budget<'_>) -> Res<Vec<u8>> {
    let filters: Vec<Vec<u8>> = match stream.dict.get(b"Filter") {
        Ok(Object::Name(n)) => vec![n.clone()],
        Ok(Object::Array(a)) => a
            .iter()
            .filter_map(|o| o.as_name().ok().map(<[u8]>::to_vec))
            .collect(),
        _ => Vec::new(),
    };
    match filters.as_slice() {
        [] => Ok(stream.content.clone()),
        [f] if f == b"FlateDecode" || f == b"Fl" => {
            let mut out = Vec::new();
            inflate(&stream.content, budget, &mut out)?;
            Ok(out)
        }
        _ => {
            let out = stream
                .decompressed_content()
                .unwrap_or_else(|_| stream.content.clone());
            budget.unpack(out.len() as u64)?;
            Ok(out)
        }
    }
}

/// Title, author and dates from the document information dictionary.
fn read_info(doc: &Document, out: &mut Collector) {
    let Some(info) = doc
        .trailer
        .get(b"Info")
        .ok()
        .and_then(|o| deref(doc, o))
        .and_then(|o| o.as_dict().ok())
    else {
        return;
    };
    let text = |key: &[u8]| -> Option<String> {
        let value = deref(doc, info.get(key).ok()?)?;
        let bytes = value.as_str().ok()?;
        let s = decode_pdf_string(bytes);
        let s = s.trim().to_owned();
        (!s.is_empty()).then_some(s)
    };
    out.doc.title = text(b"Title");
    if let Some(author) = text(b"Author") {
        out.doc.authors.push(author);
    }
    out.doc.created = text(b"CreationDate").and_then(|d| parse_pdf_date(&d));
    out.doc.modified = text(b"ModDate").and_then(|d| parse_pdf_date(&d));
}

/// A PDF text string: UTF-16BE with a BOM, UTF-8 with a BOM, else PDFDocEncoding
/// (Latin-1 is close enough for metadata).
fn decode_pdf_string(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return String::from_utf8_lossy(rest).into_owned();
    }
    bytes.iter().map(|&b| b as char).collect()
}

/// `D:YYYYMMDDHHmmSS+HH'mm'` (every part after the year optional).
fn parse_pdf_date(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let s = s.strip_prefix("D:").unwrap_or(s);
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    if digits.len() < 4 {
        return None;
    }
    let num = |from: usize, len: usize, default: u32| -> u32 {
        digits
            .get(from..from + len)
            .and_then(|d| d.parse().ok())
            .unwrap_or(default)
    };
    let year = digits.get(0..4)?.parse().ok()?;
    let naive = chrono::NaiveDate::from_ymd_opt(year, num(4, 2, 1), num(6, 2, 1))?.and_hms_opt(
        num(8, 2, 0),
        num(10, 2, 0),
        num(12, 2, 0),
    )?;
    let rest = &s[digits.len()..];
    let offset_secs = match rest.chars().next() {
        Some(sign @ ('+' | '-')) => {
            let tz: String = rest[1..].chars().filter(char::is_ascii_digit).collect();
            let h: i32 = tz.get(0..2).and_then(|d| d.parse().ok()).unwrap_or(0);
            let m: i32 = tz.get(2..4).and_then(|d| d.parse().ok()).unwrap_or(0);
            let secs = h * 3600 + m * 60;
            if sign == '-' { -secs } else { secs }
        }
        _ => 0,
    };
    Some(naive.and_utc() - chrono::Duration::seconds(i64::from(offset_secs)))
}

fn deref<'a>(doc: &'a Document, mut object: &'a Object) -> Option<&'a Object> {
    for _ in 0..MAX_PARENT_HOPS {
        match object {
            Object::Reference(id) => object = doc.get_object(*id).ok()?,
            other => return Some(other),
        }
    }
    None
}

/// The pages in order, walking the page tree with a visited set.
fn page_ids(doc: &Document, budget: &Budget<'_>) -> Res<Vec<ObjectId>> {
    let root = doc
        .trailer
        .get(b"Root")
        .ok()
        .and_then(|o| o.as_reference().ok())
        .ok_or_else(|| Failure::malformed("the PDF has no document catalog"))?;
    let pages_root = doc
        .get_dictionary(root)
        .ok()
        .and_then(|c| c.get(b"Pages").ok())
        .and_then(|o| o.as_reference().ok())
        .ok_or_else(|| Failure::malformed("the PDF has no page tree"))?;
    let mut seen = HashSet::new();
    let mut pages = Vec::new();
    // Depth-first, children in order: a stack of (node) pushed in reverse.
    let mut stack = vec![pages_root];
    while let Some(id) = stack.pop() {
        budget.tick()?;
        if !seen.insert(id) {
            continue; // a cycle or a shared node: each node once
        }
        let Ok(node) = doc.get_dictionary(id) else {
            continue;
        };
        match node.get(b"Kids") {
            Ok(kids) => {
                let Some(kids) = deref(doc, kids).and_then(|k| k.as_array().ok()) else {
                    continue;
                };
                for kid in kids.iter().rev() {
                    if let Ok(kid) = kid.as_reference() {
                        stack.push(kid);
                    }
                }
            }
            Err(_) => {
                pages.push(id);
                if pages.len() > MAX_PAGES {
                    return Err(Failure::too_large(format!(
                        "the PDF has more than {MAX_PAGES} pages"
                    )));
                }
            }
        }
    }
    Ok(pages)
}

/// A page attribute, inherited from the page tree when the page lacks it.
fn inherited<'a>(doc: &'a Document, page: ObjectId, key: &[u8]) -> Option<&'a Object> {
    let mut id = page;
    let mut seen = HashSet::new();
    for _ in 0..MAX_PARENT_HOPS {
        if !seen.insert(id) {
            return None;
        }
        let dict = doc.get_dictionary(id).ok()?;
        if let Ok(value) = dict.get(key) {
            return deref(doc, value);
        }
        id = dict.get(b"Parent").ok()?.as_reference().ok()?;
    }
    None
}

/// What text placement needs of a font: how to decode its strings and how
/// wide its glyphs are.
struct Font<'a> {
    encoding: Option<Encoding<'a>>,
    two_byte: bool,
    widths: HashMap<u32, f64>,
    default_width: f64,
}

#[derive(Default)]
struct FontCache<'a> {
    fonts: HashMap<ObjectId, std::rc::Rc<Font<'a>>>,
}

impl<'a> FontCache<'a> {
    fn get(&mut self, doc: &'a Document, object: &'a Object) -> Option<std::rc::Rc<Font<'a>>> {
        let id = object.as_reference().ok();
        if let Some(font) = id.and_then(|id| self.fonts.get(&id)) {
            return Some(font.clone());
        }
        let dict = deref(doc, object)?.as_dict().ok()?;
        let font = std::rc::Rc::new(load_font(doc, dict));
        if let Some(id) = id {
            self.fonts.insert(id, font.clone());
        }
        Some(font)
    }
}

fn number(o: &Object) -> Option<f64> {
    match o {
        Object::Integer(i) => Some(*i as f64),
        Object::Real(r) => Some(f64::from(*r)),
        _ => None,
    }
}

fn load_font<'a>(doc: &'a Document, dict: &'a Dictionary) -> Font<'a> {
    let encoding = dict.get_font_encoding(doc).ok();
    let two_byte = dict.get(b"Subtype").ok().and_then(|s| s.as_name().ok()) == Some(b"Type0");
    let mut widths = HashMap::new();
    let mut default_width = 500.0;
    if two_byte {
        default_width = 1000.0;
        let descendant = dict
            .get(b"DescendantFonts")
            .ok()
            .and_then(|d| deref(doc, d))
            .and_then(|d| d.as_array().ok())
            .and_then(|a| a.first())
            .and_then(|d| deref(doc, d))
            .and_then(|d| d.as_dict().ok());
        if let Some(cid) = descendant {
            if let Some(dw) = cid.get(b"DW").ok().and_then(number) {
                default_width = dw;
            }
            if let Some(w) = cid
                .get(b"W")
                .ok()
                .and_then(|w| deref(doc, w))
                .and_then(|w| w.as_array().ok())
            {
                // [c [w1 w2 …]] or [c_first c_last w]
                let mut i = 0;
                while i < w.len() && widths.len() < 65_536 {
                    let Some(first) = number(&w[i]) else { break };
                    match w.get(i + 1).and_then(|o| deref(doc, o)) {
                        Some(Object::Array(list)) => {
                            for (k, width) in list.iter().enumerate() {
                                if let Some(width) = number(width) {
                                    widths.insert(first as u32 + k as u32, width);
                                }
                            }
                            i += 2;
                        }
                        Some(last) => {
                            let (Some(last), Some(width)) =
                                (number(last), w.get(i + 2).and_then(number))
                            else {
                                break;
                            };
                            let (first, last) = (first as u32, last as u32);
                            for c in first..=last.min(first.saturating_add(65_535)) {
                                widths.insert(c, width);
                            }
                            i += 3;
                        }
                        None => break,
                    }
                }
            }
        }
    } else {
        let first = dict.get(b"FirstChar").ok().and_then(number).unwrap_or(0.0) as u32;
        if let Some(list) = dict
            .get(b"Widths")
            .ok()
            .and_then(|w| deref(doc, w))
            .and_then(|w| w.as_array().ok())
        {
            for (k, width) in list.iter().take(256).enumerate() {
                if let Some(width) = deref(doc, width).and_then(number) {
                    widths.insert(first + k as u32, width);
                }
            }
        }
        if let Some(missing) = dict
            .get(b"FontDescriptor")
            .ok()
            .and_then(|d| deref(doc, d))
            .and_then(|d| d.as_dict().ok())
            .and_then(|d| d.get(b"MissingWidth").ok())
            .and_then(number)
        {
            default_width = missing;
        }
    }
    Font {
        encoding,
        two_byte,
        widths,
        default_width,
    }
}

impl Font<'_> {
    fn decode(&self, bytes: &[u8]) -> String {
        match &self.encoding {
            Some(encoding) => Document::decode_text(encoding, bytes)
                .unwrap_or_else(|_| String::from_utf8_lossy(bytes).into_owned()),
            None => bytes.iter().map(|&b| b as char).collect(),
        }
    }

    /// Advance of a string in text space units of 1/1000 em, and how many
    /// single-byte spaces it holds (word spacing applies to those).
    fn advance(&self, bytes: &[u8]) -> (f64, usize) {
        let mut total = 0.0;
        let mut spaces = 0;
        if self.two_byte {
            for pair in bytes.chunks(2) {
                let code = pair.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b));
                total += self
                    .widths
                    .get(&code)
                    .copied()
                    .unwrap_or(self.default_width);
            }
        } else {
            for &b in bytes {
                total += self
                    .widths
                    .get(&u32::from(b))
                    .copied()
                    .unwrap_or(self.default_width);
                if b == b' ' {
                    spaces += 1;
                }
            }
        }
        (total, spaces)
    }
}

/// A 2D affine matrix `[a b c d e f]`.
#[derive(Clone, Copy)]
struct Matrix([f64; 6]);

impl Matrix {
    const IDENTITY: Matrix = Matrix([1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);

    fn then(self, other: Matrix) -> Matrix {
        let [a, b, c, d, e, f] = self.0;
        let [a2, b2, c2, d2, e2, f2] = other.0;
        Matrix([
            a * a2 + b * c2,
            a * b2 + b * d2,
            c * a2 + d * c2,
            c * b2 + d * d2,
            e * a2 + f * c2 + e2,
            e * b2 + f * d2 + f2,
        ])
    }

    fn translate(x: f64, y: f64) -> Matrix {
        Matrix([1.0, 0.0, 0.0, 1.0, x, y])
    }

    fn from_operands(ops: &[Object]) -> Option<Matrix> {
        if ops.len() != 6 {
            return None;
        }
        let mut m = [0.0; 6];
        for (slot, op) in m.iter_mut().zip(ops) {
            *slot = number(op)?;
        }
        m.iter().all(|v| v.is_finite()).then_some(Matrix(m))
    }

    fn origin(&self) -> (f64, f64) {
        (self.0[4], self.0[5])
    }

    /// How much the matrix scales vertical distances.
    fn scale(&self) -> f64 {
        (self.0[2] * self.0[2] + self.0[3] * self.0[3]).sqrt()
    }
}

/// The text state and the output of one page.
struct Walker<'d, 'b, 'o> {
    doc: &'d Document,
    budget: &'b Budget<'o>,
    out: String,
    font: Option<std::rc::Rc<Font<'d>>>,
    size: f64,
    char_spacing: f64,
    word_spacing: f64,
    h_scale: f64,
    leading: f64,
    tm: Matrix,
    tlm: Matrix,
    ctm: Matrix,
    ctm_stack: Vec<Matrix>,
    /// Where the last text ended, in device space, and its font size there.
    last: Option<(f64, f64, f64)>,
    forms: HashSet<ObjectId>,
}

fn page_text<'d>(
    doc: &'d Document,
    page: ObjectId,
    budget: &Budget<'_>,
    fonts: &mut FontCache<'d>,
) -> Res<String> {
    let page_dict = doc
        .get_dictionary(page)
        .map_err(|e| Failure::malformed(format!("page object: {e}")))?;
    let mut content = Vec::new();
    match page_dict.get(b"Contents").ok().and_then(|c| deref(doc, c)) {
        Some(Object::Stream(s)) => content.extend(stream_bytes(s, budget)?),
        Some(Object::Array(parts)) => {
            for part in parts {
                if let Some(Object::Stream(s)) = deref(doc, part) {
                    content.extend(stream_bytes(s, budget)?);
                    content.push(b'\n');
                }
            }
        }
        _ => return Ok(String::new()),
    }
    let resources = inherited(doc, page, b"Resources").and_then(|r| r.as_dict().ok());
    let mut walker = Walker {
        doc,
        budget,
        out: String::new(),
        font: None,
        size: 0.0,
        char_spacing: 0.0,
        word_spacing: 0.0,
        h_scale: 1.0,
        leading: 0.0,
        tm: Matrix::IDENTITY,
        tlm: Matrix::IDENTITY,
        ctm: Matrix::IDENTITY,
        ctm_stack: Vec::new(),
        last: None,
        forms: HashSet::new(),
    };
    walker.run(&content, resources, fonts, 0)?;
    Ok(walker.out)
}

impl<'d> Walker<'d, '_, '_> {
    fn run(
        &mut self,
        content: &[u8],
        resources: Option<&'d Dictionary>,
        fonts: &mut FontCache<'d>,
        depth: u32,
    ) -> Res<()> {
        let content = Content::decode(content)
            .map_err(|e| Failure::malformed(format!("page content: {e}")))?;
        let font_dict = resources
            .and_then(|r| r.get(b"Font").ok())
            .and_then(|f| deref(self.doc, f))
            .and_then(|f| f.as_dict().ok());
        let xobjects = resources
            .and_then(|r| r.get(b"XObject").ok())
            .and_then(|x| deref(self.doc, x))
            .and_then(|x| x.as_dict().ok());
        for op in &content.operations {
            self.budget.tick()?;
            let ops = &op.operands;
            match op.operator.as_str() {
                "q" if self.ctm_stack.len() < 1024 => self.ctm_stack.push(self.ctm),
                "Q" => {
                    if let Some(m) = self.ctm_stack.pop() {
                        self.ctm = m;
                    }
                }
                "cm" => {
                    if let Some(m) = Matrix::from_operands(ops) {
                        self.ctm = m.then(self.ctm);
                    }
                }
                "BT" => {
                    self.tm = Matrix::IDENTITY;
                    self.tlm = Matrix::IDENTITY;
                }
                "Tf" => {
                    self.size = ops.get(1).and_then(number).unwrap_or(0.0);
                    self.font = ops
                        .first()
                        .and_then(|n| n.as_name().ok())
                        .and_then(|name| font_dict?.get(name).ok())
                        .and_then(|f| fonts.get(self.doc, f));
                }
                "Tc" => self.char_spacing = ops.first().and_then(number).unwrap_or(0.0),
                "Tw" => self.word_spacing = ops.first().and_then(number).unwrap_or(0.0),
                "Tz" => self.h_scale = ops.first().and_then(number).unwrap_or(100.0) / 100.0,
                "TL" => self.leading = ops.first().and_then(number).unwrap_or(0.0),
                "Td" | "TD" => {
                    let x = ops.first().and_then(number).unwrap_or(0.0);
                    let y = ops.get(1).and_then(number).unwrap_or(0.0);
                    if op.operator == "TD" {
                        self.leading = -y;
                    }
                    self.tlm = Matrix::translate(x, y).then(self.tlm);
                    self.tm = self.tlm;
                }
                "Tm" => {
                    if let Some(m) = Matrix::from_operands(ops) {
                        self.tlm = m;
                        self.tm = m;
                    }
                }
                "T*" => self.next_line(),
                "Tj" => {
                    if let Some(bytes) = ops.first().and_then(|o| o.as_str().ok()) {
                        self.show(bytes);
                    }
                }
                "'" => {
                    self.next_line();
                    if let Some(bytes) = ops.first().and_then(|o| o.as_str().ok()) {
                        self.show(bytes);
                    }
                }
                "\"" => {
                    self.word_spacing = ops.first().and_then(number).unwrap_or(0.0);
                    self.char_spacing = ops.get(1).and_then(number).unwrap_or(0.0);
                    self.next_line();
                    if let Some(bytes) = ops.get(2).and_then(|o| o.as_str().ok()) {
                        self.show(bytes);
                    }
                }
                "TJ" => {
                    if let Some(items) = ops.first().and_then(|o| o.as_array().ok()) {
                        for item in items {
                            match item {
                                Object::String(bytes, _) => self.show(bytes),
                                other => {
                                    if let Some(adjust) = number(other) {
                                        let tx = -adjust / 1000.0 * self.size * self.h_scale;
                                        self.tm = Matrix::translate(tx, 0.0).then(self.tm);
                                    }
                                }
                            }
                        }
                    }
                }
                "Do" if depth < MAX_FORM_DEPTH => {
                    let Some(name) = ops.first().and_then(|n| n.as_name().ok()) else {
                        continue;
                    };
                    let Some(reference) = xobjects.and_then(|x| x.get(name).ok()) else {
                        continue;
                    };
                    if let Ok(id) = reference.as_reference() {
                        // A form that draws itself, directly or not, is drawn once.
                        if !self.forms.insert(id) {
                            continue;
                        }
                    }
                    let Some(Object::Stream(form)) = deref(self.doc, reference) else {
                        continue;
                    };
                    if form
                        .dict
                        .get(b"Subtype")
                        .ok()
                        .and_then(|s| s.as_name().ok())
                        != Some(b"Form")
                    {
                        continue;
                    }
                    let bytes = stream_bytes(form, self.budget)?;
                    let form_resources = form
                        .dict
                        .get(b"Resources")
                        .ok()
                        .and_then(|r| deref(self.doc, r))
                        .and_then(|r| r.as_dict().ok())
                        .or(resources);
                    let saved = (self.ctm, self.tm, self.tlm, self.font.clone(), self.size);
                    if let Some(m) = form
                        .dict
                        .get(b"Matrix")
                        .ok()
                        .and_then(|m| m.as_array().ok())
                        .and_then(|m| Matrix::from_operands(m))
                    {
                        self.ctm = m.then(self.ctm);
                    }
                    let result = self.run(&bytes, form_resources, fonts, depth + 1);
                    (self.ctm, self.tm, self.tlm, self.font, self.size) = saved;
                    result?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn next_line(&mut self) {
        self.tlm = Matrix::translate(0.0, -self.leading).then(self.tlm);
        self.tm = self.tlm;
    }

    /// Place a string: a line break or a space before it when its position
    /// says so, then its text, then move past it.
    fn show(&mut self, bytes: &[u8]) {
        let Some(font) = self.font.clone() else {
            return;
        };
        let text = font.decode(bytes);
        let trm = Matrix([self.size * self.h_scale, 0.0, 0.0, self.size, 0.0, 0.0])
            .then(self.tm)
            .then(self.ctm);
        let (x, y) = trm.origin();
        let size = trm.scale().max(0.1);
        if let Some((last_x, last_y, last_size)) = self.last {
            let line = last_size.max(size);
            if (y - last_y).abs() > line * 0.5 {
                if !self.out.is_empty() && !self.out.ends_with('\n') {
                    self.out.push('\n');
                }
            } else if (x - last_x > line * 0.15 || x + line < last_x)
                && !self.out.ends_with([' ', '\n'])
                && !text.starts_with(' ')
            {
                self.out.push(' ');
            }
        }
        self.out.push_str(&text);
        let (advance, spaces) = font.advance(bytes);
        let codes = if font.two_byte {
            bytes.len().div_ceil(2)
        } else {
            bytes.len()
        };
        let tx = (advance / 1000.0 * self.size
            + self.char_spacing * codes as f64
            + self.word_spacing * spaces as f64)
            * self.h_scale;
        self.tm = Matrix::translate(tx, 0.0).then(self.tm);
        let end = Matrix([self.size * self.h_scale, 0.0, 0.0, self.size, 0.0, 0.0])
            .then(self.tm)
            .then(self.ctm);
        let (end_x, end_y) = end.origin();
        self.last = Some((end_x, end_y, size));
    }
}

/// Ligature glyphs to their letters, and words hyphenated at a line end
/// joined: `inter-\nnational` → `international`.
pub(crate) fn repair(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{FB00}' => out.push_str("ff"),
            '\u{FB01}' => out.push_str("fi"),
            '\u{FB02}' => out.push_str("fl"),
            '\u{FB03}' => out.push_str("ffi"),
            '\u{FB04}' => out.push_str("ffl"),
            '\u{FB05}' | '\u{FB06}' => out.push_str("st"),
            '\u{00AD}' => {} // soft hyphen
            c => out.push(c),
        }
    }
    let mut joined = String::with_capacity(out.len());
    let mut lines = out.split('\n').peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_end();
        let next_starts_lower = lines
            .peek()
            .and_then(|n| n.trim_start().chars().next())
            .is_some_and(char::is_lowercase);
        let hyphenated = trimmed
            .strip_suffix('-')
            .filter(|before| before.chars().last().is_some_and(char::is_alphabetic));
        match hyphenated {
            Some(before) if next_starts_lower => {
                joined.push_str(before);
                if let Some(next) = lines.next() {
                    // Keep the rest of the next line on this one.
                    joined.push_str(next.trim_start());
                    joined.push('\n');
                }
            }
            _ => {
                joined.push_str(line);
                joined.push('\n');
            }
        }
    }
    joined
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr_find(haystack, needle)
}

fn memchr_find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut at = 0;
    while at + needle.len() <= haystack.len() {
        let offset = haystack[at..].iter().position(|b| *b == first)?;
        at += offset;
        if haystack[at..].starts_with(needle) {
            return Some(at);
        }
        at += 1;
    }
    None
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repairs_ligatures_and_line_end_hyphens() {
        assert_eq!(
            repair("the \u{FB01}nal e\u{FB03}cient inter-\nnational plan\nwell-\nKnown"),
            "the final efficient international plan\nwell-\nKnown\n"
        );
    }

    #[test]
    fn pdf_dates() {
        assert_eq!(
            parse_pdf_date("D:20240506070809+02'00'").map(|d| d.to_rfc3339()),
            Some("2024-05-06T05:08:09+00:00".into())
        );
        assert_eq!(
            parse_pdf_date("D:2024").map(|d| d.to_rfc3339()),
            Some("2024-01-01T00:00:00+00:00".into())
        );
        assert_eq!(parse_pdf_date("garbage"), None);
    }
}

//! A small, forgiving HTML → plain text converter for text web parts and
//! `.html` files: block elements become line breaks, list items `- `,
//! headings `#`, table cells are joined with ` | `, links keep their text,
//! `script`/`style` are dropped, entities are decoded. It never fails: bad
//! markup yields best-effort text.

/// Plain text of an HTML fragment or document.
///
/// ```
/// use connector_sharepoint::html::html_to_text;
/// let text = html_to_text("<h2>Plan</h2><p>Ship <b>v2</b> &amp; test</p><ul><li>one</li><li>two</li></ul>");
/// assert_eq!(text, "## Plan\nShip v2 & test\n- one\n- two");
/// ```
pub fn html_to_text(html: &str) -> String {
    let mut out = Text::default();
    let mut rest = html;
    let mut skip_until: Option<&'static str> = None;
    while !rest.is_empty() {
        match rest.find('<') {
            None => {
                if skip_until.is_none() {
                    out.push_text(rest);
                }
                break;
            }
            Some(at) => {
                if skip_until.is_none() {
                    out.push_text(&rest[..at]);
                }
                rest = &rest[at..];
                if rest.starts_with("<!--") {
                    rest = match rest.find("-->") {
                        Some(end) => &rest[end + 3..],
                        None => "",
                    };
                    continue;
                }
                let Some(end) = tag_end(rest) else {
                    // A lone `<`: text.
                    if skip_until.is_none() {
                        out.push_text("<");
                    }
                    rest = &rest[1..];
                    continue;
                };
                let tag = &rest[1..end];
                rest = &rest[end + 1..];
                let closing = tag.starts_with('/');
                let name: String = tag
                    .trim_start_matches('/')
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .collect::<String>()
                    .to_ascii_lowercase();
                if let Some(until) = skip_until {
                    if closing && name == until {
                        skip_until = None;
                    }
                    continue;
                }
                if name.is_empty() {
                    continue; // `<!DOCTYPE …>`, `<?xml …?>`
                }
                match name.as_str() {
                    "script" if !closing => skip_until = Some("script"),
                    "style" if !closing => skip_until = Some("style"),
                    "head" if !closing => skip_until = Some("head"),
                    "br" => out.newline(),
                    "li" if !closing => {
                        out.block();
                        out.raw("- ");
                    }
                    "td" | "th" if !closing => out.cell(),
                    "tr" => {
                        out.block();
                        out.row_start = true;
                    }
                    "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                        out.block();
                        if !closing {
                            let level = name[1..].parse::<usize>().unwrap_or(1);
                            out.raw(&"#".repeat(level));
                            out.raw(" ");
                        }
                    }
                    "p" | "div" | "ul" | "ol" | "table" | "thead" | "tbody" | "blockquote"
                    | "pre" | "section" | "article" | "header" | "footer" | "hr" | "dl" | "dt"
                    | "dd" | "figure" | "figcaption" | "body" | "html" | "title" => out.block(),
                    _ => {}
                }
            }
        }
    }
    out.finish()
}

/// Where the tag starting at `s[0] == '<'` ends (`>` outside quotes).
fn tag_end(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    // `<` must be followed by a letter, `/`, `!` or `?` to be a tag.
    match bytes.get(1) {
        Some(b) if b.is_ascii_alphabetic() || matches!(b, b'/' | b'!' | b'?') => {}
        _ => return None,
    }
    let mut quote: Option<u8> = None;
    for (i, &b) in bytes.iter().enumerate().skip(1) {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => return Some(i),
            None => {}
        }
    }
    None
}

#[derive(Default)]
struct Text {
    out: String,
    /// A space is owed before the next word.
    space: bool,
    row_start: bool,
}

impl Text {
    fn push_text(&mut self, raw: &str) {
        let decoded = decode_entities(raw);
        for (i, word) in decoded.split_whitespace().enumerate() {
            if (i > 0 || self.space || starts_with_space(&decoded))
                && !self.out.is_empty()
                && !self.out.ends_with(['\n', ' '])
            {
                self.out.push(' ');
            }
            self.out.push_str(word);
            self.space = false;
        }
        if decoded.ends_with(char::is_whitespace) && !decoded.trim().is_empty() {
            self.space = true;
        }
    }

    fn raw(&mut self, s: &str) {
        self.out.push_str(s);
        self.space = false;
    }

    fn newline(&mut self) {
        self.out.push('\n');
        self.space = false;
    }

    fn block(&mut self) {
        let trimmed = self.out.trim_end_matches(' ').len();
        self.out.truncate(trimmed);
        if !self.out.is_empty() && !self.out.ends_with('\n') {
            self.out.push('\n');
        }
        self.space = false;
    }

    fn cell(&mut self) {
        if self.row_start || self.out.is_empty() || self.out.ends_with('\n') {
            self.row_start = false;
        } else {
            self.out.push_str(" | ");
        }
        self.space = false;
    }

    fn finish(self) -> String {
        let lines: Vec<&str> = self
            .out
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.trim().is_empty())
            .collect();
        lines.join("\n")
    }
}

fn starts_with_space(s: &str) -> bool {
    s.starts_with(char::is_whitespace)
}

/// Decode the common named entities and numeric references.
fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest
            .char_indices()
            .take(12)
            .find(|(_, c)| *c == ';')
            .map(|(i, _)| i);
        let decoded = end.and_then(|end| entity(&rest[1..end]).map(|c| (c, end)));
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse::<u32>().ok()?,
        };
        return char::from_u32(code);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "rsquo" => '’',
        "lsquo" => '‘',
        "rdquo" => '”',
        "ldquo" => '“',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "euro" => '€',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structure_survives() {
        let html = r#"<div><h1>Title</h1><p>Hello&nbsp;<a href="https://x">world</a>!</p>
            <table><tr><th>A</th><th>B</th></tr><tr><td>1</td><td>2</td></tr></table>
            <script>var x = "<p>";</script><style>p { color: red }</style>
            <p>a<br>b</p><!-- hidden --><p>5 &lt; 6 &#x263A; &#9731;</p></div>"#;
        assert_eq!(
            html_to_text(html),
            "# Title\nHello world!\nA | B\n1 | 2\na\nb\n5 < 6 ☺ ☃"
        );
    }

    #[test]
    fn broken_markup_never_panics() {
        for html in [
            "<",
            "<p",
            "a < b and c > d",
            "<p title='x>y'>q</p>",
            "&",
            "&#xZZ;",
            "&#99999999999;",
            "<h7>x</h7>",
            "<script>never closed",
            "é<b>ü</b>ß&amp;",
        ] {
            let _ = html_to_text(html);
        }
        assert_eq!(html_to_text("a < b"), "a < b");
        assert_eq!(html_to_text("<p title='x>y'>q</p>"), "q");
        assert_eq!(html_to_text("é<b>ü</b>ß"), "éüß");
        assert_eq!(html_to_text("one <b>two</b> three"), "one two three");
    }
}

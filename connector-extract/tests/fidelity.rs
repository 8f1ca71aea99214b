//! What is kept from small, well-formed files: structure, order, places,
//! properties and warnings.

#![allow(clippy::unwrap_used)] // test helpers: a failure here is a broken test

mod common;

use connector_extract::{Extractor, Format, Place, Warning};

#[test]
fn pdf_spacing_ligatures_hyphens_and_pages_without_text() {
    // Words separated only by TJ kerning or by separate moves, a word
    // hyphenated across two lines, and a page with no text at all.
    let page1 = "BT /F1 12 Tf 72 700 Td [(Quarterly)-300(report)] TJ 0 -14 Td (inter-) Tj 0 -14 Td (national sales) Tj ET \
                 BT /F1 12 Tf 72 650 Td (left) Tj 40 0 Td (right) Tj ET";
    let image_only = "q 100 0 0 100 0 0 cm Q";
    let file = common::pdf_pages(&[page1, image_only]);
    let doc = Extractor::default()
        .extract_blocking(&file, "r.pdf", None)
        .unwrap();
    assert_eq!(doc.format, Format::Pdf);
    assert_eq!(doc.sections.len(), 1);
    assert_eq!(doc.sections[0].place, Place::Page(1));
    assert_eq!(
        doc.sections[0].text,
        "Quarterly report\ninternational sales\nleft right"
    );
    assert_eq!(
        doc.warnings,
        vec![Warning::PagesWithoutText { pages: vec![2] }]
    );
    let sections = doc.into_sections(Some("r.pdf"));
    assert_eq!(sections[0].link.as_deref(), Some("r.pdf#page=1"));

    let scanned = common::pdf_pages(&[image_only, image_only]);
    let doc = Extractor::default()
        .extract_blocking(&scanned, "scan.pdf", None)
        .unwrap();
    assert!(doc.sections.is_empty());
    assert_eq!(doc.warnings, vec![Warning::NoTextLayer { pages: 2 }]);
}

#[test]
fn docx_headings_lists_tables_and_skipped_revisions() {
    let body = r#"<w:p><w:pPr><w:pStyle w:val="Heading2"/></w:pPr><w:r><w:t>Plan</w:t></w:r></w:p>
<w:p><w:r><w:t xml:space="preserve">Ship </w:t></w:r><w:del><w:r><w:delText>never</w:delText></w:r></w:del><w:r><w:t>it</w:t><w:tab/><w:t>now</w:t></w:r></w:p>
<w:p><w:pPr><w:numPr><w:ilvl w:val="0"/></w:numPr></w:pPr><w:r><w:t>first item</w:t></w:r></w:p>
<w:tbl><w:tr><w:tc><w:p><w:r><w:t>a</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>b</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
<w:p><w:r><w:fldChar/><w:instrText>HYPERLINK x</w:instrText><w:t>Größe שלום</w:t></w:r></w:p>"#;
    let doc = Extractor::default()
        .extract_blocking(&common::docx(body), "plan.docx", None)
        .unwrap();
    assert_eq!(doc.format, Format::Docx);
    assert_eq!(
        doc.text(),
        "## Plan\nShip it\tnow\n- first item\na | b\nGröße שלום"
    );
}

#[test]
fn presentation_slides_and_notes_each_have_a_place() {
    let body = r#"<office:presentation><draw:page draw:name="one"><draw:frame><draw:text-box><text:p>Slide words</text:p></draw:text-box></draw:frame><presentation:notes><draw:frame><draw:text-box><text:p>Speaker notes</text:p></draw:text-box></draw:frame></presentation:notes></draw:page><draw:page draw:name="two"><draw:frame><draw:text-box><text:p>Second</text:p></draw:text-box></draw:frame></draw:page></office:presentation>"#;
    let doc = Extractor::default()
        .extract_blocking(&common::odf("presentation", body), "deck.odp", None)
        .unwrap();
    let places: Vec<(Place, &str)> = doc
        .sections
        .iter()
        .map(|s| (s.place.clone(), s.text.as_str()))
        .collect();
    assert_eq!(
        places,
        vec![
            (Place::Slide(1), "Slide words"),
            (Place::Notes(1), "Speaker notes"),
            (Place::Slide(2), "Second"),
        ]
    );
    let links: Vec<Option<String>> = doc
        .to_sections(Some("deck.odp"))
        .into_iter()
        .map(|s| s.link)
        .collect();
    assert_eq!(links[1].as_deref(), Some("deck.odp#slide=1&notes"));
}

#[test]
fn plain_text_in_legacy_encodings() {
    let doc = Extractor::default()
        .extract_blocking(b"caf\xE9 cr\xE8me", "menu.txt", None)
        .unwrap();
    assert_eq!(doc.text(), "café crème");
    let utf16: Vec<u8> = "\u{feff}a,b\n1,2"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    let doc = Extractor::default()
        .extract_blocking(&utf16, "t.csv", None)
        .unwrap();
    assert_eq!(doc.text(), "a,b\n1,2");
}

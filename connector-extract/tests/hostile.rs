//! Hostile and broken files, made in the tests: each ends in a clear error
//! (or, where the file is merely odd, a bounded success), quickly, without
//! a panic and without unpacking more than the limits allow.

#![allow(clippy::unwrap_used)] // test helpers: a failure here is a broken test

mod common;

use std::io::{Cursor, Write};
use std::time::{Duration, Instant};

use connector_core::ErrorKind;
use connector_extract::{ExtractOptions, Extracted, Extractor, Place, Reason, Warning, reason};

fn extractor(options: ExtractOptions) -> Extractor {
    Extractor::new(options).unwrap()
}

fn fails(result: connector_core::Result<Extracted>, want: Reason, name: &str, needle: &str) {
    let err = result.expect_err("a clear failure");
    assert_eq!(reason(&err), Some(want), "{err}");
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    let text = err.to_string();
    assert!(text.contains(name), "the message names the file: {text}");
    assert!(
        text.contains(needle),
        "the message says why ({needle}): {text}"
    );
}

#[test]
fn zip_bomb_stops_at_the_unpacked_limit() {
    // 64 MiB of spaces deflate to about 64 KiB.
    let body = vec![b' '; 64 << 20];
    let bomb = common::zip(&[
        ("_rels/.rels", b"<Relationships/>"),
        ("word/document.xml", &body),
    ]);
    let options = ExtractOptions {
        max_uncompressed_bytes: 8 << 20,
        max_compression_ratio: 1_000_000,
        ..ExtractOptions::default()
    };
    let started = Instant::now();
    fails(
        extractor(options).extract_blocking(&bomb, "bomb.docx", None),
        Reason::TooLarge,
        "bomb.docx",
        "max_uncompressed_bytes",
    );
    // Stopped at the limit, not after unpacking all 64 MiB.
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn zip_bomb_trips_the_compression_ratio() {
    let body = vec![0u8; 16 << 20];
    let bomb = common::zip(&[("word/document.xml", &body)]);
    fails(
        Extractor::default().extract_blocking(&bomb, "ratio.docx", None),
        Reason::TooLarge,
        "ratio.docx",
        "max_compression_ratio",
    );
}

#[test]
fn spreadsheet_bomb_is_caught_before_calamine_reads_it() {
    // A 64 MiB sheet of empty rows: calamine would read all of it.
    let mut sheet = b"<?xml version=\"1.0\"?><worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>".to_vec();
    while sheet.len() < 64 << 20 {
        sheet.extend_from_slice(b"<row/>");
    }
    sheet.extend_from_slice(b"</sheetData></worksheet>");
    let file = common::xlsx_parts(&sheet);
    let options = ExtractOptions {
        max_uncompressed_bytes: 16 << 20,
        max_compression_ratio: 1_000_000,
        ..ExtractOptions::default()
    };
    fails(
        extractor(options).extract_blocking(&file, "huge.xlsx", None),
        Reason::TooLarge,
        "huge.xlsx",
        "max_uncompressed_bytes",
    );
}

/// Rewrite every size field of a single-entry zip to claim `claimed` bytes.
fn lie_about_sizes(mut zip: Vec<u8>, claimed: u32) -> Vec<u8> {
    let bytes = claimed.to_le_bytes();
    let mut at = 0;
    while at + 4 <= zip.len() {
        match &zip[at..at + 4] {
            b"PK\x03\x04" => zip[at + 22..at + 26].copy_from_slice(&bytes),
            b"PK\x01\x02" => zip[at + 24..at + 28].copy_from_slice(&bytes),
            _ => {}
        }
        at += 1;
    }
    zip
}

#[test]
fn an_entry_that_unpacks_past_its_declared_size_is_refused() {
    let body = format!(
        "<w:document xmlns:w=\"w\"><w:body><w:p><w:r><w:t>{}</w:t></w:r></w:p></w:body></w:document>",
        "word ".repeat(2000)
    );
    let honest = common::zip(&[("word/document.xml", body.as_bytes())]);
    let lying = lie_about_sizes(honest, 100);
    fails(
        Extractor::default().extract_blocking(&lying, "liar.docx", None),
        Reason::Malformed,
        "liar.docx",
        "declares",
    );
}

#[test]
fn too_many_entries() {
    let names: Vec<String> = (0..50).map(|i| format!("word/media/{i}.bin")).collect();
    let mut entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
    entries.push(("word/document.xml", b"<w:document/>"));
    let file = common::zip(&entries);
    let options = ExtractOptions {
        max_entries: 10,
        ..ExtractOptions::default()
    };
    fails(
        extractor(options).extract_blocking(&file, "many.docx", None),
        Reason::TooLarge,
        "many.docx",
        "max_entries",
    );
}

#[test]
fn deeply_nested_xml_fails_at_the_depth_limit() {
    let depth = 100_000;
    let body = format!("{}{}", "<w:sdt>".repeat(depth), "</w:sdt>".repeat(depth));
    fails(
        Extractor::default().extract_blocking(&common::docx(&body), "deep.docx", None),
        Reason::TooLarge,
        "deep.docx",
        "max_markup_depth",
    );
}

#[test]
fn deeply_nested_rtf_fails_at_the_depth_limit() {
    let depth = 200_000;
    let rtf = format!("{{\\rtf1 {}x{}}}", "{".repeat(depth), "}".repeat(depth));
    fails(
        Extractor::default().extract_blocking(rtf.as_bytes(), "deep.rtf", None),
        Reason::TooLarge,
        "deep.rtf",
        "max_markup_depth",
    );
}

#[test]
fn deeply_nested_html_is_read_flat_without_recursion() {
    let depth = 200_000;
    let html = format!(
        "<html><body>{}<p>deep words</p>{}</body></html>",
        "<div><table><tr><td>".repeat(depth),
        "</td></tr></table></div>".repeat(depth)
    );
    // No stack overflow, and linear: a quadratic walk of 1.2 million
    // elements would take hours, so a generous bound tells them apart
    // even on a loaded machine running an unoptimized build.
    let started = Instant::now();
    let doc = extractor(ExtractOptions {
        time_budget_ms: 600_000,
        ..ExtractOptions::default()
    })
    .extract_blocking(html.as_bytes(), "deep.html", None)
    .unwrap();
    assert_eq!(doc.text(), "deep words");
    assert!(started.elapsed() < Duration::from_secs(300));
}

#[test]
fn cyclic_pdf_references_end() {
    // The page tree lists itself as a kid, the page's parent chain loops,
    // and a form XObject draws itself.
    let content = "BT /F1 12 Tf 72 700 Td (cycle safe) Tj ET /Fm1 Do";
    let form = format!(
        "<< /Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources << /XObject << /Fm1 5 0 R >> /Font << /F1 3 0 R >> >> /Length {} >>\nstream\n/Fm1 Do BT /F1 12 Tf 72 600 Td (form text) Tj ET\nendstream",
        "/Fm1 Do BT /F1 12 Tf 72 600 Td (form text) Tj ET".len()
    );
    let file = common::pdf(&[
        "<< /Type /Catalog /Pages 2 0 R >>".into(),
        "<< /Type /Pages /Kids [4 0 R 2 0 R] /Count 1 /Parent 2 0 R >>".into(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".into(),
        "<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 3 0 R >> /XObject << /Fm1 5 0 R >> >> /Contents 6 0 R >>".into(),
        form,
        common::stream(content),
    ]);
    let started = Instant::now();
    let doc = Extractor::default()
        .extract_blocking(&file, "cycle.pdf", None)
        .unwrap();
    assert_eq!(doc.sections.len(), 1);
    assert_eq!(doc.sections[0].place, Place::Page(1));
    assert_eq!(doc.sections[0].text, "cycle safe\nform text");
    assert!(started.elapsed() < Duration::from_secs(5));

    // A page tree that is nothing but a cycle has no pages.
    let empty = common::pdf(&[
        "<< /Type /Catalog /Pages 2 0 R >>".into(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into(),
        "<< /Type /Pages /Kids [2 0 R] /Count 1 >>".into(),
    ]);
    fails(
        Extractor::default().extract_blocking(&empty, "loop.pdf", None),
        Reason::Malformed,
        "loop.pdf",
        "no pages",
    );
}

#[test]
fn pdf_flate_bomb_is_stopped_while_inflating() {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..64 {
        encoder.write_all(&chunk).unwrap();
    }
    let packed = encoder.finish().unwrap();
    let mut file = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n".to_vec();
    file.extend(
        format!(
            "2 0 obj\n<< /Length {} /Filter /FlateDecode >>\nstream\n",
            packed.len()
        )
        .as_bytes(),
    );
    file.extend(&packed);
    file.extend(b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n");
    let options = ExtractOptions {
        max_uncompressed_bytes: 8 << 20,
        max_compression_ratio: 1_000_000,
        ..ExtractOptions::default()
    };
    fails(
        extractor(options).extract_blocking(&file, "bomb.pdf", None),
        Reason::TooLarge,
        "bomb.pdf",
        "max_uncompressed_bytes",
    );
}

#[test]
fn truncated_files_are_malformed() {
    let docx = common::docx("<w:p><w:r><w:t>hello</w:t></w:r></w:p>");
    fails(
        Extractor::default().extract_blocking(&docx[..docx.len() / 2], "cut.docx", None),
        Reason::Malformed,
        "cut.docx",
        "zip",
    );
    let pdf = common::pdf_pages(&["BT /F1 12 Tf 72 700 Td (hello) Tj ET"]);
    let cut = &pdf[..pdf.len() / 3];
    let err = Extractor::default()
        .extract_blocking(cut, "cut.pdf", None)
        .expect_err("a third of a PDF is not a PDF");
    assert_eq!(reason(&err), Some(Reason::Malformed), "{err}");
    let xlsx = common::xlsx("A1", r#"<row r="1"><c r="A1"><v>1</v></c></row>"#);
    fails(
        Extractor::default().extract_blocking(&xlsx[..xlsx.len() - 40], "cut.xlsx", None),
        Reason::Malformed,
        "cut.xlsx",
        "zip",
    );
}

#[test]
fn password_protected_files_are_encrypted_failures() {
    let pdf = include_bytes!("fixtures/encrypted-user-password.pdf");
    fails(
        Extractor::default().extract_blocking(pdf, "locked.pdf", None),
        Reason::Encrypted,
        "locked.pdf",
        "password",
    );

    // Office's password protection: an OLE container holding EncryptedPackage.
    let mut ole = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
    ole.create_stream("/EncryptionInfo")
        .unwrap()
        .write_all(b"\x04\x00\x04\x00")
        .unwrap();
    ole.create_stream("/EncryptedPackage")
        .unwrap()
        .write_all(&[7u8; 4096])
        .unwrap();
    let bytes = ole.into_inner().into_inner();
    fails(
        Extractor::default().extract_blocking(&bytes, "locked.docx", None),
        Reason::Encrypted,
        "locked.docx",
        "password-protected",
    );
}

#[test]
fn an_empty_user_password_pdf_opens() {
    let pdf = include_bytes!("fixtures/encrypted-empty-user-password.pdf");
    let doc = Extractor::default()
        .extract_blocking(pdf, "open.pdf", None)
        .unwrap();
    assert_eq!(doc.text(), "Quarterly secret numbers");
}

#[test]
fn a_sparse_sheet_costs_its_cells_not_its_extent() {
    // One cell at A1 and one at XFD1048576: a dense grid would be 17 billion cells.
    let file = common::xlsx(
        "A1:XFD1048576",
        r#"<row r="1"><c r="A1" t="inlineStr"><is><t>first</t></is></c></row><row r="1048576"><c r="XFD1048576"><v>42</v></c></row>"#,
    );
    let started = Instant::now();
    let doc = Extractor::default()
        .extract_blocking(&file, "sparse.xlsx", None)
        .unwrap();
    assert_eq!(doc.sections[0].place, Place::Sheet("Data".into()));
    assert_eq!(doc.sections[0].text, "first\n42");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn repeated_ods_rows_and_cells_are_bounded() {
    // Empty repeats cost nothing; a repeated value is paid for in cells.
    let sparse = common::odf(
        "spreadsheet",
        r#"<office:spreadsheet><table:table table:name="S"><table:table-row table:number-rows-repeated="1048575"><table:table-cell table:number-columns-repeated="16384"/></table:table-row><table:table-row><table:table-cell><text:p>last</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet>"#,
    );
    let doc = Extractor::default()
        .extract_blocking(&sparse, "sparse.ods", None)
        .unwrap();
    assert_eq!(doc.text(), "last");

    let dense = common::odf(
        "spreadsheet",
        r#"<office:spreadsheet><table:table table:name="S"><table:table-row table:number-rows-repeated="1048576"><table:table-cell table:number-columns-repeated="16384"><text:p>x</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet>"#,
    );
    fails(
        Extractor::default().extract_blocking(&dense, "dense.ods", None),
        Reason::TooLarge,
        "dense.ods",
        "max_cells",
    );
}

#[test]
fn input_over_the_size_cap_is_refused_unread() {
    let options = ExtractOptions {
        max_input_bytes: 1024,
        ..ExtractOptions::default()
    };
    let extractor = extractor(options);
    fails(
        extractor.extract_blocking(&[b'a'; 2048], "big.txt", None),
        Reason::TooLarge,
        "big.txt",
        "max_input_bytes",
    );
    // An endless reader is read only to the cap.
    fails(
        extractor.extract_reader(std::io::repeat(b'a'), "endless.txt", None),
        Reason::TooLarge,
        "endless.txt",
        "max_input_bytes",
    );
}

#[tokio::test]
async fn the_time_budget_ends_a_slow_extraction() {
    let html = "<p>words and more words</p>".repeat(2_000_000);
    let options = ExtractOptions {
        time_budget_ms: 20,
        ..ExtractOptions::default()
    };
    let extractor = extractor(options);
    let started = Instant::now();
    fails(
        extractor
            .extract(html.clone().into_bytes(), "slow.html", None)
            .await,
        Reason::TimedOut,
        "slow.html",
        "time_budget_ms",
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // Without a runtime, the parsers check the clock themselves.
    fails(
        extractor.extract_blocking(html.as_bytes(), "slow.html", None),
        Reason::TimedOut,
        "slow.html",
        "time_budget_ms",
    );
}

#[test]
fn unsupported_and_legacy_formats_say_so() {
    let mut ole = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
    ole.create_stream("/WordDocument")
        .unwrap()
        .write_all(&[0u8; 512])
        .unwrap();
    let doc = ole.into_inner().into_inner();
    fails(
        Extractor::default().extract_blocking(&doc, "old.doc", None),
        Reason::Unsupported,
        "old.doc",
        "save it as .docx",
    );
    fails(
        Extractor::default().extract_blocking(
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0",
            "logo.png",
            None,
        ),
        Reason::Unsupported,
        "logo.png",
        "no text",
    );
}

#[test]
fn nested_emails_stop_at_the_nesting_limit() {
    let mut message =
        "From: a@example.com\r\nSubject: level 0\r\n\r\ninnermost words\r\n".to_owned();
    for level in 1..=6 {
        message = format!(
            "From: a@example.com\r\nSubject: level {level}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b{level}\"\r\n\r\n--b{level}\r\nContent-Type: text/plain\r\n\r\nbody {level}\r\n--b{level}\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"fwd{level}.eml\"\r\n\r\n{message}\r\n--b{level}--\r\n"
        );
    }
    let doc = Extractor::default()
        .extract_blocking(message.as_bytes(), "thread.eml", None)
        .unwrap();
    assert!(doc.text().contains("body 6"));
    assert!(!doc.text().contains("innermost words"), "{}", doc.text());
    assert!(
        doc.warnings.iter().any(
            |w| matches!(w, Warning::Skipped { reason, .. } if reason.contains("max_nesting"))
        ),
        "{:?}",
        doc.warnings
    );
}

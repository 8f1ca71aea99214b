//! Throughput of the storage-format → text converter on one thread.
//!
//! Builds a large, realistic storage-format document (headings, paragraphs
//! with entities and inline markup, lists, task lists, tables, code, panels,
//! expands, links, mentions, images, emoticons, dates, status and Jira
//! macros, layouts), converts it in a timed loop and prints MiB/s.
//!
//! ```text
//! cargo run --release -p connector-confluence --example bench_storage [-- TARGET_MB ROUNDS]
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use connector_confluence::storage::storage_to_text;

/// One section of a page; `{n}` is replaced so no two sections are equal.
const SECTIONS: &[&str] = &[
    r#"<h2>Section {n}: overview</h2><p>This page describes service {n}. It&rsquo;s owned by <ac:link><ri:user ri:account-id="5b10ac8d82e05b22cc7d4e{n}" /><ac:link-body>Team {n}</ac:link-body></ac:link> &mdash; see <ac:link><ri:page ri:space-key="ENG" ri:content-title="Runbook {n}" /></ac:link> and <a href="https://example.com/docs/{n}">the docs</a>&hellip;</p>"#,
    r#"<p>Paragraph {n} with <strong>bold</strong>, <em>emphasis</em>, <code>inline_code()</code>, <span style="color: rgb(255,86,48);">colour</span> and a <ac:inline-comment-marker ac:ref="c{n}">commented phrase</ac:inline-comment-marker>.   Whitespace
    is   collapsed&nbsp;here, as a browser would. Due <time datetime="2024-05-{n}" />.</p>"#,
    r#"<ul><li><p>First point of {n}</p><ul><li>nested a</li><li>nested b with <ac:emoticon ac:name="tick" ac:emoji-shortname=":check_mark:" ac:emoji-id="2714" ac:emoji-fallback="&#10004;" /></li></ul></li><li><p>Second point</p></li></ul><ol><li>Step one</li><li>Step two</li><li>Step three for {n}</li></ol>"#,
    r#"<ac:task-list><ac:task><ac:task-id>{n}</ac:task-id><ac:task-uuid>6a0e3d{n}-aaaa-bbbb-cccc-000000000000</ac:task-uuid><ac:task-status>complete</ac:task-status><ac:task-body><span class="placeholder-inline-tasks">Review {n}</span></ac:task-body></ac:task><ac:task><ac:task-id>{n}1</ac:task-id><ac:task-status>incomplete</ac:task-status><ac:task-body><span class="placeholder-inline-tasks">Ship {n} by <time datetime="2024-06-01" /></span></ac:task-body></ac:task></ac:task-list>"#,
    r#"<table data-table-width="760" data-layout="default" ac:local-id="t{n}"><colgroup><col style="width: 200.0px;" /><col style="width: 200.0px;" /><col style="width: 360.0px;" /></colgroup><tbody><tr><th><p><strong>Host</strong></p></th><th><p><strong>State</strong></p></th><th><p><strong>Notes</strong></p></th></tr><tr><td><p>db-{n}.internal</p></td><td><p><ac:structured-macro ac:name="status" ac:schema-version="1"><ac:parameter ac:name="colour">Green</ac:parameter><ac:parameter ac:name="title">UP</ac:parameter></ac:structured-macro></p></td><td><p>Primary, tracked in <ac:structured-macro ac:name="jira" ac:schema-version="1"><ac:parameter ac:name="server">System JIRA</ac:parameter><ac:parameter ac:name="serverId">a1b2c3d4</ac:parameter><ac:parameter ac:name="key">OPS-{n}</ac:parameter></ac:structured-macro></p></td></tr><tr><td><p>db-{n}-replica</p></td><td><p>standby</p></td><td><p>Lag &lt; 5&nbsp;s</p></td></tr></tbody></table>"#,
    r#"<ac:structured-macro ac:name="code" ac:schema-version="1" ac:macro-id="m{n}"><ac:parameter ac:name="language">rust</ac:parameter><ac:parameter ac:name="linenumbers">true</ac:parameter><ac:plain-text-body><![CDATA[fn handler_{n}(req: Request) -> Result<Response, Error> {
    let body = req.body().ok_or(Error::Empty)?;
    if body.len() > 1 << 20 { return Err(Error::TooLarge); }
    Ok(Response::new(body.to_vec()))
}]]></ac:plain-text-body></ac:structured-macro>"#,
    r#"<ac:structured-macro ac:name="info" ac:schema-version="1"><ac:parameter ac:name="title">Heads up {n}</ac:parameter><ac:rich-text-body><p>Maintenance window on Saturday. Contact <ac:link><ri:user ri:account-id="712020:{n}" /></ac:link>.</p></ac:rich-text-body></ac:structured-macro><ac:structured-macro ac:name="warning"><ac:rich-text-body><p>Do not restart during settlement.</p></ac:rich-text-body></ac:structured-macro>"#,
    r#"<ac:structured-macro ac:name="expand" ac:schema-version="1"><ac:parameter ac:name="title">Details for {n}</ac:parameter><ac:rich-text-body><p>Hidden by default, but indexed.</p><ac:structured-macro ac:name="noformat"><ac:plain-text-body><![CDATA[2024-05-01T10:00:00Z INFO started
2024-05-01T10:00:01Z WARN slow]]></ac:plain-text-body></ac:structured-macro></ac:rich-text-body></ac:structured-macro>"#,
    r#"<ac:layout><ac:layout-section ac:type="two_equal" ac:breakout-mode="default"><ac:layout-cell><p><ac:image ac:align="center" ac:layout="center" ac:alt="diagram {n}" ac:width="600"><ri:attachment ri:filename="architecture-{n}.png" ri:version-at-save="1" /></ac:image></p></ac:layout-cell><ac:layout-cell><p>Download <ac:link><ri:attachment ri:filename="spec-{n}.pdf" /></ac:link>.</p><ac:structured-macro ac:name="toc" ac:schema-version="1"><ac:parameter ac:name="maxLevel">3</ac:parameter></ac:structured-macro></ac:layout-cell></ac:layout-section></ac:layout>"#,
    r#"<blockquote><p>Quoted text {n} from a customer, with &ldquo;quotes&rdquo; and &euro;100.</p></blockquote><p>Line one<br />line two<br />line three.</p><hr /><ac:adf-extension><ac:adf-node type="panel"><ac:adf-attribute key="panel-type">note</ac:adf-attribute><ac:adf-content><p>New-editor note {n}</p></ac:adf-content></ac:adf-node><ac:adf-fallback><div class="panel"><p>New-editor note {n}</p></div></ac:adf-fallback></ac:adf-extension>"#,
];

fn build_document(target_bytes: usize) -> String {
    let mut doc = String::with_capacity(target_bytes + 4096);
    let mut n = 0usize;
    while doc.len() < target_bytes {
        let section = SECTIONS[n % SECTIONS.len()];
        doc.push_str(&section.replace("{n}", &n.to_string()));
        doc.push('\n');
        n += 1;
    }
    doc
}

fn main() {
    let mut args = std::env::args().skip(1);
    let target_mb: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(32);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);

    let doc = build_document(target_mb * 1024 * 1024);
    let mb = doc.len() as f64 / (1024.0 * 1024.0);
    println!("input: {mb:.1} MiB of storage format, {rounds} rounds, one thread");

    // Warm-up (page faults, allocator).
    let text = storage_to_text(&doc);
    let out_mb = text.len() as f64 / (1024.0 * 1024.0);

    let mut best = Duration::MAX;
    let mut total = Duration::ZERO;
    for _ in 0..rounds {
        let start = Instant::now();
        let text = storage_to_text(black_box(&doc));
        let elapsed = start.elapsed();
        black_box(text.len());
        best = best.min(elapsed);
        total += elapsed;
    }
    let mean = total.as_secs_f64() / rounds.max(1) as f64;
    println!(
        "output: {out_mb:.1} MiB of text ({:.0}% of input)",
        100.0 * out_mb / mb
    );
    println!(
        "throughput: {:.0} MiB/s mean, {:.0} MiB/s best ({:.1} ms mean per document)",
        mb / mean,
        mb / best.as_secs_f64(),
        mean * 1000.0
    );
}

//! One fixture per storage-format construct, as Confluence emits it, with
//! the exact text expected; then malformed input, which must give
//! best-effort text and never panic.

use connector_confluence::storage::{StorageToText, storage_to_text};

#[track_caller]
fn check(xhtml: &str, expected: &str) {
    assert_eq!(storage_to_text(xhtml), expected, "input: {xhtml}");
}

// --- Blocks ---------------------------------------------------------------

#[test]
fn headings_and_paragraphs() {
    check(
        "<h1>Release plan</h1><p>The plan for <strong>Q3</strong>.</p>\n<h3>Scope</h3>\n<p>Two   teams,\n   one   service.</p>",
        "# Release plan\n\nThe plan for Q3.\n\n### Scope\n\nTwo teams, one service.",
    );
}

#[test]
fn whitespace_collapses_like_a_browser() {
    check(
        "<p>  leading and trailing  </p><p>a<em>b</em> <em>c</em>\td</p><p>&nbsp;</p><p>x&nbsp;&nbsp;y</p>",
        "leading and trailing\n\nab c d\n\nx y",
    );
}

#[test]
fn line_breaks() {
    check(
        "<p>first line<br />second line<br/><br/>after a blank<br/></p><p><br/></p><p>next</p>",
        "first line\nsecond line\n\nafter a blank\n\nnext",
    );
}

#[test]
fn horizontal_rule_and_blockquote() {
    check(
        "<p>above</p><hr /><blockquote><p>quoted</p><p>twice</p></blockquote>",
        "above\n\n---\n\n> quoted\n>\n> twice",
    );
}

#[test]
fn layouts_are_blocks() {
    check(
        r#"<ac:layout><ac:layout-section ac:type="two_equal" ac:breakout-mode="default"><ac:layout-cell><p>Left</p></ac:layout-cell><ac:layout-cell><p>Right</p></ac:layout-cell></ac:layout-section></ac:layout>"#,
        "Left\n\nRight",
    );
}

// --- Lists ----------------------------------------------------------------

#[test]
fn bullet_and_nested_lists() {
    check(
        "<ul><li>apples<ul><li>green</li><li>red</li></ul></li><li><p>pears</p><p>ripe ones</p></li></ul>",
        "- apples\n  - green\n  - red\n- pears\n  ripe ones",
    );
}

#[test]
fn ordered_lists_count_and_start() {
    check(
        r#"<p>Steps:</p><ol><li>Open</li><li>Run<ol start="3"><li>fast</li><li>slow</li></ol></li><li>Close</li></ol>"#,
        "Steps:\n\n1. Open\n2. Run\n   3. fast\n   4. slow\n3. Close",
    );
}

#[test]
fn task_lists() {
    check(
        r#"<ac:task-list>
<ac:task>
<ac:task-id>1</ac:task-id>
<ac:task-uuid>3b2c6c9e-8a3e-4f2b-a1f3-2b6e0c0e7a11</ac:task-uuid>
<ac:task-status>complete</ac:task-status>
<ac:task-body><span class="placeholder-inline-tasks">Write the tests</span></ac:task-body>
</ac:task>
<ac:task>
<ac:task-id>2</ac:task-id>
<ac:task-status>incomplete</ac:task-status>
<ac:task-body><span class="placeholder-inline-tasks">Ship by <time datetime="2024-07-01" /> with <ac:link><ri:user ri:account-id="557058:f3b2c1d0" /></ac:link></span></ac:task-body>
</ac:task>
</ac:task-list>"#,
        "- [x] Write the tests\n- [ ] Ship by 2024-07-01 with @557058:f3b2c1d0",
    );
}

// --- Tables ---------------------------------------------------------------

#[test]
fn tables_one_row_per_line() {
    check(
        r#"<table data-table-width="760" data-layout="default" ac:local-id="5f1e"><colgroup><col style="width: 340.0px;" /><col style="width: 340.0px;" /></colgroup><tbody><tr><th><p><strong>Name</strong></p></th><th><p><strong>Role</strong></p></th></tr><tr><td><p>Ada</p></td><td><p>Lead</p><p>and author</p></td></tr><tr><td><p /></td><td><p /></td></tr><tr><td /><td><p>only second</p></td></tr></tbody></table><p>after</p>"#,
        "Name | Role\nAda | Lead and author\n | only second\n\nafter",
    );
}

// --- Macros ---------------------------------------------------------------

#[test]
fn code_macro_verbatim_with_language() {
    check(
        r#"<ac:structured-macro ac:name="code" ac:schema-version="1" ac:macro-id="d7e3a1b2"><ac:parameter ac:name="language">java</ac:parameter><ac:parameter ac:name="title">Example</ac:parameter><ac:parameter ac:name="linenumbers">true</ac:parameter><ac:plain-text-body><![CDATA[public class Foo {
    // <b>not markup</b> &amp; not an entity
    int x  =  1;
}]]></ac:plain-text-body></ac:structured-macro>"#,
        "```java\npublic class Foo {\n    // <b>not markup</b> &amp; not an entity\n    int x  =  1;\n}\n```",
    );
}

#[test]
fn code_macro_without_language_and_noformat() {
    check(
        r#"<ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[ls -la]]></ac:plain-text-body></ac:structured-macro><ac:structured-macro ac:name="noformat"><ac:plain-text-body><![CDATA[  indented
    more]]></ac:plain-text-body></ac:structured-macro>"#,
        "```\nls -la\n```\n\n```\n  indented\n    more\n```",
    );
}

#[test]
fn preformatted_keeps_whitespace() {
    check(
        "<pre>fn main() {\n    println!(\"hi\");\n}</pre><p>done</p>",
        "```\nfn main() {\n    println!(\"hi\");\n}\n```\n\ndone",
    );
}

#[test]
fn info_note_warning_tip_panels() {
    check(
        r#"<ac:structured-macro ac:name="info" ac:schema-version="1"><ac:rich-text-body><p>useful info</p></ac:rich-text-body></ac:structured-macro><ac:structured-macro ac:name="note"><ac:rich-text-body><p>mind this</p></ac:rich-text-body></ac:structured-macro><ac:structured-macro ac:name="warning"><ac:parameter ac:name="title">Danger zone</ac:parameter><ac:parameter ac:name="icon">false</ac:parameter><ac:rich-text-body><p>Do not run in prod.</p></ac:rich-text-body></ac:structured-macro><ac:structured-macro ac:name="tip"><ac:rich-text-body><p>use <code>--dry-run</code></p></ac:rich-text-body></ac:structured-macro>"#,
        "Info: useful info\n\nNote: mind this\n\nWarning: Danger zone\n\nDo not run in prod.\n\nTip: use --dry-run",
    );
}

#[test]
fn panel_macro() {
    check(
        r##"<ac:structured-macro ac:name="panel" ac:schema-version="1"><ac:parameter ac:name="bgColor">#DEEBFF</ac:parameter><ac:parameter ac:name="title">Contacts</ac:parameter><ac:rich-text-body><p>Ops on call</p></ac:rich-text-body></ac:structured-macro><ac:structured-macro ac:name="panel"><ac:parameter ac:name="panelIcon">:check_mark:</ac:parameter><ac:rich-text-body><p>untitled panel</p></ac:rich-text-body></ac:structured-macro>"##,
        "Contacts\n\nOps on call\n\nuntitled panel",
    );
}

#[test]
fn expand_macro() {
    check(
        r#"<ac:structured-macro ac:name="expand" ac:schema-version="1"><ac:parameter ac:name="title">Full change log</ac:parameter><ac:rich-text-body><ul><li>fixed A</li><li>fixed B</li></ul></ac:rich-text-body></ac:structured-macro><ac:structured-macro ac:name="expand"><ac:rich-text-body><p>no title</p></ac:rich-text-body></ac:structured-macro>"#,
        "Full change log\n\n- fixed A\n- fixed B\n\nno title",
    );
}

#[test]
fn jira_macro_is_its_key() {
    check(
        r#"<p>Tracked in <ac:structured-macro ac:name="jira" ac:schema-version="1" ac:macro-id="8a1f"><ac:parameter ac:name="server">System JIRA</ac:parameter><ac:parameter ac:name="columnIds">issuekey,summary</ac:parameter><ac:parameter ac:name="serverId">a1b2c3d4-0000-1111-2222-333344445555</ac:parameter><ac:parameter ac:name="key">ENG-123</ac:parameter></ac:structured-macro> and <ac:structured-macro ac:name="jira"><ac:parameter ac:name="jqlQuery">project = ENG</ac:parameter></ac:structured-macro>.</p>"#,
        "Tracked in ENG-123 and .",
    );
}

#[test]
fn status_macro_is_its_title() {
    check(
        r#"<p>State: <ac:structured-macro ac:name="status" ac:schema-version="1"><ac:parameter ac:name="colour">Green</ac:parameter><ac:parameter ac:name="title">DONE</ac:parameter></ac:structured-macro> <ac:structured-macro ac:name="status"><ac:parameter ac:name="colour">Grey</ac:parameter></ac:structured-macro></p>"#,
        "State: [DONE]",
    );
}

#[test]
fn navigation_macros_show_nothing() {
    check(
        r#"<p><ac:structured-macro ac:name="anchor" ac:schema-version="1"><ac:parameter ac:name="">top</ac:parameter></ac:structured-macro>Intro</p><ac:structured-macro ac:name="toc" ac:schema-version="1"><ac:parameter ac:name="maxLevel">3</ac:parameter></ac:structured-macro><ac:structured-macro ac:name="children" ac:schema-version="2"><ac:parameter ac:name="all">true</ac:parameter></ac:structured-macro><ac:structured-macro ac:name="toc" /><p>Body</p>"#,
        "Intro\n\nBody",
    );
}

#[test]
fn parameters_never_leak_and_unknown_macros_keep_their_body() {
    check(
        r#"<ac:structured-macro ac:name="details" ac:schema-version="1"><ac:parameter ac:name="id">secret-param</ac:parameter><ac:rich-text-body><table><tbody><tr><th>Owner</th><td>Ada</td></tr></tbody></table></ac:rich-text-body></ac:structured-macro><ac:structured-macro ac:name="drawio"><ac:parameter ac:name="diagramName">hidden-diagram</ac:parameter><ac:parameter ac:name="revision">4</ac:parameter></ac:structured-macro><ac:structured-macro ac:name="markdown"><ac:parameter ac:name="atlassian-macro-output-type">BLOCK</ac:parameter><ac:plain-text-body><![CDATA[# kept *as is*]]></ac:plain-text-body></ac:structured-macro>"#,
        "Owner | Ada\n\n# kept *as is*",
    );
}

#[test]
fn placeholders_are_dropped() {
    check(
        r#"<p><ac:placeholder>Type your summary here</ac:placeholder>Summary</p><p><ac:placeholder ac:type="mention">@mention a reviewer</ac:placeholder></p>"#,
        "Summary",
    );
}

#[test]
fn nested_macros() {
    check(
        r#"<ac:structured-macro ac:name="expand"><ac:parameter ac:name="title">Setup</ac:parameter><ac:rich-text-body><ac:structured-macro ac:name="info"><ac:rich-text-body><p>needs <ac:structured-macro ac:name="status"><ac:parameter ac:name="title">BETA</ac:parameter></ac:structured-macro> access</p></ac:rich-text-body></ac:structured-macro><ac:structured-macro ac:name="code"><ac:parameter ac:name="language">bash</ac:parameter><ac:plain-text-body><![CDATA[make setup]]></ac:plain-text-body></ac:structured-macro></ac:rich-text-body></ac:structured-macro>"#,
        "Setup\n\nInfo: needs [BETA] access\n\n```bash\nmake setup\n```",
    );
}

#[test]
fn older_macro_format() {
    check(
        r#"<ac:macro ac:name="code"><ac:default-parameter>sql</ac:default-parameter><ac:plain-text-body><![CDATA[SELECT 1;]]></ac:plain-text-body></ac:macro>"#,
        "```sql\nSELECT 1;\n```",
    );
}

// --- Links, people, files --------------------------------------------------

#[test]
fn page_links() {
    check(
        r#"<p>See <ac:link><ri:page ri:space-key="ENG" ri:content-title="Deploy guide" /><ac:plain-text-link-body><![CDATA[the guide]]></ac:plain-text-link-body></ac:link>, <ac:link><ri:page ri:content-title="Runbook" ri:version-at-save="7" /></ac:link>, <ac:link><ri:page ri:content-title="FAQ" /><ac:link-body>the <strong>FAQ</strong></ac:link-body></ac:link> and <ac:link><ri:blog-post ri:content-title="Launch notes" ri:posting-day="2024/03/01" /></ac:link>.</p>"#,
        "See the guide, Runbook, the FAQ and Launch notes.",
    );
}

#[test]
fn user_mentions() {
    check(
        r#"<p>Ping <ac:link><ri:user ri:account-id="5b10ac8d82e05b22cc7d4ef5" ri:local-id="a1" /><ac:link-body>Mia Krystof</ac:link-body></ac:link>, <ac:link><ri:user ri:account-id="712020:2f3c" /></ac:link>, <ac:link><ri:user ri:userkey="8a7f808a5f1e" /></ac:link>, <ac:link><ri:user ri:account-id="" ri:username="jsmith" /></ac:link>.</p>"#,
        "Ping Mia Krystof, @712020:2f3c, @8a7f808a5f1e, @jsmith.",
    );
}

#[test]
fn attachments_and_images() {
    check(
        r#"<p>Spec: <ac:link><ri:attachment ri:filename="spec v2.pdf" ri:version-at-save="1" /></ac:link></p><p><ac:image ac:align="center" ac:layout="center" ac:alt="diagram" ac:width="600"><ri:attachment ri:filename="architecture.png" ri:version-at-save="2" /></ac:image></p><p><ac:image><ri:url ri:value="https://example.com/logo.svg" /></ac:image></p><p><ac:image ac:alt="Screenshot"><ri:attachment ri:filename="shot.png"><ri:page ri:content-title="Other page" /></ri:attachment><ac:caption><p>Login screen</p></ac:caption></ac:image></p>"#,
        "Spec: spec v2.pdf\n\narchitecture.png\n\nhttps://example.com/logo.svg\n\nshot.png Login screen",
    );
}

#[test]
fn view_file_macro_names_the_file() {
    check(
        r#"<p><ac:structured-macro ac:name="view-file" ac:schema-version="1"><ac:parameter ac:name="name"><ri:attachment ri:filename="budget.xlsx" /></ac:parameter><ac:parameter ac:name="height">250</ac:parameter></ac:structured-macro></p>"#,
        "budget.xlsx",
    );
}

#[test]
fn external_links() {
    check(
        r##"<p><a href="https://example.com/docs">the docs</a>, <a href="https://example.com">https://example.com</a>, <a href="mailto:ops@example.com">ops@example.com</a>, <a href="#section-2">below</a>, <a href="https://example.com/empty"></a>.</p>"##,
        "the docs (https://example.com/docs), https://example.com, ops@example.com, below, https://example.com/empty.",
    );
    assert_eq!(
        StorageToText::new()
            .link_urls(false)
            .convert(r#"<p><a href="https://example.com/docs">the docs</a></p>"#),
        "the docs"
    );
}

#[test]
fn emoticons() {
    check(
        r#"<p>Nice <ac:emoticon ac:name="smile" ac:emoji-shortname=":slight_smile:" ac:emoji-id="1f642" ac:emoji-fallback="&#128578;" /> and <ac:emoticon ac:name="tick" /> and <ac:emoticon ac:name="blue-star" ac:emoji-shortname=":partyparrot:" ac:emoji-id="abc" ac:emoji-fallback=":partyparrot:" /><ac:emoticon ac:name="" /></p>"#,
        "Nice \u{1F642} and :tick: and :partyparrot:",
    );
}

#[test]
fn dates() {
    check(
        r#"<p>Due <time datetime="2024-03-15" /> (moved from <time datetime="2024-02-01"></time>).</p>"#,
        "Due 2024-03-15 (moved from 2024-02-01).",
    );
}

#[test]
fn entities() {
    check(
        "<p>It&rsquo;s 5&nbsp;&mdash;&nbsp;10&hellip; &ldquo;quoted&rdquo; &amp; &lt;tag&gt; &eacute;&#233;&#xE9; &copy; &euro;5 &unknown; AT&amp;T</p>",
        "It\u{2019}s 5 \u{2014} 10\u{2026} \u{201C}quoted\u{201D} & <tag> ééé © €5 &unknown; AT&T",
    );
}

#[test]
fn inline_comments_and_formatting_keep_text() {
    check(
        r#"<p>Keep <ac:inline-comment-marker ac:ref="8c2b">this part</ac:inline-comment-marker> of <span style="color: rgb(255,0,0);">the</span> <u>sentence</u><sup>1</sup>.</p>"#,
        "Keep this part of the sentence1.",
    );
}

#[test]
fn adf_extension_panel_and_decisions() {
    check(
        r#"<ac:adf-extension><ac:adf-node type="panel"><ac:adf-attribute key="panel-type">note</ac:adf-attribute><ac:adf-content><p>From the new editor</p></ac:adf-content></ac:adf-node><ac:adf-fallback><div class="panel conf-macro output-block"><div class="panelContent"><p>From the new editor</p></div></div></ac:adf-fallback></ac:adf-extension><ac:adf-extension><ac:adf-node type="decision-list"><ac:adf-attribute key="local-id">b128</ac:adf-attribute><ac:adf-node type="decision-item"><ac:adf-attribute key="local-id">5f0c</ac:adf-attribute><ac:adf-attribute key="state">DECIDED</ac:adf-attribute><ac:adf-content>Use Rust</ac:adf-content></ac:adf-node></ac:adf-node><ac:adf-fallback><ul class="decision-list"><li>Use Rust</li></ul></ac:adf-fallback></ac:adf-extension><ac:adf-extension><ac:adf-node type="unknown-thing"><ac:adf-attribute key="x">hidden</ac:adf-attribute></ac:adf-node><ac:adf-fallback><p>fallback only</p></ac:adf-fallback></ac:adf-extension>"#,
        "Note: From the new editor\n\n- Decision: Use Rust\n\nfallback only",
    );
}

#[test]
fn a_realistic_page() {
    let page = r#"<p>This page describes the <strong>payments</strong> service.</p>
<ac:structured-macro ac:name="toc" ac:schema-version="1" data-layout="default" ac:local-id="1" ac:macro-id="2"><ac:parameter ac:name="minLevel">1</ac:parameter></ac:structured-macro>
<h2>Owners</h2>
<table data-layout="default"><tbody>
  <tr><th><p>Team</p></th><th><p>Contact</p></th><th><p>State</p></th></tr>
  <tr><td><p>Core</p></td><td><p><ac:link><ri:user ri:account-id="5b10" /><ac:link-body>Ada L.</ac:link-body></ac:link></p></td><td><p><ac:structured-macro ac:name="status"><ac:parameter ac:name="title">ACTIVE</ac:parameter><ac:parameter ac:name="colour">Green</ac:parameter></ac:structured-macro></p></td></tr>
</tbody></table>
<h2>Operations</h2>
<ol>
  <li><p>Check <ac:structured-macro ac:name="jira"><ac:parameter ac:name="key">PAY-42</ac:parameter></ac:structured-macro></p></li>
  <li><p>Restart:</p>
    <ac:structured-macro ac:name="code"><ac:parameter ac:name="language">bash</ac:parameter><ac:plain-text-body><![CDATA[systemctl restart payments]]></ac:plain-text-body></ac:structured-macro>
  </li>
</ol>
<ac:structured-macro ac:name="warning"><ac:rich-text-body><p>Never restart during settlement (see <a href="https://wiki.example.com/settlement">settlement</a>).</p></ac:rich-text-body></ac:structured-macro>"#;
    check(
        page,
        "This page describes the payments service.\n\n## Owners\n\nTeam | Contact | State\nCore | Ada L. | [ACTIVE]\n\n## Operations\n\n1. Check PAY-42\n2. Restart:\n   ```bash\n   systemctl restart payments\n   ```\n\nWarning: Never restart during settlement (see settlement (https://wiki.example.com/settlement)).",
    );
}

// --- Malformed input ----------------------------------------------------

#[test]
fn unclosed_tags_keep_their_text() {
    check("<p>open <strong>bold", "open bold");
    check("<ul><li>one<li>two", "- one\n  - two");
    check(
        r#"<ac:structured-macro ac:name="info"><ac:rich-text-body><p>cut off"#,
        "Info: cut off",
    );
}

#[test]
fn stray_end_tags_are_ignored() {
    check("</p>stray<p>ok</b></p></div></td>", "stray\n\nok");
    check("<p>a</P><P>b</p>", "a\n\nb");
}

#[test]
fn mismatched_end_tags_close_what_is_inside() {
    check("<p><em>a</p><p>b</em></p>", "a\n\nb");
    check("<table><tr><td>x</table><p>after</p>", "x\n\nafter");
}

#[test]
fn bad_entities_stay_as_text() {
    check(
        "<p>&bogus; &#xZZ; &#; & alone Q&A; &#99999999999;</p>",
        "&bogus; &#xZZ; &#; & alone Q&A; &#99999999999;",
    );
    check("<p>&#xD800;&#0;</p>", "\u{FFFD}\u{FFFD}");
}

#[test]
fn truncated_cdata_keeps_its_text() {
    check(
        r#"<ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[let x = 1;
let y"#,
        "```\nlet x = 1;\nlet y\n```",
    );
    check("<p>x<![CDATA[ cut", "x cut");
}

#[test]
fn less_than_signs_in_text() {
    check("<p>a < b and c > d</p>", "a < b and c > d");
    check("<p>1 <2</p><p>next</p>", "1 <2\n\nnext");
    check("<p>tail <", "tail <");
}

#[test]
fn broken_markup_is_skipped() {
    check(r#"<p a="1 b="2">x</p><p>y</p>"#, "x\n\ny");
    check("<!X junk>z", "z");
    check("<p>before<!-- unclosed comment", "before");
    check(r#"<p>cut <a href="x"#, "cut");
    check("<?xml version=\"1.0\"?><!DOCTYPE html><p>x</p>", "x");
}

#[test]
fn empty_and_odd_inputs() {
    check("", "");
    check("   \n\t ", "");
    check("plain text, no tags", "plain text, no tags");
    check("<>empty</>", "<>empty");
    check("<p><p><p></p></p></p>", "");
    check("<script>alert(1)</script><style>p{}</style><p>x</p>", "x");
}

#[test]
fn random_bytes_do_not_panic() {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..200 {
        let mut bytes = Vec::new();
        for _ in 0..256 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let b = (state & 0xff) as u8;
            // Bias towards markup characters.
            let b = match b % 8 {
                0 => b'<',
                1 => b'>',
                2 => b'&',
                3 => b'/',
                _ => b,
            };
            bytes.push(b);
        }
        let text = String::from_utf8_lossy(&bytes);
        let _ = storage_to_text(&text);
    }
}

#[test]
fn deep_nesting_is_capped_not_overflowed() {
    let depth = 100_000;
    let doc = format!(
        "{}deep{}",
        "<div><ul><li>".repeat(depth),
        "</li></ul></div>".repeat(depth)
    );
    let text = storage_to_text(&doc);
    assert!(text.contains("deep"));
    let doc = format!(
        "{}x",
        "<ac:structured-macro ac:name=\"expand\"><ac:rich-text-body>".repeat(depth)
    );
    assert!(storage_to_text(&doc).contains('x'));
}

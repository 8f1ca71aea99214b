"""Generate the connector-extract benchmark corpus: files of every format with
known text, and a manifest of the words each file holds in reading order.

    python make_corpus.py OUT_DIR [--scales 1,4,16,64]

Every file is made by the library people use to write that format
(python-docx, python-pptx, openpyxl, fpdf2, odfpy) or, for the plain formats
(HTML, RTF, EML), written out directly. The text mixes ASCII, accented Latin,
Greek, Cyrillic, Hebrew and Arabic words, headings, lists, tables, footnotes,
speaker notes and two-column PDF pages; PDF text also carries ligature glyphs
and words hyphenated at line ends, which a good extractor repairs.

The manifest (`manifest.json`) lists, per file, its format and the words a
perfect extractor returns, in order. Numbers are words too.
"""

import json
import os
import random
import sys
from email.message import EmailMessage
from email.utils import format_datetime
from datetime import datetime, timezone

LATIN = (
    "alpha bravo charlie delta echo foxtrot golf hotel india juliett kilo lima "
    "mike november oscar papa quebec romeo sierra tango uniform victor whiskey "
    "xray yankee zulu harbor meadow granite lantern orchard quartz saddle timber "
    "velvet willow anchor beacon canyon dagger ember falcon glacier hollow island "
    "jasper kernel ledger marble nectar onyx pepper quill raven summit thistle "
    "umber vortex wander yonder zephyr budget revenue forecast migration cluster "
    "invoice contract quarterly roadmap incident postmortem latency throughput"
).split()
ACCENTED = "café naïve Größe façade Ångström señor déjà żółw über crème".split()
GREEK = "Ελληνικά θάλασσα βιβλίο".split()
CYRILLIC = "Москва библиотека спутник".split()
HEBREW = "שלום ספרייה מחשב".split()
ARABIC = "مرحبا مكتبة حاسوب".split()
NON_ASCII = ACCENTED + GREEK + CYRILLIC + HEBREW + ARABIC
# Words that a PDF writes with the U+FB01/U+FB02 ligature glyphs.
LIGATURE_WORDS = ["financial", "office", "workflow", "efficient", "reflect", "fluent"]
# Words that a PDF breaks across two lines with a hyphen.
HYPHEN_WORDS = ["international", "documentation", "configuration", "infrastructure"]

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


class Words:
    """A deterministic word source."""

    def __init__(self, seed):
        self.rng = random.Random(seed)

    def word(self):
        r = self.rng.random()
        if r < 0.08:
            return self.rng.choice(NON_ASCII)
        if r < 0.12:
            return str(self.rng.randint(10, 99999))
        return self.rng.choice(LATIN)

    def words(self, n):
        return [self.word() for _ in range(n)]

    def sentence(self, n):
        return " ".join(self.words(n))


def ligate(word):
    return word.replace("ffi", "\ufb03").replace("fi", "\ufb01").replace("fl", "\ufb02")


def tokens(text):
    """Split like the benchmark does: runs of letters and digits."""
    out, cur = [], []
    for ch in text:
        if ch.isalnum():
            cur.append(ch)
        elif cur:
            out.append("".join(cur))
            cur = []
    if cur:
        out.append("".join(cur))
    return out


# ---------------------------------------------------------------- formats


def make_docx(path, w, blocks):
    import docx
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part
    from docx.oxml import parse_xml

    d = docx.Document()
    d.core_properties.title = "Report " + w.word()
    d.core_properties.author = "Dana Writer"
    truth = []
    notes = []
    for b in range(blocks):
        heading = w.sentence(3)
        d.add_heading(heading, level=1 + b % 2)
        truth += tokens(heading)
        para = w.sentence(60)
        p = d.add_paragraph(para)
        truth += tokens(para)
        if b % 3 == 0:
            note = w.sentence(8)
            notes.append(note)
            # A footnote reference run; the note text itself goes to footnotes.xml.
            run = p.add_run()
            run._r.append(
                parse_xml(
                    '<w:footnoteReference xmlns:w="http://schemas.openxmlformats.org/'
                    f'wordprocessingml/2006/main" w:id="{len(notes)}"/>'
                )
            )
        for _ in range(3):
            item = w.sentence(5)
            d.add_paragraph(item, style="List Bullet")
            truth += tokens(item)
        if b % 2 == 0:
            t = d.add_table(rows=3, cols=3)
            for r in range(3):
                for c in range(3):
                    cell = w.sentence(2)
                    t.cell(r, c).text = cell
                    truth += tokens(cell)
    # Footnotes come after the body, in order.
    if notes:
        ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
        body = "".join(
            f'<w:footnote w:id="{i + 1}"><w:p><w:r><w:t>{n}</w:t></w:r></w:p></w:footnote>'
            for i, n in enumerate(notes)
        )
        xml = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:footnotes {ns}>'
            '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
            '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r></w:p></w:footnote>'
            f"{body}</w:footnotes>"
        ).encode()
        part = Part(
            PackURI("/word/footnotes.xml"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml",
            xml,
            d.part.package,
        )
        d.part.relate_to(part, RT.FOOTNOTES)
        for n in notes:
            truth += tokens(n)
    d.save(path)
    return truth


def make_pptx(path, w, slides):
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    prs.core_properties.title = "Deck " + w.word()
    prs.core_properties.author = "Sam Presenter"
    truth = []
    for s in range(slides):
        slide = prs.slides.add_slide(prs.slide_layouts[1])
        title = w.sentence(4)
        slide.shapes.title.text = title
        truth += tokens(title)
        body = slide.placeholders[1].text_frame
        for i in range(4):
            line = w.sentence(8)
            if i == 0:
                body.text = line
            else:
                body.add_paragraph().text = line
            truth += tokens(line)
        if s % 2 == 0:
            shape = slide.shapes.add_table(2, 3, Inches(1), Inches(5), Inches(6), Inches(1))
            for r in range(2):
                for c in range(3):
                    cell = w.sentence(2)
                    shape.table.cell(r, c).text = cell
                    truth += tokens(cell)
        notes = w.sentence(12)
        slide.notes_slide.notes_text_frame.text = notes
        truth += tokens(notes)
    prs.save(path)
    return truth


def make_xlsx(path, w, rows):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.properties.title = "Sheet " + w.word()
    wb.properties.creator = "Lee Analyst"
    truth = []
    for s in range(2):
        ws = wb.active if s == 0 else wb.create_sheet()
        ws.title = f"Data{s + 1}"
        header = ["Name", "Region", "Amount", "Note"]
        ws.append(header)
        truth += header
        for _ in range(rows):
            row = [w.word(), w.word(), w.rng.randint(1, 100000), w.sentence(4)]
            ws.append(row)
            for v in row:
                truth += tokens(str(v))
        # A formula: its cached value is not stored by openpyxl, so it is not
        # part of the known text; an extractor must not print the formula.
        ws.cell(row=rows + 2, column=3, value=f"=SUM(C2:C{rows + 1})")
    wb.save(path)
    return truth


def make_pdf(path, w, pages):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title("Paper " + w.word())
    pdf.set_author("Robin Author")
    pdf.add_font("DejaVu", "", FONT)
    pdf.add_font("DejaVu", "B", FONT_BOLD)
    truth = []
    for p in range(pages):
        pdf.add_page()
        pdf.set_font("DejaVu", "B", 16)
        heading = w.sentence(4)
        pdf.cell(0, 10, heading, new_x="LMARGIN", new_y="NEXT")
        truth += tokens(heading)
        pdf.set_font("DejaVu", "", 11)
        if p % 2 == 1:
            # A two-column page: the first column is read before the second.
            text = w.sentence(180)
            with pdf.text_columns(ncols=2, gutter=8) as cols:
                cols.write(text)
            truth += tokens(text)
        else:
            # Lines with ligature glyphs and words hyphenated at line ends.
            for i in range(12):
                words = w.words(9)
                lig = w.rng.choice(LIGATURE_WORDS)
                words.insert(4, lig)
                line = " ".join(words[:4]) + " " + ligate(lig) + " " + " ".join(words[5:])
                truth += tokens(" ".join(words))
                if i % 4 == 3:
                    hw = w.rng.choice(HYPHEN_WORDS)
                    cut = len(hw) // 2
                    pdf.cell(0, 6, line + " " + hw[:cut] + "-", new_x="LMARGIN", new_y="NEXT")
                    rest = w.sentence(6)
                    pdf.cell(0, 6, hw[cut:] + " " + rest, new_x="LMARGIN", new_y="NEXT")
                    truth += [hw] + tokens(rest)
                else:
                    pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
            with pdf.table(col_widths=(40, 40, 40), text_align="LEFT") as table:
                for _ in range(3):
                    row = table.row()
                    for _ in range(3):
                        cell = w.sentence(2)
                        row.cell(cell)
                        truth += tokens(cell)
    pdf.output(path)
    return truth


def make_odt(path, w, blocks):
    from odf.opendocument import OpenDocumentText
    from odf.style import Style, TextProperties
    from odf.text import H, P, List, ListItem, Note, NoteBody, NoteCitation
    from odf.table import Table, TableColumn, TableRow, TableCell
    from odf import meta, dc

    doc = OpenDocumentText()
    doc.meta.addElement(dc.Title(text="Memo " + w.word()))
    doc.meta.addElement(meta.InitialCreator(text="Alex Editor"))
    truth = []
    for b in range(blocks):
        heading = w.sentence(3)
        doc.text.addElement(H(outlinelevel=1, text=heading))
        truth += tokens(heading)
        para_text = w.sentence(60)
        p = P(text=para_text)
        truth += tokens(para_text)
        if b % 3 == 0:
            note_text = w.sentence(8)
            note = Note(id=f"ftn{b}", noteclass="footnote")
            note.addElement(NoteCitation(text=str(b + 1)))
            body = NoteBody()
            body.addElement(P(text=note_text))
            note.addElement(body)
            p.addElement(note)
            # The note is read where it is cited.
            truth += tokens(note_text)
        doc.text.addElement(p)
        lst = List()
        for _ in range(3):
            item_text = w.sentence(5)
            item = ListItem()
            item.addElement(P(text=item_text))
            lst.addElement(item)
            truth += tokens(item_text)
        doc.text.addElement(lst)
        if b % 2 == 0:
            t = Table()
            t.addElement(TableColumn(numbercolumnsrepeated=3))
            for _ in range(3):
                tr = TableRow()
                for _ in range(3):
                    cell_text = w.sentence(2)
                    tc = TableCell()
                    tc.addElement(P(text=cell_text))
                    tr.addElement(tc)
                    truth += tokens(cell_text)
                t.addElement(tr)
            doc.text.addElement(t)
    doc.save(path)
    return truth


def make_ods(path, w, rows):
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableRow, TableCell
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    truth = []
    for s in range(2):
        t = Table(name=f"Sheet{s + 1}")
        for _ in range(rows):
            tr = TableRow()
            for c in range(4):
                if c == 2:
                    v = w.rng.randint(1, 100000)
                    tc = TableCell(valuetype="float", value=v)
                    tc.addElement(P(text=str(v)))
                    truth.append(str(v))
                else:
                    text = w.sentence(2 if c == 3 else 1)
                    tc = TableCell(valuetype="string")
                    tc.addElement(P(text=text))
                    truth += tokens(text)
                tr.addElement(tc)
            t.addElement(tr)
        doc.spreadsheet.addElement(t)
    doc.save(path)
    return truth


def html_escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def make_html(path, w, blocks):
    truth = []
    title = "Page " + w.word()
    out = [
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        f"<title>{html_escape(title)}</title>",
        "<style>body { font-family: sans-serif }</style>",
        "<script>var tracking = 'should not appear';</script></head><body>",
        "<nav><a href=\"/\">Home</a></nav>",
    ]
    truth += tokens(title)
    truth += ["Home"]
    for b in range(blocks):
        h = w.sentence(3)
        out.append(f"<h2>{html_escape(h)}</h2>")
        truth += tokens(h)
        para = w.words(60)
        para[10] = f"<b>{para[10]}</b>"
        para[20] = f"<a href=\"https://example.com/{b}\">{para[20]}</a>"
        out.append("<p>" + " ".join(para) + " &amp; more</p>")
        truth += tokens(" ".join(para).replace("<b>", " ").replace("</b>", " ")
                        .replace(f"<a href=\"https://example.com/{b}\">", " ").replace("</a>", " "))
        truth += ["more"]
        out.append("<ul>")
        for _ in range(3):
            item = w.sentence(5)
            out.append(f"<li>{html_escape(item)}</li>")
            truth += tokens(item)
        out.append("</ul>")
        if b % 2 == 0:
            out.append("<table>")
            for _ in range(3):
                cells = [w.sentence(2) for _ in range(3)]
                out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
                for c in cells:
                    truth += tokens(c)
            out.append("</table>")
    out.append("</body></html>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out))
    # The title is in <head>: a body-only extractor misses it, so it counts.
    return truth


def rtf_escape(s):
    out = []
    for ch in s:
        o = ord(ch)
        if ch in "\\{}":
            out.append("\\" + ch)
        elif o < 128:
            out.append(ch)
        else:
            # \uN with a signed 16-bit value and a one-character fallback.
            v = o if o < 32768 else o - 65536
            out.append(f"\\u{v}?")
    return "".join(out)


def make_rtf(path, w, blocks):
    truth = []
    title = "Letter " + w.word()
    out = [
        "{\\rtf1\\ansi\\ansicpg1252\\deff0",
        "{\\fonttbl{\\f0\\fswiss Helvetica;}{\\f1\\froman Times New Roman;}}",
        "{\\colortbl;\\red0\\green0\\blue0;}",
        "{\\info{\\title " + rtf_escape(title) + "}{\\author Casey Clerk}}",
    ]
    for b in range(blocks):
        h = w.sentence(3)
        out.append("{\\b\\fs32 " + rtf_escape(h) + "}\\par")
        truth += tokens(h)
        para = w.sentence(60)
        out.append(rtf_escape(para) + "\\par")
        truth += tokens(para)
        if b % 2 == 0:
            for _ in range(2):
                cells = [w.sentence(2) for _ in range(3)]
                out.append(
                    "\\trowd\\cellx2000\\cellx4000\\cellx6000 "
                    + "".join(rtf_escape(c) + "\\cell " for c in cells)
                    + "\\row"
                )
                for c in cells:
                    truth += tokens(c)
    out.append("}")
    with open(path, "w", encoding="ascii") as f:
        f.write("\n".join(out))
    return truth


def make_eml(path, w, paragraphs):
    msg = EmailMessage()
    subject = "Status " + w.sentence(3)
    msg["Subject"] = subject
    msg["From"] = "Morgan Sender <morgan@example.com>"
    msg["To"] = "team@example.com"
    msg["Date"] = format_datetime(datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc))
    truth = tokens(subject)
    body = []
    for _ in range(paragraphs):
        para = w.sentence(40)
        body.append(para)
        truth += tokens(para)
    text = "\n\n".join(body)
    msg.set_content(text)
    msg.add_alternative(
        "<html><body>" + "".join(f"<p>{html_escape(p)}</p>" for p in body) + "</body></html>",
        subtype="html",
    )
    attachment = w.sentence(20)
    msg.add_attachment(attachment.encode(), maintype="text", subtype="plain", filename="notes.txt")
    truth += tokens(attachment)
    with open(path, "wb") as f:
        f.write(bytes(msg))
    return truth


MAKERS = {
    # format: (extension, maker, units per scale step)
    "pdf": ("pdf", make_pdf, 1),
    "docx": ("docx", make_docx, 2),
    "pptx": ("pptx", make_pptx, 2),
    "xlsx": ("xlsx", make_xlsx, 40),
    "odt": ("odt", make_odt, 2),
    "ods": ("ods", make_ods, 40),
    "html": ("html", make_html, 2),
    "rtf": ("rtf", make_rtf, 2),
    "eml": ("eml", make_eml, 3),
}


def main():
    out = sys.argv[1]
    scales = [1, 4, 16, 64]
    formats = list(MAKERS)
    args = sys.argv[2:]
    while args:
        if args[0] == "--scales":
            scales = [int(s) for s in args[1].split(",")]
            args = args[2:]
        elif args[0] == "--formats":
            formats = args[1].split(",")
            args = args[2:]
        else:
            sys.exit(f"unknown argument {args[0]}")
    os.makedirs(out, exist_ok=True)
    manifest = []
    for fmt in formats:
        ext, maker, unit = MAKERS[fmt]
        for scale in scales:
            for copy in range(2):
                name = f"{fmt}-{scale:03d}-{copy}.{ext}"
                path = os.path.join(out, name)
                w = Words(f"{fmt}/{scale}/{copy}")
                truth = maker(path, w, unit * scale)
                manifest.append(
                    {"file": name, "format": fmt, "scale": scale, "words": truth}
                )
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False)
    print(f"{len(manifest)} files in {out}", file=sys.stderr)


if __name__ == "__main__":
    main()

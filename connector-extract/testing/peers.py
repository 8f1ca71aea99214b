"""The Python extractors Python RAG loaders use, run over the benchmark
corpus for comparison with connector-extract.

    python peers.py FORMAT CORPUS_DIR OUT_DIR MIN_SECONDS

Extracts every file of FORMAT in the corpus (rounds over the set until
MIN_SECONDS have passed), writes each file's text to OUT_DIR/<file>.txt, and
prints one JSON line: peer, files, bytes, seconds (all rounds), rounds,
peak RSS in KiB after the smallest files and after all of them.
"""

import json
import os
import resource
import sys
import time


def pdf(path):
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def docx(path):
    import docx as d

    doc = d.Document(path)
    out = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            out.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(out)


def pptx(path):
    from pptx import Presentation

    out = []
    for slide in Presentation(path).slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                out.append(shape.text_frame.text)
            if getattr(shape, "has_table", False) and shape.has_table:
                for row in shape.table.rows:
                    out.append(" | ".join(c.text for c in row.cells))
        if slide.has_notes_slide:
            out.append(slide.notes_slide.notes_text_frame.text)
    return "\n".join(out)


def xlsx(path):
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    out = []
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            out.append(" | ".join(str(v) for v in row if v is not None))
    wb.close()
    return "\n".join(out)


def odf_text(path):
    from odf import teletype, text
    from odf.opendocument import load

    doc = load(path)
    out = []
    for el in doc.getElementsByType(text.H) + doc.getElementsByType(text.P):
        out.append(teletype.extractText(el))
    return "\n".join(out)


def html(path):
    from bs4 import BeautifulSoup

    with open(path, "rb") as f:
        soup = BeautifulSoup(f.read(), "html.parser")
    for tag in soup(["script", "style"]):
        tag.decompose()
    return soup.get_text("\n")


def rtf(path):
    from striprtf.striprtf import rtf_to_text

    with open(path, encoding="ascii", errors="replace") as f:
        return rtf_to_text(f.read())


def eml(path):
    import email
    from email import policy

    with open(path, "rb") as f:
        msg = email.message_from_binary_file(f, policy=policy.default)
    out = [msg.get("subject", "")]
    body = msg.get_body(preferencelist=("plain", "html"))
    if body is not None:
        out.append(body.get_content())
    for part in msg.iter_attachments():
        if part.get_content_maintype() == "text":
            out.append(part.get_content())
    return "\n".join(out)


PEERS = {
    "pdf": ("pypdf", pdf),
    "docx": ("python-docx", docx),
    "pptx": ("python-pptx", pptx),
    "xlsx": ("openpyxl", xlsx),
    "odt": ("odfpy", odf_text),
    "ods": ("odfpy", odf_text),
    "html": ("beautifulsoup4", html),
    "rtf": ("striprtf", rtf),
    "eml": ("email (stdlib)", eml),
}


def rss_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main():
    fmt, corpus, out_dir, min_seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    name, extract = PEERS[fmt]
    # File names carry the scale: sorted, the smallest come first. The
    # manifest is not loaded, so the peak RSS is the extractor's.
    names = sorted(n for n in os.listdir(corpus) if n.startswith(fmt + "-"))
    manifest = [{"file": n, "scale": n[len(fmt) + 1:len(fmt) + 4]} for n in names]
    os.makedirs(out_dir, exist_ok=True)
    smallest = manifest[0]["scale"]
    files = [os.path.join(corpus, n) for n in names]
    size = sum(os.path.getsize(p) for p in files)
    # Import the library before timing.
    extract(files[0])
    rss_small = None
    rounds = 0
    start = time.perf_counter()
    while True:
        for entry, path in zip(manifest, files):
            try:
                text = extract(path)
            except Exception as e:  # a peer failure counts as no text
                text = ""
                print(f"{name}: {entry['file']}: {e}", file=sys.stderr)
            if rounds == 0:
                with open(os.path.join(out_dir, entry["file"] + ".txt"), "w", encoding="utf-8") as f:
                    f.write(text)
                if entry["scale"] == smallest:
                    rss_small = rss_kib()
        rounds += 1
        if time.perf_counter() - start >= min_seconds:
            break
    seconds = time.perf_counter() - start
    print(json.dumps({
        "peer": name, "files": len(files), "bytes": size, "seconds": seconds,
        "rounds": rounds, "rss_small_kib": rss_small, "rss_kib": rss_kib(),
    }))


if __name__ == "__main__":
    main()

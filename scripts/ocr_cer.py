"""Character error rate and speed of the OCR engines (issue #17), offline, on two kinds of reference:

* **text-layer pages**: pages of the shipped standards that *do* have a text layer are rendered (pypdfium2,
  200 dpi, grey) and read by each engine; the reference is pypdf's text of the same page;
* **hand-checked scans**: the scanned GB 8978-1996 and GB 18483-2001 read page by page, against the transcriptions
  in ``../shared/data/standards/*.md`` (checked by eye against the page images), whole document.

CER = Levenshtein distance / reference length, after NFKC and with all whitespace removed (reading order of table
cells counts as errors: it is what a passage would contain). Pages per second on this machine, one process.

    .venv/bin/python scripts/ocr_cer.py [--pages-per-doc 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import time
import unicodedata
from pathlib import Path

from pypdf import PdfReader
from rapidfuzz.distance import Levenshtein

from assistant.ingest.pdf.ocr import make_engine, render_pages

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "standards"
TEXT_LAYER = ["GB-12348-2008", "GB-13271-2014", "GB-18918-2002", "GB-37822-2019", "GB-5085.7-2019",
              "GB-18599-2020", "GB-8702-2014"]
SCANS = ["GB-8978-1996", "GB-18483-2001"]


def norm(text: str) -> str:
    """NFKC, no whitespace, no leader dots of a table of contents (not content, and engines drop them)."""
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"\s+|[.·…]{3,}", "", text)


def md_text(path: Path) -> str:
    """The transcription's text without front matter and Markdown syntax (headings, table pipes and rules)."""
    body = path.read_text(encoding="utf-8").split("---", 2)[-1]
    body = re.sub(r"^\|?\s*:?-{3,}.*$", "", body, flags=re.M)
    return body.replace("|", "").replace("#", "").replace("**", "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages-per-doc", type=int, default=3, help="text-layer pages per standard (body: from page 4)")
    ap.add_argument("--no-scans", action="store_true", help="only the text-layer pages")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    layer_pages: list[tuple[str, bytes, str]] = []
    for stem in TEXT_LAYER:
        pdf = SHARED / f"{stem}.pdf"
        reader = PdfReader(pdf)
        images = render_pages(pdf)
        for i in range(3, min(len(images), 3 + args.pages_per_doc)):
            ref = norm(reader.pages[i].extract_text() or "")
            if len(ref) > 200:  # a page with text (not a blank or a drawing)
                layer_pages.append((f"{stem} p{i + 1}", images[i], ref))
    scans = [] if args.no_scans else [(stem, render_pages(SHARED / f"{stem}.pdf"), norm(md_text(SHARED / f"{stem}.md")))
                                      for stem in SCANS]
    report: dict[str, object] = {"text_layer_pages": len(layer_pages), "scan_pages": sum(len(p) for _, p, _ in scans)}
    for name in ("rapidocr", "tesseract"):
        engine = make_engine(name)
        if engine is None:
            report[name] = "unavailable"
            continue
        t0, n, dist, ref_len, confs = time.perf_counter(), 0, 0, 0, []
        for _label, png, ref in layer_pages:
            page = engine.read(png)
            dist += Levenshtein.distance(norm("".join(page.lines)), ref)
            ref_len += len(ref)
            confs.append(page.confidence)
            n += 1
        scan_cer = {}
        for stem, pngs, ref in scans:
            pages = [engine.read(p) for p in pngs]
            n += len(pngs)
            scan_cer[stem] = round(Levenshtein.distance(norm("".join("".join(p.lines) for p in pages)), ref)
                                   / len(ref), 4)
        secs = time.perf_counter() - t0
        report[name] = {"engine": engine.id, "cer_text_layer": round(dist / max(ref_len, 1), 4),
                        "cer_scans": scan_cer, "mean_confidence": round(sum(confs) / max(len(confs), 1), 3),
                        "pages_per_s": round(n / secs, 3), "seconds": round(secs, 1)}
    print(json.dumps(report, ensure_ascii=False, indent=None if args.json else 1))


if __name__ == "__main__":
    main()

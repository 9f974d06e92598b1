"""What the corpus says about a cited passage beyond its text (answer/notes.py): a standard's dates, and whether its
text was read from a scan — shown on the card so a misread digit is not taken for the standard's word."""

from __future__ import annotations

from assistant.answer.compose import Citation
from assistant.answer.notes import CorpusNotes


def _card(title: str, kind: str = "标准") -> Citation:
    return Citation(id=f"{title}#表1·1", title=title, article=None, status="现行有效", kind=kind, snippet="",
                    highlights=[])


def test_a_scanned_standard_says_so_on_its_card() -> None:
    notes = CorpusNotes(dates={"GB 1-2000 扫描标准": "2000-01-01 发布"}, scanned={"GB 1-2000 扫描标准": 0.986})
    scan, text, law = _card("GB 1-2000 扫描标准"), _card("GB 2-2010 文字标准"), _card("某法", kind="法律")
    notes.mark([scan, text, law])
    assert scan.as_dict()["ocr"] is True and scan.as_dict()["ocr_confidence"] == 0.986
    assert scan.as_dict()["dates"] == "2000-01-01 发布"
    assert text.as_dict()["ocr"] is False and text.as_dict()["ocr_confidence"] is None
    assert law.as_dict()["ocr"] is False and law.as_dict()["dates"] == ""

"""Line patterns shared by the PDF ingester's stages: the CJK range, issuers, cover boilerplate, page numbers and the
openings of structural units (第X条, 第X章, 一、, （一）, clause numbers, 表N, 附录X)."""

from __future__ import annotations

import re

from assistant.text.numerals import CN_NUMERAL_CHARS

CJK = "\u3400-\u9fff\uf900-\ufaff"
ISSUERS = (
    "生态环境部", "环境保护部", "国家环境保护总局", "国家环境保护局", "国家质量监督检验检疫总局",
    "国家市场监督管理总局", "国家技术监督局", "国家发展和改革委员会", "财政部", "国家税务总局",
    "工业和信息化部", "住房和城乡建设部", "公安部",
)
#: Cover / publisher / colophon lines of standards (dropped).
BOILERPLATE = re.compile(
    r"出版社|出版集团|出版发行|书号|印刷|开本|印张|字数|定价|网址|电话|版权专有|违者必究|"
    r"本电子版|电子文本|标准正在出版|正式出版|正式标准文本|^（?发布稿）?$|^ICS\b|^[A-Z]\s?\d{2}$|^Z$|"
    r"^中华人民共和国国家标准$|^国家标准$|^中华人民共和国$|^代替|^发布$|^实施$"
)
PAGE_NUMBER = re.compile(
    r"^(?:[-—–－_ ]*\d{1,3}[-—–－_ ]*|[ivxlcIVXLC]{1,5}|[ⅰ-ⅿⅠ-Ⅿ]{1,3}|第\s*\d+\s*页(?:\s*共\s*\d+\s*页)?)$"
)
ARTICLE = re.compile(rf"^第\s*([{CN_NUMERAL_CHARS}\d]+)\s*条(?:\s|$|[^{CJK}]|(?=[{CJK}]))")
CHAPTER = re.compile(rf"^第\s*[{CN_NUMERAL_CHARS}\d]+\s*[章节编]\s*\S*")
CN_SECTION = re.compile(rf"^[{CN_NUMERAL_CHARS}]{{1,4}}[、．.]\s*\S")
CN_SUBSECTION = re.compile(rf"^[（(][{CN_NUMERAL_CHARS}]{{1,3}}[）)]\s*\S")
CLAUSE = re.compile(r"^([A-Z](?:\.\d{1,2}){1,4}|\d{1,2}(?:\.\d{1,2}){0,4})(?:\.(?!\d))?\s*(.*)$")
TABLE = re.compile(r"^(续?)表\s*([A-Z]?\.?\d{1,2}(?:\.\d{1,2})?)(?:\s+|(?=[^\d.\s]))(.*)$")
APPENDIX = re.compile(r"^附\s*录\s*([A-Z])\b\s*(.*)$")


def looks_tabular(line: str) -> bool:
    """A table row of values: mostly numeric / '/' tokens."""
    tokens = line.split()
    if len(tokens) < 3:
        return False
    numeric = sum(1 for t in tokens if re.fullmatch(r"[\d.,~～≤≥<>/%()（）*-]+", t))
    return numeric >= max(2, len(tokens) // 2)

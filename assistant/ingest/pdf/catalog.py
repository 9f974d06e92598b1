"""Splitting catalogues (名录 / 目录 / 税目表) and regulations: the 第X条 articles, then one passage per catalogue
table row carrying its section and column-header context (hazardous-waste rows keyed by their waste code)."""

from __future__ import annotations

import re

from assistant.text.numerals import cn_to_int

from .patterns import ARTICLE, CHAPTER, CJK, CN_SECTION, CN_SUBSECTION, looks_tabular
from .units import Keys, Unit

_WASTE_CODE = re.compile(r"\b(\d{3}-\d{3}-\d{2})\b")
_HW_LABEL = re.compile(rf"HW(\d{{2}})([{CJK}、，]{{2,16}})?")
#: how a hazardous-waste category's name ends (…废物, 废药物、药品, 精（蒸）馏残渣, …乳化液, 废酸, 废碱, 废催化剂)
_HW_NAME_END = ("废物", "药品", "残渣", "乳化液", "废酸", "废碱", "催化剂")
#: a category code after the previous category's last row, on its line: at the end ("…收集的粉尘 T HW47") or run
#: into its name and the next column ("…收集的粉尘 T HW27含锑废物基础化学原料")
_HW_LABEL_IN_LINE = re.compile(rf"(?:^|\s)HW(\d{{2}})((?:[{CJK}、，/（）]*?(?:{'|'.join(_HW_NAME_END)}))|\s*$)")
_CATALOG_HEADER_WORDS = (
    "序号", "废物类别", "行业来源", "废物代码", "危险特性", "项目类别", "环评类别", "报告书",
    "报告表", "登记表", "行业类别", "重点管理", "简化管理", "登记管理", "产品名称", "产品代码",
    "行业名称", "行业代码", "豁免环节", "豁免条件", "豁免内容", "计税单位", "税额", "污染当量值",
)
_CATALOG_START = re.compile(r"^(附表|附录|附件)\s*[一二三四五六七八九十\dA-Z]?\s*$")


def article_units(lines: list[str], keys: Keys) -> tuple[list[Unit], int]:
    """Split the 第X条 part of a catalogue/regulation; return the units and the index where it ends."""
    units: list[Unit] = []
    chapter = ""
    cur: Unit | None = None
    end = 0
    started = False
    for i, line in enumerate(lines):
        compact = line.replace(" ", "")
        if started and (_CATALOG_START.match(compact) or _is_table_header(compact)):
            return units, i
        m = ARTICLE.match(line)
        if m:
            try:
                n = cn_to_int(m.group(1))
            except ValueError:
                n = None
            if n is not None:
                started = True
                cur = Unit(keys(str(n)), [line], i + 1, chapter, article=n)
                units.append(cur)
                end = i + 1
                continue
        if CHAPTER.match(line) and len(compact) <= 30:
            chapter = line
            continue
        if cur is not None:
            cur.lines.append(line)
            end = i + 1
    return units, (end if started else 0)


def _is_table_header(compact: str) -> bool:
    """A column-header line of a catalogue table (short, no sentence punctuation)."""
    if len(compact) > 60 or re.search(r"[，。；,;]", compact):
        return False
    return sum(1 for w in _CATALOG_HEADER_WORDS if w in compact) >= 3


_HW_NAME_LINE = re.compile(rf"[{CJK}、，/（）()]{{1,6}}")


def _hw_name(same_line: str, following: list[str]) -> str:
    """A category's name, which the PDF's narrow column wraps over several lines ("废有机溶 / 剂与含有 / 机溶剂废 /
    物"): the lines after its HW code joined until the name ends, or until a line that is not part of it (the next
    column's text after a space, a number, a longer line such as 非特定行业 after a finished name)."""
    name = same_line
    for line in following:
        if name.endswith(_HW_NAME_END):
            break
        first, *rest = line.split()
        if not _HW_NAME_LINE.fullmatch(first):
            break
        name += first
        if rest:
            break
    return name


#: a hazardous-waste row that the PDF's text ran into the line of the row before it: after that row's hazard column,
#: the new row's 行业来源 and its code ("…废催化剂 T兽用药品制造 275-009-50 兽药生产…", "…废酸性洗液 C，T金属表面处理
#: 及热处理加工 336-105-34 …", "…污泥T HW47含钡废物 金属表面处理…"); the split falls before the 行业来源
_RUN_IN_ROW = re.compile(rf"(?<=[{CJK}）\s])(?:In|[TCIR])(?:[，,/](?:In|[TCIR]))*\s*(?:HW\d{{2}}\S*\s+)?(?=[{CJK}]{{2,14}}\s*\d{{3}}-\d{{3}}-\d{{2}}\b)")


def _run_in_rows(line: str) -> list[str]:
    """``line`` split where a waste row runs into it (:data:`_RUN_IN_ROW`); ``[line]`` when none does."""
    parts, start = [], 0
    for m in _RUN_IN_ROW.finditer(line):
        parts.append(line[start : m.end()].rstrip())
        start = m.end()
    return [*parts, line[start:]] if parts else [line]


def catalog_rows(lines: list[str], offset: int, title: str, keys: Keys) -> list[Unit]:
    """One unit per catalogue table row, carrying its section and column-header context."""
    text = "\n".join(lines)
    waste = len(_WASTE_CODE.findall(text)) >= 20
    hw_names: dict[str, str] = {}
    if waste:
        for i, line in enumerate(lines):
            m = _HW_LABEL.fullmatch(line.replace(" ", "")) or _HW_LABEL_IN_LINE.search(line)
            if m:
                name = _hw_name((m.group(2) or "").strip(), lines[i + 1 : i + 6])
                if re.fullmatch(rf"[{CJK}、，/（）()]{{2,24}}", name):
                    hw_names.setdefault(m.group(1), name.rstrip("、，"))
    units: list[Unit] = []
    section = subsection = header = table = ""
    row_no = 0
    cur: Unit | None = None
    preamble: Unit | None = None

    def context() -> str:
        parts = [p for p in (title, table, section, subsection) if p]
        ctx = " › ".join(parts)
        if header:
            ctx += f"\n［表头：{header}］"
        return ctx

    numbered = [(i, part) for i, line in enumerate(lines) for part in (_run_in_rows(line) if waste else [line])]
    for i, line in numbered:
        lineno = offset + i + 1
        compact = line.replace(" ", "")
        if _CATALOG_START.match(compact):
            table, section, subsection, row_no, cur = "", "", "", 0, None
            continue
        if table == "" and cur is None and re.fullmatch(
            rf"[{CJK}（）()、“”]{{2,30}}(名录|清单|目录|表)([（(]\d{{4}}年版[）)])?", compact
        ):
            table = compact
            continue
        if _is_table_header(compact):
            header = " | ".join(line.split()) if " " in line else line
            cur = None
            continue
        if CN_SECTION.match(line) and len(compact) <= 40 and not looks_tabular(line):
            section, subsection, cur = line, "", None
            continue
        if CN_SUBSECTION.match(line) and len(compact) <= 40 and "中的" not in compact:
            subsection, cur = line, None
            continue
        start = False
        number: str | None = None
        m_code = re.match(rf"^(?:(\d{{1,3}})\s+)?(?:[{CJK}、，]{{2,12}}\s*){{0,2}}(\d{{3}}-\d{{3}}-\d{{2}})", line) if waste else None
        m_num = re.match(r"^(\d{1,3})(?:-\d{1,3})?(?:\s+|\.|、|$)(?!\d{3}-)", line)
        if m_code:
            start, number = True, m_code.group(2)
        elif m_num and not waste:
            n = int(m_num.group(1))
            rest = line[m_num.end():].lstrip()
            continuation = bool(re.match(r"^(万|亿|千|吨|个|台|头|只|米|平方|立方|年|以|及|%|倍|小时|蒸吨)", rest))
            if not continuation and (
                n == row_no + 1 or (row_no < n <= row_no + 3 and rest) or (n == 1 and cur is None)
            ):
                start, number, row_no = True, m_num.group(1), n
        if start and number is not None:
            ctx = context()
            if waste and _WASTE_CODE.fullmatch(number):
                hw = number[-2:]
                label = f"HW{hw} {hw_names.get(hw, '')}".strip()
                ctx = ctx.replace(title, f"{title} › {label}", 1) if title else label
                key = keys(f"row-{number}")
            else:
                key = keys(f"row-{number}")
            cur = Unit(key, [line], lineno, section or table, context=ctx)
            units.append(cur)
        elif cur is not None:
            cur.lines.append(line)
        else:
            if preamble is None or (units and units[-1] is not preamble):
                preamble = Unit(keys(f"p{lineno}"), [], lineno, section or table, context=context())
                units.append(preamble)
            preamble.lines.append(line)
    return units

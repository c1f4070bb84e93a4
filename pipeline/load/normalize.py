"""A raw sheet + its header match → typed records, each with its Excel row and its problems.

Every data row becomes a record; a record with an error finding is set aside (kept, with its
reasons), never dropped. Blank rows, repeated header rows, rows with nothing but a number in them
(ghost rows) and signature / subtotal lines are not data and are counted as skipped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from pipeline.findings import ERROR, INFO, WARNING, Finding, column_letter
from pipeline.load.header import HeaderMatch
from pipeline.load.values import (
    ValueProblem,
    arabic_numerals,
    clean_text,
    date_order,
    is_blank,
    month_order,
    parse_bool,
    parse_choice,
    parse_date,
    parse_number,
    parse_phone,
    parse_text,
)
from pipeline.names import PropertyNames
from pipeline.registers import (
    BOOL,
    CASE_NUMBERS,
    CHOICE,
    DATE,
    FOOTER_LABELS,
    FOOTER_WORDS,
    NUMBER,
    PHONE,
    REGISTERS,
    Column,
    value_list,
)

_YEAR = re.compile(r"(20\d{2})\s*(?:年|[.\-/_]|(?=\d{2}\b)|\b)")
_MONTH_CN = re.compile(r"(?<!\d)(\d{1,2})\s*月")
_YEAR_MONTH = re.compile(r"(20\d{2})\s*[年.\-/_]?\s*(\d{1,2})(?!\d)")


def year_hint(*texts: str) -> int | None:
    for text in texts:
        m = _YEAR.search(arabic_numerals(clean_text(text))) if text else None
        if m:
            return int(m.group(1))
    return None


@lru_cache(maxsize=4096)  # validation asks again for every record of a sheet
def sheet_month(sheet: str, year: int | None) -> str | None:
    """'2026年10月' / '2026.10' / '202610' / '10月' / '十月' (with a year hint) → '2026-10'."""
    text = arabic_numerals(clean_text(sheet))
    m = _YEAR_MONTH.search(text)
    if m and 1 <= int(m.group(2)) <= 12:
        return f"{m.group(1)}-{int(m.group(2)):02d}"
    m = _MONTH_CN.search(text)
    if m and year and 1 <= int(m.group(1)) <= 12:
        return f"{year}-{int(m.group(1)):02d}"
    return None


@dataclass
class Record:
    register: str
    sheet: str
    row: int  # the Excel row the clerk sees
    values: dict[str, Any]
    property_name: str | None = None
    month: str | None = None
    file: str | None = None
    findings: list[Finding] = field(default_factory=list)
    sheet_errors: tuple[Finding, ...] = ()  # the sheet's own errors (a required column missing): said once

    def errors(self) -> list[Finding]:
        """Why the row is set aside: its sheet's errors and its own (empty when it loads)."""
        own = [f for f in self.findings if f.severity == ERROR] if self.findings else []
        return [*self.sheet_errors, *own] if self.sheet_errors else own

    @property
    def set_aside(self) -> bool:
        return bool(self.sheet_errors) or any(f.severity == ERROR for f in self.findings)

    @property
    def record_id(self) -> str | None:
        return self.values.get("id")


@dataclass
class SheetContext:
    file: str
    sheet: str
    as_of: datetime
    year: int | None  # year hint from sheet name, title or file name
    month: str | None  # the month the sheet name announces
    property: str | None  # property named by title / sheet / file name
    names: PropertyNames  # the configured properties
    register: str = ""
    named_month: str | None = None  # the month its sheet name, title or file name names (dates' hint)
    choices: Callable = lambda register, key: value_list(REGISTERS[register].column(key))  # Config.choices
    ambiguous: tuple[str, ...] = ()  # the properties the title / sheet / file name fits equally
    unconfigured_noted: set[str] = field(default_factory=set)


_FOOTER_HINT = re.compile("[" + "".join(sorted({w[0] for w in FOOTER_WORDS + FOOTER_LABELS})) + "]")
_FOOTER_LABEL = re.compile(r"^(?:" + "|".join(FOOTER_LABELS) + r")\s*[:：]")
# … or counts the rows above it, as an export's last line does (共 12 条记录, 总共 3 宗)
_COUNT_LINE = re.compile(r"^(?:共|总共)\s*[0-9]+\s*(?:条|项|宗|件|笔|行|个)")


def _is_footer(first: Any) -> bool:
    """A signature, date, subtotal or note line: its first filled cell begins with a footer word,
    with a footer label and a colon, or with a count of the rows (共 12 条记录)."""
    if not isinstance(first, str):
        return False
    if not _FOOTER_HINT.search(first) and unicodedata.is_normalized("NFKC", first):
        return False  # no footer word can start anywhere in it
    text = clean_text(first)
    return bool(_FOOTER_LABEL.match(text) or _COUNT_LINE.match(text)) or any(
        text.startswith(w) or f"{w}:" in text or f"{w}：" in text for w in FOOTER_WORDS
    )


# a row a clerk keeps but strikes out in words (a numbered form keeps its numbers): a cell of its own
# saying so, 作废, 此条作废, 重复登记, 录入错误
_VOID = re.compile(
    r"(?:(?:此|本|该)(?:条|行|单))?已?作废单?|重复(?:登记|录入)|(?:登记|录入)(?:重复|错误)(?:作废)?"
)


def _void(text: str) -> bool:
    return bool(_VOID.fullmatch(clean_text(text).rstrip("。.!！")))


# a template's example row, kept above the data (示例 | CH-202610-001 | 2026-10-08 …, 例：…)
_EXAMPLE = re.compile(r"(?:填写|填表)?(?:示例|样例|范例|举例|例子|例)(?:[:：].*|[一二三1-3]|行)?")


def _first_cell_kind(text: str) -> str:
    """What a row's first filled cell says of it: 'footer', 'example' or ''."""
    if _is_footer(text):
        return "footer"
    return "example" if "例" in text and _EXAMPLE.fullmatch(clean_text(text)) else ""


class _RowKinds:
    """'data', 'blank', 'footer', 'example', 'void', 'ghost' or 'header' for each grid row under one
    header.

    One pass over the register's columns per row, with memos for the short texts that recur on
    every row (序号, 是, 否, placeholders, 作废) and for first cells (signature lines)."""

    def __init__(self, match: HeaderMatch) -> None:
        self.columns = sorted(match.columns.values())
        self.id_column = match.columns.get(match.register.id_key)
        self.header_texts = frozenset(text.strip() for text in match.labels.values())
        self.short: dict[str, str] = {}  # what a short text says of its row: blank, void or ''
        self.first: dict[str, str] = {}  # _first_cell_kind's memo

    def __call__(self, row: list) -> str:
        width, filled, only_id, header_like, void = len(row), 0, True, 0, False
        short, header_texts = self.short, self.header_texts
        for c in self.columns:
            if c >= width:
                break
            v = row[c]
            if v is None:
                continue
            if type(v) is str:
                if len(v) <= 8:
                    kind = short.get(v)
                    if kind is None:  # a placeholder, 作废, or neither (most: no regex)
                        void_like = "作废" in v or "重复" in v or "错误" in v
                        kind = short[v] = "blank" if is_blank(v) else "void" if void_like and _void(v) else ""
                    if kind:  # most short texts say nothing of their row
                        if kind == "blank":
                            continue
                        void = True
                if v in header_texts or v.strip() in header_texts:
                    header_like += 1
            filled += 1
            if c != self.id_column:
                only_id = False
        for first in row:
            if first is not None and first != "":
                if type(first) is str:
                    said = self.first.get(first)
                    if said is None:
                        said = self.first[first] = _first_cell_kind(first)
                    if said:
                        return said
                break
        if not filled:
            return "blank"
        if void:
            return "void"
        if filled == 1 and only_id:
            return "ghost"
        if filled >= 3 and header_like >= 3:
            return "header"  # the header row repeated (sheets pasted one under another)
        return "data"


def _parse(col: Column, raw: Any, ctx: SheetContext, order: str | None = None) -> tuple[Any, str | None, str]:
    """(value as stored, finding code or None, note). order: the column's date order (date_order)."""
    try:
        if col.type == DATE:
            value, assumed = parse_date(raw, ctx.year, ctx.as_of, order, ctx.named_month)
            if assumed and ctx.year is None:  # a year from the sheet, title or file name is no guess
                return _iso(value), "date-year-assumed", str(value.year)
            return _iso(value), None, ""
        if col.type == BOOL:
            value = parse_bool(raw)
        elif col.type == NUMBER:
            value = parse_number(raw)
        elif col.type == PHONE:
            value = parse_phone(raw)
        elif col.type == CHOICE:
            value = parse_choice(raw, ctx.choices(ctx.register, col.key))
        elif col.key in CASE_NUMBERS[ctx.register]:
            return _case_number(raw)
        else:
            value = parse_text(raw)
    except ValueProblem as problem:
        return None, problem.code, problem.note
    return value, None, ""


# how Excel shows a large number in scientific notation (a CSV it saved: 2.02611E+17); the + is
# always there, so that a roster's 1E01 (building 1, east, 01) is no such number
_SCIENTIFIC = re.compile(r"[0-9](?:\.[0-9]+)?E\+[0-9]+", re.IGNORECASE)


def _case_number(raw: Any) -> tuple[str | None, str | None, str]:
    """A case number as text. Excel keeps a number to 15 significant digits: a longer number typed
    into a cell not formatted as text (an 18-digit work-order number) has lost its last digits, and
    read as it is it would be digits no one wrote (202611050000000096). It is read as Excel shows it
    (202611050000000000), and said (number-digits-lost), as is the scientific notation a CSV saved
    by Excel holds instead of the number."""
    if isinstance(raw, int | float) and not isinstance(raw, bool) and abs(raw) >= 1e15:
        return str(int(float(f"{raw:.15g}"))), "number-digits-lost", "超过 15 位，Excel 只保存 15 位有效数字"
    value = parse_text(raw)
    if value is not None and ("E" in value or "e" in value) and _SCIENTIFIC.fullmatch(value):
        return value, "number-digits-lost", "是 Excel 的科学计数法写法"
    return value, None, ""


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes") if value.second == 0 else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


_NOTHING = (None, None, "")
# cell findings said once per column and sheet (the rest are errors, one per cell), with their severity:
# a year assumed; case numbers that Excel cut (the rows still count: their number is what is wrong)
_ONCE = {"date-year-assumed": INFO, "number-digits-lost": WARNING}


# what a clerk writes on a paper-style register for "the same as the row above"
DITTO = frozenset({"同上", "同上。", "仝上", "〃", "″", '"', "“", "”"})


def _fill_ditto(raws: list, parsed: list) -> None:
    """A column's cells written 同上 or 〃 take the cell above's value, and what its parse said, in
    place (as a cell merged down does). In the first data row there is none above: it stays, and
    its parse says what it is (not a date, not an allowed value)."""
    above = None
    for j, raw in enumerate(raws):
        if raw is None:
            continue
        if type(raw) is str and raw in DITTO:
            if above is not None:
                raws[j], parsed[j] = raws[above], parsed[above]
        else:
            above = j


# a later date of a row written as a day relative to the row's own date (完成时间: 当天, 次日)
SAME_DAY = dict.fromkeys(("当天", "当日", "同日", "同天", "即日"), 0) | dict.fromkeys(
    ("次日", "第二天", "隔天", "隔日"), 1
)
_SAME_DAY_WORDS = frozenset(SAME_DAY)


def _fill_same_day(raws: list, parsed: list, own: list) -> None:
    """A date column's cells written 当天 or 次日 take the row's own date (受理日期, 报修时间), or the
    day after, in place; where the row has no date of its own they stay, and the date check names them."""
    for j, raw in enumerate(raws):
        if type(raw) is str and raw in SAME_DAY and own[j][0]:
            day = date.fromisoformat(str(own[j][0])[:10]) + timedelta(days=SAME_DAY[raw])
            raws[j], parsed[j] = day.isoformat(), (day.isoformat(), None, "")


def normalize_sheet(
    rows: list[list], match: HeaderMatch, ctx: SheetContext, continued: set[int] = frozenset()
) -> tuple[list[Record], dict[str, int]]:
    """Records from the data rows under the header; also counts of skipped rows by kind. continued:
    the grid rows folded into the record above them (load/continued.py), skipped.

    A cell's parse depends only on its column, its raw value and the sheet, so each column keeps a
    memo of the values it has seen: dates, names, choices and 是/否 recur on most rows.
    """
    register = match.register
    skipped = {"blank": 0, "footer": 0, "ghost": 0, "header": 0, "continued": 0, "void": 0, "example": 0}
    records: list[Record] = []
    # a required column missing is one finding for the sheet (not one per row); every row is set aside for it
    missing = tuple(
        Finding("column-missing", ERROR, ctx.file, ctx.sheet, None, col.header, value=col.header)
        for col in register.columns
        if col.required and col.key not in match.columns
    )
    noted: set[tuple[str, str]] = set()  # (column, code) of the findings said once per column
    row_kind = _RowKinds(match)
    layout = []  # (column, index, header as written, letter, memo) — the same for every row
    # 1/2/2020 is read in the order the sheet's other dates show (an export writes all its dates alike)
    date_columns = [
        c for col in register.columns if col.type == DATE and (c := match.columns.get(col.key)) is not None
    ]
    order = date_order(row[c] for row in rows[match.data_start :] for c in date_columns if c < len(row))
    if order is None and ctx.named_month:  # else the month the register names shows it: by its
        # period dates first (受理日期 lies in that month), else by any of its dates
        period = match.columns.get(register.date_key) if register.date_key else None
        order = month_order(
            (row[period] for row in rows[match.data_start :] if period is not None and period < len(row)),
            ctx.named_month,
        ) or month_order(
            (row[c] for row in rows[match.data_start :] for c in date_columns if c < len(row)),
            ctx.named_month,
        )
    for col in register.columns:
        c = match.columns.get(col.key)
        layout.append(
            (
                col,
                c,
                match.labels.get(c, col.header) if c is not None else col.header,
                column_letter(c) if c is not None else None,
                {},
            )
        )
    data = []  # the grid indexes of the data rows
    for i in range(match.data_start, len(rows)):
        kind = "continued" if i in continued else row_kind(rows[i])
        if kind == "data":
            data.append(i)
        else:
            skipped[kind] += 1
    # a column at a time: its cells, each distinct one parsed once (memo), the findings where a parse
    # had something to say, which the memo tells without looking at every cell
    row_findings: dict[int, list[Finding]] = {}  # position in data → the row's findings, in column order
    columns = []
    day_of: dict[str, list] = {}  # the register's own date column's parses, for 当天 in the others
    for col, c, header, letter, memo in layout:
        if c is None:
            columns.append([col.default] * len(data))
            continue
        raws = [row[c] if c < len(row) else None for row in (rows[i] for i in data)]
        get = memo.get
        parsed = []
        for raw in raws:
            if raw is None:
                parsed.append(_NOTHING)
                continue
            key = raw if type(raw) is str else (type(raw), raw)
            found = get(key)
            if found is None:
                found = memo[key] = _parse(col, raw, ctx, order)
            parsed.append(found)
        # the memo holds each distinct value once: one intersection in C, no step per cell
        if memo.keys() & DITTO:  # 同上: the value above
            _fill_ditto(raws, parsed)
        if col.type == DATE and register.date_key in day_of and memo.keys() & _SAME_DAY_WORDS:
            _fill_same_day(raws, parsed, day_of[register.date_key])  # 当天: the row's own day
        if col.key == register.date_key:
            day_of[col.key] = parsed
        values = [p[0] for p in parsed]
        if any(p[1] is not None for p in memo.values()):
            for j, (_, code, note) in enumerate(parsed):
                if code is None:
                    continue
                if code in _ONCE:  # one finding per column and sheet, on its first such cell
                    if (col.key, code) in noted:
                        continue
                    noted.add((col.key, code))
                    if code == "number-digits-lost":
                        same = sum(1 for p in parsed if p[1] == code)
                        note += f"（本列共 {same} 个这样的编号）" if same > 1 else ""
                row_findings.setdefault(j, []).append(
                    Finding(
                        code,
                        _ONCE.get(code, ERROR),
                        ctx.file,
                        ctx.sheet,
                        data[j] + 1,
                        header,
                        letter,
                        parsed[j][0] if code == "number-digits-lost" else clean_text(raws[j]),
                        note,
                    )
                )
        if None in values:
            if col.default is not None:
                values = [col.default if v is None else v for v in values]
            elif col.required:
                for j, (v, p) in enumerate(zip(values, parsed, strict=True)):
                    if v is None and not p[1]:
                        row_findings.setdefault(j, []).append(
                            Finding(
                                "required-missing", ERROR, ctx.file, ctx.sheet, data[j] + 1, header, letter
                            )
                        )
        columns.append(values)
    keys = [col.key for col, *_ in layout]
    for j, row_values in enumerate(zip(*columns, strict=True)):
        record = Record(
            register.key,
            ctx.sheet,
            data[j] + 1,
            dict(zip(keys, row_values, strict=True)),
            findings=row_findings.pop(j, []),
            sheet_errors=missing,
        )
        _place(record, ctx, register.date_key)
        records.append(record)
    return records, skipped


def _place(record: Record, ctx: SheetContext, date_key: str | None) -> None:
    """Property and month of a record: from its own cells first, then from the sheet.

    A name that fits two configured properties equally (翠湖 for 翠湖一期 and 翠湖二期) sets the
    row aside naming both: the row is never counted under a guess."""
    cell = record.values.get("property")
    found = ctx.names.match(cell) if cell else None
    if found is not None and found.name:
        record.property_name = record.values["property"] = found.name
    elif found is not None and found.ambiguous:
        record.property_name = None
        _ambiguous(record, ctx, cell, found.candidates)
    elif cell:
        record.property_name = cell
        if ctx.names and cell not in ctx.unconfigured_noted:
            ctx.unconfigured_noted.add(cell)  # once per sheet and name, not on every row
            record.findings.append(
                Finding(
                    "property-not-configured", WARNING, ctx.file, ctx.sheet, record.row, "项目", value=cell
                )
            )
    elif ctx.property:
        record.property_name = record.values["property"] = ctx.property
    elif ctx.ambiguous and record.register != "feedback":
        _ambiguous(record, ctx, None, ctx.ambiguous)
    elif ctx.names and record.register != "feedback":
        record.findings.append(
            Finding(
                "property-unknown",
                ERROR,
                ctx.file,
                ctx.sheet,
                record.row,
                "项目",
                note="（表中无“项目”列，标题、工作表名和文件名中也没有已登记的项目名称）",
            )
        )
    when = record.values.get(date_key) if date_key else None
    record.month = when[:7] if isinstance(when, str) and len(when) >= 7 else ctx.month


def _ambiguous(record: Record, ctx: SheetContext, cell: str | None, candidates: tuple[str, ...]) -> None:
    where = f"“{cell}”" if cell else "标题、工作表名或文件名"
    record.findings.append(
        Finding(
            "property-ambiguous",
            ERROR,
            ctx.file,
            ctx.sheet,
            record.row,
            "项目",
            value=cell,
            note=f"{where}同时符合 {'、'.join(candidates)}",
        )
    )

"""One file → LoadedFile: every sheet read, its register recognised, every data row a record."""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from pipeline.config import Config
from pipeline.errors import InputError
from pipeline.findings import INFO, WARNING, Finding, column_letter
from pipeline.load.continued import continuation_rows, fold_continuations
from pipeline.load.header import HeaderMatch, english_row, find_header
from pipeline.load.normalize import (
    Record,
    SheetContext,
    normalize_sheet,
    sheet_month,
    year_hint,
)
from pipeline.load.read import cell_index, read_file, saved_at
from pipeline.load.ticks import fold_ticks, tick_groups
from pipeline.load.times import join_times, time_columns
from pipeline.load.units import join_unit_parts, unit_parts
from pipeline.load.values import ValueProblem, clean_text, is_blank, parse_date
from pipeline.names import PropertyNames
from pipeline.registers import CASE_NUMBERS

# Rows under a header that hold something but are not data: counted and said, never silently dropped
# (blank rows are not counted: there is nothing to account for).
SKIP_REASONS = {
    "ghost": "只有编号的空行",
    "footer": "签名、日期或合计行",
    "header": "重复的表头行",
    "continued": "同一条记录的续行（已并入上一行）",
    "void": "标明作废或重复登记的行",
    "example": "模板的填写示例行",
}


def skipped_text(skipped: dict[str, int]) -> str:
    """'只有编号的空行 5，签名、日期或合计行 2': the reasons, most rows first."""
    return "，".join(f"{why} {n}" for why, n in sorted(skipped.items(), key=lambda kv: (-kv[1], kv[0])))


log = logging.getLogger("pipeline.load")


@dataclass
class SheetSummary:
    name: str
    register: str | None
    header_row: int | None  # Excel row of the (last) header row
    rows_read: int = 0
    rows_loaded: int = 0
    rows_set_aside: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    columns: dict[str, list[str]] = field(default_factory=dict)  # key → [header as written, column letter]
    submitter: str | None = None  # 填表人 from the signature line
    property: str | None = None  # the property its title, sheet, file or folder name names
    month: str | None = None  # the month its sheet name, title or file name names


@dataclass
class LoadedFile:
    path: Path
    name: str
    sha256: str
    size: int
    sheets: list[SheetSummary] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # file, sheet and header level
    error: Finding | None = None
    saved_at: str | None = None  # when the workbook says it was saved (read.saved_at)

    @property
    def register(self) -> str | None:
        regs = Counter(s.register for s in self.sheets if s.register)
        return regs.most_common(1)[0][0] if regs else None

    @property
    def properties(self) -> list[str]:
        return sorted({r.property_name for r in self.records if r.property_name})

    @property
    def rows_read(self) -> int:
        return len(self.records)

    @property
    def rows_set_aside(self) -> int:
        return sum(1 for r in self.records if r.set_aside)

    @property
    def rows_loaded(self) -> int:
        return self.rows_read - self.rows_set_aside

    @property
    def skipped(self) -> dict[str, int]:
        """Reason (SKIP_REASONS) → rows skipped for it, over every sheet."""
        out: Counter[str] = Counter()
        for s in self.sheets:
            out.update({SKIP_REASONS[k]: n for k, n in s.skipped.items() if k in SKIP_REASONS and n})
        return dict(out)

    @property
    def rows_skipped(self) -> int:
        return sum(self.skipped.values())

    def all_findings(self) -> list[Finding]:
        out = list(self.findings)
        for r in self.records:
            out.extend(r.findings)
        return out


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_SUBMITTER = re.compile(r"(?:填表人|制表人|登记人)\s*[:：]\s*([\u4e00-\u9fa5A-Za-z·]{2,8})")


def submitter(rows: list[list], start: int) -> str | None:
    """The name on the 填表人 line under the table, if any."""
    for row in rows[start:][-40:] if len(rows) - start > 40 else rows[start:]:
        for v in row:
            if isinstance(v, str) and ("填表人" in v or "制表人" in v or "登记人" in v):
                m = _SUBMITTER.search(v.replace(" ", ""))
                if m:
                    return m.group(1).split("审核人")[0]
    return None


def fill_merged_data(rows: list[list], merged: list, data_start: int) -> None:
    """A cell merged down over several data rows (one date for three complaints) applies to each of them."""
    for (r0, c0), (r1, c1) in merged:
        if r0 < data_start or r1 == r0 or r0 >= len(rows):
            continue
        value = rows[r0][c0] if c0 < len(rows[r0]) else None
        for r in range(r0 + 1, min(r1 + 1, len(rows))):
            row = rows[r]
            for c in range(c0, c1 + 1):
                if c < len(row) and row[c] in (None, ""):
                    row[c] = value


def fill_from_duplicates(rows: list[list], match: HeaderMatch, skip: set[int] = frozenset()) -> None:
    """A second column naming a column already read (维修单号 beside 投诉单号, both 关联编号; 结案时间
    beside 处理完成时间) gives its value where the first column's cell is blank, in place; but not
    those in `skip` (a date's time of day: times.join_times)."""
    by_header = {col.header: col.key for col in match.register.columns}
    for c, _, canonical in match.duplicates:
        if c in skip:
            continue
        first = match.columns[by_header[canonical]]
        for row in rows[match.data_start :]:
            if c < len(row) and not is_blank(row[c]) and (first >= len(row) or is_blank(row[first])):
                row.extend([None] * (first + 1 - len(row)))
                row[first] = row[c]


def _uncomputed(raw, match: HeaderMatch, name: str) -> list[Finding]:
    """One finding for the register's cells that are formulas saved without a value (read.py)."""
    placed = set(match.columns.values())
    lost = [
        ref for ref in raw.uncomputed if (at := cell_index(ref))[0] >= match.data_start and at[1] in placed
    ]
    if not lost:
        return []
    more = f" 等 {len(lost)} 个" if len(lost) > 5 else ""
    return [Finding("formula-no-value", WARNING, name, raw.name, note="、".join(lost[:5]) + more)]


def _title(rows: list[list], before: int) -> str:
    return " ".join(clean_text(v) for r in rows[:before] for v in r if clean_text(v))


def load_file(
    path: Path, config: Config, as_of: datetime, name: str | None = None, sha256: str | None = None
) -> LoadedFile:
    """Read, recognise and normalise one file. Never raises for bad input: errors become findings,
    and so does anything a file makes go wrong that nobody foresaw (one file never stops a run)."""
    try:
        return _load_file(path, config, as_of, name, sha256)
    except Exception as exc:
        path = Path(path)
        name = name or path.name
        log.exception("loading %s failed", name)
        size = path.stat().st_size if path.exists() else 0
        loaded = LoadedFile(path, name, sha256 or "", size)
        loaded.error = Finding(
            "file-unreadable", "error", name, note=f"程序无法处理此文件：{type(exc).__name__}"
        )
        return loaded


@lru_cache(maxsize=8)
def property_names(properties: tuple[tuple[str, tuple[str, ...]], ...]) -> PropertyNames:
    """The configured names, normalised once per process, not once per file (300 properties'
    aliases were 12% of loading a file), with their matches remembered across files."""
    return PropertyNames(dict(properties))


def _not_a_register(rows: list[list], match: HeaderMatch, hidden: bool, as_of: datetime) -> str | None:
    """Why a sheet whose header looks like a register's is none (the note of its sheet-skipped), or
    None. A template's list of its drop-down options (投诉类别 | 投诉方式 | 责任部门, often on a hidden
    sheet) and a tally by category carry the register's column names, but neither a case number nor
    a date column, nor a single date in their rows: read as records, every row of them would be set
    aside. A register whose number or date column has a header not known yet still has its numbers
    or dates, and is read (its missing columns said)."""
    register = match.register
    identifying = {register.date_key, *CASE_NUMBERS[register.key]} - {None}
    if not register.date_key or identifying & set(match.columns):
        return None
    for row in rows[match.data_start :]:
        for value in row:
            if isinstance(value, date) or (isinstance(value, str) and _looks_dated(value, as_of)):
                return None
            if type(value) in (int, float) and _SERIAL_DAYS[0] <= value <= _SERIAL_DAYS[1]:
                return None  # a date Excel keeps as its serial number (a General cell)
    names = "”“".join(match.labels[c] for c in sorted(match.columns.values()))
    needed = "”“".join(register.column(k).header for k in sorted(identifying, key=register.keys.index))
    return (
        f"第 {match.last_row + 1} 行的“{names}”像{register.title}的列名，但没有“{needed}”列，"
        f"各行也没有日期，像{'隐藏的' if hidden else ''}下拉选项表或汇总表"
    )


def _looks_dated(text: str, as_of: datetime) -> bool:
    """A text that reads as a date with its year (2026-11-03, 2026年11月3日)."""
    if not _DATED.search(text):
        return False
    try:
        return parse_date(text, None, as_of)[0] is not None
    except ValueProblem:
        return False


_DATED = re.compile(r"\d{4}\s*[年./\-]\s*\d{1,2}")
_SERIAL_DAYS = (36526, 73051)  # Excel's serial numbers of 2000-01-01 and 2099-12-31


def _load_file(
    path: Path, config: Config, as_of: datetime, name: str | None, sha256: str | None
) -> LoadedFile:
    path = Path(path)
    name = name or path.name
    size = path.stat().st_size if path.exists() else 0
    loaded = LoadedFile(path, name, sha256 or (file_hash(path) if path.exists() else ""), size)
    try:
        sheets = read_file(path)
        loaded.saved_at = saved_at(path)
    except InputError as exc:
        loaded.error = Finding(exc.code, "error", name, value=exc.value, note=exc.note)
        return loaded
    names = property_names(tuple((p.name, tuple(p.aliases)) for p in config.properties.values()))
    for raw in sheets:
        rows = raw.rows
        if not any(clean_text(v) for r in rows[:200] for v in r):
            continue  # an empty sheet (Sheet2, Sheet3) says nothing
        match = find_header(rows, raw.merged, config.aliases, (raw.name, path.stem))
        if not isinstance(match, HeaderMatch):
            why = "可能是说明页或汇总页"
            if match is not None:
                why = (
                    f"第 {match.row} 行只有“{'”“'.join(match.headers)}”像{match.register.title}的列名，"
                    "不足以确定是登记表"
                )
            loaded.sheets.append(SheetSummary(raw.name, None, None))
            loaded.findings.append(Finding("sheet-skipped", INFO, name, raw.name, note=why))
            continue
        if match.data_start < len(rows) and english_row(rows[match.data_start], match.columns):
            match.last_row += 1  # a bilingual template's English header row, under the Chinese one
        if (why := _not_a_register(rows, match, raw.hidden, as_of)) is not None:
            loaded.sheets.append(SheetSummary(raw.name, None, None))
            loaded.findings.append(Finding("sheet-skipped", INFO, name, raw.name, note=why))
            continue
        groups = tick_groups(rows, raw.merged, match, config.choices)
        if groups:  # a choice written as one ticked column per value: folded into one column
            fold_ticks(rows, match, groups)
        split_unit = unit_parts(match)  # 楼栋 | 单元 | 房号: joined once merged cells are filled
        title = _title(rows, match.first_row)
        year = year_hint(raw.name, title, path.stem)
        named = names.first(title, raw.name, path.stem, *reversed(Path(name).parent.parts))
        ctx = SheetContext(
            file=name,
            sheet=raw.name,
            as_of=as_of,
            year=year,
            month=(named_by_sheet := sheet_month(raw.name, year)),
            named_month=named_by_sheet or sheet_month(title, year) or sheet_month(path.stem, year),
            property=named.name,
            names=names,
            ambiguous=named.candidates,
            register=match.register.key,
            choices=config.choices,
        )
        if ctx.property is None and "property" not in match.columns and len(names.properties) == 1:
            ctx.property = next(iter(names.properties))
        header_row = match.last_row + 1
        for c, text, hint in match.unknown:
            note = f"（最接近的已知列是“{hint}”）" if hint else ""
            code = "header-unknown"
            if c in match.elsewhere:  # not a spelling of this register's column: no closest one
                code, note = "header-other-register", match.elsewhere[c]
            loaded.findings.append(
                Finding(code, INFO, name, raw.name, header_row, text, column_letter(c), text, note)
            )
        clock = time_columns(rows, match)
        joined = {pair[0] for pair in clock}  # a date's time column
        for c, text, canonical in match.duplicates:
            if c in joined:
                continue  # a date's time of day, joined to it below
            loaded.findings.append(
                Finding(
                    "header-duplicate",
                    WARNING,
                    name,
                    raw.name,
                    header_row,
                    text,
                    column_letter(c),
                    text,
                    canonical,
                )
            )
        for c, text, named in match.partial:
            loaded.findings.append(
                Finding(
                    "header-partial", INFO, name, raw.name, header_row, text, column_letter(c), text, named
                )
            )
        loaded.findings.extend(_uncomputed(raw, match, name))
        if raw.cut_columns:
            loaded.findings.append(
                Finding("sheet-too-wide", INFO, name, raw.name, note=f"{raw.cut_columns:,}")
            )
        continued = continuation_rows(rows, raw.merged, match)  # a record written over rows
        fold_continuations(rows, match, continued)
        fill_merged_data(rows, raw.merged, match.data_start)
        if split_unit:
            join_unit_parts(rows, match.data_start, split_unit)
        join_times(rows, match, clock)
        fill_from_duplicates(rows, match, joined)
        records, skipped = normalize_sheet(rows, match, ctx, set(continued))
        if records:
            loaded.findings.extend(records[0].sheet_errors)
        summary = SheetSummary(
            raw.name,
            match.register.key,
            header_row,
            rows_read=len(records),
            rows_set_aside=sum(1 for r in records if r.set_aside),
            skipped=skipped,
            columns={k: [match.labels[c], column_letter(c)] for k, c in match.columns.items()},
            submitter=submitter(rows, match.data_start),
            property=ctx.property,
            month=ctx.named_month,
        )
        summary.rows_loaded = summary.rows_read - summary.rows_set_aside
        loaded.sheets.append(summary)
        loaded.records.extend(records)
    if not any(s.register for s in loaded.sheets):
        loaded.error = Finding("register-unknown", "error", name)
    return loaded

"""What the clerk gets back: validation.xlsx (every finding) and annotated copies of their workbooks.

Annotated copies are new files (the original is never touched): offending cells filled by
severity with the message as a comment, and a first sheet 问题清单 linking to every cell.
Register text is always written as text, never as a formula.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import openpyxl
import pandas as pd
import rustpy_xlsxwriter as rx
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.hyperlink import Hyperlink

from pipeline.findings import ERROR, INFO, SEVERITY_ZH, WARNING, Finding
from pipeline.infra.atomic import atomic_path
from pipeline.load.loader import skipped_text
from pipeline.load.read import TEXT_SUFFIXES, read_file

FILL = {ERROR: "FFC7CE", WARNING: "FFEB9C", INFO: "DDEBF7"}
HEADERS = ["文件", "工作表", "行", "列", "列号", "单元格内容", "规则", "严重程度", "说明", "处理建议"]
BY_FILE = [
    "文件",
    "登记表",
    "填表人",
    "读取行数",
    "入库",
    "暂存",
    "跳过非数据行",
    "跳过原因",
    "错误",
    "警告",
    "提示",
]
BY_PERSON = ["填表人", "文件数", "错误", "警告", "提示"]
TEXT_MAX = 32_767  # Excel's longest cell text (UTF-16 units); a longer value is cut, as Excel would


def _text(value) -> str | None:
    """A cell's text, None for an empty one (every value of a column has one type: text or nothing)."""
    if value in (None, ""):
        return None
    text = str(value)
    if len(text) > TEXT_MAX // 2 and len(text.encode("utf-16-le")) > 2 * TEXT_MAX:
        text = text.encode("utf-16-le")[: 2 * TEXT_MAX].decode("utf-16-le", "ignore")
    return text


def _row(f: Finding) -> dict:
    values = [f.file, _text(f.sheet), f.row or None, _text(f.column), _text(f.letter), _text(f.value)]
    values += [f.title, SEVERITY_ZH[f.severity], _text(f.text), _text(f.fix)]
    return dict(zip(HEADERS, values, strict=True))


def write_validation_workbook(path: Path, findings: list[Finding], files: list[dict]) -> Path:
    """Every finding (问题清单), and the counts by file (按文件汇总) and by submitter (按填表人汇总).

    files: [{name, register, submitter, rows_read, rows_loaded, rows_set_aside, rows_skipped, skipped}]
    (file_infos). Written by rust_xlsxwriter (the rustpy-xlsxwriter binding): a group's 63,000
    findings take 1.4 s there, rows built included, against 7.7 s of XlsxWriter's per-cell Python.
    Text stays text (never a formula); the severity is coloured by a conditional format."""
    findings = sorted(findings, key=lambda f: (f.file, f.sheet or "", f.row or 0, f.letter or ""))
    names = {info["name"]: info.get("submitter") or "（未署名）" for info in files}
    by_file: dict[str, Counter] = defaultdict(Counter)
    by_person: dict[str, Counter] = defaultdict(Counter)
    for f in findings:
        by_file[f.file][f.severity] += 1
        by_person[names.get(f.file, "（未署名）")][f.severity] += 1
    file_rows = []
    for info in sorted(files, key=lambda d: d["name"]):
        c = by_file.get(info["name"], Counter())
        counts = [info.get(k) or 0 for k in ("rows_read", "rows_loaded", "rows_set_aside", "rows_skipped")]
        values = [info["name"], _text(info.get("register")), _text(info.get("submitter")), *counts]
        values += [_text(skipped_text(info.get("skipped") or {})), c[ERROR], c[WARNING], c[INFO]]
        file_rows.append(dict(zip(BY_FILE, values, strict=True)))
    file_count = Counter(names.values())
    person_rows = []
    for person in sorted(set(names.values()) | set(by_person)):
        c = by_person.get(person, Counter())
        values = [person, file_count[person], c[ERROR], c[WARNING], c[INFO]]
        person_rows.append(dict(zip(BY_PERSON, values, strict=True)))
    sheets = {
        "问题清单": [_row(f) for f in findings] or pd.DataFrame(columns=HEADERS),
        "按文件汇总": file_rows or pd.DataFrame(columns=BY_FILE),
        "按填表人汇总": person_rows or pd.DataFrame(columns=BY_PERSON),
    }
    wrap = rx.Format().set_text_wrap().set_align("top")
    fill = {SEVERITY_ZH[s]: rx.Format().set_background_color("#" + c) for s, c in FILL.items()}
    page = {
        "landscape": True,
        "paper_size": 9,  # A4
        "fit_to_pages": (1, 0),
        "repeat_rows": 0,
        "footer": "&C第 &P 页 / 共 &N 页",
    }
    with atomic_path(path) as tmp:
        rx.write_worksheets(
            list(sheets.items()),
            str(tmp),
            header_format={
                "general": rx.Format()
                .set_bold()
                .set_background_color("#DDEBF7")
                .set_border("thin")
                .set_text_wrap()
            },
            freeze_panes={name: {"row": 1, "col": 0} for name in sheets},
            autofilter={"问题清单": True},
            column_widths={
                "问题清单": [28, 12, 6, 14, 6, 18, 16, 8, 48, 40],
                "按文件汇总": [36, 16, 16, 9, 9, 9, 9, 28, 8, 8, 8],
                "按填表人汇总": [16, 9, 8, 8, 8],
            },
            column_formats={"问题清单": [wrap] * len(HEADERS)},
            conditional_formats={
                "问题清单": {
                    "严重程度": [
                        {"type": "text", "criteria": "contains", "value": text, "format": fmt}
                        for text, fmt in fill.items()
                    ]
                }
            },
            dedupe_strings={"general": True},  # a rule's text and advice repeat in every row: stored once
            page_setup=dict.fromkeys(sheets, page),
        )
    return path


def _workbook_for(source: Path, file_name: str) -> openpyxl.Workbook:
    """The clerk's workbook as openpyxl sees it; .xls and .csv are rebuilt cell by cell at the same positions."""
    if source.suffix.lower() in (".xlsx", ".xlsm"):
        return openpyxl.load_workbook(source)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for sheet in read_file(source):
        name = (
            Path(file_name).stem if source.suffix.lower() in TEXT_SUFFIXES else sheet.name
        )  # archived as <hash>.csv
        ws = wb.create_sheet(name[:31])
        for i, row in enumerate(sheet.rows, start=1):
            for j, v in enumerate(row, start=1):
                if v not in (None, ""):
                    cell = ws.cell(i, j)
                    cell.value = ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v
                    if isinstance(v, str) and v[:1] in "=+-@":
                        cell.data_type = "s"  # text, never a formula
    return wb


def _shown(ws, cell):
    """The cell that shows a cell's content: the first of the merged range it lies in (a complaint
    written over two rows, its number merged down), else itself. Only it takes a comment."""
    if isinstance(cell, MergedCell):
        for merged in ws.merged_cells.ranges:
            if cell.coordinate in merged:
                return ws.cell(merged.min_row, merged.min_col)
    return cell


def annotated_name(file_name: str) -> str:
    return f"{Path(file_name).stem}（待修改）.xlsx"


def write_annotated_copy(source: Path, file_name: str, findings: list[Finding], out_dir: Path) -> Path:
    """Colour and comment every located finding; a first sheet lists them with links to the cells."""
    wb = _workbook_for(source, file_name)
    located = [f for f in findings if f.sheet in wb.sheetnames and f.row]
    located_ids = {id(f) for f in located}
    for f in located:
        ws = wb[f.sheet]
        cell = _shown(ws, ws[f"{f.letter}{f.row}"] if f.letter else ws.cell(f.row, 1))
        cell.fill = PatternFill("solid", fgColor=FILL[f.severity])
        text = ILLEGAL_CHARACTERS_RE.sub("", f"【{SEVERITY_ZH[f.severity]}】{f.title}：{f.text}。{f.fix}")
        if cell.comment:
            text = cell.comment.text + "\n" + text
        cell.comment = Comment(text, "客服报表 pipeline", width=320, height=140)
    ws = wb.create_sheet("问题清单", 0)
    for j, h in enumerate(["序号", "工作表", "行", "列", "严重程度", "问题", "处理建议"], start=1):
        ws.cell(1, j, h).font = Font(bold=True)
    link_font = Font(color="0563C1", underline="single")
    # what concerns a whole file or sheet (a required column missing) first, said once
    ordered = sorted(findings, key=lambda f: (f.row is not None, f.sheet or "", f.row or 0, f.letter or ""))
    for i, f in enumerate(ordered, start=2):
        values = [i - 1, f.sheet or "", f.row or "", f.column or "", SEVERITY_ZH[f.severity], f.text, f.fix]
        values = [ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in values]
        for j, v in enumerate(values, start=1):
            c = ws.cell(i, j, v)
            if isinstance(v, str):
                c.data_type = "s"
        if id(f) in located_ids:
            target = ws.cell(i, 6)
            target.hyperlink = Hyperlink(
                ref=target.coordinate, location=f"'{f.sheet}'!{f.letter or 'A'}{f.row}"
            )
            target.font = link_font
    for letter, width in zip("ABCDEFG", [6, 12, 6, 14, 8, 60, 44], strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    wb.active = 0
    target = out_dir / annotated_name(file_name)
    with atomic_path(target) as tmp:
        wb.save(tmp)
    return target

"""What the clerk gets back: validation.xlsx (every finding) and annotated copies of their workbooks.

Annotated copies are new files (the original is never touched): offending cells filled by
severity with the message as a comment, and a first sheet 问题清单 linking to every cell.
Register text is always written as text, never as a formula.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import openpyxl
import xlsxwriter
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.hyperlink import Hyperlink

from pipeline.findings import ERROR, INFO, SEVERITY_ZH, WARNING, Finding
from pipeline.infra.atomic import atomic_path
from pipeline.load.loader import skipped_text
from pipeline.load.read import TEXT_SUFFIXES, read_file

FILL = {ERROR: "FFC7CE", WARNING: "FFEB9C", INFO: "DDEBF7"}
HEADERS = ["文件", "工作表", "行", "列", "列号", "单元格内容", "规则", "严重程度", "说明", "处理建议"]


def _row(f: Finding) -> list:
    return [
        f.file,
        f.sheet or "",
        f.row or "",
        f.column or "",
        f.letter or "",
        f.value or "",
        f.title,
        SEVERITY_ZH[f.severity],
        f.text,
        f.fix,
    ]


def write_validation_workbook(path: Path, findings: list[Finding], files: list[dict]) -> Path:
    """files: [{name, register, submitter, rows_read, rows_loaded, rows_set_aside, rows_skipped, skipped}]
    (file_infos) for the summary sheets."""
    findings = sorted(findings, key=lambda f: (f.file, f.sheet or "", f.row or 0, f.letter or ""))
    with atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False})
        head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
        wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        sev_fmt = {s: wb.add_format({"bg_color": "#" + c, "valign": "top"}) for s, c in FILL.items()}
        ws = wb.add_worksheet("问题清单")
        widths = [28, 12, 6, 14, 6, 18, 16, 8, 48, 40]
        for j, (h, w) in enumerate(zip(HEADERS, widths, strict=True)):
            ws.write_string(0, j, h, head)
            ws.set_column(j, j, w, wrap)
        for i, f in enumerate(findings, start=1):
            for j, v in enumerate(_row(f)):
                fmt = sev_fmt[f.severity] if j == 7 else wrap
                if isinstance(v, int):
                    ws.write_number(i, j, v, fmt)
                else:
                    ws.write_string(i, j, str(v), fmt)
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(len(findings), 1), len(HEADERS) - 1)
        _page(ws)

        by_file: dict[str, Counter] = defaultdict(Counter)
        for f in findings:
            by_file[f.file][f.severity] += 1
        ws2 = wb.add_worksheet("按文件汇总")
        heads2 = [
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
        for j, h in enumerate(heads2):
            ws2.write_string(0, j, h, head)
        ws2.set_column(0, 0, 36)
        ws2.set_column(1, 2, 16)
        ws2.set_column(7, 7, 28)
        for i, info in enumerate(sorted(files, key=lambda d: d["name"]), start=1):
            c = by_file.get(info["name"], Counter())
            values = [
                info["name"],
                info.get("register") or "",
                info.get("submitter") or "",
                info.get("rows_read", 0),
                info.get("rows_loaded", 0),
                info.get("rows_set_aside", 0),
                info.get("rows_skipped", 0),
                skipped_text(info.get("skipped") or {}),
                c[ERROR],
                c[WARNING],
                c[INFO],
            ]
            for j, v in enumerate(values):
                (ws2.write_number if isinstance(v, int) else ws2.write_string)(i, j, v)
        ws2.freeze_panes(1, 0)
        _page(ws2)

        by_person: dict[str, Counter] = defaultdict(Counter)
        names = {info["name"]: info.get("submitter") or "（未署名）" for info in files}
        for f in findings:
            by_person[names.get(f.file, "（未署名）")][f.severity] += 1
        ws3 = wb.add_worksheet("按填表人汇总")
        for j, h in enumerate(["填表人", "文件数", "错误", "警告", "提示"]):
            ws3.write_string(0, j, h, head)
        ws3.set_column(0, 0, 16)
        file_count = Counter(names.values())
        for i, person in enumerate(sorted(set(names.values()) | set(by_person)), start=1):
            c = by_person.get(person, Counter())
            ws3.write_string(i, 0, person)
            for j, v in enumerate([file_count[person], c[ERROR], c[WARNING], c[INFO]], start=1):
                ws3.write_number(i, j, v)
        _page(ws3)
        wb.close()
    return path


def _page(ws) -> None:
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    ws.set_footer("&C第 &P 页 / 共 &N 页")


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


def annotated_name(file_name: str) -> str:
    return f"{Path(file_name).stem}（待修改）.xlsx"


def write_annotated_copy(source: Path, file_name: str, findings: list[Finding], out_dir: Path) -> Path:
    """Colour and comment every located finding; a first sheet lists them with links to the cells."""
    wb = _workbook_for(source, file_name)
    located = [f for f in findings if f.sheet in wb.sheetnames and f.row]
    located_ids = {id(f) for f in located}
    for f in located:
        ws = wb[f.sheet]
        cell = ws[f"{f.letter}{f.row}"] if f.letter else ws.cell(f.row, 1)
        if type(cell).__name__ == "MergedCell":
            cell = ws.cell(f.row, 1)
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

"""Report model → report.xlsx (xlsxwriter): 目录 linking every sheet, 总览 with the conclusion, the
KPI table and native charts; one sheet per list; trends; the records behind every numerator and
denominator; appendix.

Every number is a real number with a number format (percent, date, date-time, money), never text: a
KPI figure's ✔/✘ come from its number format's condition and its colour from a conditional format,
so columns sort, filter and chart. Column widths fit their content (CJK characters count double) and
number formats; only long text wraps. Values are written as values (no formulas), and register text
always as text: a cell starting with = + - @ never becomes a formula.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import xlsxwriter

from pipeline.infra.atomic import atomic_path
from pipeline.kpi.core import RATE_KEYS
from pipeline.registers import REGISTERS
from pipeline.render.model import (
    ELSEWHERE,
    GROUP_ROWS,
    KPI_LABELS,
    LIST_SPECS,
    Rate,
    Report,
    Table,
    text_width,
)

WRAP_AT = 50  # characters (half-width) beyond which a column stops growing and its text wraps


class Formats:
    """The workbook's formats, made once each (KPI formats per target, on first use)."""

    def __init__(self, wb):
        self.wb = wb
        base = {"font_name": "等线", "font_size": 10, "valign": "top"}
        self.base = base
        add = wb.add_format
        self.title = add({**base, "bold": True, "font_size": 16})
        self.sub = add({**base, "font_color": "#555555"})
        self.conclusion = add({**base, "bold": True, "font_size": 11, "font_color": "#1F2D3D"})
        self.head = add({**base, "bold": True, "bg_color": "#E8F0F8", "border": 1, "text_wrap": True})
        self.text = add({**base, "border": 1})
        self.wrap = add({**base, "border": 1, "text_wrap": True})
        self.link = add({**base, "font_color": "#1F4E79", "underline": 1})
        self.int = add({**base, "border": 1, "num_format": "0"})
        self.money = add({**base, "border": 1, "num_format": "#,##0.00"})
        self.date = add({**base, "border": 1, "num_format": "yyyy-mm-dd"})
        self.datetime = add({**base, "border": 1, "num_format": "yyyy-mm-dd hh:mm"})
        self.met = add({"font_color": "#1A7F37", "bold": True, "bg_color": "#E6F4EA"})
        self.missed = add({"font_color": "#C0392B", "bold": True, "bg_color": "#FDECEA"})
        self.change = add({**base, "border": 1, "num_format": '"▲ "0.0" 个百分点";"▼ "0.0" 个百分点";"持平"'})
        self.change2 = add(
            {**base, "border": 1, "num_format": '"▲ "0.00" 个百分点";"▼ "0.00" 个百分点";"持平"'}
        )
        self._rates: dict[tuple, object] = {}
        self.sheets: list[tuple[str, str]] = []  # (sheet, what it holds), for 目录

    def rate(self, digits: int, target: float | None = None, direction: str = ">=", sign: bool = False):
        """A percent format; with a target, its condition shows ✔ or ✘ after the number (sign: the
        target itself, shown as "≥ 100.0%" / "< 1.00%")."""
        key = (digits, target, direction, sign)
        if key not in self._rates:
            number = "0." + "0" * digits + "%"
            if sign:
                code = f'"{"<" if direction == "<" else "≥"} "{number}'
            elif target is None:
                code = number
            elif direction == "<":
                code = f'[<{target}]{number}" ✔";{number}" ✘"'
            else:
                code = f'[<{target}]{number}" ✘";{number}" ✔"'
            self._rates[key] = self.wb.add_format({**self.base, "border": 1, "num_format": code})
        return self._rates[key]


def _page(ws, report: Report, landscape: bool = True) -> None:
    if landscape:
        ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.set_header(f"&L{report.title}&R{report.window}")
    ws.set_footer(f"&L生成于 {report.generated_at}　{report.footnote}&R第 &P 页 / 共 &N 页")


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?")


def _shown(value) -> int:
    """How wide a value shows (half-width characters) with its number format."""
    if value is None or value == "":
        return 0
    if isinstance(value, Rate):
        return len(str(value).split("（")[0]) + 2  # "87.5% ✘"
    if isinstance(value, bool):
        return 2
    if isinstance(value, float):
        return len(f"{value:,.2f}")
    if isinstance(value, int):
        return len(str(value))
    if isinstance(value, str) and _DATE.fullmatch(value):
        return 10 if len(value) == 10 else 16
    return max(text_width(line) for line in str(value).splitlines() or [""])


def column_widths(columns: list[str], rows: list[list]) -> list[tuple[float, bool]]:
    """(width, wraps) per column: the widest value as shown, or the header's longest word, plus
    padding; past WRAP_AT the column wraps instead of growing."""
    out = []
    for j, head in enumerate(columns):
        widest = max((_shown(row[j]) for row in rows if j < len(row)), default=0)
        need = max(widest, min(text_width(head), 12), 4) + 2
        out.append((min(need, WRAP_AT + 2), need > WRAP_AT + 2))
    return out


def _write(ws, row: int, col: int, value, fmt: Formats, wrap: bool = False) -> None:
    if isinstance(value, Rate):
        if value.value is None:
            ws.write_blank(row, col, None, fmt.text)
        else:
            ws.write_number(row, col, value.value, fmt.rate(value.digits, value.target, value.direction))
    elif value is None or value == "":
        ws.write_blank(row, col, None, fmt.text)
    elif isinstance(value, bool):
        ws.write_string(row, col, "是" if value else "否", fmt.text)
    elif isinstance(value, int | float):
        ws.write_number(row, col, value, fmt.int if isinstance(value, int) else fmt.money)
    elif isinstance(value, str) and _DATE.fullmatch(value):
        when = datetime.fromisoformat(value)
        ws.write_datetime(row, col, when, fmt.date if len(value) == 10 else fmt.datetime)
    else:
        ws.write_string(row, col, str(value), fmt.wrap if wrap else fmt.text)


def _judge(ws, fmt: Formats, first: int, last: int, col: int, rate: Rate) -> None:
    """Colour a column of one KPI's figures by its target (the ✔/✘ are in the number format)."""
    if rate.target is None or last < first:
        return
    bad, good = ("<", ">=") if rate.direction != "<" else (">=", "<")
    ws.conditional_format(
        first, col, last, col, {"type": "cell", "criteria": bad, "value": rate.target, "format": fmt.missed}
    )
    ws.conditional_format(
        first, col, last, col, {"type": "cell", "criteria": good, "value": rate.target, "format": fmt.met}
    )


def _table_sheet(
    wb, fmt: Formats, report: Report, name: str, table: Table, about: str = "", records: bool = False
) -> None:
    """One table on its own sheet. records: a list of registers' rows; in a group's roll-up it is
    cut at GROUP_ROWS, saying where the rest is (each property's own report)."""
    if records and report.group and table.count > GROUP_ROWS:
        note = f"共 {table.count} 行，此处列出前 {GROUP_ROWS} 行。{ELSEWHERE}"
        table = Table(table.title, table.columns, table.rows[:GROUP_ROWS], table.empty, note)
    ws = wb.add_worksheet(name[:31])
    fmt.sheets.append((ws.name, about or table.title))
    sizes = column_widths(table.columns, table.rows)
    for j, col in enumerate(table.columns):
        ws.write_string(0, j, col, fmt.head)
        ws.set_column(j, j, sizes[j][0])
    for i, row in enumerate(table.rows, start=1):
        for j, v in enumerate(row):
            _write(ws, i, j, v, fmt, wrap=sizes[j][1])
    for j in range(len(table.columns)):
        rate = next((r[j] for r in table.rows if j < len(r) and isinstance(r[j], Rate)), None)
        if rate is not None:
            _judge(ws, fmt, 1, len(table.rows), j, rate)
    if not table.rows:
        ws.write_string(1, 0, table.empty, fmt.text)
    if table.note:
        ws.write_string(len(table.rows) + 2, 0, table.note, fmt.sub)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(table.rows), 1), max(len(table.columns) - 1, 0))
    ws.repeat_rows(0)
    _page(ws, report)


def _overview(wb, fmt: Formats, report: Report) -> tuple[object, int]:
    """总览, and the row below its tables where the charts go."""
    ws = wb.add_worksheet("总览")
    fmt.sheets.append(("总览", "结论、本期指标与图表"))
    ws.write_string(0, 0, report.title, fmt.title)
    ws.write_string(
        1,
        0,
        f"{report.window}　统计截止 {report.as_of}　生成于 {report.generated_at}　{report.footnote}",
        fmt.sub,
    )
    row = 3
    for line in report.conclusion:
        ws.write_string(row, 0, line, fmt.conclusion)
        row += 1
    for text in report.missing:
        ws.write_string(row, 0, f"✘ 未交登记表：{text}", fmt.missed)
        row += 1
    top = row + 1
    heads = ["指标", "本期", "分子", "分母", "目标", "结果", "上期", "变化", "说明"]
    for j, h in enumerate(heads):
        ws.write_string(top, j, h, fmt.head)
    notes = max((text_width(k["note"] or "") for k in report.headline), default=0)
    for j, w in enumerate([20, 12, 8, 8, 11, 11, 10, 16, min(max(notes, 10) + 2, WRAP_AT)]):
        ws.set_column(j, j, w)
    first = top + 1
    for i, k in enumerate(report.headline, start=first):
        digits = 2 if k["key"].startswith("effective") else 1
        ws.write_string(i, 0, k["label"], fmt.text)
        if k["key"] == "repeat_complaints":
            ws.write_number(i, 1, k["value"] or 0, fmt.int)
        elif k["value"] is None:
            ws.write_blank(i, 1, None, fmt.text)
        else:
            ws.write_number(i, 1, k["value"], fmt.rate(digits, k["target"], k["direction"]))
        _write(ws, i, 2, k["numerator"], fmt)
        _write(ws, i, 3, k["denominator"], fmt)
        if k["target"] is None:
            ws.write_blank(i, 4, None, fmt.text)
        else:
            ws.write_number(i, 4, k["target"], fmt.rate(digits, k["target"], k["direction"], sign=True))
        ws.write_string(i, 5, k["status"], fmt.text)
        if k["previous"] is None or k["key"] == "repeat_complaints":
            ws.write_blank(i, 6, None, fmt.text)
            ws.write_blank(i, 7, None, fmt.text)
        else:
            ws.write_number(i, 6, k["previous"], fmt.rate(digits))
            if k["value"] is None:
                ws.write_blank(i, 7, None, fmt.text)
            else:  # in percentage points, its sign shown as ▲ / ▼ by the number format
                delta = round((k["value"] - k["previous"]) * 100, digits + 1)
                ws.write_number(i, 7, delta, fmt.change2 if digits == 2 else fmt.change)
        ws.write_string(i, 8, k["note"] or "", fmt.wrap)
    last = first + len(report.headline) - 1
    for value in ("✔", "✘"):
        ws.conditional_format(
            first,
            5,
            last,
            5,
            {
                "type": "text",
                "criteria": "begins with",
                "value": value,
                "format": fmt.met if value == "✔" else fmt.missed,
            },
        )
    row = last + 2
    for j, (label, key) in enumerate(
        [
            ("新受理投诉", "complaints_received"),
            ("完成投诉", "complaints_closed"),
            ("未结投诉", "complaints_open"),
            ("新报修", "repairs_reported"),
            ("完成报修", "repairs_completed"),
            ("回访", "callbacks"),
            ("赔偿金额（元）", "compensation"),
        ]
    ):
        ws.write_string(row, j, label, fmt.head)
        _write(ws, row + 1, j, report.counts[key], fmt)
    ws.freeze_panes(first, 1)
    _page(ws, report)
    return ws, row + 3


def _trend_sheet(wb, fmt: Formats, report: Report, overview: tuple[object, int]) -> None:
    kind = report.kind
    rows = report.trend.get(kind, [])
    ws = wb.add_worksheet("趋势")
    fmt.sheets.append(("趋势", "近 12 周" if kind == "weekly" else "近 12 个月各项指标"))
    cols = ["period", *RATE_KEYS]
    ws.write_string(0, 0, "周期", fmt.head)
    for j, key in enumerate(RATE_KEYS, start=1):
        ws.write_string(0, j, KPI_LABELS[key], fmt.head)
        ws.set_column(j, j, max(12, min(text_width(KPI_LABELS[key]), 16) + 2))
    ws.set_column(0, 0, 10)
    for i, r in enumerate(rows, start=1):
        ws.write_string(i, 0, r["period"], fmt.text)
        for j, key in enumerate(cols[1:], start=1):
            v = r.get(key)
            if v is None:
                ws.write_blank(i, j, None, fmt.text)
            else:
                ws.write_number(i, j, v, fmt.rate(2 if key.startswith("effective") else 1))
    ws.freeze_panes(1, 1)
    _page(ws, report)
    n = len(rows)
    if n:
        chart = wb.add_chart({"type": "line"})
        for key in ("callback_rate", "reply_rate", "satisfaction_rate"):
            j = cols.index(key)
            chart.add_series(
                {
                    "name": KPI_LABELS[key],
                    "categories": ["趋势", 1, 0, n, 0],
                    "values": ["趋势", 1, j, n, j],
                    "marker": {"type": "circle", "size": 4},
                }
            )
        chart.set_title(
            {"name": "近 12 周趋势" if kind == "weekly" else "近 12 个月趋势", "name_font": {"size": 11}}
        )
        chart.set_y_axis({"num_format": "0%", "min": 0, "max": 1, "major_unit": 0.25})
        chart.show_blanks_as("gap")  # a period without data is a gap, never 0%
        chart.set_legend({"position": "bottom"})
        chart.set_size({"width": 620, "height": 280})
        sheet, row = overview
        sheet.insert_chart(row, 0, chart)


def _pareto_sheet(wb, fmt: Formats, report: Report, overview: tuple[object, int]) -> None:
    ws = wb.add_worksheet("原因分析")
    fmt.sheets.append(("原因分析", "投诉类别的件数、占比与主要内容（帕累托）"))
    for j, h in enumerate(["类别", "件数", "占比", "累计占比", "主要内容"]):
        ws.write_string(0, j, h, fmt.head)
    causes = max((text_width(p["causes"]) for p in report.pareto), default=10)
    ws.set_column(0, 0, max((text_width(p["category"]) for p in report.pareto), default=8) + 2)
    ws.set_column(1, 3, 10)
    ws.set_column(4, 4, min(causes + 2, WRAP_AT))
    for i, p in enumerate(report.pareto, start=1):
        ws.write_string(i, 0, p["category"], fmt.text)
        ws.write_number(i, 1, p["count"], fmt.int)
        ws.write_number(i, 2, p["share"], fmt.rate(1))
        ws.write_number(i, 3, p["cumulative"], fmt.rate(1))
        ws.write_string(i, 4, p["causes"], fmt.wrap)
    _page(ws, report)
    n = len(report.pareto)
    if n:
        chart = wb.add_chart({"type": "column"})
        chart.add_series(
            {"name": "件数", "categories": ["原因分析", 1, 0, n, 0], "values": ["原因分析", 1, 1, n, 1]}
        )
        line = wb.add_chart({"type": "line"})
        line.add_series(
            {
                "name": "累计占比",
                "categories": ["原因分析", 1, 0, n, 0],
                "values": ["原因分析", 1, 3, n, 3],
                "y2_axis": True,
                "marker": {"type": "circle", "size": 4},
            }
        )
        chart.combine(line)
        chart.set_title({"name": "投诉类别（帕累托）", "name_font": {"size": 11}})
        line.set_y2_axis({"num_format": "0%", "min": 0, "max": 1})
        chart.set_legend({"position": "bottom"})
        chart.set_size({"width": 620, "height": 280})
        sheet, row = overview
        sheet.insert_chart(row, 9, chart)


def _provenance_sheet(wb, fmt: Formats, report: Report) -> None:
    records = report.extra.get("records", {})
    rows = []
    for key, trace in report.extra.get("provenance", {}).items():
        hits = set(trace.get("numerator", []))
        members = trace.get("denominator") or trace.get("numerator", [])
        for ref in members:
            rec = records.get(ref, {})
            role = (
                "分子+分母"
                if ref in hits and trace.get("denominator")
                else ("分子" if ref in hits else "仅分母")
            )
            register = (
                REGISTERS[rec["register"]].title if rec.get("register") in REGISTERS else rec.get("register")
            )
            rows.append(
                [
                    KPI_LABELS.get(key, key),
                    role,
                    register,
                    rec.get("id"),
                    rec.get("property"),
                    rec.get("file"),
                    rec.get("sheet"),
                    rec.get("row"),
                ]
            )
    table = Table("指标明细", ["指标", "计入", "登记表", "编号", "项目", "文件", "工作表", "行"], rows)
    _table_sheet(
        wb, fmt, report, "指标明细", table, "每个分子、分母对应的登记行（文件、工作表、行号）", records=True
    )


def _contents(ws, fmt: Formats, report: Report) -> None:
    """目录: every sheet, linked, with what it holds."""
    ws.write_string(0, 0, f"{report.title}　目录", fmt.title)
    ws.write_string(1, 0, f"{report.window}　统计截止 {report.as_of}", fmt.sub)
    ws.write_string(3, 0, "工作表", fmt.head)
    ws.write_string(3, 1, "内容", fmt.head)
    ws.set_column(0, 0, max(text_width(name) for name, _ in fmt.sheets) + 4)
    ws.set_column(1, 1, min(max(text_width(about) for _, about in fmt.sheets) + 2, 80))
    for i, (name, about) in enumerate(fmt.sheets, start=4):
        ws.write_url(i, 0, f"internal:'{name}'!A1", fmt.link, string=name)
        ws.write_string(i, 1, about, fmt.text)
    _page(ws, report, landscape=False)


def write_excel(report: Report, path: Path) -> Path:
    with atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(
            str(tmp), {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
        )
        # a fixed creation time (the report's as-of), as XlsxWriter's own tests pin it: the same
        # model gives the same bytes
        created = datetime.fromisoformat(report.as_of.replace(" ", "T"))
        wb.set_properties({"title": report.title, "author": "客服报表 pipeline", "created": created})
        fmt = Formats(wb)
        contents = wb.add_worksheet("目录")
        overview = _overview(wb, fmt, report)
        _trend_sheet(wb, fmt, report, overview)
        _pareto_sheet(wb, fmt, report, overview)
        _table_sheet(wb, fmt, report, "各项目", report.properties, "各项目的指标与投诉、报修件数")
        by_property = report.trend.get("monthly_by_property") or {}
        if by_property:
            rows = [
                [
                    name,
                    row["period"],
                    Rate("callback_rate", row["callback_rate"]),
                    Rate("effective_complaint_rate_ytd", row["effective_complaint_rate_ytd"]),
                    Rate("satisfaction_rate", row["satisfaction_rate"]),
                ]
                for name, series in by_property.items()
                for row in series
            ]
            _table_sheet(
                wb,
                fmt,
                report,
                "项目趋势",
                Table("项目趋势", ["项目", "月份", "回访率", "有效投诉率（年累计）", "满意率"], rows),
                "各项目近 12 个月的回访率、有效投诉率（年累计）、满意率",
            )
        _table_sheet(wb, fmt, report, "部门", report.departments)
        for t in report.staff:
            _table_sheet(wb, fmt, report, t.title.replace("员工：", "员工-"), t)
        for name, table in report.lists.items():
            _table_sheet(wb, fmt, report, LIST_SPECS[name][0].split("（")[0], table, records=True)
        if report.scorecard:
            _table_sheet(wb, fmt, report, "员工考评", report.scorecard)
        if report.programme:
            _table_sheet(wb, fmt, report, "回访计划执行", report.programme)
        if report.areas:
            _table_sheet(wb, fmt, report, "各区域例行回访", report.areas)
        _table_sheet(wb, fmt, report, "其他未结事项", report.next_week, records=True)
        _table_sheet(wb, fmt, report, "数据质量", report.data_quality)
        _provenance_sheet(wb, fmt, report)
        _table_sheet(wb, fmt, report, "指标定义", report.definitions)
        _contents(contents, fmt, report)
        wb.close()
    return path

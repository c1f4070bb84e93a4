"""Report model → report.xlsx (xlsxwriter): 总览 with the KPI table, conditional formats and native
charts; one sheet per list; trends; the records behind every numerator and denominator; appendix.

Values are written as values (no formulas), and register text always as text: a cell starting
with = + - @ never becomes a formula.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import xlsxwriter

from pipeline.kpi.core import RATE_KEYS
from pipeline.pool import collector_paused
from pipeline.render.atomic import atomic_path
from pipeline.render.model import KPI_LABELS, LIST_SPECS, Report, Table


def _formats(wb) -> dict:
    base = {"font_name": "等线", "font_size": 10, "valign": "top"}
    return {
        "title": wb.add_format({**base, "bold": True, "font_size": 16}),
        "sub": wb.add_format({**base, "font_color": "#555555"}),
        "head": wb.add_format({**base, "bold": True, "bg_color": "#E8F0F8", "border": 1, "text_wrap": True}),
        "text": wb.add_format({**base, "border": 1, "text_wrap": True}),
        "int": wb.add_format({**base, "border": 1, "num_format": "0"}),
        "pct": wb.add_format({**base, "border": 1, "num_format": "0.0%"}),
        "pct2": wb.add_format({**base, "border": 1, "num_format": "0.00%"}),
        "money": wb.add_format({**base, "border": 1, "num_format": "#,##0.00"}),
        "date": wb.add_format({**base, "border": 1, "num_format": "yyyy-mm-dd"}),
        "datetime": wb.add_format({**base, "border": 1, "num_format": "yyyy-mm-dd hh:mm"}),
        "met": wb.add_format({"font_color": "#1A7F37", "bold": True, "bg_color": "#E6F4EA"}),
        "missed": wb.add_format({"font_color": "#C0392B", "bold": True, "bg_color": "#FDECEA"}),
    }


def _page(ws, report: Report, landscape: bool = True) -> None:
    if landscape:
        ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.set_header(f"&L{report.title}&R{report.window}")
    ws.set_footer(f"&L生成于 {report.generated_at}　{report.footnote}&R第 &P 页 / 共 &N 页")


def _write(ws, row: int, col: int, value, fmt) -> None:
    if value is None or value == "":
        ws.write_blank(row, col, None, fmt["text"])
    elif isinstance(value, bool):
        ws.write_string(row, col, "是" if value else "否", fmt["text"])
    elif isinstance(value, int | float):
        ws.write_number(row, col, value, fmt["int"] if isinstance(value, int) else fmt["money"])
    elif isinstance(value, str) and _DATE.fullmatch(value):
        when = datetime.fromisoformat(value)
        ws.write_datetime(row, col, when, fmt["date"] if len(value) == 10 else fmt["datetime"])
    else:
        ws.write_string(row, col, str(value), fmt["text"])


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?")


def _table_sheet(
    wb,
    fmt,
    report: Report,
    name: str,
    table: Table,
    widths: list[int] | None = None,
    percent: tuple[int, ...] = (),
) -> None:
    ws = wb.add_worksheet(name[:31])
    for j, col in enumerate(table.columns):
        ws.write_string(0, j, col, fmt["head"])
        ws.set_column(
            j, j, (widths or [])[j] if widths and j < len(widths) else max(10, min(40, len(col) * 2 + 4))
        )
    for i, row in enumerate(table.rows, start=1):
        for j, v in enumerate(row):
            if j in percent and isinstance(v, float):
                ws.write_number(i, j, v, fmt["pct2"])
            else:
                _write(ws, i, j, v, fmt)
    if not table.rows:
        ws.write_string(1, 0, table.empty, fmt["text"])
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(table.rows), 1), max(len(table.columns) - 1, 0))
    ws.repeat_rows(0)
    _page(ws, report)


def _overview(wb, fmt, report: Report) -> None:
    ws = wb.add_worksheet("总览")
    ws.write_string(0, 0, report.title, fmt["title"])
    ws.write_string(
        1,
        0,
        f"{report.window}　统计截止 {report.as_of}　生成于 {report.generated_at}　{report.footnote}",
        fmt["sub"],
    )
    heads = ["指标", "本期", "分子", "分母", "目标", "结果", "上期", "变化", "说明"]
    for j, h in enumerate(heads):
        ws.write_string(3, j, h, fmt["head"])
    widths = [20, 10, 8, 8, 10, 12, 10, 18, 30]
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    first = 4
    for i, k in enumerate(report.headline, start=first):
        pf = fmt["pct2"] if k["key"].startswith("effective") else fmt["pct"]
        ws.write_string(i, 0, k["label"], fmt["text"])
        if k["key"] == "repeat_complaints":
            ws.write_number(i, 1, k["value"] or 0, fmt["int"])
        elif k["value"] is None:
            ws.write_string(i, 1, "—", fmt["text"])
        else:
            ws.write_number(i, 1, k["value"], pf)
        _write(ws, i, 2, k["numerator"], fmt)
        _write(ws, i, 3, k["denominator"], fmt)
        if k["target"] is None:
            ws.write_string(i, 4, "—", fmt["text"])
        else:
            ws.write_number(i, 4, k["target"], pf)
        ws.write_string(i, 5, k["status"], fmt["text"])
        ws.write_string(i, 6, k["previous_text"], fmt["text"])
        ws.write_string(i, 7, k["change"], fmt["text"])
        ws.write_string(i, 8, k["note"] or "", fmt["text"])
    last = first + len(report.headline) - 1
    ws.conditional_format(
        first, 5, last, 5, {"type": "text", "criteria": "begins with", "value": "✔", "format": fmt["met"]}
    )
    ws.conditional_format(
        first, 5, last, 5, {"type": "text", "criteria": "begins with", "value": "✘", "format": fmt["missed"]}
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
        ws.write_string(row, j, label, fmt["head"])
        _write(ws, row + 1, j, report.counts[key], fmt)
    for i, text in enumerate(report.missing, start=row + 3):
        ws.write_string(i, 0, f"未交登记表：{text}", fmt["text"])
    ws.freeze_panes(4, 1)
    _page(ws, report)
    return ws


def _trend_sheet(wb, fmt, report: Report, overview) -> None:
    kind = report.kind
    rows = report.trend.get(kind, [])
    ws = wb.add_worksheet("趋势")
    cols = ["period", *RATE_KEYS]
    ws.write_string(0, 0, "周期", fmt["head"])
    for j, key in enumerate(RATE_KEYS, start=1):
        ws.write_string(0, j, KPI_LABELS[key], fmt["head"])
        ws.set_column(j, j, 12)
    ws.set_column(0, 0, 10)
    for i, r in enumerate(rows, start=1):
        ws.write_string(i, 0, r["period"], fmt["text"])
        for j, key in enumerate(cols[1:], start=1):
            v = r.get(key)
            if v is None:
                ws.write_blank(i, j, None, fmt["text"])
            else:
                ws.write_number(i, j, v, fmt["pct2"] if key.startswith("effective") else fmt["pct"])
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
        chart.set_y_axis({"num_format": "0%", "min": 0, "max": 1})
        chart.set_legend({"position": "bottom"})
        chart.set_size({"width": 620, "height": 280})
        overview.insert_chart(len(report.headline) + 9, 0, chart)


def _pareto_sheet(wb, fmt, report: Report, overview) -> None:
    ws = wb.add_worksheet("原因分析")
    for j, h in enumerate(["类别", "件数", "占比", "累计占比", "主要内容"]):
        ws.write_string(0, j, h, fmt["head"])
    ws.set_column(0, 3, 10)
    ws.set_column(4, 4, 60)
    for i, p in enumerate(report.pareto, start=1):
        ws.write_string(i, 0, p["category"], fmt["text"])
        ws.write_number(i, 1, p["count"], fmt["int"])
        ws.write_number(i, 2, p["share"], fmt["pct"])
        ws.write_number(i, 3, p["cumulative"], fmt["pct"])
        ws.write_string(i, 4, p["causes"], fmt["text"])
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
        overview.insert_chart(len(report.headline) + 9, 10, chart)


def _provenance_sheet(wb, fmt, report: Report) -> None:
    ws = wb.add_worksheet("指标明细")
    heads = ["指标", "计入", "登记表", "编号", "项目", "文件", "工作表", "行"]
    for j, h in enumerate(heads):
        ws.write_string(0, j, h, fmt["head"])
    for j, w in enumerate([18, 8, 12, 18, 10, 40, 14, 6]):
        ws.set_column(j, j, w)
    records = report.extra.get("records", {})
    i = 1
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
            values = [
                KPI_LABELS.get(key, key),
                role,
                rec.get("register"),
                rec.get("id"),
                rec.get("property"),
                rec.get("file"),
                rec.get("sheet"),
                rec.get("row"),
            ]
            for j, v in enumerate(values):
                _write(ws, i, j, v, fmt)
            i += 1
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(i - 1, 1), len(heads) - 1)
    _page(ws, report)


def write_excel(report: Report, path: Path) -> Path:
    with collector_paused(), atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(
            str(tmp), {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
        )
        wb.set_properties({"title": report.title, "author": "客服报表 pipeline"})
        fmt = _formats(wb)
        overview = _overview(wb, fmt, report)
        _trend_sheet(wb, fmt, report, overview)
        _pareto_sheet(wb, fmt, report, overview)
        _table_sheet(wb, fmt, report, "各项目", report.properties)
        by_property = report.trend.get("monthly_by_property") or {}
        if by_property:
            rows = [
                [
                    name,
                    row["period"],
                    row["callback_rate"],
                    row["effective_complaint_rate_ytd"],
                    row["satisfaction_rate"],
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
            )
        _table_sheet(wb, fmt, report, "部门", report.departments)
        for t in report.staff:
            _table_sheet(wb, fmt, report, t.title.replace("员工：", "员工-"), t)
        for name, table in report.lists.items():
            _table_sheet(wb, fmt, report, LIST_SPECS[name][0].split("（")[0], table)
        if report.scorecard:
            _table_sheet(wb, fmt, report, "员工考评", report.scorecard)
        _table_sheet(wb, fmt, report, "下周工作", report.next_week)
        _table_sheet(wb, fmt, report, "数据质量", report.data_quality)
        _provenance_sheet(wb, fmt, report)
        _table_sheet(wb, fmt, report, "指标定义", report.definitions, [18, 60, 24, 8, 8, 12])
        _table_sheet(wb, fmt, report, "输入文件", report.inputs, [44, 16, 24, 8, 8, 8, 8])
        wb.close()
    return path

"""Real-shaped registers, anonymised, written the way the real ones were (issue 17): a company's live
complaint ledger, a telecom-style export with English headers and AM/PM times, a WPS-saved workbook.
Every name, number and phone below is made up."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import xlsxwriter

from tests.builders import xlsx

LEDGER_HEAD = [
    "序号",
    "投诉编号",
    "投诉日期",
    "业主姓名",
    "房号",
    "联系电话",
    "投诉类别",
    "投诉内容",
    "要求报告完成时间",
    "实际完成时间",
    "是否有效投诉",
    "处理天数",
]
LEDGER_ROWS = [  # (编号, 日期, 业主, 房号, 电话, 类别, 内容, 要求完成, 实际完成, 有效)
    (
        "NY-2026-101",
        "2026/10/8",
        "刘**",
        "3-2-1201",
        13800000001,
        "维修",
        "楼道灯不亮",
        "2026/10/9",
        "2026/10/9",
        "是",
    ),
    ("NY-2026-102", "2026年10月9日", "陈**", "5-1-301", "/", "其它", "快递堆放", "2026/10/12", "/", "否"),
    (
        "NY-2026-103",
        "10月11日",
        "王**",
        "2-3-502",
        13800000003,
        "装配问题",
        "门窗装配松动",
        "2026/10/15",
        "2026/10/14",
        "是",
    ),
    ("NY-2026-104", "2026.10.12", "/", "7-1-101", "/", "保洁", "垃圾未清", "2026/10/13", "2026/10/13", "/"),
]


def live_ledger(path: Path) -> Path:
    """A live ledger saved by Excel: a merged title, a formula column with cached values, '/' for
    nothing, 85-style pre-numbered ghost rows (序号 and 编号 only) and a signature line."""
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("2026年10月")
    ws.merge_range(
        0, 0, 0, len(LEDGER_HEAD) - 1, "南亚花园客户投诉处理登记台账（2026年）", wb.add_format({"bold": True})
    )
    ws.write_row(1, 0, LEDGER_HEAD)
    for i, row in enumerate(LEDGER_ROWS, start=2):
        ws.write_number(i, 0, i - 1)
        ws.write_row(i, 1, row)
        days = "" if row[8] == "/" else 1
        ws.write_formula(i, 11, f'=IF(J{i + 1}="/","",J{i + 1}-C{i + 1})', None, days)
    first_ghost = 2 + len(LEDGER_ROWS)
    for n in range(first_ghost, first_ghost + 6):  # numbered in advance, never filled
        ws.write_number(n, 0, n - 1)
        ws.write_string(n, 1, f"NY-2026-{100 + n - 1}")
    ws.write_row(first_ghost + 7, 0, ["登记人：张**", None, None, None, "审核人：李**"])
    wb.close()
    return path


EXPORT_HEAD = [
    "Unique Key",
    "Created Date",
    "Closed Date",
    "Complaint Type",
    "Borough",
    "Park Borough",
    "Status",
]
EXPORT_ROWS = [
    (
        "311-0001",
        "10/01/2026 12:00:03 AM",
        "10/02/2026 03:05:00 PM",
        "噪音",
        "东南亚",
        "东南亚公园",
        "Closed",
    ),
    ("311-0002", "10/13/2026 09:30:00 PM", None, "停车", "南亚", "南亚公园", "Open"),
    ("311-0003", "10/05/2026 11:45:10 AM", "10/06/2026 08:00:00 AM", "其他", "南亚", "南亚公园", "Closed"),
]
EXPORT_ALIASES = {
    "complaints": {
        "Unique Key": "投诉编号",
        "Created Date": "受理日期",
        "Closed Date": "完成日期",
        "Complaint Type": "投诉类别",
        "Borough": "项目",
    }
}


def english_export(path: Path) -> Path:
    """A service-request export: English headers, month-first dates with AM/PM times, a second
    column whose name ends like the property's (Park Borough)."""
    return xlsx(path, {"export": [EXPORT_HEAD, *[list(r) for r in EXPORT_ROWS]]})


def wps_saved(path: Path) -> Path:
    """An .xlsx as WPS 表格 saves it: its own application name and KSO build property, cells as
    inline strings instead of shared strings, dates typed as text with 上午/下午."""
    plain = path.with_suffix(".plain.xlsx")
    wb = xlsxwriter.Workbook(plain)  # shared strings, which the rewrite below turns inline
    ws = wb.add_worksheet("Sheet1")
    for i, row in enumerate(
        [
            ["东南亚客户投诉处理登记表"],
            ["投诉编号", "受理日期", "投诉类别", "完成日期"],
            ["DNY-001", "2026/10/12 下午3:05", "其它", "2026/10/13 上午9:00"],
            ["DNY-002", "2026年10月14日", "收费", None],
            ["填表人：赵**"],
        ]
    ):
        ws.write_row(i, 0, row)
    wb.close()
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        strings = re.findall(r"<si><t[^>]*>(.*?)</t></si>", src.read("xl/sharedStrings.xml").decode())
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = re.sub(
                    r'<c r="([A-Z]+\d+)"([^>]*?) t="s"><v>(\d+)</v></c>',
                    lambda m: f'<c r="{m[1]}"{m[2]} t="inlineStr"><is><t>{strings[int(m[3])]}</t></is></c>',
                    data.decode(),
                )
                data = text.encode()
            elif info.filename == "docProps/app.xml":
                data = re.sub(
                    rb"<Application>[^<]*</Application>", "<Application>WPS 表格</Application>".encode(), data
                )
            out.writestr(info, data)
        out.writestr(
            "docProps/custom.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Properties xmlns="http://schemas.openxmlformats.org/'
            'officeDocument/2006/custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
            'docPropsVTypes"><property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="KSOProductBuildVer">'
            "<vt:lpwstr>2052-11.1.0.14309</vt:lpwstr></property></Properties>",
        )
    plain.unlink()
    return path


def copy_to(folder: Path, *paths: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for p in paths:
        shutil.copy(p, folder / p.name)

"""`pipeline templates`: blank registers as a clerk would keep them, printable on A4 landscape.

Each template is generated from the register description: merged title, 项目/月份 line, header row
(required columns marked *), 50 ruled rows with dropdowns and date formats, a 填表人/审核人 footer
and a 填表说明 sheet. The files are reproducible (fixed creation date) and committed.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import xlsxwriter

from pipeline.registers import BOOL, CHOICE, DATE, NUMBER, PHONE, REGISTERS, Register

DATA_ROWS = 50
FIXED_DATE = datetime(2026, 1, 1)
TYPE_ZH = {
    "text": "文字",
    DATE: "日期，如 2026-10-08 或 2026-10-08 14:30",
    BOOL: "是 / 否",
    NUMBER: "数字（元）",
    PHONE: "电话号码",
    CHOICE: "从下拉列表选择",
}


def _formats(wb) -> dict:
    base = {"font_name": "宋体", "font_size": 10, "border": 1, "valign": "vcenter"}
    return {
        "title": wb.add_format(
            {"font_name": "黑体", "font_size": 16, "bold": True, "align": "center", "valign": "vcenter"}
        ),
        "sub": wb.add_format({"font_name": "宋体", "font_size": 11}),
        "head": wb.add_format(
            {**base, "bold": True, "align": "center", "text_wrap": True, "bg_color": "#DDEBF7"}
        ),
        "text": wb.add_format({**base, "text_wrap": True, "num_format": "@"}),
        "date": wb.add_format({**base, "num_format": "yyyy-mm-dd", "align": "center"}),
        "number": wb.add_format({**base, "num_format": "0.00"}),
        "center": wb.add_format({**base, "align": "center", "num_format": "@"}),
        "foot": wb.add_format({"font_name": "宋体", "font_size": 11}),
        "wrap": wb.add_format(
            {"font_name": "宋体", "font_size": 10, "text_wrap": True, "valign": "top", "border": 1}
        ),
    }


def _printed(reg: Register) -> list:
    """The columns a template asks for (Column.template)."""
    return [col for col in reg.columns if col.template]


def _register_sheet(wb, reg: Register, fmt: dict) -> None:
    ws = wb.add_worksheet("登记表")
    ncols = len(_printed(reg)) + 1  # 序号 + columns
    ws.merge_range(0, 0, 0, ncols - 1, reg.title, fmt["title"])
    ws.set_row(0, 30)
    ws.write(1, 0, "项目：                    年    月", fmt["sub"])
    ws.write(2, 0, "序号", fmt["head"])
    ws.set_column(0, 0, 5)
    ws.set_row(2, 32)
    first, last = 3, 3 + DATA_ROWS - 1
    for j, col in enumerate(_printed(reg), start=1):
        ws.write(2, j, col.header + ("*" if col.required else ""), fmt["head"])
        ws.set_column(j, j, col.width)
        cell_fmt = {DATE: fmt["date"], NUMBER: fmt["number"], BOOL: fmt["center"], CHOICE: fmt["center"]}.get(
            col.type, fmt["text"]
        )
        for r in range(first, last + 1):
            ws.write_blank(r, j, None, cell_fmt)
        if col.choices:
            ws.data_validation(
                first,
                j,
                last,
                j,
                {
                    "validate": "list",
                    "source": list(col.choices),
                    "error_title": "请从列表选择",
                    "error_message": f"“{col.header}”只能填：{'、'.join(col.choices)}",
                },
            )
        elif col.type == DATE:
            ws.data_validation(
                first,
                j,
                last,
                j,
                {
                    "validate": "date",
                    "criteria": "between",
                    "minimum": datetime(2000, 1, 1),
                    "maximum": datetime(2099, 12, 31),
                    "error_title": "日期无效",
                    "error_message": "请按 2026-10-08 的格式填写日期",
                },
            )
        elif col.type == NUMBER:
            ws.data_validation(
                first,
                j,
                last,
                j,
                {
                    "validate": "decimal",
                    "criteria": ">=",
                    "value": 0,
                    "error_title": "数字无效",
                    "error_message": f"“{col.header}”请填写数字",
                },
            )
    for r in range(first, last + 1):
        ws.write_number(r, 0, r - first + 1, fmt["center"])
    ws.write(last + 2, 0, "填表人：                    审核人：                    填表日期：", fmt["foot"])
    ws.freeze_panes(3, 1)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(2)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_header(f'&C&"黑体,Bold"{reg.title}')
    ws.set_footer("&L填表人：          审核人：&R第 &P 页 / 共 &N 页")
    ws.print_area(0, 0, last + 2, ncols - 1)


def _guide_sheet(wb, reg: Register, fmt: dict) -> None:
    ws = wb.add_worksheet("填表说明")
    heads = ["列名", "必填", "填写格式", "可选值", "说明", "客户信息（报告中打码）"]
    widths = [16, 6, 30, 36, 50, 14]
    ws.merge_range(0, 0, 0, len(heads) - 1, f"{reg.title} 填表说明", fmt["title"])
    for j, (h, w) in enumerate(zip(heads, widths, strict=True)):
        ws.write(2, j, h, fmt["head"])
        ws.set_column(j, j, w)
    for i, col in enumerate(_printed(reg), start=3):
        hint = col.hint
        if col.aliases:
            hint = (hint + "；" if hint else "") + "也可写作：" + "、".join(col.aliases[:6])
        row = [
            col.header,
            "是" if col.required else "",
            TYPE_ZH[col.type],
            "、".join(col.choices),
            hint,
            "是" if col.personal else "",
        ]
        for j, v in enumerate(row):
            ws.write_string(i, j, v, fmt["wrap"])
    notes = [
        "1. 每月一个工作表，工作表名写月份（如“2026年10月”）；可以保留自己的表头名称和列顺序。",
        "2. 日期请写完整年月日；只写“10月8日”时按工作表名或标题中的年份读取。",
        "3. “紧急”一栏空白视为“否”。签名行（填表人/审核人）、空行不会被当作数据。",
        "4. 修改后重新放入收件箱即可，系统会用新文件替换同一项目、同一月份的旧记录。",
    ]
    start = len(_printed(reg)) + 4
    for k, text in enumerate(notes):
        ws.merge_range(start + k, 0, start + k, len(heads) - 1, text, fmt["sub"])
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)


def write_template(reg: Register, out: Path) -> Path:
    path = out / f"{reg.key}.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"title": reg.title, "author": "客服报表 pipeline", "created": FIXED_DATE})
    fmt = _formats(wb)
    _register_sheet(wb, reg, fmt)
    _guide_sheet(wb, reg, fmt)
    wb.close()
    return path


def write_templates(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    return [write_template(reg, out) for reg in REGISTERS.values()]

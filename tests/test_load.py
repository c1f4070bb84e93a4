"""Loading messy clerks' files: every layout and date form, checked field by field."""

from datetime import datetime
from pathlib import Path

import xlsxwriter

from pipeline.findings import flatten
from pipeline.load.loader import load_file
from tests.builders import csv_file, xls, xlsx
from tests.conftest import AS_OF

MESSY = [
    [],
    [],
    [None, "翠湖花园客户投诉处理登记表"],
    [
        None,
        "序号",
        "投诉编号",
        "房号",
        "投诉人",
        "联系\n电话",
        "受理日期",
        "投诉类别",
        "是否紧急（是/否）",
        "约定答复日期",
        "完成日期",
        "回复日期",
        None,
        "说明：每月一页",
    ],
    [
        None,
        1,
        "CH-001",
        "3-2-1201",
        "张三",
        13812345678,
        datetime(2026, 10, 8, 9, 30),
        "维修",
        "√",
        "10月9日",
        "2026.10.9",
        "2026年10月9日",
    ],
    [
        None,
        2,
        "CH-002",
        "5-1-301",
        "李四",
        "0755-12345678",
        "2026/10/9",
        "噪音",
        None,
        "/",
        "-",
        None,
        None,
        "本列为说明，不是数据",
    ],
    [None, 3, "CH-003", "5-1-302", "王五", "13900000000", "2026/13/01", "保洁", "否"],
    [None, 4],
    [None, 5],
    [None, 6, "CH-099"],
    [],
    [None, "填表人：赵六", None, None, "审核人：钱七"],
]


def test_messy_xlsx_loads_with_true_excel_rows(tmp_path: Path, config):
    path = xlsx(tmp_path / "翠湖投诉.xlsx", {"2026年10月": MESSY}, {"2026年10月": ["B3:H3"]})
    loaded = load_file(path, config, AS_OF)
    assert loaded.error is None and loaded.register == "complaints"
    assert [r.row for r in loaded.records] == [5, 6, 7]
    first, second, third = loaded.records
    assert first.values["id"] == "CH-001"
    assert first.property_name == "翠湖花园" and first.month == "2026-10"
    assert first.values["phone"] == "13812345678"
    assert first.values["received"] == "2026-10-08T09:30"
    assert first.values["urgent"] is True
    assert first.values["promised"] == "2026-10-09"  # year from the sheet name, via config alias 约定答复日期
    assert first.values["closed"] == "2026-10-09" and first.values["replied"] == "2026-10-09"
    assert second.values["urgent"] is False  # blank 紧急 means 否
    assert second.values["promised"] is None and second.values["closed"] is None
    assert not first.set_aside and not second.set_aside and third.set_aside
    assert flatten(third.findings, "sheet", "row", "column", "letter", "code") == [
        ["2026年10月", 7, "受理日期", "G", "invalid-date"]
    ]
    assert "第7行" in third.findings[0].message and "2026/13/01" in third.findings[0].message
    sheet = loaded.sheets[0]
    assert sheet.header_row == 4
    assert sheet.skipped == {
        "blank": 3,
        "footer": 1,
        "ghost": 1,
        "header": 0,
        "continued": 0,
        "void": 0,
        "example": 0,
    }


def test_formula_columns_use_their_cached_values(tmp_path: Path, config):
    path = tmp_path / "翠湖花园投诉.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("10月")
    dfmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    for j, h in enumerate(["投诉编号", "受理日期", "投诉类别", "承诺回复日期"]):
        ws.write(0, j, h)
    ws.write(1, 0, "CH-1")
    ws.write_datetime(1, 1, datetime(2026, 9, 30), dfmt)
    ws.write(1, 2, "维修")
    ws.write_formula(1, 3, "=WORKDAY(B2,2)", dfmt, 46304)  # cached: 2026-10-09
    wb.close()
    rec = load_file(path, config, AS_OF).records[0]
    assert rec.values["promised"] == "2026-10-09"
    assert rec.property_name == "翠湖花园"


def test_xls_without_property_column_takes_it_from_file_name(tmp_path: Path, config):
    rows = [
        ["金桂苑报修登记表"],
        ["序号", "编号", "房号", "业主", "电话", "报修日期", "报修内容", "维修人", "完成时间"],
        [1, "JG-1", "1-1-101", "赵", 13812345678.0, "2026年10月8日 14:30", "漏水", "周军", "10月9日"],
    ]
    path = xls(tmp_path / "金桂苑-报修.xls", {"10月": rows})
    loaded = load_file(path, config, AS_OF)
    rec = loaded.records[0]
    assert loaded.register == "repairs" and rec.row == 3
    assert rec.property_name == "金桂苑"
    assert rec.values["reported"] == "2026-10-08T14:30"
    assert rec.values["completed"] == "2026-10-09"
    assert rec.values["phone"] == "13812345678"


def test_gbk_csv_with_us_dates(tmp_path: Path, config):
    rows = [
        [
            "回访编号",
            "关联编号",
            "项目",
            "房号",
            "回访日期",
            "回访方式",
            "回访类型",
            "回访人",
            "满意度",
            "问题已解决",
        ],
        ["HF-1", "CH-001", "滨江一号", "2-1-801", "10/12/2026", "电话", "投诉回访", "黄娟", "非常满意", "是"],
        ["HF-2", "", "滨江壹号", "2-1-802", "2026/10/3 9:30", "上门", "例行回访", "黄娟", "不满意", "否"],
        # the export's other dates show its order (month first): 10/12/2026 is never a guess
        ["HF-3", "", "滨江壹号", "2-1-803", "10/24/2026", "上门", "例行回访", "黄娟", "满意", "是"],
    ]
    loaded = load_file(csv_file(tmp_path / "回访.csv", rows, "gbk"), config, AS_OF)
    a, b, _ = loaded.records
    assert loaded.register == "callbacks"
    assert (a.row, b.row) == (2, 3)
    assert a.property_name == "滨江壹号"  # alias from config
    assert a.values["date"] == "2026-10-12" and a.values["satisfaction"] == "满意"
    assert b.values["date"] == "2026-10-03T09:30" and b.values["solved"] is False and b.values["ref"] is None


def test_utf8_bom_and_gb18030_csv(tmp_path: Path, config):
    rows = [
        ["反馈编号", "投诉编号", "项目", "反馈日期", "满意度"],
        ["FK-1", "CH-1", "翠湖花园", "2026-10-10", "满意"],
    ]
    for enc in ("utf-8-sig", "gb18030", "utf-8"):
        loaded = load_file(csv_file(tmp_path / f"fk-{enc}.csv", rows, enc), config, AS_OF)
        assert loaded.records[0].values["complaint_id"] == "CH-1", enc


def test_an_exports_excel_guards_are_read_as_the_text_excel_shows(tmp_path: Path, config):
    path = tmp_path / "翠湖花园投诉导出.csv"
    path.write_bytes(
        "\ufeff投诉编号\t受理日期\t投诉类别\t联系电话\t投诉内容\r\n"
        '="TS-0001"\t2026-10-03 10:00:00\t维修\t="13812345678"\t"说""漏水"""\r\n'
        '="TS-0002"\t2026/10/4\t噪音\t13912345678\t="a=""b"""\r\n'.encode("utf-8")
    )
    first, second = load_file(path, config, AS_OF).records
    assert (first.values["id"], first.values["phone"], first.values["content"]) == (
        "TS-0001",
        "13812345678",
        '说"漏水"',
    )
    assert (second.values["id"], second.values["content"]) == ("TS-0002", 'a="b"')


def test_every_month_sheet_is_read_and_notes_sheets_skipped(tmp_path: Path, config):
    head = ["投诉编号", "项目", "受理日期", "投诉类别"]
    path = xlsx(
        tmp_path / "t.xlsx",
        {
            "9月": [["翠湖花园2026年投诉登记"], head, ["A", "翠湖花园", "9月3日", "维修"]],
            "10月": [["翠湖花园2026年投诉登记"], head, ["B", "翠湖花园", "10月3日", "绿化"]],
            "填表说明": [["本表用于登记投诉"], ["请按月填写"]],
        },
    )
    loaded = load_file(path, config, AS_OF)
    assert [(r.sheet, r.values["received"]) for r in loaded.records] == [
        ("9月", "2026-09-03"),
        ("10月", "2026-10-03"),
    ]
    assert flatten(loaded.findings, "sheet", "code") == [["填表说明", "sheet-skipped"]]


def test_a_templates_option_lists_and_tallies_are_no_register(tmp_path: Path, config):
    """A template's drop-down options on a hidden sheet, and a tally by category, carry the register's
    column names but no number, no date column and no date: skipped and said, not read as rows that
    are all set aside. A register whose date column has a header not known yet is still read."""
    import openpyxl

    wb = openpyxl.Workbook()
    data = wb.active
    data.title = "2026年11月"
    for row in (
        ["翠湖花园 客户投诉处理登记表"],
        ["投诉编号", "受理日期", "投诉类别", "投诉方式", "责任部门"],
        ["TS-1", "2026-11-03", "维修", "电话", "工程部"],
    ):
        data.append(row)
    options = wb.create_sheet("下拉选项")
    options.append(["投诉类别", "投诉方式", "责任部门"])
    for row in (["维修", "来访", "工程部"], ["安保", "电话", "秩序部"], ["收费", "网络", None]):
        options.append(row)
    options.sheet_state = "hidden"
    tally = wb.create_sheet("统计")
    for row in (
        ["责任部门", "投诉类别", "投诉方式", "件数"],
        ["工程部", "维修", "电话", 3],
        ["环境部", "保洁", "来访", 1],
    ):
        tally.append(row)
    odd = wb.create_sheet("12月")
    for row in (["投诉编号", "登记时点", "投诉类别", "投诉方式"], ["TS-9", "2026-12-01", "维修", "电话"]):
        odd.append(row)
    serial = wb.create_sheet("旧表")  # dates kept as Excel's serial numbers, under headers not known yet
    for row in (
        ["流水号", "登记时点", "投诉类别", "投诉方式", "责任部门"],
        ["L-1", 46296, "维修", "电话", "工程部"],
    ):
        serial.append(row)
    path = tmp_path / "翠湖花园客户投诉处理登记表.xlsx"
    wb.save(path)
    loaded = load_file(path, config, AS_OF)
    assert [(r.sheet, r.row, r.set_aside) for r in loaded.records] == [
        ("2026年11月", 3, False),
        ("12月", 2, True),
        ("旧表", 2, True),
    ]
    skipped = {f.sheet: f for f in loaded.findings if f.code == "sheet-skipped"}
    assert sorted(skipped) == ["下拉选项", "统计"]
    assert "隐藏的下拉选项表" in skipped["下拉选项"].message
    assert "没有“投诉编号”“受理日期”列" in skipped["统计"].message
    # the date's header not known yet: read, and every row set aside for the missing column, loudly
    missing = [(f.sheet, f.column) for f in loaded.findings if f.code == "column-missing"]
    assert missing == [("12月", "受理日期"), ("旧表", "投诉编号"), ("旧表", "受理日期")]


def test_ditto_marks_read_as_the_value_above(tmp_path: Path, config):
    """同上 and 〃, as clerks write them on paper-style registers, are the value of the row above (a
    date, a category, a department, a person), not a value of their own; in the first data row there
    is no value above, and the date check names it."""
    rows = [
        ["翠湖花园 客户投诉处理登记表 2026年11月"],
        ["投诉编号", "受理日期", "投诉类别", "投诉方式", "责任部门", "完成日期", "受理人"],
        ["TS-1", "同上", "维修", "电话", "工程部", "2026-11-04", "王敏"],
        ["TS-2", "2026-11-03", "同上", "〃", "同上", "2026-11-05", "〃"],
        ["TS-3", "〃", "保洁", "来访", "环境部", "同上", "同上"],
    ]
    loaded = load_file(xlsx(tmp_path / "翠湖花园客户投诉处理登记表.xlsx", {"11月": rows}), config, AS_OF)
    keys = ("received", "category", "channel", "department", "closed", "handler")
    assert [[r.values[k] for k in keys] for r in loaded.records[1:]] == [
        ["2026-11-03", "维修", "电话", "工程部", "2026-11-05", "王敏"],
        ["2026-11-03", "保洁", "来访", "环境部", "2026-11-05", "王敏"],
    ]
    assert [r.set_aside for r in loaded.records] == [True, False, False]
    assert flatten(loaded.records[0].findings, "column", "code") == [["受理日期", "invalid-date"]]


def test_rows_marked_void_are_skipped_and_counted(tmp_path: Path, config):
    """A numbered form keeps a number a clerk struck out, with 作废 or 重复登记 in a cell of its own:
    no complaint, skipped and counted as such; prose that mentions the word is a complaint's text."""
    rows = [
        ["翠湖花园 客户投诉处理登记表 2026年10月"],
        ["投诉编号", "受理日期", "投诉类别", "处理结果", "备注"],
        ["TS-1", "2026-10-03", "维修", "已修复", None],
        ["TS-2", "2026-10-03", "维修", None, "作废"],
        ["TS-3", "2026-10-04", "保洁", "重复登记。", None],
        ["TS-4", None, None, None, "此条已作废"],
        ["TS-5", "2026-10-05", "收费", "业主要求作废原合同，已解释", None],
    ]
    loaded = load_file(xlsx(tmp_path / "投诉.xlsx", {"10月": rows}), config, AS_OF)
    assert [r.values["id"] for r in loaded.records] == ["TS-1", "TS-5"]
    assert loaded.skipped == {"标明作废或重复登记的行": 3} and loaded.rows_read == 2


def test_a_templates_example_row_is_skipped_and_counted(tmp_path: Path, config):
    """A template's example row kept above the data (示例 in its 序号, 例：in its first cell) is no case;
    a case whose first cell merely mentions an example is one."""
    rows = [
        ["翠湖花园 客户投诉处理登记表 2026年10月"],
        ["序号", "投诉编号", "受理日期", "投诉类别", "投诉内容"],
        ["示例", "CH-202610-001", "2026-10-08", "维修", "厨房水管漏水"],
        ["例：", "CH-202610-002", "2026-10-08", "保洁", "楼道垃圾"],
        [1, "TS-1", "2026-10-03", "维修", "漏水"],
        ["例会提出", "TS-2", "2026-10-04", "保洁", "垃圾"],
    ]
    loaded = load_file(xlsx(tmp_path / "投诉.xlsx", {"10月": rows}), config, AS_OF)
    assert [r.values["id"] for r in loaded.records] == ["TS-1", "TS-2"]
    assert loaded.skipped == {"模板的填写示例行": 2}


def test_sheets_named_by_chinese_month_numerals(tmp_path: Path, config):
    """十月, 十一月份 and a title's 二〇二六年 name the sheet's month and year as 10月 and 2026年 do:
    a day alone (3日) is a day of that month, and a date without its year takes that year."""
    head = ["投诉编号", "受理日期", "投诉类别"]
    title = ["翠湖花园 二〇二六年客户投诉处理登记表"]
    path = xlsx(
        tmp_path / "投诉.xlsx",
        {
            "十月": [title, head, ["TS-1", "3日", "维修"]],
            "十一月份": [title, head, ["TS-2", "11月5日", "保洁"]],
        },
    )
    loaded = load_file(path, config, AS_OF)
    assert [(r.sheet, r.values["received"], r.set_aside) for r in loaded.records] == [
        ("十月", "2026-10-03", False),
        ("十一月份", "2026-11-05", False),
    ]
    assert not [f for f in loaded.all_findings() if f.code == "date-year-assumed"]


def test_a_later_date_written_as_the_same_or_the_next_day(tmp_path: Path, config):
    """完成时间 written 当天 or 次日 is the row's own date (报修时间) or the day after; with no date of
    its own the row's 当天 stays an invalid date, said."""
    rows = [
        ["翠湖花园 报修登记表 2026年10月"],
        ["报修编号", "报修时间", "报修内容", "派工时间", "完成时间"],
        ["BX-1", "2026-10-03 09:30", "漏水", "当天", "次日"],
        ["BX-2", "2026-10-04", "灯坏", "当日", "当天"],
        ["BX-3", None, "门锁", "当天", None],
    ]
    loaded = load_file(xlsx(tmp_path / "翠湖花园报修登记表.xlsx", {"10月": rows}), config, AS_OF)
    got = [(r.values["dispatched"], r.values["completed"]) for r in loaded.records]
    assert got[:2] == [("2026-10-03", "2026-10-04"), ("2026-10-04", "2026-10-04")]
    assert ["派工时间", "invalid-date"] in flatten(loaded.records[2].findings, "column", "code")


def test_missing_required_value_and_unknown_property(tmp_path: Path, config):
    path = xlsx(
        tmp_path / "x.xlsx",
        {"10月": [["投诉编号", "项目", "受理日期", "投诉类别"], ["A", "无名小区", "2026-10-01", None]]},
    )
    rec = load_file(path, config, AS_OF).records[0]
    assert rec.set_aside
    assert sorted(flatten(rec.findings, "column", "code")) == [
        ["投诉类别", "required-missing"],
        ["项目", "property-not-configured"],
    ]


def test_property_unknown_sets_row_aside(tmp_path: Path, config):
    path = xlsx(
        tmp_path / "x.xlsx",
        {"10月": [["投诉编号", "受理日期", "投诉类别", "房号"], ["A", "2026-10-01", "维修", "1-1"]]},
    )
    rec = load_file(path, config, AS_OF).records[0]
    assert flatten(rec.findings, "code") == [["property-unknown"]]


def test_bad_files_get_one_clear_message(tmp_path: Path, config):
    cases = {
        "empty.xlsx": b"",
        "text.xlsx": b"this is not a workbook",
        "broken.xlsx": b"PK\x03\x04 truncated zip",
        "enc.xlsx": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + "EncryptedPackage".encode("utf-16-le")
        + b"\x00" * 100,
        "notes.pdf": b"%PDF-1.4",
    }
    codes = {}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        loaded = load_file(tmp_path / name, config, AS_OF)
        codes[name] = loaded.error.code
        assert name in loaded.error.message
    assert codes == {
        "empty.xlsx": "file-empty",
        "text.xlsx": "file-unreadable",
        "broken.xlsx": "file-unreadable",
        "enc.xlsx": "file-encrypted",
        "notes.pdf": "file-unsupported",
    }


def test_unrecognised_workbook(tmp_path: Path, config):
    path = xlsx(tmp_path / "minutes.xlsx", {"Sheet1": [["会议纪要"], ["绿化问题"]]})
    assert load_file(path, config, AS_OF).error.code == "register-unknown"


def test_repeated_cells_are_parsed_once_but_reported_on_every_row(tmp_path: Path, config):
    """Each column remembers the values it has parsed; a bad value still gets a finding on each
    row it is on, a guessed year is noted once, and 1 / 1.0 / True / "1" stay apart."""
    header = ["投诉编号", "项目", "受理日期", "投诉类别", "约定答复日期", "是否紧急", "赔偿金额"]
    rows = [
        ["A1", "翠湖花园", "2026-10-01", "维修", "10月3日", True, 1],
        ["A2", "翠湖花园", "2026-10-01", "维修", "10月3日", 1, "1"],
        ["A3", "翠湖花园", "十月上旬", "维修", "10月4日", "是", 1.5],
        ["A4", "翠湖花园", "十月上旬", "维修", None, "否", None],
    ]
    loaded = load_file(xlsx(tmp_path / "x.xlsx", {"Sheet1": [header, *rows]}), config, AS_OF)
    recs = loaded.records
    assert [r.values["received"] for r in recs] == ["2026-10-01", "2026-10-01", None, None]
    assert flatten([f for r in recs for f in r.findings], "row", "code") == [
        [2, "date-year-assumed"],
        [4, "invalid-date"],
        [5, "invalid-date"],
    ]
    assert [r.values["urgent"] for r in recs] == [True, True, True, False]
    assert [r.values["compensation"] for r in recs] == [1.0, 1.0, 1.5, None]
    assert [r.values["promised"] for r in recs] == ["2026-10-03", "2026-10-03", "2026-10-04", None]

"""Issue 17: real clerks' files — every row accounted for, file-level problems said once,
warnings kept off the terminal, and a corpus of real-shaped fixtures."""

from pathlib import Path

import openpyxl
import pytest

from pipeline.load.loader import load_file
from pipeline.render.validation import write_annotated_copy
from tests.builders import xlsx
from tests.conftest import AS_OF


def test_a_missing_required_column_is_one_finding_per_file(tmp_path: Path, config):
    rows = [["翠湖花园客户投诉处理登记表"], ["投诉编号", "受理日期", "投诉内容"]]
    rows += [[f"TS-{i:04d}", "2026-10-08", "漏水"] for i in range(300)]
    path = xlsx(tmp_path / "投诉.xlsx", {"10月": rows})
    loaded = load_file(path, config, AS_OF)
    assert loaded.rows_read == 300 and loaded.rows_set_aside == 300
    missing = [f for f in loaded.all_findings() if f.code == "column-missing"]
    assert len(missing) == 1 and missing[0].row is None and missing[0].value == "投诉类别"
    assert all(r.errors() == [missing[0]] for r in loaded.records)  # each row set aside for it
    out = write_annotated_copy(path, "投诉.xlsx", loaded.all_findings(), tmp_path)
    ws = openpyxl.load_workbook(out)["问题清单"]
    listed = [ws.cell(r, 6).value for r in range(2, ws.max_row + 1)]
    assert sum("缺少必填列" in (v or "") for v in listed) == 1
    assert "缺少必填列" in ws.cell(2, 6).value  # said once, at the top


def _phone_in_a_date_cell(path: Path) -> Path:
    """A phone number typed into a date-formatted cell: openpyxl warns when it reads it."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("10月")
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, ["翠湖花园客户投诉处理登记表"])
    ws.write_row(1, 0, ["投诉编号", "受理日期", "投诉类别", "联系电话"])
    ws.write_row(2, 0, ["TS-1"])
    ws.write_number(2, 1, 46303, day)
    ws.write_row(2, 2, ["不存在的类别"])  # a finding, so that an annotated copy is written
    ws.write_number(2, 3, 13812345678, day)
    wb.close()
    return path


def test_no_library_warning_reaches_the_terminal(tmp_path: Path):
    import subprocess
    import sys

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _phone_in_a_date_cell(inbox / "投诉.xlsx")
    (tmp_path / "config.toml").write_text('[properties."翠湖花园"]\nhouseholds = 100\n', encoding="utf-8")
    common = [sys.executable, "-m", "pipeline"]
    for args in (
        ["validate", str(inbox / "投诉.xlsx"), "--out", str(tmp_path / "v")],
        [
            "run",
            "--config",
            str(tmp_path / "config.toml"),
            "--inbox",
            str(inbox),
            "--month",
            "2026-10",
            "--as-of",
            "2026-11-01 08:00",
            "--store",
            str(tmp_path / "s.sqlite"),
        ],
    ):
        done = subprocess.run(common + args, capture_output=True, text=True, cwd=tmp_path, timeout=300)
        assert done.returncode in (0, 1), done.stderr
        assert "Warning" not in done.stderr + done.stdout
    logs = list((tmp_path / "reports" / "logs").glob("run-*.log"))
    assert any("UserWarning" in p.read_text(encoding="utf-8") for p in logs)


# --- one count model (17.2, 17.6) ---------------------------------------------------------------


def _ledger_with_everything(path: Path) -> Path:
    """Rows that load, rows set aside when read (a bad date), rows set aside by a rule (a category
    not allowed, a number given twice), pre-numbered ghost rows and a signature line in a new form."""
    rows = [["翠湖花园客户投诉处理登记表"], ["序号", "投诉编号", "受理日期", "投诉类别", "完成日期"]]
    rows += [[i, f"TS-{i:03d}", "2026-10-08", "维修", "2026-10-09"] for i in range(1, 8)]
    rows += [[8, "TS-008", "十月某天", "维修", None]]  # set aside when read
    rows += [[9, "TS-009", "2026-10-09", "水电", None]]  # set aside by value-not-allowed
    rows += [[10, "TS-001", "2026-10-09", "维修", None]]  # set aside by duplicate-id (the repeat)
    rows += [[n, f"TS-{n:03d}", None, None, None] for n in range(11, 16)]  # pre-numbered ghost rows
    rows += [["登记人：王敏", None, None, "审核人：李强"], ["日期：2026年10月31日"]]
    return xlsx(path, {"2026年10月": rows})


def test_every_output_counts_a_files_rows_the_same_after_the_rules(tmp_path: Path, config):
    import json
    import subprocess

    from pipeline.run import RunOptions, run, summary_lines
    from pipeline.store import Store

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _ledger_with_everything(inbox / "翠湖投诉.xlsx")
    result = run(
        config,
        RunOptions(
            inbox=inbox,
            reports=tmp_path / "reports",
            store=tmp_path / "s.sqlite",
            archive=tmp_path / "archive",
            month="2026-10",
            as_of="2026-11-01 08:00",
            workers=1,
        ),
    )
    expected = {"rows_read": 10, "rows_loaded": 7, "rows_set_aside": 3, "rows_skipped": 7}
    pick = lambda d: {k: d[k] for k in expected}  # noqa: E731
    folder = tmp_path / "reports/monthly/2026-10"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    kpis = json.loads((folder / "kpis.json").read_text(encoding="utf-8"))
    assert pick(manifest["inputs"][0]) == expected
    assert manifest["inputs"][0]["skipped"] == {"只有编号的空行": 5, "签名、日期或合计行": 2}
    assert pick(manifest["counts"]) == expected
    assert pick(kpis["data_quality"]) == expected
    assert pick(kpis["data_quality"]["files"][0]) == expected
    assert result.counts == expected
    with Store(tmp_path / "s.sqlite") as store:
        (counted,) = store.file_counts().values()
        assert pick(counted) == expected
    ws = openpyxl.load_workbook(folder / "validation.xlsx")["按文件汇总"]
    assert [c.value for c in ws[2]][3:8] == [10, 7, 3, 7, "只有编号的空行 5，签名、日期或合计行 2"]
    line = next(line for line in summary_lines(result) if "翠湖投诉.xlsx" in line)
    assert "读取 10 行，入库 7 行，暂存 3 行" in line and "跳过非数据行 7 行" in line
    assert any(
        "数据库现有：10 行 = 入库 7 行 + 暂存 3 行（另跳过非数据行 7 行）" in x for x in summary_lines(result)
    )
    pdf = subprocess.run(
        ["pdftotext", "-layout", str(folder / "report.pdf"), "-"], capture_output=True, text=True
    )
    assert "读取 10 行 = 入库 7 行 + 暂存 3 行" in pdf.stdout
    report = openpyxl.load_workbook(folder / "report.xlsx")["数据质量"]
    assert [c.value for c in report[2]][3:7] == [10, 7, 3, 7]


def test_validate_counts_rule_errors_as_set_aside(tmp_path: Path, config):
    from pipeline.render.clerk import validate_files
    from pipeline.validate.stage import describe_results

    path = _ledger_with_everything(tmp_path / "翠湖投诉.xlsx")
    results = validate_files([path], config, AS_OF, None, tmp_path / "out")
    lines, _ = describe_results(results)
    assert "读取 10 行，可入库 7 行，暂存 3 行" in lines[0]
    assert "跳过非数据行 7 行" in lines[0]


def _formula_register(path: Path, writer: str) -> Path:
    rows = [
        ["翠湖花园客户投诉处理登记表"],
        ["投诉编号", "受理日期", "投诉类别", "承诺回复日期"],
        *[[f"TS-{i}", f"2026-10-0{i}", "维修", f"=B{i + 2}+3"] for i in range(1, 8)],
    ]
    if writer == "openpyxl":  # writes no value for a formula
        return xlsx(path, {"10月": rows})
    import xlsxwriter  # writes 0 for each formula and asks the next reader to recalculate

    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("10月")
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            ws.write(r, c, v)
    wb.close()
    return path


@pytest.mark.parametrize("writer", ["openpyxl", "xlsxwriter"])
def test_formulas_saved_without_their_values_are_said_not_read_as_zero(tmp_path: Path, config, writer):
    loaded = load_file(_formula_register(tmp_path / "投诉.xlsx", writer), config, AS_OF)
    assert [r.values["promised"] for r in loaded.records] == [None] * 7  # never 1899-12-30 from a 0
    (said,) = [f for f in loaded.all_findings() if f.code == "formula-no-value"]
    assert (said.sheet, said.severity) == ("10月", "warning")
    assert "D3、D4、D5、D6、D7 等 7 个" in said.message and "Excel 或 WPS" in said.message
    assert not [f for f in loaded.all_findings() if f.code not in ("formula-no-value",)]


def test_formulas_with_saved_values_read_as_their_values(tmp_path: Path, config):
    """A workbook saved by a spreadsheet (a value for each formula, no request to recalculate)."""
    import re
    import zipfile

    src = _formula_register(tmp_path / "src.xlsx", "openpyxl")
    out = tmp_path / "投诉.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb"<v\s*/>", b"<v>46300</v>", data)
            if item.filename == "xl/workbook.xml":
                data = data.replace(b' fullCalcOnLoad="1"', b"")
            zout.writestr(item, data)
    loaded = load_file(out, config, AS_OF)
    assert {r.values["promised"] for r in loaded.records} == {"2026-10-05"}
    assert not [f for f in loaded.all_findings() if f.code == "formula-no-value"]


def test_case_numbers_excel_cut_to_15_digits_are_said_once_per_column(tmp_path: Path, config):
    """An 18-digit work-order number typed into a General cell: Excel keeps 15 significant digits,
    so the number is read as Excel shows it (never as digits no one wrote, 202611050000000096), the
    rows still count, and the clerk is told once per column why; two numbers Excel made one are
    then a duplicate. A 15-digit number is exact and said nothing of."""
    head = ["投诉编号", "项目名称", "受理日期", "投诉类别"]
    rows = [
        head,
        [202611050000000123, "翠湖花园", "2026-10-02", "维修"],
        [202611050000000124, "翠湖花园", "2026-10-03", "保洁"],
        [202611050000001, "翠湖花园", "2026-10-04", "绿化"],
    ]
    loaded = load_file(xlsx(tmp_path / "翠湖花园投诉.xlsx", {"2026年10月": rows}), config, AS_OF)
    assert [r.values["id"] for r in loaded.records] == ["202611050000000000"] * 2 + ["202611050000001"]
    cut = [f for f in loaded.all_findings() if f.code == "number-digits-lost"]
    assert [(f.row, f.severity, f.column, f.value) for f in cut] == [
        (2, "warning", "投诉编号", "202611050000000000")
    ]
    assert "15 位" in cut[0].message and "本列共 2 个" in cut[0].message and "文本" in cut[0].message
    assert loaded.rows_set_aside == 0  # loaded; the rules then name the duplicate


def test_case_numbers_in_scientific_notation_from_a_csv_excel_saved_are_said(tmp_path: Path, config):
    """An export opened in Excel and saved as CSV holds 2.02611E+17 where the number was: its digits
    are gone. The text is kept as it is, and the clerk told where it came from; a callback's 关联编号
    the same way. A number with an E in it and no + (1E01: building 1, east, 01) is not one."""
    path = tmp_path / "翠湖花园回访记录表2026年10月.csv"
    path.write_text(
        "回访编号,项目名称,关联编号,回访日期,回访方式,满意度\n"
        "HF-1,翠湖花园,2.02611E+17,2026-10-05,电话,满意\n"
        "HF-2,翠湖花园,1E01,2026-10-05,电话,满意\n"
        "HF-3,翠湖花园,2.02611e+17,2026-10-06,电话,满意\n",
        encoding="gbk",
    )
    loaded = load_file(path, config, AS_OF)
    assert [r.values["ref"] for r in loaded.records] == ["2.02611E+17", "1E01", "2.02611e+17"]
    cut = [f for f in loaded.all_findings() if f.code == "number-digits-lost"]
    assert [(f.row, f.column) for f in cut] == [(2, "关联编号")]
    assert "科学计数法" in cut[0].message and "本列共 2 个" in cut[0].message
    assert loaded.rows_set_aside == 0


def test_an_exports_count_line_is_a_total_not_a_row(tmp_path: Path, config):
    """A property system's CSV export: a title, an export-time line, the header, and a last line
    counting the rows (共 2 条记录) in the number's column, which is no row with only its number."""
    path = tmp_path / "翠湖花园投诉导出.csv"
    path.write_text(
        "客户投诉处理登记表\n导出时间：2026-10-30 10:00,,,,\n"
        "投诉编号,项目名称,受理日期,投诉类别,完成日期\n"
        "TS-001,翠湖花园,2026-10-02 09:00:00,维修,2026-10-03 10:00:00\n"
        "TS-002,翠湖花园,2026-10-03 09:00:00,保洁,\n"
        "共 2 条记录,,,,\n",
        encoding="utf-8-sig",
    )
    loaded = load_file(path, config, AS_OF)
    assert loaded.rows_read == 2 and loaded.rows_set_aside == 0
    assert loaded.skipped == {"签名、日期或合计行": 1}


def test_a_record_written_over_rows_with_its_number_merged_is_one_record(tmp_path: Path, config):
    """A paper register writes a long case over two or three rows and merges its number (and date)
    down beside them: one complaint, its rows' results joined and its later row's 完成日期 taken, the
    continuation rows counted as skipped (read = loaded + set aside, skipped apart). Two different
    dates for one record are joined, so that the date check names them rather than one being picked.
    The clerk's annotated copy puts a finding on a merged cell on the cell that shows it."""
    from pipeline.render.clerk import validate_files

    rows = [
        ["翠湖花园 客户投诉处理登记表 2026年10月"],
        ["投诉编号", "受理日期", "投诉类别", "处理结果", "完成日期"],
        ["TS-1", "2026-10-03", "维修", "已派工维修", None],
        [None, None, None, "复查已修好", "2026-10-05"],
        ["TS-2", "2026-10-04", "水电", "已清理", "2026-10-04"],  # 水电: no category; merged down
        ["TS-3", "2026-10-06", None, "已清理", "2026-10-06"],
        ["TS-4", "2026-10-07", "保洁", "已清理", "2026-10-07"],
        [None, None, None, "业主不认可，再次清理", "2026-10-08"],
        [None, None, None, "已清理干净", None],
    ]
    merges = ["A3:A4", "B3:B4", "C3:C4", "C5:C6", "A7:A9", "B7:B9", "C7:C9"]
    path = xlsx(tmp_path / "翠湖花园客户投诉处理登记表.xlsx", {"10月": rows}, {"10月": merges})
    loaded = load_file(path, config, AS_OF)
    got = [
        (r.row, r.values["id"], r.values["result"], r.values["closed"], r.set_aside) for r in loaded.records
    ]
    assert got == [
        (3, "TS-1", "已派工维修;复查已修好", "2026-10-05", False),
        (5, "TS-2", "已清理", "2026-10-04", False),  # the category's rule sets it aside (below)
        (6, "TS-3", "已清理", "2026-10-06", False),
        (7, "TS-4", "已清理;业主不认可,再次清理;已清理干净", None, True),
    ]
    assert [(f.row, f.column, f.code) for f in loaded.records[3].findings] == [
        (7, "完成日期", "invalid-date")
    ]
    assert loaded.skipped == {"同一条记录的续行（已并入上一行）": 3} and loaded.rows_read == 4

    results = validate_files([path], config, AS_OF, None, tmp_path / "out")
    assert results[0]["counts"] == {"rows_read": 4, "rows_loaded": 1, "rows_set_aside": 3, "rows_skipped": 3}
    ws = openpyxl.load_workbook(results[0]["annotated"])["10月"]
    assert ws["C5"].comment.text.count("“水电”") == 2  # C5:C6 merged: TS-2's and TS-3's category
    assert "“2026-10-07;2026-10-08”不是有效日期" in ws["E7"].comment.text


def test_a_finding_on_a_merged_cell_is_commented_where_the_cell_shows(tmp_path: Path):
    """A finding on a cell inside a merged range (its row's first column merged too) was an internal
    error: openpyxl's merged cells take no comment. It goes on the range's first cell."""
    from pipeline.findings import Finding

    rows = [["投诉编号", "受理日期", "投诉类别"], ["TS-1", "2026-10-03", "维修"], [None, None, None]]
    path = xlsx(tmp_path / "投诉.xlsx", {"10月": rows}, {"10月": ["A2:A3", "B2:B3"]})
    found = [Finding("invalid-date", "error", "投诉.xlsx", "10月", 3, "受理日期", "B", "x")]
    ws = openpyxl.load_workbook(write_annotated_copy(path, "投诉.xlsx", found, tmp_path))["10月"]
    assert "“x”不是有效日期" in ws["B2"].comment.text

"""Issue 17: real clerks' files — every row accounted for, file-level problems said once,
warnings kept off the terminal, and a corpus of real-shaped fixtures."""

from pathlib import Path

import openpyxl

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

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

"""Tick-box columns (满意 | 基本满意 | 不满意, one ticked): read as the one choice column they are."""

from pathlib import Path

import pytest

from pipeline.load.loader import load_file
from tests.builders import csv_file, xls, xlsx
from tests.conftest import AS_OF

TITLE = ["翠湖花园 投诉处理结果客户反馈登记表 2026年10月"]


def _feedback(tmp_path: Path, merge: bool) -> Path:
    rows = [
        TITLE,
        ["反馈编号", "投诉编号", "反馈日期", "客户满意度", None, None, "客户意见"],
        [None, None, None, "满意", "基本满意", "不满意", None],
        ["FK-01", "TS-01", "2026-10-05", "√", None, None, "好"],
        ["FK-02", "TS-02", "2026-10-07", None, None, "✓", "还是吵"],
        ["FK-03", "TS-03", "2026-10-09", None, "1", "×", None],
        ["FK-04", "TS-04", "2026-10-10", "√", None, "√", None],  # two ticked: said, not guessed
        ["FK-05", "TS-05", "2026-10-11", None, None, None, None],  # none ticked: required, missing
    ]
    merges = ["D2:F2", "A2:A3", "B2:B3", "C2:C3", "G2:G3"] if merge else []
    return xlsx(tmp_path / "反馈.xlsx", {"10月": rows}, {"10月": merges})


@pytest.mark.parametrize("merge", [True, False], ids=["merged-parent", "blank-beside-parent"])
def test_ticked_values_under_a_choice_header_are_its_value(tmp_path: Path, config, merge):
    loaded = load_file(_feedback(tmp_path, merge), config, AS_OF)
    (sheet,) = loaded.sheets
    assert sheet.header_row == 3 and sheet.columns["satisfaction"] == ["客户满意度", "D"]
    assert [r.row for r in loaded.records] == [4, 5, 6, 7, 8]  # the values' row is no data row
    assert [r.values["satisfaction"] for r in loaded.records] == [
        "满意",
        "不满意",
        "基本满意",
        "满意、不满意",
        None,
    ]
    assert [r.set_aside for r in loaded.records] == [False, False, False, False, True]
    missing = [f for f in loaded.all_findings() if f.code == "required-missing"]
    assert [(f.row, f.letter) for f in missing] == [(8, "D")]


def test_values_side_by_side_in_the_header_row_are_one_column(tmp_path: Path, config):
    rows = [
        ["翠湖花园 回访记录表"],
        ["回访编号", "关联编号", "回访日期", "回访方式", "满意", "基本满意", "不满意", "回访人"],
        ["HF-1", "TS-01", "2026-10-05", "电话", None, "√", None, "小陈"],
        ["HF-2", "TS-02", "2026-10-06", "上门", "√", None, None, "小王"],
    ]
    loaded = load_file(xlsx(tmp_path / "回访.xlsx", {"10月": rows}), config, AS_OF)
    (sheet,) = loaded.sheets
    assert sheet.header_row == 2 and sheet.columns["satisfaction"] == ["满意/基本满意/不满意", "E"]
    values = [(r.values["method"], r.values["satisfaction"], r.values["staff"]) for r in loaded.records]
    assert values == [("电话", "基本满意", "小陈"), ("上门", "满意", "小王")]
    assert not [
        f for f in loaded.all_findings() if f.code.startswith("header-")
    ]  # the values are no unknown headers


def test_a_forms_boxes_copied_into_cells(tmp_path: Path, config):
    """A register made from a Word form: each cell prints the options with their boxes, one ticked
    (☑电话 □上门, 是■ 否□), or a tick-box group whose empty boxes are ☐; neither is a value a rule
    sets aside, and an empty box is no tick."""
    rows = [
        ["翠湖花园 回访记录表"],
        ["回访编号", "关联编号", "回访日期", "回访方式", "问题已解决", "满意", "基本满意", "不满意"],
        ["HF-1", "TS-01", "2026-10-05", "☑电话 □上门", "☑是 □否", "☑", "☐", "☐"],
        ["HF-2", "TS-02", "2026-10-06", "电话□ 上门☑", "是□ 否■", "☐", "■", "☐"],
        ["HF-3", "TS-03", "2026-10-07", "□电话 ■上门", "□是 □否", "☐", "☐", "☑"],
        ["HF-4", "TS-04", "2026-10-08", "□电话 □上门", None, "☑", "☐", "☑"],
    ]
    loaded = load_file(xlsx(tmp_path / "回访.xlsx", {"10月": rows}), config, AS_OF)
    got = [(r.values["method"], r.values["solved"], r.values["satisfaction"]) for r in loaded.records]
    assert got == [
        ("电话", True, "满意"),
        ("上门", False, "基本满意"),
        ("上门", None, "不满意"),
        (None, None, "满意、不满意"),  # two ticked: said by the allowed-values rule, not guessed
    ]
    assert not [f for f in loaded.all_findings() if f.severity == "error"]
    assert not any(r.set_aside for r in loaded.records)


def test_ticks_read_alike_from_xls_and_gbk_csv(tmp_path: Path, config):
    rows = [
        TITLE,
        ["反馈编号", "投诉编号", "反馈日期", "满意", "基本满意", "不满意"],
        ["FK-01", "TS-01", "2026-10-05", None, "√", None],
    ]
    for path in (xls(tmp_path / "反馈.xls", {"10月": rows}), csv_file(tmp_path / "反馈.csv", rows)):
        (rec,) = load_file(path, config, AS_OF).records
        assert rec.values["satisfaction"] == "基本满意" and not rec.set_aside


def test_a_plain_register_is_not_read_as_ticks(tmp_path: Path, config):
    """A choice column whose first data row happens to hold values beside it stays a plain column."""
    rows = [
        TITLE,
        ["反馈编号", "投诉编号", "反馈日期", "满意度", "客户意见"],
        ["FK-01", "TS-01", "2026-10-05", "满意", "不满意"],
        ["FK-02", "TS-02", "2026-10-06", "不满意", None],
    ]
    loaded = load_file(xlsx(tmp_path / "反馈.xlsx", {"10月": rows}), config, AS_OF)
    assert loaded.sheets[0].header_row == 2
    assert [(r.values["satisfaction"], r.values["opinion"]) for r in loaded.records] == [
        ("满意", "不满意"),
        ("不满意", None),
    ]

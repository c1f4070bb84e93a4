"""Issue 17: each behaviour on the real-shaped fixtures (tests/realistic.py), by name."""

import zipfile
from pathlib import Path

import pytest

from pipeline.config import parse_config
from pipeline.load.loader import load_file
from tests.conftest import AS_OF
from tests.realistic import EXPORT_ALIASES, english_export, live_ledger, wps_saved

PROPERTIES = {"南亚": {"households": 800}, "东南亚": {"households": 1200}}


@pytest.fixture
def cfg(tmp_path: Path):
    return parse_config(
        {
            "properties": PROPERTIES,
            "aliases": EXPORT_ALIASES,
            "values": {"complaints": {"投诉类别": {"extra": ["装配问题"]}}},
        },
        tmp_path,
    )


def test_live_ledger_rows_go_to_the_exact_property(tmp_path: Path, cfg):
    loaded = load_file(live_ledger(tmp_path / "南亚投诉台账.xlsx"), cfg, AS_OF)
    assert {r.property_name for r in loaded.records} == {"南亚"}  # never 东南亚, which contains it


def test_live_ledger_accounts_for_every_row(tmp_path: Path, cfg):
    loaded = load_file(live_ledger(tmp_path / "南亚投诉台账.xlsx"), cfg, AS_OF)
    assert loaded.rows_read == 4 and loaded.rows_set_aside == 0
    assert loaded.skipped == {"只有编号的空行": 6, "签名、日期或合计行": 1}


def test_live_ledger_reads_the_actual_completion_not_the_required_one(tmp_path: Path, cfg):
    loaded = load_file(live_ledger(tmp_path / "南亚投诉台账.xlsx"), cfg, AS_OF)
    closed = [r.values["closed"] for r in loaded.records]
    assert closed == ["2026-10-09", None, "2026-10-14", "2026-10-13"]
    unread = {f.value for f in loaded.findings if f.code in ("header-unknown", "header-partial")}
    assert "要求报告完成时间" in unread and "处理天数" in unread
    assert not [f for f in loaded.findings if f.code == "header-duplicate"]


def test_live_ledger_placeholders_synonyms_and_own_categories(tmp_path: Path, cfg):
    loaded = load_file(live_ledger(tmp_path / "南亚投诉台账.xlsx"), cfg, AS_OF)
    second, third, fourth = loaded.records[1:]
    assert second.values["phone"] is None and second.values["category"] == "其他"
    assert third.values["category"] == "装配问题" and third.values["received"] == "2026-10-11"
    assert fourth.values["person"] is None and fourth.values["valid"] is None


def test_english_export_reads_am_pm_times_in_the_columns_order(tmp_path: Path, cfg):
    loaded = load_file(english_export(tmp_path / "service_requests.xlsx"), cfg, AS_OF)
    received = [r.values["received"] for r in loaded.records]
    assert received == ["2026-10-01T00:00:03", "2026-10-13T21:30", "2026-10-05T11:45:10"]
    assert loaded.records[0].values["closed"] == "2026-10-02T15:05"
    assert [r.property_name for r in loaded.records] == ["东南亚", "南亚", "南亚"]
    unread = {f.value for f in loaded.findings if f.code in ("header-unknown", "header-partial")}
    assert "Park Borough" in unread


def test_english_export_without_order_evidence_sets_aside(tmp_path: Path, cfg):
    from tests.builders import xlsx

    rows = [
        ["Unique Key", "Created Date", "Complaint Type", "Borough"],
        ["311-1", "10/01/2026 08:00 AM", "噪音", "南亚"],
    ]
    loaded = load_file(xlsx(tmp_path / "one.xlsx", {"export": rows}), cfg, AS_OF)
    (rec,) = loaded.records
    assert rec.set_aside and [f.code for f in rec.findings] == ["date-ambiguous"]
    assert "2026-01-10" in rec.findings[0].message and "2026-10-01" in rec.findings[0].message


def test_a_ledger_titled_with_its_month_reads_its_slash_dates_in_that_months_order(tmp_path: Path, cfg):
    """No day over 12 shows the order; the title's October does: 07/10/2026 received can only be
    day-month, and the sheet's other dates are read in that order."""
    from tests.builders import xlsx

    rows = [
        ["南亚物业服务中心 客户投诉受理台账（2026年10月）"],
        ["单号", "投诉\n时间", "投诉类型", "处理情况", None],
        [None, None, None, "完成日期", "回复日期"],
        ["TS-01", "07/10/2026", "噪音", "08/10/2026", "02/11/2026"],
        ["TS-02", "2026.10.9", "维修", "11/10/2026", None],
    ]
    loaded = load_file(xlsx(tmp_path / "台账.xlsx", {"Sheet1": rows}), cfg, AS_OF)
    first, second = loaded.records
    assert not first.set_aside and not first.findings and not second.findings
    assert (first.values["received"], first.values["closed"]) == ("2026-10-07", "2026-10-08")
    assert first.values["replied"] == "2026-11-02"  # early the next month, in the sheet's order
    assert second.values["closed"] == "2026-10-11"
    assert loaded.sheets[0].month == "2026-10"
    assert loaded.sheets[0].columns["received"] == ["投诉时间", "B"]  # a wrapped header cell, on one line


def test_when_the_period_dates_show_no_order_the_registers_other_dates_do(tmp_path: Path, cfg):
    from tests.builders import xlsx

    rows = [
        ["南亚客户投诉处理登记表 2026年12月"],
        ["投诉编号", "受理日期", "投诉类别", "完成日期", "回复日期"],
        ["TS-01", "2026/12/1 9:30", "噪音", "12/3/2026", "1/4/2027"],  # month first, as a US export
        ["TS-02", "2026/12/2 10:00", "维修", "12/9/2026", None],
    ]
    first, second = load_file(xlsx(tmp_path / "投诉.xlsx", {"Sheet1": rows}), cfg, AS_OF).records
    assert (first.values["closed"], first.values["replied"], second.values["closed"]) == (
        "2026-12-03",
        "2027-01-04",
        "2026-12-09",
    )


def test_wps_saved_workbook_loads(tmp_path: Path, cfg):
    path = wps_saved(tmp_path / "东南亚投诉.xlsx")
    with zipfile.ZipFile(path) as z:
        assert b"WPS" in z.read("docProps/app.xml") and b"inlineStr" in z.read("xl/worksheets/sheet1.xml")
    loaded = load_file(path, cfg, AS_OF)
    first, second = loaded.records
    assert first.property_name == second.property_name == "东南亚"
    assert first.values["received"] == "2026-10-12T15:05" and first.values["closed"] == "2026-10-13T09:00"
    assert first.values["category"] == "其他" and second.values["received"] == "2026-10-14"
    assert loaded.skipped == {"签名、日期或合计行": 1} and not loaded.rows_set_aside


def test_a_second_column_for_the_same_thing_fills_the_firsts_blanks(tmp_path: Path, cfg):
    """投诉单号 and 维修单号 side by side are both the callback's 关联编号."""
    from tests.builders import xlsx

    rows = [
        ["南亚回访记录表"],
        ["回访日期", "投诉单号", "维修单号", "满意度", "回访人"],
        ["2026-10-05", "TS-01", None, "满意", "小陈"],
        ["2026-10-06", None, "BX-07", "满意", "小陈"],
        ["2026-10-07", None, None, "满意", "小陈"],
    ]
    loaded = load_file(xlsx(tmp_path / "回访.xlsx", {"10月": rows}), cfg, AS_OF)
    assert [r.values["ref"] for r in loaded.records] == ["TS-01", "BX-07", None]
    (said,) = [f for f in loaded.findings if f.code == "header-duplicate"]
    assert said.letter == "C" and "第一列空白的行取这一列的值" in said.message


def test_short_dates_day_first_and_month_dot_day_numbers(tmp_path: Path, cfg):
    from tests.builders import xlsx

    rows = [
        ["南亚客户投诉处理登记表"],
        ["投诉编号", "受理日期", "投诉类别", "完成日期"],
        ["TS-01", "5/10", "噪音", 10.6],  # day first (the sheet's 28/10 says so); 10.6 a General cell's
        # number, typed month.day whatever the sheet's slash dates do
        ["TS-02", "28/10", "维修", 10.28],
    ]
    first, second = load_file(xlsx(tmp_path / "投诉.xlsx", {"2026年10月": rows}), cfg, AS_OF).records
    assert (first.values["received"], second.values["received"]) == ("2026-10-05", "2026-10-28")
    assert (first.values["closed"], second.values["closed"]) == ("2026-10-06", "2026-10-28")

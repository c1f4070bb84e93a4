"""Callbacks written on the case's own row (回访日期 | 回访人 beside each complaint or repair), as many
centres keep one register: each is a callback of its case for the rules, the KPIs and the lists, as
a row of the callbacks register would be (registers.INLINE_CALLBACKS, domain.inline_callbacks)."""

from pathlib import Path

import pytest

from pipeline.config import parse_config
from tests.builders import run_month, xlsx

COMPLAINTS = ["投诉编号", "受理日期", "投诉类别", "完成日期", "回复日期", "回访日期", "回访人"]
AS_OF = "2026-11-01 08:00"


@pytest.fixture(scope="module")
def inbox(tmp_path_factory):
    base = tmp_path_factory.mktemp("inline")
    complaints = [
        ["TS-001", "2026-10-05", "维修", "2026-10-07", "2026-10-07", "2026-10-08", "王敏"],
        ["TS-002", "2026-10-12", "保洁", "2026-10-14", "2026-10-14", "2026-10-13", "王敏"],  # before closing
        ["TS-003", "2026-10-18", "维修", "2026-10-20", "2026-10-20", None, None],  # not called back
        [
            "TS-004",
            "2026-10-20",
            "维修",
            "2026-10-22",
            "2026-10-22",
            "2026-10-25",
            "李静",
        ],  # and in 回访记录表
        ["TS-005", "2026-10-21", "环境卫生", "2026-10-22", None, "2026-10-23", "李静"],  # set aside: category
    ]
    xlsx(
        base / "inbox" / "东区投诉登记表.xlsx",
        {"2026年10月": [["东区客户投诉处理登记表"], COMPLAINTS, *complaints]},
    )
    repairs = [["BX-1", "2026-10-09", "水管", "2026-10-10", "满意", "2026-10-11", "张强"]]
    head = ["报修编号", "报修时间", "报修内容", "完成时间", "满意度", "回访日期", "回访人"]
    xlsx(base / "inbox" / "东区报修登记表.xlsx", {"2026年10月": [["东区报修登记表"], head, *repairs]})
    callbacks = [["HF-1", "TS-004", "2026-10-25", "满意", "李静"]]
    head = ["回访编号", "关联编号", "回访日期", "满意度", "回访人"]
    xlsx(base / "inbox" / "东区回访记录表.xlsx", {"2026年10月": [["东区回访记录表"], head, *callbacks]})
    return base


def _run(base: Path, out: str, **kw) -> dict:
    return run_month(
        base, out, parse_config({"properties": {"东区": {"households": 500}}}, base), AS_OF, **kw
    )


def test_a_callback_on_the_cases_row_counts_as_its_callback(inbox):
    m = _run(inbox, "group")
    rate = m["kpis"]["callback_rate"]
    # closed: TS-001 … TS-004 and BX-1 (TS-005 set aside); called back on or after closing: TS-001,
    # TS-004 (on its row and in 回访记录表: one callback) and BX-1
    assert (rate["numerator"], rate["denominator"]) == (3, 5)
    pending = sorted(p["id"] for p in m["lists"]["pending_callbacks"])
    assert pending == ["TS-002", "TS-003"]
    own = _run(inbox, "own", property="东区")
    assert own["kpis"]["callback_rate"]["numerator"] == 3 and own["kpis"]["callback_rate"]["denominator"] == 5
    staff = {name: s["counts"]["callbacks"] for name, s in m["by_staff"]["回访人"].items()}
    # TS-004's callback once; TS-005's goes with its complaint, set aside
    assert m["kpis"]["counts"]["callbacks"] == 4 and staff == {"王敏": 2, "李静": 1, "张强": 1}


def test_a_callback_on_the_cases_row_is_checked_there(inbox):
    from pipeline.store import Store

    _run(inbox, "checked")
    found = [
        (f["row"], f["column_name"], f["letter"], f["code"])
        for f in Store(inbox / "checked.sqlite").findings(stage="rules")
        if f["code"].startswith("callback")
    ]
    assert sorted(found) == [
        (4, "回访日期", "F", "callback-before-closing"),  # on the complaint's row, at its 回访日期
        (4, "完成日期", "D", "callback-missing"),
        (5, "完成日期", "D", "callback-missing"),
    ]


def test_a_register_checked_alone_is_checked_against_its_own_callbacks(inbox):
    """`pipeline validate` on the complaints register alone: its cases' callbacks are on its rows, so
    whether each closed case was called back is said (without them it could only say none was)."""
    from datetime import datetime

    from pipeline.validate.stage import check_files

    config = parse_config({"properties": {"东区": {"households": 500}}}, inbox)
    (checked,) = check_files(
        [inbox / "inbox" / "东区投诉登记表.xlsx"], config, datetime(2026, 11, 1, 8), None
    )
    found = sorted((f.row, f.code) for f in checked["findings"] if f.code.startswith("callback"))
    assert found == [(4, "callback-before-closing"), (4, "callback-missing"), (5, "callback-missing")]
    (missing, *_) = [f for f in checked["findings"] if f.code == "callback-missing"]
    assert "本表有“回访日期”一栏" in missing.message  # where its callback goes, in this register

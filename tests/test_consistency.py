"""Issue 18: one concept, one answer. The rule and the KPI agree under every setting that moves a
deadline; a property's own report counts what the group report counts under it; the properties add
up to the company; feedback that cannot be attributed to exactly one property is set aside, never
counted twice or guessed."""

from pathlib import Path

import pytest

from pipeline.config import parse_config
from tests.builders import run_month, xlsx

COMPLAINTS = ["投诉编号", "受理日期", "投诉类别", "完成日期", "回复日期", "是否有效投诉", "责任部门"]
CALLBACKS = ["回访编号", "关联编号", "回访日期", "满意度"]
REINSPECTIONS = ["申诉编号", "申诉日期", "受理日期", "紧急", "复检人员", "书面通知日期"]
FEEDBACK = ["反馈编号", "投诉编号", "反馈日期", "满意度"]
AS_OF = "2026-11-01 08:00"


def _property_files(inbox: Path, name: str, prefix: str) -> None:
    """Each centre numbers its own registers from TS-001, as real centres do."""
    month = {"2026年10月": None}
    complaints = [
        ["TS-001", "2026-10-05", "维修", "2026-10-07", "2026-10-07", "是", "工程部"],
        ["TS-002", "2026-10-12", "服务态度", "2026-10-14", "2026-10-14", "否", "客服部"],
        ["TS-003" if prefix == "东" else "TS-004", "2026-10-20", "保洁", None, None, "是", "保洁部"],
        ["TS-005", "2026-10-21", "环境卫生", None, None, "否", "保洁部"],  # set aside: not a category
        *([["TS-006", "2026-10-21", "环境卫生", None, None, "否", "保洁部"]] if prefix == "东" else []),
    ]
    xlsx(
        inbox / f"{name}投诉登记表.xlsx",
        {k: [[f"{name}客户投诉处理登记表"], COMPLAINTS, *complaints] for k in month},
    )
    callbacks = [["HF-1", "TS-001", "2026-10-08", "满意"], ["HF-2", "TS-002", "2026-10-13", "满意"]]
    xlsx(inbox / f"{name}回访记录表.xlsx", {k: [[f"{name}回访记录表"], CALLBACKS, *callbacks] for k in month})
    reinspections = [
        # answered 12 days after acceptance: on time under the default 15 days, late under 10
        ["SS-1", "2026-10-01", "2026-10-02", "否", "王敏、李静", "2026-10-14"],
        ["SS-2", "2026-10-10", "2026-10-10", "否", "王敏、李静", "2026-10-16"],
        # not yet answered: overdue under 10 days (due 10-25), due soon under 15 (due 10-30 … 11-04)
        ["SS-3", "2026-10-15", "2026-10-20", "否", "王敏、李静", None],
    ]
    xlsx(
        inbox / f"{name}复检登记表.xlsx",
        {k: [[f"{name}复检登记表"], REINSPECTIONS, *reinspections] for k in month},
    )


@pytest.fixture(scope="module")
def inbox(tmp_path_factory):
    base = tmp_path_factory.mktemp("consistency")
    _property_files(base / "inbox", "东区", "东")
    _property_files(base / "inbox", "西区", "西")
    # feedback naming no property: TS-001 is both centres' number (ambiguous), TS-003 only 东区's;
    # TS-005 is both centres' too, and set aside in both: its feedback is still ambiguous
    rows = [["FK-1", "TS-001", "2026-10-09", "满意"], ["FK-2", "TS-003", "2026-10-22", "不满意"]]
    rows += [["FK-3", "TS-005", "2026-10-23", "满意"]]
    # TS-006 is only 东区's, set aside there: its feedback still says which centre it concerns
    rows += [["FK-4", "TS-006", "2026-10-24", "满意"]]
    xlsx(
        base / "inbox" / "客户反馈登记表.xlsx",
        {"2026年10月": [["投诉处理结果客户反馈登记表"], FEEDBACK, *rows]},
    )
    return base


def _run(base: Path, out: str, config, **kw) -> dict:
    return run_month(base, out, config, AS_OF, **kw)


def _config(base: Path, **rules):
    return parse_config(
        {"properties": {"东区": {"households": 500}, "西区": {"households": 400}}, "rules": rules}, base
    )


RATES = (
    "callback_rate",
    "reply_rate",
    "same_day_verification_rate",
    "effective_complaint_rate",
    "reinspection_on_time_rate",
    "satisfaction_rate",
)


def test_a_propertys_own_report_counts_what_the_group_report_counts_under_it(inbox):
    config = _config(inbox)
    group = _run(inbox, "group", config)
    for name in ("东区", "西区"):
        own = _run(inbox, "group", config, property=name)
        for key in RATES:
            mine, theirs = own["kpis"][key], group["by_property"][name][key]
            assert (mine["numerator"], mine["denominator"]) == (theirs["numerator"], theirs["denominator"]), (
                name,
                key,
            )
    for key in RATES:  # the properties add up to the company
        company = group["kpis"][key]
        parts = [group["by_property"][n][key] for n in ("东区", "西区")]
        assert company["numerator"] == sum(p["numerator"] for p in parts), key
        assert company["denominator"] == sum(p["denominator"] for p in parts), key


def test_feedback_of_a_number_two_centres_use_is_set_aside_and_a_unique_one_follows_its_complaint(inbox):
    config = _config(inbox)
    group = _run(inbox, "group", config)
    assert group["by_property"]["东区"]["satisfaction_rate"]["denominator"] == 2 + 2  # callbacks, FK-2, FK-4
    assert group["by_property"]["西区"]["satisfaction_rate"]["denominator"] == 2
    assert group["kpis"]["satisfaction_rate"]["denominator"] == 6
    unhappy = group["lists"]["unhappy_feedback"]
    assert [(u["id"], u["property"]) for u in unhappy] == [("FK-2", "东区")]
    for fk, number in (("FK-1", "TS-001"), ("FK-3", "TS-005")):
        (aside,) = [r for r in group["lists"]["set_aside"] if r["id"] == fk]
        assert f"投诉编号“{number}”在 东区、西区 都有" in aside["reasons"][0]


@pytest.mark.parametrize(("days", "late", "overdue"), [(15, set(), set()), (10, {"SS-1"}, {"SS-3"})])
def test_the_rule_the_kpi_and_the_lists_share_the_configured_deadline(inbox, days, late, overdue):
    config = _config(inbox, **{"reinspection-late": {"days": days}})
    model = _run(inbox, f"deadline{days}", config)
    on_time = model["by_property"]["东区"]["reinspection_on_time_rate"]
    assert on_time["denominator"] == 2 and on_time["numerator"] == 2 - len(late)
    from pipeline.render.model import build_report

    definition = next(r for r in build_report(model).definitions.rows if r[0] == "复检按时率")
    assert f"受理后 {days} 日内" in definition[1] and definition[2].startswith(
        f"{days} 日"
    )  # the report says it
    listed = {
        i["id"] for i in model["lists"]["overdue"] if i["property"] == "东区" and i["type"].startswith("复检")
    }
    assert listed == overdue
    soon = {i["id"] for i in model["lists"]["reinspections_due_soon"] if i["property"] == "东区"}
    assert soon == ({"SS-3"} if days == 15 else set())
    from pipeline.store import Store

    with Store(inbox / f"deadline{days}.sqlite") as store:
        flagged = {
            (r["file"], r["row"])
            for r in store.findings()
            if r["code"] == "reinspection-late" and "东区" in r["file"]
        }
    assert len(flagged) == len(late) + len(overdue)  # each case the KPI or the list calls late, and no other


def test_the_followup_rule_and_the_followup_rate_agree_on_what_counts_as_written():
    """A callback that found a problem is followed up when its follow-up is written (not blank, 无,
    没有 or /) or dated (domain.followed_up): the rule flags exactly the misses the KPI counts."""
    from datetime import datetime

    from pipeline.config import parse_config
    from pipeline.kpi.model import compute_kpis
    from pipeline.periods import month
    from pipeline.validate import run_rules

    def cb(n, **kw):
        return {
            "_file": "回访.xlsx",
            "_sheet": "2026年10月",
            "_row": n,
            "_id": n,
            "_property": "甲",
            "id": f"HF-{n}",
            "date": "2026-10-08",
            **kw,
        }

    callbacks = [
        cb(1, satisfaction="不满意", followup="/"),
        cb(2, satisfaction="不满意", followup="无"),
        cb(3, satisfaction="不满意", followup="已二次上门维修"),
        cb(4, solved=False, followup_date="2026-10-10"),
        cb(5, solved=False),
        cb(6, satisfaction="满意", followup="/"),  # no problem: nothing to follow up
    ]
    config = parse_config({"properties": {"甲": {"households": 100}}}, Path("."))
    flagged = sorted(
        f.row
        for f in run_rules({"callbacks": callbacks}, datetime(2026, 11, 1), config)
        if f.code == "followup-missing"
    )
    assert flagged == [1, 2, 5]
    quality = {"rows_read": 0, "rows_loaded": 0, "rows_set_aside": 0}
    rate = compute_kpis(
        {"callbacks": callbacks}, month("2026-10"), datetime(2026, 11, 1), config, quality, []
    )["kpis"]["callback_followup_rate"]
    assert (rate["numerator"], rate["denominator"]) == (2, 5)

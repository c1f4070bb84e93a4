"""Issue 19: the household roster, the routine callback programme and the meetings' problem tracker,
from registers kept as clerks keep them (other headers, a title row, Chinese dates, a signature
line), each figure computed here by hand."""

import json
from pathlib import Path

import pytest

from pipeline.config import parse_config
from pipeline.run import RunOptions, run
from tests.builders import xlsx

AS_OF = "2026-11-01 08:00"

# 翠湖花园's roster: 8 households in 3 buildings (config.toml says 10: a finding; the roster counts)
ROSTER = [
    ["翠湖花园住户名单（2026年9月）"],
    ["序号", "楼栋", "房屋编号", "户主", "手机", "状态"],
    [1, "1栋", "1-1-101", "王伟", "13812345678", "已入住"],
    [2, "1栋", "1-1-102", "李芳", "13812345679", "已入住"],
    [3, "1栋", "1-2-201", "张娜", None, "空置"],
    [4, "2栋", "2-1-101", "刘敏", "13912345678", "已入住"],
    [5, "2栋", "2-1-102", "陈静", "13912345679", "出租"],
    [6, "3栋", "3-1-101", "杨丽", None, "已入住"],
    [7, "3栋", "3-1-102", "黄强", None, "已入住"],
    [8, "3栋", "3-1-103", "赵磊", None, "已入住"],
    [],
    ["制表人：王敏"],
]
CALLBACKS = ["回访编号", "关联编号", "房号", "回访日期", "回访方式", "回访类型", "回访人", "满意度"]
CALLBACK_ROWS = [
    # Q4 routine callbacks: 1-1-101 twice (one unit), 1-1-102, 2-1-101; 9-9-999 is not on the roster
    ["LF-1", None, "1-1-101", "2026-10-09", "上门", "例行回访", "刘洋", "满意"],
    ["LF-2", None, "1-1-101", "2026-10-20", "电话", "例行回访", "刘洋", "满意"],
    ["LF-3", None, "1-1-102", "10月21日", "上门", "例行回访", "刘洋", "满意"],
    ["LF-4", None, "2-1-101", "2026.10.22", "上门", "例行回访", "王敏", "满意"],
    ["LF-5", None, "9-9-999", "2026-10-23", "上门", "例行回访", "王敏", "满意"],
    # last quarter: who covers 3栋, though not reached this quarter
    ["LF-6", None, "3-1-101", "2026-08-20", "上门", "例行回访", "王敏", "满意"],
    # the director's visits this year: 3-1-102 in March, 1-1-101 in October
    ["ZR-1", None, "3-1-102", "2026-03-15", "上门", "主任走访", "赵国庆", "满意"],
    ["ZR-2", None, "1-1-101", "2026-10-12", "上门", "主任走访", "赵国庆", "满意"],
    # a forum in September (the second half-year), and two questionnaires
    ["ZT-1", None, None, "2026-09-26", "座谈会", "例行回访", "赵国庆", None],
    ["WJ-1", None, "2-1-102", "2026-10-15", "问卷", "例行回访", "王敏", "满意"],
    ["WJ-2", None, "1-2-201", "2026-10-16", "问卷", "例行回访", "王敏", "基本满意"],
]
TRACKER = ["编号", "会议日期", "场合", "问题", "原因", "措施", "负责人", "期限", "上报", "完成时间", "进展"]
TRACKER_ROWS = [
    # due in October: WT-1 done on time, WT-2 done late, WT-3 not done (overdue), WT-4 done on its day
    [
        "WT-1",
        "2026-10-09",
        "例会",
        "车库照明不足",
        "灯具老化",
        "更换灯具",
        "张强",
        "2026-10-16",
        None,
        "2026-10-15",
        "已完成",
    ],
    [
        "WT-2",
        "2026-10-09",
        "晨会",
        "电梯困人",
        "维保响应慢",
        "约谈维保",
        "陈刚",
        "2026-10-16",
        "项目经理",
        "2026-10-19",
        "已完成",
    ],
    [
        "WT-3",
        "10月16日",
        "例会",
        "垃圾清运不及时",
        "调度冲突",
        "调整清运时间",
        "王敏",
        "2026年10月23日",
        "项目经理",
        None,
        None,
    ],
    [
        "WT-4",
        "2026-10-23",
        "巡查",
        "消防通道占用",
        None,
        "增设标识",
        "刘洋",
        "2026-10-30",
        None,
        "2026-10-30",
        "已完成",
    ],
    # due in November: not in October's rate, not overdue yet
    [
        "WT-5",
        "2026-10-30",
        "例会",
        "收费排队",
        "月初集中",
        "线上缴费",
        "王敏",
        "2026-11-06",
        None,
        None,
        "跟进中",
    ],
]


def _run(tmp_path: Path, **options):
    """A run over the test's inbox and store (October by default; another period, or one property)."""
    config = parse_config(
        {
            "properties": {
                "翠湖花园": {"households": 10, "registers": ["callbacks"]},
                "金桂苑": {"households": 4},
            }
        },
        tmp_path,
    )
    folders = {"inbox": tmp_path / "inbox", "reports": tmp_path / "reports", "archive": tmp_path / "a"}
    given = {"month": "2026-10", "as_of": AS_OF, "workers": 1, **options}
    return run(config, RunOptions(store=tmp_path / "s.sqlite", **folders, **given))


@pytest.fixture
def result(tmp_path: Path):
    inbox = tmp_path / "inbox"
    xlsx(inbox / "翠湖花园住户名单.xlsx", {"名册": ROSTER})
    xlsx(inbox / "翠湖花园回访记录表.xlsx", {"回访": [["翠湖花园回访记录表"], CALLBACKS, *CALLBACK_ROWS]})
    xlsx(inbox / "翠湖花园问题跟踪表.xlsx", {"2026年": [["翠湖花园问题跟踪表"], TRACKER, *TRACKER_ROWS]})
    out = _run(tmp_path)
    return out, json.loads(out.outputs["kpis"].read_text(encoding="utf-8"))


def nd(k):
    return (k["numerator"], k["denominator"])


def test_the_roster_counts_the_households_and_its_difference_from_config_is_a_finding(result):
    out, model = result
    assert [f for f in out.ingest.outcomes if f.error] == []
    assert model["data_quality"]["households_differ"] == [{"property": "翠湖花园", "roster": 8, "config": 10}]
    # the roster's 8 households are the denominator of the effective complaint rate too
    assert model["by_property"]["翠湖花园"]["effective_complaint_rate_ytd"]["denominator"] == 8
    findings = [f for f in out.findings if f.code == "households-differ"]
    assert len(findings) == 1 and "住户名册有 8 户，config.toml 登记 10 户" in findings[0].message


def test_routine_callbacks_cover_the_quarter_by_area(result):
    _, model = result
    mine = model["by_property"]["翠湖花园"]
    # Q4 up to 1 November: 1-1-101, 1-1-102, 2-1-101 (9-9-999 is not on the roster) of 8
    routine = mine["routine_callback_coverage"]
    assert nd(routine) == (3, 8) and routine["target"] == 1.0
    assert routine["pace"] == pytest.approx(31 / 92, abs=1e-6)  # October of the quarter's 92 days
    assert routine["met"] is True  # 3/8 = 37.5 % is ahead of a 33.7 % pace
    areas = {a["area"]: a for a in model["programme"]["areas"] if a["property"] == "翠湖花园"}
    assert {k: (a["reached"], a["households"]) for k, a in areas.items()} == {
        "1栋": (2, 3),
        "2栋": (1, 2),
        "3栋": (0, 3),
    }
    assert areas["1栋"]["staff"] == "刘洋" and areas["2栋"]["staff"] == "王敏"
    assert (
        areas["3栋"]["staff"] == "王敏"
    )  # LF-6 in November: the one who covers it, though not this quarter yet
    assert [(a["property"], a["area"]) for a in model["lists"]["areas_not_reached"]] == [("翠湖花园", "3栋")]


def test_director_visits_forums_and_questionnaires(result):
    _, model = result
    mine = model["by_property"]["翠湖花园"]
    assert nd(mine["director_visit_coverage"]) == (2, 8)  # 3-1-102 in March, 1-1-101 in October
    assert mine["director_visit_coverage"]["pace"] == pytest.approx(304 / 365, abs=1e-6)
    assert mine["resident_forums"] == {"count": 1, "target": 1, "met": True, "questionnaires": 2}
    # 金桂苑 keeps no roster and held no forum: its coverage is over config's 4 households, not judged yet
    other = model["by_property"]["金桂苑"]
    assert nd(other["routine_callback_coverage"]) == (0, 4)
    assert other["resident_forums"]["met"] is None and other["resident_forums"]["count"] == 0
    assert model["kpis"]["resident_forums"]["properties_without"] == ["金桂苑"]
    assert nd(model["kpis"]["routine_callback_coverage"]) == (3, 12)


def test_the_trackers_decisions_on_time_overdue_and_escalated(result):
    out, model = result
    # due in October: WT-1, WT-2, WT-3, WT-4; done by their deadline: WT-1, WT-4
    assert nd(model["kpis"]["action_on_time_rate"]) == (2, 4)
    assert nd(model["by_property"]["翠湖花园"]["action_on_time_rate"]) == (2, 4)
    overdue = model["lists"]["actions_overdue"]
    assert [(a["id"], a["days_overdue"]) for a in overdue] == [
        ("WT-3", 9)
    ]  # due 23 October, as of 1 November
    assert overdue[0]["cause"] == "调度冲突" and overdue[0]["measure"] == "调整清运时间"
    codes = sorted((f.code, f.row) for f in out.findings if f.code.startswith("action"))
    # WT-3 (row 5) is overdue, and escalated with nothing written in 进展
    assert codes == [("action-escalated-no-followup", 5), ("action-overdue", 5)]
    raised = [a["id"] for a in model["lists"]["actions_raised"]]
    assert raised == ["WT-1", "WT-2", "WT-3", "WT-4", "WT-5"]
    assert [a["id"] for a in model["lists"]["actions_due_next_week"]] == ["WT-5"]


def test_the_reports_show_the_programme_and_the_trackers_week(result, tmp_path: Path):
    """The monthly report's 回访计划执行 section and the weekly report's 上周决议跟进 / 本周问题与措施,
    read back from the PDF (pdftotext) and the workbook (openpyxl)."""
    import subprocess

    import openpyxl

    out, _ = result
    monthly = subprocess.run(
        ["pdftotext", "-layout", str(out.outputs["pdf"]), "-"], capture_output=True, text=True
    ).stdout
    assert "五、回访计划执行与问题整改" in monthly and "各区域例行回访（本季）" in monthly
    assert "WT-3" in monthly and "垃圾清运不及时" in monthly  # overdue, in the supervisor's words
    assert {"回访计划执行", "各区域例行回访"} <= set(openpyxl.load_workbook(out.outputs["xlsx"]).sheetnames)
    week = _run(tmp_path, month=None, week="2026-W44")
    lists = week.model["lists"]
    # the Friday 23 October meeting's decision is last week's, for the 30 October meeting; done on the 30th
    assert [(a["id"], a["state"]) for a in lists["actions_last_week"]] == [("WT-4", "已完成")]
    assert [a["id"] for a in lists["actions_raised"]] == ["WT-5"]
    text = subprocess.run(
        ["pdftotext", "-layout", str(week.outputs["pdf"]), "-"], capture_output=True, text=True
    ).stdout
    assert "上周决议跟进" in text and "本周问题与措施" in text
    assert "收费排队" in text and "线上缴费" in text  # this week's problem with its measure
    assert "本季度尚未例行回访的区域" in text and "3栋" in text


def test_a_propertys_own_report_counts_the_duties_as_the_group_report_does(result, tmp_path: Path):
    _, group = result
    own = _run(tmp_path, property="翠湖花园", render=False).model
    theirs = group["by_property"]["翠湖花园"]
    for key in ("routine_callback_coverage", "director_visit_coverage", "action_on_time_rate"):
        assert nd(own["kpis"][key]) == nd(theirs[key]), key
    assert own["kpis"]["resident_forums"]["count"] == theirs["resident_forums"]["count"]
    assert own["lists"]["areas_not_reached"] == [
        a for a in group["lists"]["areas_not_reached"] if a["property"] == "翠湖花园"
    ]
    assert own["lists"]["actions_overdue"] == group["lists"]["actions_overdue"]

"""Each rule with a passing and a failing case, built in the test."""

from datetime import datetime
from pathlib import Path

import pytest

from pipeline.config import parse_config
from pipeline.errors import ConfigError
from pipeline.findings import flatten
from pipeline.registers import REGISTERS
from pipeline.validate import run_rules

AS_OF = datetime(2026, 11, 1, 8, 0)
_n = iter(range(1, 10_000))


def rec(register: str, **values) -> dict:
    row = next(_n)
    return {
        "_register": register,
        "_file": f"{register}.xlsx",
        "_sheet": "2026年10月",
        "_row": row,
        "_id": row,
        **values,
    }


def complaint(**kw):
    base = {"id": f"C{next(_n)}", "received": "2026-10-08", "verified": "2026-10-08", "category": "维修"}
    return rec("complaints", **{**base, **kw})


def codes(records: dict, config=None, as_of=AS_OF) -> list[str]:
    config = config or parse_config({}, __import__("pathlib").Path("."))
    return sorted(f.code for f in run_rules(records, as_of, config))


CASES = [
    # (rule code, records that break it, records that keep it)
    (
        "value-not-allowed",
        {"complaints": [complaint(category="水电")]},
        {"complaints": [complaint(category="维修")]},
    ),
    (
        "duplicate-id",
        {"complaints": [complaint(id="A"), complaint(id="A")]},
        {"complaints": [complaint(id="A"), complaint(id="B")]},
    ),
    (
        "invalid-phone",
        {"complaints": [complaint(phone="1381234")]},
        {"complaints": [complaint(phone="0755-12345678")]},
    ),
    (
        "invalid-unit",
        {"complaints": [complaint(unit="花园里")]},
        {"complaints": [complaint(unit="3栋2单元1201")]},
    ),
    (
        "date-order",
        {"complaints": [complaint(closed="2026-10-07")]},
        {"complaints": [complaint(closed="2026-10-09")]},
    ),
    (
        "date-in-future",
        {"complaints": [complaint(closed="2026-11-05")]},
        {"complaints": [complaint(promised="2026-11-05")]},
    ),
    (
        "date-outside-sheet-month",
        {"complaints": [complaint(received="2026-09-30", verified="2026-09-30")]},
        {"complaints": [complaint()]},
    ),
    (
        "not-verified-same-day",
        {"complaints": [complaint(verified="2026-10-09")]},
        {"complaints": [complaint()]},
    ),
    (
        "reply-after-promise",
        {"complaints": [complaint(promised="2026-10-09", replied="2026-10-10")]},
        {"complaints": [complaint(promised="2026-10-09", replied="2026-10-09")]},
    ),
    (
        "reply-overdue",
        {"complaints": [complaint(promised="2026-10-09")]},
        {"complaints": [complaint(promised="2026-11-03")]},
    ),
    (
        "callback-missing",
        {"complaints": [complaint(id="X", closed="2026-10-09")]},
        {
            "complaints": [complaint(id="X", closed="2026-10-09")],
            "callbacks": [rec("callbacks", id="H", ref="X", date="2026-10-10")],
        },
    ),
    (
        "callback-ref-unknown",
        {"callbacks": [rec("callbacks", id="H", ref="NOPE", date="2026-10-10")]},
        {"callbacks": [rec("callbacks", id="H", ref=None, date="2026-10-10")]},
    ),
    (
        "callback-before-closing",
        {
            "repairs": [rec("repairs", id="R", reported="2026-10-01", completed="2026-10-05")],
            "callbacks": [
                rec("callbacks", id="H", ref="R", date="2026-10-04"),
                rec("callbacks", id="H2", ref="R", date="2026-10-06"),
            ],
        },
        {
            "repairs": [rec("repairs", id="R", reported="2026-10-01", completed="2026-10-05")],
            "callbacks": [rec("callbacks", id="H", ref="R", date="2026-10-06")],
        },
    ),
    (
        "followup-missing",
        {"callbacks": [rec("callbacks", id="H", date="2026-10-10", satisfaction="不满意")]},
        {
            "callbacks": [
                rec(
                    "callbacks",
                    id="H",
                    date="2026-10-10",
                    satisfaction="不满意",
                    followup="已二次维修",
                    followup_date="2026-10-11",
                )
            ]
        },
    ),
    (
        "feedback-not-reopened",
        {"feedback": [rec("feedback", id="F", complaint_id=None, date="2026-10-10", satisfaction="不满意")]},
        {
            "feedback": [
                rec(
                    "feedback",
                    id="F",
                    complaint_id=None,
                    date="2026-10-10",
                    satisfaction="不满意",
                    reopened="2026-10-11",
                )
            ]
        },
    ),
    (
        "feedback-complaint-unknown",
        {
            "complaints": [complaint(id="C1", _property="甲")],
            "feedback": [
                rec(
                    "feedback",
                    id="F",
                    _property="甲",
                    complaint_id="NOPE",
                    date="2026-10-10",
                    satisfaction="满意",
                )
            ],
        },
        {
            "complaints": [complaint(id="C1", _property="甲")],
            "feedback": [
                rec(
                    "feedback",
                    id="F",
                    _property="甲",
                    complaint_id="C1",
                    date="2026-10-10",
                    satisfaction="满意",
                )
            ],
        },
    ),
    (
        "appeal-late",
        {
            "reinspections": [
                rec("reinspections", id="S", report_received="2026-10-01", appealed="2026-10-12")
            ]
        },
        {
            "reinspections": [
                rec("reinspections", id="S", report_received="2026-10-01", appealed="2026-10-11")
            ]
        },
    ),
    (
        "reinspection-one-person",
        {"reinspections": [rec("reinspections", id="S", appealed="2026-10-12", inspectors="张强")]},
        {"reinspections": [rec("reinspections", id="S", appealed="2026-10-12", inspectors="张强、陈刚")]},
    ),
    (
        "reinspection-late",
        {
            "reinspections": [
                rec(
                    "reinspections",
                    id="S",
                    appealed="2026-10-12",
                    accepted="2026-10-12",
                    notified="2026-10-28",
                )
            ]
        },
        {
            "reinspections": [
                rec(
                    "reinspections",
                    id="S",
                    appealed="2026-10-12",
                    accepted="2026-10-12",
                    notified="2026-10-27",
                )
            ]
        },
    ),
]


@pytest.mark.parametrize(("code", "bad", "good"), CASES, ids=[c[0] for c in CASES])
def test_rule_fails_and_passes(code, bad, good):
    assert code in codes(bad)
    assert code not in codes(good)


def test_rules_run_side_by_side_find_what_they_find_one_after_another(monkeypatch):
    """run_rules runs the rules in two threads: every case's failing records together give the same
    findings, in the same order, as the rules run one by one."""
    import pipeline.validate as validate

    together: dict[str, list] = {}
    for _, bad, _ in CASES:
        for register, rows in bad.items():
            together.setdefault(register, []).extend(rows)
    config = parse_config({}, __import__("pathlib").Path("."))
    side_by_side = run_rules(together, AS_OF, config)
    monkeypatch.setattr(validate, "RULE_THREADS", 1)
    one_by_one = run_rules(together, AS_OF, config)
    assert len({f.code for f in one_by_one}) >= len(CASES) // 2  # many rules found something
    assert side_by_side == one_by_one


def test_urgent_reinspection_counts_make_up_saturday():
    """Accepted 2026-09-30; Oct 1–7 are National Day; Oct 8, 9 and make-up Saturday Oct 10 are the 3 working days."""
    on_time = rec(
        "reinspections",
        id="U1",
        appealed="2026-09-30",
        accepted="2026-09-30",
        urgent=True,
        notified="2026-10-10",
    )
    late = rec(
        "reinspections",
        id="U2",
        appealed="2026-09-30",
        accepted="2026-09-30",
        urgent=True,
        notified="2026-10-12",
    )
    found = run_rules(
        {"reinspections": [on_time, late]}, AS_OF, parse_config({}, __import__("pathlib").Path("."))
    )
    assert flatten([f for f in found if f.code == "reinspection-late"], "value") == [["2026-10-12"]]
    assert "2026-10-10" in found[0].note or any("2026-10-10" in f.note for f in found)


def test_urgent_reinspection_over_spring_festival():
    """Accepted Fri 2026-02-13: make-up Saturday Feb 14 counts, Feb 15–23 are off → due Feb 25."""
    ok = rec(
        "reinspections",
        id="U",
        appealed="2026-02-13",
        accepted="2026-02-13",
        urgent=True,
        notified="2026-02-25",
    )
    late = rec(
        "reinspections",
        id="V",
        appealed="2026-02-13",
        accepted="2026-02-13",
        urgent=True,
        notified="2026-02-26",
    )
    found = run_rules({"reinspections": [ok, late]}, AS_OF, parse_config({}, __import__("pathlib").Path(".")))
    assert flatten([f for f in found if f.code == "reinspection-late"], "value") == [["2026-02-26"]]


def test_uncovered_year_is_an_error_finding_not_a_guess():
    r = rec(
        "reinspections",
        id="Z",
        appealed="2031-03-01",
        accepted="2031-03-02",
        urgent=True,
        notified="2031-03-04",
    )
    r["_sheet"] = "2031年3月"
    found = run_rules(
        {"reinspections": [r]}, datetime(2031, 4, 1), parse_config({}, __import__("pathlib").Path("."))
    )
    assert flatten(found, "code", "severity") == [["calendar-missing", "error"]]


def test_rules_are_switchable_and_tunable_in_config():
    from pathlib import Path

    bad = {
        "reinspections": [rec("reinspections", id="S", report_received="2026-10-01", appealed="2026-10-12")]
    }
    off = parse_config({"rules": {"appeal-late": {"enabled": False}}}, Path("."))
    looser = parse_config({"rules": {"appeal-late": {"days": 15, "severity": "error"}}}, Path("."))
    stricter = parse_config({"rules": {"appeal-late": {"severity": "error"}}}, Path("."))
    assert "appeal-late" not in codes(bad, off)
    assert "appeal-late" not in codes(bad, looser)
    assert flatten([f for f in run_rules(bad, AS_OF, stricter) if f.code == "appeal-late"], "severity") == [
        ["error"]
    ]
    with pytest.raises(ConfigError, match="appeal-lates"):
        run_rules(bad, AS_OF, parse_config({"rules": {"appeal-lates": {}}}, Path(".")))
    with pytest.raises(ConfigError, match="dayz"):
        run_rules(bad, AS_OF, parse_config({"rules": {"appeal-late": {"dayz": 3}}}, Path(".")))


def test_process_rules_warn_and_data_rules_set_aside():
    found = run_rules(
        {"complaints": [complaint(verified="2026-10-09", category="水电")]},
        AS_OF,
        parse_config({}, __import__("pathlib").Path(".")),
    )
    assert sorted(flatten(found, "code", "severity")) == [
        ["not-verified-same-day", "warning"],
        ["value-not-allowed", "error"],
    ]


def test_memo_columns_are_read_by_no_rule_and_no_kpi():
    """A run holds records without their memo columns (free text for people): no rule, KPI or
    meeting list may name one, or it would silently see nothing."""
    import re
    from pathlib import Path

    from pipeline.registers import REGISTERS

    root = Path(__file__).resolve().parent.parent / "pipeline"
    sources = [*root.glob("validate/*.py"), *root.glob("kpi/*.py"), root / "domain.py"]
    text = "\n".join(p.read_text(encoding="utf-8") for p in sources)
    memo = {c.key for reg in REGISTERS.values() for c in reg.columns if c.memo}
    read = {c.key for reg in REGISTERS.values() for c in reg.columns if not c.memo}
    assert memo and not memo & read  # a key is memo in every register or in none
    assert [k for k in sorted(memo) if re.search(rf"[\"']{k}[\"']", text)] == []


def test_each_centre_numbers_its_own_registers(tmp_path, config):
    """Two centres of a group both number from TS-001: no duplicate, and each callback, feedback
    and KPI is matched within its own property (the same numbers in another centre are other cases)."""
    from pipeline.run import RunOptions, run
    from tests.builders import xlsx

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    head = ["投诉编号", "项目", "受理日期", "调查核实日期", "投诉类别", "完成日期"]
    xlsx(
        inbox / "翠湖投诉.xlsx",
        {"2026年10月": [head, ["TS-001", "翠湖花园", "2026-10-08", "2026-10-08", "维修", "2026-10-10"]]},
    )
    xlsx(
        inbox / "金桂投诉.xlsx",
        {"2026年10月": [head, ["TS-001", "金桂苑", "2026-10-09", "2026-10-09", "保洁", "2026-10-11"]]},
    )
    cb_head = ["回访编号", "关联编号", "项目", "回访日期", "满意度"]
    xlsx(
        inbox / "翠湖回访.xlsx",
        {"2026年10月": [cb_head, ["HF-001", "TS-001", "翠湖花园", "2026-10-12", "满意"]]},
    )
    xlsx(
        inbox / "金桂回访.xlsx",
        {"2026年10月": [cb_head, ["HF-001", "TS-009", "金桂苑", "2026-10-12", "满意"]]},
    )
    fb_head = ["反馈编号", "投诉编号", "项目", "反馈日期", "满意度"]
    xlsx(
        inbox / "金桂反馈.xlsx",
        {"2026年10月": [fb_head, ["FK-001", "TS-001", "金桂苑", "2026-10-13", "满意"]]},
    )
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
            render=False,
        ),
    )
    found = sorted(
        (f.code, f.file) for f in result.findings if f.code.startswith(("duplicate", "callback", "feedback"))
    )
    assert found == [("callback-missing", "金桂投诉.xlsx"), ("callback-ref-unknown", "金桂回访.xlsx")]
    assert result.counts["rows_set_aside"] == 0
    rates = {p: result.model["by_property"][p]["callback_rate"] for p in ("翠湖花园", "金桂苑")}
    assert [(r["numerator"], r["denominator"]) for r in rates.values()] == [(1, 1), (0, 1)]


@pytest.mark.parametrize(
    ("unit", "ok"),
    [
        ("3-2-1201", True),
        ("3栋2单元1201室", True),
        ("8#1102", True),  # 8号楼 1102, as many centres write it
        ("8#楼2单元1102", True),
        ("8#-1102", True),
        ("A座1201", True),
        ("B2-1102", True),
        ("12号楼 3单元 502", True),
        ("花园里", False),
        ("8#", False),
        ("#1102", False),
        ("1102", False),
    ],
)
def test_unit_numbers_in_the_forms_centres_write_them(unit, ok):
    assert ("invalid-unit" in codes({"complaints": [complaint(unit=unit)]})) is not ok


@pytest.mark.parametrize(
    ("closed", "future"),
    [
        ("2026-11-01 23:59", False),  # later the same day as the as-of time: allowed
        ("2026-11-01", False),
        ("2026-11-02", True),
        ("2026-11-02 00:00", True),
        ("2027-01-01 09:00", True),
    ],
)
def test_a_date_is_in_the_future_only_on_a_later_day(closed, future):
    records = {"complaints": [complaint(closed=closed)]}
    assert ("date-in-future" in codes(records)) is future


@pytest.mark.parametrize(
    ("dates", "flagged"),
    [
        ({"verified": "2026-10-10", "closed": "2026-10-09"}, ["closed"]),  # earlier than the one before
        ({"verified": None, "closed": "2026-10-07", "replied": "2026-10-09"}, ["closed"]),  # a gap
        (
            {"verified": "2026-10-07", "closed": "2026-10-06", "replied": "2026-10-05"},
            ["verified", "closed", "replied"],
        ),
        ({"verified": "2026-10-08 18:00", "closed": "2026-10-08 09:00"}, []),  # the same day, any time
        ({"verified": None, "closed": None, "replied": "2026-10-20"}, []),
    ],
)
def test_date_order_names_each_date_earlier_than_one_before_it(dates, flagged):
    config = parse_config({}, __import__("pathlib").Path("."))
    found = run_rules({"complaints": [complaint(**dates)]}, AS_OF, config)
    header = REGISTERS["complaints"].column
    assert sorted(f.column for f in found if f.code == "date-order") == sorted(
        header(k).header for k in flagged
    )


def test_feedback_naming_no_property_follows_exactly_one_propertys_complaint():
    """Issue 18: feedback naming no property, for a number two properties both use (each centre
    numbers from TS-001), cannot be counted anywhere without guessing: set aside, naming both."""

    def feedback(number):
        return rec("feedback", id="F", complaint_id=number, date="2026-10-10", satisfaction="满意")

    both = [complaint(id="TS-001", _property="东区"), complaint(id="TS-001", _property="西区")]
    config = parse_config({}, __import__("pathlib").Path("."))
    found = run_rules({"complaints": both, "feedback": [feedback("TS-001")]}, AS_OF, config)
    (f,) = [f for f in found if f.code == "feedback-property-unknown"]
    assert f.severity == "error" and "东区、西区" in f.message
    one = [complaint(id="TS-001", _property="东区"), complaint(id="TS-002", _property="西区")]
    assert "feedback-property-unknown" not in codes({"complaints": one, "feedback": [feedback("TS-001")]})
    nowhere = codes({"complaints": one, "feedback": [feedback("TS-009")]})
    assert "feedback-property-unknown" in nowhere and "feedback-complaint-unknown" not in nowhere


def test_a_case_entered_again_in_a_later_sheet_is_told_to_be_merged_into_its_first_row():
    first = complaint(id="TS-9", received="2026-10-28 09:00")
    carried = complaint(id="TS-9", received="2026-10-28 09:00", closed="2026-10-30", _sheet="2026年11月")
    other = complaint(id="TS-9", received="2026-10-29")
    found = [
        f
        for f in run_rules({"complaints": [first, carried, other]}, AS_OF, parse_config({}, Path(".")))
        if f.code == "duplicate-id"
    ]
    by_row = {f.row: f.message for f in found}
    assert set(by_row) == {carried["_row"], other["_row"]}
    assert "受理日期也相同，是同一宗：请把本行的后续情况补填到那一行" in by_row[carried["_row"]]
    assert "同一宗" not in by_row[other["_row"]]  # another case given the same number


def test_a_case_number_is_one_in_either_case_of_its_letters():
    """Clerks type ts-001 for TS-001: the callback follows its complaint, feedback finds its
    property, and the two spellings are one number (duplicate-id)."""
    closed = complaint(id="TS-001", closed="2026-10-09", _property="东区")
    callback = rec("callbacks", id="H", ref="ts-001", date="2026-10-10", _property="东区")
    fb = rec("feedback", id="F", complaint_id="Ts-001", date="2026-10-10", satisfaction="满意")
    found = codes({"complaints": [closed], "callbacks": [callback], "feedback": [fb]})
    assert not {"callback-missing", "callback-ref-unknown", "feedback-property-unknown"} & set(found)
    again = codes({"complaints": [closed, complaint(id="ts-001", _property="东区")]})
    assert "duplicate-id" in again


def test_a_case_number_of_digits_is_one_with_or_without_leading_zeros():
    """001 typed into a General cell is Excel's 1; the callbacks register kept the text 001: one
    case, so the callback follows its complaint, and the two spellings are one number. Zeros inside
    a number with letters are part of it (TS-001 is not TS-1)."""
    closed = complaint(id="1", closed="2026-10-09", _property="东区")
    callback = rec("callbacks", id="H", ref="001", date="2026-10-10", _property="东区")
    found = codes({"complaints": [closed], "callbacks": [callback]})
    assert not {"callback-missing", "callback-ref-unknown"} & set(found)
    assert "duplicate-id" in codes({"complaints": [closed, complaint(id="0001", _property="东区")]})
    assert "duplicate-id" not in codes({"complaints": [complaint(id="TS-001"), complaint(id="TS-1")]})


def test_case_text_copies_only_numbers_with_lower_case_letters():
    import pandas as pd

    from pipeline.domain import case_text

    upper = pd.Series(["TS-001", None, "东区TS-9"], dtype="str")
    assert case_text(upper) is upper  # the group's case keys are the run's peak of memory: no copy
    assert case_text(pd.Series(["ts-001", "东区ts-9"], dtype="str")).tolist() == ["TS-001", "东区TS-9"]
    assert case_text(pd.Series(["ts-001"], dtype=object)).tolist() == ["TS-001"]
    digits = pd.Series(["001", "0", "000", "TS-001", "0A1", None, "0012"], dtype="str")
    assert case_text(digits).tolist()[:5] == ["1", "0", "0", "TS-001", "0A1"]
    assert case_text(digits).tolist()[6] == "12" and case_text(digits).isna().tolist()[5]

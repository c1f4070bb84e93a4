"""Cell values as clerks write them."""

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.load.values import ValueProblem, parse_bool, parse_date, parse_number, parse_phone

AS_OF = datetime(2026, 11, 1, 8, 0)

DATES = [
    (datetime(2026, 10, 8), None, date(2026, 10, 8)),
    (datetime(2026, 10, 8, 14, 30), None, datetime(2026, 10, 8, 14, 30)),
    (date(2026, 10, 8), None, date(2026, 10, 8)),
    (46303.0, None, date(2026, 10, 8)),
    (46303.6041666667, None, datetime(2026, 10, 8, 14, 30)),
    ("46303", None, date(2026, 10, 8)),
    ("2026年10月8日", None, date(2026, 10, 8)),
    ("2026年10月8日 14:30", None, datetime(2026, 10, 8, 14, 30)),
    ("2026.10.8", None, date(2026, 10, 8)),
    ("2026/10/8", None, date(2026, 10, 8)),
    ("2026-10-08 14:30", None, datetime(2026, 10, 8, 14, 30)),
    ("2026-10-08T14:30:00", None, datetime(2026, 10, 8, 14, 30)),
    ("2026/10/3 9:30", None, datetime(2026, 10, 3, 9, 30)),
    ("9/24/2026", None, date(2026, 9, 24)),
    ("24/9/2026", None, date(2026, 9, 24)),
    ("20261008", None, date(2026, 10, 8)),
    (20261008, None, date(2026, 10, 8)),
    ("２０２６年１０月８日", None, date(2026, 10, 8)),
    ("26.10.8", None, date(2026, 10, 8)),
    ("2026年10月8日（周四）", None, date(2026, 10, 8)),
    ("2026年10月8日 下午3点", None, datetime(2026, 10, 8, 15, 0)),
    ("10月8日", 2025, date(2025, 10, 8)),
    ("10-8", 2026, date(2026, 10, 8)),
    ("10月8日 14:30", 2026, datetime(2026, 10, 8, 14, 30)),
    ("8-Oct-26", None, date(2026, 10, 8)),  # Excel's d-mmm-yy, as a CSV it saved writes the cell
    ("08-Oct-2026 14:30", None, datetime(2026, 10, 8, 14, 30)),
]


@pytest.mark.parametrize(("raw", "hint", "expected"), DATES, ids=[str(d[0]) for d in DATES])
def test_dates_as_clerks_write_them(raw, hint, expected):
    assert parse_date(raw, hint, AS_OF)[0] == expected


def test_date_without_year_takes_the_year_nearest_before_as_of():
    assert parse_date("10月8日", None, AS_OF) == (date(2026, 10, 8), True)
    assert parse_date("12月20日", None, AS_OF) == (date(2025, 12, 20), True)


@pytest.mark.parametrize("raw", ["/", "-", "无", "—", "", None, "  ", "N/A"])
def test_placeholders_are_blank_dates(raw):
    assert parse_date(raw, None, AS_OF) == (None, False)


@pytest.mark.parametrize(
    "raw", ["2026/13/01", "2026-02-30", "明天", "1900-01-05", "9999-12-31", 5.0, "10月32日"]
)
def test_impossible_dates_are_problems(raw):
    with pytest.raises(ValueProblem) as exc:
        parse_date(raw, 2026, AS_OF)
    assert exc.value.code == "invalid-date"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("是", True),
        ("否", False),
        ("√", True),
        ("×", False),
        ("Y", True),
        ("n", False),
        ("有", True),
        ("无", False),
        ("", None),
        (None, None),
        ("有效", True),  # 是否有效投诉, as clerks answer it
        ("无效投诉", False),
        ("属实", True),
        ("不属实", False),
        ("是（已核实）", True),  # a yes or no with a remark after it
        ("否，责任在业主", False),
        ("N/A", None),
        ("未", False),
        # a paper form's boxes copied into the cell
        ("☑", True),
        ("■", True),
        ("✅", True),
        ("☐", False),  # a box left empty
        ("□", False),
        ("❌", False),
        ("是√", True),  # the word with its tick
        ("√否", False),
        ("☑是 □否", True),  # the form's two options, one ticked
        ("是□ 否■", False),
        ("□是□否", None),  # neither ticked: blank
        ("特急", True),  # a 紧急 column's degrees
        ("不急", False),
    ],
)
def test_yes_no(raw, expected):
    assert parse_bool(raw) is expected


def test_yes_no_rejects_other_words():
    for text in ("可能", "部分解决", "是否", "1,2", "是、否", "☑是 ☑否", "√√"):
        with pytest.raises(ValueProblem):
            parse_bool(text)


def test_numbers_and_phones_stored_as_anything():
    assert parse_number("1,200") == 1200.0
    assert parse_number("￥350.5") == 350.5
    assert parse_number("200元") == 200.0
    assert parse_number("/") is None
    assert parse_phone(13812345678.0) == "13812345678"
    assert parse_phone(13812345678) == "13812345678"
    assert parse_phone("+86 138 1234 5678") == "13812345678"
    assert parse_phone("0755-12345678") == "0755-12345678"
    assert parse_phone("138-1234-5678") == "13812345678"  # a mobile grouped as many write it
    assert parse_phone("+86-138-1234-5678") == "13812345678"
    assert parse_phone("010-8888-999") == "010-8888-999"  # not a mobile: as written (the rule judges it)


@given(st.one_of(st.text(max_size=30), st.floats(allow_nan=True), st.integers(), st.dates(), st.datetimes()))
def test_date_parser_never_fails_with_a_foreign_exception(value):
    try:
        parse_date(value, None, AS_OF)
    except ValueProblem:
        pass


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2027, 12, 31)))
def test_full_dates_never_get_a_wrong_year(d):
    for text in (
        f"{d.year}年{d.month}月{d.day}日",
        f"{d.year}.{d.month}.{d.day}",
        f"{d.year}/{d.month}/{d.day}",
        d.isoformat(),
    ):
        assert parse_date(text, 1999, AS_OF)[0] == d

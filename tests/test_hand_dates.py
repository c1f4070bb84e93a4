"""Issue 17.5 / 17.10: dates and times as people type them into a 受理日期 column.

The forms come from the test suites of Chinese and general date parsers, typed as clerks do. At
least nine in ten must load with the right value and none with a wrong one; a numeric date whose
order is unknown is set aside with a finding, never guessed."""

from datetime import date, datetime

import pytest

from pipeline.load.values import ValueProblem, date_order, month_order, parse_date

AS_OF = datetime(2026, 11, 1, 8, 0)
D = datetime

HAND_TYPED = [
    ("05/01/2022 12:00:03 AM", "mdy", D(2022, 5, 1, 0, 0, 3)),
    ("2026/10/12 3:05 PM", None, D(2026, 10, 12, 15, 5)),
    ("2026/10/12 3:05PM", None, D(2026, 10, 12, 15, 5)),
    ("2026-10-12 03:05:07 pm", None, D(2026, 10, 12, 15, 5, 7)),
    ("2026-10-12 12:30 PM", None, D(2026, 10, 12, 12, 30)),
    ("2026-10-12 12:30 AM", None, D(2026, 10, 12, 0, 30)),
    ("2026-10-12 下午3:05", None, D(2026, 10, 12, 15, 5)),
    ("2026-10-12 3:05下午", None, D(2026, 10, 12, 15, 5)),
    ("2026年10月12日上午9点", None, D(2026, 10, 12, 9, 0)),
    ("2026年10月12日 晚8:00", None, D(2026, 10, 12, 20, 0)),
    ("2026年10月12日中午十二点", None, D(2026, 10, 12, 12, 0)),
    ("2026年10月12日中午1点", None, D(2026, 10, 12, 13, 0)),
    ("2026年10月12日凌晨三点", None, D(2026, 10, 12, 3, 0)),
    ("2026年10月12日凌晨12点", None, date(2026, 10, 12)),  # midnight: the day itself
    ("2026年10月12日早上七点", None, D(2026, 10, 12, 7, 0)),
    ("2026年10月12日20时1刻", None, D(2026, 10, 12, 20, 15)),
    ("2026年10月12日8点半", None, D(2026, 10, 12, 8, 30)),
    ("2026年10月12日三点钟", None, D(2026, 10, 12, 3, 0)),
    ("2026年10月12日下午三点钟", None, D(2026, 10, 12, 15, 0)),
    ("2026年10月12日十四时三十分", None, D(2026, 10, 12, 14, 30)),
    ("2026年10月12日14时30分15秒", None, D(2026, 10, 12, 14, 30, 15)),
    ("2026-10-12 17:06:30.0", None, D(2026, 10, 12, 17, 6, 30)),
    ("2026-10-12 17:06:30.123456", None, D(2026, 10, 12, 17, 6, 30)),
    ("2026-10-12T17:06:30Z", None, D(2026, 10, 12, 17, 6, 30)),
    ("2026.10.12.", None, date(2026, 10, 12)),  # a full stop after the day
    ("2026年10月12日。", None, date(2026, 10, 12)),
    ("2026-10-12 2:30 p.m.", None, D(2026, 10, 12, 14, 30)),
    ("2026-10-12T17:06:30+08:00", None, D(2026, 10, 12, 17, 6, 30)),
    ("2026年三月一号", None, date(2026, 3, 1)),
    ("二〇二六年十月三十一日", None, date(2026, 10, 31)),
    ("二零二六年十月八日", None, date(2026, 10, 8)),
    ("三月一号", None, date(2026, 3, 1)),
    ("十月31", None, date(2026, 10, 31)),
    ("十月三十一日", None, date(2026, 10, 31)),
    ("2月15号早上", None, date(2026, 2, 15)),
    ("10月12号，星期一", None, date(2026, 10, 12)),
    ("2026年10月12日，星期一", None, date(2026, 10, 12)),
    ("2026-10-12（周一）", None, date(2026, 10, 12)),
    ("2026.10.12 周一 14:00", None, D(2026, 10, 12, 14, 0)),
    ("2月29日", None, date(2024, 2, 29)),
    ("2026年10月12号", None, date(2026, 10, 12)),
    ("26年10月12日", None, date(2026, 10, 12)),
    ("2026 年 10 月 12 日", None, date(2026, 10, 12)),
    ("２０２６－１０－１２", None, date(2026, 10, 12)),
    ("2026/10/12 9:30:00", None, D(2026, 10, 12, 9, 30)),
    ("2026-10-12 9点", None, D(2026, 10, 12, 9, 0)),
    ("Oct 12, 2026", None, date(2026, 10, 12)),
    ("October 12 2026", None, date(2026, 10, 12)),
    ("12 Oct 2026", None, date(2026, 10, 12)),
    ("12-Oct-2026", None, date(2026, 10, 12)),
    ("2026-Oct-12", None, date(2026, 10, 12)),
    ("24/9/2026", None, date(2026, 9, 24)),
    ("9/24/2026 3:05 PM", None, D(2026, 9, 24, 15, 5)),
    ("1/2/2020", "dmy", date(2020, 2, 1)),
    ("1/2/2020", "mdy", date(2020, 1, 2)),
    ("20261012", None, date(2026, 10, 12)),
    ("10-12", None, date(2026, 10, 12)),
    ("10.12", None, date(2026, 10, 12)),
    ("2026年10月12日 14:30", None, D(2026, 10, 12, 14, 30)),
]

AMBIGUOUS = ["02/09/16", "10-09-03", "1/2/2020", "03/04/2026 10:00", "5.6.2026"]


@pytest.mark.parametrize(("text", "order", "expected"), HAND_TYPED, ids=[t for t, _, _ in HAND_TYPED])
def test_hand_typed_dates_load_with_the_right_value(text, order, expected):
    assert parse_date(text, None, AS_OF, order)[0] == expected


def test_nine_in_ten_plain_forms_load_and_none_wrongly():
    right = wrong = 0
    for text, order, expected in HAND_TYPED:
        try:
            value = parse_date(text, None, AS_OF, order)[0]
        except ValueProblem:
            continue
        right += value == expected
        wrong += value != expected
    assert wrong == 0
    assert right >= 0.9 * len(HAND_TYPED)


@pytest.mark.parametrize("text", AMBIGUOUS)
def test_a_numeric_date_of_unknown_order_is_never_guessed(text):
    with pytest.raises(ValueProblem) as exc:
        parse_date(text, None, AS_OF)
    assert exc.value.code == "date-ambiguous"
    assert "或" in exc.value.note  # both readings are named


def test_a_column_shows_the_order_of_its_dates():
    assert date_order(["05/01/2022 12:00:03 AM", "09/24/2019 03:10:00 PM"]) == "mdy"
    assert date_order(["05/01/2022", "24/09/2019"]) == "dmy"
    assert date_order(["05/01/2022", "06/01/2022"]) is None
    assert date_order(["24/09/2019", "09/24/2019"]) is None  # contradicts itself: no order


@pytest.mark.parametrize("text", ["2026-10-12 25:00", "2026-10-12 下午13:61", "2026-10-12 abc"])
def test_impossible_times_are_problems(text):
    with pytest.raises(ValueProblem):
        parse_date(text, None, AS_OF)


def test_the_registers_month_shows_the_order_of_its_period_dates():
    assert month_order(["07/11/2026", "02/11/2026 14:00"], "2026-11") == "dmy"  # November: day first
    assert month_order(["11/07/2026", "11/02/2026"], "2026-11") == "mdy"
    assert month_order(["07/11/2026", "11/02/2026"], "2026-11") is None  # contradicts itself
    assert month_order(["11/11/2026", "03/04/2026", "2026-11-05"], "2026-11") is None  # nothing to tell
    assert month_order(["07/11/2025"], "2026-11") is None  # another year says nothing of this month
    assert month_order(["07/11/2026"], None) is None
    assert parse_date("11/07/2026", None, AS_OF, month_order(["07/11/2026"], "2026-11"))[0] == date(
        2026, 7, 11
    )


def test_a_day_alone_is_a_day_of_the_registers_month():
    assert parse_date("3日", 2026, AS_OF, None, "2026-10")[0] == date(2026, 10, 3)
    assert parse_date("12号 下午2点", 2026, AS_OF, None, "2026-10")[0] == datetime(2026, 10, 12, 14, 0)
    assert parse_date("12日14:30", 2026, AS_OF, None, "2026-10")[0] == datetime(2026, 10, 12, 14, 30)
    for text, month in (("3日", None), ("31日", "2026-09"), ("3", "2026-10")):  # no month, no such day, no 日
        with pytest.raises(ValueProblem):
            parse_date(text, 2026, AS_OF, None, month)


def test_a_short_date_is_read_in_the_order_its_sheet_shows():
    assert date_order(["5/11", "28/11"]) == "dmy" and date_order(["11/5", "11/28"]) == "mdy"
    assert month_order(["5/11", "6/11"], "2026-11") == "dmy"
    assert parse_date("5/11", 2026, AS_OF, "dmy")[0] == date(2026, 11, 5)
    assert parse_date("5/11", 2026, AS_OF)[0] == date(
        2026, 5, 11
    )  # no evidence: month first, as written in China


def test_a_month_dot_day_excel_kept_as_a_number():
    """11.5 typed into a General cell is the number 11.5; 11.10 became 11.1 and cannot be told from 11.1."""
    assert parse_date(11.5, 2026, AS_OF)[0] == date(2026, 11, 5)
    assert parse_date(10.25, 2026, AS_OF)[0] == date(2026, 10, 25)
    assert parse_date(2.3, 2026, AS_OF)[0] == date(2026, 2, 3)  # 2.30 is no date
    with pytest.raises(ValueProblem) as exc:
        parse_date(10.1, 2026, AS_OF)
    assert exc.value.code == "date-ambiguous" and "2026-10-01 或 2026-10-10" in exc.value.note
    assert parse_date(45000.5, 2026, datetime(2026, 11, 1))[0] == datetime(2023, 3, 15, 12, 0)  # a serial

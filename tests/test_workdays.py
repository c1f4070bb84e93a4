"""Working days follow the Chinese public-holiday calendar, make-up workdays included."""

from datetime import date

import pytest

from pipeline.workdays import CalendarGap, WorkCalendar

CAL = WorkCalendar()


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (
            date(2026, 9, 30),
            3,
            date(2026, 10, 10),
        ),  # National Day: Oct 1–7 off, Oct 8, 9 and make-up Saturday Oct 10
        (date(2026, 9, 18), 1, date(2026, 9, 20)),  # Friday → make-up Sunday Sep 20 is the next working day
        (
            date(2026, 2, 13),
            3,
            date(2026, 2, 25),
        ),  # Spring Festival: Feb 14 (make-up Sat) counts, Feb 15–23 off
        (date(2026, 10, 12), 3, date(2026, 10, 15)),  # an ordinary week
        (date(2026, 10, 16), 3, date(2026, 10, 21)),  # over a weekend
    ],
    ids=["national-day", "make-up-sunday", "spring-festival", "ordinary-week", "weekend"],
)
def test_urgent_deadline_counts_holidays_and_make_up_days(start, n, expected):
    assert CAL.add_workdays(start, n) == expected


def test_workdays_between_counts_make_up_saturday():
    assert CAL.workdays_between(date(2026, 9, 30), date(2026, 10, 10)) == 3


def test_uncovered_year_is_a_clear_error_not_a_guess():
    with pytest.raises(CalendarGap) as exc:
        CAL.is_workday(date(2031, 5, 6))
    assert "[holidays.2031]" in str(exc.value)


def test_config_supplies_an_uncovered_year():
    cal = WorkCalendar({2031: {"holidays": ("2031-05-01", "2031-05-02"), "workdays": ("2031-05-10",)}})
    assert not cal.is_workday(date(2031, 5, 1))
    assert cal.is_workday(date(2031, 5, 10))  # a make-up Saturday
    assert cal.add_workdays(date(2031, 4, 30), 2) == date(2031, 5, 6)

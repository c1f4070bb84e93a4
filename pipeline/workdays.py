"""Chinese working days: public holidays and make-up workdays (调休) from chinesecalendar,
with config.toml [holidays.<year>] for years the library does not cover yet.

A date that neither covers raises CalendarGap: a deadline is never guessed silently.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar

from pipeline.errors import PipelineError


class CalendarGap(PipelineError):
    def __init__(self, year: int):
        super().__init__(
            f"节假日日历未收录 {year} 年（chinesecalendar 尚无该年数据），无法计算工作日；"
            f"请在 config.toml 中加入 [holidays.{year}]，写明 holidays（放假日）与 workdays（调休上班日）"
        )
        self.year = year


class WorkCalendar:
    def __init__(self, overrides: dict[int, dict[str, tuple[str, ...]]] | None = None):
        self._holidays: dict[int, set[date]] = {}
        self._workdays: dict[int, set[date]] = {}
        for year, spec in (overrides or {}).items():
            self._holidays[year] = {date.fromisoformat(d) for d in spec.get("holidays", ())}
            self._workdays[year] = {date.fromisoformat(d) for d in spec.get("workdays", ())}

    def is_workday(self, day: date) -> bool:
        if day.year in self._holidays:
            if day in self._workdays[day.year]:
                return True
            return day.weekday() < 5 and day not in self._holidays[day.year]
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError as exc:
            raise CalendarGap(day.year) from exc

    def add_workdays(self, start: date, n: int) -> date:
        """The n-th working day after start (start itself not counted)."""
        day = start
        while n > 0:
            day += timedelta(days=1)
            if self.is_workday(day):
                n -= 1
        return day

    def workdays_between(self, start: date, end: date) -> int:
        """Working days after start up to and including end (0 when end <= start)."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_workday(day)
        return count

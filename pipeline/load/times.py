"""A date's time of day kept in a column of its own (受理日期 | 受理时间, 回访日期 | 回访时间), as paper
forms often have it: each row's time joins its date, in the column read.

Both headers name the same register column (a date's header may end in 日期 or 时间), so the second is
a duplicate to the header search; it is a time column when every value it holds is a time of day
(values.time_of_day), and then no duplicate to warn of. A time without its date is no date.
"""

from __future__ import annotations

from datetime import date, datetime, time

from pipeline.load.header import HeaderMatch
from pipeline.load.values import clean_text, is_blank, time_of_day
from pipeline.registers import DATE


def time_columns(rows: list[list], match: HeaderMatch) -> list[tuple[int, int, int]]:
    """(the duplicate's column, the date's column, the time's column) for each date that has its
    time in another column; either may come first."""
    kinds = {col.header: col for col in match.register.columns}
    out = []
    for c, _, canonical in match.duplicates:
        col = kinds[canonical]
        if col.type != DATE:
            continue
        main = match.columns[col.key]
        if _all_times(rows, match.data_start, c):
            out.append((c, main, c))
        elif _all_times(rows, match.data_start, main):
            out.append((c, c, main))
    return out


def _all_times(rows: list[list], start: int, c: int) -> bool:
    values = [row[c] for row in rows[start:] if c < len(row) and not is_blank(row[c])]
    return bool(values) and all(time_of_day(v) is not None for v in values)


def join_times(rows: list[list], match: HeaderMatch, pairs: list[tuple[int, int, int]]) -> None:
    """Each row's date with its time, in place, in the column the register reads (match.columns)."""
    for c, day, clock in pairs:
        main = day if clock == c else clock  # the column read; c, the duplicate, is the other
        for row in rows[match.data_start :]:
            row.extend([None] * (max(c, main) + 1 - len(row)))
            when, at = row[day], row[clock]
            row[main] = when if is_blank(at) or is_blank(when) else _with_time(when, time_of_day(at))


def _with_time(when, at: str | None):
    """The date with the time, as a text the date parser reads; a date that already has a time, or
    that is not a date or a text (an Excel serial number), as it is."""
    if at is None:
        return when
    if isinstance(when, datetime):
        return when if when.time() != time(0) else f"{when.date().isoformat()} {at}"
    if isinstance(when, date):
        return f"{when.isoformat()} {at}"
    if isinstance(when, str):
        text = clean_text(when)
        return when if any(mark in text for mark in (":", "点", "时")) else f"{text} {at}"
    return when

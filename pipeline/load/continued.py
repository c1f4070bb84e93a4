"""A record written over several rows, its number merged down beside them, as on a paper register:

    投诉编号 | 受理日期   | 处理结果     | 完成日期
    TS-001   | 2026-11-03 | 已派工维修   |
    (merged) | (merged)   | 复查已修好   | 2026-11-05

is one complaint, not two with the same number. The rows under the first (continuation rows) are
folded into it before the rows are read: a cell the first row leaves blank takes the continuation's
value; two texts are joined (已派工维修；复查已修好); two different values of any other kind are
joined too, as text, so that the column's check names them rather than one being picked. The
continuation rows are then skipped, and counted (SKIP_REASONS["continued"]).
"""

from __future__ import annotations

from datetime import date, datetime

from pipeline.load.header import HeaderMatch
from pipeline.load.values import is_blank


def continuation_rows(rows: list[list], merged: list, match: HeaderMatch) -> dict[int, int]:
    """Grid row → the first row of its record, for the rows a merged cell of the register's
    number column spans under its first data row."""
    c = match.columns.get(match.register.id_key)
    if c is None:
        return {}
    out: dict[int, int] = {}
    for (r0, c0), (r1, c1) in merged:
        if c0 <= c <= c1 and r1 > r0 >= match.data_start and r0 < len(rows):
            first = rows[r0]
            if c < len(first) and not is_blank(first[c]):
                out.update(dict.fromkeys(range(r0 + 1, min(r1 + 1, len(rows))), r0))
    return out


def fold_continuations(rows: list[list], match: HeaderMatch, continued: dict[int, int]) -> None:
    """Each continuation row's values into its record's first row, in place (module docstring)."""
    for r, f in sorted(continued.items()):
        row, first = rows[r], rows[f]
        for c in match.columns.values():
            value = row[c] if c < len(row) else None
            if is_blank(value):
                continue
            if c >= len(first):
                first.extend([None] * (c + 1 - len(first)))
            have = first[c]
            if is_blank(have):
                first[c] = value
            elif _text(have) != _text(value):
                first[c] = f"{_text(have)}；{_text(value)}"


def _text(value: object) -> str:
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value.strip() if isinstance(value, str) else str(value)

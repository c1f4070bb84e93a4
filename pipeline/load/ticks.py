"""Tick-box columns: a paper form's choice written as one column per value, the chosen one ticked.

    客户满意度                      回访日期 | 满意 | 基本满意 | 不满意
    满意 | 基本满意 | 不满意         2026-11-05 |  √  |          |
     √   |          |

Under a header cell that names a choice column (merged across its values, or with blank cells
beside it), the next row names that column's values; or the header row itself names, side by
side, the values of a choice column it does not otherwise name. Either way the group is folded into
one column before the rows are read: each data row's value is the one value ticked (several
ticked: all of them, which the allowed-values rule then names; none: blank), written into the
group's first cell, where findings point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pipeline.load.header import HeaderMatch, cell_text
from pipeline.load.values import ValueProblem, clean_text, is_blank, parse_bool
from pipeline.registers import CHOICE, ValueList


@dataclass
class TickGroup:
    key: str  # the choice column
    columns: list[tuple[int, str]]  # (grid column, the value its tick means), left to right


def _value(text: str, values: ValueList) -> str | None:
    got = values.read(clean_text(text).replace(" ", "")) if text else None
    return got if got in values.choices else None


def _run(row: list, start: int, values: ValueList, more: Callable[[int], bool]) -> list[tuple[int, str]]:
    """Columns from start on whose text in row is a distinct value of the list, while more(c) holds."""
    out: list[tuple[int, str]] = []
    c = start
    while c < len(row) and (c == start or more(c)):
        value = _value(cell_text(row[c]), values)
        if value is None or value in {v for _, v in out}:
            break
        out.append((c, value))
        c += 1
    return out


def tick_groups(rows: list[list], merged: list, match: HeaderMatch, choices) -> list[TickGroup]:
    """The tick-box groups of the register's choice columns under (or in) the matched header.
    choices(register, key) → ValueList (Config.choices)."""
    register, header = match.register, match.last_row
    top = rows[header]
    below = rows[header + 1] if header + 1 < len(rows) else []
    spans = {c0: c1 for (r0, c0), (r1, c1) in merged if r0 <= header <= r1}
    placed = set(match.columns.values())
    free = [c for c in range(len(top)) if c not in placed and cell_text(top[c])]  # unplaced headers
    groups = []
    for col in register.columns:
        if col.type != CHOICE:
            continue
        c0 = match.columns.get(col.key)
        if c0 is not None:  # the header names the column; its values may sit in the row below

            def beside(c: int, c0=c0) -> bool:
                return c <= spans.get(c0, c0) or (
                    c not in placed and is_blank(top[c] if c < len(top) else None)
                )

            if not beside(c0 + 1):
                continue  # one column: no group (most registers, decided without reading a value)
            run = _run(below, c0, choices(register.key, col.key), beside)
        else:  # the header row itself lists the values, where no other column is placed
            starts = [c for c in free if c + 1 in free]
            if not starts:
                continue
            values = choices(register.key, col.key)
            run = next(
                (r for c in starts if len(r := _run(top, c, values, lambda c: c not in placed)) >= 2), []
            )
        if len(run) >= 2:
            groups.append(TickGroup(col.key, run))
    return groups


def _ticked(value) -> bool:
    """A box with anything in it but a no (×, 否, 0), an empty box (☐ □) or a placeholder (/, -)."""
    if value is None or is_blank(value):
        return False
    try:
        return parse_bool(value) is not False
    except ValueProblem:
        return True  # a word written in the box


def fold_ticks(rows: list[list], match: HeaderMatch, groups: list[TickGroup]) -> None:
    """Fold each group into its first column, in place: the data rows' ticked values, the header's
    place for the column. When the values sat in the row under the header, that row becomes the
    header's last."""
    under = any(match.columns.get(g.key) == g.columns[0][0] for g in groups)
    if under:
        match.last_row += 1
    for g in groups:
        first = g.columns[0][0]
        if match.columns.get(g.key) != first:  # named by its values in the header row
            match.columns[g.key] = first
            match.labels[first] = "/".join(v for _, v in g.columns)
            taken = {c for c, _ in g.columns}
            for found in (match.unknown, match.partial, match.duplicates):
                found[:] = [item for item in found if item[0] not in taken]
    for i in range(match.data_start, len(rows)):
        row = rows[i]
        for g in groups:
            ticked = [v for c, v in g.columns if c < len(row) and _ticked(row[c])]
            if not any(c < len(row) and row[c] is not None for c, _ in g.columns):
                continue  # a blank stays blank (and a blank row stays a blank row)
            for c, _ in g.columns:
                if c < len(row):
                    row[c] = None
            if g.columns[0][0] < len(row):
                row[g.columns[0][0]] = "、".join(ticked) or None

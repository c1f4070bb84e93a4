"""A unit written over several columns: 楼栋 | 单元 | 房号 (3 | 2 | 1201) is the unit 3-2-1201.

Registers that split the address keep only the room under 房号; read alone, two buildings' 1201
would be one unit (a repeat complaint that is none) and every unit would fail the unit-number rule.
The building and 单元 columns beside it are folded into the unit column before the rows are read.
"""

from __future__ import annotations

import re

from pipeline.load.header import HeaderMatch, norm_header
from pipeline.load.values import clean_text, is_blank

BUILDING = frozenset(
    norm_header(h) for h in ("楼栋", "栋号", "楼号", "楼栋号", "栋", "幢", "幢号", "楼宇", "座", "楼座")
)
ENTRANCE = frozenset(norm_header(h) for h in ("单元", "单元号"))
ROOM = frozenset(norm_header(h) for h in ("房号", "室号", "房间号", "户号", "门牌号", "房屋编号"))
_ROOM = re.compile(r"[0-9]{1,5}(?:室|号)?")
_MARK = re.compile(r"\s*(?:号楼|栋|幢|座|#|单元|号)$")  # 3栋 → 3, 2单元 → 2, 8# → 8


def _part(value) -> str:
    text = clean_text(value).replace(" ", "")
    return _MARK.sub("", text) or text


def unit_parts(match: HeaderMatch) -> tuple[int, list[int]] | None:
    """The room's column and the building (and 单元) columns beside it, when the header splits the
    unit so; the match then reads the unit from the room's column (楼号 alone names a unit; beside
    房号, a building) and no longer calls the parts unknown. None: the unit is one column."""
    unit = match.columns.get("unit")
    if unit is None:
        return None
    headers = {unit: match.labels[unit]} | {c: text for c, text, _ in match.unknown + match.duplicates}
    kinds: dict[str, int] = {}
    for c, text in headers.items():
        h = norm_header(text)
        kind = "building" if h in BUILDING else "entrance" if h in ENTRANCE else "room" if h in ROOM else None
        if kind and kind not in kinds:
            kinds[kind] = c
    if "building" not in kinds or "room" not in kinds:
        return None
    room = kinds["room"]
    if room != unit:
        match.columns["unit"] = room
        match.labels[room] = headers[room]
        match.labels.pop(unit, None)
    taken = set(kinds.values())
    for found in (match.unknown, match.duplicates):
        found[:] = [item for item in found if item[0] not in taken]
    return room, [kinds[k] for k in ("building", "entrance") if k in kinds]


def join_unit_parts(rows: list[list], start: int, plan: tuple[int, list[int]]) -> None:
    """In place, from row start on: a room number becomes 栋-单元-室 with the parts given beside it;
    a room cell written whole (3-2-1201, 3栋1201) is kept as the clerk wrote it."""
    room, parts = plan
    for row in rows[start:]:
        if room >= len(row) or is_blank(row[room]):
            continue
        written = clean_text(row[room]).replace(" ", "")
        if not _ROOM.fullmatch(written):
            continue
        given = [_part(row[c]) for c in parts if c < len(row) and not is_blank(row[c])]
        if given:
            row[room] = "-".join([*given, written])

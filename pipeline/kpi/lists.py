"""The lists the Friday meeting works through: open, overdue, 待回访, due soon, repeats, unhappy, set aside.

Each list is a mask over the frames (the concepts of pipeline/domain.py), and only its rows become
dicts. Rows keep the registers' order before a list's own sort (stable), complaints before repairs.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from pipeline.domain import CLOSES, OPENS, called_back, latest_callbacks, numbers, open_at
from pipeline.frames import plain, value
from pipeline.kpi.core import Data, Scope, iso, repeat_complaints

DUE_SOON_DAYS = 7


def _days(since: pd.Series, as_of: datetime) -> pd.Series:
    return (pd.Timestamp(as_of).normalize() - since.dt.normalize()).dt.days


def _first(*values):
    return next((v for v in values if v), None)


def _column(f: pd.DataFrame, key: str) -> list:
    """A column as plain values (None for each row where the frame has no such column)."""
    return plain(f[key]) if key in f.columns else [None] * len(f)


def _day(when) -> str:
    return when.date().isoformat()


def _texts(when: pd.Series, write=iso) -> list:
    """Each date of a column as `write` writes it (iso: the day, or the day and minute; _day: the
    day), worked out once per distinct value: a list of 36,000 rows has a few hundred days. None
    where there is no date."""
    codes, days = pd.factorize(when)
    texts = [write(day) for day in days] + [None]  # code -1 (no date): the last
    return [texts[c] for c in codes.tolist()]


def _records(kind: str | None, columns: dict[str, list]) -> list[dict]:
    """Rows of a list from its columns (each a plain list), `type` first when given."""
    head = {"type": kind} if kind else {}
    return [{**head, **dict(zip(columns, row, strict=True))} for row in zip(*columns.values(), strict=True)]


def open_items(data: Data, as_of: datetime) -> list[dict]:
    """Complaints and repairs open at as-of (domain.open_at), the oldest first."""
    out = []
    for kind, register, what, owner in (
        ("投诉", "complaints", "category", ("department", "handler")),
        ("报修", "repairs", "content", ("worker",)),
    ):
        f = data[register]
        hit = f[open_at(f, register, as_of)]
        since = hit[OPENS[register]]
        owners = zip(*(_column(hit, k) for k in owner), strict=True)
        columns = {
            "id": _column(hit, "id"),
            "property": _column(hit, "_property"),
            "unit": _column(hit, "unit"),
            "what": _column(hit, what),
            "since": _texts(since),
            "age_days": _days(since, as_of).tolist(),
            "owner": [_first(*names) for names in owners],
            "deadline": _texts(hit["promised"]) if register == "complaints" else [None] * len(hit),
            "person": _column(hit, "person"),
            "phone": _column(hit, "phone"),
        }
        out.extend(_records(kind, columns))
    return sorted(out, key=lambda x: -x["age_days"])


def _unanswered(f: pd.DataFrame, key: str, as_of: datetime) -> pd.Series:
    """Not answered by as-of: no `key` date, or one after as-of."""
    return ~(f[key] <= as_of)


def overdue_items(data: Data, as_of: datetime) -> list[dict]:
    """Complaints past their promised reply and re-inspections past their deadline, unanswered."""
    today = pd.Timestamp(as_of).normalize()
    c = data["complaints"]
    late = c["promised"].notna() & _unanswered(c, "replied", as_of) & (c["received"] <= as_of)
    hit = c[late & (c["promised"].dt.normalize() < today)]
    complaints = {
        "id": _column(hit, "id"),
        "property": _column(hit, "_property"),
        "deadline": _texts(hit["promised"]),
        "days_overdue": _days(hit["promised"], as_of).tolist(),
        "owner": [a or b for a, b in zip(_column(hit, "department"), _column(hit, "handler"), strict=True)],
    }
    r = data["reinspections"]
    hit = r[_unanswered(r, "notified", as_of) & (r["_due"] < today)]
    reinspections = {
        "id": _column(hit, "id"),
        "property": _column(hit, "_property"),
        "deadline": _texts(hit["_due"], _day),
        "days_overdue": _days(hit["_due"], as_of).tolist(),
        "owner": _column(hit, "inspectors"),
    }
    out = _records("投诉逾期未答复", complaints) + _records("复检逾期未答复", reinspections)
    return sorted(out, key=lambda x: -x["days_overdue"])


def pending_callbacks(data: Data, as_of: datetime) -> list[dict]:
    """待回访: complaints and repairs closed by as-of without a callback on or after closing
    (domain.called_back, the callbacks dated by as-of)."""
    latest = data.latest if as_of == data.as_of else latest_callbacks(data["callbacks"], as_of)
    out = []
    for kind, register, owner in (("投诉", "complaints", "handler"), ("报修", "repairs", "worker")):
        f = data[register]
        closed = f[CLOSES[register]]
        hit = f[(closed <= as_of) & ~called_back(f, register, latest)]
        when = hit[CLOSES[register]]
        columns = {
            "id": _column(hit, "id"),
            "property": _column(hit, "_property"),
            "unit": _column(hit, "unit"),
            "closed": _texts(when),
            "days_waiting": _days(when, as_of).tolist(),
            "owner": _column(hit, owner),
            "person": _column(hit, "person"),
            "phone": _column(hit, "phone"),
        }
        out.extend(_records(kind, columns))
    return sorted(out, key=lambda x: -x["days_waiting"])


def reinspections_due_soon(data: Data, as_of: datetime, days: int = DUE_SOON_DAYS) -> list[dict]:
    """Re-inspections not yet answered whose deadline falls within the next `days` days."""
    today = pd.Timestamp(as_of).normalize()
    r = data["reinspections"]
    soon = (
        _unanswered(r, "notified", as_of) & (r["_due"] >= today) & (r["_due"] <= today + timedelta(days=days))
    )
    hit = r[soon]
    columns = {
        "id": _column(hit, "id"),
        "property": _column(hit, "_property"),
        "deadline": _texts(hit["_due"], _day),
        "urgent": [bool(u) for u in _column(hit, "urgent")],
        "days_left": (-_days(hit["_due"], as_of)).tolist(),
        "owner": _column(hit, "inspectors"),
    }
    return sorted(_records(None, columns), key=lambda x: x["days_left"])


def unhappy_feedback(data: Data, as_of: datetime) -> list[dict]:
    """不满意 feedback not yet handled again; its complaint within its property (domain.attribute
    has given feedback that named none its complaint's property)."""
    f = data["feedback"]
    unhappy = (
        (f["satisfaction"] == "不满意").fillna(False)
        & _unanswered(f, "reopened", as_of)
        & (f["date"] <= as_of)
    )
    hit = f[unhappy]
    c = data["complaints"]
    named = c[numbers(c).isin(numbers(hit, "complaint_id").dropna()).to_numpy(dtype=bool)]
    department = pd.Series(named["department"].to_numpy(), index=numbers(named))  # only those named
    department = department[department.index.notna()]
    department = department[~department.index.duplicated(keep="last")]  # a number given twice: its last
    columns = {
        "id": _column(hit, "id"),
        "complaint_id": _column(hit, "complaint_id"),
        "property": _column(hit, "_property"),
        "date": _texts(hit["date"]),
        "days_waiting": _days(hit["date"], as_of).tolist(),
        "owner": [value(owner) for owner in numbers(hit, "complaint_id").map(department).tolist()],
    }
    return _records(None, columns)


def meeting_lists(data: Data, scope: Scope, set_aside: list[dict]) -> dict:
    """The lists for the meeting, as they stand at the scope's stop."""
    as_of = scope.stop
    return {
        "open": open_items(data, as_of),
        "overdue": overdue_items(data, as_of),
        "pending_callbacks": pending_callbacks(data, as_of),
        "reinspections_due_soon": reinspections_due_soon(data, as_of),
        "repeat_complaints": repeat_complaints(data["complaints"], scope),
        "unhappy_feedback": unhappy_feedback(data, as_of),
        "set_aside": set_aside,
    }

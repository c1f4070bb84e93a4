"""The lists the Friday meeting works through: open, overdue, 待回访, due soon, repeats, unhappy, set aside."""

from __future__ import annotations

from datetime import datetime, timedelta

from pipeline.domain import (
    CLOSES,
    OPENS,
    Terms,
    callback_index,
    called_back,
    is_open,
    numbered,
    reinspection_deadline,
)
from pipeline.kpi.core import Records, Scope, _iso, repeat_complaints
from pipeline.workdays import CalendarGap, WorkCalendar

DEFAULT_TERMS = Terms()


def _age(since: datetime, as_of: datetime) -> int:
    return (as_of.date() - since.date()).days


def open_items(data: Records, as_of: datetime) -> list[dict]:
    """Complaints and repairs open at as-of (domain.is_open), the oldest first."""
    out = []
    for kind, register, what, owner in (
        ("投诉", "complaints", "category", ("department", "handler")),
        ("报修", "repairs", "content", ("worker",)),
    ):
        for rec in getattr(data, register):
            if not is_open(rec, register, as_of):
                continue
            since = rec[OPENS[register]]
            out.append(
                {
                    "type": kind,
                    "id": rec.get("id"),
                    "property": rec["_property"],
                    "unit": rec.get("unit"),
                    "what": rec.get(what),
                    "since": _iso(since),
                    "age_days": _age(since, as_of),
                    "owner": next((rec.get(k) for k in owner if rec.get(k)), None),
                    "deadline": _iso(rec.get("promised")) if register == "complaints" else None,
                    "person": rec.get("person"),
                    "phone": rec.get("phone"),
                }
            )
    return sorted(out, key=lambda x: -x["age_days"])


def overdue_items(
    data: Records, as_of: datetime, calendar: WorkCalendar, terms: Terms = DEFAULT_TERMS
) -> list[dict]:
    out = []
    for c in data.complaints:
        promised = c.get("promised")
        replied = c.get("replied") if c.get("replied") and c["replied"] <= as_of else None
        if (
            promised
            and not replied
            and c.get("received")
            and c["received"] <= as_of
            and as_of.date() > promised.date()
        ):
            out.append(
                {
                    "type": "投诉逾期未答复",
                    "id": c.get("id"),
                    "property": c["_property"],
                    "deadline": _iso(promised),
                    "days_overdue": (as_of.date() - promised.date()).days,
                    "owner": c.get("department") or c.get("handler"),
                }
            )
    for r in data.reinspections:
        notified = r.get("notified") if r.get("notified") and r["notified"] <= as_of else None
        due = _deadline(r, calendar, terms)
        if due and not notified and as_of.date() > due:
            out.append(
                {
                    "type": "复检逾期未答复",
                    "id": r.get("id"),
                    "property": r["_property"],
                    "deadline": due.isoformat(),
                    "days_overdue": (as_of.date() - due).days,
                    "owner": r.get("inspectors"),
                }
            )
    return sorted(out, key=lambda x: -x["days_overdue"])


def _deadline(r: dict, calendar: WorkCalendar, terms: Terms):
    try:
        return reinspection_deadline(r, calendar, terms)
    except CalendarGap:  # the rule reports the gap (calendar-missing); the lists leave the case out
        return None


def pending_callbacks(data: Records, as_of: datetime, callbacks: dict | None = None) -> list[dict]:
    """待回访: closed complaints and repairs without a callback on or after closing (domain.called_back).

    callbacks: the callback index of `data` at as-of, when the caller has it already."""
    callbacks = callback_index(data.callbacks, as_of) if callbacks is None else callbacks
    out = []
    for kind, register, owner in (("投诉", "complaints", "handler"), ("报修", "repairs", "worker")):
        for rec in getattr(data, register):
            closed = rec.get(CLOSES[register])
            if closed and closed <= as_of and not called_back(rec, register, callbacks):
                out.append(
                    {
                        "type": kind,
                        "id": rec.get("id"),
                        "property": rec["_property"],
                        "unit": rec.get("unit"),
                        "closed": _iso(closed),
                        "days_waiting": _age(closed, as_of),
                        "owner": rec.get(owner),
                        "person": rec.get("person"),
                        "phone": rec.get("phone"),
                    }
                )
    return sorted(out, key=lambda x: -x["days_waiting"])


def reinspections_due_soon(
    data: Records, as_of: datetime, calendar: WorkCalendar, terms: Terms = DEFAULT_TERMS, days: int = 7
) -> list[dict]:
    out = []
    for r in data.reinspections:
        if r.get("notified") and r["notified"] <= as_of:
            continue
        due = _deadline(r, calendar, terms)
        if due and as_of.date() <= due <= as_of.date() + timedelta(days=days):
            out.append(
                {
                    "id": r.get("id"),
                    "property": r["_property"],
                    "deadline": due.isoformat(),
                    "urgent": bool(r.get("urgent")),
                    "days_left": (due - as_of.date()).days,
                    "owner": r.get("inspectors"),
                }
            )
    return sorted(out, key=lambda x: x["days_left"])


def unhappy_feedback(data: Records, as_of: datetime) -> list[dict]:
    """不满意 feedback not yet handled again; its complaint within its property (domain.attribute
    has given feedback that named none its complaint's property)."""
    by_number = {numbered(c): c for c in data.complaints}
    out = []
    for f in data.feedback:
        reopened = f.get("reopened") if f.get("reopened") and f["reopened"] <= as_of else None
        if f.get("satisfaction") == "不满意" and not reopened and f.get("date") and f["date"] <= as_of:
            c = by_number.get(numbered(f, "complaint_id")) or {}
            out.append(
                {
                    "id": f.get("id"),
                    "complaint_id": f.get("complaint_id"),
                    "property": f.get("_property"),
                    "date": _iso(f["date"]),
                    "days_waiting": _age(f["date"], as_of),
                    "owner": c.get("department"),
                }
            )
    return out


def meeting_lists(
    data: Records,
    scope: Scope,
    calendar: WorkCalendar,
    set_aside: list[dict],
    callbacks: dict | None = None,
    terms: Terms = DEFAULT_TERMS,
) -> dict:
    """The lists for the meeting, as they stand at the scope's stop. callbacks: the callback index
    at that time, when the caller has it (a weekly run's stop is its as-of time)."""
    as_of = scope.stop
    return {
        "open": open_items(data, as_of),
        "overdue": overdue_items(data, as_of, calendar, terms),
        "pending_callbacks": pending_callbacks(data, as_of, callbacks),
        "reinspections_due_soon": reinspections_due_soon(data, as_of, calendar, terms),
        "repeat_complaints": repeat_complaints(data, scope),
        "unhappy_feedback": unhappy_feedback(data, as_of),
        "set_aside": set_aside,
    }

"""The lists the Friday meeting works through: open, overdue, 待回访, due soon, repeats, unhappy, set aside."""

from __future__ import annotations

from datetime import datetime, timedelta

from pipeline.kpi import Records, Scope, _callback_index, _has_callback, _iso, repeat_complaints
from pipeline.validate.rules import numbered, reinspection_deadline
from pipeline.workdays import CalendarGap, WorkCalendar


def _age(since: datetime, as_of: datetime) -> int:
    return (as_of.date() - since.date()).days


def open_items(data: Records, as_of: datetime) -> list[dict]:
    out = []
    for c in data.complaints:
        if c.get("received") and c["received"] <= as_of and not (c.get("closed") and c["closed"] <= as_of):
            out.append(
                {
                    "type": "投诉",
                    "id": c.get("id"),
                    "property": c["_property"],
                    "unit": c.get("unit"),
                    "what": c.get("category"),
                    "since": _iso(c["received"]),
                    "age_days": _age(c["received"], as_of),
                    "owner": c.get("department") or c.get("handler"),
                    "deadline": _iso(c.get("promised")),
                    "person": c.get("person"),
                    "phone": c.get("phone"),
                }
            )
    for r in data.repairs:
        if (
            r.get("reported")
            and r["reported"] <= as_of
            and not (r.get("completed") and r["completed"] <= as_of)
        ):
            out.append(
                {
                    "type": "报修",
                    "id": r.get("id"),
                    "property": r["_property"],
                    "unit": r.get("unit"),
                    "what": r.get("content"),
                    "since": _iso(r["reported"]),
                    "age_days": _age(r["reported"], as_of),
                    "owner": r.get("worker"),
                    "deadline": None,
                    "person": r.get("person"),
                    "phone": r.get("phone"),
                }
            )
    return sorted(out, key=lambda x: -x["age_days"])


def overdue_items(data: Records, as_of: datetime, calendar: WorkCalendar) -> list[dict]:
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
        due = _deadline(r, calendar)
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


def _deadline(r: dict, calendar: WorkCalendar):
    flat = {k: (v.date().isoformat() if isinstance(v, datetime) else v) for k, v in r.items()}
    try:
        return reinspection_deadline(flat, calendar)
    except CalendarGap:
        return None


def pending_callbacks(data: Records, as_of: datetime, callbacks: dict | None = None) -> list[dict]:
    """待回访: closed complaints and repairs without a callback on or after closing.

    callbacks: the callback index of `data` at as-of, when the caller has it already."""
    callbacks = _callback_index(data, as_of) if callbacks is None else callbacks
    out = []
    for kind, items, key, owner in (
        ("投诉", data.complaints, "closed", "handler"),
        ("报修", data.repairs, "completed", "worker"),
    ):
        for rec in items:
            closed = rec.get(key)
            if closed and closed <= as_of and not _has_callback(rec, closed, callbacks):
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
    data: Records, as_of: datetime, calendar: WorkCalendar, days: int = 7
) -> list[dict]:
    out = []
    for r in data.reinspections:
        if r.get("notified") and r["notified"] <= as_of:
            continue
        due = _deadline(r, calendar)
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
    by_number = {numbered(c): c for c in data.complaints}
    by_id = {c.get("id"): c for c in data.complaints}  # for feedback that names no property
    out = []
    for f in data.feedback:
        reopened = f.get("reopened") if f.get("reopened") and f["reopened"] <= as_of else None
        if f.get("satisfaction") == "不满意" and not reopened and f.get("date") and f["date"] <= as_of:
            number = f.get("complaint_id")
            c = (
                by_number.get(numbered(f, "complaint_id")) if f.get("_property") else by_id.get(number)
            ) or {}
            out.append(
                {
                    "id": f.get("id"),
                    "complaint_id": f.get("complaint_id"),
                    "property": f.get("_property") or c.get("_property"),
                    "date": _iso(f["date"]),
                    "days_waiting": _age(f["date"], as_of),
                    "owner": c.get("department"),
                }
            )
    return out


def meeting_lists(
    data: Records, scope: Scope, calendar: WorkCalendar, set_aside: list[dict], callbacks: dict | None = None
) -> dict:
    """The lists for the meeting, as they stand at the scope's stop. callbacks: the callback index
    at that time, when the caller has it (a weekly run's stop is its as-of time)."""
    as_of = scope.stop
    return {
        "open": open_items(data, as_of),
        "overdue": overdue_items(data, as_of, calendar),
        "pending_callbacks": pending_callbacks(data, as_of, callbacks),
        "reinspections_due_soon": reinspections_due_soon(data, as_of, calendar),
        "repeat_complaints": repeat_complaints(data, scope),
        "unhappy_feedback": unhappy_feedback(data, as_of),
        "set_aside": set_aside,
    }

"""Records + period → the KPI model (what kpis.json serialises). Pure functions, no I/O.

Definitions follow DOMAIN.md. Conventions:
- A date without a time counts at 00:00 of that day; nothing after the as-of time counts.
- A period is [start, end); the as-of time cuts it short.
- A rate with an empty denominator has value None and says so; it is never 0 or 100%.
"""

from __future__ import annotations

import statistics
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from operator import itemgetter

from pipeline.config import Config
from pipeline.domain import (
    CLOSES,
    Terms,
    as_datetime,
    callback_index,
    called_back,
    is_open,
    open_span,
    reinspection_deadline,
)
from pipeline.registers import DATE, REGISTERS
from pipeline.workdays import CalendarGap, WorkCalendar

RATE_KEYS = (
    "callback_rate",
    "reply_rate",
    "promise_kept_rate",
    "same_day_verification_rate",
    "effective_complaint_rate",
    "effective_complaint_rate_ytd",
    "callback_followup_rate",
    "reinspection_on_time_rate",
    "satisfaction_rate",
)
COMPLAINT_KEYS = (
    "callback_rate",
    "reply_rate",
    "promise_kept_rate",
    "same_day_verification_rate",
    "satisfaction_rate",
)
GOOD = ("满意", "基本满意")
BLANK_FOLLOWUP = ("", "无", "没有", "/")


def kpi(numerator: int, denominator: int, target: float | None, direction: str = ">=") -> dict:
    if denominator == 0:
        return {
            "value": None,
            "numerator": numerator,
            "denominator": 0,
            "target": target,
            "direction": direction,
            "met": None,
            "note": "本期无数据",
        }
    value = numerator / denominator
    met = None if target is None else (value >= target - 1e-12 if direction == ">=" else value < target)
    return {
        "value": value,
        "numerator": numerator,
        "denominator": denominator,
        "target": target,
        "direction": direction,
        "met": met,
    }


@dataclass
class Records:
    """The current records of every register, with dates parsed once."""

    complaints: list[dict] = field(default_factory=list)
    callbacks: list[dict] = field(default_factory=list)
    reinspections: list[dict] = field(default_factory=list)
    feedback: list[dict] = field(default_factory=list)
    repairs: list[dict] = field(default_factory=list)
    _index: dict = field(default_factory=dict, repr=False, compare=False)
    _asked: set = field(default_factory=set, repr=False, compare=False)

    def between(
        self, register: str, key: str, start: datetime, stop: datetime, where: str | None = None
    ) -> list[dict]:
        """Records whose date `key` lies in [start, stop) (and whose field `where`, if given, is
        True), in date order, ties in register order.

        A slot asked once is scanned once; asked again (by 24 trend periods, or by the slices of
        kpi.slices, which deal out the group's windows), the register is sorted by that date and
        each window is two bisections of it."""
        slot = (register, key, where)
        if slot not in self._index and slot not in self._asked:
            self._asked.add(slot)
            rows = [
                r
                for r in getattr(self, register)
                if (when := r.get(key)) is not None
                and start <= when < stop
                and (where is None or r.get(where) is True)
            ]
            rows.sort(key=itemgetter(key))
            return rows
        dates, rows = self._sorted(slot)
        return rows[bisect_left(dates, start) : bisect_left(dates, stop)]

    def _sorted(self, slot: tuple[str, str, str | None]) -> tuple[list, list[dict]]:
        idx = self._index.get(slot)
        if idx is None:
            register, key, where = slot
            if where is None:
                rows = sorted(
                    (r for r in getattr(self, register) if r.get(key) is not None), key=itemgetter(key)
                )
            else:
                rows = [r for r in self._sorted((register, key, None))[1] if r.get(where) is True]
            idx = self._index[slot] = ([r[key] for r in rows], rows)
        return idx

    def open_complaints_at(self, stop: datetime) -> int:
        """Complaints open at `stop` (domain.is_open): counted, or for a slice asked again, those
        received before it minus those whose open span ended before it (two bisections;
        tests/test_kpi.py checks the two agree)."""
        if ("open",) not in self._asked:
            self._asked.add(("open",))
            return sum(1 for c in self.complaints if is_open(c, "complaints", stop))
        received, _ = self._sorted(("complaints", "received", None))
        done = self._index.get(("complaints", "done"))
        if done is None:
            done = self._index[("complaints", "done")] = sorted(
                ended for c in self.complaints if (ended := open_span(c, "complaints")[1]) is not None
            )
        return bisect_left(received, stop) - bisect_left(done, stop)

    @classmethod
    def from_store(cls, raw: dict[str, list[dict]], in_place: bool = False) -> Records:
        """Parse the dates of the store's records once. in_place: the caller hands over fresh dicts
        (as Store.records returns them) and they are parsed without a copy, halving the memory."""
        out = cls()
        seen: dict = {None: None}  # each distinct date text parsed once, its datetime shared
        for key, recs in raw.items():
            date_keys = [c.key for c in REGISTERS[key].columns if c.type == DATE]
            parsed = recs if in_place else []
            for r in recs:
                p = r if in_place else dict(r)
                for k in date_keys:
                    text = r.get(k)
                    when = seen.get(text, False)
                    if when is False:
                        when = seen[text] = as_datetime(text)
                    p[k] = when
                p["_property"] = r.get("_property") or r.get("property")
                if not in_place:
                    parsed.append(p)
            setattr(out, key, parsed)
        return out


def _in(when: datetime | None, start: datetime, end: datetime) -> bool:
    return when is not None and start <= when < end


def _day(when: datetime | None) -> date | None:
    return when.date() if when else None


@dataclass
class Scope:
    """What the KPIs of one period see: its window cut at the as-of time."""

    start: datetime
    end: datetime
    as_of: datetime

    @property
    def stop(self) -> datetime:
        return min(self.end, self.as_of)


def _called_back(rows: list[dict], register: str, callbacks: dict[tuple, date]) -> list[dict]:
    """The closed rows that have a callback on or after closing (domain.called_back)."""
    return [r for r in rows if called_back(r, register, callbacks)]


def _group(items, key):
    groups = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return groups


def ref(rec: dict) -> str:
    """How a record is named in a trace: the store's row id when known, else the register id."""
    return str(rec.get("_id") or rec.get("id"))


def _rate(
    out: dict, trace: dict | None, key: str, members: list[dict], hit, target, direction: str = ">="
) -> None:
    """out[key]: the share of members that hit (a test of one member, or the list of those that do)."""
    numerator = hit if isinstance(hit, list) else [m for m in members if hit(m)]
    out[key] = kpi(len(numerator), len(members), target, direction)
    if trace is not None:
        trace[key] = {"numerator": [ref(m) for m in numerator], "denominator": [ref(m) for m in members]}
        trace.setdefault("_records", {}).update({ref(m): m for m in members})


def compute_set(
    data: Records,
    scope: Scope,
    config: Config,
    households: int | None,
    calendar: WorkCalendar,
    ytd_start: datetime,
    callbacks: dict[tuple, date] | None = None,
    trace: dict | None = None,
    repeats: bool = True,
) -> dict:
    """Every KPI over one slice of the records (the company, a property, a department …).

    trace, when given, receives for each rate the records behind its numerator and denominator.
    repeats: count repeat complaints (callers that show only rates, like the trends, skip them).
    """
    t = config.targets
    callbacks = callbacks if callbacks is not None else callback_index(data.callbacks, scope.as_of)
    out: dict = {}
    closed_c = data.between("complaints", CLOSES["complaints"], scope.start, scope.stop)
    closed_r = data.between("repairs", CLOSES["repairs"], scope.start, scope.stop)
    _rate(
        out,
        trace,
        "callback_rate",
        closed_c + closed_r,
        _called_back(closed_c, "complaints", callbacks) + _called_back(closed_r, "repairs", callbacks),
        t["callback_rate"],
    )

    _rate(
        out,
        trace,
        "reply_rate",
        closed_c,
        lambda c: c.get("replied") and c["replied"] <= scope.as_of,
        t["reply_rate"],
    )

    replies = [c for c in data.between("complaints", "replied", scope.start, scope.stop) if c.get("promised")]
    _rate(
        out,
        trace,
        "promise_kept_rate",
        replies,
        lambda c: c["replied"].date() <= c["promised"].date(),
        t["promise_kept_rate"],
    )

    received = data.between("complaints", "received", scope.start, scope.stop)
    _rate(
        out,
        trace,
        "same_day_verification_rate",
        received,
        lambda c: c.get("verified") and c["verified"].date() == c["received"].date(),
        t["same_day_verification_rate"],
    )

    valid = [c for c in received if c.get("valid") is True]
    days_in_year = 366 if _leap(scope.start.year) else 365
    share = (scope.end - scope.start).days / days_in_year
    # Judged once, where the target is set: on the year to date ("year"), or on a month's own figure
    # ("month"). A week's (or, under "year", a month's) own figure is context, never judged against a
    # pro-rata share of the year's 1% (one week is 1%/52: red almost every week).
    judged = config.effective_complaint_period == "month" and share > 0.05
    period = _household_rate(len(valid), households, t["effective_complaint_rate"] if judged else None)
    if not judged and period["value"] is not None:
        period["note"] = "本期情况，供参考；目标按全年累计考核"
    out["effective_complaint_rate"] = period
    ytd_valid = data.between("complaints", "received", ytd_start, scope.stop, where="valid")
    year_target = t["effective_complaint_rate"] if config.effective_complaint_period == "year" else None
    ytd = _household_rate(len(ytd_valid), households, year_target)
    elapsed = (min(scope.stop, scope.end) - ytd_start).total_seconds() / (days_in_year * 86400)
    ytd["pace"] = round(t["effective_complaint_rate"] * max(0.0, min(1.0, elapsed)), 6)
    out["effective_complaint_rate_ytd"] = ytd
    if trace is not None:
        trace["effective_complaint_rate"] = {"numerator": [ref(c) for c in valid], "denominator": []}
        trace["effective_complaint_rate_ytd"] = {"numerator": [ref(c) for c in ytd_valid], "denominator": []}
        trace.setdefault("_records", {}).update({ref(c): c for c in ytd_valid})

    cbs = data.between("callbacks", "date", scope.start, scope.stop)
    problems = [cb for cb in cbs if cb.get("satisfaction") == "不满意" or cb.get("solved") is False]
    _rate(
        out,
        trace,
        "callback_followup_rate",
        problems,
        lambda cb: (cb.get("followup") or "") not in BLANK_FOLLOWUP or cb.get("followup_date"),
        t["callback_followup_rate"],
    )

    done, turnaround, gaps, due_of, terms = [], [], [], {}, Terms.of(config)
    for r in data.between("reinspections", "notified", scope.start, scope.stop):
        try:
            due_of[id(r)] = reinspection_deadline(r, calendar, terms)
        except CalendarGap as gap:
            gaps.append(str(gap))
            continue
        done.append(r)
        start = r.get("accepted") or r.get("appealed")
        if start:
            turnaround.append((r["notified"].date() - start.date()).days)
    _rate(
        out,
        trace,
        "reinspection_on_time_rate",
        done,
        lambda r: due_of[id(r)] is not None and r["notified"].date() <= due_of[id(r)],
        t["reinspection_on_time_rate"],
    )
    if gaps:
        out["reinspection_on_time_rate"]["error"] = gaps[0]
    out["reinspection_turnaround_days"] = _distribution(turnaround)

    rated = [f for f in data.between("feedback", "date", scope.start, scope.stop) if f.get("satisfaction")]
    rated += [cb for cb in cbs if cb.get("satisfaction")]
    _rate(out, trace, "satisfaction_rate", rated, lambda r: r["satisfaction"] in GOOD, t["satisfaction_rate"])

    if repeats:
        found = repeat_complaints(data, scope)
        out["repeat_complaints"] = {
            "value": len(found),
            "numerator": len(found),
            "denominator": len(received),
            "target": None,
            "direction": "info",
            "met": None,
        }
    out["counts"] = {
        "complaints_received": len(received),
        "complaints_closed": len(closed_c),
        "complaints_open": data.open_complaints_at(scope.stop),
        "repairs_reported": len(data.between("repairs", "reported", scope.start, scope.stop)),
        "repairs_completed": len(closed_r),
        "callbacks": len(cbs),
        "valid_complaints": len(valid),
        "compensation": round(sum(c.get("compensation") or 0 for c in received), 2),
    }
    return out


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _household_rate(valid: int, households: int | None, target: float | None) -> dict:
    if households is None:
        out = kpi(valid, 0, target, "<")
        out["note"] = "未登记户数"
        return out
    return kpi(valid, households, target, "<")


def _distribution(days: list[int]) -> dict:
    if not days:
        return {"median": None, "p90": None, "max": None, "count": 0, "note": "本期无数据"}
    ordered = sorted(days)
    p90 = ordered[min(len(ordered) - 1, max(0, -(-9 * len(ordered) // 10) - 1))]
    return {
        "median": statistics.median(ordered),
        "p90": p90,
        "max": ordered[-1],
        "count": len(ordered),
        "values": ordered,
    }


def repeat_complaints(data: Records, scope: Scope, window: int = 30) -> list[dict]:
    """Complaints received in the scope with an earlier one for the same unit and category within 30 days."""
    recent = data.between("complaints", "received", scope.start - timedelta(days=window), scope.stop)
    by_key = _group(
        [c for c in recent if c.get("unit") and c.get("category")],
        lambda c: (c.get("_property"), c["unit"], c["category"]),
    )
    out = []
    for items in by_key.values():
        items.sort(key=lambda c: c["received"])
        for prev, cur in zip(items, items[1:], strict=False):
            if _in(cur["received"], scope.start, scope.stop) and cur["received"] - prev[
                "received"
            ] <= timedelta(days=window):
                out.append(
                    {
                        "id": cur.get("id"),
                        "previous_id": prev.get("id"),
                        "property": cur.get("_property"),
                        "unit": cur["unit"],
                        "category": cur["category"],
                        "received": _iso(cur["received"]),
                        "previous_received": _iso(prev["received"]),
                        "days_apart": (cur["received"].date() - prev["received"].date()).days,
                    }
                )
    return sorted(out, key=lambda r: (r["property"] or "", r["received"]))


def _iso(when) -> str | None:
    if when is None:
        return None
    if isinstance(when, datetime) and when.time() == datetime.min.time():
        return when.date().isoformat()
    return when.isoformat(timespec="minutes") if isinstance(when, datetime) else str(when)

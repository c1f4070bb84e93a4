"""The department's concepts, each defined once. Rules, KPIs, lists and reports call these; before
writing a predicate about cases, look here for its twin.

- a case's number names it within its property (`numbered`): each centre of a group numbers its own
  registers, so two centres' TS-001 are two complaints;
- the property a record belongs to (`attribute`): its own, or, for feedback that names none, the
  property of the complaint it follows when exactly one property has that number (when several do,
  the feedback is ambiguous: the rules set it aside, `feedback_owners`);
- open at a time (`is_open`), closed (`CLOSES`), called back after closing (`callback_index`,
  `called_back`);
- the deadline of a re-inspection's written notice under the config and the working-day calendar
  (`Terms`, `reinspection_deadline`).

Records are the store's dicts. Their dates are ISO texts in the store and the rules ("2026-10-08",
"2026-10-08 14:30") and datetimes once the KPIs have parsed them: `day` and `moment` take either.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import pandas as pd

from pipeline.workdays import CalendarGap, WorkCalendar

OPENS = {"complaints": "received", "repairs": "reported"}  # when a case starts
CLOSES = {"complaints": "closed", "repairs": "completed"}  # when it is done (and due a callback)


# --- dates ----------------------------------------------------------------------------------------


def as_date(value) -> date | None:
    return _date(value) if isinstance(value, str) and len(value) >= 10 else None


def as_datetime(value) -> datetime | None:
    return _datetime(value) if isinstance(value, str) and len(value) >= 10 else None


def day(value) -> date | None:
    """The day of a stored date text, a datetime or a date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return as_date(value)


def moment(value) -> datetime | None:
    """A stored date text or a datetime as a datetime."""
    return value if isinstance(value, datetime) else as_datetime(value)


# The rules read the same few thousand date texts a million times over: parse each once.
@lru_cache(maxsize=1 << 16)
def _date(text: str) -> date:
    return date.fromisoformat(text[:10])


@lru_cache(maxsize=1 << 16)
def _datetime(text: str) -> datetime:
    if len(text) > 10:
        return datetime.fromisoformat(text)
    return datetime.combine(date.fromisoformat(text), datetime.min.time())


def forget_parsed_dates() -> None:
    """Empty the date-parsing caches once the records are gone (their texts and dates would keep
    the freed records' memory from going back to the system)."""
    _date.cache_clear()
    _datetime.cache_clear()


# --- numbers and properties -----------------------------------------------------------------------


def numbered(rec: dict, field: str = "id") -> tuple:
    """How a register number names a case: within its property (two centres' TS-001 are two)."""
    return rec.get("_property"), rec.get(field)


def feedback_owners(complaints: Iterable[dict]) -> dict[str, set[str]]:
    """Complaint number → the properties that have a complaint of that number."""
    owners: dict[str, set[str]] = defaultdict(set)
    for c in complaints:
        if c.get("id") is not None and c.get("_property") is not None:
            owners[c["id"]].add(c["_property"])
    return owners


def attribute(records: dict[str, list[dict]], complaints=None) -> None:
    """Give feedback that names no property the property of its complaint, where exactly one
    property has that number among the loaded complaints (valid or not: a complaint set aside for
    a bad category still says which centre it was made to). Done before the rules run, and again
    on records read back from the store, so that the group's report and each property's own report
    count the same feedback in the same place; what stays unattributed the rules set aside.

    complaints: the loaded complaints to take the numbers from (or a function returning them,
    called only when some feedback waits), when `records` holds only those that passed the rules."""
    waiting = [f for f in records.get("feedback", []) if f.get("_property") is None and f.get("complaint_id")]
    if not waiting:
        return
    source = records.get("complaints", []) if complaints is None else complaints
    owners = feedback_owners(source() if callable(source) else source)
    for f in waiting:
        found = owners.get(f["complaint_id"], ())
        if len(found) == 1:
            f["_property"] = next(iter(found))


# --- open, closed, called back ----------------------------------------------------------------------


def open_span(rec: dict, register: str) -> tuple[datetime | None, datetime | None]:
    """When a case was open: from its start to its end. It ends when it closed; a closing dated
    before the start counts from the start (the date-order rule reports it). (None, None) for a
    case with no start; (start, None) for one still open."""
    started = moment(rec.get(OPENS[register]))
    if started is None:
        return None, None
    closed = moment(rec.get(CLOSES[register]))
    return started, (None if closed is None else max(started, closed))


def is_open(rec: dict, register: str, at: datetime) -> bool:
    """Started before `at` and not ended before it (open_span). The KPIs' counts bisect the sorted
    starts and ends of open_span instead: the same answer for many instants."""
    started, ended = open_span(rec, register)
    return started is not None and started < at and not (ended is not None and ended < at)


def callback_index(callbacks: Iterable[dict], as_of: datetime) -> dict[tuple, date]:
    """(property, number) → the day of its latest callback dated by as-of."""
    latest: dict[tuple, date] = {}
    for cb in callbacks:
        when = moment(cb.get("date"))
        if cb.get("ref") and when is not None and when <= as_of:
            number, d = numbered(cb, "ref"), when.date()
            if latest.get(number, d) <= d:
                latest[number] = d
    return latest


def called_back(rec: dict, register: str, index: dict[tuple, date]) -> bool:
    """A closed case has a callback on or after the day it closed (index: callback_index)."""
    closed = day(rec.get(CLOSES[register]))
    latest = index.get(numbered(rec))
    return closed is not None and latest is not None and latest >= closed


# --- deadlines --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Terms:
    """The deadlines config.toml sets ([rules.reinspection-late] days / urgent_workdays), with the
    seeds' defaults: a re-inspection's written notice within 15 days, an urgent one within 3 working
    days. The rule, the KPI and the meeting lists all take them from here."""

    reinspection_days: int = 15
    urgent_workdays: int = 3

    @classmethod
    def of(cls, config) -> Terms:
        given = ((config.raw.get("rules") or {}).get("reinspection-late")) or {}
        return cls.from_params(given)

    @classmethod
    def from_params(cls, params: dict) -> Terms:
        return cls(
            int(params.get("days", cls.reinspection_days)),
            int(params.get("urgent_workdays", cls.urgent_workdays)),
        )


def reinspection_deadline(rec: dict, calendar: WorkCalendar, terms: Terms | None = None) -> date | None:
    """The day by which the written notice is due, counted from acceptance (else the appeal)."""
    terms = terms or Terms()
    accepted = day(rec.get("accepted")) or day(rec.get("appealed"))
    if accepted is None:
        return None
    if rec.get("urgent"):
        return calendar.add_workdays(accepted, terms.urgent_workdays)
    return accepted + timedelta(days=terms.reinspection_days)


# --- the same concepts over typed frames (pipeline/frames.py) ----------------------------------------

SEP = "\x1f"  # between a property and a number in a number key: no clerk types it


def numbers(df, column: str = "id"):
    """Each row's case number within its property (numbered) as one text key, <NA> where the row
    gives no number: two centres' TS-001 are two keys."""
    num = df[column]
    key = df["_property"].fillna("").astype("str") + SEP + num.fillna("").astype("str")
    return key.where(num.notna() & (num.astype("str") != ""), pd.NA)


def attribute_frames(frames: dict, complaints=None) -> None:
    """attribute, over frames: feedback naming no property takes its complaint's, where exactly one
    property has that complaint number among `complaints` (default: frames["complaints"])."""
    fb = frames.get("feedback")
    if fb is None or fb.empty:
        return
    waiting = fb["_property"].isna() & fb["complaint_id"].notna()
    if not waiting.any():
        return
    source = (
        frames["complaints"] if complaints is None else (complaints() if callable(complaints) else complaints)
    )
    known = source[source["id"].notna() & source["_property"].notna()]
    owners = known.groupby("id")["_property"].agg(["nunique", "first"])
    single = owners.loc[owners["nunique"] == 1, "first"]
    found = fb.loc[waiting, "complaint_id"].map(single).dropna()
    if len(found):
        fb.loc[found.index, "_property"] = found.astype("str")


def span(df, register: str):
    """open_span over a frame: (start, end) Series; end is NaT while open, the start when the
    closing is dated before it, and NaT where there is no start."""
    start, closed = df[OPENS[register]], df[CLOSES[register]]
    end = closed.where(closed.isna() | (closed >= start), start)
    return start, end.where(start.notna())


def open_at(df, register: str, at: datetime):
    """is_open over a frame: started before `at` and not ended before it."""
    start, end = span(df, register)
    return (start < at) & ~(end < at)


def latest_callbacks(callbacks, as_of: datetime):
    """callback_index over a frame: number key (numbers(…, "ref")) → the day of its latest
    callback dated by as-of."""
    keys = numbers(callbacks, "ref")
    when = callbacks["date"]
    ok = keys.notna() & (when <= as_of)
    return when[ok].dt.normalize().groupby(keys[ok]).max()


def called_back_rows(df, register: str, latest):
    """called_back over a frame: a callback on or after the day the case closed."""
    closed = df[CLOSES[register]].dt.normalize()
    found = pd.Series(
        latest.reindex(numbers(df).to_numpy()).to_numpy(), index=df.index, dtype="datetime64[ns]"
    )
    return (found >= closed).astype(bool)


def callback_problem(callbacks):
    """A callback that found the customer unhappy or the problem unsolved: it needs a follow-up."""
    unhappy = (callbacks["satisfaction"] == "不满意").fillna(False)
    return unhappy | callbacks["solved"].eq(False).fillna(False)


BLANK_FOLLOWUP = ("", "无", "没有", "/")


def followed_up(callbacks):
    """A follow-up is written (not blank, 无, 没有 or /) or dated."""
    text = callbacks["followup"]
    written = text.notna() & ~text.isin(BLANK_FOLLOWUP)
    return (written | callbacks["followup_date"].notna()).astype(bool)


def deadlines(reinspections, calendar: WorkCalendar, terms: Terms | None = None):
    """reinspection_deadline over a frame: (due day, gap) Series; due is NaT without an acceptance
    (or appeal) date, and where the working-day calendar does not cover the year, when gap says so."""
    terms = terms or Terms()
    start = reinspections["accepted"].fillna(reinspections["appealed"]).dt.normalize()
    urgent = reinspections["urgent"].fillna(False).astype(bool)
    due = start + pd.Timedelta(days=terms.reinspection_days)
    gap = pd.Series(pd.NA, index=reinspections.index, dtype="str")
    todo = urgent & start.notna()
    if todo.any():
        found, missing = {}, {}
        for when in start[todo].unique():
            try:
                found[when] = pd.Timestamp(calendar.add_workdays(when.date(), terms.urgent_workdays))
            except CalendarGap as exc:
                missing[when] = str(exc)
        due = due.where(~todo, start[todo].map(found).astype("datetime64[ns]"))
        gap = gap.where(~todo, start[todo].map(missing).astype("str"))
    return due, gap

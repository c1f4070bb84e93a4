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

from pipeline.workdays import WorkCalendar

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

"""Typed frames + period → the KPIs of every slice at once. Pure functions, no I/O.

Definitions follow DOMAIN.md and the concepts in pipeline/domain.py. Conventions:
- A date without a time counts at 00:00 of that day; nothing after the as-of time counts.
- A period is [start, end); the as-of time cuts it short.
- A rate with an empty denominator has value None and says so; it is never 0 or 100%.

A View is the frames cut into slices (the company, each property, department or staff member):
each register's rows carry the number of the slice they belong to (a callback follows the
department of its complaint: a row may stand in several slices, repeated). Every KPI is a mask over
the frames and a count of the masked rows per slice (numpy.bincount): one pass for all slices.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from pipeline.config import Config
from pipeline.domain import (
    CLOSES,
    Terms,
    callback_problem,
    called_back,
    deadlines,
    followed_up,
    key_cases,
    keyed,
    latest_callbacks,
    numbers,
    open_at,
    promise_kept,
    verified_same_day,
)
from pipeline.frames import plain, ref, rows
from pipeline.workdays import WorkCalendar

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
ALL = "全部"
REPEAT_WINDOW = 30  # days: a complaint about the same unit and category again within them is a repeat


def kpi(numerator: int, denominator: int, target: float | None, direction: str = ">=") -> dict:
    numerator, denominator = int(numerator), int(denominator)
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
class Data:
    """The run's frames (frames.frames, feedback attributed), with what every period asks of them
    worked out once: whether each closed case was called back by as-of, each re-inspection's
    deadline under the terms and the working-day calendar."""

    frames: dict[str, pd.DataFrame]
    as_of: datetime
    calendar: WorkCalendar
    terms: Terms = field(default_factory=Terms)

    def __post_init__(self) -> None:
        f = self.frames
        if not keyed(f):
            key_cases(f)
        self.latest = latest_callbacks(f["callbacks"], self.as_of)
        for register in CLOSES:
            f[register]["_called_back"] = called_back(f[register], register, self.latest)
        f["reinspections"]["_due"], f["reinspections"]["_gap"] = deadlines(
            f["reinspections"], self.calendar, self.terms
        )
        # what a row is, whatever the period: worked out here once, not in each of the 31 slice-sets
        c, cb, ri = f["complaints"], f["callbacks"], f["reinspections"]
        c["_promise_kept"] = promise_kept(c).to_numpy()
        c["_same_day"] = verified_same_day(c).to_numpy()
        c["_valid"] = _true(c["valid"])
        cb["_problem"] = callback_problem(cb).to_numpy(dtype=bool)
        cb["_followed_up"] = followed_up(cb).to_numpy(dtype=bool)
        ri["_on_time"] = (_day(ri["notified"]) <= ri["_due"]).to_numpy()
        for register in ("callbacks", "feedback"):
            satisfaction = f[register]["satisfaction"]
            f[register]["_rated"] = _given(satisfaction)
            f[register]["_good"] = satisfaction.isin(GOOD).to_numpy(dtype=bool)

    def __getitem__(self, register: str) -> pd.DataFrame:
        return self.frames[register]


@dataclass
class View:
    """The frames cut into slices: names[i] is slice i; codes[register][row] the slice of that row
    of frames[register] (-1: none)."""

    names: list
    frames: dict[str, pd.DataFrame]
    codes: dict[str, np.ndarray]
    whole: bool = False  # one slice holding every row (company): a tally is a count

    def tally(self, register: str, mask: np.ndarray) -> np.ndarray:
        if self.whole:  # the company's 30 tallies in each of the 27 periods a run measures, counted in C
            return np.array([np.count_nonzero(mask)], dtype=np.int64)
        codes = self.codes[register]
        return np.bincount(codes[mask & (codes >= 0)], minlength=len(self.names))


def company(data: Data) -> View:
    codes = {k: np.zeros(len(f), dtype=np.int64) for k, f in data.frames.items()}
    return View([ALL], data.frames, codes, whole=True)


def _codes(values: pd.Series, names: list) -> np.ndarray:
    """Each value's position in names, -1 for a blank or a value not among them. Factorized first
    (Arrow-native for Arrow strings), so that only the distinct values are looked up: a Categorical
    made of the values turned a group's 1.3 M texts into Python objects (0.9 s a run)."""
    codes, uniques = pd.factorize(values)
    position = np.append(pd.Index(names).get_indexer(uniques), -1)  # the last slot: a blank's (-1)
    return position[codes].astype(np.int64)


def by_property(data: Data, props: list[str]) -> View:
    """Every record under its property (domain.attribute has given feedback naming none its
    complaint's, or the rules have set it aside)."""
    return View(list(props), data.frames, {k: _codes(f["_property"], props) for k, f in data.frames.items()})


def _only(data: Data, keep: dict[str, tuple[pd.DataFrame, np.ndarray]], names: list) -> View:
    frames, codes = {}, {}
    for k, f in data.frames.items():
        frames[k], codes[k] = keep.get(k, (f.iloc[:0], np.zeros(0, dtype=np.int64)))
    return View(names, frames, codes)


def by_complaint_field(data: Data, column: str) -> View:
    """Complaints by their `column` (department, handler), with the callbacks and feedback that
    follow them: those of a complaint's number in its property (domain.numbers). A callback of a
    number two complaints share stands in the slice of each."""
    c = data["complaints"]
    names = sorted(c[column].dropna().loc[lambda s: s != ""].unique().tolist())
    pairs = pd.DataFrame({"_key": numbers(c), "_name": c[column]}).dropna().drop_duplicates()
    keep = {"complaints": (c, _codes(c[column], names))}
    for register, link in (("callbacks", "ref"), ("feedback", "complaint_id")):
        f = data[register]
        joined = f.assign(_key=numbers(f, link)).merge(pairs, on="_key", how="inner", sort=False)
        keep[register] = (joined, _codes(joined["_name"], names))
    return _only(data, keep, names)


def by_field(data: Data, register: str, column: str) -> View:
    """One register's records by their `column` (callbacks by staff, repairs by worker)."""
    f = data[register]
    names = sorted(f[column].dropna().loc[lambda s: s != ""].unique().tolist())
    return _only(data, {register: (f, _codes(f[column], names))}, names)


@dataclass
class Scope:
    """What the KPIs of one period see: its window cut at the as-of time."""

    start: datetime
    end: datetime
    as_of: datetime

    @property
    def stop(self) -> datetime:
        return min(self.end, self.as_of)


def within(f: pd.DataFrame, key: str, start: datetime, stop: datetime) -> np.ndarray:
    """Rows whose date `key` lies in [start, stop)."""
    s = f[key].to_numpy()  # numpy's comparisons: pandas' cost 1 ms more each, 300 times a run
    return (s >= np.datetime64(start)) & (s < np.datetime64(stop))  # NaT: False


def _true(s: pd.Series) -> np.ndarray:
    return s.fillna(False).to_numpy(dtype=bool)


def _given(s: pd.Series) -> np.ndarray:
    return (s.notna() & (s.astype("str") != "")).to_numpy(dtype=bool)


def _day(s: pd.Series) -> pd.Series:
    return s.dt.normalize()


class _Rates:
    """Collects each rate per slice, and for a traced view the rows behind it (in date order)."""

    def __init__(self, view: View, trace: dict | None):
        self.view, self.trace = view, trace
        self.out: list[dict] = [{} for _ in view.names]

    def rate(self, key, den: list[tuple], num: list[tuple], target, direction: str = ">=") -> None:
        """den/num: (register, mask, date key) parts, each a subset of the den part it follows."""
        v = self.view
        d = sum(v.tally(reg, mask) for reg, mask, _ in den)
        n = sum(v.tally(reg, mask) for reg, mask, _ in num)
        for i, slot in enumerate(self.out):
            slot[key] = kpi(n[i], d[i], target, direction)
        if self.trace is not None:
            members = self.ordered(den)
            self.trace[key] = {"numerator": refs(self.ordered(num)), "denominator": refs(members)}
            self.records(members)

    def ordered(self, parts) -> list[tuple[str, pd.DataFrame]]:
        """(register, its masked rows in date order, ties in register order) of each part."""
        return [
            (reg, (f := self.view.frames[reg]).loc[mask, _traced(f, key)].sort_values(key, kind="stable"))
            for reg, mask, key in parts
        ]

    def records(self, ordered) -> None:
        """Where the rows behind a figure live: enough to find the clerk's row, no customer data."""
        found = self.trace.setdefault("_records", {})
        for reg, chosen in ordered:
            names = ref(chosen).tolist()
            new = [i for i, r in enumerate(names) if r not in found]
            if not new:
                continue
            part = chosen.iloc[new]
            where = (plain(part[k]) for k in ("id", "_property", "_file", "_sheet", "_row"))
            for i, rid, prop, file, sheet, row in zip(new, *where, strict=True):
                found[names[i]] = {
                    "register": reg,
                    "id": rid,
                    "property": prop,
                    "file": file,
                    "sheet": sheet,
                    "row": row,
                }


def _traced(f: pd.DataFrame, key: str) -> list[str]:
    """The columns a trace reads of the rows behind a figure (ref, records): not the whole rows."""
    wanted = dict.fromkeys(["_id", "id", key, "_property", "_file", "_sheet", "_row"])
    return [c for c in wanted if c in f.columns]


def refs(ordered) -> list[str]:
    """The trace's names of the rows (Rates.ordered), in order."""
    return [r for _, chosen in ordered for r in ref(chosen).tolist()]


def measure(
    data: Data,
    view: View,
    scope: Scope,
    config: Config,
    households: list[int | None],
    ytd_start: datetime,
    trace: dict | None = None,
    repeats: bool = True,
) -> list[dict]:
    """Every KPI of every slice of the view over one period (list in the order of view.names).

    households: each slice's (None: not known). trace, when given (a one-slice view), receives for
    each rate the rows behind its numerator and denominator. repeats: count repeat complaints
    (callers that show only rates, like the trends, skip them)."""
    t, as_of = config.targets, scope.as_of
    start, stop = scope.start, scope.stop
    f = view.frames
    c, r, cb, ri, fb = f["complaints"], f["repairs"], f["callbacks"], f["reinspections"], f["feedback"]
    rates = _Rates(view, trace)

    closed_c, closed_r = within(c, "closed", start, stop), within(r, "completed", start, stop)
    rates.rate(
        "callback_rate",
        [("complaints", closed_c, "closed"), ("repairs", closed_r, "completed")],
        [
            ("complaints", closed_c & c["_called_back"].to_numpy(), "closed"),
            ("repairs", closed_r & r["_called_back"].to_numpy(), "completed"),
        ],
        t["callback_rate"],
    )
    replied = (c["replied"] <= as_of).to_numpy()
    rates.rate(
        "reply_rate",
        [("complaints", closed_c, "closed")],
        [("complaints", closed_c & replied, "closed")],
        t["reply_rate"],
    )
    replies = within(c, "replied", start, stop) & c["promised"].notna().to_numpy()
    kept = c["_promise_kept"].to_numpy()
    rates.rate(
        "promise_kept_rate",
        [("complaints", replies, "replied")],
        [("complaints", replies & kept, "replied")],
        t["promise_kept_rate"],
    )
    received = within(c, "received", start, stop)
    same_day = c["_same_day"].to_numpy()
    rates.rate(
        "same_day_verification_rate",
        [("complaints", received, "received")],
        [("complaints", received & same_day, "received")],
        t["same_day_verification_rate"],
    )

    valid_flag = c["_valid"].to_numpy()
    valid = received & valid_flag
    ytd_valid = within(c, "received", ytd_start, stop) & valid_flag
    n_valid, n_ytd = view.tally("complaints", valid), view.tally("complaints", ytd_valid)
    days_in_year = 366 if _leap(scope.start.year) else 365
    share = (scope.end - scope.start).days / days_in_year
    # Judged once, where the target is set: on the year to date ("year"), or on a month's own figure
    # ("month"). A week's (or, under "year", a month's) own figure is context, never judged against a
    # pro-rata share of the year's 1% (one week is 1%/52: red almost every week).
    judged = config.effective_complaint_period == "month" and share > 0.05
    year_target = t["effective_complaint_rate"] if config.effective_complaint_period == "year" else None
    elapsed = (min(scope.stop, scope.end) - ytd_start).total_seconds() / (days_in_year * 86400)
    for i, slot in enumerate(rates.out):
        period = _household_rate(n_valid[i], households[i], t["effective_complaint_rate"] if judged else None)
        if not judged and period["value"] is not None:
            period["note"] = "本期情况，供参考；目标按全年累计考核"
        slot["effective_complaint_rate"] = period
        ytd = _household_rate(n_ytd[i], households[i], year_target)
        ytd["pace"] = round(t["effective_complaint_rate"] * max(0.0, min(1.0, elapsed)), 6)
        slot["effective_complaint_rate_ytd"] = ytd
    if trace is not None:
        trace["effective_complaint_rate"] = {
            "numerator": refs(rates.ordered([("complaints", valid, "received")])),
            "denominator": [],
        }
        ytd_part = rates.ordered([("complaints", ytd_valid, "received")])
        trace["effective_complaint_rate_ytd"] = {"numerator": refs(ytd_part), "denominator": []}
        rates.records(ytd_part)

    cbs = within(cb, "date", start, stop)
    problems = cbs & cb["_problem"].to_numpy()
    rates.rate(
        "callback_followup_rate",
        [("callbacks", problems, "date")],
        [("callbacks", problems & cb["_followed_up"].to_numpy(), "date")],
        t["callback_followup_rate"],
    )

    notified = within(ri, "notified", start, stop)
    gap = ri["_gap"].notna().to_numpy()
    done = notified & ~gap
    on_time = ri["_on_time"].to_numpy()
    rates.rate(
        "reinspection_on_time_rate",
        [("reinspections", done, "notified")],
        [("reinspections", done & on_time, "notified")],
        t["reinspection_on_time_rate"],
    )
    _gaps(view, ri, notified & gap, rates.out)
    _turnaround(view, ri, done, rates.out)

    rated_fb = within(fb, "date", start, stop) & fb["_rated"].to_numpy()
    rated_cb = cbs & cb["_rated"].to_numpy()
    rates.rate(
        "satisfaction_rate",
        [("feedback", rated_fb, "date"), ("callbacks", rated_cb, "date")],
        [
            ("feedback", rated_fb & fb["_good"].to_numpy(), "date"),
            ("callbacks", rated_cb & cb["_good"].to_numpy(), "date"),
        ],
        t["satisfaction_rate"],
    )

    n_received = view.tally("complaints", received)
    if repeats:
        found = np.bincount(
            repeat_rows(c, scope, view.codes["complaints"])["_code"].to_numpy(dtype=np.int64),
            minlength=len(view.names),
        )
        for i, slot in enumerate(rates.out):
            slot["repeat_complaints"] = {
                "value": int(found[i]),
                "numerator": int(found[i]),
                "denominator": int(n_received[i]),
                "target": None,
                "direction": "info",
                "met": None,
            }
    counts = {
        "complaints_received": n_received,
        "complaints_closed": view.tally("complaints", closed_c),
        "complaints_open": view.tally("complaints", open_at(c, "complaints", stop).to_numpy()),
        "repairs_reported": view.tally("repairs", within(r, "reported", start, stop)),
        "repairs_completed": view.tally("repairs", closed_r),
        "callbacks": view.tally("callbacks", cbs),
        "valid_complaints": n_valid,
    }
    codes = view.codes["complaints"]
    pick = received & (codes >= 0)
    money = np.bincount(
        codes[pick], weights=c["compensation"].fillna(0).to_numpy()[pick], minlength=len(view.names)
    )
    for i, slot in enumerate(rates.out):
        slot["counts"] = {k: int(v[i]) for k, v in counts.items()}
        slot["counts"]["compensation"] = round(float(money[i]), 2)
    return rates.out


def _gaps(view: View, ri: pd.DataFrame, mask: np.ndarray, out: list[dict]) -> None:
    """A re-inspection whose deadline the calendar cannot give is left out of the rate, which says so
    (the first such case, in date order)."""
    if not mask.any():
        return
    rows = pd.DataFrame({"code": view.codes["reinspections"][mask], "when": ri["notified"].to_numpy()[mask]})
    rows["gap"] = ri["_gap"].to_numpy()[mask]
    for code, gap in (
        rows.sort_values("when", kind="stable").groupby("code", sort=False)["gap"].first().items()
    ):
        if code >= 0:
            out[code]["reinspection_on_time_rate"]["error"] = gap


def _turnaround(view: View, ri: pd.DataFrame, done: np.ndarray, out: list[dict]) -> None:
    start = ri["accepted"].fillna(ri["appealed"])
    mask = done & start.notna().to_numpy()
    days = (_day(ri["notified"]) - _day(start)).dt.days.to_numpy()[mask]
    codes = view.codes["reinspections"][mask]
    by: dict[int, list[int]] = {}
    for code, d in zip(codes.tolist(), days.tolist(), strict=True):
        if code >= 0:
            by.setdefault(code, []).append(int(d))
    for i, slot in enumerate(out):
        slot["reinspection_turnaround_days"] = _distribution(by.get(i, []))


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


def repeat_rows(c: pd.DataFrame, scope: Scope, codes: np.ndarray | None = None) -> pd.DataFrame:
    """Complaints received in the scope with an earlier one for the same unit and category (in the
    same property and slice) within 30 days: one row each, with the earlier one's number and date,
    ordered by property and date."""
    window = timedelta(days=REPEAT_WINDOW)
    codes = np.zeros(len(c), dtype=np.int64) if codes is None else codes
    recent = (
        within(c, "received", scope.start - window, scope.stop) & _given(c["unit"]) & _given(c["category"])
    )
    recent = recent & (codes >= 0)
    f = c.loc[recent, ["id", "_property", "unit", "category", "received"]].assign(_code=codes[recent])
    f = f.assign(_pos=np.arange(len(f))).sort_values(["received", "_pos"], kind="stable")
    keys = ["_code", "_property", "unit", "category"]
    groups = f.groupby(keys, sort=False, dropna=False)
    f["_group"] = groups.ngroup()
    f["previous_id"] = groups["id"].shift(1)
    f["previous"] = groups["received"].shift(1)
    hit = (
        (f["received"] >= scope.start)
        & (f["received"] < scope.stop)
        & (f["received"] - f["previous"] <= window)
    )
    f = f[hit.fillna(False)]
    f = f.assign(_prop=f["_property"].fillna(""))
    f = f.sort_values(["_prop", "received", "_group", "_pos"], kind="stable")
    return f


def repeat_complaints(c: pd.DataFrame, scope: Scope) -> list[dict]:
    """repeat_rows as the meeting's list."""
    out = []
    for row in rows(
        repeat_rows(c, scope)[["id", "previous_id", "_property", "unit", "category", "received", "previous"]]
    ):
        out.append(
            {
                "id": row["id"],
                "previous_id": row["previous_id"],
                "property": row["_property"],
                "unit": row["unit"],
                "category": row["category"],
                "received": iso(row["received"]),
                "previous_received": iso(row["previous"]),
                "days_apart": (row["received"].date() - row["previous"].date()).days,
            }
        )
    return out


def iso(when) -> str | None:
    """A date as the lists write it: the day alone at midnight, else to the minute."""
    if when is None or when is pd.NaT or (isinstance(when, float) and when != when):
        return None
    if isinstance(when, datetime):
        if when.hour == when.minute == when.second == when.microsecond == 0:
            return when.date().isoformat()
        return when.isoformat(timespec="minutes")
    return str(when)

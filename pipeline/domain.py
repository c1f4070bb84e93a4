"""The department's concepts, each defined once, over typed frames (pipeline/frames.py). Rules,
KPIs, lists and reports call these; before writing a predicate about cases, look here for its twin.

- a case's number names it within its property (`numbers`): each centre of a group numbers its own
  registers, so two centres' TS-001 are two complaints;
- the property a record belongs to (`attribute`): its own, or, for feedback that names none, the
  property of the complaint it follows when exactly one property has that number (when several do,
  the feedback is ambiguous: the rules set it aside, feedback-property-unknown);
- when a case is open (`open_span`, `open_at`), closed (`CLOSES`), called back after closing
  (`latest_callbacks`, `called_back`), a callback's problem and its follow-up (`callback_problem`,
  `followed_up`);
- a complaint answered by the day promised (`promise_kept`) and verified the day it came
  (`verified_same_day`);
- the deadline of a re-inspection's written notice under the config and the working-day calendar
  (`Terms`, `deadlines`).

Each function takes a register's frame and answers for every row at once (a Series or a mask).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.frames import concat
from pipeline.registers import CASE_NUMBERS, INLINE_CALLBACKS
from pipeline.workdays import CalendarGap, WorkCalendar

OPENS = {"complaints": "received", "repairs": "reported"}  # when a case starts
CLOSES = {"complaints": "closed", "repairs": "completed"}  # when it is done (and due a callback)


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


# --- over typed frames ------------------------------------------------------------------------------

KEY = "_key_"  # + a column holding case numbers: the frame's column of their keys (key_cases)


def key_cases(frames: dict) -> None:
    """Give every case number its key, in place: a column KEY + column of integers, equal for equal
    (property, number) pairs across all the registers given (letters compared in either case),
    <NA> where the row gives no number.
    Worked out once per run over every register (one factorize of the texts); numbers, the joins
    and the group-bys then compare integers. Called by the rules and the KPIs on the frames they
    get, after domain.attribute (a key is its row's property's)."""
    parts = [(reg, col) for reg, cols in CASE_NUMBERS.items() if reg in frames for col in cols]
    if not parts:
        return
    texts = [frames[reg][col] for reg, col in parts]
    number_codes = _codes(*texts, fold=case_text)
    property_codes = _codes(*(frames[reg]["_property"] for reg, _ in parts))
    width = max((c.max(initial=-1) for c in number_codes), default=-1) + 2
    pairs = [(p + 1) * width + (n + 1) for p, n in zip(property_codes, number_codes, strict=True)]
    keys = _codes(*pairs)
    for (reg, col), text, n, k in zip(parts, texts, number_codes, keys, strict=True):
        given = (n >= 0) & (text.astype("str") != "").to_numpy(dtype=bool, na_value=False)
        frames[reg][KEY + col] = pd.arrays.IntegerArray(k.astype(np.int64), ~given)


def case_text(s: pd.Series) -> pd.Series:
    """A case number as it compares: its letters in either case are one (clerks type ts-001 for
    TS-001), and a number of digits alone is one with or without leading zeros (001 typed into a
    General cell is Excel's 1, beside a register that kept the text 001). Keys, feedback's
    attribution and the reference rules all compare through this. Numbers with no lower-case letter
    and no leading zero (most registers') are compared as they are, without a copy: the case keys of
    a group's year are the run's peak of memory."""
    if _has_lower(s):
        s = s.str.upper()
    if _zero_led(s):
        s = s.str.replace(r"^0+([0-9]+)$", r"\1", regex=True)
    return s


def _zero_led(s: pd.Series) -> bool:
    """Whether a text column may hold a number with a leading zero (anything not Arrow-backed may)."""
    try:
        return bool(pc.any(pc.starts_with(pa.array(s.array), "0")).as_py())
    except (TypeError, pa.ArrowException):
        return True


def _has_lower(s: pd.Series) -> bool:
    """Whether a text column may hold an ASCII lower-case letter: a scan of its Arrow buffers' bytes
    (UTF-8 puts every other character's bytes above 0x7f); anything not Arrow-backed says yes."""
    try:
        arrow = pa.array(s.array)
    except (TypeError, pa.ArrowException):
        return True
    chunks = arrow.chunks if isinstance(arrow, pa.ChunkedArray) else [arrow]
    if not all(pa.types.is_string(c.type) or pa.types.is_large_string(c.type) for c in chunks):
        return True
    for chunk in chunks:
        data = chunk.buffers()[2]
        raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.empty(0, np.uint8)
        for start in range(0, len(raw), 1 << 20):  # a megabyte at a time: no copy the column's size
            if _LOWER[raw[start : start + (1 << 20)]].any():
                return True
    return False


_LOWER = np.zeros(256, dtype=bool)
_LOWER[ord("a") : ord("z") + 1] = True


def keyed(frames: dict) -> bool:
    """Whether the frames carry case keys for every number they give (key_cases was called on them
    as they are: the rules key the frames a run's KPIs then get). A frame filtered since keeps
    its keys; one put together with unkeyed rows has none for them, and is keyed again."""
    for reg, cols in CASE_NUMBERS.items():
        f = frames.get(reg)
        for col in cols if f is not None else ():
            if KEY + col not in f.columns or (f[col].notna() & f[KEY + col].isna()).any():
                return False
    return True


def numbers(df, column: str = "id"):
    """Each row's case number within its property, as its key (Int64; <NA> where the row gives no
    number): two centres' TS-001 are two keys. The frames must have been keyed (key_cases)."""
    key = KEY + column
    if key not in df.columns:
        raise KeyError(f"{column}: the frames have no case keys (domain.key_cases)")
    return df[key]


def _codes(*parts, fold=None) -> list[np.ndarray]:
    """Joint integer codes of keys (pandas' factorize, Arrow-native for Arrow strings): equal
    values get equal codes across the parts; -1 for <NA>. fold: values it makes equal get equal
    codes (case_text), applied to the joined values (one copy of them at a time)."""
    joined = pd.concat([pd.Series(p).reset_index(drop=True) for p in parts], ignore_index=True)
    if fold is not None:
        joined = fold(joined)
    codes, _ = pd.factorize(joined)
    del joined
    out, start = [], 0
    for p in parts:
        out.append(codes[start : start + len(p)])
        start += len(p)
    return out


def _keys(*parts) -> list[np.ndarray]:
    """Case keys (numbers) as they are, -1 for <NA>; other values by their joint codes."""
    if all(pd.api.types.is_integer_dtype(getattr(p, "dtype", None)) for p in parts):
        return [pd.Series(p).to_numpy(dtype=np.int64, na_value=-1) for p in parts]
    return _codes(*parts)


def among(values: pd.Series, known) -> np.ndarray:
    """Which values are among the known ones (case keys, or texts by their joint codes: Arrow's isin
    walks a large value set in Python)."""
    v, k = _keys(values, pd.Series(known).dropna())
    seen = np.zeros(max(v.max(initial=-1), k.max(initial=-1)) + 2, dtype=bool)  # the last slot: <NA>'s
    seen[k] = True
    return seen[v]


def lookup(keys: pd.Series, table: pd.Series) -> np.ndarray:
    """table's value at each key (table: a Series indexed by keys, each once), its missing value
    (NaT, NaN) where a key is <NA> or not in it."""
    k, t = _keys(keys, pd.Series(table.index))
    where = np.full(max(k.max(initial=-1), t.max(initial=-1)) + 2, -1)  # the last slot: <NA>'s
    where[t] = np.arange(len(t))
    at = where[k]
    values = table.to_numpy()
    missing = np.datetime64("NaT", "ns") if values.dtype.kind == "M" else np.nan
    return np.where(at >= 0, values[np.maximum(at, 0)] if len(values) else missing, missing)


def roster_households(households: pd.DataFrame) -> dict[str, int]:
    """Property → the households its roster (住户名册) lists: distinct units."""
    units = households[households["_property"].notna() & households["unit"].notna()]
    return {k: int(v) for k, v in units.groupby("_property")["unit"].nunique().items()}


def attribute(frames: dict, complaints=None) -> None:
    """Feedback naming no property takes its complaint's, where exactly one property has that
    complaint number among the loaded complaints (`complaints`, default frames["complaints"]: valid
    or not, a complaint set aside for a bad category still says which centre it was made to). Done
    before the rules run, in place, so that the group's report and each property's own count the
    same feedback in the same place; what stays unattributed the rules set aside."""
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
    owners = known.groupby(case_text(known["id"]))["_property"].agg(["nunique", "first"])
    single = owners.loc[owners["nunique"] == 1, "first"]
    found = case_text(fb.loc[waiting, "complaint_id"]).map(single).dropna()
    if len(found):
        fb.loc[found.index, "_property"] = found.astype("str")


INLINE = "_inline"  # a callbacks frame's column: the callback is written on its case's own row


def inline_callbacks(frames: dict) -> None:
    """The callbacks complaints and repairs record on their own rows (registers.INLINE_CALLBACKS:
    回访日期 | 回访人 beside each case, as many centres keep one register), added to
    frames["callbacks"] in place and marked INLINE. Each keeps its case row's provenance and row id:
    a finding about it points at that row, and a case a rule sets aside takes its callback along.
    A callback the callbacks register gives too (the same property, case number and day) is not
    added again. Done before the rules and the KPIs, where feedback is attributed; a second call
    does nothing."""
    cb = frames.get("callbacks")
    if cb is None or INLINE in cb.columns:
        return
    parts = [cb.assign(**{INLINE: False})]
    for spec in INLINE_CALLBACKS:
        f = frames.get(spec.register)
        dated = spec.columns["date"]
        if f is None or dated not in f.columns or not f[dated].notna().any():
            continue
        rows = f[f[dated].notna()].reset_index(drop=True)
        part = pd.DataFrame(index=rows.index)
        for col in cb.columns:
            if col in spec.columns:
                part[col] = rows[spec.columns[col]].astype(cb[col].dtype)
            elif col.startswith("_") and col in rows.columns:
                part[col] = rows[col]
            else:
                part[col] = pd.Series(pd.NA, index=rows.index).astype(cb[col].dtype)
        part["kind"] = pd.Series(spec.kind, index=rows.index).astype(cb["kind"].dtype)
        part[INLINE] = True
        parts.append(part[~_also_given(part, cb)])
    frames["callbacks"] = concat(parts) if len(parts) > 1 else parts[0]


def _also_given(inline: pd.DataFrame, callbacks: pd.DataFrame) -> np.ndarray:
    """Which inline callbacks the callbacks register gives too: the same property, case number
    (case_text) and day."""

    def keys(f: pd.DataFrame) -> pd.Series:
        return (
            f["_property"].fillna("")
            + "\x1f"
            + case_text(f["ref"]).fillna("")
            + "\x1f"
            + f["date"].dt.strftime("%Y-%m-%d")
        )

    given = callbacks[callbacks["ref"].notna() & callbacks["date"].notna()]
    return keys(inline).isin(keys(given)).to_numpy(dtype=bool) if len(given) else np.zeros(len(inline), bool)


def own_rows(f: pd.DataFrame) -> pd.DataFrame:
    """A register's rows as its own file gives them: the callbacks written on a case's row
    (inline_callbacks) are that row's, which the rules over each row's own values check there."""
    return f[~f[INLINE].to_numpy(dtype=bool)] if INLINE in f.columns and f[INLINE].any() else f


def open_span(df, register: str):
    """When each case was open: (start, end) Series. It ends when it closed; a closing dated before
    the start counts from the start (the date-order rule reports it). End is NaT while open, and
    where there is no start."""
    start, closed = df[OPENS[register]], df[CLOSES[register]]
    end = closed.where(closed.isna() | (closed >= start), start)
    return start, end.where(start.notna())


def open_at(df, register: str, at: datetime):
    """Open at `at`: started before it and not ended before it (open_span)."""
    start, end = open_span(df, register)
    return (start < at) & ~(end < at)


def promise_kept(complaints):
    """A complaint answered (回复日期) on or before the day promised (承诺回复日期); False where
    either is blank."""
    return complaints["replied"].dt.normalize() <= complaints["promised"].dt.normalize()


def verified_same_day(complaints):
    """A complaint verified (调查核实日期) on the day it was received; False where either is blank."""
    return complaints["verified"].dt.normalize() == complaints["received"].dt.normalize()


def latest_callbacks(callbacks, as_of: datetime):
    """Number key (numbers(…, "ref")) → the day of its latest callback dated by as-of."""
    keys = numbers(callbacks, "ref")
    when = callbacks["date"]
    ok = keys.notna() & (when <= as_of)
    return when[ok].dt.normalize().groupby(keys[ok]).max()


def called_back(df, register: str, latest):
    """A closed case has a callback on or after the day it closed (latest: latest_callbacks)."""
    closed = df[CLOSES[register]].dt.normalize()
    found = pd.Series(lookup(numbers(df), latest), index=df.index, dtype="datetime64[ns]")
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
    """The day by which each re-inspection's written notice is due, counted from acceptance (else
    the appeal): (due, gap) Series. Due is NaT without either date, and where the working-day
    calendar does not cover the year, which gap then says (CalendarGap's message)."""
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

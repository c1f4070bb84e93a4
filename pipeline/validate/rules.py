"""The department's rules, one small function each (seed sections in DOMAIN.md).

A rule takes the RuleContext (every register as a typed frame, pipeline/frames.py; the as-of time,
the working-day calendar, its parameters) and returns findings for the rows that break it: a mask
over the frame, and findings built for those rows only (RuleContext.found). The concepts rules
share with the KPIs and the lists (called back, deadlines, follow-ups, numbers within a property)
are domain.py's. Data-quality rules default to error: the row is set aside. Process rules (late
reply, missing callback …) default to warning: the row stays and the KPIs count it as a miss —
setting it aside would hide exactly what the meeting must see.
Adding a rule is one function here, one entry in RULES, one test.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from pipeline.domain import (
    CLOSES,
    INLINE,
    Terms,
    among,
    callback_problem,
    called_back,
    case_text,
    deadlines,
    followed_up,
    latest_callbacks,
    lookup,
    numbers,
    own_rows,
    promise_kept,
    roster_households,
    verified_same_day,
)
from pipeline.findings import ERROR, INFO, WARNING, Finding
from pipeline.frames import plain, value
from pipeline.load.normalize import sheet_month
from pipeline.registers import CHOICE, DATE, INLINE_COLUMNS, REGISTERS, relation
from pipeline.workdays import WorkCalendar


def day_text(when) -> str | None:
    """A date's day as the findings write it (2026-10-08)."""
    return None if when is None or when is pd.NaT else when.date().isoformat()


def stored_text(when) -> str | None:
    """A date as the store keeps it: the day alone, or with its time (2026-10-08T14:30)."""
    if when is None or when is pd.NaT:
        return None
    if when.hour == when.minute == when.second == 0:
        return when.date().isoformat()
    return when.isoformat(timespec="minutes" if when.second == 0 else "seconds")


def _day(s: pd.Series) -> pd.Series:
    return s.dt.normalize()


@dataclass
class RuleContext:
    frames: dict[str, pd.DataFrame]
    as_of: datetime
    calendar: WorkCalendar
    columns: dict[tuple[str, str], dict[str, list]] = field(
        default_factory=dict
    )  # (file, sheet) → key → [header, letter]
    params: dict = field(default_factory=dict)
    severity: str = WARNING
    code: str = ""

    def found(
        self,
        register: str,
        rows: pd.DataFrame,
        key: str | None,
        values: Iterable | object = None,
        notes: Iterable | str = "",
        code: str | None = None,
        severity: str | None = None,
    ) -> list[Finding]:
        """A finding on each of `rows` (of `register`'s frame), at column `key`: values and notes
        one per row, or one for all."""
        n = len(rows)
        values = _plain(values) if isinstance(values, pd.Series | list | np.ndarray) else [value(values)] * n
        notes = _plain(notes) if isinstance(notes, pd.Series | list | np.ndarray) else [notes] * n
        default = REGISTERS[register].column(key).header if key else None
        code, severity = code or self.code, severity or self.severity
        where = zip(*(plain(rows[k]) for k in ("_file", "_sheet", "_row", "_id")), strict=True)
        # a callback written on its case's row (domain.inline_callbacks) is located at that row's
        # column for it (the complaint's 回访日期)
        inline = rows[INLINE].to_numpy(dtype=bool) if INLINE in rows.columns else np.zeros(n, dtype=bool)
        out = []
        for (file, sheet, row, rid), v, note, own in zip(where, values, notes, inline, strict=True):
            header, letter = None, None
            if key:
                at = INLINE_COLUMNS.get(key, key) if own else key
                header, letter = self.columns.get((file, sheet), {}).get(at, [None, None])
                header = header or default
            out.append(
                Finding(
                    code,
                    severity,
                    file,
                    sheet,
                    row,
                    header,
                    letter,
                    None if v is None else str(v),
                    note,
                    ref=rid,
                )
            )
        return out


def _plain(values) -> list:
    return plain(values) if isinstance(values, pd.Series) else [value(v) for v in values]


Rule = Callable[[RuleContext], list[Finding]]


def _given(s: pd.Series) -> pd.Series:
    return s.notna() & (s.astype("str") != "")


def _fails(s: pd.Series, pattern: re.Pattern) -> pd.Series:
    """Texts given that do not match the pattern (matched over the whole column at once: the
    patterns here are in the subset of re that Arrow's RE2 reads the same)."""
    return (_given(s) & ~s.str.match(pattern.pattern).fillna(True)).astype(bool)


# --- data quality ------------------------------------------------------------------------------


def allowed_values(ctx: RuleContext) -> list[Finding]:
    """params["choices"]: "register.column" → the values config.toml allows there (Config.choices)."""
    allowed = ctx.params.get("choices", {})
    out = []
    for key, reg in REGISTERS.items():
        f = own_rows(ctx.frames[key])
        for c in reg.columns:
            if c.type != CHOICE or not c.choices:
                continue
            choices = allowed.get(f"{key}.{c.key}", c.choices)
            bad = f[f[c.key].notna() & ~f[c.key].isin(list(choices))]
            out += ctx.found(key, bad, c.key, bad[c.key], "、".join(choices))
    return out


def unique_ids(ctx: RuleContext) -> list[Finding]:
    """A number is given once in its property; later rows giving it again name the first."""
    out = []
    for key, reg in REGISTERS.items():
        f = own_rows(ctx.frames[key])
        number = numbers(f, reg.id_key)
        again = number.notna() & number.duplicated()
        if not again.any():
            continue
        first = f[number.notna() & ~number.duplicated()].set_index(
            number[number.notna() & ~number.duplicated()]
        )
        rows = f[again]
        other = first.loc[number[again], ["_file", "_sheet", "_row"]]
        # the same case entered again (carried into the next month's sheet): its first row is the one
        # that counts, so the later dates belong there
        same = np.zeros(len(rows), dtype=bool)
        if reg.date_key:
            then = first.loc[number[again], reg.date_key].dt.normalize().to_numpy()
            same = then == rows[reg.date_key].dt.normalize().to_numpy()
        again_text = (
            f"，{reg.column(reg.date_key).header}也相同，是同一宗：请把本行的后续情况补填到那一行，再删除本行"
            if reg.date_key
            else ""
        )
        notes = [
            f"与“{value(file)}”工作表“{value(sheet)}”第{value(row)}行相同" + (again_text if is_same else "")
            for (file, sheet, row), is_same in zip(
                other.itertuples(index=False, name=None), same, strict=True
            )
        ]
        out += ctx.found(key, rows, reg.id_key, rows[reg.id_key], notes)
    return out


# Digits are [0-9], not \d: texts are NFKC-normalised when loaded (full-width digits are ASCII by
# then), and pandas hands a \d over text that is not ASCII (a unit's 栋) to Python's re, one value
# at a time, where Arrow's RE2 matches the whole column in one call.
_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_LANDLINE = re.compile(r"^0[0-9]{2,3}-?[0-9]{7,8}(-[0-9]{1,6})?$")
_PHONE = re.compile(f"{_MOBILE.pattern}|{_LANDLINE.pattern}")


def phone_numbers(ctx: RuleContext) -> list[Finding]:
    out = []
    for key in ("complaints", "callbacks", "repairs"):
        f = own_rows(ctx.frames[key])
        bad = f[_fails(f["phone"], _PHONE)]
        out += ctx.found(key, bad, "phone", bad["phone"])
    return out


_UNIT = re.compile(  # matched with spaces removed (and \s, like \d, is Python's only)
    # building (3, A, B2) and its mark (-, 栋, 幢, 号楼, 座, and 8# / 8#楼 as many centres write it),
    # then an optional 单元, then the room: 3-2-1201, 3栋2单元1201室, 8#1102, A座1201, B2-1102
    r"^(?:[0-9]{1,3}|[A-Za-z][0-9]?)(?:-|栋|幢|号楼|座|#楼?-?)(?:[0-9]{1,2}(?:-|单元))?[0-9]{2,5}(?:室|号)?$"
)


def unit_numbers(ctx: RuleContext) -> list[Finding]:
    out = []
    for key in ("complaints", "callbacks", "repairs"):
        f = own_rows(ctx.frames[key])
        bad = f[_fails(f["unit"].str.replace(" ", "", regex=False), _UNIT)]
        out += ctx.found(key, bad, "unit", bad["unit"])
    return out


DATE_CHAINS = {
    "complaints": ("received", "verified", "closed", "replied"),
    "repairs": ("reported", "dispatched", "completed"),
    "reinspections": ("report_received", "appealed", "accepted", "reinspected", "notified"),
    "callbacks": ("date", "followup_date"),
    "feedback": ("date", "reopened"),
}


def date_order(ctx: RuleContext) -> list[Finding]:
    """Each date of a chain is on or after the days before it; a date that goes back is reported
    against the first earlier column with a later day."""
    out = []
    for key, chain in DATE_CHAINS.items():
        reg, f = REGISTERS[key], ctx.frames[key]
        days = pd.DataFrame({k: _day(f[k]) for k in chain})
        back = pd.Series(False, index=f.index)
        latest = pd.Series(pd.NaT, index=f.index, dtype="datetime64[ns]")
        for k in chain:  # the latest day so far, and whether a day goes back before it
            back |= days[k] < latest
            latest = latest.where(~(days[k] > latest) & latest.notna(), days[k]).fillna(latest)
        for i in np.flatnonzero(back.to_numpy()):  # nearly no record: the detail row by row
            seen: list[tuple[str, pd.Timestamp]] = []
            for k in chain:
                d = days.iat[i, chain.index(k)]
                if d is pd.NaT:
                    continue
                for prev_key, prev in seen:
                    if d < prev:
                        note = f"“{reg.column(k).header}”{day_text(d)} 早于“{reg.column(prev_key).header}”{day_text(prev)}"
                        out += ctx.found(key, f.iloc[[i]], k, day_text(d), note)
                        break
                seen.append((k, d))
    return out


FUTURE_OK = {"promised", "due"}  # a promise to answer, a deadline: in the future by nature


def future_dates(ctx: RuleContext) -> list[Finding]:
    """A date on a later day than the as-of time (a time later the same day is allowed)."""
    tomorrow = pd.Timestamp(ctx.as_of.date() + timedelta(days=1))
    note = ctx.as_of.strftime("%Y-%m-%d %H:%M")
    out = []
    for key, reg in REGISTERS.items():
        f = own_rows(ctx.frames[key])
        for c in reg.columns:
            if c.type == DATE and not c.memo and c.key not in FUTURE_OK:
                bad = f[f[c.key] >= tomorrow]
                out += ctx.found(key, bad, c.key, [stored_text(w) for w in bad[c.key]], note)
    return out


def sheet_month_dates(ctx: RuleContext) -> list[Finding]:
    """A row's date lies in the month its sheet is named after (2026年10月), when it is."""
    out = []
    for key, reg in REGISTERS.items():
        if reg.date_key is None:
            continue
        f = own_rows(ctx.frames[key])
        when = f[reg.date_key]
        has = when.notna() & f["_sheet"].notna()
        if not has.any():
            continue
        # the month each (sheet, year) names, worked out once per distinct pair, compared as
        # year × 12 + month over the whole column
        sheets, names = pd.factorize(f.loc[has, "_sheet"])
        years = when[has].dt.year.to_numpy().astype(np.int64)
        pairs, which = np.unique(sheets * 10_000 + years, return_inverse=True)
        named = [sheet_month(names[p // 10_000], int(p % 10_000)) for p in pairs]
        month = np.array([int(m[:4]) * 12 + int(m[5:7]) if m else -1 for m in named], dtype=np.int64)[which]
        actual = years * 12 + when[has].dt.month.to_numpy()
        bad = pd.Series((month >= 0) & (month != actual), index=when[has].index)
        rows = f.loc[bad[bad].index]
        out += ctx.found(key, rows, reg.date_key, [day_text(w) for w in rows[reg.date_key]], rows["_sheet"])
    return out


# --- process rules -----------------------------------------------------------------------------


def same_day_verification(ctx: RuleContext) -> list[Finding]:
    c = ctx.frames["complaints"]
    bad = c[~verified_same_day(c) & c["verified"].notna() & c["received"].notna()]
    return ctx.found(
        "complaints",
        bad,
        "verified",
        [day_text(w) for w in bad["verified"]],
        [day_text(w) for w in bad["received"]],
    )


def reply_by_promise(ctx: RuleContext) -> list[Finding]:
    c = ctx.frames["complaints"]
    promised, replied = _day(c["promised"]), _day(c["replied"])
    late = c[~promise_kept(c) & promised.notna() & replied.notna()]
    today = pd.Timestamp(ctx.as_of.date())
    overdue = c[promised.notna() & replied.isna() & (promised < today)]
    return ctx.found(
        "complaints",
        late,
        "replied",
        [day_text(w) for w in late["replied"]],
        [day_text(w) for w in late["promised"]],
    ) + ctx.found(
        "complaints",
        overdue,
        "replied",
        None,
        [f"{day_text(p)}（已逾期 {(today - p.normalize()).days} 天）" for p in overdue["promised"]],
        code="reply-overdue",
    )


def _closed_days(ctx: RuleContext) -> pd.Series:
    """Number key → the day the case of that number closed (complaints, then repairs: the last
    closed case of a number when it is given twice)."""
    parts = []
    for register, closed in CLOSES.items():
        f = ctx.frames[register]
        parts.append(pd.Series(_day(f[closed]).to_numpy(), index=numbers(f)).dropna())
    days = pd.concat(parts)
    days = days[days.index.notna()]
    return days[~days.index.duplicated(keep="last")]


def callbacks_for_closed(ctx: RuleContext) -> list[Finding]:
    """Every closed complaint and repair has a callback on or after its closing (domain.called_back;
    else 待回访)."""
    latest = latest_callbacks(ctx.frames["callbacks"], ctx.as_of)
    out = []
    for register, closed in CLOSES.items():
        f = ctx.frames[register]
        waiting = f[f[closed].notna() & numbers(f).notna() & ~called_back(f, register, latest)]
        # a register that keeps its callbacks on its rows: its 回访日期 is where this one goes
        notes = [
            "（本表有“回访日期”一栏，回访后填在这里也可以）"
            if INLINE_COLUMNS["date"] in ctx.columns.get((file, sheet), {})
            else ""
            for file, sheet in zip(plain(waiting["_file"]), plain(waiting["_sheet"]), strict=True)
        ]
        out += ctx.found(register, waiting, closed, [day_text(w) for w in waiting[closed]], notes)
    return out


def callback_refs(ctx: RuleContext) -> list[Finding]:
    """A callback's reference names a case of its property (registers.RELATIONS), and the callback
    is not dated before that case closed."""
    link = relation("callbacks")
    cb = ctx.frames["callbacks"]
    number = numbers(cb, link.column)
    known = pd.concat([numbers(ctx.frames[t]).dropna() for t in link.targets])
    has = number.notna()
    found = pd.Series(among(number, known), index=cb.index)
    unknown = cb[has & ~found]
    closed = pd.Series(lookup(number[has], _closed_days(ctx)), index=number[has].index)
    closed = closed.astype("datetime64[ns]")
    before = (_day(cb.loc[closed.index, "date"]) < closed) & found[has]
    early = cb.loc[before[before].index]  # only these rows whole: not every numbered callback's
    early_closed = closed.loc[early.index]
    return ctx.found("callbacks", unknown, "ref", unknown["ref"]) + ctx.found(
        "callbacks",
        early,
        "date",
        [day_text(w) for w in early["date"]],
        [day_text(w) for w in early_closed],
        code="callback-before-closing",
    )


def callback_followup(ctx: RuleContext) -> list[Finding]:
    """A callback that found a problem has its follow-up written or dated (domain.followed_up)."""
    cb = ctx.frames["callbacks"]
    bad = cb[callback_problem(cb) & ~followed_up(cb)]
    notes = np.where((bad["satisfaction"] == "不满意").fillna(False), "不满意", "问题未解决")
    return ctx.found("callbacks", bad, "followup", None, notes)


def feedback_reopened(ctx: RuleContext) -> list[Finding]:
    fb = ctx.frames["feedback"]
    bad = fb[(fb["satisfaction"] == "不满意").fillna(False) & fb["reopened"].isna()]
    return ctx.found("feedback", bad, "reopened")


def feedback_refs(ctx: RuleContext) -> list[Finding]:
    """A feedback's complaint exists in its property. Feedback that names no property has been given
    its complaint's (domain.attribute, before the rules): what still names none is of a number
    no property, or several, have; it cannot be counted anywhere without guessing, and is set aside
    (feedback-property-unknown, an error)."""
    link = relation("feedback")
    fb, c = ctx.frames["feedback"], ctx.frames[link.targets[0]]
    number = fb[link.column]
    orphan = fb[fb["_property"].isna()]
    asked = c.loc[
        c["id"].notna() & c["_property"].notna() & among(case_text(c["id"]), case_text(orphan[link.column])),
        ["id", "_property"],
    ]
    owners: dict[str, list[str]] = {}
    for case, prop in (
        asked.assign(id=case_text(asked["id"]))
        .drop_duplicates()
        .sort_values(["id", "_property"])
        .itertuples(index=False, name=None)
    ):
        owners.setdefault(case, []).append(prop)
    notes = []
    for n in orphan[link.column]:
        n = value(n)
        found = owners.get(n.upper(), []) if n else []
        if not n:
            notes.append("未写投诉编号")
        else:
            notes.append(
                f"投诉编号“{n}”" + (f"在 {'、'.join(found)} 都有" if found else "在各项目中都找不到")
            )
    out = ctx.found(
        "feedback",
        orphan,
        link.column,
        orphan[link.column],
        notes,
        code="feedback-property-unknown",
        severity=ERROR,
    )
    key = numbers(fb, link.column)
    unknown = fb[fb["_property"].notna() & _given(number) & ~among(key, numbers(c))]
    return out + ctx.found("feedback", unknown, link.column, unknown[link.column])


def appeal_within_days(ctx: RuleContext) -> list[Finding]:
    limit = int(ctx.params.get("days", 10))
    r = ctx.frames["reinspections"]
    days = (_day(r["appealed"]) - _day(r["report_received"])).dt.days
    bad = r[days > limit]
    return ctx.found(
        "reinspections",
        bad,
        "appealed",
        days[bad.index].astype(int),
        [day_text(w) for w in bad["report_received"]],
    )


_NAMES = re.compile(r"[、,，/\s;；和及&+]+")


def two_inspectors(ctx: RuleContext) -> list[Finding]:
    r = ctx.frames["reinspections"]
    names = r["inspectors"]
    people = names.map(lambda t: len([n for n in _NAMES.split(t) if n]), na_action="ignore").fillna(0)
    bad = r[(r["reinspected"].notna() | _given(names)) & (people < 2)]
    return ctx.found("reinspections", bad, "inspectors", bad["inspectors"].fillna("（空）"))


def reinspection_on_time(ctx: RuleContext) -> list[Finding]:
    """The written notice comes by the deadline (domain.deadlines: the same Terms the KPI and the
    lists take from config); a deadline the calendar cannot give is an error."""
    terms = Terms.from_params(ctx.params)
    r = ctx.frames["reinspections"]
    due, gap = deadlines(r, ctx.calendar, terms)
    missing = r[gap.notna()]
    out = ctx.found(
        "reinspections",
        missing,
        "accepted",
        [stored_text(w) for w in missing["accepted"]],
        gap[gap.notna()],
        code="calendar-missing",
        severity=ERROR,
    )
    urgent = r["urgent"].fillna(False).astype(bool)
    notified = _day(r["notified"])
    rule = urgent.map(
        {True: f"紧急申诉 {terms.urgent_workdays} 个工作日内", False: f"{terms.reinspection_days} 日内"}
    )
    late = notified > due
    never = notified.isna() & (due < pd.Timestamp(ctx.as_of.date()))
    for mask, text in ((late, "实际"), (never, None)):
        rows = r[mask]
        notes = [
            f"应于 {day_text(d)}（{rule_text}）前书面通知，"
            + (f"实际 {day_text(n)}" if text else "至今未通知")
            for d, rule_text, n in zip(due[mask], rule[mask], notified[mask], strict=True)
        ]
        values = [day_text(n) for n in notified[mask]] if text else "（未通知）"
        out += ctx.found("reinspections", rows, "notified", values, notes)
    return out


def actions_overdue(ctx: RuleContext) -> list[Finding]:
    """A tracked problem past its deadline (完成时限) without a completion date."""
    a = ctx.frames["actions"]
    today = pd.Timestamp(ctx.as_of.date())
    late = a[(a["due"] < today) & ~(a["done"] <= ctx.as_of)]
    notes = [
        f"完成时限 {day_text(d)}，已逾期 {(today - d.normalize()).days} 天，尚未完成" for d in late["due"]
    ]
    return ctx.found("actions", late, "done", None, notes)


def escalated_followed(ctx: RuleContext) -> list[Finding]:
    """A problem escalated (上报对象) has its follow-up written (跟进情况)."""
    a = ctx.frames["actions"]
    bad = a[_given(a["escalated_to"]) & ~_given(a["progress"])]
    return ctx.found("actions", bad, "progress", None, [f"给{value(v)}" for v in bad["escalated_to"]])


def households_match(ctx: RuleContext) -> list[Finding]:
    """A property's roster counts the households config.toml gives it (params["households"]): a
    difference is said once, on the roster's first row of that property (domain.roster_households)."""
    h = ctx.frames["households"]
    known = ctx.params.get("households", {})
    out = []
    for name, n in sorted(roster_households(h).items()):
        given = known.get(name)
        if given is not None and n != given:
            first = h[(h["_property"] == name).fillna(False) & h["unit"].notna()].iloc[:1]
            out += ctx.found("households", first, "unit", n, str(given))
    return out


@dataclass(frozen=True)
class RuleSpec:
    code: str
    func: Rule
    severity: str
    title: str
    params: dict = field(default_factory=dict)


RULES: dict[str, RuleSpec] = {
    s.code: s
    for s in (
        RuleSpec("value-not-allowed", allowed_values, ERROR, "可选值"),
        RuleSpec("duplicate-id", unique_ids, ERROR, "编号在项目内唯一"),
        RuleSpec("invalid-phone", phone_numbers, WARNING, "电话号码"),
        RuleSpec("invalid-unit", unit_numbers, WARNING, "房号格式"),
        RuleSpec("date-order", date_order, ERROR, "日期先后"),
        RuleSpec("date-in-future", future_dates, ERROR, "日期不晚于统计时间"),
        RuleSpec("date-outside-sheet-month", sheet_month_dates, WARNING, "日期与工作表月份一致"),
        RuleSpec("not-verified-same-day", same_day_verification, WARNING, "当天调查核实"),
        RuleSpec("reply-after-promise", reply_by_promise, WARNING, "按承诺时间答复"),
        RuleSpec("callback-missing", callbacks_for_closed, WARNING, "完成后回访"),
        RuleSpec("callback-ref-unknown", callback_refs, WARNING, "回访关联编号存在"),
        RuleSpec("followup-missing", callback_followup, WARNING, "回访问题有后续处理"),
        RuleSpec("feedback-not-reopened", feedback_reopened, WARNING, "不满意重新处理"),
        RuleSpec("feedback-complaint-unknown", feedback_refs, WARNING, "反馈投诉编号存在"),
        RuleSpec("appeal-late", appeal_within_days, WARNING, "10 日内申诉", {"days": 10}),
        RuleSpec("reinspection-one-person", two_inspectors, WARNING, "两人复检"),
        RuleSpec(
            "reinspection-late",
            reinspection_on_time,
            WARNING,
            "复检按时答复",
            {"days": Terms.reinspection_days, "urgent_workdays": Terms.urgent_workdays},
        ),
        RuleSpec("action-overdue", actions_overdue, WARNING, "问题按时完成"),
        RuleSpec("action-escalated-no-followup", escalated_followed, WARNING, "上报问题有跟进"),
        RuleSpec("households-differ", households_match, WARNING, "名册户数与配置一致"),
    )
}
SEVERITIES = (ERROR, WARNING, INFO)
# Codes a rule emits besides its own, with their severity: they follow that rule's switch.
EMITTED = {
    "reply-overdue": ("reply-after-promise", WARNING),
    "callback-before-closing": ("callback-ref-unknown", WARNING),
    "calendar-missing": ("reinspection-late", ERROR),
    "feedback-property-unknown": ("feedback-complaint-unknown", ERROR),
}
RULE_CODES = frozenset(RULES) | frozenset(EMITTED)


def count_by_code(findings: list[Finding]) -> Counter:
    return Counter(f.code for f in findings)

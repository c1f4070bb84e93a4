"""The department's rules, one small function each (seed sections in DOMAIN.md).

A rule takes the RuleContext (current records of every register, as-of time, working-day
calendar, its parameters) and yields findings. Data-quality rules default to error: the row is set
aside. Process rules (late reply, missing callback …) default to warning: the row stays and the
KPIs count it as a miss — setting it aside would hide exactly what the meeting must see.
Adding a rule is one function here, one entry in RULES, one test.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pipeline.domain import (
    CLOSES,
    Terms,
    as_date,
    callback_index,
    called_back,
    feedback_owners,
    numbered,
    reinspection_deadline,
)
from pipeline.findings import ERROR, INFO, WARNING, Finding
from pipeline.load.normalize import sheet_month
from pipeline.registers import CHOICE, REGISTERS, relation
from pipeline.workdays import CalendarGap, WorkCalendar


@dataclass
class RuleContext:
    records: dict[str, list[dict]]
    as_of: datetime
    calendar: WorkCalendar
    columns: dict[tuple[str, str], dict[str, list]] = field(
        default_factory=dict
    )  # (file, sheet) → key → [header, letter]
    params: dict = field(default_factory=dict)
    severity: str = WARNING
    code: str = ""
    shared: dict = field(default_factory=dict)  # what several rules derive from the same records

    def finding(
        self,
        rec: dict,
        key: str | None,
        value=None,
        note: str = "",
        code: str | None = None,
        severity: str | None = None,
    ) -> Finding:
        header, letter = None, None
        if key:
            header, letter = self.columns.get((rec["_file"], rec["_sheet"]), {}).get(key, [None, None])
            if header is None:
                header = REGISTERS[rec["_register"]].column(key).header
        return Finding(
            code or self.code,
            severity or self.severity,
            rec["_file"],
            rec["_sheet"],
            rec["_row"],
            header,
            letter,
            None if value is None else str(value),
            note,
            ref=rec.get("_id"),
        )


Rule = Callable[[RuleContext], Iterator[Finding]]


# --- data quality ------------------------------------------------------------------------------


def allowed_values(ctx: RuleContext) -> Iterator[Finding]:
    """params["choices"]: "register.column" → the values config.toml allows there (Config.choices)."""
    allowed = ctx.params.get("choices", {})
    for key, reg in REGISTERS.items():
        choice_cols = [
            (c.key, allowed.get(f"{key}.{c.key}", c.choices))
            for c in reg.columns
            if c.type == CHOICE and c.choices
        ]
        for rec in ctx.records.get(key, []):
            for col, choices in choice_cols:
                v = rec.get(col)
                if v is not None and v not in choices:
                    yield ctx.finding(rec, col, v, "、".join(choices))


def unique_ids(ctx: RuleContext) -> Iterator[Finding]:
    for key in REGISTERS:
        for rec, other in _numbers(ctx, key)[1]:
            yield ctx.finding(
                rec, "id", rec["id"], f"与“{other['_file']}”工作表“{other['_sheet']}”第{other['_row']}行相同"
            )


_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")


def phone_numbers(ctx: RuleContext) -> Iterator[Finding]:
    for key in ("complaints", "callbacks", "repairs"):
        for rec in ctx.records.get(key, []):
            phone = rec.get("phone")
            if phone and not (_MOBILE.match(phone) or _LANDLINE.match(phone)):
                yield ctx.finding(rec, "phone", phone)


_UNIT = re.compile(
    r"^\d{1,3}\s*(?:-|栋|幢|号楼|座)\s*(?:\d{1,2}\s*(?:-|单元)\s*)?\d{2,5}(?:室|号)?$|^[A-Za-z]\d?\s*-\s*\d{2,5}$"
)


def unit_numbers(ctx: RuleContext) -> Iterator[Finding]:
    for key in ("complaints", "callbacks", "repairs"):
        for rec in ctx.records.get(key, []):
            unit = rec.get("unit")
            if unit and not _UNIT.match(unit.replace(" ", "")):
                yield ctx.finding(rec, "unit", unit)


DATE_CHAINS = {
    "complaints": ("received", "verified", "closed", "replied"),
    "repairs": ("reported", "dispatched", "completed"),
    "reinspections": ("report_received", "appealed", "accepted", "reinspected", "notified"),
    "callbacks": ("date", "followup_date"),
    "feedback": ("date", "reopened"),
}


def _day_text(value) -> str | None:
    """The day of a stored date (ISO text, "2026-10-01" or "2026-10-01 14:30"): its first ten
    characters, which order as the dates do, so the row-by-row rules compare text, not dates."""
    return value[:10] if isinstance(value, str) and len(value) >= 10 else None


def date_order(ctx: RuleContext) -> Iterator[Finding]:
    for key, chain in DATE_CHAINS.items():
        reg = REGISTERS[key]
        for rec in ctx.records.get(key, []):
            if _in_order(rec, chain):
                continue  # nearly every record: checked without building anything
            seen: list[tuple[str, str]] = []
            for k in chain:
                d = _day_text(rec.get(k))
                if d is None:
                    continue
                for prev_key, prev in seen:
                    if d < prev:
                        note = f"“{reg.column(k).header}”{d} 早于“{reg.column(prev_key).header}”{prev}"
                        yield ctx.finding(rec, k, as_date(d), note)
                        break
                seen.append((k, d))


def _in_order(rec: dict, chain: tuple[str, ...]) -> bool:
    """The record's days in `chain` never go back (each is on or after the latest before it)."""
    latest = ""
    for k in chain:
        value = rec.get(k)
        if value.__class__ is str and len(value) >= 10:  # _day_text, inlined: 1.3 M records
            if value[:10] < latest:
                return False
            latest = value[:10]
    return True


FUTURE_OK = {"promised"}  # a promise to answer lies in the future by nature


def future_dates(ctx: RuleContext) -> Iterator[Finding]:
    """A date on a later day than the as-of time (a time later the same day is allowed)."""
    tomorrow = (ctx.as_of.date() + timedelta(days=1)).isoformat()
    for key, reg in REGISTERS.items():
        date_keys = [c.key for c in reg.columns if c.type == "date" and c.key not in FUTURE_OK]
        for rec in ctx.records.get(key, []):
            for k in date_keys:
                value = rec.get(k)
                # a stored date's text is on a later day exactly when it sorts at or after tomorrow's
                if value.__class__ is str and value >= tomorrow and len(value) >= 10:
                    yield ctx.finding(rec, k, value, ctx.as_of.strftime("%Y-%m-%d %H:%M"))


def sheet_month_dates(ctx: RuleContext) -> Iterator[Finding]:
    months: dict[tuple[str, str], str | None] = {}  # (sheet, year) → the sheet's month: a few hundred
    for key, reg in REGISTERS.items():
        for rec in ctx.records.get(key, []):
            d = _day_text(rec.get(reg.date_key))
            if d is None:
                continue
            sheet = rec["_sheet"]
            month = months.get((sheet, d[:4]), False)
            if month is False:
                month = months[(sheet, d[:4])] = sheet_month(sheet, int(d[:4]))
            if month and month != d[:7]:
                yield ctx.finding(rec, reg.date_key, as_date(d), sheet)


# --- process rules -----------------------------------------------------------------------------


def same_day_verification(ctx: RuleContext) -> Iterator[Finding]:
    for rec in ctx.records.get("complaints", []):
        received, verified = as_date(rec.get("received")), as_date(rec.get("verified"))
        if received and verified and verified != received:
            yield ctx.finding(rec, "verified", verified, str(received))


def reply_by_promise(ctx: RuleContext) -> Iterator[Finding]:
    for rec in ctx.records.get("complaints", []):
        promised, replied = as_date(rec.get("promised")), as_date(rec.get("replied"))
        if promised and replied and replied > promised:
            yield ctx.finding(rec, "replied", replied, str(promised))
        elif promised and not replied and ctx.as_of.date() > promised:
            overdue = (ctx.as_of.date() - promised).days
            yield ctx.finding(
                rec, "replied", None, f"{promised}（已逾期 {overdue} 天）", code="reply-overdue"
            )


def _closed_items(ctx: RuleContext) -> dict[tuple, tuple[dict, str]]:
    """(property, id) → (record, the day it closed) of closed complaints and repairs (domain.CLOSES)."""
    if "closed" in ctx.shared:
        return ctx.shared["closed"]
    out = ctx.shared["closed"] = {}
    for key, closed in CLOSES.items():
        for rec in ctx.records.get(key, []):
            if rec.get("id") and (day := _day_text(rec.get(closed))):
                out[numbered(rec)] = (rec, day)
    return out


def _numbers(ctx: RuleContext, key: str) -> tuple[dict[tuple, dict], list[tuple[dict, dict]]]:
    """A register's numbers, (property, id) → the first record of it, and the records that give
    a number again, with that first record (unique_ids reports them, callback_refs asks the numbers)."""
    if ("numbers", key) not in ctx.shared:
        first: dict[tuple, dict] = {}
        again: list[tuple[dict, dict]] = []
        for rec in ctx.records.get(key, []):
            rid = rec.get("id")
            if rid is None:
                continue
            number = (rec.get("_property"), rid)  # numbered(rec), inlined: a million records
            other = first.setdefault(number, rec)
            if other is not rec:
                again.append((rec, other))
        ctx.shared[("numbers", key)] = first, again
    return ctx.shared[("numbers", key)]


def callbacks_for_closed(ctx: RuleContext) -> Iterator[Finding]:
    """Every closed complaint and repair has a callback on or after its closing (domain.called_back;
    else 待回访)."""
    index = callback_index(ctx.records.get("callbacks", []), ctx.as_of)
    for rec, day in _closed_items(ctx).values():
        register = rec["_register"]
        if not called_back(rec, register, index):
            yield ctx.finding(rec, CLOSES[register], day)


def callback_refs(ctx: RuleContext) -> Iterator[Finding]:
    """A callback's reference names a case of its property (registers.RELATIONS), and the callback
    is not dated before that case closed."""
    link = relation("callbacks")
    known = [_numbers(ctx, target)[0] for target in link.targets]
    closed = _closed_items(ctx)
    for cb in ctx.records.get("callbacks", []):
        ref = cb.get(link.column)
        if not ref:
            continue
        number = (cb.get("_property"), ref)
        if not any(number in numbers for numbers in known):
            yield ctx.finding(cb, "ref", ref)
        elif number in closed and (when := _day_text(cb.get("date"))) and when < closed[number][1]:
            yield ctx.finding(cb, "date", when, closed[number][1], code="callback-before-closing")


def callback_followup(ctx: RuleContext) -> Iterator[Finding]:
    for cb in ctx.records.get("callbacks", []):
        unhappy, unsolved = cb.get("satisfaction") == "不满意", cb.get("solved") is False
        if (
            (unhappy or unsolved)
            and not (cb.get("followup") and cb["followup"] not in ("无", "没有"))
            and not cb.get("followup_date")
        ):
            what = "不满意" if unhappy else "问题未解决"
            yield ctx.finding(cb, "followup", None, what)


def feedback_reopened(ctx: RuleContext) -> Iterator[Finding]:
    for fb in ctx.records.get("feedback", []):
        if fb.get("satisfaction") == "不满意" and not fb.get("reopened"):
            yield ctx.finding(fb, "reopened")


def feedback_refs(ctx: RuleContext) -> Iterator[Finding]:
    """A feedback's complaint exists in its property. Feedback that names no property has been given
    its complaint's (domain.attribute, before the rules): what still names none is of a number no
    property, or several, have; it cannot be counted anywhere without guessing, and is set aside
    (feedback-property-unknown, an error)."""
    link = relation("feedback")
    complaints = _numbers(ctx, link.targets[0])[0]
    owners = None
    for fb in ctx.records.get("feedback", []):
        number = fb.get(link.column)
        if fb.get("_property") is None:
            owners = feedback_owners(ctx.records.get("complaints", [])) if owners is None else owners
            found = sorted(owners.get(number, ())) if number else []
            if len(found) != 1:
                why = (
                    "未写投诉编号"
                    if not number
                    else f"投诉编号“{number}”"
                    + (f"在 {'、'.join(found)} 都有" if found else "在各项目中都找不到")
                )
                yield ctx.finding(
                    fb, link.column, number, why, code="feedback-property-unknown", severity=ERROR
                )
        elif number and numbered(fb, link.column) not in complaints:
            yield ctx.finding(fb, link.column, number)


def appeal_within_days(ctx: RuleContext) -> Iterator[Finding]:
    limit = int(ctx.params.get("days", 10))
    for rec in ctx.records.get("reinspections", []):
        report, appealed = as_date(rec.get("report_received")), as_date(rec.get("appealed"))
        if report and appealed and (appealed - report).days > limit:
            yield ctx.finding(rec, "appealed", (appealed - report).days, str(report))


def two_inspectors(ctx: RuleContext) -> Iterator[Finding]:
    for rec in ctx.records.get("reinspections", []):
        names = rec.get("inspectors")
        if rec.get("reinspected") or names:
            people = [n for n in re.split(r"[、,，/\s;；和及&+]+", names or "") if n]
            if len(people) < 2:
                yield ctx.finding(rec, "inspectors", names or "（空）")


def reinspection_on_time(ctx: RuleContext) -> Iterator[Finding]:
    terms = Terms.from_params(ctx.params)  # the same Terms the KPI and the lists take from config
    for rec in ctx.records.get("reinspections", []):
        try:
            due = reinspection_deadline(rec, ctx.calendar, terms)
        except CalendarGap as gap:
            yield ctx.finding(
                rec, "accepted", rec.get("accepted"), str(gap), code="calendar-missing", severity=ERROR
            )
            continue
        if due is None:
            continue
        rule = (
            f"紧急申诉 {terms.urgent_workdays} 个工作日内"
            if rec.get("urgent")
            else f"{terms.reinspection_days} 日内"
        )
        notified = as_date(rec.get("notified"))
        if notified and notified > due:
            yield ctx.finding(rec, "notified", notified, f"应于 {due}（{rule}）前书面通知，实际 {notified}")
        elif not notified and ctx.as_of.date() > due:
            yield ctx.finding(rec, "notified", "（未通知）", f"应于 {due}（{rule}）前书面通知，至今未通知")


@dataclass(frozen=True)
class RuleSpec:
    code: str
    func: Rule
    severity: str
    title: str
    params: dict = field(default_factory=dict)
    # row-local: its findings on a record depend on that record (and its file's columns) alone, not
    # on other records or the as-of time, so a stored file's findings can be kept (validate.local)
    local: bool = False


RULES: dict[str, RuleSpec] = {
    s.code: s
    for s in (
        RuleSpec("value-not-allowed", allowed_values, ERROR, "可选值", local=True),
        RuleSpec("duplicate-id", unique_ids, ERROR, "编号在项目内唯一"),
        RuleSpec("invalid-phone", phone_numbers, WARNING, "电话号码", local=True),
        RuleSpec("invalid-unit", unit_numbers, WARNING, "房号格式", local=True),
        RuleSpec("date-order", date_order, ERROR, "日期先后", local=True),
        RuleSpec("date-in-future", future_dates, ERROR, "日期不晚于统计时间"),
        RuleSpec("date-outside-sheet-month", sheet_month_dates, WARNING, "日期与工作表月份一致", local=True),
        RuleSpec("not-verified-same-day", same_day_verification, WARNING, "当天调查核实", local=True),
        RuleSpec("reply-after-promise", reply_by_promise, WARNING, "按承诺时间答复"),
        RuleSpec("callback-missing", callbacks_for_closed, WARNING, "完成后回访"),
        RuleSpec("callback-ref-unknown", callback_refs, WARNING, "回访关联编号存在"),
        RuleSpec("followup-missing", callback_followup, WARNING, "回访问题有后续处理", local=True),
        RuleSpec("feedback-not-reopened", feedback_reopened, WARNING, "不满意重新处理", local=True),
        RuleSpec("feedback-complaint-unknown", feedback_refs, WARNING, "反馈投诉编号存在"),
        RuleSpec("appeal-late", appeal_within_days, WARNING, "10 日内申诉", {"days": 10}, local=True),
        RuleSpec("reinspection-one-person", two_inspectors, WARNING, "两人复检", local=True),
        RuleSpec(
            "reinspection-late",
            reinspection_on_time,
            WARNING,
            "复检按时答复",
            {"days": Terms.reinspection_days, "urgent_workdays": Terms.urgent_workdays},
        ),
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

"""The KPI model of one period: company, per property, department and staff, trends and lists.

This is what kpis.json holds; the reports and the email read it and never recompute.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pipeline.completeness import covered
from pipeline.config import Config
from pipeline.domain import Terms, attribute, inline_callbacks
from pipeline.frames import frames as to_frames
from pipeline.kpi.core import (
    COMPLAINT_KEYS,
    RATE_KEYS,
    Data,
    Scope,
    View,
    by_complaint_field,
    by_field,
    by_property,
    company,
    kpi,
    measure,
    within,
)
from pipeline.kpi.lists import meeting_lists
from pipeline.kpi.programme import action_lists, actions_on_time, programme, with_roster
from pipeline.kpi.scorecard import scorecard
from pipeline.periods import Period, month_of, months_in, previous, week_of
from pipeline.workdays import WorkCalendar

TREND_LENGTH = 12
PROPERTY_TREND_KEYS = ("callback_rate", "effective_complaint_rate_ytd", "satisfaction_rate")


HOUSEHOLD_KEYS = ("effective_complaint_rate", "effective_complaint_rate_ytd")  # complaints ÷ households
NO_REGISTER = "无数据（未交投诉登记表）"


def handed_in_only(
    kpis: dict, handed_in, props, period: Period, as_of: datetime, config: Config, keys=HOUSEHOLD_KEYS
) -> dict:
    """The household rates (complaints ÷ households) over the properties that handed in their
    complaints register for the period (for the year to date: in any month of it), so that a
    register not handed in never flatters a rate: with none, the rate is null (无数据), never 0 %;
    with some, the others' households leave the denominator. handed_in None: not known (a caller
    without a store), nothing changes."""
    if handed_in is None:
        return kpis
    year = Period(period.kind, period.label, _ytd_start(period), period.end)
    for key, span in (("effective_complaint_rate", period), ("effective_complaint_rate_ytd", year)):
        if key not in keys:
            continue
        months = months_in(span, as_of)
        names = [p for p in props if covered(handed_in, "complaints", [p], months)]
        if not names:
            kpis[key].update(value=None, met=None, note=NO_REGISTER)
        elif len(names) < len(list(props)):
            households, _ = _households(config, names)
            if households:
                d = kpis[key]
                kpis[key] = {**d, **kpi(d["numerator"], households, d["target"], "<")}
                kpis[key]["note"] = f"仅含已交投诉登记表的 {len(names)} 个项目"
    return kpis


def _pick(kpis: dict, keys) -> dict:
    return {k: kpis[k] for k in keys} | {"counts": kpis["counts"]}


def _ytd_start(period: Period) -> datetime:
    return datetime(period.start.year, 1, 1)


def _scope(period: Period, as_of: datetime) -> Scope:
    return Scope(period.start, period.end, as_of)


def _households(config: Config, names) -> tuple[int | None, list[str]]:
    total, missing = 0, []
    for name in names:
        prop = config.properties.get(name)
        if prop is None or prop.households is None:
            missing.append(name)
        else:
            total += prop.households
    return (None if missing else total), missing


def _trend(
    data: Data,
    view: View,
    period: Period,
    kind: str,
    as_of: datetime,
    config: Config,
    households: list[int | None],
    covers: list[tuple],
    keys: tuple[str, ...] = RATE_KEYS,
    handed_in: set | None = None,
) -> list[list[dict]]:
    """The last 12 weeks or months up to this period, for each slice of the view: values with
    numerators and denominators. covers[i]: the properties whose households slice i counts."""
    if kind == period.kind:
        last = period
    elif kind == "monthly":
        last = month_of(min(period.end, as_of) - timedelta(seconds=1))
    else:
        last = week_of(min(period.end, as_of) - timedelta(seconds=1), config)
    out: list[list[dict]] = [[] for _ in view.names]
    for n in range(TREND_LENGTH - 1, -1, -1):
        p = previous(last, config, n) if n else last
        if p.start > as_of:
            continue
        sets = measure(data, view, _scope(p, as_of), config, households, _ytd_start(p), repeats=False)
        for i, k in enumerate(sets):
            handed_in_only(k, handed_in, covers[i], p, as_of, config, keys)
            row = {"period": p.label}
            row.update({key: k[key]["value"] for key in keys})
            row.update({f"{key}_numerator": k[key]["numerator"] for key in keys})
            row.update({f"{key}_denominator": k[key]["denominator"] for key in keys})
            if keys == RATE_KEYS:
                row.update(k["counts"])
            out[i].append(row)
    return out


def _trends(data: Data, period, as_of, config, total_households, props, handed_in) -> dict:
    """The weekly and monthly trends of the group, and (in a monthly report) of each property."""
    whole = company(data)
    group = {"covers": [tuple(props)], "handed_in": handed_in}
    out = {
        "weekly": _trend(data, whole, period, "weekly", as_of, config, [total_households], **group)[0],
        "monthly": _trend(data, whole, period, "monthly", as_of, config, [total_households], **group)[0],
        "monthly_by_property": {},
    }
    if period.kind == "monthly" and props:
        view = by_property(data, list(props))
        rows = _trend(
            data,
            view,
            period,
            "monthly",
            as_of,
            config,
            [_households(config, [name])[0] for name in props],
            [(name,) for name in props],
            keys=PROPERTY_TREND_KEYS,
            handed_in=handed_in,
        )
        out["monthly_by_property"] = dict(zip(props, rows, strict=True))
    return out


def compute_kpis(
    raw: dict,
    period: Period,
    as_of: datetime,
    config: Config,
    data_quality: dict,
    set_aside: list[dict],
    generated_at: datetime | None = None,
    handed_in: set | None = None,
) -> dict:
    """The whole model for one period (see the kpis.json contract in the README).

    raw: each register's records, as typed frames (pipeline.frames) or as the store's dicts.
    handed_in: Store.handed_in(); a household rate that no complaints register covers is null.
    """
    frames = {k: f.copy(deep=False) for k, f in to_frames(raw).items()}  # ours to add columns to
    attribute(frames)  # feedback naming no property: its complaint's (already done for a run's records)
    inline_callbacks(frames)  # the callbacks written on a case's row (likewise)
    config, differ = with_roster(config, frames)  # households from the roster where there is one
    calendar = WorkCalendar(config.holidays)
    data = Data(frames, as_of, calendar, Terms.of(config))
    errors: list[str] = []

    seen = set()
    for key in ("complaints", "callbacks", "repairs", "reinspections"):
        seen.update(frames[key]["_property"].dropna().unique().tolist())
    props = [p for p in config.properties] + sorted(p for p in seen if p and p not in config.properties)
    total_households, missing = _households(config, props)
    for name in missing:
        if name in seen:
            errors.append(
                f"项目“{name}”有登记数据，但 config.toml 中没有它的户数（households），无法计算有效投诉率；"
                f'请加入 [properties."{name}"] households = …'
            )

    model = _model(data, period, as_of, config, props, total_households, set_aside)
    _duties(model, frames, period, as_of, config, props)
    handed_in_only(model["kpis"], handed_in, props, period, as_of, config)
    for name, k in model["by_property"].items():
        handed_in_only(k, handed_in, (name,), period, as_of, config)
    model["trend"] = _trends(data, period, as_of, config, total_households, props, handed_in)
    model.update(
        # in the meeting's time zone, with its offset (2026-11-01T08:00:05+08:00), like every time a user reads
        generated_at=(generated_at or datetime.now(ZoneInfo(config.timezone))).isoformat(timespec="seconds"),
        data_quality={**data_quality, "households_differ": differ},
        errors=errors,
    )
    return model


def _duties(model: dict, frames: dict, period: Period, as_of: datetime, config: Config, props) -> None:
    """The routine callback programme and the problem tracker, beside the cases' KPIs."""
    scope = _scope(period, as_of)
    duties = programme(frames, scope, config, props)
    model["kpis"].update(duties["kpis"])
    company, per = actions_on_time(frames, scope, config, props)
    model["kpis"]["action_on_time_rate"] = company
    for name, k in model["by_property"].items():
        k.update(duties["by_property"].get(name, {}))
        k["action_on_time_rate"] = per[name]
    model["programme"] = {"areas": duties["areas"]}
    before = previous(period, config) if period.kind == "weekly" else None
    lists = action_lists(frames, scope, (before.start, before.end) if before else None)
    lists["areas_not_reached"] = [a for a in duties["areas"] if not a["reached"]]
    model["lists"].update(lists)


def _model(data: Data, period, as_of, config, props, total_households, set_aside) -> dict:
    """The model computed from the records, but its trends; the keys that compute_kpis fills in
    stand as None, to keep kpis.json's order."""
    scope = _scope(period, as_of)
    ytd = _ytd_start(period)
    trace: dict = {}
    company_kpis = measure(data, company(data), scope, config, [total_households], ytd, trace)[0]
    traced = trace.pop("_records", {})
    households = [_households(config, [name])[0] for name in props]
    by_prop = dict(
        zip(props, measure(data, by_property(data, props), scope, config, households, ytd), strict=True)
    )

    def picked(view: View, keys: tuple[str, ...]) -> dict[str, dict]:
        sets = measure(data, view, scope, config, [None] * len(view.names), ytd, repeats=False)
        return {name: _pick(k, keys) for name, k in zip(view.names, sets, strict=True)}

    by_department = picked(by_complaint_field(data, "department"), COMPLAINT_KEYS)
    by_staff = {
        "受理人": picked(by_complaint_field(data, "handler"), COMPLAINT_KEYS),
        "回访人": picked(
            by_field(data, "callbacks", "staff"), ("callback_followup_rate", "satisfaction_rate")
        ),
        "维修人": picked(by_field(data, "repairs", "worker"), ("callback_rate",)),
    }

    prev = previous(period, config)
    prev_kpis = measure(
        data, company(data), _scope(prev, as_of), config, [total_households], _ytd_start(prev), repeats=False
    )[0]
    categories, causes = _categories(data["complaints"], scope)

    return {
        "period": period.label,
        "kind": period.kind,
        "start": period.start.isoformat(timespec="minutes"),
        "end": period.end.isoformat(timespec="minutes"),
        "as_of": as_of.isoformat(timespec="minutes"),
        "generated_at": None,
        "kpis": company_kpis,
        "previous": {"period": prev.label, **{k: prev_kpis[k]["value"] for k in RATE_KEYS}},
        "by_property": by_prop,
        "by_department": by_department,
        "by_staff": by_staff,
        "categories": categories,
        "causes": causes,
        "trend": None,
        "scorecard": scorecard(data, period, as_of, config),
        "lists": meeting_lists(data, scope, set_aside),
        "lists_at": scope.stop.isoformat(timespec="minutes"),  # the days overdue / waiting count to here
        "terms": dataclasses.asdict(data.terms),  # the deadlines the figures were judged by
        "provenance": trace,
        "records": traced,
        "data_quality": None,
        "errors": None,
    }


def _categories(c, scope: Scope) -> tuple[dict[str, int], dict[str, list]]:
    """The period's complaints by category, most first (ties: the first seen), and each category's
    three most frequent contents."""
    got = c.loc[within(c, "received", scope.start, scope.stop), ["category", "content"]]
    got = got.fillna({"category": "未分类", "content": "（未写内容）"})
    by_cat = got.groupby("category", sort=False).size()
    categories = {k: int(v) for k, v in by_cat.sort_values(ascending=False, kind="stable").items()}
    causes = {}
    for cat, items in got.groupby("category", sort=False)["content"]:
        counted = items.groupby(items, sort=False).size().sort_values(ascending=False, kind="stable")
        causes[cat] = [[k, int(v)] for k, v in counted.iloc[:3].items()]
    return categories, causes

"""The KPI model of one period: company, per property, department and staff, trends and lists.

This is what kpis.json holds; the reports and the email read it and never recompute.
"""

from __future__ import annotations

import dataclasses
from contextlib import nullcontext
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pipeline.completeness import covered
from pipeline.config import Config
from pipeline.domain import Terms, attribute, callback_index
from pipeline.infra.pool import forked
from pipeline.kpi.core import COMPLAINT_KEYS, RATE_KEYS, Records, Scope, compute_set, kpi
from pipeline.kpi.lists import meeting_lists
from pipeline.kpi.scorecard import scorecard
from pipeline.kpi.slices import Complaints, Partition, Slice, by_complaint_field, by_field, by_property
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
    data: Records | Slice,
    period: Period,
    kind: str,
    as_of: datetime,
    config: Config,
    calendar: WorkCalendar,
    households: int | None,
    keys: tuple[str, ...] = RATE_KEYS,
    callbacks: dict | None = None,
    handed_in: set | None = None,
    props: tuple[str, ...] = (),
) -> list[dict]:
    """The last 12 weeks or months up to this period: values with numerators and denominators.

    callbacks: the callback index of `data` at as-of, when the caller has it already."""
    if kind == period.kind:
        last = period
    elif kind == "monthly":
        last = month_of(min(period.end, as_of) - timedelta(seconds=1))
    else:
        last = week_of(min(period.end, as_of) - timedelta(seconds=1), config)
    if callbacks is None:
        callbacks = callback_index(data.callbacks, as_of)
    out = []
    for n in range(TREND_LENGTH - 1, -1, -1):
        p = previous(last, config, n) if n else last
        if p.start > as_of:
            continue
        k = compute_set(
            data, _scope(p, as_of), config, households, calendar, _ytd_start(p), callbacks, repeats=False
        )
        handed_in_only(k, handed_in, props, p, as_of, config, keys)
        row = {"period": p.label}
        row.update({key: k[key]["value"] for key in keys})
        row.update({f"{key}_numerator": k[key]["numerator"] for key in keys})
        row.update({f"{key}_denominator": k[key]["denominator"] for key in keys})
        if keys == RATE_KEYS:
            row.update(k["counts"])
        out.append(row)
    return out


def _trends(
    data, period, as_of, config, calendar, total_households, callbacks, properties, props, handed_in
) -> dict:
    """The weekly and monthly trends of the group, and (in a monthly report) of each property."""
    group = {"callbacks": callbacks, "handed_in": handed_in, "props": tuple(props)}
    return {
        "weekly": _trend(data, period, "weekly", as_of, config, calendar, total_households, **group),
        "monthly": _trend(data, period, "monthly", as_of, config, calendar, total_households, **group),
        "monthly_by_property": {
            name: _trend(
                properties.slice(name),
                period,
                "monthly",
                as_of,
                config,
                calendar,
                _households(config, [name])[0],
                keys=PROPERTY_TREND_KEYS,
                callbacks=callbacks,  # keyed by (property, number): the group's serves each property
                handed_in=handed_in,
                props=(name,),
            )
            for name in props
        }
        if period.kind == "monthly"
        else {},
    }


def _provenance(rec: dict) -> dict:
    """Where a record behind a KPI lives: enough to find the clerk's row, no customer data."""
    return {
        "register": rec.get("_register"),
        "id": rec.get("id"),
        "property": rec.get("_property"),
        "file": rec.get("_file"),
        "sheet": rec.get("_sheet"),
        "row": rec.get("_row"),
    }


def compute_kpis(
    raw: dict[str, list[dict]],
    period: Period,
    as_of: datetime,
    config: Config,
    data_quality: dict,
    set_aside: list[dict],
    generated_at: datetime | None = None,
    handover: bool = False,
    parallel: bool = False,
    handed_in: set | None = None,
) -> dict:
    """The whole model for one period (see the kpis.json contract in the README).

    handover: raw holds fresh dicts that may be parsed in place (a run's own Store.records result).
    parallel: the trends (24 periods over the whole group, and 12 months per property: about half
    the work) are computed in a forked worker while this process computes the rest.
    handed_in: Store.handed_in(); a household rate that no complaints register covers is null.
    """
    attribute(raw)  # feedback naming no property: its complaint's (already done for a run's records)
    data = Records.from_store(raw, in_place=handover)
    calendar = WorkCalendar(config.holidays)
    callbacks = callback_index(data.callbacks, as_of)
    errors: list[str] = []

    seen = {
        r.get("_property")
        for rows in (data.complaints, data.callbacks, data.repairs, data.reinspections)
        for r in rows
    }
    props = [p for p in config.properties] + sorted(p for p in seen if p and p not in config.properties)
    total_households, missing = _households(config, props)
    for name in missing:
        if name in seen:
            errors.append(
                f"项目“{name}”有登记数据，但 config.toml 中没有它的户数（households），无法计算有效投诉率；"
                f'请加入 [properties."{name}"] households = …'
            )

    properties = by_property(data)
    trend_args = (
        data,
        period,
        as_of,
        config,
        calendar,
        total_households,
        callbacks,
        properties,
        props,
        handed_in,
    )
    with forked(_trends, *trend_args) if parallel else nullcontext() as trend_job:
        model = _model(
            data, period, as_of, config, calendar, callbacks, properties, props, total_households, set_aside
        )
        handed_in_only(model["kpis"], handed_in, props, period, as_of, config)
        for name, k in model["by_property"].items():
            handed_in_only(k, handed_in, (name,), period, as_of, config)
        model["trend"] = trend_job.result()[0] if trend_job else _trends(*trend_args)
    model.update(
        # in the meeting's time zone, with its offset (2026-11-01T08:00:05+08:00), like every time a user reads
        generated_at=(generated_at or datetime.now(ZoneInfo(config.timezone))).isoformat(timespec="seconds"),
        data_quality=data_quality,
        errors=errors,
    )
    return model


def _model(
    data,
    period,
    as_of,
    config,
    calendar,
    callbacks,
    properties: Partition,
    props,
    total_households,
    set_aside,
) -> dict:
    """The model computed from the records, but its trends (computed beside it); the keys that
    compute_kpis fills in stand as None, to keep kpis.json's order."""
    scope = _scope(period, as_of)
    ytd = _ytd_start(period)
    trace: dict = {}
    company = compute_set(data, scope, config, total_households, calendar, ytd, callbacks, trace)
    traced = trace.pop("_records", {})
    by_property = {}
    for name in props:
        hh, _ = _households(config, [name])
        by_property[name] = compute_set(properties.slice(name), scope, config, hh, calendar, ytd, callbacks)

    def picked(partition: tuple[list[str], Partition], keys: tuple[str, ...]) -> dict[str, dict]:
        names, slices = partition
        return {
            name: _pick(
                compute_set(slices.slice(name), scope, config, None, calendar, ytd, callbacks, repeats=False),
                keys,
            )
            for name in names
        }

    complaints = Complaints(data)
    by_department = picked(by_complaint_field(data, "department", complaints), COMPLAINT_KEYS)
    by_staff = {
        "受理人": picked(by_complaint_field(data, "handler", complaints), COMPLAINT_KEYS),
        "回访人": picked(
            by_field(data, "callbacks", "staff"), ("callback_followup_rate", "satisfaction_rate")
        ),
        "维修人": picked(by_field(data, "repairs", "worker"), ("callback_rate",)),
    }

    prev = previous(period, config)
    prev_kpis = compute_set(
        data,
        _scope(prev, as_of),
        config,
        total_households,
        calendar,
        _ytd_start(prev),
        callbacks,
        repeats=False,
    )
    categories: dict[str, int] = {}
    causes: dict[str, dict[str, int]] = {}
    for c in data.complaints:
        if c.get("received") and scope.start <= c["received"] < scope.stop:
            cat = c.get("category") or "未分类"
            categories[cat] = categories.get(cat, 0) + 1
            what = c.get("content") or "（未写内容）"
            causes.setdefault(cat, {})[what] = causes.setdefault(cat, {}).get(what, 0) + 1

    return {
        "period": period.label,
        "kind": period.kind,
        "start": period.start.isoformat(timespec="minutes"),
        "end": period.end.isoformat(timespec="minutes"),
        "as_of": as_of.isoformat(timespec="minutes"),
        "generated_at": None,
        "kpis": company,
        "previous": {"period": prev.label, **{k: prev_kpis[k]["value"] for k in RATE_KEYS}},
        "by_property": by_property,
        "by_department": by_department,
        "by_staff": by_staff,
        "categories": dict(sorted(categories.items(), key=lambda kv: -kv[1])),
        "causes": {
            cat: [list(kv) for kv in sorted(items.items(), key=lambda kv: -kv[1])[:3]]
            for cat, items in causes.items()
        },
        "trend": None,
        "scorecard": scorecard(data, period, as_of, config),
        "lists": meeting_lists(
            data, scope, calendar, set_aside, callbacks if scope.stop == as_of else None, Terms.of(config)
        ),
        "lists_at": scope.stop.isoformat(timespec="minutes"),  # the days overdue / waiting count to here
        "terms": dataclasses.asdict(Terms.of(config)),  # the deadlines the figures were judged by
        "provenance": trace,
        "records": {key: _provenance(rec) for key, rec in traced.items()},
        "data_quality": None,
        "errors": None,
    }

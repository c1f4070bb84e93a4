"""The KPI model of one period: company, per property, department and staff, trends and lists.

This is what kpis.json holds; the reports and the email read it and never recompute.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pipeline.config import Config
from pipeline.kpi import COMPLAINT_KEYS, RATE_KEYS, Records, Scope, _callback_index, compute_set
from pipeline.kpi_lists import meeting_lists
from pipeline.periods import Period, month_of, previous, week_of
from pipeline.workdays import WorkCalendar

TREND_LENGTH = 12


def _slice(
    data: Records, complaints=None, callbacks=None, repairs=None, feedback=None, reinspections=None
) -> Records:
    return Records(complaints or [], callbacks or [], reinspections or [], feedback or [], repairs or [])


def _by_property(data: Records, name: str) -> Records:
    def mine(rows):
        return [r for r in rows if r.get("_property") == name]

    ids = {c.get("id") for c in mine(data.complaints)}
    feedback = [
        f
        for f in data.feedback
        if f.get("_property") == name or (not f.get("_property") and f.get("complaint_id") in ids)
    ]
    return Records(
        mine(data.complaints), mine(data.callbacks), mine(data.reinspections), feedback, mine(data.repairs)
    )


def _complaint_slice(data: Records, complaints: list[dict]) -> Records:
    ids = {c.get("id") for c in complaints}
    return _slice(
        data,
        complaints=complaints,
        callbacks=[cb for cb in data.callbacks if cb.get("ref") in ids],
        feedback=[f for f in data.feedback if f.get("complaint_id") in ids],
    )


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
    data: Records,
    period: Period,
    kind: str,
    as_of: datetime,
    config: Config,
    calendar: WorkCalendar,
    households: int | None,
) -> list[dict]:
    if kind == period.kind:
        last = period
    elif kind == "monthly":
        last = month_of(min(period.end, as_of) - timedelta(seconds=1))
    else:
        last = week_of(min(period.end, as_of) - timedelta(seconds=1), config)
    callbacks = _callback_index(data, as_of)
    out = []
    for n in range(TREND_LENGTH - 1, -1, -1):
        p = previous(last, config, n) if n else last
        if p.start > as_of:
            continue
        k = compute_set(data, _scope(p, as_of), config, households, calendar, _ytd_start(p), callbacks)
        row = {"period": p.label}
        row.update({key: k[key]["value"] for key in RATE_KEYS})
        row.update({f"{key}_numerator": k[key]["numerator"] for key in RATE_KEYS})
        row.update({f"{key}_denominator": k[key]["denominator"] for key in RATE_KEYS})
        row.update(k["counts"])
        out.append(row)
    return out


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
) -> dict:
    """The whole model for one period (see the kpis.json contract in the README)."""
    data = Records.from_store(raw)
    calendar = WorkCalendar(config.holidays)
    scope = _scope(period, as_of)
    ytd = _ytd_start(period)
    callbacks = _callback_index(data, as_of)
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

    trace: dict = {}
    company = compute_set(data, scope, config, total_households, calendar, ytd, callbacks, trace)
    traced = trace.pop("_records", {})
    by_property = {}
    for name in props:
        hh, _ = _households(config, [name])
        by_property[name] = compute_set(_by_property(data, name), scope, config, hh, calendar, ytd, callbacks)

    by_department = {}
    for dept in sorted({c.get("department") for c in data.complaints if c.get("department")}):
        sl = _complaint_slice(data, [c for c in data.complaints if c.get("department") == dept])
        by_department[dept] = _pick(
            compute_set(sl, scope, config, None, calendar, ytd, callbacks), COMPLAINT_KEYS
        )

    by_staff: dict[str, dict] = {"受理人": {}, "回访人": {}, "维修人": {}}
    for name in sorted({c.get("handler") for c in data.complaints if c.get("handler")}):
        sl = _complaint_slice(data, [c for c in data.complaints if c.get("handler") == name])
        by_staff["受理人"][name] = _pick(
            compute_set(sl, scope, config, None, calendar, ytd, callbacks), COMPLAINT_KEYS
        )
    for name in sorted({cb.get("staff") for cb in data.callbacks if cb.get("staff")}):
        sl = _slice(data, callbacks=[cb for cb in data.callbacks if cb.get("staff") == name])
        by_staff["回访人"][name] = _pick(
            compute_set(sl, scope, config, None, calendar, ytd, callbacks),
            ("callback_followup_rate", "satisfaction_rate"),
        )
    for name in sorted({r.get("worker") for r in data.repairs if r.get("worker")}):
        sl = _slice(data, repairs=[r for r in data.repairs if r.get("worker") == name])
        by_staff["维修人"][name] = _pick(
            compute_set(sl, scope, config, None, calendar, ytd, callbacks), ("callback_rate",)
        )

    prev = previous(period, config)
    prev_kpis = compute_set(
        data, _scope(prev, as_of), config, total_households, calendar, _ytd_start(prev), callbacks
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
        "generated_at": (generated_at or datetime.now()).isoformat(timespec="seconds"),
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
        "trend": {
            "weekly": _trend(data, period, "weekly", as_of, config, calendar, total_households),
            "monthly": _trend(data, period, "monthly", as_of, config, calendar, total_households),
        },
        "lists": meeting_lists(data, scope, calendar, set_aside),
        "provenance": trace,
        "records": {key: _provenance(rec) for key, rec in traced.items()},
        "data_quality": data_quality,
        "errors": errors,
    }

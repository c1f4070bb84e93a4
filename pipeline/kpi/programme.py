"""The department's standing duties beside the cases: the routine callback programme (seed 000 篇一
二.2: 物管员按区域每季回访 1 次, 办公室主任每年登门回访, 每半年一次住户座谈会, 问卷) and the meetings'
problem tracker (seed 002: what the morning and Friday meetings decide, who owns it, by when).

Households come from the roster (住户名册) where a property has one, else from config.toml; a unit
counts as reached when a callback of that kind names it (on the roster, where there is one).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

import pandas as pd

from pipeline.config import Config
from pipeline.domain import roster_households
from pipeline.frames import rows, value
from pipeline.kpi.core import Scope, iso, kpi, within

ROUTINE, DIRECTOR, FORUM, SURVEY = "例行回访", "主任走访", "座谈会", "问卷"


def with_roster(config: Config, frames: dict[str, pd.DataFrame]) -> tuple[Config, list[dict]]:
    """The config with each property's households taken from its roster where it has one, and
    the properties whose roster and config.toml disagree (said in the data quality section)."""
    roster = roster_households(frames["households"])
    props, differ = dict(config.properties), []
    for name, n in roster.items():
        if name in props:
            if props[name].households != n:
                differ.append({"property": name, "roster": n, "config": props[name].households})
            props[name] = replace(props[name], households=n)
    return replace(config, properties=props), differ


def _quarter(when: datetime) -> tuple[datetime, datetime]:
    first = (when.month - 1) // 3 * 3 + 1
    start = datetime(when.year, first, 1)
    end = datetime(when.year + (first == 10), 1 if first == 10 else first + 3, 1)
    return start, end


def _half(when: datetime) -> tuple[datetime, datetime]:
    if when.month <= 6:
        return datetime(when.year, 1, 1), datetime(when.year, 7, 1)
    return datetime(when.year, 7, 1), datetime(when.year + 1, 1, 1)


def visits(cb: pd.DataFrame, kind: str) -> pd.Series:
    """Callbacks of `kind` that reached a household: a visit or a call naming its unit (a forum or a
    questionnaire is a duty of its own, counted apart)."""
    return ((cb["kind"] == kind) & ~cb["method"].isin([FORUM, SURVEY])).fillna(False) & cb["unit"].notna()


def _reached(cb: pd.DataFrame, h: pd.DataFrame, kind: str, start: datetime, stop: datetime) -> pd.DataFrame:
    """Distinct (property, unit) a callback of `kind` reached in [start, stop); on the roster where
    the property has one."""
    got = cb[visits(cb, kind) & within(cb, "date", start, stop)]
    got = got[["_property", "unit"]].drop_duplicates()
    on_roster = set(h["_property"].dropna().unique().tolist())
    if on_roster:
        listed = h[["_property", "unit"]].drop_duplicates()
        kept = got.merge(listed, on=["_property", "unit"], how="inner")
        got = pd.concat([kept, got[~got["_property"].isin(list(on_roster))]], ignore_index=True)
    return got


def _coverage(reached: pd.DataFrame, props, config: Config, target, pace: float) -> tuple[dict, dict]:
    """Company and per-property coverage: units reached ÷ households, with the period's pace."""
    counts = reached.groupby("_property").size()
    per = {}
    total_n = total_d = 0
    for name in props:
        households = config.properties[name].households if name in config.properties else None
        n = int(counts.get(name, 0))
        per[name] = _paced(kpi(n, households or 0, target), pace, target)
        if households:
            total_n, total_d = total_n + n, total_d + households
    return _paced(kpi(total_n, total_d, target), pace, target), per


def _paced(k: dict, pace: float, target: float) -> dict:
    """Judged against the target once its span has ended, against the pace until then (on track)."""
    k["pace"] = round(pace * target, 6)
    if k["value"] is not None and pace < 1:
        k["met"] = k["value"] >= k["pace"] - 1e-12
        k["note"] = f"按进度考核：至今应达 {k['pace']:.0%}"
    return k


def _fraction(start: datetime, end: datetime, stop: datetime) -> float:
    return max(0.0, min(1.0, (stop - start).total_seconds() / (end - start).total_seconds()))


def programme(frames: dict, scope: Scope, config: Config, props: list[str]) -> dict:
    """routine_callback_coverage, director_visit_coverage and resident_forums, for the company and
    each property, and the areas of the quarter: {"kpis": …, "by_property": …, "areas": […]}."""
    cb, h = frames["callbacks"], frames["households"]
    stop, t = scope.stop, config.targets
    q_start, q_end = _quarter(scope.start)
    year = (datetime(scope.start.year, 1, 1), datetime(scope.start.year + 1, 1, 1))
    company, per = {}, {name: {} for name in props}
    for key, kind, (start, end) in (
        ("routine_callback_coverage", ROUTINE, (q_start, q_end)),
        ("director_visit_coverage", DIRECTOR, year),
    ):
        reached = _reached(cb, h, kind, start, stop)
        company[key], each = _coverage(reached, props, config, t[key], _fraction(start, end, stop))
        for name in props:
            per[name][key] = each[name]
    h_start, h_end = _half(scope.start)
    in_half = (cb["date"] >= h_start) & (cb["date"] < stop)
    forums = cb[in_half & (cb["method"] == FORUM).fillna(False)]
    surveys = cb[in_half & (cb["method"] == SURVEY).fillna(False)]
    held = forums.assign(day=forums["date"].dt.normalize())[["_property", "day"]].drop_duplicates()
    by_held, by_survey = held.groupby("_property").size(), surveys.groupby("_property").size()
    over = stop >= h_end
    for name in props:
        per[name]["resident_forums"] = _forums(int(by_held.get(name, 0)), int(by_survey.get(name, 0)), over)
    company["resident_forums"] = _forums(len(held), len(surveys), over)
    company["resident_forums"]["properties_without"] = [
        name for name in props if not per[name]["resident_forums"]["count"]
    ]
    return {"kpis": company, "by_property": per, "areas": areas(cb, h, q_start, stop, props)}


def _forums(count: int, surveys: int, over: bool) -> dict:
    """座谈会 held this half-year against the seeds' one; questionnaires counted beside."""
    met = True if count >= 1 else (False if over else None)
    out = {"count": count, "target": 1, "met": met, "questionnaires": surveys}
    if met is None:
        out["note"] = "本半年尚未召开"
    return out


def areas(cb: pd.DataFrame, h: pd.DataFrame, start: datetime, stop: datetime, props) -> list[dict]:
    """Each roster area of the quarter: households, units reached by a 例行回访, the staff member who
    covers it (the 回访人 seen most often on its routine callbacks), oldest first by property."""
    if h.empty:
        return []
    listed = h[h["_property"].notna() & h["unit"].notna()][["_property", "area", "unit"]].drop_duplicates(
        ["_property", "unit"]
    )
    listed = listed.assign(area=listed["area"].fillna("（未分区）"))
    routine = cb[visits(cb, ROUTINE)]
    located = routine.merge(listed, on=["_property", "unit"], how="inner")
    now = located[within(located, "date", start, stop)]
    reached = now[["_property", "area", "unit"]].drop_duplicates().groupby(["_property", "area"]).size()
    staff = (
        located[located["staff"].notna()]
        .groupby(["_property", "area"])["staff"]
        .agg(lambda s: s.value_counts().sort_index().sort_values(ascending=False, kind="stable").index[0])
    )
    out = []
    for (prop, area), n in listed.groupby(["_property", "area"], sort=True).size().items():
        if props and prop not in props:
            continue
        got = int(reached.get((prop, area), 0))
        out.append(
            {
                "property": prop,
                "area": area,
                "households": int(n),
                "reached": got,
                "value": got / int(n),
                "staff": value(staff.get((prop, area))),
            }
        )
    return sorted(out, key=lambda a: (a["property"], _natural(a["area"])))


def _natural(text: str) -> tuple:
    """2栋 before 10栋: the numbers in a name compared as numbers."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text))


def actions_on_time(frames: dict, scope: Scope, config: Config, props: list[str]) -> tuple[dict, dict]:
    """action_on_time_rate: items due in the period (完成时限 inside it) done by their deadline ÷
    items due in the period; for the company and each property."""
    a = frames["actions"]
    due = (a["due"] >= scope.start) & (a["due"] < scope.stop)
    done = (a["done"] <= scope.as_of) & (a["done"].dt.normalize() <= a["due"].dt.normalize())
    target = config.targets["action_on_time_rate"]
    company = kpi(int((due & done).sum()), int(due.sum()), target)
    per = {}
    for name in props:
        mine = (a["_property"] == name).fillna(False)
        per[name] = kpi(int((due & done & mine).sum()), int((due & mine).sum()), target)
    return company, per


def action_lists(frames: dict, scope: Scope, last_week: tuple[datetime, datetime] | None) -> dict:
    """The tracker's lists at the scope's stop: overdue items, oldest deadline first; last week's
    decisions with whether they are done; the items raised in the period with their causes and
    measures (the supervisor's own words)."""
    a = frames["actions"]
    as_of = scope.stop
    today = pd.Timestamp(as_of).normalize()
    columns = [
        "id",
        "_property",
        "raised",
        "occasion",
        "problem",
        "cause",
        "measure",
        "owner",
        "department",
        "due",
        "escalated_to",
        "done",
        "progress",
    ]
    open_now = ~(a["done"] <= as_of)

    def item(rec: dict) -> dict:
        done = rec["done"] if rec["done"] is not None and rec["done"] <= as_of else None
        out = {
            "id": rec["id"],
            "property": rec["_property"],
            "raised": iso(rec["raised"]),
            "occasion": rec["occasion"],
            "problem": rec["problem"],
            "cause": rec["cause"],
            "measure": rec["measure"],
            "owner": rec["owner"],
            "department": rec["department"],
            "due": iso(rec["due"]),
            "escalated_to": rec["escalated_to"],
            "done": iso(done),
            "progress": rec["progress"],
        }
        if rec["due"] is not None and done is None and rec["due"] < today:
            out["days_overdue"] = int((today - rec["due"].normalize()).days)
        if done is not None:
            late = rec["due"] is not None and done.normalize() > rec["due"].normalize()
            out["state"] = "逾期完成" if late else "已完成"
        else:
            out["state"] = f"逾期 {out['days_overdue']} 天未完成" if "days_overdue" in out else "进行中"
        return out

    overdue = sorted(
        (item(r) for r in rows(a[open_now & (a["due"] < today)], columns)), key=lambda x: -x["days_overdue"]
    )
    raised = (a["raised"] >= scope.start) & (a["raised"] < scope.stop)
    out = {"actions_overdue": overdue, "actions_raised": [item(r) for r in rows(a[raised], columns)]}
    if last_week:
        before = (a["raised"] >= last_week[0]) & (a["raised"] < last_week[1])
        followed = [item(r) for r in rows(a[before], columns)]
        out["actions_last_week"] = sorted(
            followed, key=lambda x: (x["done"] is not None, -x.get("days_overdue", 0))
        )
    next_week = (a["due"] >= today) & (a["due"] < today + pd.Timedelta(days=7)) & open_now
    out["actions_due_next_week"] = [item(r) for r in rows(a[next_week], columns)]
    return out

"""kpis.json → the report model both the PDF and the Excel report render, so the two always agree.

Everything a reader sees is decided here: labels, formatted values, met/missed with a symbol,
the change from the previous period, masked customer names and phones, list columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from pipeline.completeness import missing_text
from pipeline.kpi.core import RATE_KEYS
from pipeline.periods import Period

KPI_LABELS = {
    "callback_rate": "回访率",
    "reply_rate": "回复率",
    "promise_kept_rate": "按时答复率",
    "same_day_verification_rate": "当日核实率",
    "effective_complaint_rate": "有效投诉率（本期）",
    "effective_complaint_rate_ytd": "有效投诉率（年累计）",
    "callback_followup_rate": "回访处理率",
    "reinspection_on_time_rate": "复检按时率",
    "satisfaction_rate": "满意率",
    "repeat_complaints": "重复投诉",
    "routine_callback_coverage": "例行回访覆盖率",
    "director_visit_coverage": "主任走访覆盖率",
    "action_on_time_rate": "决议按时完成率",
}
DEFINITIONS = {
    "callback_rate": (
        "本期完成的投诉和报修中，完成当日或之后有回访记录的 ÷ 本期完成的投诉和报修",
        "制度：回访率 100%",
    ),
    "reply_rate": ("本期完成的投诉中已回复客户的 ÷ 本期完成的投诉", "制度：回复率 100%"),
    "promise_kept_rate": (
        "本期回复且有承诺日期的投诉中，回复日期不晚于承诺日期的 ÷ 本期回复且有承诺日期的投诉",
        "按承诺时间答复",
    ),
    "same_day_verification_rate": (
        "本期受理的投诉中调查核实日期等于受理日期的 ÷ 本期受理的投诉",
        "当天调查、核实",
    ),
    "effective_complaint_rate": (
        '本期受理的有效投诉 ÷ 服务户数；供参考，不单独考核（config.toml 中 effective_complaint_rate_period = "month" 时月报按月考核）',
        "有效投诉率 < 1%（全年）",
    ),
    "effective_complaint_rate_ytd": ("年初至今受理的有效投诉 ÷ 服务户数", "有效投诉率 < 1%（全年）"),
    "callback_followup_rate": (
        "本期回访中反映不满意或问题未解决、且有后续处理记录的 ÷ 本期反映问题的回访",
        "回访处理率 100%",
    ),
    "reinspection_on_time_rate": (
        "本期书面通知的复检中，受理后 {reinspection_days} 日内（紧急：{urgent_workdays} 个工作日内，按法定节假日及调休计算）通知的 ÷ 本期书面通知的复检",
        "{reinspection_days} 日 / 紧急 {urgent_workdays} 个工作日",
    ),
    "satisfaction_rate": ("本期反馈和回访评价中“满意”+“基本满意” ÷ 有评价的反馈和回访", "满意 + 基本满意"),
    "repeat_complaints": ("本期受理的投诉中，同一房号、同一类别 30 天内再次投诉的件数", "越少越好"),
}
HEADLINE = (*RATE_KEYS, "repeat_complaints")
PROPERTY_COLUMNS = (
    "callback_rate",
    "reply_rate",
    "promise_kept_rate",
    "same_day_verification_rate",
    "effective_complaint_rate_ytd",
    "callback_followup_rate",
    "reinspection_on_time_rate",
    "satisfaction_rate",
)
GROUP_ROWS = 300  # a group's roll-up shows this many rows of a record list; each property's report has all
ELSEWHERE = "各项目的完整清单在其自己的报告中：pipeline run --property 项目名（与本报告同一周期）"
MET, MISSED, NONE, CONTEXT = "✔ 达标", "✘ 未达标", "— 无数据", "— 参考"


def mask_name(name: str | None) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧阳**; keeps the family name the staff need to address the customer."""
    if not name:
        return ""
    name = str(name)
    keep = 2 if len(name) >= 4 else 1
    return name[:keep] + "*" * max(1, len(name) - keep)


def mask_phone(phone: str | None) -> str:
    """13812345678 → 138****5678; landlines keep the area code and the last four digits."""
    if not phone:
        return ""
    digits = re.sub(r"\D", "", str(phone))
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "****" + digits[-4:] if digits.startswith("1") else digits[:4] + "****" + digits[-4:]


def text_width(value) -> int:
    """Display width in half-width units: CJK and full-width characters count two (PDF column
    widths, Excel column widths)."""
    return sum(2 if ord(ch) >= 0x2E80 else 1 for ch in str(value))


def pct(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.{digits}f}%"


def _fmt(key: str, value) -> str:
    if value is None:
        return "—"
    if key == "repeat_complaints":
        return f"{value} 件"
    if key.startswith("effective_complaint"):
        return pct(value, 2)
    return pct(value)


def _status(k: dict) -> tuple[str, str]:
    if k.get("met") is None:  # no data, or a figure with no target of its own (context)
        return (NONE if k.get("value") is None else CONTEXT), "none"
    return (MET, "met") if k["met"] else (MISSED, "missed")


def _change(key: str, now, before) -> str:
    if now is None or before is None or key == "repeat_complaints":
        return "—"
    delta = (now - before) * 100
    if abs(delta) < 0.05:
        return "持平"
    return f"{'▲' if delta > 0 else '▼'} {abs(delta):.{2 if key.startswith('effective') else 1}f} 个百分点"


def kpi_row(key: str, k: dict, previous: dict | None = None) -> dict:
    status, css = _status(k)
    target = k.get("target")
    direction = "<" if k.get("direction") == "<" else "≥"
    return {
        "key": key,
        "label": KPI_LABELS[key],
        "value": k.get("value"),
        "value_text": _fmt(key, k.get("value")),
        "numerator": k.get("numerator"),
        "denominator": k.get("denominator"),
        "fraction": f"{k.get('numerator')}/{k.get('denominator')}" if k.get("denominator") else "—",
        "target": target,
        "target_text": "—" if target is None else f"{direction} {_fmt(key, target)}",
        "status": status,
        "css": css,
        "direction": k.get("direction", ">="),
        "previous": (previous or {}).get(key) if previous else None,
        "previous_text": _fmt(key, (previous or {}).get(key)) if previous else "—",
        "change": _change(key, k.get("value"), (previous or {}).get(key)) if previous else "—",
        "note": k.get("note")
        or k.get("error")
        or ("年度进度参考线 " + pct(k["pace"], 2) if "pace" in k else ""),
    }


def _gap(key: str, k: dict) -> str:
    """How far a figure is from its target, in words ("差 8.6 个百分点")."""
    if k.get("value") is None or k.get("target") is None:
        return ""
    delta = abs(k["value"] - k["target"]) * 100
    return f"差 {delta:.{2 if key.startswith('effective') else 1}f} 个百分点"


def missed_kpis(m: dict) -> list[dict]:
    """The period's KPIs that missed their target (kpi_row), each with how far off it is and, in a
    report of several properties, the worst property ({property, value_text, gap} or None)."""
    out = []
    properties = m.get("by_property") or {}
    for key in HEADLINE:
        k = m["kpis"][key]
        if k.get("met") is not False:
            continue
        missed = [
            (name, ks[key])
            for name, ks in properties.items()
            if (ks.get(key) or {}).get("met") is False and ks[key].get("value") is not None
        ]
        worst = None
        if len(properties) > 1 and missed:
            pick = max if k.get("direction") == "<" else min
            name, pk = pick(missed, key=lambda item: item[1]["value"])
            worst = {"property": name, "value_text": _fmt(key, pk["value"]), "gap": _gap(key, pk)}
        out.append({**kpi_row(key, k), "gap": _gap(key, k), "worst": worst})
    return out


@dataclass(frozen=True)
class Rate:
    """A KPI figure in a table cell. The PDF prints its text (✘ when it misses its target, the
    fraction when asked); the workbook writes the number with a percent format and judges it by a
    conditional format, so that it sorts, filters and charts."""

    key: str
    value: float | None
    numerator: int | None = None
    denominator: int | None = None
    target: float | None = None
    direction: str = ">="
    met: bool | None = None
    fraction: bool = False

    @classmethod
    def of(cls, key: str, k: dict, fraction: bool = False) -> Rate:
        return cls(
            key,
            k.get("value"),
            k.get("numerator"),
            k.get("denominator"),
            k.get("target"),
            k.get("direction", ">="),
            k.get("met"),
            fraction,
        )

    @property
    def digits(self) -> int:
        return 2 if self.key.startswith("effective") else 1

    def __str__(self) -> str:
        if self.value is None:
            return "—"
        text = _fmt(self.key, self.value)
        if self.fraction and self.denominator:
            text += f"（{self.numerator}/{self.denominator}）"
        return text + (" ✘" if self.met is False else "")


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list]
    empty: str = "无"
    note: str = ""
    total: int | None = None  # the rows the table stands for, when only the first were built

    @property
    def count(self) -> int:
        return len(self.rows) if self.total is None else self.total


LIST_SPECS = {
    "overdue": (
        "逾期与督办",
        [
            ("type", "类型"),
            ("id", "编号"),
            ("property", "项目"),
            ("deadline", "应完成日期"),
            ("days_overdue", "逾期天数"),
            ("owner", "责任人/部门"),
        ],
    ),
    "pending_callbacks": (
        "待回访（已完成、尚无回访）",
        [
            ("type", "类型"),
            ("id", "编号"),
            ("property", "项目"),
            ("unit", "房号"),
            ("person", "客户"),
            ("phone", "电话"),
            ("closed", "完成日期"),
            ("days_waiting", "已等待天数"),
            ("owner", "经办人"),
        ],
    ),
    "reinspections_due_soon": (
        "7 天内到期的复检",
        [
            ("id", "申诉编号"),
            ("property", "项目"),
            ("deadline", "答复期限"),
            ("urgent", "紧急"),
            ("days_left", "剩余天数"),
            ("owner", "复检人员"),
        ],
    ),
    "open": (
        "未完成的投诉与报修",
        [
            ("type", "类型"),
            ("id", "编号"),
            ("property", "项目"),
            ("unit", "房号"),
            ("person", "客户"),
            ("phone", "电话"),
            ("what", "事项"),
            ("since", "受理时间"),
            ("age_days", "已用天数"),
            ("deadline", "承诺日期"),
            ("owner", "责任人/部门"),
        ],
    ),
    "repeat_complaints": (
        "重复投诉（同一房号同一类别 30 天内）",
        [
            ("id", "编号"),
            ("previous_id", "前次编号"),
            ("property", "项目"),
            ("unit", "房号"),
            ("category", "类别"),
            ("received", "本次受理"),
            ("days_apart", "间隔天数"),
        ],
    ),
    "unhappy_feedback": (
        "客户不满意、尚未重新处理",
        [
            ("id", "反馈编号"),
            ("complaint_id", "投诉编号"),
            ("property", "项目"),
            ("date", "反馈日期"),
            ("days_waiting", "已等待天数"),
            ("owner", "责任部门"),
        ],
    ),
    "actions_last_week": (
        "上周决议跟进（问题跟踪表）",
        [
            ("id", "编号"),
            ("property", "项目"),
            ("problem", "问题"),
            ("measure", "整改措施"),
            ("owner", "责任人"),
            ("due", "完成时限"),
            ("state", "完成情况"),
            ("progress", "跟进情况"),
        ],
    ),
    "actions_raised": (
        "本期提出的问题与措施",
        [
            ("id", "编号"),
            ("property", "项目"),
            ("occasion", "场合"),
            ("problem", "问题"),
            ("cause", "原因分析"),
            ("measure", "整改措施"),
            ("owner", "责任人"),
            ("due", "完成时限"),
        ],
    ),
    "actions_overdue": (
        "逾期未完成的问题",
        [
            ("id", "编号"),
            ("property", "项目"),
            ("problem", "问题"),
            ("owner", "责任人"),
            ("department", "责任部门"),
            ("due", "完成时限"),
            ("days_overdue", "逾期天数"),
            ("escalated_to", "上报对象"),
            ("progress", "跟进情况"),
        ],
    ),
    "areas_not_reached": (
        "本季度尚未例行回访的区域",
        [("property", "项目"), ("area", "区域"), ("households", "户数"), ("staff", "负责回访人")],
    ),
    "set_aside": (
        "暂存（未计入指标）的行",
        [("file", "文件"), ("sheet", "工作表"), ("row", "行"), ("id", "编号"), ("reasons", "原因")],
    ),
}


_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _cell(key: str, value, unmasked: bool):
    if key == "person":
        return value if unmasked else mask_name(value)
    if key == "phone":
        return (value or "") if unmasked else mask_phone(value)
    if key == "urgent":
        return "是" if value else "否"
    if isinstance(value, list):
        return "；".join(str(v) for v in value)
    if isinstance(value, str) and _ISO_TIME.match(value):
        return value.replace("T", " ")
    return "" if value is None else value


def list_table(
    name: str,
    items: list[dict],
    unmasked: bool,
    limit: int | None = None,
    at: str | None = None,
    built: int | None = None,
) -> Table:
    """One meeting list; `at` (the model's lists_at) names the moment its days are counted to.
    built: only so many rows are made (a group's roll-up shows GROUP_ROWS; its lists run to tens of
    thousands), the table still counting them all (Table.count)."""
    title, cols = LIST_SPECS[name]
    if at and any(key in ("days_overdue", "days_waiting", "days_left", "age_days") for key, _ in cols):
        when = datetime.fromisoformat(at)
        title += f"（天数计至 {when.month}月{when.day}日 {when:%H:%M}）"
    shown = items if limit is None else items[:limit]
    note = (
        f"共 {len(items)} 项，此处列出前 {limit} 项，完整清单见 Excel 报告"
        if limit and len(items) > limit
        else ""
    )
    if name == "set_aside":  # the row's file, sheet and row are columns: its reasons need not repeat them
        shown = [{**it, "reasons": _short_reasons(it)} for it in shown]
    return Table(
        title,
        [c for _, c in cols],
        [[_cell(k, it.get(k), unmasked) for k, _ in cols] for it in shown[:built]],
        note=note,
        total=len(shown) if built is not None and len(shown) > built else None,
    )


def _short_reasons(item: dict) -> list[str]:
    """A set-aside row's reasons without the location its own columns give ("“f.csv” 工作表“s” 第2行 ")."""
    where = f"“{item.get('file')}” 工作表“{item.get('sheet')}” 第{item.get('row')}行 "
    out = []
    for reason in item.get("reasons") or []:
        text = reason[len(where) :] if reason.startswith(where) else reason
        out.append(text.removesuffix("，本行暂不计入").removesuffix("本行暂不计入"))
    return out


@dataclass
class Report:
    kind: str
    title: str
    period: str
    window: str
    as_of: str
    generated_at: str
    unmasked: bool
    headline: list[dict]
    counts: dict
    properties: Table
    departments: Table
    staff: list[Table]
    lists: dict[str, Table]
    pareto: list[dict]
    trend: dict
    turnaround: dict
    data_quality: Table
    definitions: Table
    errors: list[str]
    next_week: Table
    missing: list[str] = field(default_factory=list)  # registers not handed in (未交), for page 1
    conclusion: list[str] = field(default_factory=list)  # page 1's first words (conclusion())
    group: bool = False  # a report of several properties: a roll-up, its long lists in each property's own
    scorecard: Table | None = None
    footnote: str = ""
    extra: dict = field(default_factory=dict)
    terms: dict = field(default_factory=dict)  # the deadlines judged by (domain.Terms, from kpis.json)
    programme: Table | None = (
        None  # 回访计划执行: the routine callback programme and the tracker, per property
    )
    areas: Table | None = None  # each roster area's routine callbacks this quarter


def shortfall(row: list) -> tuple[int, float]:
    """How far a row of figures falls short of its targets, the worst smallest: (minus the KPIs it
    misses, minus how far off they are, each relative to its target). Properties are ranked by it."""
    missed = [v for v in row if isinstance(v, Rate) and v.met is False]
    gap = sum(
        abs(r.value - r.target) / (r.target or 1)
        for r in missed
        if r.value is not None and r.target is not None
    )
    return (-len(missed), -gap)


def _property_table(m: dict) -> Table:
    """Every property's figures, the worst first: most KPIs missed, then the furthest off."""
    rows = [
        [name, *(Rate.of(k, ks[k]) for k in PROPERTY_COLUMNS)]
        + [ks["counts"]["complaints_received"], ks["counts"]["repairs_reported"]]
        for name, ks in m["by_property"].items()
    ]

    if len(rows) > 1:
        rows.sort(key=lambda row: (*shortfall(row), row[0]))
    title = "各项目指标" + ("（未达标多的项目在前）" if len(rows) > 1 else "")
    return Table(title, ["项目"] + [KPI_LABELS[k] for k in PROPERTY_COLUMNS] + ["投诉", "报修"], rows)


def _department_table(m: dict) -> Table:
    keys = (
        "callback_rate",
        "reply_rate",
        "promise_kept_rate",
        "same_day_verification_rate",
        "satisfaction_rate",
    )
    rows = [
        [d, *(Rate.of(k, ks[k]) for k in keys), ks["counts"]["complaints_received"]]
        for d, ks in m["by_department"].items()
    ]
    return Table("各责任部门（投诉）", ["部门"] + [KPI_LABELS[k] for k in keys] + ["本期投诉"], rows)


def _staff_tables(m: dict) -> list[Table]:
    roles = {
        "受理人": ("reply_rate", "promise_kept_rate", "same_day_verification_rate"),
        "回访人": ("callback_followup_rate", "satisfaction_rate"),
        "维修人": ("callback_rate",),
    }
    out = []
    for role, keys in roles.items():
        rows = []
        for name, ks in m["by_staff"].get(role, {}).items():
            c = ks["counts"]
            volume = {
                "受理人": c["complaints_received"],
                "回访人": c["callbacks"],
                "维修人": c["repairs_completed"],
            }[role]
            rows.append([name, volume, *(Rate.of(k, ks[k], fraction=True) for k in keys)])
        label = {"受理人": "受理投诉", "回访人": "回访次数", "维修人": "完成报修"}[role]
        out.append(Table(f"员工：{role}", ["姓名", label] + [KPI_LABELS[k] for k in keys], rows))
    return out


def _scorecard(m: dict) -> Table | None:
    rows = m.get("scorecard")
    if not rows:
        return None
    body = [
        [
            r["name"],
            r["complaints"],
            r["callbacks"],
            r["repairs"],
            r["volume"],
            Rate("promise_kept_rate", r["on_time_share"]),
            "★ 第一" if r["top"] else "",
            r["streak"] or "",
            r["award"] or "",
            r["commission"],
        ]
        for r in rows
    ]
    return Table(
        "员工考评（奖惩制度：特别奖、业绩奖）",
        [
            "姓名",
            "受理投诉",
            "回访",
            "完成报修",
            "合计",
            "按时答复率",
            "本月",
            "连续第一（月）",
            "特别奖（元）",
            "业绩提成（元）",
        ],
        body,
        note="业绩提成需在 config.toml [scorecard.sales] 中填写销售额与询单转化率，登记表中没有这两项。",
    )


def _pareto(m: dict) -> list[dict]:
    total = sum(m["categories"].values()) or 1
    out, running = [], 0
    for cat, n in m["categories"].items():
        running += n
        causes = "；".join(f"{what}（{k}）" for what, k in m.get("causes", {}).get(cat, []))
        out.append(
            {"category": cat, "count": n, "share": n / total, "cumulative": running / total, "causes": causes}
        )
    return out


FOLLOW_UP = ("overdue", "reinspections_due_soon", "pending_callbacks", "unhappy_feedback")  # their own tables


def _listed(m: dict) -> set[tuple]:
    """The cases the follow-up lists already show, as (property, number): a number names a case
    within its property (domain.numbers), so another centre's TS-001 is another case."""
    out = set()
    for name in FOLLOW_UP:
        for it in m["lists"].get(name, []):
            out.add((it.get("property"), it.get("complaint_id" if name == "unhappy_feedback" else "id")))
    return out


def follow_up_count(m: dict) -> int:
    """Every case that needs work: the follow-up lists' rows plus the other open cases (下周工作)."""
    return sum(len(m["lists"].get(name, [])) for name in FOLLOW_UP) + len(_next_week(m, False).rows)


def _next_week(m: dict, unmasked: bool) -> Table:
    """The open complaints and repairs that no follow-up list above already shows: every list
    holds its rows once, none repeats another's."""
    listed, rows = _listed(m), []
    for it in m["lists"]["open"]:
        if (it["property"], it["id"]) in listed:
            continue
        listed.add((it["property"], it["id"]))
        rows.append(
            [
                f"未完成{it['type']}",
                it["id"],
                it["property"],
                it.get("deadline") or "",
                it.get("owner") or "",
                f"已 {it['age_days']} 天",
            ]
        )
    for it in m["lists"].get("actions_due_next_week", []):  # the tracker's decisions falling due
        rows.append(
            [
                f"问题整改：{it['problem']}",
                it["id"],
                it["property"],
                it.get("due") or "",
                it.get("owner") or "",
                "下周到期",
            ]
        )
    return Table(
        "其他未结事项（逾期、到期、待回访与不满意各表之外）",
        ["事项", "编号", "项目", "期限", "责任人/部门", "状态"],
        rows,
    )


PROGRAMME = ("routine_callback_coverage", "director_visit_coverage", "action_on_time_rate")


def _programme(m: dict) -> Table | None:
    """回访计划执行: each property's routine callbacks this quarter and the director's visits this
    year against their pace, the half-year's forums and questionnaires, the tracker's decisions done
    on time; None for a kpis.json from before these figures."""
    if "routine_callback_coverage" not in m["kpis"]:
        return None
    rows = []
    for name, ks in [*m["by_property"].items(), ("合计", m["kpis"])]:
        forums = ks["resident_forums"]
        rows.append(
            [
                name,
                *(Rate.of(k, ks[k]) for k in PROGRAMME[:2]),
                *(pct(ks[k].get("pace"), 0) for k in PROGRAMME[:2]),
                forums["count"],
                forums["questionnaires"],
                Rate.of(PROGRAMME[2], ks[PROGRAMME[2]]),
            ]
        )
    return Table(
        "回访计划执行",
        [
            "项目",
            "例行回访覆盖（本季）",
            "主任走访覆盖（本年）",
            "本季应达",
            "本年应达",
            "座谈会（本半年）",
            "问卷",
            "决议按时完成率",
        ],
        rows,
        note="覆盖率 = 已回访/走访的户数 ÷ 户数（有住户名册的项目以名册为准）；季度、年度未结束时按进度判定",
    )


def _areas(m: dict) -> Table | None:
    areas = (m.get("programme") or {}).get("areas") or []
    if not areas:
        return None
    rows = [
        [
            a["property"],
            a["area"],
            a["households"],
            a["reached"],
            pct(a["value"], 0),
            a.get("staff") or "（无记录）",
        ]
        for a in areas
    ]
    return Table("各区域例行回访（本季）", ["项目", "区域", "户数", "已回访户数", "覆盖", "负责回访人"], rows)


def _data_quality(m: dict) -> Table:
    rows = [
        [
            f["name"],
            f.get("register") or "",
            f.get("submitter") or "（未署名）",
            f["rows_read"],
            f["rows_loaded"],
            f["rows_set_aside"],
            f.get("rows_skipped", 0),
            (f.get("sha256") or "")[:12],
        ]
        for f in m["data_quality"].get("files", [])
    ]
    dq = m["data_quality"]
    note = (
        f"合计：读取 {dq['rows_read']} 行 = 入库 {dq['rows_loaded']} 行 + 暂存 {dq['rows_set_aside']} 行；"
        f"另跳过非数据行 {dq.get('rows_skipped', 0)} 行（只有编号的空行、签名或合计行、重复表头）"
    )
    return Table(
        "数据质量（按文件与填表人）",
        ["文件", "登记表", "填表人", "读取", "入库", "暂存", "跳过", "SHA-256（前 12 位）"],
        rows,
        note=note,
    )


def conclusion(m: dict) -> list[str]:
    """What page 1 says before any table: how many KPIs missed, each with how far off and its worst
    property; the KPIs the company met but a property missed; who has not handed in."""
    missed = missed_kpis(m)
    judged = [k for k in HEADLINE if (m["kpis"][k] or {}).get("met") is not None]
    lines = []
    if missed:
        lines.append(f"{len(missed)} 项未达标：")
        for k in missed:
            text = f"· {k['label']} {k['value_text']}（目标 {k['target_text']}，{k['gap']}"
            if k["worst"]:
                text += f"；最差 {k['worst']['property']} {k['worst']['value_text']}"
            lines.append(text + "）")
    elif judged:
        lines.append(f"考核的 {len(judged)} 项指标全部达标。")
    if len(m.get("by_property") or {}) > 1:
        behind = []
        for key in PROPERTY_COLUMNS:
            if m["kpis"].get(key, {}).get("met") is False:
                continue  # already said, with its worst property
            names = [
                f"{name} {_fmt(key, ks[key]['value'])}"
                for name, ks in m["by_property"].items()
                if (ks.get(key) or {}).get("met") is False
            ]
            if names:
                target = kpi_row(key, m["kpis"][key])["target_text"]
                behind.append(f"{KPI_LABELS[key]}（目标 {target}）：{'、'.join(names)}")
        if behind:
            lines.append("合计达标、个别项目未达标：")
            lines += [f"· {text}" for text in behind]
    missing = m["data_quality"].get("missing_register_months") or []
    if missing:
        lines.append(
            f"{len({x['property'] for x in missing})} 个项目有登记表未交（共 {len(missing)} 项，见下）。"
        )
    return lines


def window_text(m: dict) -> str:
    """The model's period as people say it (periods.Period.text)."""
    start, end = datetime.fromisoformat(m["start"]), datetime.fromisoformat(m["end"])
    return Period(m["kind"], m["period"], start, end).text


def attention_items(model: dict, limit: int = 8) -> list[str]:
    """What needs following up, most urgent first, one line each (the email's and the robots' list)."""
    lists = model["lists"]
    items = [
        f"{it['type']} {it['id']}（{it['property']}）已逾期 {it['days_overdue']} 天，责任：{it.get('owner') or '未填'}"
        for it in lists.get("overdue", [])
    ]
    items += [
        f"复检 {it['id']}（{it['property']}）将于 {it['deadline']} 到期"
        for it in lists.get("reinspections_due_soon", [])
    ]
    waiting = lists.get("pending_callbacks", [])
    if waiting:
        items.append(f"待回访 {len(waiting)} 项，最久已等待 {waiting[0]['days_waiting']} 天")
    if lists.get("unhappy_feedback"):
        items.append(f"客户不满意尚未重新处理 {len(lists['unhappy_feedback'])} 项")
    return items[:limit]


def build_report(m: dict, unmasked: bool = False, config_note: str = "") -> Report:
    weekly = m["kind"] == "weekly"
    title = (
        f"客服部周报　{m['period']}"
        if weekly
        else f"客服部月报　{m['period'][:4]}年{int(m['period'][5:]):d}月"
    )
    window = window_text(m)
    terms = m.get("terms") or {"reinspection_days": 15, "urgent_workdays": 3}  # a kpis.json from before terms
    prev = m.get("previous")
    headline = [kpi_row(k, m["kpis"][k], prev) for k in HEADLINE]
    group = len(m.get("by_property") or {}) > 1
    lists = {
        name: list_table(
            name,
            m["lists"].get(name, []),
            unmasked,
            at=m.get("lists_at"),
            built=GROUP_ROWS if group else None,
        )
        for name in LIST_SPECS
    }
    lists["actions_raised"].title = f"本{'周' if weekly else '月'}问题与措施"
    definitions = Table(
        "指标定义",
        ["指标", "计算方法", "依据 / 判定", "分子", "分母", "目标"],
        [
            [
                KPI_LABELS[k],
                DEFINITIONS[k][0].format(**terms),
                DEFINITIONS[k][1].format(**terms),
                r["numerator"],
                r["denominator"],
                r["target_text"],
            ]
            for k, r in zip(HEADLINE, headline, strict=True)
        ],
    )
    return Report(
        kind=m["kind"],
        title=title,
        period=m["period"],
        window=window,
        as_of=m["as_of"].replace("T", " "),
        generated_at=m["generated_at"][:16].replace("T", " "),  # the meeting's time zone, as 统计截止
        unmasked=unmasked,
        headline=headline,
        counts=m["kpis"]["counts"],
        properties=_property_table(m),
        departments=_department_table(m),
        staff=_staff_tables(m),
        lists=lists,
        pareto=_pareto(m),
        trend=m.get("trend", {}),
        turnaround=m["kpis"]["reinspection_turnaround_days"],
        data_quality=_data_quality(m),
        definitions=definitions,
        errors=m.get("errors", []),
        missing=[missing_text(x) for x in m["data_quality"].get("missing_register_months", [])],
        conclusion=conclusion(m),
        terms=terms,
        group=group,
        next_week=_next_week(m, unmasked),
        scorecard=_scorecard(m),
        programme=_programme(m),
        areas=_areas(m),
        footnote="本报告显示客户真实姓名和电话（--unmasked），请勿外传"
        if unmasked
        else "客户姓名、电话已打码",
        extra={"config": config_note, "provenance": m.get("provenance", {}), "records": m.get("records", {})},
    )

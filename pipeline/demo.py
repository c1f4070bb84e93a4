"""`pipeline demo`: a realistic, messy demo inbox (deterministic for a given seed).

Three properties keep their registers three different ways, as real service centres do:
- 翠湖花园: .xlsx, one sheet per month, blank column A and leading blank rows, merged title,
  line breaks and enumerations in headers, a formula column with cached values, ghost rows
  numbered far below the data, an instruction block beside the table, signature lines.
- 金桂苑: .xls copied from an older template: other header names, no 项目 column (the property is
  in the file name), a two-row header with a merged parent, dates written as text
  (2026年10月8日, 10月8日 with the year only in the sheet name), phones stored as numbers.
- 滨江壹号: CSV exported from Excel on Chinese Windows (GBK), one file per register and month,
  US-style dates (10/8/2026) and 2026/10/3 9:30 timestamps, '/' placeholders.
A few rule violations are planted: a late reply, a verification the day after, a missing
callback, an unhandled 不满意, a late appeal, a one-person re-inspection, an urgent re-inspection
answered after 3 working days across National Day, an invalid date and a missing required value.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import xlsxwriter
import xlwt

from pipeline.registers import CORE, REGISTERS

DEMO_START, DEMO_END = date(2026, 9, 1), date(2026, 10, 30)  # nine Friday-meeting weeks, W36–W44
PROPERTIES = {"翠湖花园": "CH", "金桂苑": "JG", "滨江壹号": "BJ"}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "建华",
    "志强",
]
STAFF = {
    "翠湖花园": {"客服": ["王敏", "刘洋"], "工程": ["张强", "陈刚"], "主任": "赵国庆"},
    "金桂苑": {"客服": ["李静", "孙丽"], "工程": ["周军", "吴磊"], "主任": "钱文"},
    "滨江壹号": {"客服": ["黄娟", "林芳"], "工程": ["郭涛", "何勇"], "主任": "梁志强"},
}
CATEGORIES = [
    ("维修", 30),
    ("噪音", 12),
    ("停车", 12),
    ("保洁", 10),
    ("收费", 8),
    ("服务态度", 8),
    ("安保", 8),
    ("绿化", 6),
    ("其他", 6),
]
DEPARTMENT = {
    "维修": "工程部",
    "安保": "秩序维护部",
    "保洁": "环境部",
    "绿化": "环境部",
    "收费": "客服部",
    "服务态度": "客服部",
    "噪音": "秩序维护部",
    "停车": "秩序维护部",
    "其他": "客服部",
}
CONTENT = {
    "维修": ["卫生间天花渗水", "楼道灯不亮", "电梯异响", "外墙渗水至卧室", "消防栓箱门损坏"],
    "噪音": ["楼上夜间装修噪音", "广场舞音响过大", "空调外机噪音"],
    "停车": ["车位被占用", "地库道闸故障", "访客车辆乱停"],
    "保洁": ["垃圾未及时清运", "楼道卫生差", "电梯轿厢有异味"],
    "收费": ["物业费账单有误", "停车费重复扣款"],
    "服务态度": ["前台接待态度冷淡", "保安说话不礼貌"],
    "安保": ["陌生人进入楼栋", "单元门禁失灵"],
    "绿化": ["树枝遮挡窗户", "草坪长期未修剪"],
    "其他": ["快递柜不够用", "希望增加儿童游乐设施"],
}
REPAIRS = [
    "水龙头漏水",
    "下水道堵塞",
    "插座无电",
    "门锁损坏",
    "窗户关不严",
    "热水器不出热水",
    "马桶漏水",
    "灯具更换",
]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _phone(rng: random.Random) -> int:
    return int(
        rng.choice(["138", "139", "137", "150", "186", "189", "133"])
        + "".join(rng.choice("0123456789") for _ in range(8))
    )


def _unit(rng: random.Random) -> str:
    return f"{rng.randint(1, 12)}-{rng.randint(1, 3)}-{rng.randint(1, 28)}{rng.randint(1, 4):02d}"


def _at(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(rng.randint(8, 17), rng.choice([0, 10, 15, 20, 30, 40, 45, 50])))


@dataclass(frozen=True)
class Span:
    """What to generate: the date range, a volume multiplier, and which months get a sheet or file."""

    start: date = DEMO_START
    end: date = DEMO_END
    volume: int = 1

    @property
    def months(self) -> list[date]:
        out, d = [], self.start.replace(day=1)
        while d <= self.end:
            out.append(d)
            d = (d + timedelta(days=32)).replace(day=1)
        return out

    def staff_for(self, prop: str) -> dict:
        if prop in STAFF:
            return STAFF[prop]
        rng = random.Random(prop)
        return {"客服": [_name(rng), _name(rng)], "工程": [_name(rng), _name(rng)], "主任": _name(rng)}


DEMO = Span()


@dataclass
class Books:
    """Records per register (dicts keyed by column key), for one property."""

    complaints: list[dict] = field(default_factory=list)
    callbacks: list[dict] = field(default_factory=list)
    reinspections: list[dict] = field(default_factory=list)
    feedback: list[dict] = field(default_factory=list)
    repairs: list[dict] = field(default_factory=list)
    households: list[dict] = field(default_factory=list)  # the roster (optional register)
    actions: list[dict] = field(default_factory=list)  # the meetings' problem tracker (optional register)


def _complaints(prop: str, code: str, rng: random.Random, books: Books, span: Span) -> None:
    staff = span.staff_for(prop)
    day, n = span.start, 0
    cats, weights = zip(*CATEGORIES, strict=True)
    while day <= span.end:
        for _ in range(rng.choice([0, 0, 1, 1, 1, 2]) * span.volume):
            n += 1
            cat = rng.choices(cats, weights)[0]
            received = _at(day, rng)
            promise_days = rng.choice([1, 2, 3])
            promised = received.date() + timedelta(days=promise_days)
            closed = received.date() + timedelta(days=rng.randint(0, promise_days))
            is_open = closed > span.end - timedelta(days=2) or rng.random() < 0.04
            replied = None if is_open else min(closed + timedelta(days=rng.choice([0, 0, 1])), promised)
            books.complaints.append(
                {
                    "id": f"{code}TS-{received:%Y%m}-{n:03d}",
                    "property": prop,
                    "unit": _unit(rng),
                    "person": _name(rng),
                    "phone": _phone(rng),
                    "received": received,
                    "channel": rng.choice(["电话", "电话", "来访", "网络", "书面", "回访中反映"]),
                    "category": cat,
                    "content": rng.choice(CONTENT[cat]),
                    "handler": rng.choice(staff["客服"]),
                    "department": DEPARTMENT[cat],
                    "verified": received.date(),
                    "promised": promised,
                    "result": None
                    if is_open
                    else rng.choice(["已安排处理完毕", "已现场整改", "已向业主解释说明", "已维修恢复"]),
                    "closed": None if is_open else closed,
                    "replied": replied,
                    "valid": rng.random() < 0.12,
                    "urgent": rng.random() < 0.1,
                    "compensation": rng.choice([200, 350.5, 800])
                    if cat == "维修" and rng.random() < 0.15
                    else None,
                    "remark": None,
                }
            )
        day += timedelta(days=1)


def _repairs(prop: str, code: str, rng: random.Random, books: Books, span: Span) -> None:
    day, n = span.start, 0
    while day <= span.end:
        for _ in range(rng.choice([0, 1, 1, 2]) * span.volume):
            n += 1
            reported = _at(day, rng)
            dispatched = reported + timedelta(minutes=rng.choice([15, 30, 45, 90, 180]))
            completed = dispatched + timedelta(hours=rng.choice([1, 2, 4, 20, 26, 50]))
            done = completed.date() <= span.end - timedelta(days=1)
            books.repairs.append(
                {
                    "id": f"{code}BX-{reported:%Y%m}-{n:03d}",
                    "property": prop,
                    "unit": _unit(rng),
                    "person": _name(rng),
                    "phone": _phone(rng),
                    "reported": reported,
                    "content": rng.choice(REPAIRS),
                    "dispatched": dispatched,
                    "worker": rng.choice(span.staff_for(prop)["工程"]),
                    "completed": completed if done else None,
                    "satisfaction": rng.choice(["满意", "满意", "满意", "基本满意", "不满意"])
                    if done
                    else None,
                }
            )
        day += timedelta(days=1)


def _callbacks(prop: str, code: str, rng: random.Random, books: Books, span: Span) -> None:
    n = 0
    items = [("投诉回访", c["id"], c["unit"], c["closed"]) for c in books.complaints if c["closed"]]
    items += [
        ("维修回访", r["id"], r["unit"], r["completed"].date()) for r in books.repairs if r["completed"]
    ]
    for kind, ref, unit, closed in sorted(items, key=lambda x: x[3]):
        if rng.random() < 0.06:
            continue  # 待回访: no callback recorded
        when = closed + timedelta(days=rng.choice([1, 1, 2, 3]))
        if when > span.end:
            continue
        n += 1
        sat = rng.choices(["满意", "基本满意", "不满意"], [75, 18, 7])[0]
        solved = sat != "不满意" or rng.random() < 0.3
        problem = sat == "不满意" or not solved
        follow = problem and rng.random() < 0.75
        books.callbacks.append(
            {
                "id": f"{code}HF-{when:%Y%m}-{n:03d}",
                "ref": ref,
                "property": prop,
                "unit": unit,
                "person": _name(rng),
                "phone": _phone(rng),
                "date": when,
                "method": rng.choice(["电话", "电话", "电话", "上门"]),
                "kind": kind,
                "staff": rng.choice(span.staff_for(prop)["客服"]),
                "opinion": "对处理结果有意见" if problem else rng.choice(["满意", "处理及时", "无意见"]),
                "satisfaction": sat,
                "solved": solved,
                "followup": "已安排二次处理" if follow else None,
                "followup_date": when + timedelta(days=1) if follow else None,
            }
        )
    firsts = (
        [date(2026, 9, 10), date(2026, 10, 12)] if span == DEMO else [m.replace(day=10) for m in span.months]
    )
    for month_start in firsts:
        for k in range(3):
            n += 1
            when = month_start + timedelta(days=k * 3)
            books.callbacks.append(
                {
                    "id": f"{code}HF-{when:%Y%m}-{n:03d}",
                    "ref": None,
                    "property": prop,
                    "unit": _unit(rng),
                    "person": _name(rng),
                    "phone": _phone(rng),
                    "date": when,
                    "method": "上门" if k == 0 else "电话",
                    "kind": "主任走访" if k == 0 else "例行回访",
                    "staff": span.staff_for(prop)["主任"]
                    if k == 0
                    else rng.choice(span.staff_for(prop)["客服"]),
                    "opinion": "建议加强绿化养护",
                    "satisfaction": "满意",
                    "solved": True,
                    "followup": None,
                    "followup_date": None,
                }
            )


def _feedback(prop: str, code: str, rng: random.Random, books: Books, span: Span) -> None:
    n = 0
    for c in books.complaints:
        if not c["replied"] or rng.random() < 0.45:
            continue
        n += 1
        when = c["replied"] + timedelta(days=rng.choice([1, 2, 3]))
        if when > span.end:
            continue
        sat = rng.choices(["满意", "基本满意", "不满意"], [70, 20, 10])[0]
        books.feedback.append(
            {
                "id": f"{code}FK-{when:%Y%m}-{n:03d}",
                "complaint_id": c["id"],
                "property": prop,
                "date": when,
                "satisfaction": sat,
                "opinion": "希望尽快彻底解决" if sat == "不满意" else "认可处理结果",
                "reopened": when + timedelta(days=1) if sat == "不满意" and rng.random() < 0.6 else None,
            }
        )


def _reinspections(prop: str, code: str, rng: random.Random, books: Books, span: Span) -> None:
    staff = span.staff_for(prop)["工程"]
    if span != DEMO:  # one appeal a month, now and then urgent
        plans = [
            (m.replace(day=3), rng.randint(1, 12), rng.random() < 0.2, rng.randint(2, 16))
            for m in span.months
        ]
    else:
        plans = [
            (date(2026, 9, 3), 3, False, 8),
            (date(2026, 9, 22), 4, True, 2),
            (date(2026, 10, 14), 5, False, 12),
        ]
        if prop == "金桂苑":
            plans.append((date(2026, 9, 28), 2, True, 12))  # urgent, answered after National Day: late
        if prop == "滨江壹号":
            plans.append((date(2026, 9, 8), 13, False, 10))  # appeal filed 13 days after the report
    for n, (report_day, lag, urgent, turnaround) in enumerate(plans, start=1):
        appealed = report_day + timedelta(days=lag)
        accepted = appealed + timedelta(days=rng.choice([0, 1]))
        notified = accepted + timedelta(days=turnaround)
        books.reinspections.append(
            {
                "id": f"{code}SS-{appealed:%Y%m}-{n:02d}",
                "property": prop,
                "customer": _name(rng),
                "report_no": f"JC{report_day:%y%m%d}{n:02d}",
                "report_received": report_day,
                "appealed": appealed,
                "reason": rng.choice(
                    ["对水质检测结果有异议", "认为噪音检测点位不当", "对维修验收结论有异议"]
                ),
                "urgent": urgent,
                "accepted": accepted,
                "reinspected": accepted + timedelta(days=max(1, turnaround - 1)),
                "inspectors": staff[0] if (prop == "翠湖花园" and n == 2) else "、".join(staff),
                "conclusion": rng.choice(["维持原结果", "维持原结果", "更正"]),
                "notified": notified if notified <= span.end else None,
            }
        )


def property_books(prop: str, code: str, rng: random.Random, span: Span = DEMO) -> Books:
    """A property's five registers over a span, coherent: callbacks follow closings, feedback follows replies."""
    books = Books()
    for generate in (_complaints, _repairs, _callbacks, _feedback, _reinspections):
        generate(prop, code, rng, books, span)
    return books


def build_books(seed: int = 2026) -> dict[str, Books]:
    rng = random.Random(seed)
    out = {prop: property_books(prop, code, rng) for prop, code in PROPERTIES.items()}
    _plant_violations(out)
    for prop, code in PROPERTIES.items():  # after the five: their random draws stay as they were
        _roster(prop, random.Random(f"{seed}{prop}"), out[prop])
        _actions(prop, code, random.Random(f"{seed}{prop}actions"), out[prop])
    return out


DEMO_HOUSEHOLDS = {"翠湖花园": 1200, "金桂苑": 860, "滨江壹号": 640}  # as config.toml says


def _roster(prop: str, rng: random.Random, books: Books) -> None:
    """住户名册: the property's units, by building (区域), with owners; a few empty or let."""
    units = [
        (b, f"{b}-{u}-{floor}{room:02d}")
        for b in range(1, 13)
        for u in range(1, 4)
        for floor in range(1, 29)
        for room in range(1, 5)
    ]
    for b, unit in sorted(rng.sample(units, DEMO_HOUSEHOLDS[prop])):
        books.households.append(
            {
                "property": prop,
                "area": f"{b}栋",
                "unit": unit,
                "owner": _name(rng),
                "phone": _phone(rng),
                "status": rng.choices(["已入住", "空置", "出租"], [88, 6, 6])[0],
            }
        )
    roster = [h["unit"] for h in books.households]
    staff = STAFF[prop]["客服"]
    n = 0
    for day in (date(2026, 9, 15), date(2026, 10, 9), date(2026, 10, 20)):  # the quarter's routine rounds
        for unit in rng.sample(roster, len(roster) // 7):
            n += 1
            area = int(unit.split("-")[0])
            if area > 9:
                continue  # 10–12栋 not reached this quarter
            books.callbacks.append(
                {
                    "id": f"{PROPERTIES[prop]}LF-{day:%Y%m}-{n:03d}",
                    "ref": None,
                    "property": prop,
                    "unit": unit,
                    "person": _name(rng),
                    "phone": _phone(rng),
                    "date": day + timedelta(days=rng.randint(0, 4)),
                    "method": "上门",
                    "kind": "例行回访",
                    "staff": staff[area % 2],  # each covers their buildings
                    "opinion": "无意见",
                    "satisfaction": "满意",
                    "solved": True,
                    "followup": None,
                    "followup_date": None,
                }
            )
    books.callbacks.append(
        {
            "id": f"{PROPERTIES[prop]}ZT-202609-001",
            "ref": None,
            "property": prop,
            "unit": None,
            "person": None,
            "phone": None,
            "date": date(2026, 9, 26),
            "method": "座谈会",
            "kind": "例行回访",
            "staff": STAFF[prop]["主任"],
            "opinion": "业主代表 12 人参加",
            "satisfaction": None,
            "solved": None,
            "followup": None,
            "followup_date": None,
        }
    )


ACTION_ITEMS = [
    ("例会", "地下车库照明不足", "灯具老化，巡查未覆盖车库", "更换车库灯具 40 套，纳入每周巡查", "工程部"),
    ("晨会", "3栋电梯困人投诉两次", "维保单位响应慢", "约谈维保单位，24 小时驻场", "工程部"),
    ("回访", "业主反映垃圾清运不及时", "清运车辆调度冲突", "调整清运时间至早 7 点前", "环境部"),
    ("巡查", "消防通道被占用", "临时停车无人劝离", "增设禁停标识，秩序员每 2 小时巡查", "秩序维护部"),
    ("例会", "收费处排队时间长", "月初集中缴费", "开通线上缴费并在群内提醒", "客服部"),
    ("晨会", "绿化带枯死苗木未补种", "养护合同到期未续", "续签养护合同并补种", "环境部"),
]


def _actions(prop: str, code: str, rng: random.Random, books: Books) -> None:
    """问题跟踪表: two items from each Friday meeting (and the mornings'), with owner, deadline and
    follow-up; most done on time, some late, some open and past their deadline."""
    friday = date(2026, 9, 4)
    n = 0
    while friday <= DEMO_END:
        for occasion, problem, cause, measure, department in rng.sample(ACTION_ITEMS, 2):
            n += 1
            raised = friday - timedelta(days=0 if occasion == "例会" else rng.randint(1, 4))
            due = friday + timedelta(days=rng.choice([7, 7, 14]))
            outcome = rng.choices(["on time", "late", "open"], [70, 15, 15])[0]
            done = None
            if outcome == "on time":
                done = due - timedelta(days=rng.randint(0, 3))
            elif outcome == "late":
                done = due + timedelta(days=rng.randint(1, 5))
            if done and done > DEMO_END:
                done = None
            escalated = department == "工程部" and rng.random() < 0.5
            books.actions.append(
                {
                    "id": f"{code}WT-{n:03d}",
                    "property": prop,
                    "raised": raised,
                    "occasion": occasion,
                    "problem": problem,
                    "cause": cause,
                    "measure": measure,
                    "owner": STAFF[prop]["工程" if department == "工程部" else "客服"][0],
                    "department": department,
                    "due": due,
                    "escalated_to": "项目经理" if escalated else None,
                    "done": done,
                    "progress": ("已完成" if done else "跟进中")
                    if escalated or done or rng.random() < 0.6
                    else None,
                }
            )
        friday += timedelta(days=7)


def _plant_violations(books: dict[str, Books]) -> None:
    ch = books["翠湖花园"].complaints
    late = next(c for c in ch if c["closed"] and c["received"].month == 10)
    late["replied"] = late["promised"] + timedelta(days=3)  # replied after the promised date
    late["closed"] = late["promised"] + timedelta(days=2)
    slow = next(
        c
        for c in ch
        if c["received"].month == 10 and c is not late and c["closed"] and c["closed"] > c["received"].date()
    )
    slow["verified"] += timedelta(days=1)  # investigated the day after: not same-day
    jg = books["金桂苑"].complaints
    jg[3]["received"] = "2026/13/01"  # an impossible date: set aside
    jg[5]["category"] = None  # a missing required value: set aside


# --- writers ---------------------------------------------------------------------------------


def _month_of(rec: dict, key: str) -> int | None:
    v = rec[key]
    return v.month if isinstance(v, date | datetime) else 10


def _fmt_cn(v):
    if isinstance(v, datetime):
        return f"{v.year}年{v.month}月{v.day}日 {v:%H:%M}"
    return f"{v.year}年{v.month}月{v.day}日" if isinstance(v, date) else v


def _fmt_md(v):
    return f"{v.month}月{v.day}日" if isinstance(v, date | datetime) else v


def _fmt_us(v):
    if isinstance(v, datetime):
        return f"{v.year}/{v.month}/{v.day} {v.hour}:{v.minute:02d}"
    return f"{v.month}/{v.day}/{v.year}" if isinstance(v, date) else v


def _cell(v, key: str, col_type: str, style: str):
    if v is None:
        return "/" if col_type == "date" and style != "native" else None
    if isinstance(v, bool):
        return {"native": "是" if v else "否", "cn": "√" if v else "×", "us": "是" if v else "否"}[style]
    if col_type == "date" and isinstance(v, date | datetime):
        if style == "cn":
            return _fmt_md(v) if key in ("promised", "replied", "followup_date", "reopened") else _fmt_cn(v)
        if style == "us":
            return _fmt_us(v)
    return v


def _rows(register: str, recs: list[dict], keys: list[str], style: str) -> list[list]:
    reg = REGISTERS[register]
    return [[_cell(r.get(k), k, reg.column(k).type, style) for k in keys] for r in recs]


def _write_xlsx(path: Path, prop: str, register: str, recs: list[dict], months=(9, 10)) -> None:
    """翠湖花园 style: blank column A, two blank rows, merged title, header on row 4."""
    reg = REGISTERS[register]
    keys = [c.key for c in reg.columns if c.key != "property"]
    heads = {
        "phone": "联系\n电话",
        "urgent": "是否紧急（是/否）",
        "valid": "是否有效投诉\n（是/否）",
        "compensation": "赔偿金额（元）",
    }
    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"created": datetime(2026, 10, 31)})
    title = wb.add_format({"bold": True, "font_size": 16, "align": "center"})
    head = wb.add_format({"bold": True, "border": 1, "text_wrap": True, "align": "center"})
    dfmt = wb.add_format({"num_format": "yyyy-mm-dd", "border": 1})
    tfmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm", "border": 1})
    plain = wb.add_format({"border": 1})
    for month in months:
        ws = wb.add_worksheet(f"2026年{month}月")
        rows = [r for r in recs if _month_of(r, reg.date_key) == month]
        ws.merge_range(2, 1, 2, len(keys) + 1, f"{prop}{reg.title}（2026年{month}月）", title)
        ws.write(3, 1, "序号", head)
        for j, k in enumerate(keys, start=2):
            ws.write(3, j, heads.get(k, reg.column(k).header), head)
            ws.set_column(j, j, 13)
        if register == "complaints":
            ws.write(
                3, len(keys) + 3, "说明：承诺回复日期由公式按受理日期加 2 个工作日计算；紧急投诉当日处理。"
            )
        for i, rec in enumerate(_rows(register, rows, keys, "native")):
            r = 4 + i
            ws.write_number(r, 1, i + 1, plain)
            for j, (k, v) in enumerate(zip(keys, rec, strict=True), start=2):
                if k == "promised" and isinstance(v, date):
                    serial = (datetime.combine(v, time()) - datetime(1899, 12, 30)).days
                    ws.write_formula(
                        r, j, f"=WORKDAY({chr(65 + 2 + keys.index('received'))}{r + 1},2)", dfmt, serial
                    )
                elif isinstance(v, datetime):
                    ws.write_datetime(r, j, v, tfmt if v.time() != time() else dfmt)
                elif isinstance(v, date):
                    ws.write_datetime(r, j, datetime.combine(v, time()), dfmt)
                elif v is None:
                    ws.write_blank(r, j, None, plain)
                else:
                    ws.write(r, j, v, plain)
        last = 4 + len(rows)
        for g in range(last, last + 12):  # ghost rows: 序号 filled in advance
            ws.write_number(g, 1, g - 3, plain)
        ws.write(last + 14, 1, "填表人：王敏        审核人：赵国庆")
    wb.close()


def _write_xls(path: Path, prop: str, register: str, recs: list[dict], months=(9, 10)) -> None:
    """金桂苑 style: older template, other headers, no 项目 column, text dates, two-row header."""
    reg = REGISTERS[register]
    keys = [c.key for c in reg.columns if c.key != "property"]
    alias = {c.key: (c.aliases[0] if c.aliases else c.header) for c in reg.columns}
    alias.update({"id": "编号", "phone": "联系电话", "urgent": "紧急"})
    if register == "complaints":
        alias.update({"received": "投诉日期", "person": "业主姓名", "promised": "约定答复日期"})
    wb = xlwt.Workbook(encoding="utf-8")
    for month in months:
        ws = wb.add_sheet(f"{month}月")
        rows = [r for r in recs if _month_of(r, reg.date_key) == month]
        ws.write_merge(0, 0, 0, len(keys), f"{prop}{reg.title}")
        two_row = register == "complaints"
        group = {"result", "closed", "replied"}
        ws.write(1, 0, "序号")
        for j, k in enumerate(keys, start=1):
            if two_row and k in group:
                ws.write(2, j, alias[k] if k != "result" else "处理结果")
            elif two_row:
                ws.write_merge(1, 2, j, j, alias[k])
            else:
                ws.write(1, j, alias[k])
        if two_row:
            first = 1 + keys.index("result")
            ws.write_merge(1, 1, first, first + 2, "处理情况")
        start = 3 if two_row else 2
        for i, rec in enumerate(_rows(register, rows, keys, "cn")):
            ws.write(start + i, 0, i + 1)
            for j, v in enumerate(rec, start=1):
                if isinstance(v, datetime | date):
                    v = _fmt_cn(v)
                if v is not None:
                    ws.write(start + i, j, v)
        ws.write(start + len(rows) + 2, 0, "制表人：李静   审核人：钱文")
    wb.save(str(path))


def _write_csv(folder: Path, prop: str, register: str, recs: list[dict], months=(9, 10)) -> list[Path]:
    """滨江壹号 style: GBK CSV exports, one per month, US-style dates."""
    reg = REGISTERS[register]
    keys = [c.key for c in reg.columns]
    paths = []
    for month in months:
        rows = [r for r in recs if _month_of(r, reg.date_key) == month]
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow([c.header for c in reg.columns])
        for rec in _rows(register, rows, keys, "us"):
            w.writerow(["" if v is None else v for v in rec])
        path = folder / f"{prop}_{reg.title}_2026-{month:02d}.csv"
        path.write_bytes(buf.getvalue().encode("gbk"))
        paths.append(path)
    return paths


def write_demo_inbox(inbox: Path, seed: int = 2026) -> list[Path]:
    inbox.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for prop, books in build_books(seed).items():
        for register in CORE:
            recs = getattr(books, register)
            title = REGISTERS[register].title
            if prop == "翠湖花园":
                path = inbox / f"{prop}{title}2026.xlsx"
                _write_xlsx(path, prop, register, recs)
                paths.append(path)
            elif prop == "金桂苑":
                path = inbox / f"{prop}-{title}.xls"
                _write_xls(path, prop, register, recs)
                paths.append(path)
            else:
                paths.extend(_write_csv(inbox, prop, register, recs))
        roster = inbox / f"{prop}住户名册.xlsx"
        _write_roster(roster, prop, books.households)
        paths.append(roster)
        actions = inbox / f"{prop}问题跟踪表2026.xlsx"
        _write_xlsx(actions, prop, "actions", books.actions)
        paths.append(actions)
    return paths


def _write_roster(path: Path, prop: str, units: list[dict]) -> None:
    """The roster as offices keep it: a title, the header, one row per unit, no month."""
    reg = REGISTERS["households"]
    keys = [c.key for c in reg.columns if c.key != "property"]
    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"created": datetime(2026, 9, 1)})
    ws = wb.add_worksheet("住户名册")
    ws.write(0, 0, f"{prop}住户名册（2026年9月更新）")
    ws.write_row(1, 0, ["序号", *(reg.column(k).header for k in keys)])
    for i, rec in enumerate(units, start=1):
        ws.write_row(1 + i, 0, [i, *("" if rec.get(k) is None else rec[k] for k in keys)])
    wb.close()


WRITERS = {"xlsx": _write_xlsx, "xls": _write_xls}


def _upto(recs: list[dict], key: str, upto: datetime) -> list[dict]:
    """The records a clerk had entered by `upto` (by the register's main date), without later events."""

    def when(v):
        return datetime.combine(v, time()) if type(v) is date else v

    out = []
    for r in recs:
        if not isinstance(when(r.get(key)), datetime) or when(r[key]) <= upto:
            out.append(
                {k: None if isinstance(when(v), datetime) and when(v) > upto else v for k, v in r.items()}
            )
    return out


def write_property_month(
    folder: Path, prop: str, books: Books, month: int, kind: str, upto: datetime | None = None
) -> list[Path]:
    """One file per register for one month, in one of the three clerks' layouts (for group-sized inboxes).

    upto: only the rows entered by then — the register as it stood when the clerk dropped it that week.
    """
    paths = []
    for register in CORE:
        recs = getattr(books, register)
        if upto:
            recs = _upto(recs, REGISTERS[register].date_key, upto)
        title = REGISTERS[register].title
        if kind == "csv":
            paths += _write_csv(folder, prop, register, recs, months=(month,))
        else:
            path = folder / f"{prop}{title}2026-{month:02d}.{kind}"
            WRITERS[kind](path, prop, register, recs, months=(month,))
            paths.append(path)
    return paths

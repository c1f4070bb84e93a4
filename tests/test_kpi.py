"""KPIs against hand-computed values, period boundaries, and properties that must always hold."""

from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import periods
from pipeline.config import parse_config
from pipeline.kpi.model import compute_kpis

CONFIG = parse_config({"properties": {"甲": {"households": 1000}, "乙": {"households": 500}}}, Path("."))
OCT = periods.month("2026-10")
AS_OF = datetime(2026, 11, 1, 8, 0)
DQ = {"rows_read": 0, "rows_loaded": 0, "rows_set_aside": 0}


def c(id, prop="甲", **kw):
    base = {
        "id": id,
        "_property": prop,
        "unit": "1-1-101",
        "category": "维修",
        "department": "工程部",
        "handler": "王敏",
    }
    return {**base, **kw}


def model(
    complaints=(),
    callbacks=(),
    repairs=(),
    feedback=(),
    reinspections=(),
    period=OCT,
    as_of=AS_OF,
    config=CONFIG,
):
    raw = {
        "complaints": list(complaints),
        "callbacks": list(callbacks),
        "repairs": list(repairs),
        "feedback": list(feedback),
        "reinspections": list(reinspections),
    }
    return compute_kpis(raw, period, as_of, config, DQ, [], datetime(2026, 11, 1, 8, 0))


def nd(k):
    return (k["numerator"], k["denominator"])


def test_hand_computed_month():
    complaints = [
        # received, verified same day, closed, replied on time, called back, valid
        c(
            "A",
            received="2026-10-02",
            verified="2026-10-02",
            promised="2026-10-04",
            closed="2026-10-03",
            replied="2026-10-03",
            valid=True,
        ),
        # verified next day, replied late, no callback
        c(
            "B",
            unit="2-2-202",
            received="2026-10-05",
            verified="2026-10-06",
            promised="2026-10-06",
            closed="2026-10-07",
            replied="2026-10-08",
            valid=False,
        ),
        # closed, not replied; callback before closing does not count
        c("C", prop="乙", received="2026-10-10", verified="2026-10-10", closed="2026-10-12", valid=True),
        # September complaint closed in October (counts for callback/reply, not for received-based KPIs)
        c(
            "D",
            unit="3-3-303",
            received="2026-09-28",
            verified="2026-09-28",
            closed="2026-10-01",
            replied="2026-10-01",
            valid=True,
        ),
        # same unit and category as B within 30 days: a repeat
        c("E", unit="2-2-202", received="2026-10-20", verified="2026-10-20", valid=False),
    ]
    callbacks = [
        {
            "id": "H1",
            "ref": "A",
            "_property": "甲",
            "date": "2026-10-04",
            "staff": "刘洋",
            "satisfaction": "满意",
            "solved": True,
        },
        {
            "id": "H2",
            "ref": "C",
            "_property": "乙",
            "date": "2026-10-11",
            "staff": "刘洋",
            "satisfaction": "不满意",
            "solved": False,
        },
        {
            "id": "H3",
            "ref": "D",
            "_property": "甲",
            "date": "2026-10-02",
            "staff": "刘洋",
            "satisfaction": "基本满意",
            "solved": False,
            "followup": "已二次处理",
            "followup_date": "2026-10-03",
        },
        {
            "id": "H4",
            "ref": "R1",
            "_property": "甲",
            "date": "2026-10-15",
            "staff": "刘洋",
            "satisfaction": "满意",
        },
    ]
    repairs = [
        {
            "id": "R1",
            "_property": "甲",
            "reported": "2026-10-14T09:00",
            "completed": "2026-10-14T15:00",
            "worker": "张强",
        },
        {"id": "R2", "_property": "甲", "reported": "2026-10-30T09:00", "worker": "张强"},
    ]
    feedback = [{"id": "F1", "complaint_id": "A", "date": "2026-10-05", "satisfaction": "不满意"}]
    m = model(complaints, callbacks, repairs, feedback)
    k = m["kpis"]
    assert nd(k["callback_rate"]) == (3, 5)  # A, D, R1 called back; B and C (callback before closing) not
    assert nd(k["reply_rate"]) == (3, 4)  # closed A, B, C, D; C not replied
    assert nd(k["promise_kept_rate"]) == (1, 2)  # replies with a promise: A on time, B late
    assert nd(k["same_day_verification_rate"]) == (3, 4)  # received in October: A, B, C, E
    assert nd(k["effective_complaint_rate"]) == (2, 1500)  # valid A and C; D was received in September
    assert nd(k["effective_complaint_rate_ytd"]) == (3, 1500)
    assert nd(k["callback_followup_rate"]) == (1, 2)  # H2 raised a problem with no follow-up, H3 followed up
    assert nd(k["satisfaction_rate"]) == (3, 5)  # H1 满意, H3 基本满意, H4 满意; H2 and F1 不满意
    assert k["repeat_complaints"]["value"] == 1
    assert m["lists"]["repeat_complaints"][0]["id"] == "E"
    assert [x["id"] for x in m["lists"]["pending_callbacks"]] == ["B", "C"]
    assert [x["id"] for x in m["lists"]["open"]] == ["E", "R2"]
    assert [x["id"] for x in m["lists"]["unhappy_feedback"]] == ["F1"]
    assert nd(m["by_property"]["乙"]["callback_rate"]) == (0, 1)
    assert nd(m["by_department"]["工程部"]["reply_rate"]) == (3, 4)
    assert nd(m["by_staff"]["维修人"]["张强"]["callback_rate"]) == (1, 1)
    assert nd(m["by_staff"]["回访人"]["刘洋"]["callback_followup_rate"]) == (1, 2)
    assert k["callback_rate"]["met"] is False and k["callback_rate"]["target"] == 1.0


def test_reinspection_turnaround_and_holiday_week():
    rows = [
        {
            "id": "S1",
            "_property": "甲",
            "appealed": "2026-09-30",
            "accepted": "2026-09-30",
            "urgent": True,
            "notified": "2026-10-10",
        },
        {
            "id": "S2",
            "_property": "甲",
            "appealed": "2026-09-30",
            "accepted": "2026-09-30",
            "urgent": True,
            "notified": "2026-10-12",
        },
        {
            "id": "S3",
            "_property": "甲",
            "appealed": "2026-10-01",
            "accepted": "2026-10-02",
            "notified": "2026-10-17",
        },
    ]
    k = model(reinspections=rows)["kpis"]
    assert nd(k["reinspection_on_time_rate"]) == (2, 3)
    assert k["reinspection_turnaround_days"] | {"values": None} == {
        "median": 12,
        "p90": 15,
        "max": 15,
        "count": 3,
        "values": None,
    }


def test_week_boundary_is_the_friday_meeting():
    week = periods.week("2026-W43", CONFIG)  # ends Friday 2026-10-23 16:30
    assert (week.start, week.end) == (datetime(2026, 10, 16, 16, 30), datetime(2026, 10, 23, 16, 30))
    before = c("X", received="2026-10-23T16:29", verified="2026-10-23")
    after = c("Y", received="2026-10-23T16:30", verified="2026-10-23")
    m = model([before, after], period=week, as_of=datetime(2026, 10, 30, 18))
    assert m["kpis"]["counts"]["complaints_received"] == 1
    nxt = model([before, after], period=periods.week("2026-W44", CONFIG), as_of=datetime(2026, 10, 30, 18))
    assert nxt["kpis"]["counts"]["complaints_received"] == 1


def test_month_boundary_sunday_2359_vs_monday_0000():
    # 2026-05-31 is a Sunday: closed 23:59 belongs to May, 00:00 on Monday 1 June to June
    a = c(
        "A",
        received="2026-05-30",
        verified="2026-05-30",
        closed="2026-05-31T23:59",
        replied="2026-05-31T23:59",
    )
    b = c(
        "B",
        received="2026-05-30",
        verified="2026-05-30",
        closed="2026-06-01T00:00",
        replied="2026-06-01T00:00",
    )
    may = model([a, b], period=periods.month("2026-05"), as_of=datetime(2026, 7, 1))
    june = model([a, b], period=periods.month("2026-06"), as_of=datetime(2026, 7, 1))
    assert nd(may["kpis"]["reply_rate"]) == (1, 1) and nd(june["kpis"]["reply_rate"]) == (1, 1)


def test_nothing_after_as_of_counts():
    a = c("A", received="2026-10-02", verified="2026-10-02", closed="2026-10-03", replied="2026-10-20")
    m = model([a], as_of=datetime(2026, 10, 10))
    assert nd(m["kpis"]["reply_rate"]) == (0, 1)


def test_empty_period_has_null_rates_never_zero():
    m = model()
    for key in (
        "callback_rate",
        "reply_rate",
        "promise_kept_rate",
        "satisfaction_rate",
        "reinspection_on_time_rate",
    ):
        assert (
            m["kpis"][key]["value"] is None
            and m["kpis"][key]["met"] is None
            and m["kpis"][key]["note"] == "本期无数据"
        )
    assert (
        m["kpis"]["effective_complaint_rate"]["value"] == 0.0
    )  # households are known: zero valid complaints is 0%


def test_property_without_households_is_an_error_naming_it():
    config = parse_config({"properties": {"甲": {"households": 1000}, "丙": {}}}, Path("."))
    m = model([c("A", prop="丙", received="2026-10-02", valid=True)], config=config)
    assert any("丙" in e and "households" in e for e in m["errors"])
    assert m["by_property"]["丙"]["effective_complaint_rate"]["value"] is None
    assert m["kpis"]["effective_complaint_rate"]["value"] is None


def test_trends_cover_twelve_periods():
    m = model([c("A", received="2026-10-02", verified="2026-10-02")])
    assert [r["period"] for r in m["trend"]["monthly"]][-3:] == ["2026-08", "2026-09", "2026-10"]
    assert len(m["trend"]["monthly"]) == 12 and len(m["trend"]["weekly"]) == 12


day = st.integers(0, 60).map(lambda n: datetime(2026, 9, 1) + timedelta(days=n))


@st.composite
def complaint_sets(draw):
    out = []
    for i in range(draw(st.integers(0, 25))):
        received = draw(day)
        closed = received + timedelta(days=draw(st.integers(0, 5))) if draw(st.booleans()) else None
        out.append(
            c(
                f"C{i}",
                prop=draw(st.sampled_from(["甲", "乙"])),
                received=received.isoformat(),
                verified=(received + timedelta(days=draw(st.integers(0, 1)))).date().isoformat(),
                closed=closed.isoformat() if closed else None,
                replied=closed.isoformat() if closed and draw(st.booleans()) else None,
                promised=(received + timedelta(days=2)).date().isoformat(),
                valid=draw(st.booleans()),
                unit=draw(st.sampled_from(["1-1-101", "2-1-202"])),
            )
        )
    cbs = [
        {
            "id": f"H{i}",
            "ref": x["id"],
            "_property": x["_property"],
            "date": x["closed"],
            "satisfaction": "满意",
        }
        for i, x in enumerate(out)
        if x["closed"] and draw(st.booleans())
    ]
    return out, cbs


@settings(max_examples=40, deadline=None)
@given(complaint_sets())
def test_rates_are_bounded_and_properties_sum_to_the_company(data):
    complaints, callbacks = data
    m = model(complaints, callbacks)
    for key, k in m["kpis"].items():
        if key in ("counts", "reinspection_turnaround_days", "repeat_complaints"):
            continue
        if key == "resident_forums":  # a count, not a rate: the properties' forums add up to the company's
            assert sum(m["by_property"][p][key]["count"] for p in ("甲", "乙")) == k["count"]
            continue
        assert k["numerator"] <= k["denominator"] or k["denominator"] == 0
        assert k["value"] is None or 0 <= k["value"] <= 1
        if key in ("effective_complaint_rate_ytd",):
            continue
        parts = [m["by_property"][p][key] for p in ("甲", "乙")]
        assert sum(p["numerator"] for p in parts) == k["numerator"], key
        assert sum(p["denominator"] for p in parts) == k["denominator"], key


def test_run_writes_kpis_json_with_the_contract_keys(tmp_path: Path, config):
    import json

    from pipeline.demo import write_demo_inbox
    from pipeline.run import RunOptions, run

    write_demo_inbox(tmp_path / "inbox")
    result = run(
        config,
        RunOptions(
            inbox=tmp_path / "inbox",
            reports=tmp_path / "reports",
            store=tmp_path / "s.sqlite",
            archive=tmp_path / "a",
            month="2026-10",
            as_of="2026-11-01 08:00",
            workers=1,
        ),
    )
    m = json.loads((tmp_path / "reports/monthly/2026-10/kpis.json").read_text(encoding="utf-8"))
    assert {
        "period",
        "kind",
        "as_of",
        "generated_at",
        "kpis",
        "by_property",
        "by_department",
        "by_staff",
        "lists",
        "data_quality",
    } <= set(m)
    assert (m["period"], m["kind"]) == ("2026-10", "monthly")
    keys = {
        "callback_rate",
        "reply_rate",
        "promise_kept_rate",
        "same_day_verification_rate",
        "effective_complaint_rate",
        "effective_complaint_rate_ytd",
        "callback_followup_rate",
        "reinspection_on_time_rate",
        "reinspection_turnaround_days",
        "satisfaction_rate",
        "repeat_complaints",
    }
    assert keys <= set(m["kpis"])
    for key in keys - {"reinspection_turnaround_days"}:
        assert {"value", "numerator", "denominator", "target", "direction", "met"} <= set(m["kpis"][key])
    assert set(m["by_property"]) == {"翠湖花园", "金桂苑", "滨江壹号"}
    dq = m["data_quality"]
    assert dq["rows_read"] == dq["rows_loaded"] + dq["rows_set_aside"] == result.counts["rows_read"]
    assert len(m["lists"]["set_aside"]) == dq["rows_set_aside"]
    assert all(row["reasons"] for row in m["lists"]["set_aside"])
    assert m == result.model | {"generated_at": m["generated_at"]}


def test_staff_scorecard_awards_the_top_performer_by_consecutive_months():
    config = parse_config(
        {
            "properties": {"甲": {"households": 1000}},
            "scorecard": {
                "enabled": True,
                "sales": {
                    "王敏": {"amount": 10000, "conversion": 0.75},
                    "刘洋": {"amount": 10000, "conversion": 0.5},
                },
            },
        },
        Path("."),
    )
    complaints = []
    for month, (wang, liu) in {8: (3, 1), 9: (2, 1), 10: (4, 2)}.items():
        for i in range(wang):
            complaints.append(c(f"W{month}{i}", handler="王敏", received=f"2026-{month:02d}-0{i + 1}"))
        for i in range(liu):
            complaints.append(c(f"L{month}{i}", handler="刘洋", received=f"2026-{month:02d}-1{i + 1}"))
    rows = {r["name"]: r for r in model(complaints, config=config)["scorecard"]}
    assert rows["王敏"]["top"] and rows["王敏"]["streak"] == 3 and rows["王敏"]["award"] == 200
    assert rows["刘洋"]["award"] == 0 and rows["刘洋"]["complaints"] == 2
    assert rows["王敏"]["commission"] == 150.0 and rows["刘洋"]["commission"] == 100.0
    assert model(complaints)["scorecard"] is None  # off unless enabled


def test_kpis_see_the_same_records_whether_validation_ran_in_this_run_or_earlier(tmp_path: Path, config):
    """A computing run hands validation's records to the KPIs instead of reading the store again:
    they must be exactly the rows a fresh read returns, for the group and for one property."""
    from datetime import datetime

    from pipeline.demo import write_demo_inbox
    from pipeline.domain import KEY
    from pipeline.run import kpi_inputs
    from pipeline.store import Store
    from pipeline.store.ingest import ingest
    from pipeline.validate.stage import file_infos, validate_store

    write_demo_inbox(tmp_path / "inbox")
    with Store(tmp_path / "s.sqlite") as store:
        ingest(config, store, tmp_path / "inbox", tmp_path / "a", datetime(2026, 11, 1, 8), workers=1)
        findings, records = validate_store(store, config, datetime(2026, 10, 20, 8))
        assert any(f.severity == "error" and f.ref for f in findings)  # rows dated after the as-of time

        def ids(raw: dict) -> dict:
            return {key: f["_id"].tolist() for key, f in raw.items()}

        for prop in (None, "金桂苑"):
            files = file_infos(store, prop)  # as the run's clerk-output plan read them
            shared = kpi_inputs(store, config, prop, records, files)
            fresh = kpi_inputs(store, config, prop)
            assert ids(shared[0]) == ids(fresh[0]) and shared[1:] == fresh[1:]
            for key, f in shared[0].items():
                f = f.drop(columns=[c for c in f.columns if c.startswith(KEY)])  # the rules' case keys
                assert f.reset_index(drop=True).equals(fresh[0][key].reset_index(drop=True))


def test_the_model_from_frames_equals_the_model_from_the_stores_dicts(tmp_path: Path, config):
    """compute_kpis takes the store's records as dicts or as typed frames (pipeline.frames): the
    same model, trends included, in the same key order."""
    from datetime import datetime

    from pipeline.demo import write_demo_inbox
    from pipeline.frames import frames
    from pipeline.periods import month
    from pipeline.registers import REGISTERS
    from pipeline.store import Store
    from pipeline.store.ingest import ingest

    write_demo_inbox(tmp_path / "inbox")
    as_of, at = datetime(2026, 11, 1, 8), datetime(2026, 11, 1, 9)
    with Store(tmp_path / "s.sqlite") as store:
        ingest(config, store, tmp_path / "inbox", tmp_path / "a", as_of, workers=1)
        raw = {key: store.records(key) for key in REGISTERS}
        models = [
            compute_kpis(given, month("2026-10"), as_of, config, DQ, [], at) for given in (raw, frames(raw))
        ]
    assert models[0]["trend"]["monthly"] and models[0]["trend"]["monthly_by_property"]
    assert models[0] == models[1]
    assert list(models[0]) == list(models[1])  # the same key order in kpis.json


_day = st.one_of(st.none(), st.integers(0, 20).map(lambda d: datetime(2026, 10, 1) + timedelta(days=d)))


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(st.tuples(_day, _day, st.sampled_from([True, False, None])), max_size=30),
    window=st.tuples(st.integers(0, 21), st.integers(0, 21)),
)
def test_a_window_and_open_at_give_what_a_plain_filter_gives(rows, window):
    """kpi.core.within and domain.open_at over a typed frame give what a plain filter over the rows
    gives: dates in [start, stop); open at stop = received before it and not closed (a closing dated
    before the receipt counting from the receipt) before it."""
    from pipeline.domain import open_at
    from pipeline.frames import frame
    from pipeline.kpi.core import within

    complaints = [
        {"id": str(i), "received": got, "closed": done, "valid": valid}
        for i, (got, done, valid) in enumerate(rows)
    ]
    start, stop = (datetime(2026, 10, 1) + timedelta(days=d) for d in sorted(window))
    f = frame("complaints", complaints)
    for where in (None, "valid"):
        plain = [
            c["id"]
            for c in complaints
            if c["received"] is not None
            and start <= c["received"] < stop
            and (where is None or c[where] is True)
        ]
        mask = within(f, "received", start, stop)
        if where:
            mask = mask & f[where].fillna(False).to_numpy(dtype=bool)
        assert f.loc[mask, "id"].tolist() == plain
    still_open = sum(
        1
        for c in complaints
        if c["received"] is not None
        and c["received"] < stop
        and not (c["closed"] and max(c["received"], c["closed"]) < stop)
    )
    assert int(open_at(f, "complaints", stop).sum()) == still_open


_when = st.one_of(st.none(), st.integers(0, 40).map(lambda d: datetime(2026, 9, 20) + timedelta(days=d)))
_prop = st.sampled_from(["甲", "乙", None])
_number = st.sampled_from(["T1", "T2", "T3", "T4"])  # few numbers: some given twice, in both properties


@st.composite
def group_records(draw):
    """A small group's records, dates around October, with the awkward parts a slice must get
    right: a number given twice, callbacks and feedback naming no property, blank departments."""
    complaints = [
        {
            "id": draw(_number),
            "_property": draw(_prop),
            "received": draw(_when),
            "closed": draw(_when),
            "replied": draw(_when),
            "valid": draw(st.booleans()),
            "unit": "1-101",
            "category": "维修",
            "department": draw(st.sampled_from(["工程部", "客服部", ""])),
            "handler": draw(st.sampled_from(["王敏", "李静"])),
        }
        for _ in range(draw(st.integers(0, 8)))
    ]
    callbacks = [
        {
            "ref": draw(_number),
            "_property": draw(_prop),
            "date": draw(_when),
            "staff": draw(st.sampled_from(["张华", "", None])),
            "satisfaction": draw(st.sampled_from(["满意", "不满意", None])),
        }
        for _ in range(draw(st.integers(0, 8)))
    ]
    feedback = [
        {"complaint_id": draw(_number), "_property": draw(_prop), "date": draw(_when), "satisfaction": "满意"}
        for _ in range(draw(st.integers(0, 5)))
    ]
    repairs = [
        {"id": f"R{i}", "_property": draw(_prop), "reported": draw(_when), "completed": draw(_when)}
        for i in range(draw(st.integers(0, 5)))
    ]
    for r in repairs:
        r["worker"] = draw(st.sampled_from(["赵强", ""]))
    return complaints, callbacks, feedback, repairs


@settings(max_examples=150, deadline=None)
@given(group_records())
def test_a_views_slices_equal_frames_of_their_own(records):
    """The KPI slices of a View (kpi.core: every slice counted in one pass) give what the company
    view of just the slice's records gives, with the slices defined here from scratch. Feedback
    naming no property has first been given its complaint's where exactly one property has that
    number (domain.attribute; the rules set the rest aside)."""
    from pipeline.domain import attribute
    from pipeline.frames import frames
    from pipeline.kpi.core import Data, Scope, by_complaint_field, by_field, by_property, company, measure
    from pipeline.workdays import WorkCalendar

    complaints, callbacks, feedback, repairs = records
    owners = {}
    for c in complaints:
        if c["_property"]:
            owners.setdefault(c["id"], set()).add(c["_property"])
    expected = [
        f["_property"]
        or (next(iter(owners[n])) if len(owners.get(n := f["complaint_id"], ())) == 1 else None)
        for f in feedback
    ]
    raw = frames({"complaints": complaints, "callbacks": callbacks, "feedback": feedback, "repairs": repairs})
    attribute(raw)
    assert [None if p != p else p for p in raw["feedback"]["_property"].tolist()] == expected
    for f in feedback:
        f["_property"] = expected[feedback.index(f)]
    calendar = WorkCalendar({})
    data = Data(raw, AS_OF, calendar)
    scope, ytd = Scope(datetime(2026, 10, 1), datetime(2026, 11, 1), AS_OF), datetime(2026, 1, 1)

    def same(view, i, **own):
        alone = Data(frames(own), AS_OF, calendar)
        for repeats in (True, False):
            sliced = measure(data, view, scope, CONFIG, [1000] * len(view.names), ytd, repeats=repeats)[i]
            assert sliced == measure(alone, company(alone), scope, CONFIG, [1000], ytd, repeats=repeats)[0]

    view = by_property(data, ["甲", "乙", "丙"])
    for i, p in enumerate(view.names):
        same(
            view,
            i,
            complaints=[c for c in complaints if c["_property"] == p],
            callbacks=[cb for cb in callbacks if cb["_property"] == p],
            repairs=[r for r in repairs if r["_property"] == p],
            feedback=[f for f in feedback if f["_property"] == p],
        )
    for field in ("department", "handler"):
        view = by_complaint_field(data, field)
        assert view.names == sorted({c[field] for c in complaints if c[field]})
        for i, name in enumerate(view.names):
            mine = [c for c in complaints if c[field] == name]
            numbers = {(c["_property"], c["id"]) for c in mine}
            same(
                view,
                i,
                complaints=mine,
                callbacks=[cb for cb in callbacks if (cb["_property"], cb["ref"]) in numbers],
                feedback=[f for f in feedback if (f["_property"], f["complaint_id"]) in numbers],
            )
    for register, field in (("callbacks", "staff"), ("repairs", "worker")):
        view = by_field(data, register, field)
        mine = callbacks if register == "callbacks" else repairs
        assert view.names == sorted({r[field] for r in mine if r[field]})
        for i, name in enumerate(view.names):
            same(view, i, **{register: [r for r in mine if r[field] == name]})

"""The run's read of the store: the Parquet snapshot of the current records (store/snapshot.py),
equal to the frames built from the typed tables' rows, through supersession, rules and a format change."""

import io
import time
from pathlib import Path

import pandas as pd

from pipeline.frames import coded, concat, frame
from pipeline.registers import REGISTERS
from pipeline.run import RunOptions, run
from pipeline.store import Store, snapshot
from tests.builders import xlsx

HEAD = ["投诉编号", "项目", "受理日期", "投诉类别", "完成日期", "处理结果"]


def _run(tmp_path: Path, config) -> None:
    opts = RunOptions(
        inbox=tmp_path / "inbox",
        reports=tmp_path / "reports",
        store=tmp_path / "store.sqlite",
        archive=tmp_path / "archive",
        as_of="2026-11-20 08:00",
        workers=1,
        render=False,
    )
    run(config, opts)


def _json_path(store: Store, key: str, passed_rules: bool):
    return frame(key, store.records(key, for_rules=not passed_rules, lean=True))


def _same(got, key: str, store: Store, passed_rules: bool) -> None:
    if passed_rules:
        got = got[~got["_rule_error"]]
    got = got.drop(columns=["_rule_error", "_file_id"]).reset_index(drop=True)
    assert got.equals(_json_path(store, key, passed_rules))


def test_the_snapshot_equals_the_json_path_through_supersession_and_rules(
    tmp_path: Path, config, monkeypatch
):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    october = [
        ["A1", "翠湖花园", "2026-10-01", "维修", "2026-10-02", "已修"],
        ["A3", "翠湖花园", "2026/13/1", "绿化", None, None],  # set aside while loading
    ]
    november = [
        ["A4", "翠湖花园", "2026-11-02", "保洁", None, None],
        ["A5", "翠湖花园", "2026-11-05", "绿化", "2026-11-03", "已剪"],  # closed before received: rule error
    ]
    xlsx(inbox / "a.xlsx", {"2026年10月": [HEAD, *october], "2026年11月": [HEAD, *november]})
    xlsx(inbox / "b.xlsx", {"2026年10月": [HEAD, ["B1", "金桂苑", "2026-10-01", "维修", None, None]]})
    _run(tmp_path, config)
    time.sleep(0.01)
    # a corrected October supersedes a.xlsx's October rows only: a.xlsx is now partly current
    xlsx(
        inbox / "c.xlsx",
        {"2026年10月": [HEAD, ["A1", "翠湖花园", "2026-10-01", "维修", "2026-10-04", "重修"]]},
    )
    _run(tmp_path, config)
    monkeypatch.setattr(snapshot, "CHUNK", 2)  # files are read in several chunks
    with Store(tmp_path / "store.sqlite") as store:
        store.db.execute("DELETE FROM frame_snapshots")  # the runs above kept one already
        for passed in (False, True):
            for key, got in store.current_frames().items():
                _same(got, key, store, passed)
        current = store.current_frames()["complaints"]
        assert current["id"].tolist() == ["A4", "A5", "B1", "A1"] and "result" not in current
        passed = current[~current["_rule_error"]]
        assert passed["id"].tolist() == ["A4", "B1", "A1"]
        stamps = dict(store.db.execute("SELECT register, stamp FROM frame_snapshots").fetchall())
        assert (
            set(stamps) == set(REGISTERS)
            and stamps["complaints"] == f"{snapshot.FORMAT}/{store.generation()}"
        )
        # a snapshot of another format is rebuilt from the typed tables' rows, not read
        monkeypatch.setattr(snapshot, "FORMAT", snapshot.FORMAT + 1)
        _same(store.current_frames()["complaints"], "complaints", store, False)
        assert store.db.execute("SELECT stamp FROM frame_snapshots WHERE register='complaints'").fetchone()[
            0
        ] == (f"{snapshot.FORMAT}/{store.generation()}")


def test_a_snapshot_is_brought_up_to_date_by_file(tmp_path: Path, config, monkeypatch):
    """A new file is decoded alone; the rows of files still current come from the snapshot, and a
    file a later one partly supersedes keeps only its current rows."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    xlsx(
        inbox / "a.xlsx",
        {
            "2026年10月": [HEAD, ["A1", "翠湖花园", "2026-10-01", "维修", None, None]],
            "2026年11月": [HEAD, ["A2", "翠湖花园", "2026-11-01", "维修", None, None]],
        },
    )
    _run(tmp_path, config)
    time.sleep(0.01)
    xlsx(inbox / "b.xlsx", {"2026年11月": [HEAD, ["A3", "翠湖花园", "2026-11-02", "保洁", None, None]]})
    decoded = []
    real = snapshot._decode
    monkeypatch.setattr(
        snapshot, "_decode", lambda db, reg, ids: decoded.append((reg, list(ids))) or real(db, reg, ids)
    )
    _run(tmp_path, config)
    with Store(tmp_path / "store.sqlite") as store:
        names = dict(store.db.execute("SELECT id, name FROM files").fetchall())
        assert [(reg, [names[i] for i in ids]) for reg, ids in decoded if ids] == [("complaints", ["b.xlsx"])]
        got = store.current_frames()["complaints"]
        assert got["id"].tolist() == ["A1", "A3"]  # b.xlsx's November supersedes a.xlsx's
        assert isinstance(got["_file"].dtype, pd.CategoricalDtype)  # kept coded through the update
        assert got["_file"].tolist() == ["a.xlsx", "b.xlsx"]
        _same(got, "complaints", store, False)


def test_where_rows_came_from_stays_coded_through_concat_and_parquet():
    """_file and _sheet are categorical; frames with other files or none at all, one under another,
    keep them so (pandas alone would make plain objects of them), and so does a snapshot's Parquet."""
    a = frame("complaints", [{"id": "A1", "_file": "a.xlsx", "_sheet": "2026年10月"}])
    b = frame("complaints", [{"id": "B1", "_file": "b.csv", "_sheet": None}])
    both = concat([a, frame("complaints", []), b])
    for key in ("_file", "_sheet"):
        assert isinstance(both[key].dtype, pd.CategoricalDtype)
    assert both["_file"].tolist() == ["a.xlsx", "b.csv"] and both["id"].tolist() == ["A1", "B1"]
    assert both["_sheet"].tolist()[0] == "2026年10月" and pd.isna(both["_sheet"].tolist()[1])
    assert list(both.index) == [0, 1]
    # one contiguous Arrow array per text column (a filter would join the chunks every time), the
    # same frame as the rows made at once
    chunked = [k for k in both.columns if isinstance(both[k].dtype, pd.StringDtype)]
    assert chunked and all(both[k].array._pa_array.num_chunks == 1 for k in chunked)
    rows = [
        {"id": "A1", "_file": "a.xlsx", "_sheet": "2026年10月"},
        {"id": "B1", "_file": "b.csv", "_sheet": None},
    ]
    assert both.equals(frame("complaints", rows))
    for f in (both, frame("complaints", [])):
        assert coded(pd.read_parquet(io.BytesIO(f.to_parquet()))).equals(f)


def test_rows_typed_a_column_at_a_time_equal_rows_typed_one_by_one():
    """frames.from_columns (how a snapshot reads new files from the typed tables) types every value
    as frame() does from dicts: blanks, dates with and without a time, as ISO text (SQLite) or
    datetimes (PostgreSQL), a date that is not one, yes/no as 1/0 or bool, unknown booleans,
    amounts, a row the store files under no property; and a column holding a value of another kind (a
    number where text belongs, as an older loader wrote) takes frame()'s way."""
    from datetime import datetime

    from pipeline.frames import columns, from_columns

    rows = [
        {
            "id": "A1",
            "property": "翠湖花园",
            "received": "2026-10-01T09:30",
            "category": "维修",
            "valid": 1,
            "compensation": 120.5,
            "unit": "",
        },
        {
            "id": "A2",
            "property": "翠湖花园",
            "received": "2026-10-02",
            "category": "",
            "valid": None,
            "compensation": None,
            "closed": "not a date",
        },
        {"id": "A3", "property": "金桂苑", "received": None, "category": "保洁", "valid": False},
    ]
    provenance = {
        "_id": [1, 2, 3],
        "_property": ["翠湖花园", None, None],  # the store's own; the third row's names 金桂苑
        "_month": ["2026-10", "2026-10", None],
        "_file": ["a.xlsx", "a.xlsx", "b.csv"],
        "_sheet": ["2026年10月", "2026年10月", None],
        "_row": [2, 3, 2],
    }

    def by_column(rows):
        return {key: [r.get(key) for r in rows] for key, _ in columns("complaints")}

    def one_by_one(rows):
        plain = [{k: bool(v) if k == "valid" and v is not None else v for k, v in r.items()} for r in rows]
        return frame(
            "complaints", [{**r, **{k: v[i] for k, v in provenance.items()}} for i, r in enumerate(plain)]
        )

    fast = from_columns("complaints", by_column(rows), provenance)
    assert fast.equals(one_by_one(rows))
    assert fast["_property"].tolist() == ["翠湖花园", "翠湖花园", "金桂苑"]
    assert fast["received"].isna().tolist() == [False, False, True] and fast["closed"].isna().all()
    assert fast["valid"].tolist()[0] is True and fast["unit"].isna().all()
    postgres = [
        {**r, "received": datetime(2026, 10, 1, 9, 30) if r["id"] == "A1" else r["received"]} for r in rows
    ]
    assert from_columns("complaints", by_column(postgres), provenance).equals(fast)
    odd = [*rows[:2], {**rows[2], "id": 3}]  # a number as 投诉编号
    slow = from_columns("complaints", by_column(odd), provenance)
    assert slow.equals(one_by_one(odd)) and slow["id"].tolist() == ["A1", "A2", "3"]
    empty = from_columns("complaints", by_column([]), {k: [] for k in provenance})
    assert empty.equals(frame("complaints", []))


def test_a_snapshot_encoded_while_the_rules_run_holds_the_rows_as_stored(tmp_path: Path, config):
    """validate_store has the updated snapshot encoded in a thread while the rules run on the same
    frames, which they change: feedback naming no property takes its complaint's, every case number
    gets its key. The snapshot holds the rows as stored, none of that."""
    import io
    from datetime import datetime

    import pandas as pd

    from pipeline.store.ingest import ingest
    from pipeline.validate.stage import validate_store

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    xlsx(
        inbox / "a.xlsx",
        {"2026年10月": [HEAD, ["A1", "翠湖花园", "2026-10-01", "维修", "2026-10-02", "已修"]]},
    )
    xlsx(
        inbox / "反馈.xlsx",
        {
            "2026年10月": [
                ["投诉处理结果客户反馈登记表"],
                ["反馈编号", "投诉编号", "反馈日期", "满意度"],
                ["F1", "A1", "2026-10-05", "满意"],
            ]
        },
    )
    with Store(tmp_path / "s.sqlite") as store:
        ingest(config, store, inbox, tmp_path / "archive", datetime(2026, 11, 1, 8), workers=1)
        _, passed = validate_store(store, config, datetime(2026, 11, 1, 8))
        assert passed["feedback"]["_property"].tolist() == ["翠湖花园"]  # attributed for the run
        assert any(c.startswith("_key_") for c in passed["feedback"].columns)
        blobs = dict(store.db.execute("SELECT register, blob FROM frame_snapshots").fetchall())
        saved = pd.read_parquet(io.BytesIO(bytes(blobs["feedback"])))
        assert saved["_property"].isna().all() and not any(c.startswith("_key_") for c in saved.columns)
        assert "_rule_error" not in saved.columns
        _same(store.current_frames()["complaints"], "complaints", store, False)


def test_a_validation_writes_only_the_findings_that_changed(tmp_path: Path, config):
    """apply_rule_findings keeps the stored findings a run finds again (same row ids), deletes the
    others and adds the new ones, and sets aside exactly the rows of the current errors."""
    from pipeline.findings import Finding

    (tmp_path / "inbox").mkdir()
    rows = [[f"T{i}", "翠湖花园", "2026-10-08", "维修", "", ""] for i in range(1, 4)]
    xlsx(tmp_path / "inbox" / "a.xlsx", {"2026年10月": [HEAD, *rows]})
    _run(tmp_path, config)
    with Store(tmp_path / "store.sqlite") as store:
        ids = [rid for (rid,) in store.db.execute("SELECT id FROM records ORDER BY id")]

        def found(code, severity, row, ref, note=""):
            return Finding(code, severity, "a.xlsx", "2026年10月", row, "投诉编号", "A", "x", note, ref=ref)

        def stored():
            sql = "SELECT id, record_id, code, severity, note FROM findings WHERE stage='rules' ORDER BY id"
            return [tuple(r) for r in store.db.execute(sql)]

        def flagged():
            return [
                rid for (rid,) in store.db.execute("SELECT id FROM records WHERE rule_error=1 ORDER BY id")
            ]

        kept = found("duplicate-id", "error", 2, ids[0])
        store.apply_rule_findings([kept, found("duplicate-id", "warning", 3, ids[1])])
        first = stored()
        assert [r[1:] for r in first] == [
            (ids[0], "duplicate-id", "error", ""),
            (ids[1], "duplicate-id", "warning", ""),
        ]
        assert flagged() == [ids[0]]
        # twice the same finding on one row is two findings; the one found again keeps its row
        again = found("duplicate-id", "error", 4, ids[2], note="n")
        store.apply_rule_findings([again, kept, again])
        second = stored()
        assert second[0] == first[0]
        assert [r[1:] for r in second[1:]] == [(ids[2], "duplicate-id", "error", "n")] * 2
        assert flagged() == [ids[0], ids[2]]
        store.apply_rule_findings([])
        assert stored() == [] and flagged() == []


def test_a_damaged_snapshot_is_rebuilt_from_the_rows(tmp_path: Path, config):
    """A snapshot's bytes damaged inside whole pages (which the store's check cannot see) are not
    read: the frame is rebuilt from the records' rows, the record of truth, and written again."""
    (tmp_path / "inbox").mkdir()
    rows = [[f"T{i}", "翠湖花园", "2026-10-08", "维修", "", ""] for i in range(1, 4)]
    xlsx(tmp_path / "inbox" / "a.xlsx", {"2026年10月": [HEAD, *rows]})
    _run(tmp_path, config)
    with Store(tmp_path / "store.sqlite") as store:
        (blob,) = store.db.execute("SELECT blob FROM frame_snapshots WHERE register='complaints'").fetchone()
        damaged = bytes(blob[:100]) + b"\0" * (len(blob) - 100)
        store.db.execute("UPDATE frame_snapshots SET blob=? WHERE register='complaints'", (damaged,))
        _same(store.current_frames()["complaints"], "complaints", store, False)
        (again,) = store.db.execute("SELECT blob FROM frame_snapshots WHERE register='complaints'").fetchone()
        assert bytes(again) != damaged and snapshot._read(again, "complaints") is not None


def test_a_snapshot_from_before_a_column_was_declared_reads_it_blank(tmp_path: Path, config):
    """A column registers.py gained (回访日期 of a complaints register) is added to the typed table
    when the store opens, blank for the rows stored before; a snapshot written before it is read
    with it blank too (frames.widen), equal to the frame rebuilt from the rows, not rebuilt."""
    (tmp_path / "inbox").mkdir()
    rows = [[f"T{i}", "翠湖花园", "2026-10-08", "维修", "", ""] for i in range(1, 4)]
    xlsx(tmp_path / "inbox" / "a.xlsx", {"2026年10月": [HEAD, *rows]})
    _run(tmp_path, config)
    with Store(tmp_path / "store.sqlite") as store:
        (stamp, blob) = store.db.execute(
            "SELECT stamp, blob FROM frame_snapshots WHERE register='complaints'"
        ).fetchone()
        older = pd.read_parquet(io.BytesIO(bytes(blob))).drop(columns=["callback_date", "callback_staff"])
        store.db.execute(
            "UPDATE frame_snapshots SET blob=? WHERE register='complaints'", (snapshot.parquet(older),)
        )
        got = store.current_frames()["complaints"]
        assert got["callback_date"].isna().all() and str(got["callback_date"].dtype) == "datetime64[ns]"
        _same(got, "complaints", store, False)
        assert (
            store.db.execute("SELECT stamp FROM frame_snapshots WHERE register='complaints'").fetchone()[0]
            == stamp
        )

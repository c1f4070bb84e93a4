"""The run's read of the store: decoded records cached per file (SQLite), equal to the JSON path."""

import time
from pathlib import Path

from pipeline.registers import REGISTERS
from pipeline.run import RunOptions, run
from pipeline.store import Store, record_cache
from tests.builders import xlsx
from tests.conftest import ON_POSTGRES

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


def _json_path(store: Store, key: str, passed_rules: bool) -> list[dict]:
    return store.records(key, for_rules=not passed_rules, lean=True)


def test_cached_records_equal_the_json_path_through_supersession_and_rules(
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

    monkeypatch.setattr(record_cache, "CHUNK", 2)  # files are read and cached in several chunks
    with Store(tmp_path / "store.sqlite") as store:
        if not ON_POSTGRES:  # a shared server has no cache table (see record_cache)
            store.db.execute("DELETE FROM record_cache")  # the runs above cached them already
        for passed in (False, True):
            for key in REGISTERS:
                assert store.current_records(key, passed) == _json_path(store, key, passed)
        current = [r["id"] for r in store.current_records("complaints")]
        assert current == ["A4", "A5", "B1", "A1"] and "result" not in store.current_records("complaints")[0]
        assert [r["id"] for r in store.current_records("complaints", passed_rules=True)] == ["A4", "B1", "A1"]
        if ON_POSTGRES:
            return  # a shared server's store decodes JSON every time (see record_cache)
        cached = store.db.execute("SELECT COUNT(*) FROM record_cache").fetchone()[0]
        assert cached == 3  # every loaded file once, the superseded one too

        # a second read comes from the cache alone: the JSON path is not taken
        monkeypatch.setattr(Store, "_decode", lambda *a: (_ for _ in ()).throw(AssertionError("decoded")))
        again = {r["id"]: r for r in store.current_records("complaints")}
        assert list(again) == current
        # dates that repeat across files are one object, not one per file's blob
        assert again["B1"]["received"] is again["A1"]["received"]

        # another format (new code, another Python) is not read: the blobs are rebuilt
        monkeypatch.undo()
        record_cache.cache_format.cache_clear()
        monkeypatch.setattr(record_cache, "VERSION", record_cache.VERSION + 1)
        assert store.current_records("complaints") == _json_path(store, "complaints", False)
        formats = {f for (f,) in store.db.execute("SELECT format FROM record_cache")}
        assert formats == {record_cache.cache_format()}
    record_cache.cache_format.cache_clear()


def test_a_files_rows_are_found_through_an_index_not_by_scanning_the_store(tmp_path: Path):
    """The cache is filled a chunk of files at a time: without an index on file_id each chunk
    scanned every record of the store (a group's first run: 36 scans of 1.4 million rows, 19 s)."""
    if ON_POSTGRES:
        return  # the server plans its own queries
    with Store(tmp_path / "s.sqlite") as store:
        plan = store.db.execute(
            "EXPLAIN QUERY PLAN SELECT r.id FROM records r JOIN files f ON f.id = r.file_id"
            " WHERE r.set_aside=0 AND r.file_id IN (1, 2) ORDER BY r.id"
        ).fetchall()
    assert not any(step[-1].startswith("SCAN r") for step in plan), plan

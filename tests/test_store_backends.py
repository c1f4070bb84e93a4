"""The store behind a path (SQLite) or a URL (PostgreSQL); the suite runs against both (`make test`)."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import replace as dc_replace
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.config import parse_config
from pipeline.infra.lock import Busy
from pipeline.run import RunOptions, run
from pipeline.store import Store, _PgConnection, describe, location_of, store_lock
from tests.builders import xlsx
from tests.conftest import ON_POSTGRES, store_url

needs_postgres = pytest.mark.skipif(not ON_POSTGRES, reason="runs in the PostgreSQL pass of make test")
HEAD = ["投诉编号", "项目", "受理日期", "调查核实日期", "投诉类别"]


def _inbox(folder: Path, prop: str, ident: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    xlsx(folder / f"{prop}.xlsx", {"2026年10月": [HEAD, [ident, prop, "2026-10-08", "2026-10-08", "维修"]]})
    return folder


def test_the_suite_runs_on_the_backend_it_was_asked_for(tmp_path: Path):
    with Store(tmp_path / "s.sqlite") as store:
        assert isinstance(store.db, _PgConnection if ON_POSTGRES else sqlite3.Connection)
        assert store.generation() == "0:0"


def test_a_url_is_a_url_and_a_password_never_shows():
    url = "postgresql://kf:s3cret@db.example:5433/reports?schema=group_a"
    assert location_of(url) == url and location_of("store.sqlite") == Path("store.sqlite")
    assert describe(url) == "postgresql://kf@db.example:5433/reports?schema=group_a"


@needs_postgres
def test_a_bad_schema_name_is_refused_in_chinese():
    url = str(store_url(Path("/tmp/x.sqlite"))).split("?")[0] + "?schema=a;drop"
    with pytest.raises(Exception, match="只能由字母、数字和下划线组成"):
        Store(url)


@needs_postgres
def test_pipeline_run_and_status_on_a_postgresql_url(tmp_path: Path):
    url = str(store_url(tmp_path / "named-by-url"))
    inbox = _inbox(tmp_path / "inbox", "翠湖花园", "A1")
    (tmp_path / "config.toml").write_text(
        '[properties."翠湖花园"]\nhouseholds = 1200\nregisters = ["complaints"]\n', encoding="utf-8"
    )
    common = ["--config", str(tmp_path / "config.toml")]
    args = ["run", *common, "--inbox", str(inbox), "--reports", str(tmp_path / "r"), "--store", url]
    args += ["--archive", str(tmp_path / "a"), "--month", "2026-10", "--as-of", "2026-11-01 08:00"]
    done = CliRunner().invoke(cli, [*args, "--no-reports", "--quiet"])
    assert done.exit_code == 0, done.output
    assert "入库 1 行" in done.output
    with Store(url) as store:
        assert store.counts()["rows_loaded"] == 1
    with store_lock(url):
        busy = CliRunner().invoke(cli, [*args, "--no-reports", "--quiet"])
    assert busy.exit_code == 2 and "另一个 pipeline 正在使用数据库" in busy.output
    assert isinstance(busy.exception, SystemExit)


@needs_postgres
def test_two_centres_load_into_one_database_side_by_side(tmp_path: Path, config):
    url = str(store_url(tmp_path / "shared"))
    outcomes, errors = {}, []

    def centre(prop: str, ident: str) -> None:
        try:
            inbox = _inbox(tmp_path / prop / "inbox", prop, ident)
            options = RunOptions(
                inbox=inbox,
                reports=tmp_path / prop / "reports",
                store=url,
                archive=tmp_path / prop / "archive",
                month="2026-10",
                as_of="2026-11-01 08:00",
                workers=1,
                render=False,
                wait=60,
            )
            outcomes[prop] = run(config, options)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=centre, args=a) for a in (("翠湖花园", "A1"), ("金桂苑", "B1"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with Store(url) as store:
        assert store.counts()["rows_loaded"] == 2 and len(store.files()) == 2
    with pytest.raises(Busy), store_lock(url), store_lock(url):
        pass


def test_each_register_is_a_view_with_the_clerks_column_names(tmp_path: Path):
    """Issue 18: open the store in any SQLite browser (or psql) and query 受理日期 as a column."""
    inbox = tmp_path / "inbox"
    rows = [HEAD, ["A1", "翠湖花园", "2026-10-08", "2026-10-08", "维修"]]
    rows.append(["A2", "翠湖花园", "2026-10-09", "2026-10-09", "水电"])
    xlsx(inbox / "翠湖花园.xlsx", {"2026年10月": rows})
    config = parse_config({"properties": {"翠湖花园": {"households": 1200}}}, tmp_path)
    options = RunOptions(
        inbox=inbox, reports=tmp_path / "r", store=tmp_path / "s.sqlite", archive=tmp_path / "a"
    )
    run(config, dc_replace(options, month="2026-10", as_of="2026-11-01 08:00", render=False, workers=1))
    with Store(tmp_path / "s.sqlite") as store:
        rows = store.db.execute(
            'SELECT 投诉编号, 项目, 受理日期, 投诉类别, 文件, 行, 状态 FROM "客户投诉处理登记表" ORDER BY 投诉编号'
        ).fetchall()
    assert [(r[0], r[1], str(r[2])[:10], r[3], r[6]) for r in rows] == [
        ("A1", "翠湖花园", "2026-10-08", "维修", "入库"),
        ("A2", "翠湖花园", "2026-10-09", "水电", "暂存"),  # 水电 is not a category: set aside by a rule
    ]
    assert rows[0][4] == "翠湖花园.xlsx" and rows[0][5] == 2
    if ON_POSTGRES:
        assert isinstance(rows[0][2], datetime)  # a TIMESTAMP there; ISO text in SQLite


def _typed_store(tmp_path: Path) -> Path:
    """A store of two complaints of a property, one set aside by a rule (水电 is not a category)."""
    inbox = tmp_path / "inbox"
    rows = [
        HEAD + ["是否有效投诉", "赔偿金额"],
        ["A1", "翠湖花园", "2026-10-08 09:30", "2026-10-08", "维修", "是", 120.5],
    ]
    rows.append(["A2", "翠湖花园", "2026-10-09", "2026-10-09", "水电", "否", None])
    xlsx(inbox / "翠湖花园.xlsx", {"2026年10月": rows})
    config = parse_config({"properties": {"翠湖花园": {"households": 1200}}}, tmp_path)
    options = RunOptions(
        inbox=inbox, reports=tmp_path / "r", store=tmp_path / "s.sqlite", archive=tmp_path / "a"
    )
    run(config, dc_replace(options, month="2026-10", as_of="2026-11-01 08:00", render=False, workers=1))
    return tmp_path / "s.sqlite"


def test_each_register_is_a_typed_table_with_the_clerks_column_names(tmp_path: Path):
    """Issue 18: the values are real, typed columns (受理日期 a date, 是否有效投诉 yes/no, 赔偿金额 a
    number), keyed by the records table's id, that plain SQL filters and sums."""
    with Store(_typed_store(tmp_path)) as store:
        db = store.db
        if ON_POSTGRES:
            types = dict(
                db.execute(
                    "SELECT column_name, data_type FROM information_schema.columns"
                    " WHERE table_name = 'rows_complaints' AND table_schema = current_schema()"
                ).fetchall()
            )
        else:
            types = {r[1]: r[2] for r in db.execute("PRAGMA table_info(rows_complaints)").fetchall()}
        assert types["受理日期"] == ("timestamp without time zone" if ON_POSTGRES else "TEXT")
        assert types["是否有效投诉"] == ("boolean" if ON_POSTGRES else "INTEGER")
        assert types["赔偿金额"] == ("double precision" if ON_POSTGRES else "REAL")
        assert types["投诉编号"] == ("text" if ON_POSTGRES else "TEXT")
        rows = db.execute(
            'SELECT t."投诉编号", t."受理日期", t."是否有效投诉", t."赔偿金额", r.sheet, r.row'
            " FROM rows_complaints t JOIN records r ON r.id = t.id ORDER BY t.id"
        ).fetchall()
        assert [(r[0], str(r[1])[:16].replace("T", " "), bool(r[2]), r[3], r[4], r[5]) for r in rows] == [
            ("A1", "2026-10-08 09:30", True, 120.5, "2026年10月", 2),
            ("A2", "2026-10-09 00:00" if ON_POSTGRES else "2026-10-09", False, None, "2026年10月", 3),
        ]
        since = "2026-10-09"
        (n,) = db.execute('SELECT COUNT(*) FROM rows_complaints WHERE "受理日期" >= ?', (since,)).fetchone()
        (total,) = db.execute('SELECT SUM("赔偿金额") FROM rows_complaints').fetchone()
        assert n == 1 and total == 120.5


def test_a_store_that_kept_its_rows_as_json_moves_them_into_the_typed_tables(tmp_path: Path):
    """A store made before the typed tables held each row's values as one JSON text (records.data).
    Opened by this version, the values move into the typed tables once, each row gets the fingerprint
    that tells an older version of a file, the JSON column goes, and every reading is as before."""
    import json

    from pipeline.registers import REGISTERS
    from pipeline.store import tables

    path = _typed_store(tmp_path)
    with Store(path) as store:
        before = {key: store.records(key, include_set_aside=True) for key in REGISTERS}
        frames = store.current_frames()
        prints = store.db.execute("SELECT id, fingerprint FROM records ORDER BY id").fetchall()
        db = store.db  # now as an older version left it
        db.execute("ALTER TABLE records ADD COLUMN data TEXT")
        for key, register in REGISTERS.items():
            for rec in before[key]:
                data = {c.key: rec[c.key] for c in register.columns}
                db.execute(
                    "UPDATE records SET data=? WHERE id=?", (json.dumps(data, ensure_ascii=False), rec["_id"])
                )
            db.execute(f'DROP VIEW "{register.title}"')
            db.execute(f"DROP TABLE {tables.table(key)}")
        db.execute("ALTER TABLE records DROP COLUMN fingerprint")
        db.execute("DELETE FROM frame_snapshots")
    with Store(path) as store:
        columns = {d[0] for d in store.db.execute("SELECT * FROM records LIMIT 0").description}
        assert "data" not in columns
        assert store.db.execute("SELECT id, fingerprint FROM records ORDER BY id").fetchall() == prints
        assert {key: store.records(key, include_set_aside=True) for key in REGISTERS} == before
        for key, frame in store.current_frames().items():
            assert frame.equals(frames[key]), key
        view = store.db.execute(
            'SELECT 投诉编号, 状态 FROM "客户投诉处理登记表" ORDER BY 投诉编号'
        ).fetchall()
        assert [tuple(r) for r in view] == [("A1", "入库"), ("A2", "暂存")]


def test_where_findings_point_and_who_filled_a_file_in_survive_an_upgrade(tmp_path: Path):
    """The sheets' column layouts (where a finding points: 受理时间 in column C) and the 填表人 are
    columns of the files table; a store from before them gets them from its sheet summaries once,
    and reads as it did."""
    from pipeline.validate.stage import file_infos

    inbox = tmp_path / "inbox"
    rows = [["投诉编号", "项目", "受理时间", "投诉类别"], ["A1", "翠湖花园", "2026-10-08", "维修"]]
    xlsx(inbox / "翠湖花园.xlsx", {"2026年10月": [["客户投诉处理登记表"], *rows, [], ["填表人：王敏"]]})
    config = parse_config({"properties": {"翠湖花园": {"households": 1200}}}, tmp_path)
    options = RunOptions(
        inbox=inbox, reports=tmp_path / "r", store=tmp_path / "s.sqlite", archive=tmp_path / "a"
    )
    run(config, dc_replace(options, month="2026-10", as_of="2026-11-01 08:00", render=False, workers=1))
    with Store(tmp_path / "s.sqlite") as store:
        columns, infos = store.sheet_columns(), file_infos(store)
        assert columns[("翠湖花园.xlsx", "2026年10月")]["received"] == ["受理时间", "C"]
        assert [i["submitter"] for i in infos] == ["王敏"]
        store.db.execute("ALTER TABLE files DROP COLUMN layouts")  # as an older version left it
        store.db.execute("ALTER TABLE files DROP COLUMN submitter")
        store.db.execute("DELETE FROM meta WHERE key='layouts_filled'")
    with Store(tmp_path / "s.sqlite") as store:
        assert store.sheet_columns() == columns and file_infos(store) == infos

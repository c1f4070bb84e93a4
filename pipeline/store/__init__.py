"""The record store: SQLite (WAL) by default, or PostgreSQL when given a URL; one transaction per batch.

Tables: files (known by content hash), records (every data row, loaded or set aside, with its
provenance and the file that superseded it), one typed table per register holding the rows' values
(rows_complaints …, with the clerks' column names: store/tables.py), findings, seen (path/size/mtime
→ hash, so that a re-run with nothing new does not re-hash the inbox), meta and runs; and one view per
register ("客户投诉处理登记表" …): its current rows with their provenance, for plain SQL.

A store is named by a path (SQLite file) or a URL: `postgresql://user:password@host:5432/db`,
optionally `?schema=name` to keep one group's tables in their own schema. The SQL below is
written once, in the subset both databases understand; `_PgConnection` translates its
placeholders for psycopg.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pipeline.errors import PipelineError
from pipeline.infra.faults import RESTORE
from pipeline.infra.lock import Busy, exclusive
from pipeline.load.loader import LoadedFile
from pipeline.registers import BOOL, DATE, REGISTERS
from pipeline.store import snapshot, tables

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    sha256 TEXT UNIQUE NOT NULL,
    name TEXT NOT NULL,
    source TEXT,
    size INTEGER,
    archived TEXT,
    register TEXT,
    status TEXT NOT NULL,              -- loaded | rejected | replaced (a rejected file a later one of its name replaced)
    error TEXT,                        -- JSON finding when rejected
    rows_read INTEGER DEFAULT 0,
    rows_loaded INTEGER DEFAULT 0,
    rows_set_aside INTEGER DEFAULT 0,
    sheets TEXT,                       -- JSON sheet summaries
    loaded_at TEXT NOT NULL,
    rows_skipped INTEGER DEFAULT 0,    -- not data: ghost rows, signature lines, repeated headers
    skipped TEXT,                      -- JSON reason → rows
    saved_at TEXT,                     -- when the workbook says it was saved (docProps), if it does
    run_id INTEGER,
    layouts TEXT,                      -- JSON [[sheet, {key: [header, letter]}], …]: where findings point
    submitter TEXT                     -- 填表人 of its first sheet that names one
);
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL REFERENCES files(id),
    register TEXT NOT NULL,
    property TEXT,
    month TEXT,
    record_id TEXT,
    sheet TEXT,
    row INTEGER,
    fingerprint TEXT,                  -- the values' hash (tables.fingerprint: an older version of a file)
    set_aside INTEGER NOT NULL DEFAULT 0,
    reasons TEXT,                      -- JSON list of error findings when set aside
    rule_error INTEGER NOT NULL DEFAULT 0,  -- set aside by a validation rule (recomputed every run)
    superseded_by INTEGER REFERENCES files(id)
);
-- Indexes that hold every column their queries read, so SQLite answers from the index alone (at
-- 300 properties a year: the snapshot's current files 0.2 → 0.05 s a register, the rows a rule
-- set aside 0.13 → 0.04 s, file_counts 0.45 → 0.22 s, handed_in 0.7 → 0.2 s)
CREATE INDEX IF NOT EXISTS records_current ON records(register, superseded_by, set_aside, file_id, rule_error);
CREATE INDEX IF NOT EXISTS records_counted ON records(superseded_by, file_id, set_aside, rule_error);
CREATE INDEX IF NOT EXISTS records_scopes ON records(register, property, month, superseded_by, set_aside);
CREATE INDEX IF NOT EXISTS records_file ON records(file_id);  -- a file's rows: snapshots, counts, supersession
CREATE INDEX IF NOT EXISTS files_name ON files(name);  -- an earlier version of a file (_replace_whole_files)
CREATE TABLE IF NOT EXISTS findings (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL REFERENCES files(id),
    stage TEXT NOT NULL DEFAULT 'load',
    code TEXT, severity TEXT, sheet TEXT, row INTEGER, column_name TEXT, letter TEXT, value TEXT, note TEXT,
    message TEXT,
    record_id INTEGER  -- a rule's finding: the record it is about (apply_rule_findings compares by it)
);
CREATE INDEX IF NOT EXISTS findings_file ON findings(file_id);
CREATE TABLE IF NOT EXISTS seen (
    path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, sha256 TEXT
);
CREATE TABLE IF NOT EXISTS mails (
    id INTEGER PRIMARY KEY, period TEXT, kind TEXT, recipients TEXT, subject TEXT, message_id TEXT, sent_at TEXT
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY, value TEXT
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, started_at TEXT, finished_at TEXT, args TEXT, status TEXT, summary TEXT
);
"""


# SQLite page cache. The default 2 MB thrashes on a group's index inserts; 32 MB loads as fast as 128 MB
# did (a week's 1,407 files 7.4–8.7 s either way, 5,000 files of a first load 24–28 s), the pages beyond
# it come from the system's file cache, and a run holds 100 MB less through the rules and the KPIs
CACHE_KIB = 32_768
LAYOUTS_DONE = "layouts_filled"  # meta: files.layouts and files.submitter filled for every file

PG_SCHEMES = ("postgresql://", "postgres://")
_PG_SCHEMA_LOCK = 7_411_001  # advisory lock key: one process creates the tables at a time


def is_url(location) -> bool:
    return isinstance(location, str) and location.startswith(PG_SCHEMES)


def location_of(text: str | Path) -> str | Path:
    """A --store or [paths] store value: a PostgreSQL URL as it is, anything else a path."""
    return text if is_url(text) else Path(text)


def exists(location) -> bool:
    """Whether there is a store to read (a server's store always counts as there)."""
    target = _locate(location)
    return is_url(target) or Path(target).exists()


def describe(location) -> str:
    """The location for messages and logs, without a password."""
    if not is_url(location):
        return str(location)
    parts = urlsplit(location)
    host = parts.hostname or ""
    user = f"{parts.username}@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit((parts.scheme, f"{user}{host}{port}", parts.path, parts.query, ""))


def _locate(location):
    """Where a store really is (the test suite points every store at PostgreSQL through this)."""
    return location


@lru_cache(maxsize=256)
def _pg_sql(sql: str) -> str:
    sql = sql.replace("BEGIN IMMEDIATE", "BEGIN")
    sql = re.sub(r"\bIS NOT \?", "IS DISTINCT FROM ?", sql)
    sql = re.sub(r"\bIS \?", "IS NOT DISTINCT FROM ?", sql)
    return sql.replace("?", "%s")


class _PgConnection:
    """The few sqlite3.Connection calls the store makes, on a psycopg connection (autocommit; the
    store issues BEGIN/COMMIT itself, as with SQLite)."""

    def __init__(self, url: str):
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise StoreError("使用 PostgreSQL 数据库需要安装 psycopg（pip install psycopg[binary]）") from exc
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        schema = query.pop("schema", None)
        dsn = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))
        if schema and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", schema):
            raise StoreError(f"数据库地址中的 schema “{schema}” 只能由字母、数字和下划线组成")
        try:
            self.conn = psycopg.connect(dsn, autocommit=True, connect_timeout=15)
        except psycopg.Error as exc:
            raise StoreError(f"无法连接数据库 {describe(url)}：{str(exc).strip()}") from exc
        self.schema = schema
        if schema:
            self.conn.execute(f'SET search_path TO "{schema}"')

    def execute(self, sql: str, params: tuple | list = ()):
        return self.conn.execute(_pg_sql(sql), params or None)

    def executemany(self, sql: str, rows: list) -> None:
        if rows:
            with self.conn.cursor() as cur:
                cur.executemany(_pg_sql(sql), rows)

    def executescript(self, script: str) -> None:
        self.conn.execute("SELECT pg_advisory_lock(%s)", (_PG_SCHEMA_LOCK,))
        try:
            if self.schema:
                self.conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            self.conn.execute(script.replace("INTEGER", "BIGINT").replace("BIGINT PRIMARY KEY", _PG_ID))
        finally:
            self.conn.execute("SELECT pg_advisory_unlock(%s)", (_PG_SCHEMA_LOCK,))

    def close(self) -> None:
        self.conn.close()


_PG_ID = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"


def _plain(value, kind: str):
    """A typed table's value as the loader gave it: a date as ISO text, yes/no as a bool."""
    if value is None:
        return None
    if kind == BOOL:
        return bool(value)
    if kind == DATE and isinstance(value, datetime):  # PostgreSQL's TIMESTAMP
        if value == datetime.combine(value.date(), datetime.min.time()):  # midnight: a day
            return value.date().isoformat()
        return value.isoformat(timespec="minutes") if value.second == 0 else value.isoformat()
    return value


def _tables(postgres: bool) -> str:
    return "".join(f"{statement};\n" for statement in tables.table_statements(postgres))


class StoreError(PipelineError):
    """The store cannot be opened: a message in Chinese."""


@contextmanager
def store_lock(location, wait: float = 0.0, poll: float = 0.5) -> Iterator[None]:
    """One run at a time per store: an flock beside a SQLite file; a PostgreSQL advisory lock
    (held by its own connection for the run) for a server's store, so runs on different
    machines sharing one database take turns."""
    if not is_url(location):
        path = Path(location)
        with exclusive(path.with_name(path.name + ".lock"), wait, poll):
            yield
        return
    conn = _PgConnection(location)
    key = int.from_bytes(hashlib.sha256(describe(location).encode()).digest()[:7], "big")
    deadline = time.monotonic() + wait
    try:
        while not conn.execute("SELECT pg_try_advisory_lock(?)", (key,)).fetchone()[0]:
            if time.monotonic() >= deadline:
                raise Busy(
                    f"另一个 pipeline 正在使用数据库 {describe(location)}；请等它结束后再试，或加 --wait 秒数排队等待"
                )
            time.sleep(poll)
        yield
    finally:
        conn.close()  # ending the session releases the lock


def _finding_row(f) -> tuple:
    """A finding's columns in the findings table, after file_id and stage."""
    value = None if f.value is None else str(f.value)
    return (f.code, f.severity, f.sheet, f.row, f.column, f.letter, value, f.note, f.message)


@dataclass
class FileRows:
    """One loaded file as the store's rows. Built where the file was loaded (a worker process), so
    the run only writes them: values, fingerprints and reasons are made in parallel, and what crosses
    between processes is plain tuples instead of records with their findings."""

    file: tuple  # files columns sha256 … skipped (loaded_at and run_id are added when stored)
    scopes: list[tuple]  # (register, property, month) whose earlier rows this file supersedes
    records: list[tuple]  # records columns register … reasons
    values: list[tuple]  # each record's values, its typed table's columns (tables.values)
    findings: list[tuple]  # findings columns code … message


def layout_columns(sheets: list[dict]) -> tuple[str, str | None]:
    """files.layouts and files.submitter of a file's sheet summaries: where each sheet's columns are
    (as sheet_columns gives them), one text that files of the same template and month share, so
    that it is parsed once per distinct text; and the first 填表人 a sheet names."""
    layouts = json.dumps([[s["name"], s.get("columns") or {}] for s in sheets], ensure_ascii=False)
    return layouts, next((s["submitter"] for s in sheets if s.get("submitter")), None)


def file_rows(loaded: LoadedFile, archived: str | None) -> FileRows:
    dumps = json.dumps
    error = loaded.error
    sheets = [asdict(s) for s in loaded.sheets]  # files.sheets, and the layouts and 填表人 taken from them
    file = (
        loaded.sha256,
        loaded.name,
        str(loaded.path),
        loaded.size,
        archived,
        loaded.register,
        "rejected" if error else "loaded",
        dumps(error.as_dict(), ensure_ascii=False) if error else None,
        loaded.rows_read,
        loaded.rows_loaded,
        loaded.rows_set_aside,
        dumps(sheets, ensure_ascii=False),
        loaded.rows_skipped,
        dumps(loaded.skipped, ensure_ascii=False),
        loaded.saved_at,
        *layout_columns(sheets),
    )
    if error:
        return FileRows(file, [], [], [], [_finding_row(error)])
    records, values = [], []
    for r in loaded.records:
        errors = [f.message for f in r.errors()] or None
        values.append(tables.values(r.register, r.values))
        records.append(
            (
                r.register,
                r.property_name,
                r.month,
                r.record_id,
                r.sheet,
                r.row,
                tables.fingerprint(values[-1]),
                1 if errors else 0,
                dumps(errors, ensure_ascii=False) if errors else None,
            )
        )
    scopes = sorted({(r.register, r.property_name, r.month) for r in loaded.records}, key=str)
    return FileRows(file, scopes, records, values, [_finding_row(f) for f in loaded.all_findings()])


def of_property(alias: str = "") -> str:
    """SQL for one property's rows (parameters: `_property_params`), register first so that the
    records_scopes index finds them: a bare `property=?` reads every row of a group (0.6 s at 300)."""
    a = f"{alias}." if alias else ""
    return f"{a}register IN ({', '.join('?' * len(REGISTERS))}) AND {a}property = ?"


def property_params(name: str) -> tuple:
    return (*REGISTERS, name)


_COUNT_LOADED = "SUM(CASE WHEN set_aside=0 AND rule_error=0 THEN 1 ELSE 0 END)"
_COUNT_ASIDE = "SUM(CASE WHEN set_aside=1 OR rule_error=1 THEN 1 ELSE 0 END)"


COUNTED = ("rows_read", "rows_loaded", "rows_set_aside", "rows_skipped")


def totals(files) -> dict[str, int]:
    """The files' counts added up (file_counts, file_infos)."""
    out = dict.fromkeys(COUNTED, 0)
    for f in files:
        for key in COUNTED:
            out[key] += f.get(key, 0) or 0
    return out


def _findings_scope(
    property_name: str | None, also_files: tuple[int, ...] = (), file_ids: tuple[int, ...] | None = None
) -> tuple[str, tuple]:
    """The WHERE of Store.findings and Store.finding_counts (files aliased f)."""
    if property_name:
        also = ",".join(str(int(i)) for i in also_files)
        where = (
            " WHERE (f.id IN (SELECT file_id FROM records WHERE superseded_by IS NULL AND "
            f"{of_property()}){f' OR f.id IN ({also})' if also else ''})"
        )
        params: tuple = property_params(property_name)
    else:
        where = " WHERE (f.id IN (SELECT file_id FROM records WHERE superseded_by IS NULL) OR f.status='rejected')"
        params = ()
    if file_ids is not None:
        where += f" AND f.id IN ({','.join(str(int(i)) for i in file_ids) or 'NULL'})"
    return where, params


class Store:
    """A thin object over one database: a SQLite file or a PostgreSQL database (see the module)."""

    def __init__(self, location: str | Path):
        self.location = location
        self._checking: threading.Thread | None = None  # start_check's thread
        self._checked: str | None = None
        self._snapshots: list = []  # snapshots being encoded (current_frames(save_later=True))
        self.target = target = _locate(location)  # where it really is: Store.reader's argument
        if is_url(target):
            self.db = _PgConnection(target)
            self.db.executescript(SCHEMA + snapshot.SCHEMA.replace("BLOB", "BYTEA") + _tables(True))
            self._upgrade(postgres=True)
            self._views()
            return
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        new = not path.exists()
        self.db = sqlite3.connect(path, timeout=60, isolation_level=None)
        if new:
            os.chmod(path, 0o600)  # customer data: owner only
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.executescript(SCHEMA + snapshot.SCHEMA + _tables(False))
            self._upgrade(postgres=False)
            self._views()
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError):  # locked, disk full, I/O: faults.describe_fault
                raise
            self.db.close()
            raise StoreError(f"数据库 {path} 已损坏，无法打开（{exc}）。{RESTORE}") from exc

    def check(self) -> None:
        """A damaged SQLite store is said before a run relies on it, with how to restore it
        (PRAGMA quick_check: 0.3 s for a 276 MB store whose pages are in memory, seconds when they
        are not); a PostgreSQL server checks its own pages. After start_check, waits for its result."""
        if isinstance(self.db, _PgConnection):
            return
        if self._checked is None and self._checking is None:
            self.start_check()
        if self._checking is not None:
            self._checking.join()
            self._checking = None
        result = self._checked  # once known, not checked again while this store is open
        if result != "ok":
            raise StoreError(f"数据库 {self.location} 已损坏（完整性检查：{result}）。{RESTORE}")

    def start_check(self) -> None:
        """Begin check() on a connection of its own, in a thread (SQLite leaves Python's lock while
        it reads pages), so that a run reads its inbox, loads files and runs the rules meanwhile;
        check() then waits for it before a file or a finding is stored (a run that only reuses its
        outputs never waits)."""
        if isinstance(self.db, _PgConnection) or self._checking is not None or self._checked is not None:
            return

        def quick_check() -> None:
            try:
                db = sqlite3.connect(_locate(self.location), timeout=60)
                try:
                    self._checked = db.execute("PRAGMA quick_check(1)").fetchone()[0]
                finally:
                    db.close()
            except sqlite3.DatabaseError as exc:
                self._checked = str(exc)

        self._checking = threading.Thread(target=quick_check, name="store-check", daemon=True)
        self._checking.start()

    def ping(self) -> None:
        """Raises at once if the database has gone (a PostgreSQL server stopped mid-run)."""
        self.db.execute("SELECT 1").fetchone()

    def _upgrade(self, postgres: bool) -> None:
        """Columns added since a store was made (its older files count nothing there), indexes that
        newer ones replace, and the typed tables of a store that kept its values as JSON rows."""
        for index in ("records_active", "records_scope"):
            self.db.execute(f"DROP INDEX IF EXISTS {index}")
        have = {d[0] for d in self.db.execute("SELECT * FROM files LIMIT 0").description}
        for column, kind in (
            ("rows_skipped", "INTEGER DEFAULT 0"),
            ("skipped", "TEXT"),
            ("saved_at", "TEXT"),
            ("layouts", "TEXT"),
            ("submitter", "TEXT"),
        ):
            if column not in have:
                self.db.execute(f"ALTER TABLE files ADD COLUMN {column} {kind}")
        self._layouts_from_sheets()
        have = {d[0] for d in self.db.execute("SELECT * FROM findings LIMIT 0").description}
        if "record_id" not in have:  # the first validation after this rewrites the rules' findings once
            self.db.execute("ALTER TABLE findings ADD COLUMN record_id INTEGER")
        for key, register in REGISTERS.items():  # a column registers.py gained since
            table = tables.table(key)
            have = {d[0] for d in self.db.execute(f"SELECT * FROM {table} LIMIT 0").description}
            for c in register.columns:
                if c.header not in have:
                    kind = tables.sql_type(c.type, postgres)
                    self.db.execute(f"ALTER TABLE {table} ADD COLUMN {tables.quoted(c.header)} {kind}")
        have = {d[0] for d in self.db.execute("SELECT * FROM records LIMIT 0").description}
        if "data" in have:
            self._typed_from_json(postgres)

    def _layouts_from_sheets(self) -> None:
        """files.layouts and files.submitter of files stored before they were columns, from their
        sheet summaries (once: every file stored since has them)."""
        if self.meta(LAYOUTS_DONE):
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            todo = self.db.execute("SELECT id, sheets FROM files WHERE layouts IS NULL").fetchall()
            self.db.executemany(
                "UPDATE files SET layouts=?, submitter=? WHERE id=?",
                [(*layout_columns(json.loads(sheets or "[]")), fid) for fid, sheets in todo],
            )
            self.set_meta(LAYOUTS_DONE, "1")
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def _typed_from_json(self, postgres: bool) -> None:
        """A store from before the typed tables kept each row's values as one JSON text
        (records.data): they move into the typed tables, each row gets its fingerprint, and the
        JSON column goes. Once, in one transaction (half a minute for a group's year)."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            if postgres:  # another machine opening the same store waits, then finds it done
                db.execute("SELECT pg_advisory_xact_lock(?)", (_PG_SCHEMA_LOCK,))
            have = {d[0] for d in db.execute("SELECT * FROM records LIMIT 0").description}
            if "data" not in have:
                db.execute("COMMIT")
                return
            for register in REGISTERS.values():  # they read records.data
                db.execute(f"DROP VIEW IF EXISTS {tables.quoted(register.title)}")
            for key in REGISTERS:
                db.execute(tables.migrate_statement(key, postgres))
            if "fingerprint" not in have:
                db.execute("ALTER TABLE records ADD COLUMN fingerprint TEXT")
            last = 0
            while batch := db.execute(
                "SELECT id, register, data FROM records WHERE id > ? ORDER BY id LIMIT 20000", (last,)
            ).fetchall():
                db.executemany(
                    "UPDATE records SET fingerprint=? WHERE id=?",
                    [
                        (tables.fingerprint(tables.values(reg, json.loads(data))), rid)
                        for rid, reg, data in batch
                    ],
                )
                last = batch[-1][0]
            db.execute("ALTER TABLE records DROP COLUMN data")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _views(self) -> None:
        """Each register as a view a person can query with plain SQL (store/tables.py)."""
        for statement in tables.view_statements():
            self.db.execute(statement)

    @classmethod
    def reader(cls, target: str | Path) -> Store:
        """A connection that only reads a store a run has open and up to date, for that run's worker
        (Store.findings, Store.file_counts): no schema check, no upgrade, no integrity check.
        `target`: the run's Store.target."""
        store = cls.__new__(cls)
        store.location = store.target = target
        store._checking, store._checked, store._snapshots = None, "ok", []
        if is_url(target):
            store.db = _PgConnection(target)
        else:
            uri = Path(target).resolve().as_uri() + "?mode=ro"
            store.db = sqlite3.connect(uri, uri=True, timeout=60, isolation_level=None)
        return store

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- the inbox cache ----------------------------------------------------------------
    def hash_cache(self) -> dict[str, tuple[int, int, str]]:
        """Path → (size, mtime_ns, sha256) of every inbox file a run has hashed (ingest.content_hashes)."""
        return {
            path: (size, mtime, sha)
            for path, size, mtime, sha in self.db.execute("SELECT path, size, mtime_ns, sha256 FROM seen")
        }

    def remember_hash(self, path: Path, stat: os.stat_result, sha256: str) -> None:
        self.db.execute(
            "INSERT INTO seen(path, size, mtime_ns, sha256) VALUES (?,?,?,?) ON CONFLICT(path) DO UPDATE"
            " SET size=excluded.size, mtime_ns=excluded.mtime_ns, sha256=excluded.sha256",
            (str(path), stat.st_size, stat.st_mtime_ns, sha256),
        )

    def known(self, sha256: str) -> bool:
        return self.db.execute("SELECT 1 FROM files WHERE sha256=?", (sha256,)).fetchone() is not None

    def known_hashes(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT sha256 FROM files")}

    # --- writing ------------------------------------------------------------------------
    def add_files(
        self, batch: list[FileRows], run_id: int | None = None, force: bool = False
    ) -> list[tuple[int | None, int | dict]]:
        """Store several loaded files in one transaction (all or none). Returns (file id, superseded)
        each, or (None, what it is older than) for an older version of a stored register, which is
        not stored (unless force: the supervisor applies it knowingly)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            if isinstance(self.db, _PgConnection):  # as BEGIN IMMEDIATE: one writer picks new row ids
                self.db.execute("LOCK TABLE records IN EXCLUSIVE MODE")
            out = []
            for rows in batch:
                older = None if force else self.newer_stored(rows)
                out.append((None, older) if older else self._add_file(rows, run_id))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return out

    def _add_file(self, rows: FileRows, run_id: int | None) -> tuple[int, int]:
        now = datetime.now().isoformat(timespec="seconds")
        db = self.db
        cur = db.execute(
            "INSERT INTO files(sha256, name, source, size, archived, register, status, error, rows_read, rows_loaded,"
            " rows_set_aside, sheets, rows_skipped, skipped, saved_at, layouts, submitter, loaded_at, run_id)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
            (*rows.file, now, run_id),
        )
        file_id = cur.fetchone()[0]
        touched: Counter[int] = Counter()  # earlier file → its rows this file superseded by scope
        for register, prop, month in rows.scopes:
            touched.update(
                fid
                for (fid,) in db.execute(
                    "UPDATE records SET superseded_by=? WHERE superseded_by IS NULL AND file_id<>?"
                    " AND register=? AND property IS ? AND month IS ? RETURNING file_id",
                    (file_id, file_id, register, prop, month),
                ).fetchall()
            )
        superseded = self._replace_whole_files(file_id, rows, touched)
        # a file caught half-written, or broken and dropped again: only its latest version speaks
        db.execute(
            "UPDATE files SET status='replaced' WHERE name=? AND status='rejected' AND id<>?",
            (rows.file[1], file_id),
        )
        # ids given here (one above the largest, under this write transaction) so that each row's
        # values go into its register's typed table beside it, in the same two executemany calls
        first = db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM records").fetchone()[0]
        db.executemany(
            "INSERT INTO records(id, file_id, register, property, month, record_id, sheet, row, fingerprint,"
            " set_aside, reasons) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [(first + i, file_id, *r) for i, r in enumerate(rows.records)],
        )
        typed: dict[str, list[tuple]] = {}
        for i, (r, v) in enumerate(zip(rows.records, rows.values, strict=True)):
            typed.setdefault(r[0], []).append((first + i, *v))
        for register, batch in typed.items():
            db.executemany(tables.insert_sql(register), batch)
        self._insert_findings(file_id, "load", rows.findings)
        return file_id, superseded

    def newer_stored(self, rows: FileRows) -> dict | None:
        """The stored version this file is older than, for one of its (register, property, month):
        by the dates both workbooks give (docProps), or, where one does not say, because all its
        rows there are among the stored version's, which has more. None when it is no older."""
        if rows.file[6] != "loaded":
            return None
        mine: dict[tuple, set[str]] = {}
        for r in rows.records:
            mine.setdefault((r[0], r[1], r[2]), set()).add(r[6])  # fingerprints
        saved = rows.file[14]
        for (register, prop, month), data in mine.items():
            stored = self.db.execute(
                "SELECT r.file_id, r.fingerprint FROM records r WHERE r.superseded_by IS NULL AND r.register=?"
                " AND r.property IS ? AND r.month IS ?",
                (register, prop, month),
            ).fetchall()
            if not stored:
                continue
            by_file: dict[int, set[str]] = {}
            for fid, text in stored:
                by_file.setdefault(fid, set()).add(text)
            for fid, theirs in by_file.items():
                name, their_saved, loaded_at = self.db.execute(
                    "SELECT name, saved_at, loaded_at FROM files WHERE id=?", (fid,)
                ).fetchone()
                if saved and their_saved:
                    older = saved < their_saved
                else:
                    older = data < theirs  # a strict subset: rows were added since this version
                if older:
                    return {
                        "register": register,
                        "property": prop,
                        "month": month,
                        "stored": name,
                        "stored_saved": their_saved or f"{loaded_at}（入库）",
                        "saved": saved,
                    }
        return None

    def _replace_whole_files(self, file_id: int, rows: FileRows, touched: Counter[int]) -> int:
        """Rows the new file supersedes: those of its (register, property, month) scopes, and what
        is left of an earlier version it replaces as a whole, so that no old problem outlives its
        correction. An earlier file is replaced as a whole when
        - it has the same name and register and nothing left in a month the new file lacks
          (a clerk saved over it, and fixed a property or a date on the way), or
        - the new file took its rows and only rows it could not place are left (set aside)."""
        db = self.db
        name, register = rows.file[1], rows.file[5]
        months = {month for _, _, month in rows.scopes if month}
        same_name = {
            fid
            for (fid,) in db.execute(
                "SELECT id FROM files WHERE name=? AND register IS ? AND id<>?", (name, register, file_id)
            ).fetchall()
        }
        superseded = sum(touched.values())
        for fid in sorted(touched.keys() | same_name):
            left = db.execute(
                "SELECT month, set_aside FROM records WHERE file_id=? AND superseded_by IS NULL", (fid,)
            ).fetchall()
            if not left:
                continue
            if fid in same_name:
                whole = all(month is None or month in months for month, _ in left)
            else:
                whole = all(aside for _, aside in left)
            if whole:
                superseded += db.execute(
                    "UPDATE records SET superseded_by=? WHERE file_id=? AND superseded_by IS NULL",
                    (file_id, fid),
                ).rowcount
        return superseded

    def _insert_findings(self, file_id: int, stage: str, rows: list[tuple]) -> None:
        self.db.executemany(
            "INSERT INTO findings(file_id, stage, code, severity, sheet, row, column_name, letter, value, note, message)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [(file_id, stage, *r) for r in rows],
        )

    def sent_mail(self, period: str, kind: str) -> dict | None:
        row = self.db.execute(
            "SELECT sent_at, subject, recipients FROM mails WHERE period=? AND kind=? ORDER BY id DESC LIMIT 1",
            (period, kind),
        ).fetchone()
        return {"sent_at": row[0], "subject": row[1], "recipients": json.loads(row[2])} if row else None

    def record_mail(
        self, period: str, kind: str, recipients: list[str], subject: str, message_id: str, sent_at: str
    ) -> None:
        self.db.execute(
            "INSERT INTO mails(period, kind, recipients, subject, message_id, sent_at) VALUES (?,?,?,?,?,?)",
            (period, kind, json.dumps(recipients, ensure_ascii=False), subject, message_id, sent_at),
        )

    def unfinished_files(self, current_run: int | None) -> list[dict]:
        """Files stored by runs that never finished (a crash or kill -9), as the run would have
        told of them: name, hash, register, error, skipped rows, properties and load-time reasons."""
        cols = ["id", "name", "sha256", "register", "status", "error", "archived", "rows_skipped", "skipped"]
        rows = self.db.execute(
            f"SELECT {', '.join('f.' + c for c in cols)} FROM files f JOIN runs r ON r.id = f.run_id"
            " WHERE r.status IN ('running', 'failed') AND r.id IS NOT ? AND f.status IN ('loaded', 'rejected')"
            " ORDER BY f.id",
            (current_run,),
        ).fetchall()
        out = []
        for row in rows:
            info = dict(zip(cols, row, strict=True))
            fid = info["id"]
            info["properties"] = sorted(
                p
                for (p,) in self.db.execute(
                    "SELECT DISTINCT property FROM records WHERE file_id=? AND property IS NOT NULL", (fid,)
                )
            )
            titles: dict[tuple, set[str]] = {}
            for sheet, row_no, code in self.db.execute(
                "SELECT sheet, row, code FROM findings WHERE file_id=? AND stage='load' AND severity='error'",
                (fid,),
            ):
                titles.setdefault((sheet, row_no), set()).add(code)
            info["error_codes"] = [sorted(v) for v in titles.values()]
            out.append(info)
        return out

    def mark_recovered(self, current_run: int | None) -> None:
        """Runs that died are done with once a later run has redone their outputs (we hold the lock)."""
        self.db.execute(
            "UPDATE runs SET status='recovered' WHERE status IN ('running', 'failed') AND id IS NOT ?",
            (current_run,),
        )

    def start_run(self, args: dict) -> int:
        now = datetime.now().isoformat(timespec="seconds")
        return self.db.execute(
            "INSERT INTO runs(started_at, args, status) VALUES (?,?,?) RETURNING id",
            (now, json.dumps(args, ensure_ascii=False), "running"),
        ).fetchone()[0]

    def finish_run(self, run_id: int, status: str, summary: dict) -> None:
        now = datetime.now().isoformat(timespec="seconds")
        self.db.execute(
            "UPDATE runs SET finished_at=?, status=?, summary=? WHERE id=?",
            (now, status, json.dumps(summary, ensure_ascii=False, default=str), run_id),
        )

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO meta(key, value) VALUES (?,?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    # --- reading ------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def generation(self) -> str:
        """Changes whenever a file is stored (loaded or rejected), which is the only way records change."""
        last, count = self.db.execute("SELECT COALESCE(MAX(id), 0), COUNT(*) FROM files").fetchone()
        return f"{last}:{count}"

    def records(
        self,
        register: str,
        include_set_aside: bool = False,
        include_superseded: bool = False,
        for_rules: bool = False,
        property_name: str | None = None,
        lean: bool = False,
    ) -> list[dict]:
        """Current records of a register as dicts: the register's fields plus provenance (_file, _sheet, _row …).

        for_rules: rows that loaded, whatever the last run's rules said (the rules are re-run on them).
        property_name: that property's rows, and rows with no property (feedback often names none).
        lean: without the memo columns (free text no rule or KPI reads), as a run holds them.
        """
        register_columns = [c for c in REGISTERS[register].columns if not (lean and c.memo)]
        sql = snapshot.select(register, [c.key for c in register_columns]) + " WHERE r.register=?"
        params: tuple = (register,)
        if property_name:
            sql += " AND (r.property = ? OR r.property IS NULL)"
            params += (property_name,)
        if not include_superseded:
            sql += " AND r.superseded_by IS NULL"
        if for_rules:
            sql += " AND r.set_aside=0"
        elif not include_set_aside:
            sql += " AND r.set_aside=0 AND r.rule_error=0"
        sql += " ORDER BY r.id"
        out = []
        for rid, prop, month, sheet, row, name, _, *values in self.db.execute(sql, params).fetchall():
            rec = {c.key: _plain(v, c.type) for c, v in zip(register_columns, values, strict=True)}
            rec.update(
                _id=rid, _register=register, _property=prop, _month=month, _file=name, _sheet=sheet, _row=row
            )
            out.append(rec)
        return out

    def current_frames(self, save_later: bool = False) -> dict:
        """Every register's current records (loaded, not superseded) as typed frames (pipeline.frames)
        in store order, with `_rule_error`: whether the last validation set the row aside. Read from
        the store's Parquet snapshot (store/snapshot.py), brought up to date first when files came.
        save_later: the updated snapshots are encoded in a thread while the caller works, and
        written by save_snapshots()."""
        generation = self.generation()
        later = self._snapshots if save_later else None
        return {key: snapshot.current_frame(self.db, key, generation, later) for key in REGISTERS}

    def save_snapshots(self) -> None:
        """Write the snapshots current_frames(save_later=True) left to encode."""
        while self._snapshots:
            register, stamp, encoding = self._snapshots.pop(0)
            snapshot.write(self.db, register, stamp, encoding.result())

    def files(self) -> list[dict]:
        cols = [
            "id",
            "sha256",
            "name",
            "register",
            "status",
            "rows_read",
            "rows_loaded",
            "rows_set_aside",
            "loaded_at",
            "archived",
        ]
        sql = f"SELECT {', '.join(cols)} FROM files ORDER BY id"
        return [dict(zip(cols, row, strict=True)) for row in self.db.execute(sql)]

    def file_counts(
        self, property_name: str | None = None, file_ids: list[int] | None = None
    ) -> dict[int, dict]:
        """The one count of rows: file id → rows read = loaded + set aside (by loading or by a rule),
        of its current rows (a property's, when given), and the rows it skipped as not data, with
        their reasons. Files with no current row (superseded, rejected) are not in it."""
        where = "superseded_by IS NULL" + (f" AND {of_property()}" if property_name else "")
        params: tuple = property_params(property_name) if property_name else ()
        if file_ids is not None:
            if not file_ids:
                return {}
            where += f" AND file_id IN ({','.join('?' * len(file_ids))})"
            params += tuple(file_ids)
        counts = {
            fid: (loaded, aside)
            for fid, loaded, aside in self.db.execute(
                f"SELECT file_id, {_COUNT_LOADED}, {_COUNT_ASIDE} FROM records WHERE {where} GROUP BY file_id",
                params,
            )
        }
        out, all_ids = {}, list(counts)
        reasons: dict[str, dict] = {}  # skipped rows' reasons, parsed once per distinct text (a few)
        for chunk in range(0, len(all_ids), 500):
            ids = all_ids[chunk : chunk + 500]
            sql = f"SELECT id, rows_skipped, skipped FROM files WHERE id IN ({','.join('?' * len(ids))})"
            for fid, n, why in self.db.execute(sql, ids):
                loaded, aside = counts[fid]
                if why not in reasons:
                    reasons[why] = json.loads(why) if why else {}
                out[fid] = {
                    "rows_read": loaded + aside,
                    "rows_loaded": loaded,
                    "rows_set_aside": aside,
                    "rows_skipped": n or 0,
                    "skipped": dict(reasons[why]),  # a copy: each file's own
                }
        return out

    def counts(self, property_name: str | None = None) -> dict[str, int]:
        """Totals of file_counts: read = loaded + set aside, and skipped."""
        return totals(self.file_counts(property_name).values())

    def rejected_names(self) -> set[str]:
        """Files that could not be read and that no later file of their name has replaced."""
        return {name for (name,) in self.db.execute("SELECT name FROM files WHERE status='rejected'")}

    def handed_in(self) -> set[tuple[str, str, str]]:
        """(register, property, month) that the current files cover: by their rows, and by the sheet
        of a register handed in empty (a month without a complaint is still a month handed in).
        A feedback register that names no property is the centre's own, for every property: its
        property is None here (completeness.missing_registers reads it so)."""
        out = set(
            self.db.execute(
                # +superseded_by: not by records_counted (a third of a year's rows, then each row
                # read from the table) but through records_scopes, which holds every column here
                "SELECT DISTINCT register, property, month FROM records"
                " WHERE +superseded_by IS NULL AND month IS NOT NULL"
                " AND (property IS NOT NULL OR (register = 'feedback' AND set_aside = 0))"
            ).fetchall()
        )
        for (sheets,) in self.db.execute("SELECT sheets FROM files WHERE status='loaded' AND rows_read=0"):
            for s in json.loads(sheets or "[]"):
                if s.get("register") and s.get("property") and s.get("month"):
                    out.add((s["register"], s["property"], s["month"]))
        return out

    def set_aside_rows(self, property_name: str | None = None) -> list[dict]:
        """Current rows set aside by loading or by a rule, with their reasons, for the data-quality
        lists: a property's only, when given."""
        mine = f" AND {of_property('r')}" if property_name else ""
        params = property_params(property_name) if property_name else ()
        sql = (
            "SELECT r.id, f.name, r.sheet, r.row, r.register, r.property, r.record_id, r.reasons, r.set_aside"
            " FROM records r JOIN files f ON f.id = r.file_id"
            f" WHERE r.superseded_by IS NULL AND (r.set_aside=1 OR r.rule_error=1){mine} ORDER BY f.name, r.sheet, r.row"
        )
        rows = self.db.execute(sql, params).fetchall()
        rule_msgs: dict[int, list[str]] = {}
        for rid, msg in self.db.execute(
            "SELECT r.id, x.message FROM findings x JOIN records r ON r.file_id = x.file_id AND r.sheet = x.sheet"
            f" AND r.row = x.row WHERE x.stage='rules' AND x.severity='error' AND r.rule_error=1{mine}",
            params,
        ):
            rule_msgs.setdefault(rid, []).append(msg)
        out = []
        for rid, name, sheet, row, register, prop, record_id, reasons, set_aside in rows:
            why = json.loads(reasons) if set_aside and reasons else rule_msgs.get(rid, [])
            out.append(
                {
                    "file": name,
                    "sheet": sheet,
                    "row": row,
                    "register": register,
                    "property": prop,
                    "id": record_id,
                    "reasons": why,
                }
            )
        return out

    def sheet_columns(self) -> dict[tuple[str, str], dict[str, list[str]]]:
        """(file name, sheet) → column key → [header as written, letter], for locating findings: of
        the files with current rows (a store keeps every superseded version, and a year of weekly
        re-drops would otherwise be parsed again on every run)."""
        out, parsed = {}, {}  # files of one template and month share their layouts' text: parsed once
        current = "EXISTS (SELECT 1 FROM records r WHERE r.file_id = f.id AND r.superseded_by IS NULL)"
        for name, layouts in self.db.execute(
            f"SELECT name, layouts FROM files f WHERE status='loaded' AND {current}"
        ):
            if layouts not in parsed:
                parsed[layouts] = json.loads(layouts or "[]")
            for sheet, columns in parsed[layouts]:
                out[(name, sheet)] = columns
        return out

    def apply_rule_findings(self, findings: list) -> None:
        """Make the stored rule findings these; rows with a rule error are set aside.

        Only what changed is written: a week's run finds most of last week's findings again (those
        of files it did not replace), and deleting and inserting 60,000 of them took a second."""
        db = self.db
        columns = "record_id, code, severity, sheet, row, column_name, letter, value, note, message"
        wanted = Counter((f.ref, *_finding_row(f)) for f in findings)
        errors = {f.ref for f in findings if f.severity == "error" and f.ref}
        db.execute("BEGIN IMMEDIATE")
        try:
            stale = []
            for fid, *key in db.execute(f"SELECT id, {columns} FROM findings WHERE stage='rules'"):
                key = tuple(key)
                if wanted[key] > 0:
                    wanted[key] -= 1  # stored already
                else:
                    stale.append((fid,))
            # the INSERT's parameters: the finding's columns, then the record it is about
            new = [(*key[1:], key[0]) for key, n in wanted.items() for _ in range(n)]
            flagged = {rid for (rid,) in db.execute("SELECT id FROM records WHERE rule_error=1")}
            db.executemany("DELETE FROM findings WHERE id=?", stale)
            db.executemany(
                f"INSERT INTO findings(file_id, stage, {columns})"
                " SELECT file_id, 'rules', id, CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT),"
                " CAST(? AS INTEGER), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT),"
                " CAST(? AS TEXT) FROM records WHERE id=?",
                new,
            )
            db.executemany("UPDATE records SET rule_error=0 WHERE id=?", [(r,) for r in flagged - errors])
            db.executemany("UPDATE records SET rule_error=1 WHERE id=?", [(r,) for r in errors - flagged])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def findings(
        self,
        stage: str | None = None,
        property_name: str | None = None,
        also_files: tuple[int, ...] = (),
        file_ids: tuple[int, ...] | None = None,
    ) -> list[dict]:
        """Stored findings with their file name, for reports: of a property's current files (and of
        `also_files`, by id), when given, else of every current or rejected file; of only `file_ids`
        among those, when given."""
        if file_ids is not None and not file_ids:
            return []  # none asked for: no scan of the scope's findings
        cols = [
            "stage",
            "code",
            "severity",
            "sheet",
            "row",
            "column_name",
            "letter",
            "value",
            "note",
            "message",
        ]
        where, params = _findings_scope(property_name, also_files, file_ids)
        sql = f"SELECT f.name, {', '.join('x.' + c for c in cols)} FROM findings x JOIN files f ON f.id = x.file_id"
        sql += where
        if stage:
            sql += " AND x.stage = ?"
            params += (stage,)
        # in an order that does not depend on which findings a run wrote anew (apply_rule_findings)
        sql += (
            " ORDER BY x.file_id, x.stage, COALESCE(x.sheet, ''), COALESCE(x.row, 0),"
            " COALESCE(x.letter, ''), x.code, x.id"
        )
        rows = self.db.execute(sql, params)
        return [dict(zip(["file", *cols], r, strict=True)) for r in rows]

    def finding_counts(
        self, property_name: str | None = None, also_files: tuple[int, ...] = ()
    ) -> Counter[str]:
        """File name → how many findings Store.findings gives of it, for the same scope."""
        where, params = _findings_scope(property_name, also_files)
        sql = (
            f"SELECT f.name, COUNT(*) FROM findings x JOIN files f ON f.id = x.file_id{where} GROUP BY f.name"
        )
        return Counter(dict(self.db.execute(sql, params).fetchall()))

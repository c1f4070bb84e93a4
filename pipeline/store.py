"""The record store: SQLite (WAL), one transaction per file.

Tables: files (known by content hash), records (every data row, loaded or set aside, with its
provenance and the file that superseded it), findings, seen (path/size/mtime → hash, so that a
re-run with nothing new does not re-hash the inbox) and runs.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from pipeline.load.loader import LoadedFile

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    sha256 TEXT UNIQUE NOT NULL,
    name TEXT NOT NULL,
    source TEXT,
    size INTEGER,
    archived TEXT,
    register TEXT,
    status TEXT NOT NULL,              -- loaded | rejected
    error TEXT,                        -- JSON finding when rejected
    rows_read INTEGER DEFAULT 0,
    rows_loaded INTEGER DEFAULT 0,
    rows_set_aside INTEGER DEFAULT 0,
    sheets TEXT,                       -- JSON sheet summaries
    loaded_at TEXT NOT NULL,
    run_id INTEGER
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
    data TEXT NOT NULL,
    set_aside INTEGER NOT NULL DEFAULT 0,
    reasons TEXT,                      -- JSON list of error findings when set aside
    rule_error INTEGER NOT NULL DEFAULT 0,  -- set aside by a validation rule (recomputed every run)
    superseded_by INTEGER REFERENCES files(id)
);
CREATE INDEX IF NOT EXISTS records_active ON records(register, superseded_by, set_aside);
CREATE INDEX IF NOT EXISTS records_scope ON records(register, property, month);
CREATE TABLE IF NOT EXISTS findings (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL REFERENCES files(id),
    stage TEXT NOT NULL DEFAULT 'load',
    code TEXT, severity TEXT, sheet TEXT, row INTEGER, column_name TEXT, letter TEXT, value TEXT, note TEXT,
    message TEXT
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


def _finding_row(f) -> tuple:
    """A finding's columns in the findings table, after file_id and stage."""
    return (f.code, f.severity, f.sheet, f.row, f.column, f.letter, f.value, f.note, f.message)


class Store:
    """A thin object over one SQLite database file."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists()
        self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        if new:
            os.chmod(self.path, 0o600)  # customer data: owner only
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- the inbox cache ----------------------------------------------------------------
    def cached_hash(self, path: Path, stat: os.stat_result) -> str | None:
        row = self.db.execute(
            "SELECT sha256 FROM seen WHERE path=? AND size=? AND mtime_ns=?",
            (str(path), stat.st_size, stat.st_mtime_ns),
        ).fetchone()
        return row[0] if row else None

    def remember_hash(self, path: Path, stat: os.stat_result, sha256: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO seen(path, size, mtime_ns, sha256) VALUES (?,?,?,?)",
            (str(path), stat.st_size, stat.st_mtime_ns, sha256),
        )

    def known(self, sha256: str) -> bool:
        return self.db.execute("SELECT 1 FROM files WHERE sha256=?", (sha256,)).fetchone() is not None

    def known_hashes(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT sha256 FROM files")}

    # --- writing ------------------------------------------------------------------------
    def add_files(
        self, batch: list[tuple[LoadedFile, str | None]], run_id: int | None = None
    ) -> list[tuple[int, int]]:
        """Store several loaded files in one transaction (all or none). Returns (file id, superseded) each."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            out = [self._add_file(loaded, archived, run_id) for loaded, archived in batch]
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return out

    def add_file(
        self, loaded: LoadedFile, archived: str | None, run_id: int | None = None
    ) -> tuple[int, int]:
        """Store one loaded file in one transaction. Returns (file id, rows it superseded)."""
        return self.add_files([(loaded, archived)], run_id)[0]

    def _add_file(self, loaded: LoadedFile, archived: str | None, run_id: int | None) -> tuple[int, int]:
        now = datetime.now().isoformat(timespec="seconds")
        db = self.db
        cur = db.execute(
            "INSERT INTO files(sha256, name, source, size, archived, register, status, error, rows_read, rows_loaded,"
            " rows_set_aside, sheets, loaded_at, run_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                loaded.sha256,
                loaded.name,
                str(loaded.path),
                loaded.size,
                archived,
                loaded.register,
                "rejected" if loaded.error else "loaded",
                json.dumps(loaded.error.as_dict(), ensure_ascii=False) if loaded.error else None,
                loaded.rows_read,
                loaded.rows_loaded,
                loaded.rows_set_aside,
                json.dumps([asdict(s) for s in loaded.sheets], ensure_ascii=False),
                now,
                run_id,
            ),
        )
        file_id = cur.lastrowid
        superseded = 0
        if not loaded.error:
            keys = {(r.register, r.property_name, r.month) for r in loaded.records}
            for register, prop, month in keys:
                superseded += db.execute(
                    "UPDATE records SET superseded_by=? WHERE superseded_by IS NULL AND file_id<>?"
                    " AND register=? AND property IS ? AND month IS ?",
                    (file_id, file_id, register, prop, month),
                ).rowcount
            db.executemany(
                "INSERT INTO records(file_id, register, property, month, record_id, sheet, row, data, set_aside, reasons)"
                " VALUES (?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        file_id,
                        r.register,
                        r.property_name,
                        r.month,
                        r.record_id,
                        r.sheet,
                        r.row,
                        json.dumps(r.values, ensure_ascii=False),
                        int(r.set_aside),
                        json.dumps(
                            [f.message for f in r.findings if f.severity == "error"], ensure_ascii=False
                        )
                        if r.set_aside
                        else None,
                    )
                    for r in loaded.records
                ],
            )
        self._insert_findings(file_id, "load", [loaded.error] if loaded.error else loaded.all_findings())
        return file_id, superseded

    def _insert_findings(self, file_id: int, stage: str, findings: Iterable) -> None:
        self.db.executemany(
            "INSERT INTO findings(file_id, stage, code, severity, sheet, row, column_name, letter, value, note, message)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [(file_id, stage, *_finding_row(f)) for f in findings],
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

    def files_of_unfinished_runs(self, current_run: int | None) -> list[tuple[str, str | None]]:
        """(name, archived) of loaded files whose run never finished (a crash or kill -9)."""
        return self.db.execute(
            "SELECT f.name, f.archived FROM files f JOIN runs r ON r.id = f.run_id"
            " WHERE r.status IN ('running', 'failed') AND r.id IS NOT ? AND f.status = 'loaded'",
            (current_run,),
        ).fetchall()

    def mark_recovered(self, current_run: int | None) -> None:
        """Runs that died are done with once a later run has redone their outputs (we hold the lock)."""
        self.db.execute(
            "UPDATE runs SET status='recovered' WHERE status IN ('running', 'failed') AND id IS NOT ?",
            (current_run,),
        )

    def start_run(self, args: dict) -> int:
        now = datetime.now().isoformat(timespec="seconds")
        return self.db.execute(
            "INSERT INTO runs(started_at, args, status) VALUES (?,?,?)",
            (now, json.dumps(args, ensure_ascii=False), "running"),
        ).lastrowid

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
    ) -> list[dict]:
        """Current records of a register as dicts: the register's fields plus provenance (_file, _sheet, _row …).

        for_rules: rows that loaded, whatever the last run's rules said (the rules are re-run on them).
        """
        sql = (
            "SELECT r.id, r.data, r.property, r.month, r.sheet, r.row, r.set_aside OR r.rule_error, r.reasons, f.name, f.sha256"
            " FROM records r JOIN files f ON f.id = r.file_id WHERE r.register=?"
        )
        if not include_superseded:
            sql += " AND r.superseded_by IS NULL"
        if for_rules:
            sql += " AND r.set_aside=0"
        elif not include_set_aside:
            sql += " AND r.set_aside=0 AND r.rule_error=0"
        sql += " ORDER BY r.id"
        out = []
        for rid, data, prop, month, sheet, row, set_aside, reasons, name, sha in self.db.execute(
            sql, (register,)
        ):
            rec = json.loads(data)
            rec.update(
                _id=rid,
                _register=register,
                _property=prop,
                _month=month,
                _file=name,
                _sheet=sheet,
                _row=row,
                _sha256=sha,
                _set_aside=bool(set_aside),
                _reasons=json.loads(reasons) if reasons else [],
            )
            out.append(rec)
        return out

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

    def counts(self, property_name: str | None = None) -> dict[str, int]:
        """Current (not superseded) rows: read = loaded + set aside (by loading or by a rule)."""
        sql = (
            "SELECT COALESCE(SUM(set_aside=0 AND rule_error=0),0), COALESCE(SUM(set_aside=1 OR rule_error=1),0)"
            " FROM records WHERE superseded_by IS NULL" + (" AND property=?" if property_name else "")
        )
        loaded, set_aside = self.db.execute(sql, (property_name,) if property_name else ()).fetchone()
        return {"rows_read": loaded + set_aside, "rows_loaded": loaded, "rows_set_aside": set_aside}

    def file_counts(self, file_ids: list[int]) -> dict[int, tuple[int, int]]:
        """file id → (rows loaded, rows set aside) as they stand after the rules."""
        if not file_ids:
            return {}
        marks = ",".join("?" * len(file_ids))
        sql = (
            "SELECT file_id, SUM(set_aside=0 AND rule_error=0), SUM(set_aside=1 OR rule_error=1) FROM records"
            f" WHERE file_id IN ({marks}) GROUP BY file_id"
        )
        return {fid: (loaded, aside) for fid, loaded, aside in self.db.execute(sql, file_ids)}

    def set_aside_rows(self) -> list[dict]:
        """Current rows set aside by loading or by a rule, with their reasons, for the data-quality lists."""
        sql = (
            "SELECT r.id, f.name, r.sheet, r.row, r.register, r.property, r.record_id, r.reasons, r.set_aside"
            " FROM records r JOIN files f ON f.id = r.file_id"
            " WHERE r.superseded_by IS NULL AND (r.set_aside=1 OR r.rule_error=1) ORDER BY f.name, r.sheet, r.row"
        )
        rows = self.db.execute(sql).fetchall()
        rule_msgs: dict[int, list[str]] = {}
        for rid, msg in self.db.execute(
            "SELECT r.id, x.message FROM findings x JOIN records r ON r.file_id = x.file_id AND r.sheet = x.sheet"
            " AND r.row = x.row WHERE x.stage='rules' AND x.severity='error' AND r.rule_error=1"
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
        """(file name, sheet) → column key → [header as written, letter], for locating findings."""
        out = {}
        for name, sheets in self.db.execute("SELECT name, sheets FROM files WHERE status='loaded'"):
            for s in json.loads(sheets or "[]"):
                out[(name, s["name"])] = s.get("columns", {})
        return out

    def apply_rule_findings(self, findings: list) -> None:
        """Replace the previous run's rule findings; rows with a rule error are set aside."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM findings WHERE stage='rules'")
            db.execute("UPDATE records SET rule_error=0 WHERE rule_error=1")
            db.executemany(
                "INSERT INTO findings(file_id, stage, code, severity, sheet, row, column_name, letter, value, note, message)"
                " SELECT file_id, 'rules', ?,?,?,?,?,?,?,?,? FROM records WHERE id=?",
                [(*_finding_row(f), f.ref) for f in findings],
            )
            db.executemany(
                "UPDATE records SET rule_error=1 WHERE id=?",
                [(f.ref,) for f in findings if f.severity == "error" and f.ref],
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def findings(self, stage: str | None = None) -> list[dict]:
        """Stored findings with their file name, for reports."""
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
        sql = f"SELECT f.name, {', '.join('x.' + c for c in cols)} FROM findings x JOIN files f ON f.id = x.file_id"
        sql += " WHERE (f.id IN (SELECT file_id FROM records WHERE superseded_by IS NULL) OR f.status='rejected')"
        if stage:
            sql += " AND x.stage = ?"
        rows = self.db.execute(sql, (stage,) if stage else ())
        return [dict(zip(["file", *cols], r, strict=True)) for r in rows]

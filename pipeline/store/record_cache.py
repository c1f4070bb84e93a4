"""Decoded records kept beside a SQLite store: one pickle per stored file.

A run reads every current record: at 300 properties 1.3 million JSON rows to decode and re-share,
about 12 s, longer than the KPIs that follow. A file's rows never change once stored; only whether
they are current does (a later file supersedes them, a rule sets them aside). So each file's rows,
decoded as a run holds them (lean, as the rules read them), are pickled on the first read after the
file was stored, and later runs unpickle them (about 5× faster) and keep the ones still current.

SQLite only: that file is its owner's own (mode 600), so a pickle in it is as trusted as the code
beside it. A PostgreSQL store is shared by several machines, and unpickling what another machine
wrote would run its code: those stores decode JSON every time.
"""

from __future__ import annotations

import hashlib
import pickle
import sys
from collections.abc import Callable
from functools import cache

from pipeline.registers import REGISTERS

SCHEMA = """
CREATE TABLE IF NOT EXISTS record_cache (
    file_id INTEGER PRIMARY KEY REFERENCES files(id),
    format TEXT NOT NULL,
    blob BLOB NOT NULL
);
"""
CHUNK = 500  # file ids per query
VERSION = 1  # bump when the shape of a decoded record changes in code the format below cannot see


@cache
def cache_format() -> str:
    """What a blob depends on: this module's version, Python's, and which columns a lean record drops."""
    memo = sorted((key, c.key) for key, reg in REGISTERS.items() for c in reg.columns if c.memo)
    digest = hashlib.sha256(repr(memo).encode()).hexdigest()[:12]
    return f"{VERSION}/py{sys.version_info[0]}.{sys.version_info[1]}/{digest}"


def _chunks(items: list):
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def current_records(
    db,
    register: str,
    passed_rules: bool,
    decode: Callable[[list], list[dict]],
    share: Callable[[list[dict]], list[dict]] = lambda recs: recs,
) -> list[dict]:
    """The register's current records, lean, in store order: loaded and not superseded, and, with
    passed_rules, not set aside by the last validation.

    decode: the store's JSON path, turning rows (id, data, property, month, sheet, row, file name)
    into records; used for files not cached yet, whose records are then cached.
    share: makes the texts that repeat across files one object each (a blob shares them only within
    its file), as each blob is read, so that the copies it frees are reused by the next one.
    """
    where = "register=? AND superseded_by IS NULL AND set_aside=0" + (
        " AND rule_error=0" if passed_rules else ""
    )
    current = dict(
        db.execute(f"SELECT file_id, COUNT(*) FROM records WHERE {where} GROUP BY file_id", (register,))
    )
    files = sorted(current)
    fmt = cache_format()
    by_file: dict[int, list[dict]] = {}
    for chunk in _chunks(files):
        marks = ",".join("?" * len(chunk))
        for file_id, blob in db.execute(
            f"SELECT file_id, blob FROM record_cache WHERE format=? AND file_id IN ({marks})", (fmt, *chunk)
        ):
            by_file[file_id] = share(pickle.loads(blob))
    missing = [f for f in files if f not in by_file]
    if missing:
        by_file.update(_fill(db, missing, decode, fmt))
    partial = [f for f in files if len(by_file[f]) != current[f]]
    keep: set[int] = set()
    for chunk in _chunks(partial):
        marks = ",".join("?" * len(chunk))
        keep.update(
            r[0]
            for r in db.execute(
                f"SELECT id FROM records WHERE {where} AND file_id IN ({marks})", (register, *chunk)
            )
        )
    out: list[dict] = []
    for f in files:
        recs = by_file.pop(f)
        out.extend([r for r in recs if r["_id"] in keep] if current[f] != len(recs) else recs)
    if any(a["_id"] > b["_id"] for a, b in zip(out, out[1:], strict=False)):  # files stored interleaved
        out.sort(key=lambda r: r["_id"])
    return out


def _fill(db, files: list[int], decode, fmt: str) -> dict[int, list[dict]]:
    """Decode the loaded rows of files not cached yet (superseded ones too: the blob is the whole
    file) and cache them, a chunk of files per transaction (a group's first run pickles ~250 MB:
    never all of it held at once)."""
    found: dict[int, list[dict]] = {}
    for chunk in _chunks(files):
        marks = ",".join("?" * len(chunk))
        rows = db.execute(
            "SELECT r.id, r.data, r.property, r.month, r.sheet, r.row, f.name, r.file_id"
            f" FROM records r JOIN files f ON f.id = r.file_id WHERE r.set_aside=0 AND r.file_id IN ({marks})"
            " ORDER BY r.id",
            chunk,
        ).fetchall()
        mine: dict[int, list[dict]] = {f: [] for f in chunk}
        for rec, row in zip(decode([r[:7] for r in rows]), rows, strict=True):
            mine[row[7]].append(rec)
        del rows
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                "INSERT OR REPLACE INTO record_cache(file_id, format, blob) VALUES (?,?,?)",
                ((f, fmt, pickle.dumps(recs, protocol=pickle.HIGHEST_PROTOCOL)) for f, recs in mine.items()),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        found.update(mine)
    return found

"""The current records as typed frames, kept in the store as one Parquet snapshot per register.

The records table (provenance and supersession) with the registers' typed tables (store/tables.py)
is the record of truth; a run reads the current records as frames (pipeline/frames.py). Reading a
group's 1.3 million rows through SQL and typing them takes seconds; reading the same frame from
Parquet takes a fraction of one.
So each register's frame of current loaded rows (set aside by loading: no; by a rule: yes, the
rules run on them) is written as Parquet into the store itself (table frame_snapshots), stamped with
the store's generation, which changes whenever a file is stored:

- same generation: the snapshot is the current records;
- else it is brought up to date by file: the rows of files still wholly current are kept, those of
  files partly superseded are filtered by their current row ids, and only files not in it yet are
  read from the typed tables.

Parquet holds data, never code: a snapshot that another machine wrote into a shared PostgreSQL
store is as safe to read as the rows themselves (a pickle would not be).
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pyarrow as pa

from pipeline.frames import coded, columns, concat, contiguous, from_columns, widen
from pipeline.store import tables

FORMAT = 2  # bump when frames.frame's columns' types change (2: _file and _sheet categorical); a column
# registers.py gained since a snapshot was written is added to it, blank (frames.widen), as its table's is
SCHEMA = """
CREATE TABLE IF NOT EXISTS frame_snapshots (
    register TEXT PRIMARY KEY, stamp TEXT NOT NULL, blob BLOB NOT NULL
);
"""
CHUNK = 500  # file ids per query
CURRENT = "register=? AND superseded_by IS NULL AND set_aside=0"


def _stamp(generation: str) -> str:
    return f"{FORMAT}/{generation}"


def _chunks(items: list):
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def select(register: str, keys: list[str]) -> str:
    """SQL for rows with their provenance (id, property, month, sheet, row, file name, file id) and
    these register columns from its typed table; the caller adds WHERE and ORDER BY over r (records)."""
    return (
        f"SELECT r.id, r.property, r.month, r.sheet, r.row, f.name, r.file_id, {tables.select_columns(register, keys)}"
        f" FROM records r JOIN files f ON f.id = r.file_id JOIN {tables.table(register)} t ON t.id = r.id"
    )


def _decode(db, register: str, file_ids: list[int]) -> pd.DataFrame:
    """The loaded rows of these files (superseded ones too: a snapshot keeps whole files) as a frame,
    typed a column at a time (frames.from_columns), CHUNK files at a time: a group's year read at once
    would hold 1.3 million tuples of Python values."""
    keys = [key for key, _ in columns(register)]
    parts = []
    for chunk in list(_chunks(file_ids)) or [[]]:  # no files: one empty part, and no query
        marks = ",".join("?" * len(chunk))
        # r.register || '': SQLite looks the rows up by file (records_file) instead of scanning the
        # register's (records_scopes): a week's 1,500 files of callbacks 0.89 → 0.16 s
        sql = select(register, keys) + (
            f" WHERE r.register || '' = ? AND r.set_aside=0 AND r.file_id IN ({marks}) ORDER BY r.id"
        )
        rows = db.execute(sql, (register, *chunk)).fetchall() if chunk else []  # PostgreSQL refuses IN ()
        cols = [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in range(7 + len(keys))]
        del rows
        provenance = dict(zip(("_id", "_property", "_month", "_sheet", "_row", "_file"), cols, strict=False))
        part = from_columns(register, dict(zip(keys, cols[7:], strict=True)), provenance)
        part["_file_id"] = pd.array(cols[6], dtype="Int64")
        parts.append(part)
    return concat(parts)  # _update sorts by id


def _read(blob, register: str) -> pd.DataFrame | None:
    """The snapshot's frame; None when its bytes are not a readable Parquet file (a damaged blob the
    store's check cannot see, as its pages are whole): it is then rebuilt from the records' rows."""
    try:
        return widen(coded(pd.read_parquet(io.BytesIO(bytes(blob)))), register)
    except (pa.ArrowException, OSError, ValueError):
        return None


def parquet(f: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    f.to_parquet(buffer, index=False, compression="lz4")  # as small as snappy's, read twice as fast
    return buffer.getvalue()


def write(db, register: str, stamp: str, blob: bytes) -> None:
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("DELETE FROM frame_snapshots WHERE register=?", (register,))
        db.execute(
            "INSERT INTO frame_snapshots(register, stamp, blob) VALUES (?,?,?)", (register, stamp, blob)
        )
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


_ENCODER = ThreadPoolExecutor(1, thread_name_prefix="snapshot")


def current_frame(db, register: str, generation: str, later: list | None = None) -> pd.DataFrame:
    """The register's current loaded rows as a typed frame in store order, with `_file_id` and
    `_rule_error` (set aside by the last validation).

    later: where a snapshot brought up to date is left to be written, as (register, stamp, future
    of its Parquet bytes) encoded in a thread meanwhile (Store.save_snapshots writes them); None:
    written now. The thread encodes a shallow copy: under pandas' copy-on-write, what the caller
    then changes in the frame (feedback's property, case keys) never reaches the snapshot."""
    stamp = _stamp(generation)
    row = db.execute("SELECT stamp, blob FROM frame_snapshots WHERE register=?", (register,)).fetchone()
    old = _read(row[1], register) if row and row[0].split("/")[0] == str(FORMAT) else None
    if old is None or row[0] != stamp:
        old = _update(db, register, old)
        if later is None:
            write(db, register, stamp, parquet(old))
        else:
            later.append((register, stamp, _ENCODER.submit(parquet, old.copy(deep=False))))
    contiguous(old)  # as read from Parquet, in batches (an update's concat has joined them already)
    errors = [
        rid for (rid,) in db.execute(f"SELECT id FROM records WHERE {CURRENT} AND rule_error=1", (register,))
    ]
    old["_rule_error"] = old["_id"].isin(errors).to_numpy(dtype=bool)
    return old


def _update(db, register: str, old: pd.DataFrame | None) -> pd.DataFrame:
    """The snapshot brought to the current rows, file by file: files not in it are decoded, then
    the rows of files no longer current go, and of a file partly superseded only its current rows stay."""
    current = dict(
        db.execute(f"SELECT file_id, COUNT(*) FROM records WHERE {CURRENT} GROUP BY file_id", (register,))
    )
    known = set() if old is None else set(old["_file_id"].dropna().unique().tolist())
    new = sorted(set(current) - known)
    parts = [] if old is None else [old]
    if new or old is None:
        parts.append(_decode(db, register, new))
    out = concat(parts)
    have = out["_file_id"].value_counts().to_dict()
    keep = (
        out["_file_id"].isin([fid for fid, n in current.items() if have.get(fid) == n]).to_numpy(dtype=bool)
    )
    partial = [fid for fid, n in current.items() if have.get(fid, 0) != n]
    for chunk in _chunks(partial):
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT id FROM records WHERE {CURRENT} AND file_id IN ({marks})"
        keep |= out["_id"].isin([rid for (rid,) in db.execute(sql, (register, *chunk))]).to_numpy(dtype=bool)
    out = out[keep]
    if not out["_id"].is_monotonic_increasing:  # files stored interleaved
        out = out.sort_values("_id", kind="stable")
    return out.reset_index(drop=True)

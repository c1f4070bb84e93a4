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
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.frames import CODED, coded, columns, concat, frame, from_columns
from pipeline.store import tables

FORMAT = 2  # bump when frames.frame's columns or types change (2: _file and _sheet categorical)
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


def _read(blob) -> pa.Table | None:
    """The snapshot's rows as an Arrow table; None when its bytes are not a readable Parquet file (a
    damaged blob the store's check cannot see, as its pages are whole): it is then rebuilt from the
    records' rows."""
    try:
        return pq.read_table(io.BytesIO(bytes(blob)))
    except (pa.ArrowException, OSError, ValueError):
        return None


def _frame(register: str, table: pa.Table) -> pd.DataFrame:
    """The table as the register's typed frame: one contiguous array per column (a filter would
    otherwise join a text column's chunks every time: frames.contiguous), coded columns categorical
    with their categories in order, as frames.concat gives them."""
    if not table.num_rows:  # as frames.frame types no rows (Arrow's would be other empty types)
        return frame(register, []).assign(_file_id=pd.array([], dtype="Int64"))
    f = coded(table.combine_chunks().to_pandas())
    for key in CODED:
        categories = f[key].cat.categories
        if not categories.is_monotonic_increasing:  # an update's new files come after the old ones'
            f[key] = f[key].cat.reorder_categories(categories.sort_values())
    return f


def parquet(data: pd.DataFrame | pa.Table) -> bytes:
    buffer = io.BytesIO()
    table = data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)
    pq.write_table(table, buffer, compression="lz4")  # as small as snappy's, read twice as fast
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
    written now. The thread encodes the Arrow table the frame was made from, which nothing changes."""
    stamp = _stamp(generation)
    row = db.execute("SELECT stamp, blob FROM frame_snapshots WHERE register=?", (register,)).fetchone()
    table = _read(row[1]) if row and row[0].split("/")[0] == str(FORMAT) else None
    if table is None or row[0] != stamp:
        table = _update(db, register, table)
        if later is None:
            write(db, register, stamp, parquet(table))
        else:
            later.append((register, stamp, _ENCODER.submit(parquet, table)))
    out = _frame(register, table)
    errors = [
        rid for (rid,) in db.execute(f"SELECT id FROM records WHERE {CURRENT} AND rule_error=1", (register,))
    ]
    out["_rule_error"] = out["_id"].isin(errors).to_numpy(dtype=bool)
    return out


def _update(db, register: str, old: pa.Table | None) -> pa.Table:
    """The snapshot brought to the current rows, file by file, in Arrow (a filter and a join of
    tables, each column copied once): files not in it are decoded, then the rows of files no longer
    current go, and of a file partly superseded only its current rows stay."""
    current = dict(
        db.execute(f"SELECT file_id, COUNT(*) FROM records WHERE {CURRENT} GROUP BY file_id", (register,))
    )
    have = {} if old is None else _rows_by_file(old)
    new = sorted(set(current) - set(have))
    parts = [] if old is None else [_coded_wide(old)]
    if new or old is None:
        decoded = _coded_wide(pa.Table.from_pandas(_decode(db, register, new), preserve_index=False))
        parts.append(decoded.cast(parts[0].schema) if parts else decoded)
        have.update(_rows_by_file(decoded))
    out = pa.concat_tables(parts)
    whole = pa.array([fid for fid, n in current.items() if have.get(fid) == n], pa.int64())
    keep = pc.is_in(out["_file_id"], value_set=whole)
    partial = [fid for fid, n in current.items() if have.get(fid, 0) != n]
    ids = []
    for chunk in _chunks(partial):
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT id FROM records WHERE {CURRENT} AND file_id IN ({marks})"
        ids.extend(rid for (rid,) in db.execute(sql, (register, *chunk)))
    if ids:
        keep = pc.or_(keep, pc.is_in(out["_id"], value_set=pa.array(ids, pa.int64())))
    out = out.filter(keep)
    ids = out["_id"]
    if len(out) > 1 and not pc.all(pc.greater(ids[1:], ids[:-1])).as_py():  # files stored interleaved
        out = out.take(pc.sort_indices(ids))  # stable; ids are unique
    # one array per column: the frame is made of it without a copy of its texts, while the encoder
    # holds the same table (a second copy of a group's year would lift the run's peak)
    return out.combine_chunks()


def _rows_by_file(table: pa.Table) -> dict[int, int]:
    counts = pc.value_counts(table["_file_id"].combine_chunks())
    return dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True))


def _coded_wide(table: pa.Table) -> pa.Table:
    """The coded columns' dictionaries with 32-bit indices and text values, so that tables with
    other dictionaries (a snapshot's, a new file's) join (pandas writes the narrowest index)."""
    for key in CODED:
        i = table.schema.get_field_index(key)
        wide = pa.dictionary(pa.int32(), pa.string())
        table = table.set_column(i, table.schema.field(i).with_type(wide), table[key].cast(wide))
    return table

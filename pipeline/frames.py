"""Records as typed frames: one pandas DataFrame per register, typed as registers.py declares.

A register's frame has its columns (all but the memo ones: free text no rule or KPI reads) typed by
their Column.type, and the provenance of each row:

    date            datetime64[ns] (NaT when blank); a date without a time is 00:00 of its day
    bool            pandas "boolean" (True / False / <NA>)
    number          float64 (NaN when blank)
    text, choice,   str (Arrow-backed when pyarrow is installed, as pandas 3 does by default)
    phone
    _id             the store's row id (Int64; <NA> for rows checked without storing them)
    _property       the property the row belongs to (domain.attribute fills it for feedback)
    _month, _row    where the row came from
    _file, _sheet   categorical: a few thousand texts, each repeated on every row of a sheet
                    (at 300 properties 8 MB instead of 86); `concat` keeps them so

Rows keep the store's order (its row ids), which is the order lists and traces break ties by.
Dates are parsed here once per distinct text (to_datetime caches them) and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.registers import BOOL, DATE, NUMBER, REGISTERS


def _allocator() -> None:
    """Arrow's allocator for the frames' text columns: jemalloc, giving freed pages back at once.
    Arrow's default (mimalloc) keeps them for its own reuse: 200 MB after one factorize of a group's
    case numbers, 0.2–0.4 GB carried from the snapshot's and the rules' arrays into the KPIs and
    into the report's forked worker, unless the run asked for them back. The system allocator gives
    a large array back too, but keeps the smaller ones' pages, which a forked worker then shares
    and both processes copy (summed PSS +0.25 GB); it serves where pyarrow has no jemalloc."""
    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
        pa.jemalloc_set_decay_ms(0)
    except NotImplementedError:
        pa.set_memory_pool(pa.system_memory_pool())


_allocator()

PROVENANCE = ("_id", "_property", "_month", "_file", "_sheet", "_row")
NAMES = tuple(REGISTERS)
CODED = ("_file", "_sheet")


def columns(register: str) -> list[tuple[str, str]]:
    """(key, type) of the register's columns a frame holds: all but the memo ones."""
    return [(c.key, c.type) for c in REGISTERS[register].columns if not c.memo]


def _typed(values, kind: str) -> pd.Series:
    if kind == DATE:
        return pd.to_datetime(pd.Series(values, dtype=object), format="ISO8601", errors="coerce").astype(
            "datetime64[ns]"
        )
    if kind == BOOL:
        return pd.Series(values, dtype=object).map(_bool).astype("boolean")
    if kind == NUMBER:
        return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").astype("float64")
    return pd.Series(values, dtype=object).map(_text).astype("str")


def _bool(value):
    return value if isinstance(value, bool) else None


def _text(value):
    return None if value is None or value == "" else str(value)


def frame(register: str, records: Iterable[dict]) -> pd.DataFrame:
    """The register's records (dicts with the register's keys and provenance, as the store and the
    loader give them) as a typed frame."""
    records = list(records)
    data = {}
    for key, kind in columns(register):
        data[key] = _typed([r.get(key) for r in records], kind).reset_index(drop=True)
    data["_id"] = pd.array([r.get("_id") for r in records], dtype="Int64")
    data["_property"] = _typed([r.get("_property") or r.get("property") for r in records], "text")
    data["_month"] = _typed([r.get("_month") for r in records], "text")
    for key in CODED:
        data[key] = _typed([r.get(key) for r in records], "text").astype("category")
    data["_row"] = pd.array([r.get("_row") for r in records], dtype="Int64")
    return pd.DataFrame(data, index=pd.RangeIndex(len(records)))


_STR = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' "str"


def from_columns(register: str, values: dict[str, list], provenance: dict[str, list]) -> pd.DataFrame:
    """frame(), from the store's typed tables: each column's values as the database gives them (ISO
    text or datetime for a date, 1/0 or bool for yes/no) and the rows' provenance columns (_id,
    _property, _month, _file, _sheet, _row). A column is typed in C through Arrow, three times faster
    than a dict per row typed value by value, with the same result; a column holding values of another
    kind than its type (a number where text belongs, as an older loader wrote) is typed the way frame()
    types it."""
    n = len(provenance["_id"])
    if not n:
        return frame(register, [])
    data = {key: _column(values[key], kind) for key, kind in columns(register)}
    data["_id"] = pd.array(provenance["_id"], dtype="Int64")
    for key in ("_property", "_month"):
        data[key] = _column(provenance[key], "text")
    for key in CODED:
        data[key] = _column(provenance[key], "text").astype("category")
    if "property" in data:  # as frame(): a row the store files under no property keeps its own
        data["_property"] = data["_property"].fillna(data["property"])
    data["_row"] = pd.array(provenance["_row"], dtype="Int64")
    return pd.DataFrame(
        {k: pd.Series(v).reset_index(drop=True) for k, v in data.items()}, index=pd.RangeIndex(n)
    )


def _column(values: list, kind: str) -> pd.Series:
    if kind == BOOL:
        return pd.Series(pd.array([None if v is None else bool(v) for v in values], dtype="boolean"))
    if kind == NUMBER:
        return _typed(values, kind)
    try:
        column = pa.chunked_array([pa.array(values, pa.string())])
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # datetimes from PostgreSQL, numbers in a text column
        return _typed(values, kind).reset_index(drop=True)
    return _arrow_typed(column, kind)


def _arrow_typed(column: pa.ChunkedArray, kind: str) -> pd.Series:
    """An Arrow text column (a date or text column's) as _typed() types the same values."""
    if kind == DATE:  # parsed once per distinct text (a register has a few hundred days)
        codes, days = pd.factorize(column.to_pandas(types_mapper={pa.string(): _STR}.get))
        parsed = pd.to_datetime(pd.Series(np.asarray(days, dtype=object)), format="ISO8601", errors="coerce")
        out = np.full(len(codes), np.datetime64("NaT"), dtype="datetime64[ns]")
        out[codes >= 0] = parsed.to_numpy(dtype="datetime64[ns]")[codes[codes >= 0]]
        return pd.Series(out)
    blank = pc.equal(column, "")
    text = pc.if_else(pc.fill_null(blank, False), pa.scalar(None, pa.string()), column)
    return pd.Series(
        text.cast(pa.large_string()).to_pandas(types_mapper={pa.large_string(): _STR}.get), dtype="str"
    )


def coded(f: pd.DataFrame) -> pd.DataFrame:
    """The frame with its coded columns categorical, as Parquet gives back all but an empty one."""
    for key in CODED:
        if key in f and not isinstance(f[key].dtype, pd.CategoricalDtype):
            f[key] = f[key].astype("str").astype("category")
    return f


def widen(f: pd.DataFrame, register: str) -> pd.DataFrame:
    """The frame with the register's columns it lacks added, blank and typed as frame() types them,
    in frame()'s order (a new frame when any was missing): a snapshot written before registers.py
    gained a column (its rows were stored without it, and the typed table holds NULL there)."""
    missing = [key for key, _ in columns(register) if key not in f.columns]
    if missing:
        kinds = frame(register, [])
        for key in missing:
            f[key] = pd.Series(index=f.index, dtype=kinds[key].dtype)
        order = [key for key, _ in columns(register)]
        f = f[order + [c for c in f.columns if c not in order]]
    return f


def contiguous(f: pd.DataFrame) -> pd.DataFrame:
    """The frame with each Arrow text column one contiguous array, in place. Arrow's take, under
    every filter of rows, first joins a column's chunks into one: a group's callbacks read from
    Parquet (in 128 K-row batches) cost 25–80 ms a filter however few rows it kept, 1.6 ms joined."""
    for key in f.columns:
        array = f[key].array
        chunks = getattr(array, "_pa_array", None)
        if (
            isinstance(array.dtype, pd.StringDtype)
            and isinstance(chunks, pa.ChunkedArray)
            and chunks.num_chunks > 1
        ):
            joined = pa.chunked_array([chunks.combine_chunks()], type=chunks.type)
            f[key] = pd.Series(type(array)(joined, dtype=array.dtype), index=f.index)
    return f


def concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """A register's frames one under another, renumbered. The coded columns stay categorical: pandas
    would make plain objects of categoricals whose categories differ."""
    if len(parts) == 1:
        return parts[0].reset_index(drop=True)
    parts = list(parts)
    for key in CODED:
        cols = [p[key].astype("category") for p in parts]
        union = sorted(set().union(*(c.cat.categories.tolist() for c in cols)))
        categories = pd.Index(union, dtype="str")
        parts = [
            p.assign(**{key: c.cat.set_categories(categories)}) for p, c in zip(parts, cols, strict=True)
        ]
    return contiguous(pd.concat(parts, ignore_index=True))


def empty(register: str) -> pd.DataFrame:
    return frame(register, [])


def frames(raw: dict[str, list[dict]] | None = None) -> dict[str, pd.DataFrame]:
    """Every register as a frame (empty for those `raw` lacks); frames given pass through."""
    raw = raw or {}
    out = {}
    for key in NAMES:
        given = raw.get(key)
        out[key] = given if isinstance(given, pd.DataFrame) else frame(key, given or [])
    return out


def value(v):
    """A frame's cell as plain Python for lists and JSON: None for NaN/NaT/<NA>, a datetime for a
    Timestamp, int and bool for numpy's."""
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, float) and v != v:
        return None
    if v is pd.NA:
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if hasattr(v, "item"):  # numpy scalars
        return v.item()
    return v


def rows(df: pd.DataFrame, columns: Iterable[str] | None = None) -> list[dict]:
    """A frame's rows (its `columns`, default all) as plain dicts: None for a blank, a datetime
    (pandas Timestamp) for a date, Python's bool, int, float and str for the rest. Converted a column
    at a time: lists turn tens of thousands of rows into dicts."""
    keys = list(df.columns if columns is None else columns)
    values = [plain(df[k]) for k in keys]
    return (
        [dict(zip(keys, row, strict=True)) for row in zip(*values, strict=True)]
        if keys
        else [{} for _ in range(len(df))]
    )


def plain(s: pd.Series) -> list:
    """A column as plain Python values (as `rows` gives them)."""
    if s.dtype.kind == "M":
        return [None if v is pd.NaT else v for v in s.astype(object)]
    blank = s.isna().to_numpy()
    out = s.astype(object).tolist()
    if blank.any():
        for i in blank.nonzero()[0].tolist():
            out[i] = None
    return (
        [v.item() if hasattr(v, "item") and not isinstance(v, str) else v for v in out]
        if s.dtype.kind in "iufb"
        else out
    )


def ref(df: pd.DataFrame) -> pd.Series:
    """How a row is named in a trace: the store's row id when known, else its register number."""
    ids = df["_id"].astype("str")
    fallback = df["id"].astype(object).where(df["id"].notna(), "None").astype("str")
    return ids.where(df["_id"].notna(), fallback)

"""One typed table per register, the record of truth for the rows' values, and one view per register
for reading them as the clerks know them. Both are derived from registers.py.

- `rows_complaints`, `rows_callbacks` … (`table(key)`): one row per stored record, keyed by the
  records table's id (which holds the provenance: file, sheet, row, property, month, and whether the
  row counts or was superseded), with a real column per register column, named as the clerks head it
  (投诉编号, 受理日期 …) and typed: dates are ISO 8601 text in SQLite (they sort and compare, and
  date() reads them) and TIMESTAMP in PostgreSQL; yes/no columns are 1/0 (BOOLEAN in PostgreSQL);
  numbers are REAL (DOUBLE PRECISION); the rest TEXT.
- "客户投诉处理登记表" … (`view_statements`): the current rows (not those a later file superseded)
  with their provenance (文件, 工作表, 行) and whether they count (状态: 入库 / 暂存). Open
  store.sqlite in any SQLite browser (or psql) and query them with plain SQL.

A column added to registers.py is added to its table when a store is opened (older rows hold NULL
there); the views are made again every time.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from operator import itemgetter

from pipeline.registers import BOOL, DATE, NUMBER, REGISTERS

PROVENANCE = (
    ("r.id", "记录号"),
    ("f.name", "文件"),
    ("r.sheet", "工作表"),
    ("r.row", "行"),
    ("r.property", "项目"),
)
_SQL_TYPE = {  # (SQLite, PostgreSQL)
    DATE: ("TEXT", "TIMESTAMP"),
    BOOL: ("INTEGER", "BOOLEAN"),
    NUMBER: ("REAL", "DOUBLE PRECISION"),
}


def table(register: str) -> str:
    return f"rows_{register}"


def sql_type(kind: str, postgres: bool) -> str:
    return _SQL_TYPE.get(kind, ("TEXT", "TEXT"))[postgres]


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_statements(postgres: bool) -> list[str]:
    """CREATE TABLE IF NOT EXISTS for every register's typed table."""
    out = []
    for key, register in REGISTERS.items():
        columns = [f"{quoted(c.header)} {sql_type(c.type, postgres)}" for c in register.columns]
        # INTEGER NOT NULL PRIMARY KEY: SQLite's row id, and in PostgreSQL no identity of its own
        out.append(
            f"CREATE TABLE IF NOT EXISTS {table(key)} (id INTEGER NOT NULL PRIMARY KEY REFERENCES records(id),"
            f" {', '.join(columns)})"
        )
    return out


@cache
def insert_sql(register: str) -> str:
    columns = REGISTERS[register].columns
    names = ", ".join(quoted(c.header) for c in columns)
    return f"INSERT INTO {table(register)}(id, {names}) VALUES ({', '.join('?' * (len(columns) + 1))})"


_KEYS = {k: [c.key for c in r.columns] for k, r in REGISTERS.items()}  # values()
_PICK = {k: itemgetter(*keys) for k, keys in _KEYS.items()}
_DATES = {k: [i for i, c in enumerate(r.columns) if c.type == DATE] for k, r in REGISTERS.items()}


def values(register: str, record: dict) -> tuple:
    """A loaded record's values in its table's column order. Dates are the loader's ISO 8601 text,
    with "T" between day and time however the cell gave it, so that they sort as text in SQLite
    (PostgreSQL casts them to TIMESTAMP). A key the record lacks (an older store's row) is None."""
    try:
        out = _PICK[register](record)  # every key, as the loader gives a record: picked in C
    except KeyError:
        out = tuple(record.get(key) for key in _KEYS[register])
    dates = [i for i in _DATES[register] if type(out[i]) is str and " " in out[i]]
    if not dates:
        return out
    out = list(out)
    for i in dates:
        out[i] = out[i].replace(" ", "T", 1)
    return tuple(out)


def select_columns(register: str, keys: list[str], alias: str = "t") -> str:
    """`alias."受理日期"` … for these register keys, in their order."""
    header = {c.key: c.header for c in REGISTERS[register].columns}
    return ", ".join(f"{alias}.{quoted(header[k])}" for k in keys)


def view_statements() -> list[str]:
    """DROP and CREATE statements for every register's view."""
    out = []
    for key, register in REGISTERS.items():
        columns = [f'{expr} AS "{name}"' for expr, name in PROVENANCE]
        columns += [f"t.{quoted(c.header)}" for c in register.columns if c.key != "property"]
        columns.append(
            "CASE WHEN r.set_aside = 1 OR r.rule_error = 1 THEN '暂存' ELSE '入库' END AS \"状态\""
        )
        out.append(f"DROP VIEW IF EXISTS {quoted(register.title)}")
        out.append(
            f"CREATE VIEW {quoted(register.title)} AS SELECT {', '.join(columns)}"
            f" FROM records r JOIN files f ON f.id = r.file_id JOIN {table(key)} t ON t.id = r.id"
            f" WHERE r.register = '{key}' AND r.superseded_by IS NULL"
        )
    return out


def migrate_statement(register: str, postgres: bool) -> str:
    """Fills the typed table from an older store's JSON rows (records.data), in SQL."""
    columns = REGISTERS[register].columns
    names = ", ".join(quoted(c.header) for c in columns)
    if postgres:
        exprs = []
        for c in columns:
            text = f"NULLIF(r.data::jsonb ->> '{c.key}', '')"
            exprs.append(text if c.type not in _SQL_TYPE else f"CAST({text} AS {sql_type(c.type, True)})")
    else:
        exprs = [
            f"replace(json_extract(r.data, '$.{c.key}'), ' ', 'T')"
            if c.type == DATE
            else f"json_extract(r.data, '$.{c.key}')"
            for c in columns
        ]
    return (
        f"INSERT INTO {table(register)}(id, {names}) SELECT r.id, {', '.join(exprs)} FROM records r"
        f" WHERE r.register = '{register}'"
    )


def fingerprint(values: tuple) -> str:
    """A row's values (as values() gives them) as one short text, records.fingerprint: an older
    version of a file is told by all its rows being among the stored version's (Store.newer_stored),
    whatever its column order."""
    text = _ENCODE(values)
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


_ENCODE = json.JSONEncoder(ensure_ascii=False, default=str).encode  # json.dumps(…) with these, made once

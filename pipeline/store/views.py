"""One view per register, named and laid out as the clerks know it: open store.sqlite in any SQLite
browser (or psql) and query "客户投诉处理登记表" with its columns 投诉编号, 受理日期 … as plain SQL,
beside the provenance (文件, 工作表, 行) and whether the row counts (状态: 入库 / 暂存).

The views show the current rows (not those a later file superseded) and are derived from
registers.py, so a column added there appears here; they are made again whenever a store is opened.
Types: dates are ISO text in SQLite (they sort and compare, and date() reads them) and TIMESTAMP in
PostgreSQL; yes/no columns are 1/0 (BOOLEAN in PostgreSQL); numbers are REAL / DOUBLE PRECISION.
"""

from __future__ import annotations

from pipeline.registers import BOOL, DATE, NUMBER, REGISTERS

PROVENANCE = (
    ("r.id", "记录号"),
    ("f.name", "文件"),
    ("r.sheet", "工作表"),
    ("r.row", "行"),
    ("r.property", "项目"),
)


def _field(key: str, kind: str, postgres: bool) -> str:
    if not postgres:
        return f"json_extract(r.data, '$.{key}')"
    text = f"NULLIF(r.data::jsonb ->> '{key}', '')"
    return {
        DATE: f"CAST({text} AS TIMESTAMP)",
        BOOL: f"CAST({text} AS BOOLEAN)",
        NUMBER: f"CAST({text} AS DOUBLE PRECISION)",
    }.get(kind, text)


def view_statements(postgres: bool) -> list[str]:
    """DROP and CREATE statements for every register's view."""
    out = []
    for key, register in REGISTERS.items():
        columns = [f'{expr} AS "{name}"' for expr, name in PROVENANCE]
        columns += [
            f'{_field(c.key, c.type, postgres)} AS "{c.header}"'
            for c in register.columns
            if c.key != "property"
        ]
        columns.append(
            "CASE WHEN r.set_aside = 1 OR r.rule_error = 1 THEN '暂存' ELSE '入库' END AS \"状态\""
        )
        out.append(f'DROP VIEW IF EXISTS "{register.title}"')
        out.append(
            f'CREATE VIEW "{register.title}" AS SELECT {", ".join(columns)}'
            f" FROM records r JOIN files f ON f.id = r.file_id"
            f" WHERE r.register = '{key}' AND r.superseded_by IS NULL"
        )
    return out

"""Write messy registers the way clerks do, for tests (openpyxl, xlwt, GBK CSV)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import xlwt


def xlsx(path: Path, sheets: dict[str, list[list]], merges: dict[str, list[str]] | None = None) -> Path:
    """sheets: name → rows (row 1 first; None = empty cell). Returns path (its folder is made)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for i, row in enumerate(rows, start=1):
            for j, value in enumerate(row, start=1):
                if value is not None:
                    ws.cell(i, j, value)
        for rng in (merges or {}).get(name, []):
            ws.merge_cells(rng)
    wb.save(path)
    return path


def xls(path: Path, sheets: dict[str, list[list]]) -> Path:
    wb = xlwt.Workbook(encoding="utf-8")
    for name, rows in sheets.items():
        ws = wb.add_sheet(name)
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                if value is not None:
                    ws.write(i, j, value)
    wb.save(str(path))
    return path


def csv_file(path: Path, rows: list[list], encoding: str = "gbk") -> Path:
    text = "\r\n".join(",".join("" if v is None else str(v) for v in row) for row in rows) + "\r\n"
    path.write_bytes(text.encode(encoding))
    return path


def run_month(base: Path, out: str, config, as_of: str, month: str = "2026-10", **kw) -> dict:
    """A run over base/inbox for the month, into base/out with its own store base/out.sqlite, not
    rendered: its kpis.json."""
    import json

    from pipeline.run import RunOptions, run

    result = run(
        config,
        RunOptions(
            inbox=base / "inbox",
            reports=base / out,
            store=base / f"{out}.sqlite",
            archive=base / "archive",
            month=month,
            as_of=as_of,
            workers=1,
            render=False,
            **kw,
        ),
    )
    return json.loads((result.report_dir / "kpis.json").read_text(encoding="utf-8"))

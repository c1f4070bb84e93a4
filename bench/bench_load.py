"""Loading benchmark: a group-sized inbox, loaded by the pipeline and read by a bare calamine loop.

    .venv/bin/python bench/bench_load.py                 # 300 properties × 12 months × 5 registers
    .venv/bin/python bench/bench_load.py --properties 30 # smaller

Prints files/s, rows/s, wall time and peak memory (RSS of the process and its workers) for:
  floor   a bare python-calamine loop that only reads every sheet of every file
  load    `pipeline run` from an empty store
  rerun   `pipeline run` again with nothing new
and the ratio load/floor. Each phase runs in its own process so peak memory is its own.
Figures are also written as JSON (build/bench/load-<N>.json) to compare between commits.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ROWS = {"complaints": 20, "callbacks": 170, "reinspections": 3, "feedback": 10, "repairs": 200}


def _value(col, rng: random.Random, month_start: date):
    if col.choices:
        return rng.choice(col.choices)
    if col.type == "date":
        d = month_start + timedelta(days=rng.randint(0, 27))
        return datetime.combine(d, datetime.min.time()) + timedelta(minutes=rng.randint(480, 1080))
    if col.type == "phone":
        return 13800000000 + rng.randint(0, 99999999)
    if col.type == "number":
        return rng.choice([None, None, 200.0])
    return rng.choice(["已处理", "楼道灯不亮", "3-2-1201", "王敏", None])


def _make_property(args) -> int:
    """All 60 files of one property (12 months × 5 registers), formats mixed as in real inboxes."""
    import xlsxwriter

    from pipeline.registers import REGISTERS

    folder, p = args
    rng = random.Random(p)
    prop = f"项目{p:03d}"
    n = 0
    for month in range(1, 13):
        start = date(2026, month, 1)
        for key, reg in REGISTERS.items():
            cols = [c for c in reg.columns if c.key != "property"]
            rows = []
            for i in range(ROWS[key]):
                row = [_value(c, rng, start) for c in cols]
                row[0] = f"{p:03d}-{key[:2]}-{month:02d}-{i:04d}"
                rows.append(row)
            kind = ("xlsx", "xlsx", "xlsx", "csv")[(p + month) % 4]
            path = folder / f"{prop}{reg.title}2026-{month:02d}.{kind}"
            if kind == "csv":
                lines = [",".join(c.header for c in cols)]
                for row in rows:
                    lines.append(
                        ",".join(
                            ""
                            if v is None
                            else (v.strftime("%Y/%m/%d %H:%M") if isinstance(v, datetime) else str(v))
                            for v in row
                        )
                    )
                path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
            else:
                wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
                ws = wb.add_worksheet(f"2026年{month}月")
                dfmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
                ws.write(0, 1, f"{prop}{reg.title}")
                ws.write(2, 0, "序号")
                for j, c in enumerate(cols, start=1):
                    ws.write(2, j, c.header)
                for i, row in enumerate(rows, start=3):
                    ws.write_number(i, 0, i - 2)
                    for j, v in enumerate(row, start=1):
                        if isinstance(v, datetime):
                            ws.write_datetime(i, j, v, dfmt)
                        elif v is not None:
                            ws.write(i, j, v)
                ws.write(len(rows) + 5, 0, "填表人：        审核人：")
                wb.close()
            n += len(rows)
    return n


def generate(folder: Path, properties: int) -> int:
    marker = folder / ".complete"
    if marker.exists():
        return int(marker.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(max_workers=os.cpu_count()) as pool:
        rows = sum(pool.map(_make_property, [(folder, p) for p in range(properties)], chunksize=4))
    marker.write_text(str(rows))
    return rows


def _peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024


def phase_floor(inbox: Path) -> dict:
    import python_calamine

    from pipeline.load.read import read_file

    files = rows = 0
    t = time.perf_counter()
    for path in sorted(inbox.iterdir()):
        if path.name.startswith("."):
            continue
        files += 1
        if path.suffix == ".csv":
            rows += len(read_file(path)[0].rows)  # CSV has no calamine path; the stdlib reader is the floor
            continue
        wb = python_calamine.CalamineWorkbook.from_path(str(path))
        for name in wb.sheet_names:
            rows += len(wb.get_sheet_by_name(name).to_python())
    return {"files": files, "rows": rows, "seconds": time.perf_counter() - t}


def phase_run(inbox: Path, work: Path) -> dict:
    from pipeline.config import load_config
    from pipeline.run import RunOptions, run

    config = load_config(work / "config.toml")
    t = time.perf_counter()
    result = run(
        config,
        RunOptions(
            inbox=inbox,
            store=work / "store.sqlite",
            archive=work / "archive",
            reports=work / "reports",
            as_of="2026-12-31 18:00",
            month="2026-12",
        ),
    )
    return {
        "files": len(result.ingest.outcomes) + result.ingest.unchanged,
        "new_files": len(result.ingest.outcomes),
        "rows": result.ingest.rows_read,
        "seconds": time.perf_counter() - t,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--properties", type=int, default=300)
    ap.add_argument("--phase", choices=["floor", "run"], help=argparse.SUPPRESS)
    ap.add_argument("--inbox", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        out = phase_floor(args.inbox) if args.phase == "floor" else phase_run(args.inbox, args.work)
        out["peak_mb"] = _peak_mb()
        print(json.dumps(out))
        return
    base = ROOT / "build" / "bench"
    inbox = base / f"inbox-{args.properties}"
    t = time.perf_counter()
    total = generate(inbox, args.properties)
    print(
        f"inbox: {args.properties} properties, {sum(1 for p in inbox.iterdir() if not p.name.startswith('.'))} files, {total:,} rows "
        f"(generated or reused in {time.perf_counter() - t:.1f} s)"
    )
    work = base / f"work-{args.properties}"
    subprocess.run(["rm", "-rf", str(work)], check=True)
    work.mkdir(parents=True)
    props = "\n".join(f'[properties."项目{p:03d}"]\nhouseholds = {800 + p}' for p in range(args.properties))
    (work / "config.toml").write_text(props + "\n", encoding="utf-8")
    results = {}
    for name, phase in (("floor", "floor"), ("load", "run"), ("rerun", "run")):
        cmd = [sys.executable, __file__, "--phase", phase, "--inbox", str(inbox), "--work", str(work)]
        results[name] = json.loads(
            subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        )
        r = results[name]
        rate = (
            f"{r['files'] / r['seconds']:8.1f} files/s {r['rows'] / r['seconds']:10,.0f} rows/s"
            if r["rows"]
            else " " * 36
        )
        print(f"{name:6} {r['seconds']:8.2f} s {rate}  peak {r['peak_mb']:7.0f} MB  rows {r['rows']:,}")
    ratio = results["load"]["seconds"] / results["floor"]["seconds"]
    print(
        f"load / floor = {ratio:.2f} (goal ≤ 2)   rerun = {results['rerun']['seconds']:.2f} s (goal < 10 s)"
    )
    results["ratio_load_floor"] = ratio
    results["cores"] = os.cpu_count()
    (base / f"load-{args.properties}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

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
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VOLUME = 3  # the demo's daily volumes × 3 ≈ 400 rows per property and month, 1.45 M rows for 300 properties


def _make_property(args) -> int:
    """All 60 files of one property (12 months × 5 registers), coherent records in the demo's messy layouts."""

    from pipeline.demo import Span, property_books, write_property_month

    folder, p = args
    rng = random.Random(p)
    prop = f"项目{p:03d}"
    books = property_books(prop, f"P{p:03d}", rng, Span(date(2026, 1, 1), date(2026, 12, 31), VOLUME))
    for month in range(1, 13):
        write_property_month(folder, prop, books, month, ("xlsx", "xlsx", "xls", "csv")[(p + month) % 4])
    return sum(
        len(getattr(books, key))
        for key in ("complaints", "callbacks", "reinspections", "feedback", "repairs")
    )


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


def _inbox_files(inbox: Path) -> list[Path]:
    return sorted(p for p in inbox.iterdir() if not p.name.startswith("."))


def phase_floor(inbox: Path) -> dict:
    import python_calamine

    from pipeline.load.read import read_file

    files = rows = 0
    t = time.perf_counter()
    for path in _inbox_files(inbox):
        files += 1
        if path.suffix == ".csv":
            rows += len(read_file(path)[0].rows)  # CSV has no calamine path; the stdlib reader is the floor
            continue
        wb = python_calamine.CalamineWorkbook.from_path(str(path))
        for name in wb.sheet_names:
            rows += len(wb.get_sheet_by_name(name).to_python())
    return {"files": files, "rows": rows, "seconds": time.perf_counter() - t}


def phase_pandas(inbox: Path) -> dict:
    """What a hand-written script would do: pandas' default engines (openpyxl for .xlsx, xlrd for .xls)."""
    import pandas as pd

    files = rows = 0
    t = time.perf_counter()
    for path in _inbox_files(inbox):
        files += 1
        if path.suffix == ".csv":
            rows += len(pd.read_csv(path, encoding="gb18030", header=None, dtype=str))
        else:
            rows += sum(len(df) for df in pd.read_excel(path, sheet_name=None, header=None).values())
    return {"files": files, "rows": rows, "seconds": time.perf_counter() - t}


def phase_run(inbox: Path, work: Path) -> dict:
    from pipeline.config import load_config
    from pipeline.run import RunOptions, run

    config = load_config(work / "config.toml")
    options = RunOptions(
        inbox=inbox,
        store=work / "store.sqlite",
        archive=work / "archive",
        reports=work / "reports",
        as_of="2026-12-31 18:00",
        month="2026-12",
    )
    t = time.perf_counter()
    result = run(config, options)
    seconds = time.perf_counter() - t
    manifest = json.loads((result.report_dir / "manifest.json").read_text(encoding="utf-8"))
    return {
        "files": len(result.ingest.outcomes) + result.ingest.unchanged,
        "new_files": len(result.ingest.outcomes),
        "rows": result.ingest.rows_read,
        "seconds": seconds,
        "stages": manifest["timings_seconds"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--properties", type=int, default=300)
    ap.add_argument("--skip-pandas", action="store_true", help="skip the slow pandas/openpyxl comparison")
    ap.add_argument("--phase", choices=["floor", "pandas", "run"], help=argparse.SUPPRESS)
    ap.add_argument("--inbox", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        phases = {
            "floor": lambda: phase_floor(args.inbox),
            "pandas": lambda: phase_pandas(args.inbox),
            "run": lambda: phase_run(args.inbox, args.work),
        }
        out = phases[args.phase]()
        out["peak_mb"] = _peak_mb()
        print(json.dumps(out))
        return
    base = ROOT / "build" / "bench"
    inbox = base / f"inbox-{args.properties}"
    t = time.perf_counter()
    total = generate(inbox, args.properties)
    print(
        f"inbox: {args.properties} properties, {len(_inbox_files(inbox))} files, {total:,} rows "
        f"(generated or reused in {time.perf_counter() - t:.1f} s)"
    )
    work = base / f"work-{args.properties}"
    subprocess.run(["rm", "-rf", str(work)], check=True)
    work.mkdir(parents=True)
    props = "\n".join(f'[properties."项目{p:03d}"]\nhouseholds = {800 + p}' for p in range(args.properties))
    (work / "config.toml").write_text(props + "\n", encoding="utf-8")
    results = {}
    plan = [("floor", "floor"), ("load", "run"), ("rerun", "run")] + (
        [] if args.skip_pandas else [("pandas", "pandas")]
    )
    for name, phase in plan:
        cmd = [sys.executable, __file__, "--phase", phase, "--inbox", str(inbox), "--work", str(work)]
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
        results[name] = r = json.loads(done.stdout.strip().splitlines()[-1])
        rate = (
            f"{r['files'] / r['seconds']:8.1f} files/s {r['rows'] / r['seconds']:10,.0f} rows/s"
            if r["rows"]
            else " " * 36
        )
        print(f"{name:6} {r['seconds']:8.2f} s {rate}  peak {r['peak_mb']:7.0f} MB  rows {r['rows']:,}")
        if "stages" in r:
            print("         stages: " + "  ".join(f"{k} {v:.2f} s" for k, v in r["stages"].items()))
    ratio = results["load"]["stages"]["load"] / results["floor"]["seconds"]
    print(
        f"load stage / floor = {ratio:.2f} (goal ≤ 2)   rerun = {results['rerun']['seconds']:.2f} s (goal < 10 s)"
    )
    if "pandas" in results:
        speedup = results["pandas"]["seconds"] / results["load"]["stages"]["load"]
        print(f"pandas+openpyxl / load stage = {speedup:.2f} (goal ≥ 5)")
        results["ratio_pandas_load"] = speedup
    results["ratio_load_floor"] = ratio
    results["cores"] = os.cpu_count()
    (base / f"load-{args.properties}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

"""Group-scale benchmark: a group's inbox, run through the pipeline and compared with the limits.

    .venv/bin/python bench/bench_load.py                 # 300 properties × 12 months × 5 registers
    .venv/bin/python bench/bench_load.py --properties 30 # smaller

The inbox holds a year (January to mid-December 2026) for every property, December's registers as
they stood on Friday 11 December; a second folder holds December's registers as of Friday 18
December (the next week's drop: each clerk re-drops the month's register with a week more rows).

Prints wall time, files/s, rows/s and peak memory for each phase (the largest RSS of its process or
any one worker, and the peak PSS summed over all of them, sampled) for:
  floor          a bare python-calamine loop that only reads every sheet of every file   (a)
  load           `pipeline run --month 2026-11` from an empty store                      (c)
  rerun          the same run again, nothing new                                         (d)
  weekly         the next week's registers dropped, `pipeline run --week` for that week  (e)
  group-month    the whole group's monthly PDF and Excel again (--force)                 (f)
  property-week  one property's weekly PDF and Excel (--property, --force)               (f)
  property-month one property's monthly PDF and Excel (--property, --force)              (f)
  pandas         the same files read with pandas' default engines (openpyxl, xlrd)       (b)
and the goals of issue #8 against them. Each phase runs in its own process so peak memory is
its own. Figures are also written as JSON (build/bench/load-<N>.json) to compare between commits.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VOLUME = 3  # the demo's daily volumes × 3 ≈ 400 rows per property and month, 1.45 M rows for 300 properties
FIRST_CUT = datetime(2026, 12, 11, 16, 0)  # December's registers in the inbox: as of Friday 11 December
WEEK_CUT = datetime(2026, 12, 18, 16, 0)  # the next week's drop: as of Friday 18 December
FIRST_AS_OF, WEEK_AS_OF = "2026-12-11 16:20", "2026-12-18 16:20"  # before that Friday's 16:30 meeting


def _make_property(args) -> int:
    """All files of one property (12 months × 5 registers, December twice), in the demo's messy layouts."""

    from pipeline.demo import Span, property_books, write_property_month

    folder, drop, p = args
    rng = random.Random(p)
    prop = f"项目{p:03d}"
    books = property_books(prop, f"P{p:03d}", rng, Span(date(2026, 1, 1), date(2026, 12, 31), VOLUME))
    for month in range(1, 13):
        kind = ("xlsx", "xlsx", "xls", "csv")[(p + month) % 4]
        write_property_month(folder, prop, books, month, kind, upto=FIRST_CUT if month == 12 else None)
    write_property_month(drop, prop, books, 12, ("xlsx", "xlsx", "xls", "csv")[(p + 12) % 4], upto=WEEK_CUT)
    return sum(
        len(getattr(books, key))
        for key in ("complaints", "callbacks", "reinspections", "feedback", "repairs")
    )


def generate(folder: Path, drop: Path, properties: int) -> int:
    marker = folder / ".complete-v2"
    if marker.exists():
        return int(marker.read_text())
    shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(drop, ignore_errors=True)
    folder.mkdir(parents=True)
    drop.mkdir(parents=True)
    with ProcessPoolExecutor(max_workers=os.cpu_count()) as pool:
        jobs = [(folder, drop, p) for p in range(properties)]
        rows = sum(pool.map(_make_property, jobs, chunksize=4))
    marker.write_text(str(rows))
    return rows


def _peak_mb() -> float:
    """The largest RSS of the phase's process or any one of its workers."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024


class _Footprint(threading.Thread):
    """Peak of the proportional set size (PSS) summed over the process and its workers, sampled
    every second: memory the phase really takes from the machine. RSS counts pages a forked worker
    shares with the run once in each process; PSS splits them, and counts what a worker copied.

    Not more often: the kernel walks every page table to answer smaps_rollup, 30-40 ms for a
    1.3 GB run. Every 0.2 s this took 3 s of CPU from a 36 s weekly run on two cores (perf), time
    the run itself was then measured to take; the phase's memory peaks last seconds."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_kb = 0
        self.stopped = threading.Event()

    @staticmethod
    def _pss(pid: int) -> int:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                return next(int(line.split()[1]) for line in fh if line.startswith("Pss:"))
        except (OSError, StopIteration, ValueError):
            return 0

    def _family(self) -> list[int]:
        pids, todo = [], [os.getpid()]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            try:
                with open(f"/proc/{pid}/task/{pid}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
            except OSError:
                pass
        return pids

    def run(self) -> None:
        while not self.stopped.wait(1.0):
            self.peak_kb = max(self.peak_kb, sum(self._pss(pid) for pid in self._family()))

    def stop(self) -> float:
        self.stopped.set()
        self.join()
        return self.peak_kb / 1024


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


def phase_run(inbox: Path, work: Path, spec: dict) -> dict:
    from pipeline.config import load_config
    from pipeline.run import RunOptions, run

    if spec.get("drop"):
        for path in _inbox_files(Path(spec["drop"])):
            shutil.copyfile(path, inbox / path.name)  # the clerk re-drops the month's register
    config = load_config(work / "config.toml")
    options = RunOptions(
        inbox=inbox,
        store=work / "store.sqlite",
        archive=work / "archive",
        reports=work / "reports",
        as_of=spec["as_of"],
        month=spec.get("month"),
        week=spec.get("week"),
        property=spec.get("property"),
        reuse=not spec.get("force"),
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
        "memory_mb": manifest.get("memory_mb", {}),
        "reused": bool(result.reused_from),
    }


def _plan(drop: Path, skip_pandas: bool) -> list[tuple[str, str, dict]]:
    month = {"month": "2026-11", "as_of": FIRST_AS_OF}
    week = {"week": "current", "as_of": WEEK_AS_OF}
    one = "项目000"
    plan = [
        ("floor", "floor", {}),
        ("load", "run", month),
        ("rerun", "run", month),
        ("weekly", "run", {**week, "drop": str(drop)}),
        ("group-month", "run", {**month, "as_of": WEEK_AS_OF, "force": True}),
        ("property-week", "run", {**week, "property": one, "force": True}),
        ("property-month", "run", {**month, "as_of": WEEK_AS_OF, "property": one, "force": True}),
    ]
    return plan + ([] if skip_pandas else [("pandas", "pandas", {})])


def _report(results: dict) -> list[str]:
    """The goals of issue #8 against this run's figures."""
    r = results
    lines = []

    def goal(text: str, value: float | None, ok: bool | None) -> None:
        mark = "?" if ok is None else ("✔" if ok else "✘")
        lines.append(f"{mark} {text}" + ("" if value is None else f" = {value:.2f}"))

    ratio = r["load"]["stages"]["load"] / r["floor"]["seconds"]
    r["ratio_load_floor"] = ratio
    goal("(c) load stage / (a) floor ≤ 2", ratio, ratio <= 2)
    if "pandas" in r:
        r["ratio_pandas_load"] = speedup = r["pandas"]["seconds"] / r["load"]["stages"]["load"]
        goal("(b) pandas default engines / (c) load stage ≥ 5", speedup, speedup >= 5)
    goal("(d) re-run with nothing new < 10 s", r["rerun"]["seconds"], r["rerun"]["seconds"] < 10)
    goal("(e) weekly incremental run < 30 s", r["weekly"]["seconds"], r["weekly"]["seconds"] < 30)
    pdf = r["property-week"]["stages"].get("render_pdf")
    goal("(f) one property's weekly PDF < 3 s", pdf, pdf is not None and pdf < 3)
    pdf = r["group-month"]["stages"].get("render_pdf")
    goal("(f) the group's monthly PDF < 60 s", pdf, pdf is not None and pdf < 60)
    phases = [v for k, v in r.items() if isinstance(v, dict) and k != "pandas"]
    peak = max(max(v["peak_mb"], v.get("footprint_mb", 0)) for v in phases)
    goal("peak memory of the pipeline's phases (RSS of one process, PSS of all) < 2048 MB", peak, peak < 2048)
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--properties", type=int, default=300)
    ap.add_argument("--skip-pandas", action="store_true", help="skip the slow pandas/openpyxl comparison")
    ap.add_argument("--phase", choices=["floor", "pandas", "run"], help=argparse.SUPPRESS)
    ap.add_argument("--inbox", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--spec", default="{}", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        phases = {
            "floor": lambda: phase_floor(args.inbox),
            "pandas": lambda: phase_pandas(args.inbox),
            "run": lambda: phase_run(args.inbox, args.work, json.loads(args.spec)),
        }
        footprint = _Footprint()
        footprint.start()
        out = phases[args.phase]()
        out["peak_mb"] = _peak_mb()
        out["footprint_mb"] = footprint.stop()
        print(json.dumps(out))
        return
    base = ROOT / "build" / "bench"
    source, drop = base / f"inbox-{args.properties}", base / f"week-drop-{args.properties}"
    t = time.perf_counter()
    total = generate(source, drop, args.properties)
    print(
        f"inbox: {args.properties} properties, {len(_inbox_files(source))} files, {total:,} rows in the year "
        f"(generated or reused in {time.perf_counter() - t:.1f} s)"
    )
    work = base / f"work-{args.properties}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    inbox = work / "inbox"  # a copy: the weekly drop overwrites December's registers in it
    shutil.copytree(source, inbox)
    props = "\n".join(f'[properties."项目{p:03d}"]\nhouseholds = {800 + p}' for p in range(args.properties))
    (work / "config.toml").write_text(props + "\n", encoding="utf-8")
    results: dict = {}
    for name, phase, spec in _plan(drop, args.skip_pandas):
        cmd = [sys.executable, __file__, "--phase", phase, "--inbox", str(inbox), "--work", str(work)]
        done = subprocess.run([*cmd, "--spec", json.dumps(spec)], check=True, capture_output=True, text=True)
        results[name] = r = json.loads(done.stdout.strip().splitlines()[-1])
        rate = (
            f"{r['files'] / r['seconds']:8.1f} files/s {r['rows'] / r['seconds']:10,.0f} rows/s"
            if r["rows"]
            else " " * 36
        )
        print(
            f"{name:14} {r['seconds']:8.2f} s {rate}  peak {r['peak_mb']:7.0f} MB"
            f" (all processes {r['footprint_mb']:5.0f} MB)  rows {r['rows']:,}"
        )
        if "stages" in r:
            print("               stages: " + "  ".join(f"{k} {v:.2f} s" for k, v in r["stages"].items()))
    print(*_report(results), sep="\n")
    results["cores"] = os.cpu_count()
    results["properties"] = args.properties
    (base / f"load-{args.properties}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

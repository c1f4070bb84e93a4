"""Equivalence: run an earlier commit and the working tree on the same inbox and compare their
kpis.json and findings key by key, so that every figure a change moves is listed and can be explained.

    .venv/bin/python bench/equivalence.py --base 6a6043b                 # the demo inbox
    .venv/bin/python bench/equivalence.py --base 6a6043b --properties 30 # the benchmark's group inbox

The earlier commit is checked out in a git worktree (build/equivalence/<rev>) and run with this
venv; both runs read the same inbox into stores of their own, for the demo's week and month (or, for
the group inbox, December's week and November). Prints each differing key with both values, and the
findings (by code) one run has and the other lacks.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "equivalence"
IGNORED = {"generated_at", "provenance", "records"}  # times, and the store's row ids behind each figure


def _run(tree: Path, config: Path, inbox: Path, out: Path, period: list[str], as_of: str) -> Path:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "--config",
            str(config),
            "run",
            "--inbox",
            str(inbox),
        ]
        + [
            "--reports",
            str(out / "reports"),
            "--store",
            str(out / "store.sqlite"),
            "--archive",
            str(out / "a"),
        ]
        + [*period, "--as-of", as_of, "--no-reports", "--quiet"],
        cwd=tree,
        env=env,
        capture_output=True,
        check=False,
    )
    folder = "weekly" if period[0] == "--week" else "monthly"
    return next((out / "reports" / folder).glob("*/kpis.json"))


def differences(a, b, path: str = "") -> list[tuple[str, object, object]]:
    """Every leaf where a and b differ, as (path, a's value, b's value)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b), key=str):
            if key in IGNORED:
                continue
            out += differences(
                a.get(key, "（无）"), b.get(key, "（无）"), f"{path}.{key}" if path else str(key)
            )
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{path}[{i}]")
        ]
    if isinstance(a, list) and isinstance(b, list) and all(isinstance(x, dict) and "id" in x for x in a + b):
        ids_a, ids_b = {x["id"] for x in a}, {x["id"] for x in b}  # a list's items, by their numbers
        return [(f"{path}（{len(a)} → {len(b)} 项）", sorted(ids_a - ids_b), sorted(ids_b - ids_a))]
    if isinstance(a, float) and isinstance(b, float) and abs(a - b) < 1e-12:
        return []
    return [] if a == b else [(path, a, b)]


def findings(store: Path) -> Counter:
    with sqlite3.connect(store) as db:
        return Counter(code for (code,) in db.execute("SELECT code FROM findings"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True, help="the earlier commit")
    ap.add_argument("--properties", type=int, help="the benchmark's group inbox of this many properties")
    args = ap.parse_args()
    rev = subprocess.run(
        ["git", "rev-parse", "--short", args.base], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    base = WORK / rev
    if not base.exists():
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(base), rev], cwd=ROOT, check=True, capture_output=True
        )
    inbox, config = WORK / "inbox", ROOT / "config.toml"
    if args.properties:
        inbox = ROOT / "build" / "bench" / f"inbox-{args.properties}"
        config = ROOT / "build" / "bench" / f"work-{args.properties}" / "config.toml"  # its households
        if not inbox.exists():
            sys.exit(f"run bench/bench_load.py --properties {args.properties} first: it makes {inbox}")
        runs = {
            "week": (["--week", "2026-12-11"], "2026-12-11 16:20"),
            "month": (["--month", "2026-11"], "2026-12-11 16:20"),
        }
    else:
        if not inbox.exists():
            from pipeline.demo import write_demo_inbox

            sys.path.insert(0, str(ROOT))
            write_demo_inbox(inbox)
        runs = {
            "week": (["--week", "2026-W44"], "2026-11-01 08:00"),
            "month": (["--month", "2026-10"], "2026-11-01 08:00"),
        }
    for name, (period, as_of) in runs.items():
        outputs = {}
        for label, tree in (("base", base), ("head", ROOT)):
            out = WORK / f"{label}-{name}"
            shutil.rmtree(out, ignore_errors=True)
            outputs[label] = (_run(tree, config, inbox, out, period, as_of), out / "store.sqlite")
        old = json.loads(outputs["base"][0].read_text(encoding="utf-8"))
        new = json.loads(outputs["head"][0].read_text(encoding="utf-8"))
        diff = differences(old, new)
        print(f"== {name} ({' '.join(period)}): {len(diff)} differing keys, {rev} → working tree")
        for path, a, b in diff:
            print(
                f"  {path}: {json.dumps(a, ensure_ascii=False)[:160]} → {json.dumps(b, ensure_ascii=False)[:160]}"
            )
        fa, fb = findings(outputs["base"][1]), findings(outputs["head"][1])
        for code in sorted(set(fa) | set(fb)):
            if fa[code] != fb[code]:
                print(f"  findings {code}: {fa[code]} → {fb[code]}")


if __name__ == "__main__":
    main()

"""The row-local rules' findings, kept in the store per file's records between runs.

A row-local rule (RuleSpec.local) reads one record and its file's columns, never another record nor
the as-of time, and a stored file's records never change: so what those rules found on a file's
current records stays true until the records or the rules change. A weekly run checks only the new
files' rows with them and takes the rest from the store (at 300 properties the row-local rules are
3.4 s of the rules' 8.6 s; the rules that look across records or at the as-of time run every time).

What was found is keyed by file name and stamped with the records it was found on (their count and
a hash of their ids: a re-dropped file's rows are new records) and with the rules (the settings and
code of the row-local ones), and is found again whenever either differs.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from datetime import datetime
from types import CodeType

from pipeline import __version__
from pipeline.config import Config
from pipeline.findings import Finding
from pipeline.validate import rule_settings, run_rules
from pipeline.validate.rules import RULES

VERSION = 1  # bump when a helper of the row-local rules changes what they find (their own code is in the key)


def rules_key(config: Config) -> str:
    """The row-local rules as configured, with their code: kept findings of another key are stale."""
    local = sorted((code, s) for code, s in rule_settings(config).items() if RULES[code].local)
    code = [_fingerprint(RULES[c].func.__code__) for c, _ in local]
    text = json.dumps([VERSION, __version__, local, code], ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _fingerprint(code: CodeType) -> str:
    """A function's code as the same text in every process (a code object's repr has its address,
    a set's order follows the process's hash seed)."""
    consts = [
        _fingerprint(c) if isinstance(c, CodeType) else repr(sorted(c) if isinstance(c, frozenset) else c)
        for c in code.co_consts
    ]
    return "|".join([code.co_code.hex(), *code.co_names, *consts])


def _stamp(group: dict[str, list[dict]]) -> str:
    ids = tuple(r["_id"] for recs in group.values() for r in recs)
    return f"{len(ids)}:{hash(ids)}"  # ints hash the same in every process (no hash seed)


def _row(f: Finding) -> list:
    """The finding's fields in Finding's order (Finding(*row) makes it again)."""
    return [f.code, f.severity, f.file, f.sheet, f.row, f.column, f.letter, f.value, f.note, f.ref]


def local_findings(
    store, records: dict[str, list[dict]], as_of: datetime, config: Config, columns: dict
) -> list[Finding]:
    """The row-local rules' findings on the current records: kept ones where the records and rules
    are those they were found on, the rest found now (and kept for the next run)."""
    key = rules_key(config)
    by_file: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for register, recs in records.items():
        for r in recs:
            by_file[r["_file"]][register].append(r)
    kept = store.kept_findings(key)
    out: list[Finding] = []
    todo: dict[str, str] = {}  # file name → stamp of its records
    for name, group in by_file.items():
        stamp = _stamp(group)
        hit = kept.get(name)
        if hit and hit[0] == stamp:
            out.extend(Finding(*row) for row in json.loads(hit[1]))
        else:
            todo[name] = stamp
    if todo:
        merged: dict[str, list[dict]] = defaultdict(list)
        for name in todo:
            for register, recs in by_file[name].items():
                merged[register].extend(recs)
        found = run_rules(merged, as_of, config, columns, local=True)
        mine: dict[str, list] = defaultdict(list)
        for f in found:
            mine[f.file].append(_row(f))
        store.keep_findings(
            key,
            [
                (name, stamp, json.dumps(mine.get(name, []), ensure_ascii=False))
                for name, stamp in todo.items()
            ],
        )
        out.extend(found)
    return out

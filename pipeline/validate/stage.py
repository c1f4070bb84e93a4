"""The validation stage: rules over the store (what passes is what the KPIs count), and the same rules
over files checked without storing them. What the clerks get back is written by render/clerk.py."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd

from pipeline.config import Config
from pipeline.domain import inline_callbacks
from pipeline.findings import Finding
from pipeline.frames import concat, frame
from pipeline.load.loader import skipped_text
from pipeline.registers import REGISTERS, relation
from pipeline.store import COUNTED, Store
from pipeline.validate import run_rules
from pipeline.validate.rules import RULE_CODES


def finding_from_row(row: dict) -> Finding:
    return Finding(
        row["code"],
        row["severity"],
        row["file"],
        row["sheet"],
        row["row"],
        row["column_name"],
        row["letter"],
        row["value"],
        row["note"] or "",
    )


def validate_store(
    store: Store, config: Config, as_of: datetime
) -> tuple[list[Finding], dict[str, pd.DataFrame]]:
    """Run every enabled rule over the current records; rows with a rule error are set aside.

    Returns the findings and the frames of the records that passed (what the KPIs count, feedback
    attributed), so that a run reads its store once."""
    try:  # the store's check (Store.start_check) reads its pages meanwhile
        data = store.current_frames(save_later=True)  # the snapshot is encoded while the rules run
        inline_callbacks(data)  # here, so that the frames returned hold them too
        findings = run_rules(data, as_of, config, store.sheet_columns())
    except Exception:
        store.check()  # a damaged store says so, whatever reading it tripped on
        raise
    store.check()  # before the first write, and before any figure is made of these records
    store.apply_rule_findings(findings)
    store.save_snapshots()
    rejected = pd.array([f.ref for f in findings if f.severity == "error" and f.ref], dtype="Int64")
    return findings, {key: f[~f["_id"].isin(rejected)].drop(columns="_rule_error") for key, f in data.items()}


def file_infos(store: Store, property_name: str | None = None) -> list[dict]:
    """Current files (and rejected ones) with their counts (Store.file_counts: after the rules) and
    填表人; only a property's files, and their rows of that property, when given."""
    counts = store.file_counts(property_name)
    rejected = "" if property_name else " OR status='rejected'"
    ids = list(counts)
    out = []
    for start in range(0, max(len(ids), 1), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk)) or "NULL"
        for fid, name, register, submitter, sha in store.db.execute(
            f"SELECT id, name, register, submitter, sha256 FROM files WHERE id IN ({marks})"
            + (rejected if start == 0 else "")
            + " ORDER BY id",
            chunk,
        ):
            out.append(
                {
                    "name": name,
                    "register": REGISTERS[register].title if register else "",
                    "submitter": submitter,
                    **counts.get(fid, dict.fromkeys(COUNTED, 0)),  # a rejected file: nothing read
                    "sha256": sha,
                }
            )
    return out


# Cross-register rules judge one register by another (registers.RELATIONS); checking a file alone,
# without that other register in the store, they would only report its absence.
NEEDS = {
    "callback-missing": {"callbacks"},
    "callback-ref-unknown": set(relation("callbacks").targets),
    "callback-before-closing": set(relation("callbacks").targets),
    "feedback-complaint-unknown": set(relation("feedback").targets),
}


def _as_dict(rec) -> dict:
    d = dict(rec.values)
    d.update(
        _register=rec.register,
        _file=rec.file,
        _sheet=rec.sheet,
        _row=rec.row,
        _property=rec.property_name,
        _month=rec.month,
        _id=None,
    )
    return d


def check_files(paths: list[Path], config: Config, as_of: datetime, store: Store | None) -> list[dict]:
    """Check files without storing them: their rows, in the context of the store's other records.

    Returns, per file: {"loaded": LoadedFile, "findings": [...], "counts": {...}}.
    """
    from pipeline.load.loader import load_file

    loaded = [load_file(p, config, as_of) for p in paths]
    scopes = {(r.register, r.property_name, r.month) for lf in loaded for r in lf.records}
    records: dict[str, list] = {key: [] for key in REGISTERS}
    if store is not None:
        for key, f in store.current_frames().items():
            # the stored rows of the scopes these files would supersede are left out, as storing would
            scope = f["_property"].fillna("\0") + "\x1f" + f["_month"].fillna("\0")
            replaced = [f"{p or chr(0)}\x1f{m or chr(0)}" for k, p, m in scopes if k == key]
            records[key].append(f[~scope.isin(replaced).to_numpy(dtype=bool)].drop(columns="_rule_error"))
    columns = dict(store.sheet_columns()) if store is not None else {}
    checked: dict[str, list[dict]] = {key: [] for key in REGISTERS}
    for lf in loaded:
        for s in lf.sheets:
            columns[(lf.name, s.name)] = s.columns
        for r in lf.records:
            if not r.set_aside:
                r.file = lf.name
                checked[r.register].append(_as_dict(r))
    for key, recs in checked.items():
        records[key].append(frame(key, recs))
    data = {key: concat(parts) if parts else frame(key, []) for key, parts in records.items()}
    inline_callbacks(data)  # a register's own callbacks count as present (NEEDS)
    names = {lf.name for lf in loaded}
    present = {key for key, f in data.items() if len(f)}
    rule_findings = [
        f
        for f in run_rules(data, as_of, config, columns)
        if f.file in names and (f.code not in NEEDS or NEEDS[f.code] & present)
    ]
    out = []
    for lf in loaded:
        mine = ([lf.error] if lf.error else lf.all_findings()) + [
            f for f in rule_findings if f.file == lf.name
        ]
        out.append({"loaded": lf, "findings": mine, "counts": _counts(lf, mine)})
    return out


def _counts(lf, findings: list[Finding]) -> dict[str, int]:
    """A checked file's rows as a run would count them: set aside by loading or by a rule's error."""
    aside = {(r.sheet, r.row) for r in lf.records if r.set_aside}
    aside |= {(f.sheet, f.row) for f in findings if f.severity == "error" and f.row and f.code in RULE_CODES}
    read = len(lf.records)
    return {
        "rows_read": read,
        "rows_loaded": read - len(aside),
        "rows_set_aside": len(aside),
        "rows_skipped": lf.rows_skipped,
    }


def describe_results(results: list[dict], limit: int = 50) -> tuple[list[str], int]:
    """Terminal lines for `pipeline validate` / `pipeline watch`, and the number of errors."""
    from pipeline.findings import SEVERITY_ZH

    lines, errors = [], 0
    for item in results:
        lf, found = item["loaded"], item["findings"]
        by = {s: sum(1 for f in found if f.severity == s) for s in ("error", "warning", "info")}
        errors += by["error"]
        c = item["counts"]
        head = f"{lf.name}：读取 {c['rows_read']} 行，可入库 {c['rows_loaded']} 行，暂存 {c['rows_set_aside']} 行；"
        if lf.rows_skipped:
            head += f"跳过非数据行 {lf.rows_skipped} 行（{skipped_text(lf.skipped)}）；"
        lines.append(head + "，".join(f"{SEVERITY_ZH[s]} {n}" for s, n in by.items()))
        lines.extend(f"  [{SEVERITY_ZH[f.severity]}] {f.message}" for f in found[:limit])
        if len(found) > limit:
            lines.append(f"  ……另有 {len(found) - limit} 条，见批注副本")
        if item.get("annotated"):
            lines.append(f"  批注副本：{item['annotated']}")
    return lines, errors

"""The validation stage of a run: rules over the store, then the clerk's outputs for the new files."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pipeline.config import Config
from pipeline.findings import Finding
from pipeline.ingest import IngestResult
from pipeline.load.loader import skipped_text
from pipeline.pool import mapped
from pipeline.registers import REGISTERS
from pipeline.render.validation import annotated_name, write_annotated_copy, write_validation_workbook
from pipeline.store import COUNTED, Store
from pipeline.validate import run_rules, sort_findings
from pipeline.validate.local import local_findings
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
) -> tuple[list[Finding], dict[str, list[dict]]]:
    """Run every enabled rule over the current records; rows with a rule error are set aside.

    Returns the findings and the records that passed (what the KPIs count), so that a run reads
    its store once."""
    records = {key: store.current_records(key) for key in REGISTERS}
    columns = store.sheet_columns()
    findings = run_rules(records, as_of, config, columns, local=False)
    findings += local_findings(store, records, as_of, config, columns)  # kept from earlier runs
    sort_findings(findings)
    store.apply_rule_findings(findings)
    rejected = {f.ref for f in findings if f.severity == "error" and f.ref}
    if rejected:
        records = {key: [r for r in recs if r["_id"] not in rejected] for key, recs in records.items()}
    return findings, records


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
        for fid, name, register, sheets, sha in store.db.execute(
            f"SELECT id, name, register, sheets, sha256 FROM files WHERE id IN ({marks})"
            + (rejected if start == 0 else "")
            + " ORDER BY id",
            chunk,
        ):
            subs = [s.get("submitter") for s in json.loads(sheets or "[]") if s.get("submitter")]
            out.append(
                {
                    "name": name,
                    "register": REGISTERS[register].title if register else "",
                    "submitter": subs[0] if subs else None,
                    **counts.get(fid, dict.fromkeys(COUNTED, 0)),  # a rejected file: nothing read
                    "sha256": sha,
                }
            )
    return out


@dataclass
class ClerkOutputs:
    """What the clerks get from a run, planned from the store: validation.xlsx and the annotated
    copies. Writing them needs no store, so a run does it once the records are freed, while the
    Excel report's worker finishes."""

    report_dir: Path
    findings: list[Finding]
    files: list[dict]
    jobs: list[tuple]  # write_annotated_copy arguments, one per file with findings
    skipped: int = 0  # new files with findings beyond the annotate limit (all in validation.xlsx)
    stale: list[Path] = field(default_factory=list)  # annotated copies of files fixed or superseded since


def plan_clerk_outputs(
    store: Store,
    ingest: IngestResult,
    report_dir: Path,
    inbox: Path,
    run_id: int | None = None,
    annotate_limit: int = 500,
    property_name: str | None = None,
    files: list[dict] | None = None,
) -> ClerkOutputs:
    """validation.xlsx for every current finding (of one property's files, for a property's report);
    an annotated copy for each new file that has findings, among them files stored by an earlier run
    that never finished (ingest.recovered_outcomes: killed before it wrote their copies). Also brings the run's per-file
    outcomes up to date with the rules' findings. files: file_infos(store, property_name), when
    the caller has them."""
    theirs = tuple(o.file_id for o in ingest.outcomes if o.file_id)  # a killed run's files among them
    all_findings = [
        finding_from_row(r) for r in store.findings(property_name=property_name, also_files=theirs)
    ]
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for f in all_findings:
        by_file[f.file].append(f)
    counts = store.file_counts(file_ids=[o.file_id for o in ingest.outcomes])
    todo = []
    for o in ingest.outcomes:
        mine = by_file.get(o.name, [])
        if o.file_id in counts:  # the figures after the rules: the same as in every other output
            c = counts[o.file_id]
            o.rows_read, o.rows_loaded, o.rows_set_aside = (
                c["rows_read"],
                c["rows_loaded"],
                c["rows_set_aside"],
            )
        o.findings_by_severity = dict(Counter(f.severity for f in mine))
        rule_errors = Counter(f.title for f in mine if f.severity == "error" and f.code in RULE_CODES)
        for title, n in rule_errors.items():
            o.reasons[title] = o.reasons.get(title, 0) + n
        if not o.error:
            todo.append((o.name, o.archived))
    jobs = [
        (Path(archived) if archived else inbox / name, name, by_file[name], report_dir / "annotated")
        for name, archived in dict(todo).items()
        if by_file.get(name)
    ]
    files = file_infos(store, property_name) if files is None else files
    shown = all_findings
    if property_name:
        names = {info["name"] for info in files}
        shown = [f for f in all_findings if f.file in names]
    wanted = {annotated_name(name) for name in by_file}
    folder = report_dir / "annotated"
    stale = [p for p in folder.glob("*.xlsx") if p.name not in wanted] if folder.is_dir() else []
    plan = ClerkOutputs(report_dir, shown, files, jobs, stale=stale)
    if len(jobs) > annotate_limit:  # a bulk first load: findings are all in validation.xlsx
        plan.jobs, plan.skipped = [], len(jobs)
    return plan


def write_clerk_outputs(plan: ClerkOutputs) -> dict[str, Path | list[Path]]:
    for path in plan.stale:  # a clerk is never sent back a problem that is fixed
        path.unlink(missing_ok=True)
    outputs: dict = {
        "validation": write_validation_workbook(
            plan.report_dir / "validation.xlsx", plan.findings, plan.files
        ),
        "annotated": annotate_all(plan.jobs),
    }
    if plan.skipped:
        outputs["annotated_skipped"] = plan.skipped
    return outputs


def _annotate(job: tuple) -> Path:
    return write_annotated_copy(*job)


def annotate_all(jobs: list[tuple], workers: int | None = None) -> list[Path]:
    """Annotated copies, on every core when there are many (openpyxl takes ~70 ms a workbook)."""
    return list(mapped(_annotate, jobs, workers, serial_below=8, chunksize=8))


# Cross-register rules judge one register by another; checking a file alone, without that other
# register in the store, they would only report its absence.
NEEDS = {
    "callback-missing": {"callbacks"},
    "callback-ref-unknown": {"complaints", "repairs"},
    "callback-before-closing": {"complaints", "repairs"},
    "feedback-complaint-unknown": {"complaints"},
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


def validate_files(
    paths: list[Path], config: Config, as_of: datetime, store: Store | None, out_dir: Path
) -> list[dict]:
    """Check files without storing them: their rows, in the context of the store's other records.

    Returns, per file: {"loaded": LoadedFile, "findings": [...], "annotated": Path | None}.
    """
    from pipeline.load.loader import load_file

    loaded = [load_file(p, config, as_of) for p in paths]
    scopes = {(r.register, r.property_name, r.month) for lf in loaded for r in lf.records}
    records: dict[str, list[dict]] = {key: [] for key in REGISTERS}
    if store is not None:
        for key in REGISTERS:
            records[key] = [
                r
                for r in store.records(key, for_rules=True)
                if (key, r["_property"], r["_month"]) not in scopes
            ]
    columns = dict(store.sheet_columns()) if store is not None else {}
    for lf in loaded:
        for s in lf.sheets:
            columns[(lf.name, s.name)] = s.columns
        for r in lf.records:
            if not r.set_aside:
                r.file = lf.name
                records[r.register].append(_as_dict(r))
    names = {lf.name for lf in loaded}
    present = {key for key, recs in records.items() if recs}
    rule_findings = [
        f
        for f in run_rules(records, as_of, config, columns)
        if f.file in names and (f.code not in NEEDS or NEEDS[f.code] & present)
    ]
    out = []
    for lf in loaded:
        mine = ([lf.error] if lf.error else lf.all_findings()) + [
            f for f in rule_findings if f.file == lf.name
        ]
        annotated = write_annotated_copy(lf.path, lf.name, mine, out_dir) if mine and not lf.error else None
        out.append({"loaded": lf, "findings": mine, "annotated": annotated, "counts": _counts(lf, mine)})
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
        if item["annotated"]:
            lines.append(f"  批注副本：{item['annotated']}")
    return lines, errors

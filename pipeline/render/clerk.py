"""What the clerks get back from a run or a check: validation.xlsx (every current finding) and an
annotated copy of each new file that has findings, stale copies removed."""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pipeline.config import Config
from pipeline.findings import Finding
from pipeline.infra.pool import mapped
from pipeline.render.validation import annotated_name, write_annotated_copy, write_validation_workbook
from pipeline.store import Store
from pipeline.store.ingest import IngestResult
from pipeline.validate.rules import RULE_CODES
from pipeline.validate.stage import check_files, file_infos, finding_from_row


@dataclass
class ClerkOutputs:
    """What the clerks get from a run, planned from the store: validation.xlsx and the annotated
    copies. validation.xlsx lists the findings of `store` (a Store.target) in the scope of
    `property_name` and `also_files`, read where it is written: in a worker when they are many, while
    the run computes its KPIs and renders (run._compute), so the run's own process never holds them."""

    report_dir: Path
    store: str | Path  # Store.target: where the worker reads the findings
    property_name: str | None
    also_files: tuple[int, ...]  # the run's files, listed even when they are not current
    files: list[dict]
    jobs: list[tuple]  # write_annotated_copy arguments, one per file with findings
    findings: int = 0  # how many findings validation.xlsx lists
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
    the caller has them. Reads only the run's own files' findings, and how many each file has."""
    theirs = tuple(o.file_id for o in ingest.outcomes if o.file_id)  # a killed run's files among them
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for r in store.findings(property_name=property_name, also_files=theirs, file_ids=theirs):
        by_file[r["file"]].append(finding_from_row(r))
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
    per_file = store.finding_counts(property_name, theirs)
    wanted = {annotated_name(name) for name in per_file}
    listed = _listed(property_name, files)
    listed_count = sum(n for name, n in per_file.items() if listed is None or name in listed)
    folder = report_dir / "annotated"
    stale = [p for p in folder.glob("*.xlsx") if p.name not in wanted] if folder.is_dir() else []
    plan = ClerkOutputs(
        report_dir, store.target, property_name, theirs, files, jobs, listed_count, stale=stale
    )
    if len(jobs) > annotate_limit:  # a bulk first load: findings are all in validation.xlsx
        plan.jobs, plan.skipped = [], len(jobs)
    return plan


def _listed(property_name: str | None, files: list[dict]) -> set[str] | None:
    """The files whose findings validation.xlsx lists: a property's report, only the property's
    (None: every file the findings name)."""
    return {info["name"] for info in files} if property_name else None


def validation_findings(store: Store, plan: ClerkOutputs) -> list[Finding]:
    """The findings validation.xlsx lists."""
    listed = _listed(plan.property_name, plan.files)
    rows = store.findings(property_name=plan.property_name, also_files=plan.also_files)
    return [finding_from_row(r) for r in rows if listed is None or r["file"] in listed]


def staged_validation(plan: ClerkOutputs) -> Path:
    """Where a worker writes validation.xlsx while the run renders its reports; write_validation puts
    it in place once they are written (a run that fails leaves the folder's previous one). A hidden
    .part name: a run killed meanwhile leaves a temp file that the next run removes."""
    return plan.report_dir / ".validation.xlsx.staged.part"


def stage_validation(plan: ClerkOutputs) -> Path:
    """In a worker: validation.xlsx from the findings it reads from the run's store."""
    with Store.reader(plan.store) as store:
        findings = validation_findings(store, plan)
    return write_validation_workbook(staged_validation(plan), findings, plan.files)


def write_validation(plan: ClerkOutputs, store: Store, staged: bool = False) -> dict[str, Path]:
    """validation.xlsx (staged: the one stage_validation wrote), stale annotated copies removed (a
    clerk is never sent back a problem that is fixed)."""
    for path in plan.stale:
        path.unlink(missing_ok=True)
    path = plan.report_dir / "validation.xlsx"
    if staged:
        os.replace(staged_validation(plan), path)
    else:
        write_validation_workbook(path, validation_findings(store, plan), plan.files)
    return {"validation": path}


def write_annotated(plan: ClerkOutputs) -> dict[str, list[Path] | int]:
    """The annotated copies of the new files with findings (and how many the limit left out)."""
    outputs: dict = {"annotated": annotate_all(plan.jobs)}
    if plan.skipped:
        outputs["annotated_skipped"] = plan.skipped
    return outputs


def _annotate(job: tuple) -> Path:
    return write_annotated_copy(*job)


def annotate_all(jobs: list[tuple], workers: int | None = None) -> list[Path]:
    """Annotated copies, on every core when there are many (openpyxl takes ~70 ms a workbook)."""
    return list(mapped(_annotate, jobs, workers, serial_below=8, chunksize=8))


def validate_files(
    paths: list[Path], config: Config, as_of: datetime, store: Store | None, out_dir: Path
) -> list[dict]:
    """`pipeline validate` / `watch`: check_files, then an annotated copy of each file with findings."""
    results = check_files(paths, config, as_of, store)
    for item in results:
        lf, mine = item["loaded"], item["findings"]
        item["annotated"] = (
            write_annotated_copy(lf.path, lf.name, mine, out_dir) if mine and not lf.error else None
        )
    return results

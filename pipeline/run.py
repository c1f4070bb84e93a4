"""`pipeline run`: wires the stages. Load → store → (validate → KPIs → reports, in later stages)."""

from __future__ import annotations

import json
import logging
import os
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from dataclasses import replace as dc_replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from pipeline import __version__, periods
from pipeline.completeness import missing_registers, missing_text
from pipeline.config import Config
from pipeline.domain import attribute, inline_callbacks
from pipeline.errors import ConfigError
from pipeline.infra.atomic import atomic_path
from pipeline.infra.lock import exclusive
from pipeline.infra.pool import rss_mb, spawned, timed
from pipeline.infra.runlog import run_log
from pipeline.kpi.model import compute_kpis
from pipeline.load.loader import file_hash, skipped_text
from pipeline.periods import Period
from pipeline.registers import REGISTERS
from pipeline.render import reuse
from pipeline.render.clerk import (
    plan_clerk_outputs,
    stage_validation,
    staged_validation,
    write_annotated,
    write_validation,
)
from pipeline.render.pdf import preload
from pipeline.render.reports import render_reports
from pipeline.store import COUNTED, Store, store_lock, totals
from pipeline.store.ingest import IngestResult, ingest
from pipeline.validate.stage import file_infos, validate_store

log = logging.getLogger("pipeline.run")

BACKGROUND_FINDINGS = 5000  # validation.xlsx written by a worker from this many findings on
OK, SET_ASIDE, FAILED = 0, 1, 2  # exit codes: all loaded / something set aside or rejected / run failed


@dataclass
class RunOptions:
    inbox: Path | None = None
    reports: Path | None = None
    store: Path | str | None = None  # a SQLite file or a PostgreSQL URL
    archive: Path | None = None
    week: str | None = None
    month: str | None = None
    as_of: str | None = None
    workers: int | None = None
    render: bool = True
    unmasked: bool = False
    wait: float = 0.0  # seconds to wait for another run's lock before giving up
    property: str | None = None  # a report for one property only
    reuse: bool = True  # reuse the folder's outputs when nothing they depend on has changed (--force: no)


@dataclass
class RunResult:
    period: Period
    as_of: datetime
    ingest: IngestResult
    counts: dict[str, int]
    report_dir: Path
    findings: list = field(default_factory=list)  # this run's rule findings (none if they were current)
    outputs: dict = field(default_factory=dict)
    model: dict = field(default_factory=dict)  # the KPI model written to kpis.json
    reused_from: int | None = None  # the run whose outputs this run reused (nothing had changed)
    rejected_files: int = 0  # current files that could not be read (the store's, not only this run's)

    @property
    def missing(self) -> list[dict]:
        """Registers not handed in (completeness), as the KPI model says."""
        return (self.model.get("data_quality") or {}).get("missing_register_months") or []

    @property
    def exit_code(self) -> int:
        """From the store's state, not from what this process happened to load (a re-run after a
        kill says what the uninterrupted run said): 1 while rows are set aside, a current file is
        unreadable, a register is missing or older, or a property lacks its households; else 0."""
        c = self.counts
        bad = (
            c.get("rows_set_aside")
            or self.rejected_files
            or self.ingest.rejected
            or self.model.get("errors")
            or self.missing
            or self.ingest.older
            or not c.get("rows_read")
        )
        return SET_ASIDE if bad else OK


def data_quality(store: Store, property_name: str | None = None, files: list[dict] | None = None) -> dict:
    """Rows read, loaded and set aside, and the files (file_infos, when the caller has them): the
    totals are those of the files' counts (Store.file_counts, read once)."""
    files = file_infos(store, property_name) if files is None else files
    return {**totals(files), "files": files}


def kpi_inputs(
    store: Store,
    config: Config,
    property_name: str | None,
    records: dict[str, pd.DataFrame] | None = None,
    files: list[dict] | None = None,
) -> tuple[dict, Config, dict, list[dict]]:
    """The frames, config, data quality and set-aside rows the KPIs see: everything, or one property's.

    records: the frames that passed validation, when it ran (else read here: the current records
    less those a rule set aside, feedback attributed as the rules did, run_rules).
    files: file_infos(store, property_name), when the caller has them (a group's: 18,000 files, 1–2 s).
    A property's records are the group's of that property: the same attribution, the same rows.
    """
    if records is None:
        loaded = store.current_frames()
        attribute(loaded)
        inline_callbacks(loaded)  # before the rows a rule set aside go: a case's callback goes with it
        records = {key: f[~f["_rule_error"]].drop(columns="_rule_error") for key, f in loaded.items()}
    if not property_name:
        return records, config, data_quality(store, files=files), store.set_aside_rows()
    check_property(config, property_name)
    raw = {key: f[f["_property"] == property_name] for key, f in records.items()}
    scoped = dc_replace(config, properties={property_name: config.properties[property_name]})
    set_aside = store.set_aside_rows(property_name)
    return raw, scoped, data_quality(store, property_name, files), set_aside


def property_folder(name: str | None) -> str:
    """A property's report folder inside the period's: its name with no way out of it ('../x', 'a/b')."""
    if not name:
        return ""
    safe = "".join("_" if c in '/\\:*?"<>|' or ord(c) < 32 else c for c in name).strip(". ")
    return safe or "_"


def check_property(config: Config, property_name: str | None) -> None:
    """--property names a property of config.toml (else a ConfigError naming the known ones)."""
    if property_name and property_name not in config.properties:
        known = "、".join(config.properties) or "（无）"
        raise ConfigError(f"--property “{property_name}” 不在 config.toml 的 [properties] 中，可用：{known}")


def check_config(config: Config) -> Config:
    """Every section of config.toml checked at start, not when a late stage (or the monthly email,
    a month later) first reads it: a bad value is a ConfigError naming it (exit 2)."""
    from pipeline.deliver.mail import mail_settings
    from pipeline.deliver.notify import notify_settings
    from pipeline.deliver.robots import push_settings
    from pipeline.deliver.schedule import jobs
    from pipeline.kpi.scorecard import settings
    from pipeline.validate import rule_settings

    rule_settings(config)
    settings(config)
    if "schedule" in config.raw:
        jobs(config)
    push_settings(config)
    notify_settings(config)
    if "smtp" in config.raw or "email" in config.raw:
        try:
            mail_settings(config)
        except (TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(
                f"配置文件 [smtp] / [email] 中有值的类型不对（{exc}）：端口、重试次数应是数字"
            ) from exc
    return config


def write_json(path: Path, data: dict) -> Path:
    """data as JSON, one line per top-level key. (Indenting every level would take json's pure-Python
    encoder: 1.2 s for a group's 30 MB kpis.json, against 0.4 s for its C encoder.)"""
    lines = [f"{_json(key)}: {_json(value)}" for key, value in data.items()]
    with atomic_path(path) as tmp:
        tmp.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")
        os.chmod(tmp, 0o600)  # the lists carry customers' contact details
    return path


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def resolve_period(config: Config, week: str | None, month: str | None, as_of: datetime) -> Period:
    """--week last | current | 2026-W43 | 2026-10-30 (a date: the meeting window it falls in),
    --month last | current | 2026-10 | 2026年10月; neither: the meeting window containing as-of."""
    if week and month:
        raise ConfigError("--week 和 --month 只能选一个")
    month, week = (month or "").strip().lower(), (week or "").strip().lower()
    if month in ("last", "上月", "上个月"):
        return periods.previous(periods.month_of(as_of), config)
    if month in ("current", "this", "本月"):
        return periods.month_of(as_of)
    if month:
        return periods.month(month)
    if week in ("last", "上周"):
        return periods.previous(periods.week_of(as_of, config), config)
    if week and week not in ("current", "this", "本周"):
        return periods.week(week, config)
    return periods.week_of(as_of, config)


def run(config: Config, options: RunOptions, progress=None) -> RunResult:
    """Load everything new from the inbox, validate the store, and write the period's outputs.

    Holds an exclusive lock on the store and on the reports folder; writes a log file and a
    manifest (inputs with hashes, rows, findings, outputs, timings) into the period's folder.
    """
    check_config(config)
    as_of = periods.parse_as_of(options.as_of, config)
    period = resolve_period(config, options.week, options.month, as_of)
    check_property(config, options.property)  # before a long load and validation, not after them
    inbox = options.inbox or config.inbox
    if not inbox.is_dir():  # a mistyped path is not an empty week
        what = "不是文件夹" if inbox.exists() else "不存在"
        raise ConfigError(f"收件箱 {inbox} {what}：请检查 --inbox 或 config.toml 的 [paths] inbox")
    reports = options.reports or config.reports
    report_dir = reports / period.folder / property_folder(options.property)
    store_path = options.store or config.store
    with (
        store_lock(store_path, options.wait),
        exclusive(reports / ".pipeline.infra.lock", options.wait),
        run_log(reports / "logs") as log_path,
    ):
        return _run_locked(config, options, progress, as_of, period, inbox, report_dir, store_path, log_path)


class _Laps:
    """Stage timings: lap("load") records the seconds since the previous lap, and the run's
    resident memory at the end of the stage."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self.memory: dict[str, int] = {}
        self.clock = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(now - self.clock, 3)
        self.memory[name] = round(rss_mb())
        self.clock = now


def _run_locked(
    config, options, progress, as_of, period, inbox, report_dir, store_path, log_path
) -> RunResult:
    lap = _Laps()
    timings = lap.timings
    started = datetime.now(ZoneInfo(config.timezone))  # the meeting's time zone, with its offset
    log.info("run %s as of %s, inbox %s", period.label, as_of, inbox)
    for stale in report_dir.rglob(".*.part") if report_dir.exists() else ():
        stale.unlink(missing_ok=True)  # temp files of a killed run; we hold the folder's lock
    with Store(store_path) as store:
        # checked in a thread; ingest waits for it before it stores a file, validation before it
        # writes the rules' findings (it reads the records and runs the rules meanwhile). A run that
        # reuses its outputs reads only a few small tables and does not wait: a year's store not in
        # memory takes 12 s to check (800 MB at 300 properties).
        store.start_check()
        run_id = store.start_run({"inbox": str(inbox), "period": period.label, "as_of": as_of.isoformat()})
        try:
            result = ingest(
                config,
                store,
                inbox,
                options.archive or config.archive,
                as_of,
                run_id,
                options.workers,
                progress,
                force=not options.reuse,
            )
            lap("load")
            rules = reuse.rules_key(config, as_of, store.generation())
            key = reuse.outputs_key(rules, period.label, _output_options(options, report_dir))
            previous = (
                reuse.reusable(report_dir, key)
                if options.reuse and not result.outcomes and store.meta(reuse.RULES_STATE) == rules
                else None
            )
            if previous:
                log.info("nothing changed since run %s: its outputs are reused", previous.get("run_id"))
                findings, outputs = [], reuse.outputs_of(previous)
                model = json.loads(outputs["kpis"].read_text(encoding="utf-8"))
                reused_from = previous.get("reused_from") or previous.get("run_id")
            else:
                reused_from = None
                findings, outputs, model = _compute(
                    config, options, store, result, report_dir, inbox, run_id, as_of, period, lap, rules
                )
        except BaseException:
            log.exception("run failed")
            store.finish_run(run_id, "failed", {"log": str(log_path)})
            raise
        quality = model.get("data_quality") or {}
        if options.property or any(key not in quality for key in COUNTED):
            counts = store.counts()  # the group's, also for one property's report
        else:  # the group's report: the same totals of the same Store.file_counts, not read again
            counts = {key: quality[key] for key in COUNTED}
        # unreadable files still in the inbox (one taken out of it no longer keeps the exit code at 1)
        rejected_files = len(store.rejected_names() & result.names)
        summary = {
            "files": len(result.outcomes),
            "unchanged": result.unchanged,
            **counts,
            "log": str(log_path),
        }
        store.finish_run(run_id, "ok", summary)
    run_result = RunResult(
        period, as_of, result, counts, report_dir, findings, outputs, model, reused_from, rejected_files
    )
    digests = previous["outputs"] if previous else None
    facts = manifest(run_result, run_id, started, timings, log_path, digests)
    facts.update(reuse_key=key, reused_from=reused_from, outputs_by_kind=reuse.by_kind(outputs))
    facts["memory_mb"] = lap.memory  # the run's resident memory after each stage
    outputs["manifest"] = write_json(report_dir / "manifest.json", facts)
    log.info("run %s done: %s", period.label, summary)
    return run_result


def _output_options(options: RunOptions, report_dir: Path) -> dict:
    return {
        "property": options.property,
        "unmasked": options.unmasked,
        "render": options.render,
        "folder": str(report_dir.resolve()),
    }


def _compute(config, options, store, result, report_dir, inbox, run_id, as_of, period, lap, rules):
    """Validate the store (unless its rule findings are already those of this data, config and
    as-of time: `rules`, e.g. after another period's run), compute the KPIs and render the reports.
    The records are typed frames throughout (pipeline/frames.py): validation hands the KPIs those
    that passed, so a run reads its store once."""
    findings, records = [], None
    if options.render:
        preload()  # WeasyPrint, imported while the rules and the KPIs run (the loading workers are done)
    if store.meta(reuse.RULES_STATE) != rules:
        # reads the records and runs the rules while the store's check reads every page (12 s for a
        # year of 300 properties not in memory), and waits for it before its first write
        findings, records = validate_store(store, config, as_of)
        store.set_meta(reuse.RULES_STATE, rules)
    store.check()  # a run that computes relies on every record: the store's check has passed first
    lap("validate")
    files = file_infos(store, options.property)
    outputs_section = config.raw.get("outputs") or {}
    limit = outputs_section.get("annotate_max_files", 500)  # an int: parse_config checked it
    plan = plan_clerk_outputs(store, result, report_dir, inbox, run_id, limit, options.property, files)
    lap("annotate")
    # the clerks' validation.xlsx needs the findings, not the KPIs: when they are many, a worker reads
    # them from the store and writes it while this process computes the KPIs and renders the PDF (at
    # 300 properties 63,000 findings: 0.9 s to read, 1.4 s to write); when they are few, it is
    # written here at the end (a worker would take longer to start)
    background = options.render and plan.findings >= BACKGROUND_FINDINGS
    try:
        with spawned(stage_validation, plan) if background else nullcontext() as clerk_job:
            model = _kpis(config, options, store, period, as_of, records, files)
            del records
            lap("kpi")
            store.ping()  # a database gone while the KPIs ran stops the run here, not after rendering
            outputs, rendered = _render(config, options, report_dir, model, plan, lap)
            _, seconds = clerk_job.result() if clerk_job else (None, 0.0)
        validation, more = timed(write_validation, plan, store, staged=clerk_job is not None)
    finally:
        staged_validation(plan).unlink(missing_ok=True)  # a failed run's
    lap.timings["clerk_files"] = round(lap.timings.get("clerk_files", 0) + seconds + more, 3)
    outputs.update(rendered, **validation)
    if options.render:
        lap("render")
    store.mark_recovered(run_id)  # only now are the copies of an unfinished run's files written
    return findings, outputs, model


def _kpis(config, options, store, period, as_of, records, files) -> dict:
    """The KPI model of the records that passed validation (read from the store when it did not run)."""
    raw, kpi_config, quality, set_aside = kpi_inputs(store, config, options.property, records, files)
    handed_in = store.handed_in()
    missing = missing_registers(handed_in, config, period, as_of, options.property)
    quality["missing_registers"] = [{"property": m["property"], "register": m["register"]} for m in missing]
    quality["missing_register_months"] = missing
    model = compute_kpis(raw, period, as_of, kpi_config, quality, set_aside, handed_in=handed_in)
    model["scope"] = options.property or "全部项目"
    return model


def _render(config, options, report_dir, model, plan, lap) -> tuple[dict, dict]:
    """kpis.json, the annotated copies and the reports: the PDF here; report.xlsx, then kpis.json
    (30 MB at 300 properties: 1.5 s of encoding), in the report's worker."""
    outputs: dict = {"kpis": report_dir / "kpis.json"}

    def meanwhile() -> None:  # before the PDF, while the worker writes the workbook
        annotated, seconds = timed(write_annotated, plan)
        outputs.update(annotated)
        lap.timings["clerk_files"] = seconds

    def alongside() -> dict:  # in the worker, after report.xlsx
        write_json(outputs["kpis"], model)
        return {}

    if not options.render:
        meanwhile()
        return outputs, alongside()
    parts: dict[str, float] = {}
    rendered = render_reports(
        model, report_dir, config, options.unmasked, timings=parts, meanwhile=meanwhile, alongside=alongside
    )
    lap.timings.update(parts)
    return outputs, rendered


def manifest(
    result: RunResult,
    run_id: int,
    started: datetime,
    timings: dict,
    log_path: Path,
    digests: dict[str, str] | None = None,
) -> dict:
    """What a run read and wrote, for audits and for comparing runs. `digests`: outputs' SHA-256
    already known (a reused run's, checked just before), so they are not read again."""
    digests = digests or {}
    outputs = {}
    for value in result.outputs.values():
        for path in value if isinstance(value, list) else [value]:
            if isinstance(path, Path) and path.exists():
                outputs[str(path)] = digests.get(str(path)) or file_hash(path)
    return {
        "run_id": run_id,
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(started.tzinfo).isoformat(timespec="seconds"),
        "period": result.period.label,
        "kind": result.period.kind,
        "as_of": result.as_of.isoformat(timespec="minutes"),
        "inputs": [
            {
                "name": o.name,
                "sha256": o.sha256,
                "register": o.register,
                "rows_read": o.rows_read,
                "rows_loaded": o.rows_loaded,
                "rows_set_aside": o.rows_set_aside,
                "rows_skipped": o.rows_skipped,
                "skipped": o.skipped,
                "findings": o.findings_by_severity,
                "error": o.error.message if o.error else None,
                "older_than": o.older,
            }
            for o in result.ingest.outcomes
        ],
        "unchanged_inputs": result.ingest.unchanged,
        "ignored_inputs": [{"name": n, "why": w} for n, w in result.ingest.ignored],
        "counts": result.counts,
        "outputs": outputs,
        "timings_seconds": timings,
        "log": str(log_path),
        "version": __version__,
    }


def older_text(name: str, older: dict) -> str:
    """'旧版本：…' — an older version of a stored register, with both dates."""
    title = REGISTERS[older["register"]].title
    mine = (
        f"保存于 {older['saved'].replace('T', ' ')}"
        if older.get("saved")
        else "未记录保存时间，且所含记录都已在已入库版本中"
    )
    return (
        f"旧版本：{name}（{mine}）比已入库的 {older['stored']}（保存于 {str(older['stored_saved']).replace('T', ' ')}）旧，"
        f"同为 {older['property'] or '未确定项目'} {older['month'] or ''} 的{title}，未替换；"
        "确认要用这个文件时，加 --force 重新运行"
    )


def summary_lines(result: RunResult) -> list[str]:
    """The per-file summary printed by `pipeline run`, in Chinese."""
    lines = []
    for o in result.ingest.outcomes:
        if o.error:
            lines.append(f"✘ {o.error.message}")
            continue
        if o.older:
            lines.append(f"✘ {older_text(o.name, o.older)}")
            continue
        title = REGISTERS[o.register].title if o.register else "未识别"
        props = "、".join(o.properties) or "未确定项目"
        line = f"{'✔' if not o.rows_set_aside else '!'} {o.name}：{title}（{props}）读取 {o.rows_read} 行，入库 {o.rows_loaded} 行"
        if o.rows_set_aside:
            why = "，".join(f"{k} {v}" for k, v in sorted(o.reasons.items(), key=lambda kv: -kv[1]))
            line += f"，暂存 {o.rows_set_aside} 行（{why}）"
        if o.rows_skipped:
            line += f"，跳过非数据行 {o.rows_skipped} 行（{skipped_text(o.skipped)}）"
        sev = o.findings_by_severity
        if sev:
            line += (
                f"；问题：错误 {sev.get('error', 0)}，警告 {sev.get('warning', 0)}，提示 {sev.get('info', 0)}"
            )
        if o.superseded:
            line += f"；替换旧版本 {o.superseded} 行"
        lines.append(line)
    for name, why in result.ingest.ignored:
        lines.append(f"- 已忽略 {name}：{why}")
    if result.ingest.unchanged:
        lines.append(f"- {result.ingest.unchanged} 个文件此前已处理且内容未变，已跳过")
    i = result.ingest
    lines.append(
        f"本次：新文件 {len(i.outcomes)} 个（无法读取 {i.rejected} 个），读取 {i.rows_read} 行 = 入库 {i.rows_read - i.rows_set_aside} 行"
        f" + 暂存 {i.rows_set_aside} 行；跳过非数据行 {i.rows_skipped} 行"
    )
    if result.outputs.get("annotated"):
        lines.append(
            f"已为 {len(result.outputs['annotated'])} 个有问题的文件生成批注副本：{result.report_dir / 'annotated'}"
        )
    if result.outputs.get("annotated_skipped"):
        lines.append(
            f"本次有问题的新文件较多（{result.outputs['annotated_skipped']} 个，超过 [outputs] annotate_max_files），"
            "未逐个生成批注副本：问题都在问题清单中，需要时用 pipeline validate 文件 生成批注副本"
        )
    if result.reused_from:
        lines.append(
            f"数据、配置与截止时间都与上次运行（编号 {result.reused_from}）相同：沿用其报告，未重新计算"
            "（需要重新生成时加 --force）"
        )
    if result.outputs.get("validation"):
        lines.append(f"问题清单：{result.outputs['validation']}")
    for key, label in (("pdf", "PDF 报告"), ("xlsx", "Excel 报告")):
        if result.outputs.get(key):
            lines.append(f"{label}：{result.outputs[key]}")
    for error in result.model.get("errors", []):
        lines.append(f"✘ {error}")
    for item in result.missing:
        lines.append(f"✘ {missing_text(item)}")
    if not result.counts.get("rows_read"):
        lines.append(
            "✘ 数据库中还没有任何登记数据，收件箱中也没有可读取的登记表：请把各项目的登记表放入收件箱后再运行"
        )
    c = result.counts
    lines.append(
        f"数据库现有：{c['rows_read']} 行 = 入库 {c['rows_loaded']} 行 + 暂存 {c['rows_set_aside']} 行"
        f"（另跳过非数据行 {c.get('rows_skipped', 0)} 行）"
    )
    return lines

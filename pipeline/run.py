"""`pipeline run`: wires the stages. Load → store → (validate → KPIs → reports, in later stages)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pipeline import periods
from pipeline.config import Config
from pipeline.errors import ConfigError
from pipeline.ingest import IngestResult, ingest
from pipeline.kpi_model import compute_kpis
from pipeline.periods import Period
from pipeline.registers import REGISTERS
from pipeline.render.atomic import atomic_path
from pipeline.render.reports import render_reports
from pipeline.store import Store
from pipeline.validate.stage import file_infos, validate_store, write_clerk_outputs

OK, SET_ASIDE, FAILED = 0, 1, 2  # exit codes: all loaded / something set aside or rejected / run failed


@dataclass
class RunOptions:
    inbox: Path | None = None
    reports: Path | None = None
    store: Path | None = None
    archive: Path | None = None
    week: str | None = None
    month: str | None = None
    as_of: str | None = None
    workers: int | None = None
    render: bool = True
    unmasked: bool = False


@dataclass
class RunResult:
    period: Period
    as_of: datetime
    ingest: IngestResult
    counts: dict[str, int]
    report_dir: Path
    findings: list = field(default_factory=list)  # rule findings over the whole store
    outputs: dict = field(default_factory=dict)
    model: dict = field(default_factory=dict)  # the KPI model written to kpis.json

    @property
    def exit_code(self) -> int:
        new_set_aside = sum(o.rows_set_aside for o in self.ingest.outcomes)
        return SET_ASIDE if (new_set_aside or self.ingest.rejected or self.model.get("errors")) else OK


def data_quality(store: Store) -> dict:
    return {**store.counts(), "files": file_infos(store)}


def write_json(path: Path, data: dict) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        os.chmod(tmp, 0o600)  # the lists carry customers' contact details
    return path


def resolve_period(config: Config, week: str | None, month: str | None, as_of: datetime) -> Period:
    if week and month:
        raise ConfigError("--week 和 --month 只能选一个")
    if month:
        return periods.month(month)
    if week:
        return periods.week(week, config)
    return periods.week_of(as_of, config)


def run(config: Config, options: RunOptions, progress=None) -> RunResult:
    """Load everything new from the inbox, validate the store, and write the period's outputs."""
    as_of = periods.parse_as_of(options.as_of, config)
    period = resolve_period(config, options.week, options.month, as_of)
    inbox = options.inbox or config.inbox
    report_dir = (options.reports or config.reports) / period.folder
    archive = options.archive or config.archive
    with Store(options.store or config.store) as store:
        run_id = store.start_run({"inbox": str(inbox), "period": period.label, "as_of": as_of.isoformat()})
        try:
            result = ingest(config, store, inbox, archive, as_of, run_id, options.workers, progress)
            findings = validate_store(store, config, as_of)
            outputs = write_clerk_outputs(store, result, report_dir, inbox)
            model = compute_kpis(
                {key: store.records(key) for key in REGISTERS},
                period,
                as_of,
                config,
                data_quality(store),
                store.set_aside_rows(),
            )
            outputs["kpis"] = write_json(report_dir / "kpis.json", model)
            if options.render:
                outputs.update(render_reports(model, report_dir, config, options.unmasked))
        except BaseException:
            store.finish_run(run_id, "failed", {})
            raise
        counts = store.counts()
        store.finish_run(
            run_id, "ok", {"files": len(result.outcomes), "unchanged": result.unchanged, **counts}
        )
    return RunResult(period, as_of, result, counts, report_dir, findings, outputs, model)


def summary_lines(result: RunResult) -> list[str]:
    """The per-file summary printed by `pipeline run`, in Chinese."""
    lines = []
    for o in result.ingest.outcomes:
        if o.error:
            lines.append(f"✘ {o.error.message}")
            continue
        title = REGISTERS[o.register].title if o.register else "未识别"
        props = "、".join(o.properties) or "未确定项目"
        line = f"{'✔' if not o.rows_set_aside else '!'} {o.name}：{title}（{props}）读取 {o.rows_read} 行，入库 {o.rows_loaded} 行"
        if o.rows_set_aside:
            why = "，".join(f"{k} {v}" for k, v in sorted(o.reasons.items(), key=lambda kv: -kv[1]))
            line += f"，暂存 {o.rows_set_aside} 行（{why}）"
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
        f" + 暂存 {i.rows_set_aside} 行"
    )
    if result.outputs.get("annotated"):
        lines.append(
            f"已为 {len(result.outputs['annotated'])} 个有问题的文件生成批注副本：{result.report_dir / 'annotated'}"
        )
    if result.outputs.get("validation"):
        lines.append(f"问题清单：{result.outputs['validation']}")
    for key, label in (("pdf", "PDF 报告"), ("xlsx", "Excel 报告")):
        if result.outputs.get(key):
            lines.append(f"{label}：{result.outputs[key]}")
    for error in result.model.get("errors", []):
        lines.append(f"✘ {error}")
    c = result.counts
    lines.append(
        f"数据库现有：{c['rows_read']} 行 = 入库 {c['rows_loaded']} 行 + 暂存 {c['rows_set_aside']} 行"
    )
    return lines

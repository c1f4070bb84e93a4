"""Render a period's reports from its KPI model: report.pdf and report.xlsx from one report model."""

from __future__ import annotations

from pathlib import Path

from pipeline.config import Config
from pipeline.render.excel import write_excel
from pipeline.render.model import build_report
from pipeline.render.pdf import write_pdf


def render_reports(model: dict, report_dir: Path, config: Config, unmasked: bool = False) -> dict[str, Path]:
    note = f"配置文件：{config.path or '（默认）'}；规则与指标口径版本：pipeline {__import__('pipeline').__version__}"
    report = build_report(
        model, unmasked=unmasked, inputs=model["data_quality"].get("files", []), config_note=note
    )
    return {
        "pdf": write_pdf(report, report_dir / "report.pdf", scope_name=model.get("scope", "全部项目")),
        "xlsx": write_excel(report, report_dir / "report.xlsx"),
    }

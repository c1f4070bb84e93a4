"""`--push`: the period's summary to every configured group robot (企业微信, 钉钉) in Markdown, and
the PDF as a file where the platform allows it. The summary says what the meeting needs first:
the KPIs that missed (with the worst property), who has not handed in, what is overdue, how much
work next week holds. Protocol details are in robots.py."""

from __future__ import annotations

import json
from pathlib import Path, PureWindowsPath

import jinja2

from pipeline.config import Config
from pipeline.deliver.robots import Robot, RobotError, Sender, configured_robots, push_settings
from pipeline.errors import PipelineError
from pipeline.render.model import attention_items, build_report, follow_up_count, missed_kpis
from pipeline.render.reuse import mixed_outputs

TEMPLATES = Path(__file__).parent / "templates"
_env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), keep_trailing_newline=True)


def report_link(link: str, report_dir: Path, reports: Path) -> str:
    """Where a reader opens the PDF: the configured share or address plus the report's own folder."""
    try:
        tail = report_dir.resolve().relative_to(reports.resolve())
    except ValueError:
        tail = None
    if not link:
        return str(report_dir / "report.pdf")
    if tail is None:
        return link
    if link.startswith(("http://", "https://")):
        return link.rstrip("/") + "/" + "/".join(tail.parts) + "/report.pdf"
    return str(PureWindowsPath(link) / PureWindowsPath(*tail.parts) / "report.pdf")  # \\server\share


def summary(model: dict, where: str = "") -> tuple[str, str]:
    """(title, Markdown text) of one period's kpis.json."""
    report = build_report(model)
    text = _env.get_template("push.md.j2").render(
        r=report,
        missed=missed_kpis(model),
        top=attention_items(model, limit=6),
        next_week=follow_up_count(model),
        dq=model["data_quality"],
        where=where,
    )
    return report.title.replace("　", " "), text.strip() + "\n"


def push_report(
    report_dir: Path, config: Config, robots: list[Robot] | None = None, sender: Sender | None = None
) -> list[dict]:
    """Send the folder's summary (and PDF) to every robot; one robot's failure does not stop the
    others. Returns per robot {robot, messages, file, notes}; raises RobotError naming every failure."""
    robots = configured_robots(config) if robots is None else robots
    settings = push_settings(config)
    sender = sender or Sender(settings)
    kpis, pdf = report_dir / "kpis.json", report_dir / "report.pdf"
    if not kpis.exists():
        raise PipelineError(f"{report_dir} 中没有 kpis.json，请先运行 pipeline run 生成该期报告")
    mixed = mixed_outputs(report_dir)
    if mixed:
        raise PipelineError(
            f"{report_dir} 中的 {'、'.join(mixed)} 不是同一次运行生成的（上次运行可能中途被中断），未推送；请先重新运行 pipeline run"
        )
    model = json.loads(kpis.read_text(encoding="utf-8"))
    title, text = summary(model, report_link(settings.link, report_dir, config.reports))
    outcomes, failures = [], []
    for robot in robots:
        try:
            notes = sender.markdown(robot, title, text)
            sent_file = False
            if settings.file and pdf.exists():
                note = sender.file(robot, pdf, f"{title}.pdf")
                sent_file = not note
                notes += [note] if note else []
            outcomes.append({"robot": robot.name, "file": sent_file, "notes": notes})
        except RobotError as exc:
            failures.append(str(exc))
    if failures:
        done = "；".join(f"{o['robot']}已发送" for o in outcomes)
        raise RobotError("；".join(failures) + (f"（{done}）" if done else ""))
    return outcomes


def push_text(
    config: Config, title: str, text: str, robots: list[Robot], sender: Sender | None = None
) -> tuple[list[str], list[str]]:
    """A short notice (a failure, registers missing) to every robot: (robots reached, problems)."""
    sender = sender or Sender(push_settings(config))
    reached, problems = [], []
    for robot in robots:
        try:
            sender.markdown(robot, title, text)
            reached.append(robot.name)
        except RobotError as exc:
            problems.append(str(exc))
    return reached, problems

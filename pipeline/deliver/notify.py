"""A failure tells someone. A scheduled run (`--notify`) that fails, or finds registers missing or
files unreadable, emails and/or pushes the reason in Chinese to the supervisor; every such run is
written to reports/logs/last_failure.json, which `pipeline status` shows.

config.toml:

    [notify]
    email = ["zhuguan@example.com"]   # needs [smtp] and [email] from
    push = true                       # to the group robots (default: whenever a robot is configured)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from zoneinfo import ZoneInfo

from pipeline.config import Config
from pipeline.errors import ConfigError, PipelineError
from pipeline.infra.atomic import atomic_path

FAILED, ATTENTION = "failed", "attention"


@dataclass(frozen=True)
class NotifySettings:
    email: tuple[str, ...] = ()
    push: bool = True


def notify_settings(config: Config) -> NotifySettings:
    raw = config.raw.get("notify") or {}
    where = str(config.path or "config.toml")
    unknown = sorted(set(raw) - {"email", "push"})
    if unknown:
        raise ConfigError(f"配置文件 {where}：[notify] 不认识的设置 {'、'.join(unknown)}，可用：email、push")
    email = raw.get("email", [])
    email = [email] if isinstance(email, str) else email
    if not isinstance(email, list) or not all(isinstance(a, str) and "@" in a for a in email):
        raise ConfigError(
            f'配置文件 {where}：[notify] email 应写成 ["zhuguan@example.com"]，现在是 {email!r}'
        )
    if not isinstance(raw.get("push", True), bool):
        raise ConfigError(f"配置文件 {where}：[notify] push 应是 true 或 false")
    if email:
        from pipeline.deliver.mail import mail_settings

        mail_settings(config, to=email)  # [smtp] and [email] from must be there
    return NotifySettings(tuple(email), raw.get("push", True))


def failure_path(config: Config) -> Path:
    return config.reports / "logs" / "last_failure.json"


def now_text(config: Config) -> str:
    return datetime.now(ZoneInfo(config.timezone)).isoformat(timespec="seconds")


def record(
    config: Config, kind: str, command: str, reason: str, notified: list[str], problems: list[str]
) -> None:
    """The last failure or notice, for `pipeline status` (best effort: a full disk is the failure)."""
    entries = last_notices(config)
    entries[kind] = {
        "at": now_text(config),
        "kind": kind,
        "command": command,
        "reason": reason,
        "notified": notified,
        "notify_problems": problems,
    }
    path = failure_path(config)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(entries, ensure_ascii=False, indent=1), encoding="utf-8")
            os.chmod(tmp, 0o600)
    except OSError:
        pass


def last_notices(config: Config) -> dict:
    """{"failed": …, "attention": …}: the last run that failed and the last that needed action."""
    try:
        data = json.loads(failure_path(config).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if k in (FAILED, ATTENTION)} if isinstance(data, dict) else {}


def notice_text(kind: str, what: str, command: str, reason: str, when: str) -> tuple[str, str]:
    """(subject, Markdown body) of a notice."""
    head = f"客服报表定时运行失败：{what}" if kind == FAILED else f"客服报表需要处理：{what}"
    body = [f"### {head}", f"时间：{when[:16].replace('T', ' ')}", f"命令：`{command}`", "", reason]
    if kind == FAILED:
        body += ["", f"处理后请手动运行一次：`{command.replace(' --notify', '').replace(' --quiet', '')}`"]
    return head, "\n".join(body) + "\n"


def send_notice(
    config: Config, kind: str, what: str, command: str, reason: str, sender=None, mail_sleep=None
) -> tuple[list[str], list[str]]:
    """Email and push the notice as [notify] says; record it. Returns (reached, problems): a notice that
    cannot be sent is itself reported, never raised (the run's own failure is what matters)."""
    reached, problems = [], []
    try:
        settings = notify_settings(config)
    except ConfigError as exc:
        settings, problems = NotifySettings(push=True), [str(exc)]
    subject, body = notice_text(kind, what, command, reason, now_text(config))
    if settings.email:
        try:
            _mail(config, settings.email, subject, body, mail_sleep)
            reached += list(settings.email)
        except PipelineError as exc:
            problems.append(str(exc))
    if settings.push:
        from pipeline.deliver.push import push_text
        from pipeline.deliver.robots import configured_robots

        try:
            robots = configured_robots(config)
        except ConfigError as exc:
            robots, problems = [], [*problems, str(exc)]
        pushed, failed = push_text(config, subject, body, robots, sender)
        reached, problems = reached + pushed, problems + failed
    if not reached and not problems:
        problems.append("没有配置通知对象：请在 config.toml 写 [notify] email，或配置群机器人")
    record(config, kind, command, reason, reached, problems)
    return reached, problems


def _mail(config: Config, to: tuple[str, ...], subject: str, body: str, sleep=None) -> None:
    from pipeline.deliver.mail import mail_settings, send

    settings = mail_settings(config, to=list(to))
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = subject, settings.sender, ", ".join(settings.to)
    msg["Date"] = format_datetime(datetime.now(ZoneInfo(config.timezone)))
    msg["Message-ID"] = make_msgid(domain=settings.sender.split("@")[-1])
    msg.set_content(body.replace("### ", "").replace("`", ""))
    if sleep is None:
        send(msg, settings)
    else:
        send(msg, settings, sleep)

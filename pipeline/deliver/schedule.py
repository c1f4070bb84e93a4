"""The Friday schedule: weekly report ready at 16:00 for the 16:30 meeting, the monthly report and
email at 08:00 on the 1st — in Asia/Shanghai, whatever the machine's own time zone is.

Debian's cron ignores CRON_TZ, so the cron lines are converted to the machine's time zone (with
the Shanghai time in a comment); the systemd timer names the zone itself.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as dtime
from zoneinfo import ZoneInfo

from pipeline.config import WEEKDAYS, Config
from pipeline.credentials import credentials_path, environment_only
from pipeline.deliver.robots import push_settings
from pipeline.errors import ConfigError, PipelineError

BEGIN, END = "# BEGIN 客服报表 pipeline", "# END 客服报表 pipeline"
CRON_DAYS = ["1", "2", "3", "4", "5", "6", "0"]  # Monday = 1 … Sunday = 0
SYSTEMD_DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


@dataclass(frozen=True)
class Job:
    key: str
    title: str
    weekday: int | None  # weekly jobs
    day: int | None  # monthly jobs: day of month
    at: dtime
    args: tuple[str, ...]


def _parse_time(text: str, where: str) -> dtime:
    try:
        hh, mm = text.split(":")
        return dtime(int(hh), int(mm))
    except ValueError as exc:
        raise ConfigError(f"配置文件 [schedule] {where} 的时间应写成 16:00，现在是 {text!r}") from exc


def jobs(config: Config) -> list[Job]:
    raw = config.raw.get("schedule") or {}
    weekly = str(raw.get("weekly", "friday 16:00")).split()
    monthly = str(raw.get("monthly", "1 08:00")).split()
    if len(weekly) != 2 or weekly[0].lower() not in WEEKDAYS:
        raise ConfigError(f'配置文件 [schedule] weekly 应写成 "friday 16:00"，现在是 {raw.get("weekly")!r}')
    if len(monthly) != 2 or not monthly[0].isdigit() or not 1 <= int(monthly[0]) <= 28:
        raise ConfigError(
            f'配置文件 [schedule] monthly 应写成 "1 08:00"（日期 1–28），现在是 {raw.get("monthly")!r}'
        )
    tail = ("--quiet", "--notify", *(("--push",) if push_settings(config).schedule else ()))
    return [
        Job(
            "weekly",
            "周报（例会前）",
            WEEKDAYS[weekly[0].lower()],
            None,
            _parse_time(weekly[1], "weekly"),
            ("run", "--week", "current", *tail),
        ),
        Job(
            "monthly",
            "月报与摘要邮件",
            None,
            int(monthly[0]),
            _parse_time(monthly[1], "monthly"),
            ("run", "--month", "last", "--email", *tail),
        ),
    ]


def next_time(job: Job, now: datetime) -> datetime:
    """The next run strictly after now (naive local time of the configured zone)."""
    if job.weekday is not None:
        day = now.date() + timedelta(days=(job.weekday - now.weekday()) % 7)
        when = datetime.combine(day, job.at)
        return when if when > now else when + timedelta(days=7)
    when = datetime.combine(now.date().replace(day=job.day), job.at)
    if when <= now:
        y, m = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
        when = when.replace(year=y, month=m)
    return when


def next_runs(config: Config, now: datetime | None = None) -> list[tuple[Job, datetime]]:
    now = now or datetime.now(ZoneInfo(config.timezone)).replace(tzinfo=None)
    return sorted(((j, next_time(j, now)) for j in jobs(config)), key=lambda jw: jw[1])


def command(config: Config, job: Job) -> str:
    cfg = config.path.resolve() if config.path else None
    parts = [sys.executable, "-m", "pipeline", *(["--config", str(cfg)] if cfg else []), *job.args]
    log = config.reports / "logs" / "schedule.log"
    folder = cfg.parent if cfg else config.reports.parent
    return f"cd {shlex.quote(str(folder))} && {shlex.join(parts)} >> {shlex.quote(str(log))} 2>&1"


def cron_lines(config: Config, machine_tz=None) -> list[str]:
    """Cron lines in the machine's time zone for the configured (Shanghai) times."""
    zone = ZoneInfo(config.timezone)
    local = machine_tz or datetime.now().astimezone().tzinfo
    lines = [BEGIN]
    if "smtp" in config.raw or push_settings(config).schedule:  # cron gives a job almost no environment
        lines.append(
            f"# 邮件登录和群机器人 webhook 从 {credentials_path(config.path)}（chmod 600）读取，无需在此设置环境变量"
        )
    for job, when in next_runs(config):
        there = when.replace(tzinfo=zone).astimezone(local)
        note = f"# {job.title}：{config.timezone} {when:%H:%M}" + (
            "" if there.utcoffset() == when.replace(tzinfo=zone).utcoffset() else f"，本机时区 {there:%H:%M}"
        )
        lines.append(note)
        if job.weekday is not None:
            lines.append(
                f"{there.minute} {there.hour} * * {CRON_DAYS[there.weekday()]} {command(config, job)}"
            )
        elif there.day == job.day:
            lines.append(f"{there.minute} {there.hour} {job.day} * * {command(config, job)}")
        else:  # the Shanghai 1st begins on the machine's previous day: run on the last day of the month
            guard = '[ "$(date -d tomorrow +\\%d)" = "01" ] && '
            lines.append(f"{there.minute} {there.hour} 28-31 * * {guard}{command(config, job)}")
    lines.append(END)
    return lines


def systemd_units(config: Config) -> list[str]:
    out = []
    for job in jobs(config):
        cal = (
            f"{SYSTEMD_DAYS[job.weekday]} *-*-* {job.at:%H:%M}:00"
            if job.weekday is not None
            else f"*-*-{job.day:02d} {job.at:%H:%M}:00"
        )
        out += [
            f"# kefu-{job.key}.timer",
            "[Timer]",
            f"OnCalendar={cal} {config.timezone}",
            "Persistent=true",
            "",
            f"# kefu-{job.key}.service",
            "[Service]",
            "Type=oneshot",
            f"ExecStart=/bin/sh -c {shlex.quote(command(config, job))}",
            "",
        ]
    return out


def schedule_warnings(config: Config) -> list[str]:
    """What a scheduled run would miss: credentials only in this shell, nobody to tell of a failure."""
    from pipeline.deliver.notify import notify_settings
    from pipeline.deliver.robots import configured_robots

    out = [
        f"⚠ {v} 只在当前环境变量中设置，定时运行读不到：请写入 {credentials_path(config.path)}"
        for v in environment_only(config.path)
    ]
    robots = configured_robots(config)
    if push_settings(config).schedule and not robots:
        out.append("⚠ [push] schedule = true，但没有配置群机器人：定时运行将无法推送")
    notify = notify_settings(config)
    if not notify.email and not (notify.push and robots):
        out.append("⚠ 定时运行失败时不会通知任何人：请在 config.toml 写 [notify] email，或配置群机器人")
    return out


def describe(config: Config) -> list[str]:
    lines = [*schedule_warnings(config), "crontab（crontab -e 粘贴，或运行 pipeline schedule install）："]
    lines += cron_lines(config)
    lines += ["", "或使用 systemd 定时器（放在 ~/.config/systemd/user/）："]
    lines += systemd_units(config)
    lines.append("下一次运行：")
    lines += [f"  {job.title}：{when:%Y-%m-%d %H:%M}（{config.timezone}）" for job, when in next_runs(config)]
    return lines


def install_crontab(config: Config, crontab: str = "crontab") -> list[str]:
    """Replace this program's block in the user's crontab; other entries are kept."""
    try:
        current = subprocess.run([crontab, "-l"], capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise PipelineError(
            "找不到 crontab 命令：请安装 cron，或在没有 cron 的机器上运行 pipeline schedule run"
        ) from exc
    existing = current.stdout.splitlines() if current.returncode == 0 else []
    kept, inside = [], False
    for line in existing:
        if line == BEGIN:
            inside = True
        elif line == END:
            inside = False
        elif not inside:
            kept.append(line)
    new = [*kept, *cron_lines(config)]
    done = subprocess.run([crontab, "-"], input="\n".join(new) + "\n", capture_output=True, text=True)
    if done.returncode != 0:
        raise PipelineError(f"写入 crontab 失败：{done.stderr.strip()}")
    return new


def run_forever(
    config: Config,
    echo: Callable[[str], None] = print,
    now: Callable[[], datetime] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    runner: Callable[[Job], int] | None = None,
    max_runs: int | None = None,
) -> None:
    """A foreground scheduler for machines without cron."""
    now = now or (lambda: datetime.now(ZoneInfo(config.timezone)).replace(tzinfo=None))
    runner = runner or (lambda job: subprocess.run(command(config, job), shell=True).returncode)
    done = 0
    while max_runs is None or done < max_runs:
        job, when = next_runs(config, now())[0]
        echo(f"下一次：{job.title} {when:%Y-%m-%d %H:%M}（{config.timezone}）")
        while (wait := (when - now()).total_seconds()) > 0:
            sleep(min(wait, 60))
        code = runner(job)
        echo(f"{job.title} 已运行，退出码 {code}")
        done += 1

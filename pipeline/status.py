"""`pipeline status`: the last runs, what waits in the inbox, and the next scheduled times."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pipeline.config import Config
from pipeline.deliver.notify import ATTENTION, FAILED, last_notices
from pipeline.deliver.schedule import next_runs
from pipeline.store import Store, describe
from pipeline.store import exists as store_exists
from pipeline.store.ingest import content_hashes, scan_inbox


def status_lines(
    config: Config, inbox: Path | None = None, store_path: Path | str | None = None
) -> list[str]:
    inbox = inbox or config.inbox
    store_path = store_path or config.store
    lines = []
    if store_exists(store_path):
        with Store(store_path) as store:
            runs = store.db.execute(
                "SELECT id, started_at, finished_at, status, args, summary FROM runs ORDER BY id DESC LIMIT 5"
            ).fetchall()
            known = store.known_hashes()
            lines.append("最近的运行：" if runs else "还没有运行记录。")
            for rid, started, finished, state, args, summary in runs:
                a, s = json.loads(args or "{}"), json.loads(summary or "{}")
                text = {
                    "ok": "完成",
                    "failed": "失败",
                    "running": "进行中或中断",
                    "recovered": "中断（已由后续运行补做）",
                }.get(state, state)
                detail = (
                    f"新文件 {s.get('files', 0)} 个，现有 {s.get('rows_read', 0)} 行"
                    if state == "ok"
                    else s.get("log", "")
                )
                lines.append(
                    f"  #{rid} {_local(started, config)} → {_local(finished, config) or '—'}"
                    f"  {a.get('period', '')}  {text}  {detail}"
                )
            paths, ignored = scan_inbox(inbox)
            waiting = [p for p, sha, _ in content_hashes(store, paths) if sha not in known]
    else:
        lines.append(f"数据库 {describe(store_path)} 还不存在：尚未运行过。")
        paths, ignored = scan_inbox(inbox)
        waiting = paths
    lines.extend(notice_lines(config))
    lines.append(f"收件箱 {inbox}：{len(paths)} 个登记表文件，其中 {len(waiting)} 个尚未处理")
    lines.extend(f"  待处理：{p.relative_to(inbox)}" for p in waiting[:20])
    if len(waiting) > 20:
        lines.append(f"  ……另有 {len(waiting) - 20} 个")
    lines.extend(f"  已忽略：{name}（{why}）" for name, why in ignored[:10])
    lines.append("下一次定时运行：")
    lines.extend(
        f"  {job.title}：{when:%Y-%m-%d %H:%M}（{config.timezone}）" for job, when in next_runs(config)
    )
    return lines


def notice_lines(config: Config) -> list[str]:
    """The last failed run and the last that needed action (deliver.notify), with whom they reached."""
    lines, notices = [], last_notices(config)
    for kind, label in ((FAILED, "上次失败"), (ATTENTION, "上次需要处理")):
        entry = notices.get(kind)
        if not entry:
            continue
        told = "、".join(entry.get("notified") or []) or "未通知任何人"
        lines.append(f"{label}：{entry['at'][:16].replace('T', ' ')}  {entry['command']}")
        lines.extend(f"  {line}" for line in entry["reason"].splitlines())
        lines.append(f"  已通知：{told}")
        lines.extend(f"  ✘ 通知未送达：{p}" for p in entry.get("notify_problems") or [])
    return lines


def _local(stamp: str | None, config: Config) -> str:
    """A stored time (the machine's own clock) in the meeting's time zone, as every other time a user reads."""
    if not stamp:
        return ""
    when = datetime.fromisoformat(stamp)
    when = when.astimezone() if when.tzinfo is None else when  # naive: the machine's local time
    return when.astimezone(ZoneInfo(config.timezone)).strftime("%Y-%m-%d %H:%M")

"""Running on its own: lock, log and manifest, status, schedule and watching the drop folder."""

import json
import os
import re
import stat
import threading
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pipeline.config import parse_config
from pipeline.deliver import schedule
from pipeline.deliver.watch import watch
from pipeline.infra.lock import Busy, exclusive
from pipeline.run import RunOptions, run
from pipeline.status import status_lines
from tests.builders import xlsx

HEAD = ["投诉编号", "项目", "受理日期", "调查核实日期", "投诉类别"]


def _opts(tmp_path: Path, **kw) -> RunOptions:
    kw.setdefault("render", False)
    return RunOptions(
        inbox=tmp_path / "inbox",
        reports=tmp_path / "reports",
        store=tmp_path / "s.sqlite",
        archive=tmp_path / "a",
        as_of="2026-11-01 08:00",
        workers=1,
        **kw,
    )


def test_a_second_run_on_the_same_store_says_a_run_is_in_progress(tmp_path: Path, config):
    (tmp_path / "inbox").mkdir()
    with exclusive(tmp_path / "s.sqlite.lock"):
        with pytest.raises(Busy, match="另一个 pipeline 正在运行"):
            run(config, _opts(tmp_path))
        started = time.monotonic()
        with pytest.raises(Busy):
            run(config, _opts(tmp_path, wait=0.6))
        assert time.monotonic() - started >= 0.5
    assert run(config, _opts(tmp_path)).exit_code == 1  # free again: it runs (1: nothing handed in yet)


def test_run_writes_a_manifest_and_a_log_without_customer_data(tmp_path: Path, config):
    (tmp_path / "inbox").mkdir()
    xlsx(
        tmp_path / "inbox" / "a.xlsx",
        {
            "2026年10月": [
                HEAD + ["投诉人", "联系电话"],
                ["A1", "翠湖花园", "2026-10-08", "2026-10-08", "维修", "张三", "13812345678"],
            ]
        },
    )
    result = run(config, _opts(tmp_path))
    manifest = json.loads((result.report_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["inputs"][0]["name"] == "a.xlsx" and len(manifest["inputs"][0]["sha256"]) == 64
    assert manifest["counts"] == result.counts
    assert set(manifest["timings_seconds"]) == {
        "load",
        "validate",
        "annotate",
        "kpi",
        "clerk_files",
    }
    assert any(p.endswith("kpis.json") for p in manifest["outputs"])
    log = Path(manifest["log"]).read_text(encoding="utf-8")
    assert "run 2026-W45" in log and "13812345678" not in log and "张三" not in log
    assert stat.S_IMODE((result.report_dir / "kpis.json").stat().st_mode) == 0o600


@pytest.mark.parametrize("background", [False, True], ids=["validation-here", "validation-worker"])
def test_a_run_whose_pdf_fails_stops_its_workbook_worker(tmp_path: Path, config, monkeypatch, background):
    """report.xlsx is written by a forked worker while the PDF is rendered, validation.xlsx (when
    there are many findings) by a spawned one from before the KPIs: when the PDF fails, the workers
    are stopped or their work is not put in place, so the failed run leaves no new report.xlsx or
    validation.xlsx beside the old report.pdf, and no temp file."""
    import pipeline.render.reports as reports
    import pipeline.run as run_module

    if background:
        monkeypatch.setattr(run_module, "BACKGROUND_FINDINGS", 0)

    (tmp_path / "inbox").mkdir()
    xlsx(tmp_path / "inbox" / "a.xlsx", {"2026年10月": [HEAD, ["A1", "翠湖花园", "2026-10-08", "", "维修"]]})
    result = run(config, _opts(tmp_path, render=True))
    folder = result.report_dir
    assert {"pdf", "xlsx", "validation"} <= set(result.outputs)
    for name in ("report.xlsx", "validation.xlsx"):
        (folder / name).unlink()
    write_excel = reports.write_excel

    def slow_excel(*args):
        time.sleep(3)  # still writing when the PDF fails
        return write_excel(*args)

    def failing_pdf(*args, **kwargs):
        raise RuntimeError("PDF 生成失败")

    monkeypatch.setattr(reports, "write_excel", slow_excel)
    monkeypatch.setattr(reports, "write_pdf", failing_pdf)
    with pytest.raises(RuntimeError, match="PDF 生成失败"):
        run(config, _opts(tmp_path, render=True, reuse=False))
    time.sleep(3.5)  # a worker left running would have written them by now
    assert not (folder / "report.xlsx").exists() and not (folder / "validation.xlsx").exists()
    assert (folder / "report.pdf").exists() and not list(folder.glob(".*.part"))


def test_status_shows_runs_waiting_files_and_next_times(tmp_path: Path, config):
    (tmp_path / "inbox").mkdir()
    xlsx(
        tmp_path / "inbox" / "a.xlsx",
        {"2026年10月": [HEAD, ["A1", "翠湖花园", "2026-10-08", "2026-10-08", "维修"]]},
    )
    run(config, _opts(tmp_path))
    xlsx(
        tmp_path / "inbox" / "b.xlsx",
        {"2026年10月": [HEAD, ["B1", "翠湖花园", "2026-10-09", "2026-10-09", "维修"]]},
    )
    text = "\n".join(status_lines(config, tmp_path / "inbox", tmp_path / "s.sqlite"))
    assert "#1" in text and "完成" in text
    assert "2 个登记表文件，其中 1 个尚未处理" in text and "待处理：b.xlsx" in text
    assert "周报（例会前）" in text and "月报与摘要邮件" in text
    # a run's times in the meeting's time zone, as every other time a user reads (issue 20)
    shown = re.search(r"#1 (\d{4}-\d{2}-\d{2} \d{2}:\d{2}) →", text).group(1)
    now_there = datetime.now(ZoneInfo(config.timezone))
    assert (
        abs(
            datetime.strptime(shown, "%Y-%m-%d %H:%M").replace(tzinfo=now_there.tzinfo) - now_there
        ).total_seconds()
        < 600
    )


SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_next_runs_are_friday_1600_and_the_first_at_0800_shanghai(config):
    runs = dict((job.key, when) for job, when in schedule.next_runs(config, datetime(2026, 10, 30, 16, 1)))
    assert runs["weekly"] == datetime(2026, 11, 6, 16, 0)
    assert runs["monthly"] == datetime(2026, 11, 1, 8, 0)
    runs = dict((job.key, when) for job, when in schedule.next_runs(config, datetime(2026, 12, 1, 8, 0)))
    assert runs["monthly"] == datetime(2027, 1, 1, 8, 0) and runs["weekly"] == datetime(2026, 12, 4, 16, 0)


def test_cron_lines_are_converted_to_the_machine_time_zone(config):
    utc = schedule.cron_lines(config, ZoneInfo("UTC"))
    assert any(line.startswith("0 8 * * 5 ") for line in utc)  # Friday 16:00 Shanghai = 08:00 UTC
    assert any(line.startswith("0 0 1 * * ") for line in utc)  # the 1st 08:00 Shanghai = 00:00 UTC
    ny = schedule.cron_lines(config, ZoneInfo("America/New_York"))
    assert any(
        " 28-31 * * " in line and "date -d tomorrow" in line for line in ny
    )  # still the evening before
    same = schedule.cron_lines(config, SHANGHAI)
    assert any(line.startswith("0 16 * * 5 ") for line in same)
    assert "OnCalendar=Fri *-*-* 16:00:00 Asia/Shanghai" in schedule.systemd_units(config)


def test_install_replaces_only_our_block_in_the_crontab(tmp_path: Path, config):
    tab = tmp_path / "tab"
    tab.write_text("MAILTO=x\n0 1 * * * backup\n", encoding="utf-8")
    fake = tmp_path / "crontab"
    fake.write_text(
        f'#!/bin/sh\nif [ "$1" = "-l" ]; then cat {tab}; else cat > {tab}; fi\n', encoding="utf-8"
    )
    fake.chmod(0o755)
    schedule.install_crontab(config, str(fake))
    schedule.install_crontab(config, str(fake))
    lines = tab.read_text(encoding="utf-8").splitlines()
    assert lines[:2] == ["MAILTO=x", "0 1 * * * backup"]
    assert lines.count(schedule.BEGIN) == 1 and sum("run --week current" in x for x in lines) == 1


def test_foreground_scheduler_runs_the_next_job_on_time(config):
    clock = [datetime(2026, 10, 30, 15, 58)]
    ran = []

    def sleep(seconds):
        clock[0] = clock[0] + __import__("datetime").timedelta(seconds=seconds)

    schedule.run_forever(
        config,
        echo=lambda s: None,
        now=lambda: clock[0],
        sleep=sleep,
        runner=lambda job: ran.append((job.key, clock[0])) or 0,
        max_runs=2,
    )
    assert ran == [("weekly", datetime(2026, 10, 30, 16, 0)), ("monthly", datetime(2026, 11, 1, 8, 0))]


def test_watch_validates_a_dropped_file_once_it_is_complete(tmp_path: Path):
    with _watching(tmp_path, settle=0.5) as (inbox, out, results, lines):
        time.sleep(0.5)
        (inbox / "~$翠湖.xlsx").write_bytes(b"lock")
        src = tmp_path / "staging.xlsx"
        xlsx(src, {"2026年10月": [HEAD, ["A1", "翠湖花园", "2026-10-08", "2026-10-09", "维修"]]})
        data = src.read_bytes()
        target = inbox / "翠湖投诉.xlsx"
        with open(target, "wb") as fh:  # written in two steps, as a copy over the network would
            fh.write(data[: len(data) // 2])
            fh.flush()
            time.sleep(0.2)
            fh.write(data[len(data) // 2 :])
        deadline = time.monotonic() + 15
        while not results and time.monotonic() < deadline:
            time.sleep(0.1)
    assert len(results) == 1 and results[0]["loaded"].name == "翠湖投诉.xlsx"
    assert (out / "翠湖投诉（待修改）.xlsx").exists()
    text = "\n".join(lines)
    assert "未做到当天调查核实" in text and "~$" not in text
    assert not os.path.exists(tmp_path / "none.sqlite")


@contextmanager
def _watching(tmp_path: Path, settle: float):
    """watch in a thread on tmp_path/inbox, stopped on leaving: yields (inbox, out, results, lines)."""
    config = parse_config(
        {"paths": {"store": str(tmp_path / "none.sqlite")}, "properties": {"翠湖花园": {"households": 1200}}},
        tmp_path,
    )
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir(exist_ok=True)
    stop, results, lines = threading.Event(), [], []
    kwargs = {"echo": lines.append, "settle": settle, "stop": stop, "poll": 0.1, "on_result": results.append}
    thread = threading.Thread(target=watch, args=(config, inbox, out), daemon=True, kwargs=kwargs)
    thread.start()
    try:
        yield inbox, out, results, lines
    finally:
        stop.set()
        thread.join(timeout=10)


def test_watch_checks_what_was_dropped_while_it_was_down(tmp_path: Path):
    """Issue 22.9: files already in the inbox and not yet stored are checked when watch starts."""
    (tmp_path / "inbox").mkdir()
    rows = [HEAD, ["A1", "翠湖花园", "2026-10-08", "2026-10-09", "维修"]]
    xlsx(tmp_path / "inbox" / "翠湖投诉.xlsx", {"2026年10月": rows})
    with _watching(tmp_path, settle=0.3) as (_, _, results, lines):
        deadline = time.monotonic() + 15
        while not results and time.monotonic() < deadline:
            time.sleep(0.1)
    assert [r["loaded"].name for r in results] == ["翠湖投诉.xlsx"]
    assert "尚未处理的文件" in "\n".join(lines)


def test_cron_lines_say_where_the_mail_login_comes_from(tmp_path: Path):
    """Issue 21: the scheduled email reads credentials.toml; the cron block says so."""
    cfg = parse_config({"smtp": {"host": "127.0.0.1"}}, tmp_path, tmp_path / "config.toml")
    lines = schedule.cron_lines(cfg, ZoneInfo("UTC"))
    assert any(str(tmp_path / "credentials.toml") in line and "chmod 600" in line for line in lines)

"""A failure tells someone: a scheduled run (--notify) that fails, or finds registers missing, emails
(a real SMTP server on 127.0.0.1) and pushes (the local robot server) the reason in Chinese, and
`pipeline status` shows the last failure."""

import json
import shlex
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.config import load_config
from pipeline.deliver.schedule import describe, jobs
from tests.builders import xlsx
from tests.robot_server import RobotServer
from tests.test_mail import Recorder, _free_port

HEAD = ["投诉编号", "项目", "受理日期", "投诉类别", "是否有效投诉"]


@pytest.fixture
def office(tmp_path, monkeypatch):
    """A config with two properties, [notify] to the supervisor, a mail server and both robots."""
    for variable in ("PIPELINE_WECOM_WEBHOOK", "PIPELINE_DINGTALK_WEBHOOK", "PIPELINE_DINGTALK_SECRET"):
        monkeypatch.delenv(variable, raising=False)
    handler, port = Recorder(), _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    robots = RobotServer().__enter__()
    robots.write_credentials(tmp_path)
    (tmp_path / "config.toml").write_text(
        f"""
[paths]
inbox = "inbox"
reports = "reports"
store = "store.sqlite"
archive = "archive"

[properties."东区"]
households = 100
[properties."西区"]
households = 200

[smtp]
host = "127.0.0.1"
port = {port}
security = "none"
retries = 1

[email]
from = "kefu@example.com"
to = ["director@example.com"]

[notify]
email = ["zhuguan@example.com"]
""",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    yield tmp_path, handler, robots
    robots.__exit__()
    controller.stop()


def _inbox(base: Path) -> None:
    (base / "inbox").mkdir()
    rows = [["东区客户投诉处理登记表"], HEAD, ["TS-1", "东区", "2026-10-08", "维修", "是"]]
    xlsx(base / "inbox" / "东区投诉2026年10月.xlsx", {"2026年10月": rows})


def _mail_text(handler) -> str:
    import email
    from email import policy

    (_, to, raw), *_ = handler.messages
    msg = email.message_from_bytes(raw, policy=policy.default)
    return f"{to}\n{msg['Subject']}\n{msg.get_content()}"


def test_a_failed_scheduled_run_emails_and_pushes_the_reason_and_status_shows_it(office):
    base, handler, robots = office
    args = ["--config", "config.toml", "run", "--week", "current", "--quiet", "--notify"]
    done = CliRunner().invoke(cli, args)  # the inbox folder does not exist
    assert done.exit_code == 2
    text = _mail_text(handler)
    assert "['zhuguan@example.com']" in text  # the supervisor, not the directors
    assert "客服报表定时运行失败：周报 current" in text
    assert "收件箱" in text and "不存在" in text and "处理后请手动运行一次" in text
    for platform in ("wecom", "dingtalk"):
        (pushed,) = robots.texts(platform)
        assert "定时运行失败" in pushed and "不存在" in pushed

    status = CliRunner().invoke(cli, ["--config", "config.toml", "status"])
    assert "上次失败：" in status.output and "run --week current --quiet --notify" in status.output
    assert "不存在" in status.output
    assert "已通知：zhuguan@example.com、企业微信群机器人、钉钉群机器人" in status.output


def test_missing_registers_are_a_notice_and_the_run_still_reports(office):
    base, handler, robots = office
    _inbox(base)
    args = ["--config", "config.toml", "run", "--month", "2026-10", "--as-of", "2026-11-01 08:00", "--notify"]
    done = CliRunner().invoke(cli, args)
    assert done.exit_code == 1, done.output
    assert (base / "reports" / "monthly" / "2026-10" / "report.pdf").exists()
    text = _mail_text(handler)
    assert "客服报表需要处理：月报 2026-10" in text
    assert "西区 未交 客户投诉处理登记表（2026-10）" in text
    assert any("西区 未交" in t for t in robots.texts("wecom"))
    status = CliRunner().invoke(cli, ["--config", "config.toml", "status"]).output
    assert "上次需要处理：" in status and "上次失败" not in status


def test_an_unexpected_error_names_its_log_and_an_unreachable_mail_server_is_reported(office, monkeypatch):
    base, handler, robots = office
    _inbox(base)
    config_text = (base / "config.toml").read_text(encoding="utf-8")
    (base / "config.toml").write_text(
        config_text.replace('host = "127.0.0.1"\nport = ', 'host = "127.0.0.1"\nport = 1#')
    )

    def broken(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr("pipeline.run.run", broken)
    done = CliRunner().invoke(cli, ["--config", "config.toml", "run", "--week", "last", "--notify"])
    assert isinstance(done.exception, RuntimeError)
    log = done.exception.error_log
    assert log.exists() and "boom" in log.read_text(encoding="utf-8")
    (pushed,) = robots.texts("wecom")
    assert "程序内部错误（RuntimeError）" in pushed and str(log) in pushed
    assert not handler.messages
    status = CliRunner().invoke(cli, ["--config", "config.toml", "status"]).output
    assert "✘ 通知未送达：邮件发送失败（127.0.0.1:1" in status
    assert "已通知：企业微信群机器人、钉钉群机器人" in status


def test_a_monthly_email_that_fails_is_pushed_as_a_failure(office):
    base, handler, robots = office
    _inbox(base)
    handler.refuse = True
    args = ["--config", "config.toml", "run", "--month", "2026-10", "--as-of", "2026-11-01 08:00"]
    done = CliRunner().invoke(cli, [*args, "--email", "--notify"])
    assert done.exit_code == 2
    failure = [t for t in robots.texts("dingtalk") if "定时运行失败" in t]
    assert failure and "邮件发送失败" in failure[0] and "550" in failure[0]


def test_without_notify_nobody_is_told_but_status_still_shows_it(office):
    base, handler, robots = office
    done = CliRunner().invoke(cli, ["--config", "config.toml", "run", "--week", "current"])
    assert done.exit_code == 2 and not handler.messages and not robots.messages
    notices = json.loads((base / "reports" / "logs" / "last_failure.json").read_text(encoding="utf-8"))
    assert notices["failed"]["notified"] == [] and "不存在" in notices["failed"]["reason"]
    assert "已通知：未通知任何人" in CliRunner().invoke(cli, ["--config", "config.toml", "status"]).output


def test_scheduled_jobs_notify_push_when_asked_and_warn_what_cron_will_miss(office, monkeypatch):
    base, handler, robots = office
    config = load_config(base / "config.toml")
    assert all("--notify" in j.args and "--push" not in j.args for j in jobs(config))
    (base / "config.toml").write_text(
        (base / "config.toml").read_text(encoding="utf-8") + "\n[push]\nschedule = true\n", encoding="utf-8"
    )
    config = load_config(base / "config.toml")
    assert all("--push" in j.args for j in jobs(config))
    lines = describe(config)
    assert not any(line.startswith("⚠") for line in lines)
    assert any("群机器人 webhook 从" in line and "credentials.toml" in line for line in lines)
    cron = [line for line in lines if "pipeline" in line and "--notify --push" in line]
    assert len(cron) == 4 and shlex.split(cron[0].split(" && ", 1)[1])  # crontab and systemd, both jobs

    monkeypatch.setenv("PIPELINE_SMTP_PASSWORD", "only-in-this-shell")
    (base / "credentials.toml").unlink()
    warnings = [line for line in describe(load_config(base / "config.toml")) if line.startswith("⚠")]
    assert any("PIPELINE_SMTP_PASSWORD 只在当前环境变量中设置" in w for w in warnings)
    assert any("没有配置群机器人" in w for w in warnings)


def test_a_scheduled_push_with_no_robot_still_makes_the_report_then_says_so(office):
    base, handler, robots = office
    _inbox(base)
    (base / "credentials.toml").unlink()
    args = ["--config", "config.toml", "run", "--month", "2026-10", "--as-of", "2026-11-01 08:00"]
    done = CliRunner().invoke(cli, [*args, "--push", "--notify"])
    assert done.exit_code == 2 and "PIPELINE_WECOM_WEBHOOK" in done.output
    assert (base / "reports" / "monthly" / "2026-10" / "report.pdf").exists()
    text = _mail_text(handler)
    assert "定时运行失败" in text and "没有配置群机器人" in text and "PIPELINE_WECOM_WEBHOOK" in text
    assert not (base / "reports" / "monthly" / "2026-09").exists()
    interactive = CliRunner().invoke(cli, [*args[:-2], "--month", "2026-09", "--push"])
    assert interactive.exit_code == 2 and not (base / "reports" / "monthly" / "2026-09").exists()


def test_a_broken_config_still_tells_the_robots_beside_it(office):
    """A scheduled run whose config.toml cannot be read cannot know [notify]; the robots in the
    credentials file beside it are told, and the failure is kept where status would look."""
    base, handler, robots = office
    (base / "config.toml").write_text("[properties\nbroken = ", encoding="utf-8")
    done = CliRunner().invoke(cli, ["--config", "config.toml", "run", "--week", "current", "--notify"])
    assert done.exit_code == 2
    (pushed,) = robots.texts("wecom")
    assert "定时运行失败" in pushed and "config.toml" in pushed
    notices = json.loads((base / "reports" / "logs" / "last_failure.json").read_text(encoding="utf-8"))
    assert notices["failed"]["notified"] == ["企业微信群机器人", "钉钉群机器人"]

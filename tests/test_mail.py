"""The monthly summary email, sent to a real SMTP server (aiosmtpd) on 127.0.0.1 started by the test."""

import email
import json
import socket
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from pipeline.config import parse_config
from pipeline.deliver.mail import DeliveryError, deliver_monthly
from pipeline.demo import write_demo_inbox
from pipeline.run import RunOptions, run
from pipeline.store import Store


class Recorder:
    def __init__(self, refuse: bool = False):
        self.messages, self.refuse = [], refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return "550 5.7.1 relay denied"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    base = tmp_path_factory.mktemp("mail")
    write_demo_inbox(base / "inbox")
    config = parse_config(
        {
            "properties": {
                "翠湖花园": {"households": 1200},
                "金桂苑": {"households": 860},
                "滨江壹号": {"households": 640, "aliases": ["滨江一号"]},
            }
        },
        base,
    )
    result = run(
        config,
        RunOptions(
            inbox=base / "inbox",
            reports=base / "reports",
            store=base / "s.sqlite",
            archive=base / "a",
            month="2026-10",
            as_of="2026-11-01 08:00",
            workers=1,
        ),
    )
    return base, result.report_dir


def _config(base: Path, port: int, **smtp):
    return parse_config(
        {
            "smtp": {
                "host": "127.0.0.1",
                "port": port,
                "security": "none",
                "retries": 2,
                "backoff": 0,
                **smtp,
            },
            "email": {"from": "kefu@example.com", "to": ["director@example.com", "boss@example.com"]},
        },
        base,
    )


def test_summary_reaches_a_real_smtp_server_with_both_parts_and_attachments(month, tmp_path):
    base, report_dir = month
    handler = Recorder()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with Store(tmp_path / "s.sqlite") as store:
            outcome = deliver_monthly(report_dir, _config(base, port), store, sleep=lambda s: None)
            again = deliver_monthly(report_dir, _config(base, port), store, sleep=lambda s: None)
            forced = deliver_monthly(
                report_dir, _config(base, port), store, resend=True, sleep=lambda s: None
            )
    finally:
        controller.stop()
    assert outcome["status"] == "sent" and again["status"] == "already-sent" and forced["status"] == "sent"
    assert len(handler.messages) == 2
    sender, rcpts, content = handler.messages[0]
    assert sender == "kefu@example.com" and rcpts == ["director@example.com", "boss@example.com"]
    assert b"=?utf-8?" in content.split(b"\r\n\r\n")[0]  # the Chinese subject is RFC 2047-encoded
    msg = email.message_from_bytes(content, policy=policy.default)
    assert msg["Subject"].startswith("客服部月报　2026年10月")
    assert "+0800" in msg["Date"]
    text = msg.get_body(("plain",)).get_content()
    html = __import__("html").unescape(msg.get_body(("html",)).get_content())
    assert "回访率" in text and "回访率" in html and "<table" in html
    files = {part.get_filename(): part.get_content() for part in msg.iter_attachments()}
    assert files["客服部月报2026年10月.pdf"] == (report_dir / "report.pdf").read_bytes()
    assert files["客服部月报2026年10月.xlsx"] == (report_dir / "report.xlsx").read_bytes()


def test_a_refusing_server_is_reported_clearly_without_endless_retries(month, tmp_path):
    base, report_dir = month
    handler = Recorder(refuse=True)
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with Store(tmp_path / "s.sqlite") as store:
            with pytest.raises(DeliveryError) as exc:
                deliver_monthly(report_dir, _config(base, port), store, sleep=lambda s: None)
            assert store.sent_mail("2026-10", "monthly") is None
    finally:
        controller.stop()
    assert "服务器拒绝" in str(exc.value) and "550" in str(exc.value)


def test_a_server_that_is_down_is_retried_with_backoff_then_reported(month, tmp_path):
    base, report_dir = month
    waits = []
    with Store(tmp_path / "s.sqlite") as store, pytest.raises(DeliveryError) as exc:
        deliver_monthly(
            report_dir, _config(base, _free_port(), retries=3, backoff=2), store, sleep=waits.append
        )
    assert waits == [2, 4]
    assert "尝试 3 次" in str(exc.value) and "连接被拒绝" in str(exc.value)


def test_dry_run_writes_an_eml_and_credentials_never_come_from_the_file(month, tmp_path):
    base, report_dir = month
    outcome = deliver_monthly(report_dir, _config(base, 25), None, dry_run=True)
    assert outcome["path"].read_bytes().startswith(b"Subject: =?utf-8?")
    from pipeline.errors import ConfigError

    with pytest.raises(ConfigError, match="PIPELINE_SMTP_PASSWORD"):
        deliver_monthly(report_dir, _config(base, 25, password="secret"), None, dry_run=True)


def test_a_server_wanting_a_login_names_the_variables():
    """Issue 21: a login the server wants is PIPELINE_SMTP_USER / PIPELINE_SMTP_PASSWORD, not [smtp]."""
    import smtplib

    from pipeline.deliver.mail import MailSettings, _advice

    plain = MailSettings("127.0.0.1", 25, "none", "a@example.com", ("b@example.com",))
    wanted = smtplib.SMTPSenderRefused(530, b"5.7.0 Authentication required", "a@example.com")
    said = _advice(wanted, plain)
    assert "PIPELINE_SMTP_USER" in said and "PIPELINE_SMTP_PASSWORD" in said
    assert "credentials.toml" in said and "定时运行" in said
    refused = smtplib.SMTPAuthenticationError(535, b"5.7.8 bad credentials")
    with_user = MailSettings(
        "127.0.0.1", 25, "none", "a@example.com", ("b@example.com",), user="u", password="p"
    )
    assert "核对环境变量 PIPELINE_SMTP_USER" in _advice(refused, with_user)


def test_credentials_for_unattended_runs(tmp_path, monkeypatch):
    """Issue 21: an owner-only credentials.toml beside config.toml serves scheduled runs (cron starts
    them without the login variables); the environment wins; a file others can read is refused."""
    import pytest

    from pipeline.config import load_config
    from pipeline.deliver.mail import mail_settings
    from pipeline.errors import ConfigError

    monkeypatch.delenv("PIPELINE_SMTP_USER", raising=False)
    monkeypatch.delenv("PIPELINE_SMTP_PASSWORD", raising=False)
    (tmp_path / "config.toml").write_text(
        '[smtp]\nhost = "127.0.0.1"\n[email]\nfrom = "a@example.com"\nto = ["b@example.com"]\n',
        encoding="utf-8",
    )
    secrets = tmp_path / "credentials.toml"
    secrets.write_text('[smtp]\nuser = "kefu"\npassword = "s3cret"\n', encoding="utf-8")
    secrets.chmod(0o600)
    config = load_config(tmp_path / "config.toml")
    settings = mail_settings(config)
    assert (settings.user, settings.password) == ("kefu", "s3cret")
    monkeypatch.setenv("PIPELINE_SMTP_USER", "other")
    assert mail_settings(config).user == "other"
    secrets.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        mail_settings(config)


def test_the_email_opens_with_the_reports_conclusion(month):
    """Issue 20: the email says first what page 1 says first."""
    from pipeline.deliver.mail import MailSettings, build_message
    from pipeline.render.model import conclusion

    base, report_dir = month
    model = json.loads((report_dir / "kpis.json").read_text(encoding="utf-8"))
    settings = MailSettings("127.0.0.1", 25, "none", "a@example.com", ("b@example.com",))
    msg = build_message(model, report_dir / "report.pdf", report_dir / "report.xlsx", settings)
    plain = msg.get_body(("plain",)).get_content()
    html = __import__("html").unescape(msg.get_body(("html",)).get_content())
    lines = conclusion(model)
    assert lines and all(line in plain and line in html for line in lines)
    assert plain.index(lines[0]) < plain.index("主要指标")

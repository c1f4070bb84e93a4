"""The emailed monthly summary: a Chinese subject (RFC 2047), HTML and plain-text bodies from
Jinja2 templates, the month's PDF and Excel attached; sent over SMTP with retries, recorded in
the store so a re-run does not mail it twice.

SMTP user and password come from the environment (PIPELINE_SMTP_USER, PIPELINE_SMTP_PASSWORD) or the
owner-only credentials.toml beside config.toml (pipeline/credentials.py), never from config.toml.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import time
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2

from pipeline.config import Config
from pipeline.credentials import secret
from pipeline.errors import ConfigError, PipelineError
from pipeline.render.model import Report, attention_items, build_report
from pipeline.render.reuse import mixed_outputs

TEMPLATES = Path(__file__).parent / "templates"
_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=jinja2.select_autoescape(["html.j2"])
)
SECURITY = ("ssl", "starttls", "none")


class DeliveryError(PipelineError):
    """The message could not be delivered."""


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    security: str
    sender: str
    to: tuple[str, ...]
    cc: tuple[str, ...] = ()
    user: str | None = None
    password: str | None = None
    timeout: float = 30.0
    retries: int = 3
    backoff: float = 5.0


def mail_settings(config: Config, to: list[str] | None = None) -> MailSettings:
    """[smtp] and [email] of config.toml, the login from credentials; `to` replaces [email] to/cc
    (a failure notice goes to the supervisor, not to the directors)."""
    smtp, email = config.raw.get("smtp") or {}, dict(config.raw.get("email") or {})
    where = str(config.path or "config.toml")
    if to is not None:
        email.update(to=to, cc=[])
    if not smtp.get("host") or not email.get("to") or not email.get("from"):
        raise ConfigError(f"配置文件 {where} 缺少 [smtp] host 或 [email] from / to，无法发送邮件")
    if "user" in smtp or "password" in smtp:
        raise ConfigError(
            f"配置文件 {where}：SMTP 用户名和密码不能写在 config.toml 里，请写在同一文件夹的 credentials.toml（chmod 600）"
            "的 [smtp] user / password 中，或用环境变量 PIPELINE_SMTP_USER / PIPELINE_SMTP_PASSWORD"
        )
    security = smtp.get("security", "ssl")
    if security not in SECURITY:
        raise ConfigError(
            f"配置文件 {where}：[smtp] security 只能是 ssl、starttls 或 none，现在是 {security!r}"
        )
    to = email["to"] if isinstance(email["to"], list) else [email["to"]]
    cc = email.get("cc", [])
    return MailSettings(
        host=smtp["host"],
        port=int(smtp.get("port", 465 if security == "ssl" else 587)),
        security=security,
        sender=email["from"],
        to=tuple(to),
        cc=tuple(cc if isinstance(cc, list) else [cc]),
        user=secret(config.path, "smtp", "user"),
        password=secret(config.path, "smtp", "password"),
        timeout=float(smtp.get("timeout", 30)),
        retries=int(smtp.get("retries", 3)),
        backoff=float(smtp.get("backoff", 5)),
    )


def subject_for(report: Report) -> str:
    missed = [k["label"] for k in report.headline if k["css"] == "missed"]
    tail = f"未达标：{'、'.join(missed[:3])}{'等' if len(missed) > 3 else ''}" if missed else "各项指标达标"
    return f"{report.title}（{tail}）"


def build_message(
    model: dict,
    pdf: Path,
    xlsx: Path,
    settings: MailSettings,
    unmasked: bool = False,
    timezone: str = "Asia/Shanghai",
) -> EmailMessage:
    report = build_report(model, unmasked=unmasked)
    context = {"r": report, "top": attention_items(model), "greeting": "各位领导："}
    msg = EmailMessage()
    msg["Subject"] = subject_for(report)  # non-ASCII headers are RFC 2047-encoded by the email package
    msg["From"] = settings.sender
    msg["To"] = ", ".join(settings.to)
    if settings.cc:
        msg["Cc"] = ", ".join(settings.cc)
    msg["Date"] = format_datetime(datetime.now(ZoneInfo(timezone)))  # our times are Asia/Shanghai
    msg["Message-ID"] = make_msgid(domain=settings.sender.split("@")[-1])
    msg.set_content(_env.get_template("summary.txt.j2").render(**context))
    msg.add_alternative(_env.get_template("summary.html.j2").render(**context), subtype="html")
    stem = report.title.replace("　", "")
    msg.add_attachment(pdf.read_bytes(), maintype="application", subtype="pdf", filename=f"{stem}.pdf")
    msg.add_attachment(
        xlsx.read_bytes(),
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename=f"{stem}.xlsx",
    )
    return msg


def _send_once(msg: EmailMessage, s: MailSettings) -> None:
    if s.security == "ssl":
        server = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=ssl.create_default_context())
    else:
        server = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
    with server:
        if s.security == "starttls":
            server.starttls(context=ssl.create_default_context())
        if s.user:
            server.login(s.user, s.password or "")
        server.send_message(msg, to_addrs=[*s.to, *s.cc])


def send(msg: EmailMessage, settings: MailSettings, sleep=time.sleep) -> int:
    """Send with retries and exponential back-off. Returns the number of attempts; raises DeliveryError."""
    last: Exception | None = None
    for attempt in range(1, settings.retries + 1):
        try:
            _send_once(msg, settings)
            return attempt
        except smtplib.SMTPRecipientsRefused as exc:
            last = exc
            if all(500 <= code < 600 for code, _ in exc.recipients.values()):
                break  # every recipient refused for good: retrying will not help
        except smtplib.SMTPResponseException as exc:
            last = exc
            if 500 <= exc.smtp_code < 600:
                break  # a permanent refusal: retrying will not help
        except (OSError, smtplib.SMTPException) as exc:
            last = exc
        if attempt < settings.retries:
            sleep(settings.backoff * 2 ** (attempt - 1))
    raise DeliveryError(
        f"邮件发送失败（{settings.host}:{settings.port}，尝试 {attempt} 次）：{_describe(last)}。{_advice(last, settings)}"
    )


AUTH_CODES = (530, 534, 535, 538)  # authentication required / failed (RFC 4954)


def _advice(exc: Exception | None, settings: MailSettings) -> str:
    """What to do, naming the setting that is wrong: a login the server wants comes from the
    environment variables (in the crontab's environment too, for scheduled runs), never config.toml."""
    needs_login = isinstance(exc, smtplib.SMTPAuthenticationError) or (
        isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code in AUTH_CODES
    )
    if needs_login and not settings.user:
        return (
            "邮件服务器要求登录，但没有设置环境变量 PIPELINE_SMTP_USER 和 PIPELINE_SMTP_PASSWORD，"
            "config.toml 旁的 credentials.toml 中也没有 [smtp] user / password：请写入该文件（chmod 600，"
            "定时运行也读取它）或设置这两个环境变量，然后用 pipeline email 重试"
        )
    if needs_login:
        return (
            "邮件服务器不接受登录：请核对环境变量 PIPELINE_SMTP_USER 和 PIPELINE_SMTP_PASSWORD"
            "（或 credentials.toml 的 [smtp] user / password），然后用 pipeline email 重试"
        )
    return "请检查 config.toml 的 [smtp]、[email] 设置与网络，稍后用 pipeline email 重试"


def _describe(exc: Exception | None) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        parts = [
            f"{addr}（{code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}）"
            for addr, (code, msg) in exc.recipients.items()
        ]
        return "服务器拒绝收件人：" + "、".join(parts)
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return f"服务器拒绝（{exc.smtp_code} {text}）"
    if isinstance(exc, ConnectionRefusedError):
        return "无法连接邮件服务器（连接被拒绝）"
    if isinstance(exc, TimeoutError):
        return "连接邮件服务器超时"
    return str(exc) if exc else "未知错误"


def deliver_monthly(
    model_dir: Path,
    config: Config,
    store,
    dry_run: bool = False,
    resend: bool = False,
    unmasked: bool = False,
    sleep=time.sleep,
) -> dict:
    """Send (or write as .eml) the month's summary from its report folder. Returns what happened."""
    kpis, pdf, xlsx = model_dir / "kpis.json", model_dir / "report.pdf", model_dir / "report.xlsx"
    missing = [p.name for p in (kpis, pdf, xlsx) if not p.exists()]
    if missing:
        raise DeliveryError(
            f"{model_dir} 中缺少 {'、'.join(missing)}，请先运行 pipeline run --month {model_dir.name}"
        )
    mixed = mixed_outputs(model_dir)
    if mixed:
        raise DeliveryError(
            f"{model_dir} 中的 {'、'.join(mixed)} 不是同一次运行生成的（上次运行可能中途被中断），未发送；"
            f"请先重新运行 pipeline run --month {model_dir.name}"
        )
    model = json.loads(kpis.read_text(encoding="utf-8"))
    settings = mail_settings(config)
    msg = build_message(model, pdf, xlsx, settings, unmasked, config.timezone)
    if dry_run:
        eml = model_dir / "summary.eml"
        eml.write_bytes(bytes(msg))
        return {"status": "dry-run", "path": eml, "subject": msg["Subject"]}
    previous = store.sent_mail(model["period"], "monthly") if store else None
    if previous and not resend:
        return {"status": "already-sent", "sent_at": previous["sent_at"], "subject": previous["subject"]}
    attempts = send(msg, settings, sleep)
    if store:
        store.record_mail(
            model["period"],
            "monthly",
            [*settings.to, *settings.cc],
            str(msg["Subject"]),
            msg["Message-ID"],
            datetime.now().isoformat(timespec="seconds"),
        )
    return {"status": "sent", "attempts": attempts, "subject": msg["Subject"], "to": settings.to}

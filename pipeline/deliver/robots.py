"""Group robots of 企业微信 (WeCom) and 钉钉 (DingTalk): each platform's published webhook protocol.

- WeCom: POST JSON to `…/cgi-bin/webhook/send?key=KEY`; Markdown content at most 4096 bytes (UTF-8);
  a file is first uploaded as multipart/form-data (field `media`, 5 B – 20 MB) to
  `…/cgi-bin/webhook/upload_media?key=KEY&type=file`, then sent as `{"msgtype": "file"}` by its media_id.
- DingTalk: POST JSON to `…/robot/send?access_token=T`, signed when the robot has a secret: the URL
  gains `timestamp` (ms, within an hour of the server's clock) and `sign` =
  urlencode(base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}"))), computed afresh for every request.
  Markdown text at most 20000 bytes; the robot cannot send files.
- Both answer `{"errcode": 0, "errmsg": "ok"}` on success and allow 20 messages a minute per robot
  (WeCom refuses with 45009, DingTalk with 130101). Network errors and HTTP 5xx are retried with
  back-off; a refusal is reported with its errcode and errmsg and what to do about it.

Webhooks and the signing secret come from the environment or credentials.toml, never config.toml.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import Config
from pipeline.credentials import FILE_NAME, secret
from pipeline.errors import ConfigError, PipelineError


class RobotError(PipelineError):
    """A robot refused a message, or could not be reached after the retries."""


@dataclass(frozen=True)
class Platform:
    key: str  # the credentials.toml section
    name: str
    webhook_var: str
    secret_var: str | None
    token_param: str  # the query parameter that identifies the robot
    limit: int  # Markdown bytes per message
    rate_codes: frozenset[int]
    advice: dict[int, str]
    files: bool


WECOM = Platform(
    "wecom",
    "企业微信",
    "PIPELINE_WECOM_WEBHOOK",
    None,
    "key",
    4096,
    frozenset({45009}),
    {
        93000: "webhook 地址无效或机器人已被移出群：请在群设置中重新复制机器人的 webhook 地址",
        40058: "消息内容超过长度上限",
        301019: "文件上传后已失效，请重新发送",
    },
    True,
)
DINGTALK = Platform(
    "dingtalk",
    "钉钉",
    "PIPELINE_DINGTALK_WEBHOOK",
    "PIPELINE_DINGTALK_SECRET",
    "access_token",
    20000,
    frozenset({130101}),
    {
        310000: "安全设置不符：请核对加签密钥（PIPELINE_DINGTALK_SECRET 或 credentials.toml [dingtalk] secret）"
        "和本机时间；机器人设了自定义关键词时，消息中须含该关键词；设了 IP 白名单时，须包含本机地址",
        300001: "access_token 无效：请在群设置中重新复制机器人的 webhook 地址",
        400013: "机器人所在的群已解散",
        460101: "消息内容超过长度上限",
    },
    False,
)
PLATFORMS = (WECOM, DINGTALK)
PER_MINUTE = 20
MAX_FILE = 20 * 1024 * 1024


def missing_robot_text() -> str:
    return (
        "没有配置群机器人：请设置环境变量 PIPELINE_WECOM_WEBHOOK（企业微信）或 PIPELINE_DINGTALK_WEBHOOK"
        "（钉钉；机器人启用加签时还要 PIPELINE_DINGTALK_SECRET），或写入 config.toml 旁的 "
        f"{FILE_NAME}（chmod 600）的 [wecom] webhook、[dingtalk] webhook / secret"
    )


@dataclass(frozen=True)
class Robot:
    platform: Platform
    webhook: str
    secret: str | None = None

    @property
    def name(self) -> str:
        return f"{self.platform.name}群机器人"


def configured_robots(config: Config) -> list[Robot]:
    """Every robot whose webhook is set (environment first, then credentials.toml)."""
    out = []
    for p in PLATFORMS:
        url = secret(config.path, p.key, "webhook")
        if not url:
            continue
        parts = urllib.parse.urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or p.token_param not in urllib.parse.parse_qs(parts.query):
            raise ConfigError(
                f"{p.name}群机器人的 webhook 地址不对（{p.webhook_var} 或 {FILE_NAME} [{p.key}] webhook）："
                f"应是群设置中复制的完整地址，含 {p.token_param}=…"
            )
        key = secret(config.path, p.key, "secret") if p.secret_var else None
        out.append(Robot(p, url.strip(), key.strip() if key else None))
    return out


@dataclass(frozen=True)
class PushSettings:
    schedule: bool = False  # scheduled runs push their summary
    file: bool = True  # the PDF as a file, where the platform allows it
    link: str = ""  # where people open the reports (a shared folder or web address), named in messages
    timeout: float = 15.0
    retries: int = 3
    backoff: float = 2.0
    rate_wait: float = 60.0  # a robot over its 20 messages a minute is blocked for a while
    max_parts: int = 5  # a long summary is split, up to this many messages; the rest is trimmed


def push_settings(config: Config) -> PushSettings:
    raw = dict(config.raw.get("push") or {})
    where = str(config.path or "config.toml")
    leaked = sorted(set(raw) & {"webhook", "secret", "wecom", "dingtalk"})
    if leaked:
        raise ConfigError(
            f"配置文件 {where}：[push] 中不能写 {'、'.join(leaked)}，webhook 地址和密钥属于凭据，"
            f"请写在 {FILE_NAME}（chmod 600）或环境变量中"
        )
    known = PushSettings.__dataclass_fields__
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(
            f"配置文件 {where}：[push] 不认识的设置 {'、'.join(unknown)}，可用：{'、'.join(known)}"
        )
    defaults = PushSettings()
    out = {}
    for name, value in raw.items():
        want = type(getattr(defaults, name))
        ok = isinstance(value, want) or (
            want is float and isinstance(value, int) and not isinstance(value, bool)
        )
        if not ok or (want is int and isinstance(value, bool)):
            kind = {bool: "true 或 false", str: "文字", int: "整数", float: "数字"}[want]
            raise ConfigError(f"配置文件 {where}：[push] {name} 应是{kind}，现在是 {value!r}")
        out[name] = want(value)
    return PushSettings(**out)


def split_message(text: str, limit: int, max_parts: int) -> tuple[list[str], str]:
    """Markdown cut at line ends into messages of at most `limit` UTF-8 bytes, each marked
    "（第 i/n 条）" when there are several; past max_parts the rest is dropped, saying so.
    Returns the messages and a note for the user ("" when it fitted in one)."""
    size = len(text.encode("utf-8"))
    if size <= limit:
        return [text], ""
    budget = limit - 64  # room for the part marker and the trimming note
    chunks: list[list[str]] = [[]]
    used = 0
    for line in text.split("\n"):
        raw = line.encode("utf-8")
        if len(raw) > budget:
            line = raw[: budget - 3].decode("utf-8", errors="ignore") + "…"
            raw = line.encode("utf-8")
        if used + len(raw) + 1 > budget and chunks[-1]:
            chunks.append([])
            used = 0
        chunks[-1].append(line)
        used += len(raw) + 1
    dropped = sum(len(c) for c in chunks[max_parts:])
    chunks = chunks[:max_parts]
    if dropped:
        chunks[-1].append(f"……另有 {dropped} 行未发送，请看完整报告")
    n = len(chunks)
    parts = [(f"（第 {i}/{n} 条）\n" if n > 1 else "") + "\n".join(c) for i, c in enumerate(chunks, 1)]
    note = f"消息 {size} 字节，超过每条 {limit} 字节的上限，分 {n} 条发送"
    return parts, note + (f"，其余 {dropped} 行未发送" if dropped else "")


def dingtalk_sign(key: str, timestamp_ms: int) -> str:
    digest = hmac.new(key.encode("utf-8"), f"{timestamp_ms}\n{key}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def _signed(robot: Robot, clock: Callable[[], float]) -> str:
    if not robot.secret:
        return robot.webhook
    ts = int(clock() * 1000)
    return f"{robot.webhook}&timestamp={ts}&sign={dingtalk_sign(robot.secret, ts)}"


def upload_url(webhook: str) -> str:
    """WeCom's upload_media address on the webhook's own host, with the same key."""
    parts = urllib.parse.urlsplit(webhook)
    path = parts.path.rsplit("/", 1)[0] + "/upload_media"
    return urllib.parse.urlunsplit(parts._replace(path=path, query=parts.query + "&type=file"))


def multipart(field_name: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field_name}"; '
        f'filename="{filename}"; filelength={len(data)}\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@dataclass
class Sender:
    """Posts to robots with retries and back-off, keeping each robot under 20 messages a minute."""

    settings: PushSettings = field(default_factory=PushSettings)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    sent: dict[str, deque] = field(default_factory=dict)

    def _throttle(self, robot: Robot) -> None:
        times = self.sent.setdefault(robot.webhook, deque(maxlen=PER_MINUTE))
        if len(times) == PER_MINUTE and (wait := 60 - (self.clock() - times[0])) > 0:
            self.sleep(wait)
        times.append(self.clock())

    def post(self, robot: Robot, body: bytes, content_type: str, url: str | None = None) -> dict:
        """One request, retried; returns the platform's answer (errcode 0) or raises RobotError."""
        p, s = robot.platform, self.settings
        problem = ""
        for attempt in range(1, s.retries + 1):
            self._throttle(robot)
            target = url or _signed(robot, self.clock)
            request = urllib.request.Request(target, data=body, method="POST")
            request.add_header("Content-Type", content_type)
            wait = s.backoff * 2 ** (attempt - 1)
            try:
                with urllib.request.urlopen(request, timeout=s.timeout) as response:
                    answer = json.loads(response.read().decode("utf-8"))
            except urllib.error.HTTPError as exc:
                problem = f"HTTP {exc.code}"
                if exc.code < 500 and exc.code != 429:
                    raise RobotError(f"{robot.name}拒绝了请求（{problem}）：请检查 webhook 地址") from exc
            except (OSError, ValueError) as exc:  # refused, reset, timed out, a cut-off answer
                problem = _network_text(exc)
            else:
                code = answer.get("errcode")
                if code == 0:
                    return answer
                message = f"errcode {code}：{answer.get('errmsg', '')}"
                if code not in p.rate_codes:
                    advice = p.advice.get(code)
                    raise RobotError(
                        f"{robot.name}拒绝了消息（{message}）" + (f"。{advice}" if advice else "")
                    )
                problem, wait = f"发送太频繁（{message}）", s.rate_wait
            if attempt < s.retries:
                self.sleep(wait)
        raise RobotError(
            f"{robot.name}发送失败（尝试 {s.retries} 次）：{problem}。请检查网络后用 pipeline push 重试"
        )

    def markdown(self, robot: Robot, title: str, text: str) -> list[str]:
        """The text as one or more Markdown messages; returns notes (split or trimmed)."""
        parts, note = split_message(text, robot.platform.limit, self.settings.max_parts)
        for part in parts:
            if robot.platform is WECOM:
                body = {"msgtype": "markdown", "markdown": {"content": part}}
            else:
                body = {"msgtype": "markdown", "markdown": {"title": title, "text": part}}
            self.post(robot, json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/json")
        return [note] if note else []

    def file(self, robot: Robot, path: Path, filename: str) -> str:
        """WeCom: upload then send the file. Returns a note when the file cannot go."""
        if not robot.platform.files:
            return f"{robot.platform.name}群机器人不能发送文件，消息中写明了报告位置"
        data = path.read_bytes()
        if not 5 < len(data) <= MAX_FILE:
            return f"{path.name} 大小 {len(data) / 1048576:.1f} MB，不在机器人允许的 5 字节 – 20 MB 之间，未作为文件发送"
        body, ctype = multipart("media", filename, data)
        media = self.post(robot, body, ctype, url=upload_url(robot.webhook))["media_id"]
        message = {"msgtype": "file", "file": {"media_id": media}}
        self.post(robot, json.dumps(message).encode("utf-8"), "application/json")
        return ""


def _network_text(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError) or "timed out" in str(exc):
        return "连接超时"
    if isinstance(exc, ConnectionRefusedError):
        return "连接被拒绝"
    if isinstance(exc, ValueError):
        return "服务器的回答不完整"
    reason = getattr(exc, "reason", exc)
    return f"网络错误（{reason}）"

"""A local stand-in for the WeCom and DingTalk robot webhooks on 127.0.0.1, checking requests as the
platforms do (key or access_token, DingTalk's timestamp window and HMAC-SHA256 signature, JSON shape,
Markdown size, WeCom's multipart upload, 20 messages a minute) and answering with their error codes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
import urllib.parse
import uuid
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class RobotServer:
    def __init__(self, wecom_key="wx-key-1", ding_token="dt-token-1", ding_secret="SECtest0123456789"):
        self.wecom_key, self.ding_token, self.ding_secret = wecom_key, ding_token, ding_secret
        self.messages: list[tuple[str, dict]] = []  # accepted (platform, body)
        self.uploads: dict[str, tuple[str, bytes]] = {}  # media_id → (filename, data)
        self.requests: list[tuple[str, str]] = []  # every (platform, outcome) in order
        self.faults: deque = deque()  # what the next requests meet: "drop", 502, or ("errcode", code, msg)
        self.sent: dict[str, deque] = defaultdict(deque)
        self.clock = time.time  # the platforms' own clock (signature window, rate limit)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def wecom_webhook(self) -> str:
        return f"{self.base}/cgi-bin/webhook/send?key={self.wecom_key}"

    @property
    def dingtalk_webhook(self) -> str:
        return f"{self.base}/robot/send?access_token={self.ding_token}"

    def write_credentials(self, folder: Path, mode: int = 0o600) -> Path:
        """credentials.toml in folder naming both robots of this server."""
        path = folder / "credentials.toml"
        path.write_text(
            f'[wecom]\nwebhook = "{self.wecom_webhook}"\n'
            f'[dingtalk]\nwebhook = "{self.dingtalk_webhook}"\nsecret = "{self.ding_secret}"\n',
            encoding="utf-8",
        )
        path.chmod(mode)
        return path

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def texts(self, platform: str) -> list[str]:
        out = []
        for p, body in self.messages:
            if p == platform and body["msgtype"] == "markdown":
                out.append(body["markdown"]["content" if p == "wecom" else "text"])
        return out

    # the platforms' checks ---------------------------------------------------------------------
    def _rate(self, robot: str, code: int, msg: str) -> dict | None:
        now, times = self.clock(), self.sent[robot]
        while times and now - times[0] >= 60:
            times.popleft()
        if len(times) >= 20:
            return {"errcode": code, "errmsg": msg}
        times.append(now)
        return None

    def wecom_send(self, query: dict, ctype: str, body: bytes) -> dict:
        if query.get("key") != [self.wecom_key]:
            return {"errcode": 93000, "errmsg": "invalid webhook url, hint: [1] from ip: 127.0.0.1"}
        if not ctype.startswith("application/json"):
            return {"errcode": 40035, "errmsg": "invalid content type"}
        try:
            data = json.loads(body.decode("utf-8"))
        except ValueError:
            return {"errcode": 40035, "errmsg": "not valid json"}
        kind = data.get("msgtype")
        if kind == "markdown":
            content = (data.get("markdown") or {}).get("content")
            if not isinstance(content, str) or not content:
                return {"errcode": 44004, "errmsg": "empty content"}
            if len(content.encode("utf-8")) > 4096:
                return {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}
        elif kind == "file":
            if (data.get("file") or {}).get("media_id") not in self.uploads:
                return {"errcode": 40007, "errmsg": "invalid media_id"}
        else:
            return {"errcode": 40008, "errmsg": "invalid message type"}
        limited = self._rate("wecom", 45009, "api freq out of limit")
        if limited:
            return limited
        self.messages.append(("wecom", data))
        return {"errcode": 0, "errmsg": "ok"}

    def wecom_upload(self, query: dict, ctype: str, body: bytes) -> dict:
        if query.get("key") != [self.wecom_key]:
            return {"errcode": 93000, "errmsg": "invalid webhook url"}
        if query.get("type") != ["file"]:
            return {"errcode": 40004, "errmsg": "invalid media type"}
        boundary = re.search(r"boundary=([^;]+)", ctype)
        if not ctype.startswith("multipart/form-data") or not boundary:
            return {"errcode": 40035, "errmsg": "not multipart"}
        for part in body.split(b"--" + boundary.group(1).encode())[1:-1]:
            if not part.startswith(b"\r\n") or not part.endswith(b"\r\n"):
                return {"errcode": 40035, "errmsg": "malformed multipart body"}
            head, _, data = part[2:-2].partition(b"\r\n\r\n")
            header = head.decode("utf-8")
            name = re.search(r'name="([^"]*)"', header)
            filename = re.search(r'filename="([^"]*)"', header)
            if name and name.group(1) == "media" and filename:
                if not 5 < len(data) <= 20 * 1024 * 1024:
                    return {"errcode": 40006, "errmsg": "invalid media size"}
                media = uuid.uuid4().hex
                self.uploads[media] = (filename.group(1), data)
                return {"errcode": 0, "errmsg": "ok", "type": "file", "media_id": media, "created_at": "0"}
        return {"errcode": 41001, "errmsg": "media field missing"}

    def dingtalk_send(self, query: dict, ctype: str, body: bytes) -> dict:
        if query.get("access_token") != [self.ding_token]:
            return {"errcode": 300001, "errmsg": "token is not exist"}
        if self.ding_secret:
            stamp, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
            if not stamp.isdigit() or abs(self.clock() * 1000 - int(stamp)) > 3600 * 1000:
                return {"errcode": 310000, "errmsg": "invalid timestamp"}
            digest = hmac.new(
                self.ding_secret.encode(), f"{stamp}\n{self.ding_secret}".encode(), hashlib.sha256
            ).digest()
            if sign != base64.b64encode(digest).decode():  # parse_qs has already url-decoded it
                return {"errcode": 310000, "errmsg": "sign not match"}
        try:
            data = json.loads(body.decode("utf-8"))
        except ValueError:
            return {"errcode": 400105, "errmsg": "不支持的消息格式"}
        if data.get("msgtype") != "markdown":
            return {"errcode": 40035, "errmsg": "缺少参数 msgtype"}
        md = data.get("markdown") or {}
        if not isinstance(md.get("title"), str) or not md.get("title") or not isinstance(md.get("text"), str):
            return {"errcode": 40035, "errmsg": "缺少参数 title 或 text"}
        if len(md["text"].encode("utf-8")) > 20000:
            return {"errcode": 460101, "errmsg": "message too long, exceed 20000 bytes"}
        limited = self._rate("dingtalk", 130101, "send too fast, exceed 20 times per minute")
        if limited:
            return limited
        self.messages.append(("dingtalk", data))
        return {"errcode": 0, "errmsg": "ok"}

    def _handler(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                parts = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(parts.query)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                routes = {
                    "/cgi-bin/webhook/send": ("wecom", owner.wecom_send),
                    "/cgi-bin/webhook/upload_media": ("wecom-upload", owner.wecom_upload),
                    "/robot/send": ("dingtalk", owner.dingtalk_send),
                }
                platform, route = routes.get(parts.path, ("?", None))
                fault = owner.faults.popleft() if owner.faults else None
                if fault == "drop":  # the connection closes without an answer
                    owner.requests.append((platform, "dropped"))
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if isinstance(fault, int):
                    owner.requests.append((platform, f"HTTP {fault}"))
                    self.send_error(fault)
                    return
                if fault:
                    answer = {"errcode": fault[1], "errmsg": fault[2]}
                elif route is None:
                    self.send_error(404)
                    return
                else:
                    answer = route(query, self.headers.get("Content-Type", ""), body)
                owner.requests.append((platform, str(answer["errcode"])))
                data = json.dumps(answer, ensure_ascii=False).encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

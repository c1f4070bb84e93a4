"""Secrets for unattended runs: one owner-only file beside config.toml, never config.toml itself.

`credentials.toml` (chmod 600) holds what a scheduled run cannot be given on a command line:

    [smtp]
    user = "kefu@example.com"
    password = "…"

    [wecom]
    webhook = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"

    [dingtalk]
    webhook = "https://oapi.dingtalk.com/robot/send?access_token=…"
    secret = "SEC…"

An environment variable wins over the file (VARIABLES: PIPELINE_SMTP_USER, …), so an
interactive run can override it; a scheduled run (cron starts it with almost no environment) reads
the file. A file that others can read is refused, saying how to fix it.
"""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path

from pipeline.errors import ConfigError

FILE_NAME = "credentials.toml"
VARIABLES = {
    ("smtp", "user"): "PIPELINE_SMTP_USER",
    ("smtp", "password"): "PIPELINE_SMTP_PASSWORD",
    ("wecom", "webhook"): "PIPELINE_WECOM_WEBHOOK",
    ("dingtalk", "webhook"): "PIPELINE_DINGTALK_WEBHOOK",
    ("dingtalk", "secret"): "PIPELINE_DINGTALK_SECRET",
}


def credentials_path(config_path: Path | None) -> Path:
    return (config_path.parent if config_path else Path.cwd()) / FILE_NAME


def _read(path: Path) -> dict:
    if not path.exists():
        return {}
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"凭据文件 {path} 其他用户也能读取（权限 {stat.filemode(mode)}），为安全起见不使用："
            f"请运行 chmod 600 {path}"
        )
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"凭据文件 {path} 格式错误：{exc}") from exc


def secret(config_path: Path | None, section: str, key: str) -> str | None:
    """The environment variable for (section, key), else the credentials file's value, else None."""
    variable = VARIABLES.get((section, key))
    if variable and os.environ.get(variable):
        return os.environ[variable]
    return in_file(config_path, section, key)


def environment_only(config_path: Path | None) -> list[str]:
    """Variables set in this shell but absent from the file: a scheduled run (cron) will not see them."""
    return [
        variable
        for (section, key), variable in VARIABLES.items()
        if os.environ.get(variable) and in_file(config_path, section, key) is None
    ]


def in_file(config_path: Path | None, section: str, key: str) -> str | None:
    value = (_read(credentials_path(config_path)).get(section) or {}).get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"凭据文件 {credentials_path(config_path)} 中 [{section}] {key} 必须是文字")
    return value

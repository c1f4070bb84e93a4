"""config.toml → a checked, immutable Config. Every bad key gets a Chinese message naming it."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pipeline.errors import ConfigError
from pipeline.registers import CHOICE, CORE, REGISTERS, ValueList, value_list

WEEKDAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}

DEFAULT_TARGETS: dict[str, float] = {
    "callback_rate": 1.0,
    "reply_rate": 1.0,
    "promise_kept_rate": 1.0,
    "same_day_verification_rate": 1.0,
    "effective_complaint_rate": 0.01,
    "callback_followup_rate": 1.0,
    "reinspection_on_time_rate": 1.0,
    "satisfaction_rate": 0.9,
    "routine_callback_coverage": 1.0,  # every household once a quarter (物管员按区域每季回访 1 次)
    "director_visit_coverage": 1.0,  # every household once a year (办公室主任每年登门回访)
    "action_on_time_rate": 1.0,  # the meetings' decisions done by their deadline
}


@dataclass(frozen=True)
class Property:
    name: str
    households: int | None
    aliases: tuple[str, ...] = ()
    registers: tuple[str, ...] = CORE  # the registers it is expected to hand in each month


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    inbox: Path = Path("inbox")
    archive: Path = Path("archive")
    store: Path | str = Path("store.sqlite")  # a SQLite file or a PostgreSQL URL
    reports: Path = Path("reports")
    targets: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TARGETS))
    effective_complaint_period: str = "year"
    properties: dict[str, Property] = field(default_factory=dict)
    aliases: dict[str, dict[str, str]] = field(default_factory=dict)  # register → {clerk header: canonical}
    meeting_weekday: int = 4
    meeting_time: time = time(16, 30)
    timezone: str = "Asia/Shanghai"
    holidays: dict[int, dict[str, tuple[str, ...]]] = field(default_factory=dict)  # year → holidays/workdays
    raw: dict[str, Any] = field(default_factory=dict)
    values: dict[tuple[str, str], ValueList] = field(default_factory=dict)  # [values.<register>.<column>]

    def choices(self, register: str, key: str) -> ValueList:
        """The values a choice column accepts here: the register's, as [values] in config.toml changes them."""
        found = self.values.get((register, key))
        return found if found is not None else value_list(REGISTERS[register].column(key))


def _fail(where: str, what: str) -> ConfigError:
    return ConfigError(f"配置文件 {where}：{what}")


def _path(base: Path, section: dict, key: str, default: str, where: str) -> Path:
    value = section.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, f"[paths] 中的 {key} 必须是路径字符串，现在是 {value!r}")
    p = Path(value).expanduser()
    return p if p.is_absolute() else (base / p)


def _store(base: Path, section: dict, where: str) -> Path | str:
    """A SQLite file (relative to the config file) or a PostgreSQL URL, kept as it is."""
    value = section.get("store")
    if isinstance(value, str) and value.strip().startswith(("postgresql://", "postgres://")):
        return value.strip()
    return _path(base, section, "store", "store.sqlite", where)


def _properties(data: dict, where: str) -> dict[str, Property]:
    out = {}
    for name, spec in (data or {}).items():
        if not isinstance(spec, dict):
            raise _fail(where, f'[properties."{name}"] 必须是一个表，例如 households = 1200')
        households = spec.get("households")
        if households is not None and (
            not isinstance(households, int) or isinstance(households, bool) or households <= 0
        ):
            raise _fail(
                where, f'[properties."{name}"] 的 households（户数）必须是正整数，现在是 {households!r}'
            )
        aliases = spec.get("aliases", [])
        if isinstance(aliases, str):
            aliases = [aliases]
        registers = spec.get("registers", list(CORE))
        if not isinstance(registers, list) or not all(r in REGISTERS for r in registers):
            raise _fail(
                where,
                f'[properties."{name}"] registers 必须是登记表名称的列表，可用：{", ".join(REGISTERS)}，现在是 {registers!r}',
            )
        out[name] = Property(
            name=name, households=households, aliases=tuple(aliases), registers=tuple(registers)
        )
    return out


def _aliases(data: dict, where: str) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for register, mapping in (data or {}).items():
        if register not in REGISTERS:
            raise _fail(where, f"[aliases.{register}] 不是已知的登记表，可用：{', '.join(REGISTERS)}")
        if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
            raise _fail(
                where,
                f'[aliases.{register}] 必须是一个表，每行写 "表中列名" = "标准列名"，现在是 {mapping!r}',
            )
        headers = {c.header for c in REGISTERS[register].columns}
        for clerk_header, canonical in mapping.items():
            if canonical not in headers:
                raise _fail(
                    where,
                    f'[aliases.{register}] 中 "{clerk_header}" = "{canonical}"：“{canonical}”不是该登记表的标准列名，'
                    f"可用：{'、'.join(sorted(headers))}",
                )
        out[register] = dict(mapping)
    return out


def _values(data: dict, where: str) -> dict[tuple[str, str], ValueList]:
    """[values.complaints."投诉类别"] allowed = [...] (instead of the built-in list), extra = [...] (added),
    synonyms = {"装配不良" = "装配问题"}; the column named by its header or its key."""
    out = {}
    for register, columns in (data or {}).items():
        if register not in REGISTERS or not isinstance(columns, dict):
            raise _fail(where, f"[values.{register}] 不是已知的登记表，可用：{', '.join(REGISTERS)}")
        reg = REGISTERS[register]
        by_name = {c.header: c for c in reg.columns if c.type == CHOICE} | {
            c.key: c for c in reg.columns if c.type == CHOICE
        }
        for name, spec in columns.items():
            col = by_name.get(name)
            if col is None or not isinstance(spec, dict):
                known = "、".join(c.header for c in reg.columns if c.type == CHOICE)
                raise _fail(where, f'[values.{register}."{name}"] 不是该登记表的选择列，可用：{known}')
            unknown = set(spec) - {"allowed", "extra", "synonyms"}
            if unknown:
                raise _fail(
                    where,
                    f'[values.{register}."{name}"] 只能写 allowed、extra、synonyms，不认识 {"、".join(sorted(unknown))}',
                )
            lists = {k: spec.get(k) for k in ("allowed", "extra")}
            for key, value in lists.items():
                if value is not None and (
                    not isinstance(value, list) or not all(isinstance(v, str) for v in value)
                ):
                    raise _fail(
                        where,
                        f'[values.{register}."{name}"] {key} 必须是文字列表，例如 ["装配问题", "外观不良"]',
                    )
            synonyms = spec.get("synonyms", {})
            if not isinstance(synonyms, dict) or not all(isinstance(v, str) for v in synonyms.values()):
                raise _fail(where, f'[values.{register}."{name}"] synonyms 必须写成 {{ "写法" = "可选值" }}')
            values = value_list(col, lists["allowed"], lists["extra"] or (), synonyms)
            wrong = sorted(v for v in synonyms.values() if v not in values.choices)
            if wrong:
                raise _fail(
                    where, f'[values.{register}."{name}"] synonyms 指向了不在可选值中的 {"、".join(wrong)}'
                )
            out[(register, col.key)] = values
    return out


def _meeting(data: dict, where: str) -> tuple[int, time, str]:
    weekday = str(data.get("weekday", "friday")).lower()
    if weekday not in WEEKDAYS:
        raise _fail(where, f"[meeting] weekday 应为 {', '.join(WEEKDAYS)} 之一，现在是 {weekday!r}")
    try:
        hh, mm = str(data.get("time", "16:30")).split(":")
        at = time(int(hh), int(mm))
    except ValueError as exc:
        raise _fail(where, f'[meeting] time 应写成 "16:30" 的形式，现在是 {data.get("time")!r}') from exc
    tz = data.get("timezone", "Asia/Shanghai")
    try:
        ZoneInfo(str(tz))
    except (ValueError, ZoneInfoNotFoundError) as exc:
        raise _fail(where, f'[meeting] timezone “{tz}” 不是有效的时区，例如 "Asia/Shanghai"') from exc
    return WEEKDAYS[weekday], at, str(tz)


def _holidays(data: dict, where: str) -> dict[int, dict[str, tuple[str, ...]]]:
    out = {}
    for year, spec in (data or {}).items():
        if not str(year).isdigit():
            raise _fail(where, f"[holidays.{year}] 的键必须是年份，例如 [holidays.2027]")
        lists = (spec.get("holidays", ()), spec.get("workdays", ())) if isinstance(spec, dict) else None
        if lists is None or not all(
            isinstance(x, list | tuple) and all(isinstance(d, str) for d in x) for x in lists
        ):
            raise _fail(
                where,
                f'[holidays.{year}] 必须写成 holidays = ["{year}-01-01", …] 和 workdays = [...]，现在是 {spec!r}',
            )
        out[int(year)] = {
            "holidays": tuple(spec.get("holidays", ())),
            "workdays": tuple(spec.get("workdays", ())),
        }
    return out


def parse_config(data: dict, base: Path, path: Path | None = None) -> Config:
    where = str(path) if path else "（默认配置）"
    paths = data.get("paths", {})
    targets = dict(DEFAULT_TARGETS)
    period = "year"
    for key, value in (data.get("targets") or {}).items():
        if key == "effective_complaint_rate_period":
            if value not in ("year", "month"):
                raise _fail(
                    where,
                    f'[targets] effective_complaint_rate_period 只能是 "year" 或 "month"，现在是 {value!r}',
                )
            period = value
            continue
        if key not in DEFAULT_TARGETS:
            raise _fail(where, f"[targets] 中的 {key} 不是已知指标，可用：{', '.join(DEFAULT_TARGETS)}")
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
            raise _fail(
                where, f"[targets] {key} 必须是 0 到 1 之间的小数（例如 1.0 表示 100%），现在是 {value!r}"
            )
        targets[key] = float(value)
    weekday, at, tz = _meeting(data.get("meeting", {}), where)
    limit = (data.get("outputs") or {}).get("annotate_max_files", 500)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise _fail(where, f"[outputs] annotate_max_files 必须是不小于 0 的整数，现在是 {limit!r}")
    return Config(
        path=path,
        inbox=_path(base, paths, "inbox", "inbox", where),
        archive=_path(base, paths, "archive", "archive", where),
        store=_store(base, paths, where),
        reports=_path(base, paths, "reports", "reports", where),
        targets=targets,
        effective_complaint_period=period,
        properties=_properties(data.get("properties", {}), where),
        aliases=_aliases(data.get("aliases", {}), where),
        meeting_weekday=weekday,
        meeting_time=at,
        timezone=tz,
        holidays=_holidays(data.get("holidays", {}), where),
        raw=data,
        values=_values(data.get("values", {}), where),
    )


def load_config(path: str | Path) -> Config:
    """Read and check a config.toml. Relative paths in it resolve against its own folder."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise ConfigError(f"找不到配置文件 {path}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"配置文件 {path} 不是 UTF-8 编码，请用 UTF-8 保存") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"配置文件 {path} 格式错误：{exc}") from exc
    return parse_config(data, path.parent.resolve(), path)

"""Validation: run the enabled rules over the current records and collect findings (never raise)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from pipeline.config import Config
from pipeline.domain import attribute, inline_callbacks, key_cases
from pipeline.errors import ConfigError
from pipeline.findings import Finding
from pipeline.frames import frames
from pipeline.validate.rules import EMITTED, RULES, SEVERITIES, RuleContext
from pipeline.workdays import WorkCalendar


def rule_settings(config: Config) -> dict[str, tuple[bool, str, dict]]:
    """(enabled, severity, params) per rule, from the defaults and config.toml [rules.<code>]."""
    raw = config.raw.get("rules", {}) or {}
    out = {}
    for code in raw:
        if code not in RULES:
            raise ConfigError(f"配置文件 [rules.{code}] 不是已知规则，可用：{', '.join(RULES)}")
    for code, spec in RULES.items():
        if not isinstance(raw.get(code, {}), dict):
            raise ConfigError(f"配置文件 [rules.{code}] 必须是一个表，例如 enabled = false")
        given = dict(raw.get(code, {}))
        enabled = given.pop("enabled", True)
        if not isinstance(enabled, bool):
            raise ConfigError(f"配置文件 [rules.{code}] enabled 只能是 true 或 false，现在是 {enabled!r}")
        severity = given.pop("severity", spec.severity)
        if severity not in SEVERITIES:
            raise ConfigError(
                f"配置文件 [rules.{code}] severity 只能是 error、warning 或 info，现在是 {severity!r}"
            )
        for key, value in given.items():
            if key not in spec.params:
                known = "、".join(spec.params) or "（无参数）"
                raise ConfigError(f"配置文件 [rules.{code}] 没有参数 {key}，可用：{known}")
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(
                    f"配置文件 [rules.{code}] {key} 必须是不小于 0 的整数（天数），现在是 {value!r}"
                )
        out[code] = (enabled, severity, {**spec.params, **given})
    enabled, severity, params = out["value-not-allowed"]
    params["choices"] = {f"{reg}.{key}": list(values.choices) for (reg, key), values in config.values.items()}
    out["households-differ"][2]["households"] = {name: p.households for name, p in config.properties.items()}
    return out


RULE_THREADS = 2  # the rules run side by side (run_rules); more would mostly wait for Python's lock


def run_rules(records: dict, as_of: datetime, config: Config, columns: dict | None = None) -> list[Finding]:
    """All findings of the enabled rules over the records (typed frames, or dicts as the store and
    the loader give them), sorted by file, sheet and row. Feedback naming no property is first given
    its complaint's, where that is one property (domain.attribute), in the frames given; the callbacks
    written on a case's row are callbacks (domain.inline_callbacks)."""
    data = frames(records)
    attribute(data)
    inline_callbacks(data)
    key_cases(data)
    calendar = WorkCalendar(config.holidays)
    contexts = [
        RuleContext(data, as_of, calendar, columns or {}, params, severity, code)
        for code, (enabled, severity, params) in rule_settings(config).items()
        if enabled
    ]
    findings: list[Finding] = []
    # two threads: the rules only read the frames (keyed and attributed above), and much of their
    # work is in Arrow's and numpy's kernels, which leave Python's lock (a group's rules 1.66 → 1.05 s
    # on two cores, measured); map keeps the rules' order, and so the findings'
    with ThreadPoolExecutor(RULE_THREADS, thread_name_prefix="rules") as pool:
        for found in pool.map(_apply, contexts):
            findings.extend(found)
    sort_findings(findings)
    return findings


def _apply(ctx: RuleContext) -> list[Finding]:
    return RULES[ctx.code].func(ctx)


# where a rule's findings come in RULES (a code a rule emits besides its own: that rule's place)
_POSITION = {code: i for i, code in enumerate(RULES)}
_POSITION |= {code: _POSITION[rule] for code, (rule, _) in EMITTED.items()}


def sort_findings(findings: list[Finding]) -> None:
    """By file, sheet, row and column; findings on one cell in the order of RULES (the order they
    are found in), however they were gathered."""
    findings.sort(key=lambda f: (f.file, f.sheet or "", f.row or 0, f.letter or "", _POSITION.get(f.code, 0)))

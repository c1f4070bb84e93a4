"""Reusing a period's outputs when nothing they depend on has changed.

A run's reports are a pure function of the store's contents, the configuration, the period, the
as-of time, the run's options and the code. A run that loads nothing new and finds all of these
unchanged since the last run into the same folder — and that folder's outputs byte-identical to
what that run wrote — reuses them instead of validating, computing and rendering again. The rule
findings in the store must also be the ones that run left (another period's run may have
re-validated with another as-of time in between).

`pipeline run --force` always recomputes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import datetime
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from pipeline import __version__
from pipeline.config import Config
from pipeline.load.loader import file_hash

RULES_STATE = "rules_key"  # the store's meta key: what the rule findings in the store were computed from


def _calendar_version() -> str:
    try:
        return version("chinesecalendar")
    except PackageNotFoundError:  # pragma: no cover - a declared dependency
        return "?"


CODE_SUFFIXES = (".py", ".j2", ".css", ".html", ".toml", ".txt")  # what the outputs are made by


@lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of the pipeline's own code and templates as installed: an upgrade recomputes the
    outputs even when the version string stays the same (0.1.0 through every change so far, so the
    version alone let a new release reuse an older one's reports). About 4 ms, once a process."""
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in CODE_SUFFIXES and "__pycache__" not in path.parts and path.is_file():
            h.update(str(path.relative_to(root)).encode("utf-8") + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _digest(parts: dict) -> str:
    text = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def rules_key(config: Config, as_of: datetime, generation: str) -> str:
    """What the store's rule findings depend on."""
    return _digest(
        {
            "store": generation,
            "config": asdict(config),
            "as_of": as_of.isoformat(),
            "version": __version__,
            "code": code_digest(),
            "calendar": _calendar_version(),
        }
    )


def outputs_key(rules: str, period_label: str, options: dict) -> str:
    """What a period folder's outputs depend on, beyond the rule findings."""
    return _digest({"rules": rules, "period": period_label, "options": options})


def reusable(report_dir: Path, key: str) -> dict | None:
    """The manifest of the folder's last run if it was made from `key` and its outputs are intact."""
    try:
        manifest = json.loads((report_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("reuse_key") != key or not manifest.get("outputs"):
        return None
    for name, digest in manifest["outputs"].items():
        path = Path(name)
        if not path.is_file() or file_hash(path) != digest:
            return None
    return manifest


def outputs_of(manifest: dict) -> dict:
    """The reused run's report outputs as paths (a reused run writes no new annotated copies)."""
    out = {}
    for kind, value in (manifest.get("outputs_by_kind") or {}).items():
        if kind in ("annotated", "annotated_skipped", "manifest"):
            continue
        out[kind] = [Path(v) for v in value] if isinstance(value, list) else Path(value)
    return out


def by_kind(outputs: dict) -> dict:
    """Outputs as JSON: paths as strings, lists of paths as lists of strings, counts as they are."""
    out = {}
    for kind, value in outputs.items():
        if isinstance(value, list):
            out[kind] = [str(v) for v in value]
        else:
            out[kind] = str(value) if isinstance(value, Path) else value
    return out


SENT = ("kpis.json", "report.pdf", "report.xlsx")  # what an email or a push sends of a period folder


def mixed_outputs(report_dir: Path) -> list[str]:
    """What of the folder's kpis.json, PDF and Excel report is not what its manifest says its last
    run wrote (a run killed while rendering over an older folder leaves a mix): empty when whole."""
    try:
        manifest = json.loads((report_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ["manifest.json"]
    written = {Path(name).name: digest for name, digest in (manifest.get("outputs") or {}).items()}
    return [
        name
        for name in SENT
        if name not in written
        or not (report_dir / name).is_file()
        or file_hash(report_dir / name) != written[name]
    ]

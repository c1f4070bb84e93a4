"""Write a file so that a crash never leaves a half-written one: temp file in the same folder, then rename."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside target; on success it replaces target, on failure it is removed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f".{glob.escape(target.name)}.*.part"):
        stale.unlink(missing_ok=True)  # left by a run killed while writing (kill -9 skips every cleanup)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()

"""One log file per run (reports/logs/run-YYYYmmdd-HHMMSS.log). Tracebacks go here, never to the user.

Only file names, counts and timings are logged: no customer names or phone numbers.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path


@contextmanager
def run_log(folder: Path) -> Iterator[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"run-{datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("pipeline")
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
        handler.close()

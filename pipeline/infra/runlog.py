"""One log file per run (reports/logs/run-YYYYmmdd-HHMMSS.log). Tracebacks go here, never to the user.

Only file names, counts and timings are logged: no customer names or phone numbers.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

_warned = logging.getLogger("pipeline.warnings")


def warning_to_log(message, category, filename, lineno, file=None, line=None) -> None:
    """warnings.showwarning for the pipeline: a library's warning (openpyxl's "Cell D2 is marked as
    a date…" for a phone number in a date-formatted cell) goes to the run's log at INFO, so it
    never reaches the terminal (whose handler shows WARNING and above)."""
    _warned.info("%s: %s (%s:%s)", category.__name__, message, Path(filename).name, lineno)


@contextmanager
def warnings_logged() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = warning_to_log
        yield


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
        with warnings_logged():
            yield path
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
        handler.close()

"""An exclusive lock per store and report folder, so two runs never write the same ones at once."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from pipeline.errors import PipelineError

_HELD: set[int] = set()


def held() -> tuple[int, ...]:
    """Descriptors of the locks this process holds (worker processes close them)."""
    return tuple(_HELD)


class Busy(PipelineError):
    """Another run holds the lock."""


@contextmanager
def exclusive(path: Path, wait: float = 0.0, poll: float = 0.5) -> Iterator[None]:
    """Hold an flock on path (created if needed); wait up to `wait` seconds, then raise Busy in Chinese."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "未知"
                    raise Busy(
                        f"另一个 pipeline 正在运行（{holder}），使用 {path.name}；请等它结束后再试，或加 --wait 秒数排队等待"
                    ) from None
                time.sleep(poll)
        _HELD.add(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"进程 {os.getpid()}，开始于 {datetime.now():%Y-%m-%d %H:%M:%S}".encode(), 0)
        yield
    finally:
        _HELD.discard(fd)
        os.close(fd)  # closing the descriptor releases the lock

"""Worker processes for loading and annotating.

Workers are forked from the run and, on start, close the run's lock descriptors and ask the
kernel to kill them when the run dies (Linux PR_SET_PDEATHSIG). A run killed with kill -9 thus
leaves no workers behind, and none that keeps its store locked.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor

from pipeline import lock

PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int, lock_fds: tuple[int, ...]) -> None:
    for fd in lock_fds:
        try:
            os.close(fd)
        except OSError:
            pass
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: workers end when their queue closes
    if os.getppid() != parent:  # the run died before prctl took effect
        os._exit(1)


def worker_pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_die_with_parent,
        initargs=(os.getpid(), lock.held()),
    )


def default_workers() -> int:
    return min(os.cpu_count() or 1, 4)


def mapped(fn: Callable, jobs: list, workers: int | None, serial_below: int, chunksize: int) -> Iterator:
    """fn over jobs in order: in this process for a few jobs, else on a worker pool (results stream back)."""
    workers = workers if workers is not None else default_workers()
    if len(jobs) < serial_below or workers < 2:
        yield from map(fn, jobs)
        return
    with worker_pool(workers) as pool:
        yield from pool.map(fn, jobs, chunksize=chunksize)

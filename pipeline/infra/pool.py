"""Worker processes (loading, annotating, the Excel report) and the run's resident memory (rss_mb).

Workers are forked from the run and, on start, close the run's lock descriptors and ask the
kernel to kill them when the run dies (Linux PR_SET_PDEATHSIG). A run killed with kill -9 thus
leaves no workers behind, and none that keeps its store locked.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import resource
import signal
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from itertools import islice

from pipeline.infra import lock

PR_SET_PDEATHSIG = 1
IN_FLIGHT = 8  # chunks per worker submitted ahead of the consumer


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


def timed(fn: Callable, *args, **kwargs) -> tuple:
    """(fn's result, seconds it took)."""
    started = time.perf_counter()
    return fn(*args, **kwargs), round(time.perf_counter() - started, 3)


_INHERITED: dict[int, tuple] = {}  # forked() calls, handed to the worker by the fork itself


def _inherited_call(key: int) -> tuple:
    fn, args, kwargs = _INHERITED[key]
    return timed(fn, *args, **kwargs)


@contextmanager
def forked(fn: Callable, *args, **kwargs) -> Iterator[Future]:
    """fn(*args) in one forked worker while the block runs; the future gives (result, seconds).

    The arguments reach the worker through the fork (it starts while they are in memory), never
    through pickling: a year of records or a report model costs nothing to hand over; only the
    result travels back. The heap is frozen for the fork (gc.freeze), so the worker's collector
    does not copy the run's memory page by page. Leaving the block waits for the worker; leaving it
    by an exception stops the worker (a failed run writes none of its outputs after the failure;
    what it had written whole stays, whatever was half-written is a temp file the next run removes)."""
    key = id(args)
    _INHERITED[key] = (fn, args, kwargs)
    try:
        with worker_pool(1) as pool:
            gc.freeze()
            try:
                job = pool.submit(_inherited_call, key)  # forks here (the fork start method)
            finally:
                gc.unfreeze()
            try:
                yield job
            except BaseException:
                _stop(pool)
                raise
    finally:
        del _INHERITED[key]


@contextmanager
def spawned(fn: Callable, *args, **kwargs) -> Iterator[Future]:
    """fn(*args) in one fresh worker (spawned) while the block runs; the future gives (result, seconds).

    For work that starts while the run holds its records: a forked worker would keep, as its own,
    every page the run rewrites or frees while it lives (0.6–0.8 GB more at 300 properties, measured
    as the processes' summed PSS); a spawned one holds only its pickled arguments, and takes a second
    of the other core to import what it needs. Leaving the block by an exception stops the worker."""
    with ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_die_with_parent,
        initargs=(os.getpid(), ()),  # a spawned process inherits no lock descriptors
    ) as pool:
        job = pool.submit(timed, fn, *args, **kwargs)
        try:
            yield job
        except BaseException:
            _stop(pool)
            raise


def _stop(pool: ProcessPoolExecutor) -> None:
    """Kill the pool's workers (Python 3.11's executor has no public way; 3.14 adds terminate_workers)."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.kill()


def rss_mb() -> float:
    """This process's resident memory now (Linux), else its peak so far."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def default_workers() -> int:
    return min(os.cpu_count() or 1, 4)


def _run_chunk(fn: Callable, chunk: list) -> list:
    return [fn(job) for job in chunk]


def mapped(fn: Callable, jobs: list, workers: int | None, serial_below: int, chunksize: int) -> Iterator:
    """fn over jobs in order: in this process for a few jobs, else on a worker pool.

    Results stream back in order with a few chunks per worker in flight, never more: when the
    consumer (the run writing to its store) is slower than the workers, finished results wait in
    a short queue instead of piling up in memory.
    """
    workers = workers if workers is not None else default_workers()
    if len(jobs) < serial_below or workers < 2:
        yield from map(fn, jobs)
        return
    chunks = iter([jobs[i : i + chunksize] for i in range(0, len(jobs), chunksize)])
    with worker_pool(workers) as pool:
        pending = deque(pool.submit(_run_chunk, fn, c) for c in islice(chunks, workers * IN_FLIGHT))
        while pending:
            done = pending.popleft().result()
            following = next(chunks, None)
            if following is not None:
                pending.append(pool.submit(_run_chunk, fn, following))
            yield from done

"""Worker processes (loading, annotating, the Excel report, the KPI trends) and the run's memory
(collector_paused, Packed, release_free_memory).

Workers are forked from the run and, on start, close the run's lock descriptors and ask the
kernel to kill them when the run dies (Linux PR_SET_PDEATHSIG). A run killed with kill -9 thus
leaves no workers behind, and none that keeps its store locked.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import pickle
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
    does not copy the run's memory page by page. Leaving the block waits for the worker."""
    key = id(args)
    _INHERITED[key] = (fn, args, kwargs)
    release_free_memory()  # freed pages are not shared with the worker, nor copied later
    try:
        with worker_pool(1) as pool:
            gc.freeze()
            try:
                job = pool.submit(_inherited_call, key)  # forks here (the fork start method)
            finally:
                gc.unfreeze()
            yield job
    finally:
        del _INHERITED[key]


def release_free_memory() -> None:
    """Give memory the run has freed (a year of records after the KPIs) back to the system
    (glibc's malloc_trim); elsewhere a no-op."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


class Packed:
    """An object pickled, to be rebuilt once what it was built among has been freed.

    The KPI model is built while a year of records fills the heap: once they are freed, its
    million small objects stay scattered over about 1 GB of pages that cannot go back to the
    system, and that the Excel report's forked worker would share and partly copy. Packed before
    the records go and unpacked after, it lies in a few fresh pages (0.4 s at 300 properties)."""

    def __init__(self, obj: object) -> None:
        self.blob = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)

    def unpack(self):
        release_free_memory()
        obj, self.blob = pickle.loads(self.blob), b""
        return obj


def rss_mb() -> float:
    """This process's resident memory now (Linux), else its peak so far."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fork_fits(budget_mb: int) -> bool:
    """Whether a forked worker that reads the run's data fits the memory budget. Reading a
    Python object writes its reference count, so such a worker ends up copying most of what it
    reads: count it as a second copy of everything the run holds."""
    return 2 * rss_mb() <= budget_mb


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


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a stage builds and scans many objects that hold no cycles
    and live till it ends: a year of a group's records (a million dicts), the Excel report's 1.7
    million cells. The collector would traverse them all again each time the heap grows by a
    quarter (1-2 s of validation and as much of the KPIs at 300 properties, 0.5 s of the Excel
    file); what little cyclic garbage the stage leaves is collected once it is back on."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()

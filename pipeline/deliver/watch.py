"""`pipeline watch`: validate each file dropped into the inbox as soon as it is completely written.

A file counts as complete when its size and modification time have not changed for `settle`
seconds; Office lock files (~$…) and hidden files are ignored. The file is checked like
`pipeline validate` (not stored: the scheduled run does that) and its annotated copy written.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from watchdog.events import FileSystemEventHandler
from watchdog.observers import Observer

from pipeline.config import Config
from pipeline.load.read import SUFFIXES


def _interesting(path: Path) -> bool:
    name = path.name
    return (
        not (name.startswith("~$") or name.startswith(".") or name.startswith(".~lock"))
        and path.suffix.lower() in SUFFIXES
    )


class _Pending(FileSystemEventHandler):
    def __init__(self):
        self.seen: dict[Path, float] = {}
        self.lock = threading.Lock()

    def _touch(self, path: str) -> None:
        p = Path(path)
        if _interesting(p):
            with self.lock:
                self.seen[p] = time.monotonic()

    def on_created(self, event):
        if not event.is_directory:
            self._touch(event.src_path)

    def on_modified(self, event):
        if not event.is_directory:
            self._touch(event.src_path)

    def on_moved(self, event):
        if not event.is_directory:
            self._touch(event.dest_path)


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _unprocessed(config: Config, inbox: Path) -> list[Path]:
    """Files already in the inbox that no run has stored (by content hash), oldest first."""
    from pipeline.store import Store
    from pipeline.store import exists as store_exists
    from pipeline.store.ingest import content_hashes, scan_inbox

    paths, _ = scan_inbox(inbox)
    if not paths or not store_exists(config.store):
        return paths
    with Store(config.store) as store:
        known = store.known_hashes()
        hashes = content_hashes(store, paths)
    return [p for p, sha, _ in hashes if sha not in known]


def watch(
    config: Config,
    inbox: Path,
    out: Path,
    echo: Callable[[str], None] = print,
    settle: float = 2.0,
    stop: threading.Event | None = None,
    poll: float = 0.25,
    on_result: Callable[[dict], None] | None = None,
) -> None:
    """Watch until stop is set (or Ctrl+C). Each complete file is validated and annotated."""
    from pipeline import periods
    from pipeline.render.clerk import validate_files
    from pipeline.store import Store
    from pipeline.store import exists as store_exists
    from pipeline.validate.stage import describe_results

    inbox.mkdir(parents=True, exist_ok=True)
    stop = stop or threading.Event()
    pending = _Pending()
    waiting = _unprocessed(config, inbox)  # dropped while nobody watched: checked first
    if waiting:
        echo(f"[{datetime.now():%H:%M:%S}] 收件箱中已有 {len(waiting)} 个尚未处理的文件，先逐个检查")
    with pending.lock:
        for path in waiting:
            pending.seen[path] = time.monotonic()
    observer = Observer()
    observer.schedule(pending, str(inbox), recursive=True)
    observer.start()
    stable: dict[Path, tuple[tuple[int, int], float]] = {}
    done: dict[Path, tuple[int, int]] = {}
    try:
        while not stop.is_set():
            with pending.lock:
                candidates = list(pending.seen)
            for path in candidates:
                sig = _signature(path)
                if sig is None:
                    with pending.lock:
                        pending.seen.pop(path, None)
                    continue
                last = stable.get(path)
                if last is None or last[0] != sig:
                    stable[path] = (sig, time.monotonic())
                    continue
                if time.monotonic() - last[1] < settle or done.get(path) == sig or sig[0] == 0:
                    continue
                with pending.lock:
                    pending.seen.pop(path, None)
                done[path] = sig
                store = Store(config.store) if store_exists(config.store) else None
                try:
                    results = validate_files([path], config, periods.now_local(config), store, out)
                finally:
                    if store:
                        store.close()
                lines, _ = describe_results(results, limit=20)
                echo(f"[{datetime.now():%H:%M:%S}] 收到 {path.name}")
                for line in lines:
                    echo(line)
                if on_result:
                    on_result(results[0])
            stop.wait(poll)
    except KeyboardInterrupt:
        pass
    finally:
        observer.stop()
        observer.join(timeout=5)

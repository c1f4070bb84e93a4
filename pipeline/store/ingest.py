"""Inbox → store: find new files by content hash, load them (in parallel), archive and store them.

Input files are never modified: they are read, and copied into the archive under their hash.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pipeline.config import Config
from pipeline.findings import CODES, Finding
from pipeline.infra.pool import mapped
from pipeline.load.loader import LoadedFile, file_hash, load_file
from pipeline.load.read import SUFFIXES
from pipeline.store import FileRows, Store, file_rows

PARALLEL_FROM = 6  # files; below this a process pool costs more than it saves


@dataclass
class FileOutcome:
    file_id: int
    name: str
    sha256: str
    register: str | None
    properties: list[str]
    rows_read: int
    rows_loaded: int
    rows_set_aside: int
    reasons: dict[str, int]  # finding title → rows set aside for it
    findings_by_severity: dict[str, int]
    superseded: int
    error: Finding | None
    archived: str | None = None
    older: dict | None = None  # the stored version this file is older than (Store.newer_stored): not stored
    rows_skipped: int = 0  # not data (ghost rows, signature lines, repeated headers)
    recovered: bool = False  # stored by an earlier run that died before it said so
    skipped: dict[str, int] = field(default_factory=dict)  # reason → rows


@dataclass
class IngestResult:
    outcomes: list[FileOutcome] = field(default_factory=list)
    unchanged: int = 0  # files already in the store
    names: set[str] = field(default_factory=set)  # every candidate file in the inbox, by relative name
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (name, why)

    @property
    def rows_read(self) -> int:
        return sum(o.rows_read for o in self.outcomes)

    @property
    def rows_set_aside(self) -> int:
        return sum(o.rows_set_aside for o in self.outcomes)

    @property
    def older(self) -> list[FileOutcome]:
        """Older versions of stored registers, left out (--force applies them)."""
        return [o for o in self.outcomes if o.older]

    @property
    def rows_skipped(self) -> int:
        return sum(o.rows_skipped for o in self.outcomes)

    @property
    def rejected(self) -> int:
        return sum(1 for o in self.outcomes if o.error)


def scan_inbox(inbox: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    """Candidate files (oldest first, so a correction dropped later supersedes) and ignored names.

    One directory read per folder and one stat per candidate (os.scandir: a file's type comes with
    its name), not three: a group's inbox holds 18,000 files, scanned by every run."""
    files: list[tuple[int, str, Path]] = []
    ignored: list[tuple[str, str]] = []
    if not inbox.is_dir():
        return [], ignored

    def scan(folder: str, prefix: str) -> None:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            name, rel = entry.name, prefix + entry.name
            if entry.is_dir():
                if not entry.is_symlink() and not name.startswith("."):  # as os.walk(followlinks=False)
                    scan(entry.path, rel + os.sep)
                continue
            if name.startswith("~$") or name.startswith(".~lock"):
                continue  # Office lock files: someone has the file open
            if name.startswith("."):
                continue
            if entry.is_symlink():
                ignored.append((rel, "是符号链接，为安全起见不读取"))
                continue
            suffix = os.path.splitext(name)[1]
            if suffix.lower() not in SUFFIXES:
                ignored.append((rel, f"不是登记表文件类型（{suffix or '无扩展名'}）"))
                continue
            path = inbox / rel
            files.append((entry.stat().st_mtime_ns, str(path), path))

    scan(str(inbox), "")
    files.sort(key=lambda f: f[:2])
    return [path for _, _, path in files], ignored


def content_hashes(store: Store | None, paths: list[Path]) -> list[tuple[Path, str, tuple | None]]:
    """(path, sha256 of its content, fresh) for each file: the hash from the store's cache where the
    file's path, size and modification time are still those it was hashed at, else read now, and
    then fresh = (its stat, sha256) for Store.remember_hash. The cache is read once, not asked once
    per file: a group's inbox holds 18,000 files, and every run, `status` and `watch` check them all
    (one query each was 0.25 s of a weekly run, its loading workers not yet started)."""
    cache = store.hash_cache() if store is not None else {}
    out: list[tuple[Path, str, tuple | None]] = []
    for path in paths:
        stat = path.stat()
        got = cache.get(str(path))
        if got is not None and got[0] == stat.st_size and got[1] == stat.st_mtime_ns:
            out.append((path, got[2], None))
        else:
            sha = file_hash(path)
            out.append((path, sha, (stat, sha)))
    return out


def archive_copy(path: Path, sha256: str, archive: Path) -> Path:
    """Copy an input into the archive under its hash (owner-only), atomically."""
    folder = archive / sha256[:2]
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(archive, 0o700)
    target = folder / f"{sha256}{path.suffix.lower()}"
    if not target.exists():
        tmp = target.with_suffix(target.suffix + ".part")
        shutil.copyfile(path, tmp)
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    return target


def _load_job(args: tuple) -> tuple[FileOutcome, FileRows]:
    """In a worker: read and normalise one file, archive it (unless it is too large to be a register),
    and turn it into the store's rows."""
    path, config, as_of, name, sha, archive = args
    loaded = load_file(path, config, as_of, name=name, sha256=sha)
    too_large = loaded.error is not None and loaded.error.code == "file-too-large"
    archived = str(archive_copy(path, sha, archive)) if loaded.size and not too_large else None
    outcome = _outcome(loaded)
    outcome.archived = archived
    return outcome, file_rows(loaded, archived)


def _outcome(loaded: LoadedFile) -> FileOutcome:
    reasons: Counter[str] = Counter()
    severities: Counter[str] = Counter()
    for rec in loaded.records:
        reasons.update({f.title for f in rec.errors()})
    for f in loaded.all_findings():
        severities[f.severity] += 1
    return FileOutcome(
        file_id=0,
        name=loaded.name,
        sha256=loaded.sha256,
        register=loaded.register,
        properties=loaded.properties,
        rows_read=loaded.rows_read,
        rows_loaded=loaded.rows_loaded,
        rows_set_aside=loaded.rows_set_aside,
        reasons=dict(reasons),
        findings_by_severity=dict(severities),
        superseded=0,
        error=loaded.error,
        rows_skipped=loaded.rows_skipped,
        skipped=loaded.skipped,
    )


def ingest(
    config: Config,
    store: Store,
    inbox: Path,
    archive: Path,
    as_of: datetime,
    run_id: int | None = None,
    workers: int | None = None,
    progress=None,
    force: bool = False,
) -> IngestResult:
    """Load every new file of the inbox into the store (an older version of a stored register only
    with force)."""
    result = IngestResult()
    paths, result.ignored = scan_inbox(inbox)
    result.names = {str(p.relative_to(inbox)) for p in paths}
    known = store.known_hashes()
    todo: list[tuple[Path, str, str]] = []
    seen_now: set[str] = set()
    hashes = content_hashes(store, paths)
    hashed = [(path, *fresh) for path, _, fresh in hashes if fresh]  # remembered once the store is checked
    for path, sha, _ in hashes:
        if sha in known or sha in seen_now:
            result.unchanged += 1
            continue
        seen_now.add(sha)
        todo.append((path, str(path.relative_to(inbox)), sha))
    jobs = [(p, config, as_of, name, sha, archive) for p, name, sha in todo]
    if progress:
        progress("start", len(jobs))
    result.outcomes.extend(recovered_outcomes(store, run_id))
    loading = mapped(_load_job, jobs, workers, PARALLEL_FROM, chunksize=4)

    def ready() -> None:  # before the first file is stored, the store's check (Store.start_check) has passed
        if jobs:
            store.check()
        for path, stat, sha in hashed:
            store.remember_hash(path, stat, sha)

    _store_all(loading, store, run_id, result, progress, force, ready)
    return result


def recovered_outcomes(store: Store, run_id: int | None) -> list[FileOutcome]:
    """The files a killed run stored but never told of: this run tells of them (lines, set-aside
    reasons, exit code) as the uninterrupted run would have; their counts follow the rules."""
    out = []
    for info in store.unfinished_files(run_id):
        error = None
        if info["error"]:
            e = json.loads(info["error"])
            error = Finding(
                e["code"], e["severity"], info["name"], value=e.get("value"), note=e.get("note") or ""
            )
        reasons: Counter[str] = Counter()
        for codes in info["error_codes"]:
            reasons.update({CODES[c].title for c in codes if c in CODES})
        out.append(
            FileOutcome(
                file_id=info["id"],
                name=info["name"],
                sha256=info["sha256"],
                register=info["register"],
                properties=info["properties"],
                rows_read=0,
                rows_loaded=0,
                rows_set_aside=0,
                reasons=dict(reasons),
                findings_by_severity={},
                superseded=0,
                error=error,
                archived=info["archived"],
                rows_skipped=info["rows_skipped"] or 0,
                skipped=json.loads(info["skipped"]) if info["skipped"] else {},
                recovered=True,
            )
        )
    return out


STORE_BATCH = 50  # files per store transaction: fewer commits, and a crash loses at most one batch


def _store_all(loaded_iter, store, run_id, result, progress, force: bool = False, ready=None) -> None:
    """Store the loaded files in batches; `ready()` is called once before the first write (while
    the workers load the first files), or at the end when nothing new came."""
    batch: list[tuple[FileOutcome, FileRows]] = []

    def flush() -> None:
        stored = store.add_files([rows for _, rows in batch], run_id, force)
        for (outcome, _), (file_id, superseded) in zip(batch, stored, strict=True):
            if file_id is None:  # an older version: named, not stored
                outcome.older, outcome.rows_loaded, outcome.rows_set_aside = superseded, 0, 0
            else:
                outcome.file_id, outcome.superseded = file_id, superseded
            result.outcomes.append(outcome)
        batch.clear()

    for outcome, rows in loaded_iter:
        if ready:
            ready()
            ready = None
        batch.append((outcome, rows))
        if progress:
            progress("file", outcome.name)
        if len(batch) >= STORE_BATCH:
            flush()
    if ready:
        ready()
    if batch:
        flush()

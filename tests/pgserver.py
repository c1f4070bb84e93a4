"""A throwaway PostgreSQL server from Debian's packages, for running the test suite against it.

    with pg_server() as url:   # postgresql://pipeline@127.0.0.1:<port>/pipeline
        ...

initdb into a temporary folder, listen on 127.0.0.1 on a free port, trust authentication, C
collation (text sorts as in SQLite), fsync off (a test server). PostgreSQL refuses to run as root,
so as root the server runs as Debian's `postgres` user.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise RuntimeError(
        "PostgreSQL server programs not found (apt-get install postgresql; make setup installs it)"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def pg_server() -> Iterator[str]:
    bindir = _bindir()
    base = Path(tempfile.mkdtemp(prefix="pipeline-pg-"))
    data, log = base / "data", base / "server.log"
    as_user: list[str] = []
    if os.geteuid() == 0:
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(base, "postgres", "postgres")
        base.chmod(0o700)
    port = _free_port()

    def run(*cmd: str) -> None:
        subprocess.run([*as_user, *cmd], check=True, capture_output=True, cwd=base)

    run(str(bindir / "initdb"), "-D", str(data), "-U", "pipeline", "-A", "trust", "-E", "UTF8", "--locale=C")
    options = (
        f"-h 127.0.0.1 -p {port} -k {base} -F -c fsync=off -c full_page_writes=off -c max_connections=200"
    )
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start")
    try:
        run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "pipeline", "pipeline")
        yield f"postgresql://pipeline@127.0.0.1:{port}/pipeline"
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            cwd=base,
        )
        shutil.rmtree(base, ignore_errors=True)

"""Known faults of the machine around a run, each told in Chinese with its fix (exit 2), never as
"程序内部错误" with a traceback: no space left, a damaged store, a database gone mid-run, a read-only
folder, a path that is a file. The traceback goes to a uniquely named log file only."""

from __future__ import annotations

import errno
import os
import sqlite3
import tempfile
import traceback
from datetime import datetime
from pathlib import Path

RESTORE = (
    "恢复方法：先把损坏的数据库文件改名保存（例如加上 .damaged），再重新运行 pipeline run；"
    "归档文件夹（config.toml [paths] archive）保存了放入过的每一个原始文件，"
    "把其中的文件复制回收件箱即可重建全部数据"
)


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _where(exc: OSError) -> str:
    name = exc.filename or ""
    return f"（{name}）" if name else ""


def describe_fault(exc: BaseException) -> str | None:
    """The Chinese message for a known fault anywhere in exc's chain, or None for a bug."""
    for e in _chain(exc):
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            folder = Path(e.filename).parent if e.filename else None
            where = f"文件夹 {folder}" if folder else "输出文件夹或数据库所在的磁盘"
            return f"磁盘空间已满：无法写入{where}。请清理该磁盘的空间后重新运行；已入库的数据和已有的报告不受影响"
        if isinstance(e, OSError) and e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return (
                f"没有写入权限{_where(e)}：该文件夹是只读的或属于其他用户。"
                "请改用可写的文件夹（config.toml [paths]），或让管理员开放写入权限"
            )
        if isinstance(e, OSError) and e.errno in (errno.ENOTDIR, errno.EEXIST):  # NotADirectoryError …
            return f"路径{_where(e)}是一个文件，不是文件夹：请检查 config.toml [paths] 中的路径"
        if isinstance(e, sqlite3.DatabaseError) and not isinstance(e, sqlite3.OperationalError):
            return f"数据库已损坏（{e}）。{RESTORE}"
        if isinstance(e, sqlite3.OperationalError) and "disk is full" in str(e).lower():
            return "磁盘空间已满：数据库无法写入。请清理数据库所在磁盘的空间后重新运行；已提交的数据不受影响"
        if isinstance(e, sqlite3.OperationalError) and "disk i/o" in str(e).lower():
            return f"读写数据库时磁盘出错（{e}）：请检查磁盘空间和磁盘状态后重新运行"
        if _database_gone(e):
            return (
                f"与 PostgreSQL 数据库的连接中断（{str(e).strip()[:120]}）：本次运行已停止，"
                "已提交的数据不受影响。请确认数据库服务器已启动、网络畅通后重新运行"
            )
    return None


def _database_gone(e: BaseException) -> bool:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - a declared dependency
        return False
    return isinstance(e, psycopg.OperationalError | psycopg.InterfaceError)


def write_error_log(exc: BaseException, folder: Path | None = None) -> Path:
    """The traceback in a file of its own (two failures in one second never share one)."""
    folder = folder or Path(tempfile.gettempdir())
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(
            prefix=f"pipeline-error-{datetime.now():%Y%m%d-%H%M%S}-", suffix=".log", dir=folder
        )
    except OSError:  # the folder is the fault (full, read-only): the system's temp folder
        fd, name = tempfile.mkstemp(prefix=f"pipeline-error-{datetime.now():%Y%m%d-%H%M%S}-", suffix=".log")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("".join(traceback.format_exception(exc)))
    return Path(name)

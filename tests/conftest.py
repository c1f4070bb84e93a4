"""Shared fixtures: a config with three properties and builders for messy input files.

PIPELINE_TEST_STORE=postgresql runs the whole suite against PostgreSQL: a throwaway server is
started for the session (tests/pgserver.py) and every store the tests name by a path is opened
in its own schema on that server instead (`make test` runs the suite both ways).
"""

from __future__ import annotations

import hashlib
import os
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import settings

from pipeline.config import parse_config

# CI runs the short default; the README gives the longer fuzz run (HYPOTHESIS_PROFILE=fuzz).
settings.register_profile("fuzz", max_examples=5000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

AS_OF = datetime(2026, 11, 1, 8, 0)
ON_POSTGRES = os.environ.get("PIPELINE_TEST_STORE", "sqlite") == "postgresql"
_PG_URL: list[str] = []  # the session's server, once started


def store_url(location) -> str | Path:
    """Where a store named by a path really lives in this test session (a schema on PostgreSQL)."""
    if not ON_POSTGRES or str(location).startswith("postgresql://"):
        return location
    tag = hashlib.sha1(str(Path(location).resolve()).encode()).hexdigest()[:24]
    return f"{_PG_URL[0]}?schema=t_{tag}"


@pytest.fixture(scope="session", autouse=True)
def _postgres_server():
    if not ON_POSTGRES:
        yield None
        return
    from tests.pgserver import pg_server

    with pg_server() as url:
        _PG_URL.append(url)
        yield url


@pytest.fixture(autouse=True)
def _stores_on_postgres(monkeypatch):
    if ON_POSTGRES:
        monkeypatch.setattr("pipeline.store._locate", store_url)


sqlite_only = pytest.mark.skipif(ON_POSTGRES, reason="checks the SQLite file itself")


@pytest.fixture
def config(tmp_path: Path):
    return parse_config(
        {
            "paths": {"inbox": "inbox", "archive": "archive", "store": "store.sqlite", "reports": "reports"},
            "properties": {
                "翠湖花园": {"households": 1200, "aliases": ["翠湖"]},
                "金桂苑": {"households": 860},
                "滨江壹号": {"households": 640, "aliases": ["滨江一号"]},
            },
            "aliases": {"complaints": {"约定答复日期": "承诺回复日期"}},
        },
        tmp_path,
    )

"""Shared fixtures: a config with three properties and builders for messy input files."""

from __future__ import annotations

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

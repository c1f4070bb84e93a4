"""Issue 22: faults — a poison file, a half-written file, junk, an older version, a damaged store —
each named, nothing lost, no traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.run import RunOptions, run, summary_lines
from pipeline.store import Store
from tests.builders import xlsx

HEAD = ["投诉编号", "项目", "受理日期", "投诉类别"]


def _opts(tmp_path: Path, **kw) -> RunOptions:
    base = dict(
        inbox=tmp_path / "inbox",
        reports=tmp_path / "reports",
        store=tmp_path / "s.sqlite",
        archive=tmp_path / "archive",
        as_of="2026-11-01 08:00",
        month="2026-10",
        workers=1,
    )
    return RunOptions(**{**base, **kw})


def _good(inbox: Path, name: str = "翠湖投诉.xlsx", rows=None) -> Path:
    rows = rows or [["A1", "翠湖花园", "2026-10-08", "维修"]]
    return xlsx(inbox / name, {"2026年10月": [HEAD, *rows]})


@pytest.mark.parametrize(
    "data",
    [
        b"\xef\xbb\xbf" + "投诉编号,项目\r\nA1,翠湖花园\r\n".encode("gbk"),  # a BOM that lies
        b"\xef\xbb\xbf" + "投诉编号,项目".encode()[:-1],  # truncated UTF-8
        b"\xff\xfe" + "投诉编号,项目".encode("utf-16-le") + b"\x00",  # odd-length UTF-16
        b"\xff\xfe\x00\xd8\x00\xd8",  # lone surrogates in UTF-16
    ],
    ids=["bom-gbk", "truncated-utf8", "odd-utf16", "surrogates"],
)
def test_a_poison_csv_is_that_files_finding_and_the_others_load(tmp_path: Path, config, data):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _good(inbox)
    (inbox / "坏.csv").write_bytes(data)
    result = run(config, _opts(tmp_path))
    assert result.outputs.get("pdf") and result.counts["rows_loaded"] == 1
    by_name = {o.name: o for o in result.ingest.outcomes}
    bad = by_name["坏.csv"]
    assert bad.error is None or bad.error.code in ("file-unreadable", "register-unknown")
    assert by_name["翠湖投诉.xlsx"].rows_loaded == 1


def test_a_half_written_file_leaves_no_finding_once_the_whole_file_loads(tmp_path: Path, config):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    whole = (
        _good(tmp_path / "x", rows=[["A1", "翠湖花园", "2026-10-08", "维修"]])
        if (tmp_path / "x").mkdir() is None
        else None
    )
    data = whole.read_bytes()
    (inbox / "翠湖投诉.xlsx").write_bytes(data[: len(data) // 2])  # caught while being copied
    first = run(config, _opts(tmp_path))
    assert first.ingest.rejected == 1
    (inbox / "翠湖投诉.xlsx").write_bytes(data)
    os.utime(inbox / "翠湖投诉.xlsx", ns=(10**18, 10**18))
    second = run(config, _opts(tmp_path))
    assert second.ingest.rejected == 0
    with Store(tmp_path / "s.sqlite") as store:
        codes = [f["code"] for f in store.findings()]
    assert "file-unreadable" not in codes
    assert not [
        x
        for x in second.model["data_quality"]["files"]
        if x["name"] == "翠湖投诉.xlsx" and not x["rows_read"]
    ]


def test_junk_far_beyond_a_register_is_refused_before_reading_and_not_archived(tmp_path: Path, config):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _good(inbox)
    with open(inbox / "大.xls", "wb") as fh:  # sparse: 2 GB declared, next to nothing on disk
        fh.write(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
        fh.truncate(2 * 1024**3)
    result = run(config, _opts(tmp_path))
    (big,) = [o for o in result.ingest.outcomes if o.name == "大.xls"]
    assert big.error.code == "file-too-large" and "上限" in big.error.message
    assert big.archived is None
    archived = sum(p.stat().st_size for p in (tmp_path / "archive").rglob("*") if p.is_file())
    assert archived < 1_000_000
    assert any("大.xls" in line and "上限" in line for line in summary_lines(result))


# --- config errors found at start (22.10) --------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "named"),
    [
        ('[meeting]\ntimezone = "Asia/Shanghia"\n', "timezone"),
        ('[aliases]\ncomplaints = "x"\n', "aliases.complaints"),
        ('[holidays]\n2027 = "元旦"\n', "holidays.2027"),
        ('[outputs]\nannotate_max_files = "many"\n', "annotate_max_files"),
        ('[rules.reinspection-late]\ndays = "ten"\n', "reinspection-late"),
        ('[rules.appeal-late]\nenabled = "no"\n', "enabled"),
        ('[smtp]\nhost = "h"\nport = "twenty-five"\n[email]\nfrom = "a@b.c"\nto = ["d@e.f"]\n', "smtp"),
    ],
)
def test_a_bad_config_value_is_exit_2_at_start_naming_it(tmp_path: Path, toml, named):
    from click.testing import CliRunner

    from pipeline.cli import cli

    (tmp_path / "inbox").mkdir()
    (tmp_path / "config.toml").write_text(toml, encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        [
            "run",
            "--config",
            str(tmp_path / "config.toml"),
            "--inbox",
            str(tmp_path / "inbox"),
            "--store",
            str(tmp_path / "s.sqlite"),
            "--reports",
            str(tmp_path / "reports"),
        ],
    )
    assert result.exit_code == 2, result.output
    assert named in result.output and "Traceback" not in result.output
    assert not (tmp_path / "reports").exists()  # refused before anything ran


def test_a_property_name_never_leads_out_of_the_period_folder(tmp_path: Path):
    from pipeline.config import parse_config
    from pipeline.run import property_folder

    assert property_folder("../../x") == "_.._x"
    assert property_folder("a/b") == "a_b" and property_folder("..") == "_"
    cfg = parse_config({"properties": {"../../x": {"households": 10}}}, tmp_path)
    (tmp_path / "inbox").mkdir()
    result = run(cfg, _opts(tmp_path, property="../../x", render=False))
    assert result.report_dir.resolve().is_relative_to((tmp_path / "reports/monthly/2026-10").resolve())

"""A date's time of day in a column of its own (受理日期 | 受理时间), as paper forms have it: the time
joins its date (pipeline/load/times.py), and the clerk is not told to delete a column."""

from datetime import datetime, time
from pathlib import Path

from pipeline.load.loader import load_file
from tests.builders import xlsx
from tests.conftest import AS_OF

HEAD = ["投诉编号", "项目名称", "受理日期", "受理时间", "投诉类别"]


def _load(tmp_path: Path, config, rows, head=HEAD):
    loaded = load_file(xlsx(tmp_path / "翠湖花园投诉.xlsx", {"2026年10月": [head, *rows]}), config, AS_OF)
    return loaded, [r.values["received"] for r in loaded.records]


def test_a_time_column_joins_its_date_whatever_the_cells_hold(tmp_path: Path, config):
    rows = [
        ["TS-1", "翠湖花园", datetime(2026, 10, 2), time(14, 30), "维修"],  # a date cell, a time cell
        ["TS-2", "翠湖花园", "2026.10.3", "下午3点", "保洁"],  # texts
        ["TS-3", "翠湖花园", "10月4日", "9:15", "绿化"],
        ["TS-4", "翠湖花园", "2026-10-05", None, "绿化"],  # no time: the day
        ["TS-5", "翠湖花园", "2026-10-06 08:00", "9点15分", "绿化"],  # a date with its own time keeps it
        ["TS-6", "翠湖花园", None, "10:00", "绿化"],  # a time alone is no date
    ]
    loaded, received = _load(tmp_path, config, rows)
    assert received == [
        "2026-10-02T14:30",
        "2026-10-03T15:00",
        "2026-10-04T09:15",
        "2026-10-05",
        "2026-10-06T08:00",
        None,
    ]
    codes = [f.code for f in loaded.all_findings()]
    assert "header-duplicate" not in codes  # two columns of one moment, not a column twice
    assert [f.row for f in loaded.all_findings() if f.code == "required-missing"] == [7]


def test_the_time_column_may_come_first(tmp_path: Path, config):
    head = ["投诉编号", "项目名称", "受理时间", "受理日期", "投诉类别"]
    rows = [["TS-1", "翠湖花园", "14:30", "2026-10-02", "维修"]]
    loaded, received = _load(tmp_path, config, rows, head)
    assert received == ["2026-10-02T14:30"] and not loaded.rows_set_aside


def test_a_second_column_of_dates_is_still_a_duplicate_that_fills_blanks(tmp_path: Path, config):
    """受理时间 holding dates (not times of day) is the same column written twice: it fills the
    first one's blanks, and the clerk is told, as before; one value that is no time of day is
    enough to keep it so."""
    rows = [
        ["TS-1", "翠湖花园", "2026-10-02", "2026-10-02 14:30", "维修"],
        ["TS-2", "翠湖花园", None, "2026-10-03", "保洁"],
        ["TS-3", "翠湖花园", "2026-10-04", "14:30", "绿化"],
    ]
    loaded, received = _load(tmp_path, config, rows)
    assert received == ["2026-10-02", "2026-10-03", "2026-10-04"]
    assert [f.code for f in loaded.all_findings()].count("header-duplicate") == 1


def test_what_is_a_time_of_day():
    from pipeline.load.values import time_of_day

    assert time_of_day(time(9, 5)) == "09:05:00"
    assert time_of_day(datetime(1899, 12, 30, 14, 30)) == "14:30:00"  # Excel's day zero
    assert time_of_day("下午3点半") == "15:30:00" and time_of_day("14：30") == "14:30:00"
    for not_a_time in ("12", "下午", "2026-10-02", "11.5", 0.5, 12, datetime(2026, 10, 2, 9), "25:00", ""):
        assert time_of_day(not_a_time) is None, not_a_time

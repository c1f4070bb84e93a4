"""A unit written over several columns (楼栋 | 单元 | 房号) is one unit, 栋-单元-室."""

from pathlib import Path

import pytest

from pipeline.load.loader import load_file
from tests.builders import xlsx
from tests.conftest import AS_OF


@pytest.mark.parametrize(
    ("building", "entrance", "room"),
    [("楼栋", "单元", "房号"), ("楼号", "单元号", "房号"), ("栋号", None, "室号")],
)
def test_building_entrance_and_room_columns_are_one_unit(tmp_path: Path, config, building, entrance, room):
    head = ["投诉编号", "受理日期", "投诉类别", building, entrance, room]
    rows = [
        ["翠湖花园客户投诉处理登记表"],
        [h for h in head if h is not None],
        *[
            [r for r, h in zip(row, head, strict=True) if h is not None]
            for row in (
                ["TS-1", "2026-10-08", "维修", "3栋", "2单元", 1201],
                ["TS-2", "2026-10-09", "噪音", "5", "1", "302室"],
                ["TS-3", "2026-10-10", "保洁", "8#", None, "1102"],
                ["TS-4", "2026-10-11", "保洁", "9", "1", "9-1-101"],  # written whole: kept
                ["TS-5", "2026-10-12", "保洁", None, None, None],
            )
        ],
    ]
    loaded = load_file(xlsx(tmp_path / "投诉.xlsx", {"10月": rows}), config, AS_OF)
    units = [r.values["unit"] for r in loaded.records]
    two = "3-2-1201" if entrance else "3-1201"
    assert units == [two, "5-1-302室" if entrance else "5-302室", "8-1102", "9-1-101", None]
    assert not [f for f in loaded.findings if f.code.startswith("header-")]
    assert loaded.sheets[0].columns["unit"][1] == ("F" if entrance else "E")


def test_a_unit_column_alone_is_read_as_written(tmp_path: Path, config):
    rows = [
        ["翠湖花园客户投诉处理登记表"],
        ["投诉编号", "受理日期", "投诉类别", "楼号"],
        ["TS-1", "2026-10-08", "维修", "3-2-1201"],
    ]
    (rec,) = load_file(xlsx(tmp_path / "投诉.xlsx", {"10月": rows}), config, AS_OF).records
    assert rec.values["unit"] == "3-2-1201"


def test_a_building_merged_down_over_its_rows_names_each_rows_unit(tmp_path: Path, config):
    rows = [
        ["翠湖花园客户投诉处理登记表"],
        ["投诉编号", "受理日期", "投诉类别", "楼栋", "房号"],
        ["TS-1", "2026-10-08", "维修", "3栋", "1201"],
        ["TS-2", "2026-10-09", "噪音", None, "502"],
        ["TS-3", "2026-10-10", "保洁", "5栋", "101"],
    ]
    path = xlsx(tmp_path / "投诉.xlsx", {"10月": rows}, {"10月": ["D3:D4"]})
    units = [r.values["unit"] for r in load_file(path, config, AS_OF).records]
    assert units == ["3-1201", "3-502", "5-101"]

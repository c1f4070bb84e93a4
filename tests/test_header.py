"""Finding the header row and recognising the register."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.load.header import find_header, norm_header
from pipeline.registers import REGISTERS


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("联系\n电话", "联系电话"),
        ("是否紧急（是/否）", "是否紧急"),
        ("受理日期*", "受理日期"),
        ("投诉　编号", "投诉编号"),
        ("赔偿金额(元)", "赔偿金额"),
        ("ＡＢＣ", "abc"),
    ],
)
def test_header_normalisation(raw, expected):
    assert norm_header(raw) == expected


@given(st.text(max_size=40))
def test_header_normaliser_never_fails(text):
    assert isinstance(norm_header(text), str)


def test_aliases_within_a_register_never_collide():
    from pipeline.load.header import build_lookup

    for reg in REGISTERS.values():
        seen = {}
        for col in reg.columns:
            for name in (col.header, *col.aliases):
                key = norm_header(name)
                assert seen.setdefault(key, col.key) == col.key, f"{reg.key}: {name} maps to two columns"
        build_lookup(reg)


def test_header_found_below_title_and_blank_rows():
    rows = [
        [],
        ["", "翠湖花园客户投诉处理登记表"],
        [],
        ["", "序号", "投诉编号", "房号", "受理日期", "投诉类别"],
        ["", 1, "A1", "1-1-101", "2026-10-08", "维修"],
    ]
    m = find_header(rows, [], {})
    assert m.register.key == "complaints"
    assert (m.first_row, m.last_row) == (3, 3)
    assert m.columns == {"id": 2, "unit": 3, "received": 4, "category": 5}


def test_two_row_header_with_merged_parent():
    rows = [
        ["编号", "投诉日期", "投诉类别", "处理情况", "", ""],
        ["", "", "", "处理结果", "完成日期", "回复日期"],
        ["A1", "2026-10-08", "维修", "已修", "2026-10-09", "2026-10-09"],
    ]
    m = find_header(rows, [((0, 3), (0, 5))], {})
    assert m.register.key == "complaints"
    assert (m.first_row, m.last_row) == (0, 1)
    assert m.columns["closed"] == 4 and m.columns["replied"] == 5 and m.columns["result"] == 3


@pytest.mark.parametrize(
    ("headers", "register"),
    [
        (["反馈编号", "投诉编号", "反馈日期", "满意度", "客户意见"], "feedback"),
        (["回访编号", "关联编号", "回访日期", "回访方式", "回访人", "满意度"], "callbacks"),
        (["申诉编号", "报告编号", "报告接收日期", "申诉日期", "复检人员"], "reinspections"),
        (["报修编号", "房号", "报修时间", "派工时间", "维修人", "完成时间"], "repairs"),
        (["投诉编号", "房号", "投诉人", "受理日期", "投诉类别"], "complaints"),
    ],
)
def test_register_recognised_from_headers(headers, register):
    assert find_header([headers], [], {}).register.key == register


def test_a_dates_header_ends_in_either_riqi_or_shijian():
    m = find_header([["投诉编号", "受理日期", "投诉类别", "回复业主时间", "结案时间", "是否属实"]], [], {})
    assert (m.columns["replied"], m.columns["closed"], m.columns["valid"]) == (3, 4, 5)
    m = find_header(
        [["申诉编号", "报告编号", "报告接收时间", "申诉日期", "复检人员", "书面通知时间"]], [], {}
    )
    assert (m.columns["report_received"], m.columns["notified"]) == (2, 5)
    assert not m.unknown and not m.partial


def test_title_breaks_a_tie_between_registers():
    rows = [["翠湖花园报修登记表"], ["编号", "项目", "房号", "日期", "内容"]]
    assert find_header(rows, [], {}).register.key == "repairs"


def test_config_alias_maps_an_unknown_header():
    rows = [["编号", "受理日期", "投诉类别", "业主诉求"]]
    assert "content" not in find_header(rows, [], {}).columns
    m = find_header(rows, [], {"complaints": {"业主诉求": "投诉内容"}})
    assert m.columns["content"] == 3


def test_unknown_header_reported_with_closest_known_column():
    rows = [["投诉编号", "受理日期", "投诉类别", "投拆内容"]]
    m = find_header(rows, [], {})
    assert [(c, text, hint) for c, text, hint in m.unknown] == [(3, "投拆内容", "投诉内容")]


def test_another_registers_column_is_named_as_that_registers_not_as_a_closest_spelling():
    """A complaints register with its callback written beside each complaint (回访日期, 回访人, 满意度,
    回访方式): the callback's date and staff are read (registers.INLINE_CALLBACKS); the rest are the
    callbacks register's columns, and the closest complaints column would be a wrong alias to propose."""
    rows = [["投诉编号", "受理日期", "投诉类别", "回访日期", "回访人", "满意度", "回访方式", "投拆内容"]]
    m = find_header(rows, [], {})
    assert m.register.key == "complaints"
    assert (m.columns["callback_date"], m.columns["callback_staff"]) == (3, 4)
    assert m.elsewhere == {5: "回访记录表", 6: "回访记录表"}
    assert 7 not in m.elsewhere  # a misspelling of this register's column is still that


def test_another_registers_column_is_said_so_to_the_clerk(tmp_path, config):
    from pipeline.load.loader import load_file
    from tests.builders import xlsx
    from tests.conftest import AS_OF

    head = ["投诉编号", "项目名称", "受理日期", "投诉类别", "完成日期", "回访方式"]
    rows = [head, ["TS-1", "翠湖花园", "2026-10-02", "维修", "2026-10-03", "电话"]]
    loaded = load_file(xlsx(tmp_path / "翠湖花园投诉.xlsx", {"2026年10月": rows}), config, AS_OF)
    (f,) = [f for f in loaded.all_findings() if f.column == "回访方式"]
    assert f.code == "header-other-register" and f.severity == "info"
    assert "回访记录表的列" in f.message and "关联编号" in f.message and "最接近" not in f.message


def test_a_bilingual_templates_headers_are_read_by_their_chinese(tmp_path, config):
    """A bilingual template prints an English gloss beside each header (受理日期 Date, 投诉编号 on one
    line and Complaint No. on the next, Tel 联系电话), or a second header row in English under the
    Chinese one: the sheet was skipped as having no header, or the English row loaded as a case."""
    from pipeline.load.loader import load_file
    from tests.builders import xlsx
    from tests.conftest import AS_OF

    glossed = [
        "序号 No.",
        "投诉编号\nComplaint No.",
        "受理日期 Date",
        "投诉类别 Category",
        "Tel 联系电话",
        "投诉ID",
    ]
    m = find_header([glossed], [], {})
    assert m.register.key == "complaints" and not m.partial
    assert (m.columns["id"], m.columns["received"], m.columns["category"], m.columns["phone"]) == (1, 2, 3, 4)
    assert [text for _, text, _ in m.unknown] == ["投诉ID"]  # ID is no gloss: two letters
    rows = [
        ["翠湖花园 客户投诉处理登记表"],
        ["投诉编号", "受理日期", "投诉类别", "投诉内容"],
        ["Complaint No.", "Date", "Category", "Description"],
        ["TS-1", "2026-10-03", "维修", "漏水"],
    ]
    loaded = load_file(xlsx(tmp_path / "投诉.xlsx", {"2026年10月": rows}), config, AS_OF)
    assert [(r.row, r.values["id"], r.set_aside) for r in loaded.records] == [(4, "TS-1", False)]
    assert loaded.sheets[0].header_row == 3


def test_nothing_like_a_header_is_none():
    assert find_header([["会议纪要"], ["今天讨论了绿化问题"]], [], {}) is None


def _known_headers() -> list[str]:
    return sorted(
        {norm_header(n) for reg in REGISTERS.values() for c in reg.columns for n in (c.header, *c.aliases)}
    )


@given(
    st.lists(
        st.sampled_from(_known_headers()) | st.text(alphabet="投诉编号日期受理回访人12房", max_size=6),
        max_size=3,
    ),
    st.sampled_from(["", "1", "23", "期"]),
)
def test_all_registers_asked_at_once_as_each_alone(parts, tail):
    """Lookups.hits (one dictionary, suffixes at the known lengths) names what match_header names
    in each register: exact headers, compounds ending in one (投诉受理日期), trailing digits."""
    from pipeline.load.header import lookups_for, match_header

    text = "".join(parts) + tail
    lookups = lookups_for({"complaints": {"来电人姓名": "投诉人"}})
    expected = {
        reg: (key, text.rstrip("0123456789") in lookup.exact)
        for reg, lookup in lookups.registers.items()
        if (key := match_header(text, lookup)) is not None
    }
    assert lookups.hits(text) == expected


# --- issue 17.8: an exact header beats a partial one; a register only on strong evidence ---------


def test_exact_header_beats_a_header_that_only_ends_like_one():
    """ "要求报告完成时间" is a deadline, not the 完成日期; the real "实际完成时间" is read."""
    from pipeline.load.header import HeaderMatch

    rows = [["投诉编号", "受理日期", "投诉类别", "要求报告完成时间", "实际完成时间"]]
    match = find_header(rows, [], {})
    assert isinstance(match, HeaderMatch)
    assert match.columns["closed"] == 4
    assert 3 not in match.labels
    assert [text for _, text, _ in match.unknown + match.partial] == ["要求报告完成时间"]
    assert not match.duplicates


def test_a_partial_header_is_left_unread_when_another_names_the_column_exactly():
    from pipeline.load.header import HeaderMatch

    aliases = {"complaints": {"Borough": "项目"}}
    rows = [["投诉编号", "受理日期", "投诉类别", "Park Borough", "Borough", "覆盖站点/小区名称"]]
    match = find_header(rows, [], aliases)
    assert isinstance(match, HeaderMatch)
    assert match.columns["property"] == 4
    left = {text for _, text, _ in match.unknown + match.partial + match.duplicates}
    assert left == {"Park Borough", "覆盖站点/小区名称"}


def test_a_header_listing_alternatives_names_no_column():
    from pipeline.load.header import HeaderMatch

    rows = [["投诉编号", "受理日期", "投诉类别", "覆盖站点/小区名称"]]
    match = find_header(rows, [], {})
    assert isinstance(match, HeaderMatch) and "property" not in match.columns


def test_three_loose_matches_are_no_register(tmp_path):
    """编号, 日期 and 类型 name columns of several registers; a city export with them is skipped,
    saying why, rather than read as complaints."""
    from pipeline.config import parse_config
    from pipeline.load.header import WeakHeader
    from pipeline.load.loader import load_file
    from tests.builders import xlsx
    from tests.conftest import AS_OF

    rows = [["编号", "日期", "类型", "Agency", "Status"], ["311-1", "2026-10-08", "Noise", "NYPD", "Closed"]]
    assert isinstance(find_header(rows, [], {}), WeakHeader)
    loaded = load_file(xlsx(tmp_path / "export.xlsx", {"data": rows}), parse_config({}, tmp_path), AS_OF)
    assert loaded.register is None and not loaded.records
    (skipped,) = [f for f in loaded.findings if f.code == "sheet-skipped"]
    assert "编号" in skipped.message and "不足以确定" in skipped.message

"""Issue 17.1 / 17.5: the property a row belongs to — exact before partial, ambiguity never guessed."""

from pathlib import Path

from pipeline.config import parse_config
from pipeline.load.loader import load_file
from pipeline.names import PropertyNames
from tests.builders import xlsx
from tests.conftest import AS_OF

NESTED = {
    "东南亚": {"households": 500},
    "南亚": {"households": 400},
    "翠湖一期": {"households": 300, "aliases": ["翠湖花园一期"]},
    "翠湖一期二期": {"households": 200},
    "碧水 东区": {"households": 100},
    "碧水西区": {"households": 100},
}


def _config(tmp_path: Path, properties=None):
    return parse_config({"properties": properties or NESTED}, tmp_path)


def test_exact_name_beats_a_name_that_contains_it():
    names = PropertyNames({k: tuple(v.get("aliases", ())) for k, v in NESTED.items()})
    assert names.match("南亚").name == "南亚"  # not 东南亚, which contains it
    assert names.match("东南亚").name == "东南亚"
    assert names.match("翠湖一期").name == "翠湖一期"  # not its second phase "翠湖一期二期"
    assert names.match("南亚花园").name == "南亚"
    assert names.match("东南亚花园").name == "东南亚"  # 南亚 lies inside 东南亚: the longer is meant


def test_names_compare_after_one_normalisation():
    names = PropertyNames({k: tuple(v.get("aliases", ())) for k, v in NESTED.items()})
    assert names.match("碧水东区").name == "碧水 东区"  # the configured name has a space
    assert names.match("碧水　东区").name == "碧水 东区"  # a full-width space in the cell
    assert PropertyNames({"ABC 花园": ()}).match("ａｂｃ花园").name == "ABC 花园"


def test_a_text_fitting_two_properties_is_ambiguous():
    names = PropertyNames({k: tuple(v.get("aliases", ())) for k, v in NESTED.items()})
    found = names.match("碧水")
    assert found.name is None and found.candidates == ("碧水 东区", "碧水西区")


def _ledger(path: Path, title: str, cells: list[str | None]) -> Path:
    rows = [[title], ["投诉编号", "项目", "受理日期", "投诉类别"]]
    rows += [[f"TS-{i:03d}", cell, "2026-10-08", "维修"] for i, cell in enumerate(cells, 1)]
    return xlsx(path, {"10月": rows})


def test_rows_are_filed_under_the_exact_property(tmp_path: Path):
    path = _ledger(
        tmp_path / "投诉.xlsx", "客户投诉处理登记表", ["南亚", "东南亚", "翠湖一期", "翠湖一期二期"]
    )
    loaded = load_file(path, _config(tmp_path), AS_OF)
    assert [r.property_name for r in loaded.records] == ["南亚", "东南亚", "翠湖一期", "翠湖一期二期"]
    assert not loaded.rows_set_aside


def test_ambiguous_cell_sets_the_row_aside_naming_both(tmp_path: Path):
    path = _ledger(tmp_path / "投诉.xlsx", "客户投诉处理登记表", ["碧水", "碧水西区"])
    loaded = load_file(path, _config(tmp_path), AS_OF)
    first, second = loaded.records
    assert first.set_aside and first.property_name is None
    (finding,) = [f for f in first.findings if f.code == "property-ambiguous"]
    assert "碧水 东区" in finding.message and "碧水西区" in finding.message
    assert finding.row == 3 and finding.column == "项目"
    assert second.property_name == "碧水西区" and not second.set_aside


def test_title_file_and_sheet_names_use_the_same_rule(tmp_path: Path):
    rows = [
        ["南亚客户投诉处理登记表"],
        ["投诉编号", "受理日期", "投诉类别"],
        ["TS-001", "2026-10-08", "维修"],
    ]
    loaded = load_file(xlsx(tmp_path / "东南亚片区汇总.xlsx", {"10月": rows}), _config(tmp_path), AS_OF)
    assert loaded.records[0].property_name == "南亚"  # the title decides before the file name
    rows[0] = ["客户投诉处理登记表"]
    loaded = load_file(xlsx(tmp_path / "碧水.xlsx", {"10月": rows}), _config(tmp_path), AS_OF)
    (rec,) = loaded.records
    assert rec.set_aside and rec.property_name is None
    assert [f.code for f in rec.findings] == ["property-ambiguous"]


def test_inbox_subfolder_names_the_property(tmp_path: Path):
    rows = [["客户投诉处理登记表"], ["投诉编号", "受理日期", "投诉类别"], ["TS-001", "2026-10-08", "维修"]]
    path = xlsx(tmp_path / "投诉.xlsx", {"10月": rows})
    loaded = load_file(path, _config(tmp_path), AS_OF, name="南亚/投诉.xlsx")
    assert loaded.records[0].property_name == "南亚"


def test_choice_synonyms_and_a_companys_own_value_list(tmp_path: Path):
    """其它 is 其他; a company's own complaint categories replace or extend the built-in list in
    config.toml, with its own synonyms, and the rule checks against that list."""
    from pipeline.validate import run_rules
    from pipeline.validate.stage import _as_dict

    rows = [["投诉编号", "项目", "受理日期", "投诉类别"]]
    rows += [
        [f"TS-{i}", "南亚", "2026-10-08", cat]
        for i, cat in enumerate(["其它", "装配不良", "外观不良", "维修"])
    ]
    path = xlsx(tmp_path / "投诉.xlsx", {"10月": rows})
    plain = load_file(path, _config(tmp_path), AS_OF)
    assert [r.values["category"] for r in plain.records][0] == "其他"
    cfg = parse_config(
        {
            "properties": NESTED,
            "values": {
                "complaints": {
                    "投诉类别": {"extra": ["装配问题", "外观不良"], "synonyms": {"装配不良": "装配问题"}}
                }
            },
        },
        tmp_path,
    )
    loaded = load_file(path, cfg, AS_OF)
    assert [r.values["category"] for r in loaded.records] == ["其他", "装配问题", "外观不良", "维修"]
    recs = {"complaints": [_as_dict(r) for r in loaded.records]}
    assert not [f for f in run_rules(recs, AS_OF, cfg) if f.code == "value-not-allowed"]
    recs = {"complaints": [_as_dict(r) for r in plain.records]}
    flagged = [f.value for f in run_rules(recs, AS_OF, _config(tmp_path)) if f.code == "value-not-allowed"]
    assert flagged == ["装配不良", "外观不良"]


def test_a_choice_with_a_filler_word_after_it_is_that_choice():
    from pipeline.registers import REGISTERS, value_list

    method = value_list(REGISTERS["callbacks"].column("method"))
    category = value_list(REGISTERS["complaints"].column("category"))
    assert [method.read(t) for t in ("电话回访", "上门走访", "问卷方式", "电话")] == [
        "电话",
        "上门",
        "问卷",
        "电话",
    ]
    assert [category.read(t) for t in ("维修类", "噪音问题", "其它问题", "服务态度方面")] == [
        "维修",
        "噪音",
        "其他",
        "服务态度",
    ]
    assert method.read("微信回访") == "微信回访"  # not a choice: as written, for the rule to name
    assert category.read("问题") == "问题"
    satisfaction = value_list(REGISTERS["callbacks"].column("satisfaction"))
    assert [satisfaction.read(t) for t in ("满意，师傅态度好", "非常满意(表扬)", "不满意:还漏水")] == [
        "满意",
        "满意",
        "不满意",
    ]  # a choice with a remark after it
    assert satisfaction.read("满意、不满意") == "满意、不满意"  # two values (two ticked): never one guessed
    assert category.read("维修（水管）") == "维修"


def test_a_choice_with_the_words_a_clerk_writes_around_it_is_that_choice():
    """A tick before it, who said it and how (业主表示满意), a full stop or an exclamation after it, and
    the everyday words for the three levels: each set its callback aside, and the complaint then
    counted as never called back."""
    from pipeline.registers import REGISTERS, value_list

    satisfaction = value_list(REGISTERS["callbacks"].column("satisfaction"))
    written = (
        "√满意",
        "业主满意",
        "业主表示满意",
        "客户反映不满意",
        "满意。",
        "很满意!",
        "住户表示满意，师傅很好",
    )
    assert [satisfaction.read(t) for t in written] == [
        "满意",
        "满意",
        "满意",
        "不满意",
        "满意",
        "满意",
        "满意",
    ]
    everyday = ("不太满意", "一般般", "还可以", "十分满意")
    assert [satisfaction.read(t) for t in everyday] == ["不满意", "基本满意", "基本满意", "满意"]
    yes_no = ("是", "否", "√", "×")  # a 是否满意 column
    assert [satisfaction.read(t) for t in yes_no] == ["满意", "不满意", "满意", "不满意"]
    for not_one in ("业主", "好", "10分", "满意、不满意", "业主表示满意、不满意", "。"):
        assert satisfaction.read(not_one) == not_one  # as written, for the rule to name
    method = value_list(REGISTERS["callbacks"].column("method"))
    assert [method.read(t) for t in ("√上门", "电话。", "业主来电")] == ["上门", "电话", "业主来电"]


def test_the_everyday_words_for_a_callbacks_kind_and_method_and_a_complaints_channel():
    """回访类型 written without its 回访 (投诉, 维修, 例行), and the words clerks use for a channel or a
    method (来电, 热线, 上门, 微信, 面访, 座谈): each was not an allowed value, and its row was set
    aside (a callback set aside leaves its case not called back). A word that is no such value stays."""
    from pipeline.registers import REGISTERS, value_list

    kind = value_list(REGISTERS["callbacks"].column("kind"))
    assert [kind.read(t) for t in ("投诉", "维修", "例行", "主任", "报修回访", "日常回访", "走访")] == [
        "投诉回访",
        "维修回访",
        "例行回访",
        "主任走访",
        "维修回访",
        "例行回访",
        "走访",
    ]
    method = value_list(REGISTERS["callbacks"].column("method"))
    assert [method.read(t) for t in ("面访", "座谈", "问卷调查", "微信")] == [
        "上门",
        "座谈会",
        "问卷",
        "微信",
    ]
    channel = value_list(REGISTERS["complaints"].column("channel"))
    got = [channel.read(t) for t in ("来电", "热线", "上门", "前台", "微信", "App", "信访", "12345")]
    assert got == ["电话", "电话", "来访", "来访", "网络", "网络", "书面", "12345"]


def test_value_lists_in_config_are_checked(tmp_path: Path):
    import pytest

    from pipeline.errors import ConfigError

    for bad in (
        {"complaints": {"投诉人": {"extra": ["x"]}}},
        {"complaints": {"投诉类别": {"extra": "装配问题"}}},
        {"complaints": {"投诉类别": {"synonyms": {"a": "不存在"}}}},
        {"nosuch": {}},
    ):
        with pytest.raises(ConfigError):
            parse_config({"values": bad}, tmp_path)

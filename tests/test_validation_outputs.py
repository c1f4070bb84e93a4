"""What the clerk gets back: validation.xlsx, annotated copies, the terminal summary."""

from pathlib import Path

import openpyxl
import pytest

import pipeline.run as run_module
from pipeline.run import RunOptions, run, summary_lines
from tests.builders import csv_file, xlsx

HEAD = ["投诉编号", "项目", "受理日期", "调查核实日期", "投诉类别", "完成日期"]


def _run(tmp_path: Path, config, **options):
    return run(
        config,
        RunOptions(
            inbox=tmp_path / "inbox",
            reports=tmp_path / "reports",
            store=tmp_path / "s.sqlite",
            archive=tmp_path / "archive",
            month="2026-10",
            as_of="2026-11-01 08:00",
            workers=1,
            **options,
        ),
    )


def test_annotated_copy_marks_the_right_cell(tmp_path: Path, config):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    rows = [
        [],
        ["翠湖花园投诉登记"],
        HEAD,
        ["A1", "翠湖花园", "2026-10-08", "2026-10-09", "维修", None],  # verified the day after: warning on D4
        ["A2", "翠湖花园", "2026-10-08", "2026-10-08", "水电", None],  # not an allowed category: error on E5
        ["填表人：王敏"],
    ]
    src = xlsx(inbox / "翠湖投诉.xlsx", {"2026年10月": rows})
    before = src.read_bytes()
    result = _run(tmp_path, config)
    assert src.read_bytes() == before
    copy = tmp_path / "reports/monthly/2026-10/annotated/翠湖投诉（待修改）.xlsx"
    assert result.outputs["annotated"] == [copy]
    wb = openpyxl.load_workbook(copy)
    assert wb.sheetnames[0] == "问题清单"
    ws = wb["2026年10月"]
    assert "未当天核实" in ws["D4"].comment.text and ws["D4"].fill.fgColor.rgb.endswith("FFEB9C")
    assert "不在可选范围" in ws["E5"].comment.text and ws["E5"].fill.fgColor.rgb.endswith("FFC7CE")
    links = {c.hyperlink.location for row in wb["问题清单"].iter_rows(min_row=2) for c in row if c.hyperlink}
    assert {"'2026年10月'!D4", "'2026年10月'!E5"} <= links
    assert result.counts == {
        "rows_read": 2,
        "rows_loaded": 1,
        "rows_set_aside": 1,
        "rows_skipped": 1,
    }  # the 填表人 line
    out = "\n".join(summary_lines(result))
    assert "读取 2 行，入库 1 行，暂存 1 行（不在可选范围 1）" in out and "错误 1，警告" in out


@pytest.mark.parametrize("background", [False, True], ids=["here", "worker"])
def test_validation_workbook_lists_findings_sorted_with_summaries(
    tmp_path: Path, config, monkeypatch, background
):
    """The same workbook whether the run writes it at its end or a spawned worker writes it
    meanwhile (a group's many findings: run.BACKGROUND_FINDINGS)."""
    if background:
        monkeypatch.setattr(run_module, "BACKGROUND_FINDINGS", 0)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    xlsx(
        inbox / "b.xlsx",
        {
            "2026年10月": [
                HEAD,
                ["B1", "金桂苑", "2026-10-08", "2026-10-10", "维修", None],
                ["B2", "金桂苑", "2026/10/40", None, "维修", None],
                ["制表人：李静"],
            ]
        },
    )
    _run(tmp_path, config)
    wb = openpyxl.load_workbook(tmp_path / "reports/monthly/2026-10/validation.xlsx")
    rows = list(wb["问题清单"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[2], r[3], r[6], r[7]) for r in rows] == [
        ("b.xlsx", 2, "调查核实日期", "未当天核实", "警告"),
        ("b.xlsx", 3, "受理日期", "日期无效", "错误"),
    ]
    summary = list(wb["按文件汇总"].iter_rows(min_row=2, values_only=True))
    assert summary == [("b.xlsx", "客户投诉处理登记表", "李静", 2, 1, 1, 1, "签名、日期或合计行 1", 1, 1, 0)]
    assert list(wb["按填表人汇总"].iter_rows(min_row=2, values_only=True)) == [("李静", 1, 1, 1, 0)]
    assert not list((tmp_path / "reports").rglob(".*.part"))  # the worker's staged copy was put in place


def test_file_without_findings_gets_no_annotated_copy(tmp_path: Path, config):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    xlsx(
        inbox / "ok.xlsx",
        {"2026年10月": [HEAD, ["C1", "翠湖花园", "2026-10-08", "2026-10-08", "维修", None]]},
    )
    result = _run(tmp_path, config)
    assert result.outputs["annotated"] == []
    assert not (tmp_path / "reports/monthly/2026-10/annotated").exists()


def test_csv_and_formula_text_are_annotated_as_text(tmp_path: Path, config):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    csv_file(
        inbox / "c.csv",
        [
            HEAD + ["投诉内容"],
            ["D1", "滨江壹号", "2026-10-08", "2026-10-09", "维修", None, '=HYPERLINK("x")'],
        ],
    )
    result = _run(tmp_path, config)
    wb = openpyxl.load_workbook(result.outputs["annotated"][0])
    ws = wb["c"]
    assert ws["D2"].comment is not None
    assert ws["G2"].value == '=HYPERLINK("x")' and ws["G2"].data_type == "s"


def test_validate_command_checks_files_without_storing(tmp_path: Path):
    from click.testing import CliRunner

    from pipeline.cli import cli

    root = Path(__file__).resolve().parent.parent
    path = xlsx(
        tmp_path / "翠湖花园投诉.xlsx",
        {
            "2026年10月": [
                HEAD,
                ["A1", "翠湖花园", "2026-10-08", "2026-10-09", "维修", "2026-10-09"],
                ["A2", "翠湖花园", "bad", None, "维修", None],
            ]
        },
    )
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        (root / "config.toml")
        .read_text(encoding="utf-8")
        .replace('store = "store.sqlite"', 'store = "none.sqlite"'),
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli,
        [
            "validate",
            str(path),
            "--config",
            str(cfg),
            "--out",
            str(tmp_path / "out"),
            "--as-of",
            "2026-11-01 08:00",
        ],
    )
    assert result.exit_code == 1, result.output
    assert "第3行" in result.output and "“bad”不是有效日期" in result.output
    assert "未做到当天调查核实" in result.output
    assert "尚无回访记录" not in result.output  # no callbacks register in context: not judged
    assert (tmp_path / "out" / "翠湖花园投诉（待修改）.xlsx").exists()
    assert not (tmp_path / "none.sqlite").exists()


def test_a_bulk_first_load_lists_findings_without_one_copy_per_file(tmp_path: Path, config):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for i, prop in enumerate(
        ["翠湖花园", "金桂苑", "滨江壹号"]
    ):  # three properties: no file supersedes another
        row = [f"A{i}", prop, "2026-10-08", "2026-10-09", "维修", None]
        xlsx(inbox / f"f{i}.xlsx", {"2026年10月": [HEAD, row]})
    from dataclasses import replace as dc_replace

    bulk = dc_replace(config, raw={**config.raw, "outputs": {"annotate_max_files": 2}})
    result = _run(tmp_path, bulk)
    assert result.outputs["annotated"] == [] and result.outputs["annotated_skipped"] == 3
    assert "未逐个生成批注副本" in "\n".join(summary_lines(result))
    wb = openpyxl.load_workbook(result.report_dir / "validation.xlsx")
    assert len(list(wb["问题清单"].iter_rows(min_row=2))) == 3


@pytest.mark.parametrize("background", [False, True], ids=["here", "worker"])
def test_a_property_run_lists_its_own_findings_and_still_annotates_everyones_new_files(
    tmp_path: Path, config, monkeypatch, background
):
    """--property scopes validation.xlsx, the set-aside list and the counts to one property (read
    from the store by property, by the run or by its worker), while the new files of other
    properties it took in still get their annotated copies and outcomes."""
    if background:
        monkeypatch.setattr(run_module, "BACKGROUND_FINDINGS", 0)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for prop, name in (("翠湖花园", "翠湖投诉.xlsx"), ("金桂苑", "金桂投诉.xlsx")):
        rows = [
            HEAD,
            [f"{prop}1", prop, "2026-10-08", "2026-10-09", "维修", None],  # warning: verified a day late
            [f"{prop}2", prop, "2026-10-08", "2026-10-08", "水电", None],  # error: category, set aside
            [f"{prop}3", prop, "2026-10-08", "2026-10-08", "维修", None],
        ]
        xlsx(inbox / name, {"2026年10月": rows})
    result = _run(tmp_path, config, property="翠湖花园")
    copies = sorted(p.name for p in result.outputs["annotated"])
    assert copies == ["翠湖投诉（待修改）.xlsx", "金桂投诉（待修改）.xlsx"]
    outcomes = {o.name: o for o in result.ingest.outcomes}
    assert outcomes["金桂投诉.xlsx"].findings_by_severity.get("warning") == 1
    listed = openpyxl.load_workbook(result.outputs["validation"], read_only=True)["问题清单"]
    assert {r[0] for r in listed.iter_rows(min_row=2, values_only=True) if r[0]} == {"翠湖投诉.xlsx"}
    dq = result.model["data_quality"]
    assert (dq["rows_read"], dq["rows_loaded"], dq["rows_set_aside"]) == (3, 2, 1)
    aside = result.model["lists"]["set_aside"]
    assert [(r["property"], r["id"]) for r in aside] == [("翠湖花园", "翠湖花园2")]


def test_a_property_not_in_the_config_is_refused_before_anything_is_loaded(tmp_path: Path, config):
    """A mistyped --property is named at once, with the properties config.toml has; the inbox's
    files are neither loaded nor archived (before, the group's whole load and validation ran first)."""
    import pytest

    from pipeline.errors import ConfigError

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    xlsx(
        inbox / "翠湖投诉.xlsx",
        {"2026年10月": [HEAD, ["A1", "翠湖花园", "2026-10-08", "2026-10-08", "维修", None]]},
    )
    with pytest.raises(
        ConfigError, match="“翠湖花苑” 不在 config.toml 的 \\[properties\\] 中，可用：.*翠湖花园"
    ):
        _run(tmp_path, config, property="翠湖花苑")
    assert not (tmp_path / "archive").exists()
    assert not (tmp_path / "reports" / "monthly").exists()


def test_validation_workbook_keeps_every_value_as_the_clerk_wrote_it(tmp_path: Path):
    """validation.xlsx: text that looks like a formula stays text, control characters and a cell
    longer than Excel allows do not stop it, a file-level finding has empty row cells, the severity
    is coloured by a conditional format, and every sheet prints landscape on A4 with its header."""
    from pipeline.findings import Finding
    from pipeline.render.validation import write_validation_workbook

    long = "长" * 40_000
    findings = [
        Finding("value-not-allowed", "error", "b.xlsx", "10月", 3, "受理日期", "C", "=SUM(A1)"),
        Finding("file-empty", "error", "a.xlsx"),
        Finding("date-ambiguous", "warning", "b.xlsx", "10月", 4, "受理日期", "C", "x\x01" + long),
    ]
    files = [{"name": "b.xlsx", "register": "客户投诉处理登记表", "rows_read": 2, "rows_loaded": 2}]
    path = write_validation_workbook(tmp_path / "validation.xlsx", findings, files)
    wb = openpyxl.load_workbook(path)
    ws = wb["问题清单"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[2], r[5]) for r in rows[:2]] == [("a.xlsx", None, None), ("b.xlsx", 3, "=SUM(A1)")]
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    assert 30_000 < len(rows[2][5].replace("_x0001_", "\x01")) <= 32_767 and rows[2][7] == "警告"
    rules = {r.formula[0] for cf in ws.conditional_formatting for r in cf.rules}
    assert any("错误" in rule for rule in rules) and any("警告" in rule for rule in rules)
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:J4"
    for sheet in wb.worksheets:
        assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
        assert sheet.print_title_rows == "$1:$1" and "第 &P 页" in sheet.oddFooter.center.text
    summary = list(wb["按文件汇总"].iter_rows(min_row=2, values_only=True))
    assert summary == [("b.xlsx", "客户投诉处理登记表", None, 2, 2, 0, 0, None, 1, 1, 0)]
    assert list(wb["按填表人汇总"].iter_rows(min_row=2, values_only=True)) == [("（未署名）", 1, 2, 1, 0)]


def test_validation_workbook_without_findings_still_has_its_headers(tmp_path: Path):
    from pipeline.render.validation import BY_FILE, HEADERS, write_validation_workbook

    wb = openpyxl.load_workbook(write_validation_workbook(tmp_path / "v.xlsx", [], []))
    assert [c.value for c in wb["问题清单"][1]] == HEADERS
    assert [c.value for c in wb["按文件汇总"][1]] == BY_FILE
    assert wb["问题清单"].max_row == 1

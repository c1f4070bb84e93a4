"""Input templates (golden, committed) and the demo inbox."""

from datetime import date
from pathlib import Path

import openpyxl
import pytest

from pipeline.demo import write_demo_inbox
from pipeline.load.loader import load_file
from pipeline.registers import REGISTERS
from pipeline.run import RunOptions, run
from pipeline.store import Store
from pipeline.templates import write_templates
from tests.conftest import AS_OF

COMMITTED = Path(__file__).resolve().parent.parent / "input_templates"


def test_committed_templates_are_current(tmp_path: Path):
    """Regenerate with `make templates` when the register model changes."""
    for path in write_templates(tmp_path):
        assert path.read_bytes() == (COMMITTED / path.name).read_bytes(), f"{path.name}: run `make templates`"


def test_template_is_a_printable_clerks_form(tmp_path: Path):
    path = write_templates(tmp_path)[0]
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["登记表", "填表说明"]
    ws = wb["登记表"]
    assert ws["A1"].value == "客户投诉处理登记表" and "A1:U1" in {str(r) for r in ws.merged_cells.ranges}
    assert ws.freeze_panes == "B4"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert any("维修" in (dv.formula1 or "") for dv in ws.data_validations.dataValidation)
    footer = [
        c.value for row in ws.iter_rows(min_row=50) for c in row if c.value and "填表人" in str(c.value)
    ]
    assert footer


@pytest.mark.parametrize("register", list(REGISTERS))
def test_filled_template_loads_back_exactly(tmp_path: Path, config, register):
    reg = REGISTERS[register]
    path = next(p for p in write_templates(tmp_path) if p.stem == register)
    wb = openpyxl.load_workbook(path)
    ws = wb["登记表"]
    ws.title = "2026年10月"
    ws["A2"] = "项目：翠湖花园      2026 年 10 月"
    sample = {"text": "示例", "date": date(2026, 10, 8), "bool": "是", "number": 200, "phone": "13812345678"}
    expected = {col.key: col.default for col in reg.columns if not col.template}  # not asked for: blank
    for j, col in enumerate([col for col in reg.columns if col.template], start=2):
        value = col.choices[0] if col.choices and col.type != "bool" else sample[col.type]
        if col.key == "property":
            value = "翠湖花园"
        ws.cell(4, j, value)
        expected[col.key] = {"date": "2026-10-08", "bool": True, "number": 200.0}.get(col.type, value)
    wb.save(path)
    loaded = load_file(path, config, AS_OF)
    assert loaded.register == register and len(loaded.records) == 1
    rec = loaded.records[0]
    assert rec.row == 4 and not rec.findings
    assert rec.values == expected


def test_demo_inbox_loads_all_registers_for_three_properties(tmp_path: Path, config):
    paths = write_demo_inbox(tmp_path / "inbox")
    assert {p.suffix for p in paths} == {".xlsx", ".xls", ".csv"}
    result = run(
        config,
        RunOptions(
            inbox=tmp_path / "inbox",
            store=tmp_path / "s.sqlite",
            archive=tmp_path / "a",
            as_of="2026-11-01 08:00",
            workers=1,
        ),
    )
    assert not [o for o in result.ingest.outcomes if o.error]
    assert 0 < result.counts["rows_set_aside"] < 10
    with Store(tmp_path / "s.sqlite") as store:
        for register in REGISTERS:
            recs = store.records(register)
            assert {r["_property"] for r in recs} == {"翠湖花园", "金桂苑", "滨江壹号"}, register
            if REGISTERS[register].date_key is None:  # the roster: no month
                continue
            weeks = {
                date.fromisoformat(r[REGISTERS[register].date_key][:10]).isocalendar().week for r in recs
            }
            if register in ("complaints", "repairs", "callbacks"):
                assert len(weeks) >= 8, register

"""Issue 20: the report model of a small hand-made group is stable (tests/golden_reports.py says how
to regenerate it), and the same model writes the same workbook bytes."""

import hashlib
import json

import pytest

from pipeline.render.excel import write_excel
from pipeline.render.model import build_report
from tests.golden_reports import GOLDEN, golden_form, kpi_models


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return kpi_models(tmp_path_factory.mktemp("golden"))


@pytest.mark.parametrize("kind", ["weekly", "monthly"])
def test_report_model_matches_its_golden_file(models, kind):
    golden = json.loads((GOLDEN / f"report_{kind}.json").read_text(encoding="utf-8"))
    mine = golden_form(models[kind])
    for key in golden:  # key by key, so that a difference names its part of the report
        assert mine[key] == golden[key], (
            f"{kind}: {key} differs (regenerate with make goldens, read the diff)"
        )
    assert set(mine) == set(golden)


def test_the_same_model_writes_the_same_workbook(models, tmp_path):
    digests = {
        hashlib.sha256(write_excel(build_report(models["weekly"]), tmp_path / name).read_bytes()).hexdigest()
        for name in ("a.xlsx", "b.xlsx")
    }
    assert len(digests) == 1

"""The row-local rules' findings kept per file between runs (validate/local.py): the same findings
as checking every row, found again for new or re-dropped files and when the rules change."""

from dataclasses import replace
from datetime import datetime

from pipeline.demo import write_demo_inbox
from pipeline.registers import REGISTERS
from pipeline.store import Store
from pipeline.store.ingest import ingest
from pipeline.validate import local, run_rules
from pipeline.validate.stage import validate_store
from tests.builders import xlsx

AS_OF = datetime(2026, 11, 1, 8, 0)
HEAD = ["投诉编号", "项目", "受理日期", "调查核实日期", "投诉类别", "联系电话"]


def _every_rule(store: Store, config) -> list:
    records = {key: store.current_records(key) for key in REGISTERS}
    return run_rules(records, AS_OF, config, store.sheet_columns())


def _same(found: list, expected: list) -> None:
    assert found == expected
    assert [f.ref for f in found] == [f.ref for f in expected]  # Finding equality leaves ref out


def test_kept_findings_equal_checking_every_row_and_only_new_rows_are_checked(tmp_path, config, monkeypatch):
    inbox = tmp_path / "inbox"
    write_demo_inbox(inbox)
    checked: list[list[str]] = []  # the files whose rows the row-local rules read, per validation
    real = local.run_rules

    def spy(records, *args, **kwargs):
        checked.append(sorted({r["_file"] for recs in records.values() for r in recs}))
        return real(records, *args, **kwargs)

    monkeypatch.setattr(local, "run_rules", spy)
    with Store(tmp_path / "s.sqlite") as store:
        ingest(config, store, inbox, tmp_path / "archive", AS_OF, workers=1)
        first, _ = validate_store(store, config, AS_OF)
        assert checked and {f.code for f in first} & {c for c, spec in local.RULES.items() if spec.local}
        _same(first, _every_rule(store, config))

        checked.clear()
        again, _ = validate_store(store, config, AS_OF)
        assert checked == []  # nothing new: every row-local finding was kept
        _same(again, first)

        row = ["TS-901", "翠湖花园", "2026-08-20", "2026-08-21", "维修", "12345"]  # late check, bad phone
        xlsx(inbox / "补录投诉.xlsx", {"2026年8月": [HEAD, row]})
        ingest(config, store, inbox, tmp_path / "archive", AS_OF, workers=1)
        with_new, _ = validate_store(store, config, AS_OF)
        assert checked == [["补录投诉.xlsx"]]
        mine = sorted(f.code for f in with_new if f.file == "补录投诉.xlsx")
        assert mine == ["invalid-phone", "not-verified-same-day"]
        _same(with_new, _every_rule(store, config))

        checked.clear()
        row[3], row[5] = "2026-08-20", "13812345678"  # the clerk corrects both and drops the file again
        xlsx(inbox / "补录投诉.xlsx", {"2026年8月": [HEAD, row]})
        ingest(config, store, inbox, tmp_path / "archive", AS_OF, workers=1)
        corrected, _ = validate_store(store, config, AS_OF)
        assert checked == [["补录投诉.xlsx"]]
        assert [f for f in corrected if f.file == "补录投诉.xlsx"] == []
        _same(corrected, _every_rule(store, config))

        checked.clear()
        quiet = replace(config, raw={**config.raw, "rules": {"invalid-phone": {"enabled": False}}})
        changed, _ = validate_store(store, quiet, AS_OF)
        assert len(checked) == 1 and len(checked[0]) > 1  # another rule setting: every file again
        assert "invalid-phone" not in {f.code for f in changed}
        _same(changed, _every_rule(store, quiet))


def test_the_rules_key_is_the_same_in_every_process(config):
    """Kept findings serve the next run, another process with another hash seed: the key of the
    rules must not carry anything of one process (code objects' addresses, a set's order)."""
    import os
    import subprocess
    import sys

    script = (
        "from pathlib import Path; from pipeline.config import parse_config;"
        "from pipeline.validate.local import rules_key;"
        "print(rules_key(parse_config({'rules': {'appeal-late': {'days': 7}}}, Path('.'))))"
    )
    keys = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2", "random")
    }
    assert len(keys) == 1
    assert keys != {local.rules_key(config)}  # another setting of a row-local rule: another key

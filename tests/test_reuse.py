"""A re-run with nothing new reuses the folder's outputs; any change that matters recomputes them."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from pipeline.config import Property
from pipeline.run import RunOptions, run, summary_lines
from tests.builders import xlsx

HEAD = ["投诉编号", "项目", "受理日期", "调查核实日期", "投诉类别", "投诉人", "联系电话"]


def _opts(tmp_path: Path, **kw) -> RunOptions:
    base = dict(
        inbox=tmp_path / "inbox",
        reports=tmp_path / "reports",
        store=tmp_path / "s.sqlite",
        archive=tmp_path / "a",
        as_of="2026-11-01 08:00",
        month="2026-10",
        workers=1,
        render=False,
    )
    return RunOptions(**{**base, **kw})


def _drop(tmp_path: Path, name: str, rows: list[list]) -> None:
    (tmp_path / "inbox").mkdir(exist_ok=True)
    xlsx(tmp_path / "inbox" / name, {"2026年10月": [HEAD, *rows]})


def _manifest(result) -> dict:
    return json.loads((result.report_dir / "manifest.json").read_text(encoding="utf-8"))


def _as_json(model: dict) -> dict:
    return json.loads(json.dumps(model, ensure_ascii=False, default=str))


def _first(tmp_path: Path, config, **kw):
    _drop(tmp_path, "a.xlsx", [["A1", "翠湖花园", "2026-10-08", "2026-10-08", "维修", "张三", "13812345678"]])
    return run(config, _opts(tmp_path, **kw))


def test_a_rerun_with_nothing_new_reuses_the_reports_byte_for_byte(tmp_path: Path, config):
    first = _first(tmp_path, config, render=True)
    files = {p: p.stat().st_mtime_ns for p in first.report_dir.glob("report.*")}
    assert len(files) == 2
    first_id = _manifest(first)["run_id"]
    again = run(config, _opts(tmp_path, render=True))
    assert again.reused_from == first_id and again.model == _as_json(first.model)
    assert {p: p.stat().st_mtime_ns for p in files} == files  # not rewritten
    assert again.outputs["pdf"] == first.outputs["pdf"]
    assert "validate" not in _manifest(again)["timings_seconds"]
    assert any("沿用其报告" in line for line in summary_lines(again))
    third = run(config, _opts(tmp_path, render=True))  # a reuse of a reuse names the run that computed
    assert third.reused_from == first_id


def test_new_data_config_as_of_or_options_recompute(tmp_path: Path, config):
    first = _first(tmp_path, config)
    _drop(tmp_path, "b.xlsx", [["B1", "金桂苑", "2026-10-09", "2026-10-09", "服务", "李四", "13912345678"]])
    assert run(config, _opts(tmp_path)).reused_from is None  # a new file
    assert run(config, _opts(tmp_path)).reused_from is not None
    props = dict(config.properties, 金桂苑=Property("金桂苑", 900))
    changed = replace(config, properties=props)
    assert run(changed, _opts(tmp_path)).reused_from is None  # households changed
    assert run(changed, _opts(tmp_path, as_of="2026-11-02 08:00")).reused_from is None
    # back to the first as-of: the store's rule findings are now the later as-of's, so recompute
    assert run(changed, _opts(tmp_path)).reused_from is None
    assert run(changed, _opts(tmp_path, unmasked=True)).reused_from is None
    assert run(changed, _opts(tmp_path, unmasked=True, reuse=False)).reused_from is None  # --force
    assert first.model["kpis"] is not None


def test_a_damaged_or_deleted_output_is_rebuilt(tmp_path: Path, config):
    first = _first(tmp_path, config)
    kpis = first.report_dir / "kpis.json"
    kpis.write_text("{}", encoding="utf-8")
    again = run(config, _opts(tmp_path))
    assert again.reused_from is None
    rebuilt, before = json.loads(kpis.read_text(encoding="utf-8")), _as_json(first.model)
    for model in (rebuilt, before):
        model.pop("generated_at")  # the rebuild may fall in the next second
    assert rebuilt == before


def test_another_period_with_the_same_data_and_as_of_does_not_validate_again(tmp_path: Path, config):
    _drop(tmp_path, "a.xlsx", [["A1", "翠湖花园", "2026-10-08", "2026-10-02", "维修", "张三", "138"]])
    first = run(config, _opts(tmp_path))
    assert first.findings  # the investigation date before the receipt date, at least
    weekly = run(config, _opts(tmp_path, month=None, week="2026-W44"))
    assert weekly.reused_from is None and weekly.findings == []  # the store's findings were current
    forced = run(config, _opts(tmp_path, month=None, week="2026-W44", reuse=False))
    assert forced.model["kpis"] == weekly.model["kpis"]
    assert first.counts == weekly.counts


def test_the_store_is_checked_before_a_run_relies_on_it_and_a_reusing_run_does_not_wait(
    tmp_path: Path, config, monkeypatch
):
    """The integrity check runs in a thread from the start of a run: a run that stores a file
    waits for it before the first write, a run that computes reads the records and runs the rules
    meanwhile and waits before it writes their findings (a damaged store stops it, test_faults), a
    run that only reuses its outputs never waits (a year's store not in memory takes 12 s to check)."""
    from pipeline.store import Store

    waited: list[str] = []
    for name, event in (("check", "check"), ("current_frames", "read"), ("apply_rule_findings", "write")):
        real = getattr(Store, name)
        monkeypatch.setattr(
            Store,
            name,
            lambda self, *a, _real=real, _event=event, **k: waited.append(_event) or _real(self, *a, **k),
        )
    _drop(tmp_path, "a.xlsx", [["A1", "翠湖花园", "2026-10-08", "2026-10-08", "维修", "张三", "13812345678"]])
    run(config, _opts(tmp_path))
    # before storing a.xlsx; then before the rules' findings are written (the result is remembered)
    assert waited[:4] == ["check", "read", "check", "write"]
    waited.clear()
    again = run(config, _opts(tmp_path))
    assert again.reused_from and waited == []
    waited.clear()
    run(config, _opts(tmp_path, as_of="2026-11-02 08:00"))  # computes again: checked before it writes
    assert waited[:3] == ["read", "check", "write"]


def test_an_upgrade_of_the_code_recomputes_under_the_same_version(tmp_path: Path, config, monkeypatch):
    """The reuse key carries a digest of the installed code and templates, not only the version
    string (which stayed 0.1.0 through every change): new code never passes off old reports."""
    from pipeline.render import reuse

    first_id = _manifest(_first(tmp_path, config))["run_id"]
    assert run(config, _opts(tmp_path)).reused_from == first_id
    monkeypatch.setattr(reuse, "code_digest", lambda: "another release")
    assert run(config, _opts(tmp_path)).reused_from is None
    assert run(config, _opts(tmp_path)).reused_from is not None  # then that release's outputs are reused


def test_the_code_digest_follows_the_package_sources(tmp_path: Path, monkeypatch):
    import shutil

    from pipeline.render import reuse

    copy = tmp_path / "pipeline"
    shutil.copytree(Path(reuse.__file__).resolve().parent.parent, copy)
    monkeypatch.setattr(reuse, "__file__", str(copy / "render" / "reuse.py"))
    reuse.code_digest.cache_clear()
    try:
        before = reuse.code_digest()
        reuse.code_digest.cache_clear()
        assert reuse.code_digest() == before  # stable
        (copy / "kpi" / "lists.py").write_text("# changed\n", encoding="utf-8")
        reuse.code_digest.cache_clear()
        assert reuse.code_digest() != before
    finally:
        reuse.code_digest.cache_clear()

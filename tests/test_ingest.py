"""The drop folder → store: content hashes, supersession, archive, originals untouched."""

import hashlib
import os
import shutil
import time
from pathlib import Path

import pytest

from pipeline.infra.pool import mapped
from pipeline.run import RunOptions, run, summary_lines
from pipeline.store import Store
from tests.builders import xlsx
from tests.conftest import ON_POSTGRES

HEAD = ["投诉编号", "项目", "受理日期", "投诉类别", "完成日期"]


def _complaints(path: Path, rows: list[list], sheet: str = "2026年10月") -> Path:
    return xlsx(path, {sheet: [["客户投诉处理登记表"], HEAD, *rows]})


def _run(tmp_path: Path, config, **kw):
    opts = RunOptions(
        inbox=tmp_path / "inbox",
        reports=tmp_path / "reports",
        store=tmp_path / "store.sqlite",
        archive=tmp_path / "archive",
        as_of="2026-11-01 08:00",
        workers=1,
        **kw,
    )
    return run(config, opts)


def _digest(folder: Path) -> dict[str, tuple[str, int]]:
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns) for p in folder.iterdir()
    }


def test_same_file_dropped_twice_adds_nothing(tmp_path: Path, config):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _complaints(inbox / "a.xlsx", [["A1", "翠湖花园", "2026-10-01", "维修", "2026-10-02"]])
    first = _run(tmp_path, config)
    shutil.copy(inbox / "a.xlsx", inbox / "a - 副本.xlsx")
    second = _run(tmp_path, config)
    assert (
        first.counts
        == second.counts
        == {"rows_read": 1, "rows_loaded": 1, "rows_set_aside": 0, "rows_skipped": 0}
    )
    assert len(second.ingest.outcomes) == 0 and second.ingest.unchanged == 2


def test_corrected_file_supersedes_same_register_property_and_month(tmp_path: Path, config):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _complaints(
        inbox / "翠湖投诉.xlsx",
        [["A1", "翠湖花园", "2026-10-01", "维修", None], ["A2", "翠湖花园", "2026/13/1", "绿化", None]],
    )
    _complaints(inbox / "金桂投诉.xlsx", [["B1", "金桂苑", "2026-10-01", "维修", None]])
    first = _run(tmp_path, config)
    assert first.counts == {"rows_read": 3, "rows_loaded": 2, "rows_set_aside": 1, "rows_skipped": 0}
    time.sleep(0.01)
    _complaints(
        inbox / "翠湖投诉.xlsx",
        [
            ["A1", "翠湖花园", "2026-10-01", "维修", "2026-10-03"],
            ["A2", "翠湖花园", "2026-10-11", "绿化", None],
        ],
    )
    second = _run(tmp_path, config)
    assert second.ingest.outcomes[0].superseded == 2
    assert second.counts == {"rows_read": 3, "rows_loaded": 3, "rows_set_aside": 0, "rows_skipped": 0}
    with Store(tmp_path / "store.sqlite") as store:
        current = {r["id"]: r for r in store.records("complaints")}
        assert current["A1"]["closed"] == "2026-10-03" and current["B1"]["_property"] == "金桂苑"
        history = store.records("complaints", include_set_aside=True, include_superseded=True)
        assert len(history) == 5  # the earlier version stays on record
        assert len(store.files()) == 3


def test_inputs_are_never_modified_and_are_archived_by_hash(tmp_path: Path, config):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = _complaints(inbox / "a.xlsx", [["A1", "翠湖花园", "2026-10-01", "维修", None]])
    (inbox / "bad.xlsx").write_bytes(b"not a workbook")
    before = _digest(inbox)
    _run(tmp_path, config)
    assert _digest(inbox) == before
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    archived = tmp_path / "archive" / sha[:2] / f"{sha}.xlsx"
    assert archived.read_bytes() == path.read_bytes()
    assert oct(archived.stat().st_mode & 0o777) == "0o600"
    if not ON_POSTGRES:
        assert oct((tmp_path / "store.sqlite").stat().st_mode & 0o777) == "0o600"


def test_bad_file_is_reported_and_the_run_goes_on(tmp_path: Path, config):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "坏文件.xlsx").write_bytes(b"PK\x03\x04broken")
    (inbox / "空.csv").write_bytes(b"")
    (inbox / "~$a.xlsx").write_bytes(b"lock")
    (inbox / "readme.docx").write_bytes(b"x")
    os.symlink("/etc/passwd", inbox / "link.csv")
    _complaints(inbox / "a.xlsx", [["A1", "翠湖花园", "2026-10-01", "维修", None]])
    result = _run(tmp_path, config)
    assert result.exit_code == 1
    assert result.counts["rows_loaded"] == 1
    errors = sorted(o.error.code for o in result.ingest.outcomes if o.error)
    assert errors == ["file-empty", "file-unreadable"]
    text = "\n".join(summary_lines(result))
    assert "坏文件.xlsx" in text and "文件已损坏" in text
    assert "link.csv" in text and "符号链接" in text and "readme.docx" in text
    assert "~$a.xlsx" not in text


def test_rows_read_equals_loaded_plus_set_aside_in_every_summary(tmp_path: Path, config):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _complaints(
        inbox / "a.xlsx",
        [
            ["A1", "翠湖花园", "2026-10-01", "维修", None],
            ["A2", "翠湖花园", "bad", "维修", None],
            ["A3", None, "2026-10-02", None, None],
        ],
    )
    result = _run(tmp_path, config)
    o = result.ingest.outcomes[0]
    assert (o.rows_read, o.rows_loaded, o.rows_set_aside) == (3, 1, 2)
    assert o.reasons == {"日期无效": 1, "必填项为空": 1, "无法确定项目": 1}
    assert "读取 3 行，入库 1 行，暂存 2 行" in summary_lines(result)[0]


def test_parallel_and_serial_loading_store_the_same(tmp_path: Path, config):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for i in range(8):
        _complaints(
            inbox / f"f{i}.xlsx",
            [[f"A{i}", "翠湖花园", f"2026-{i + 1:02d}-01", "维修", None]],
            sheet=f"2026年{i + 1}月",
        )
    opts = dict(inbox=inbox, as_of="2026-11-01 08:00")
    a = run(config, RunOptions(store=tmp_path / "a.sqlite", archive=tmp_path / "arch", workers=1, **opts))
    b = run(config, RunOptions(store=tmp_path / "b.sqlite", archive=tmp_path / "arch", workers=2, **opts))
    assert a.counts == b.counts == {"rows_read": 8, "rows_loaded": 8, "rows_set_aside": 0, "rows_skipped": 0}
    with Store(tmp_path / "a.sqlite") as sa, Store(tmp_path / "b.sqlite") as sb:
        strip = lambda rows: sorted((r["id"], r["received"], r["_row"]) for r in rows)  # noqa: E731
        assert strip(sa.records("complaints")) == strip(sb.records("complaints"))


def _square(n: int) -> int:
    if n == 57:
        raise ValueError("job 57")
    return n * n


def test_worker_results_stream_back_in_order_and_errors_surface():
    """mapped keeps only a few chunks in flight, yet returns every result in job order."""
    jobs = list(range(50))
    assert list(mapped(_square, jobs, 2, serial_below=6, chunksize=3)) == [n * n for n in jobs]
    with pytest.raises(ValueError, match="job 57"):
        list(mapped(_square, list(range(100)), 2, serial_below=6, chunksize=3))


def test_lean_records_leave_out_only_the_memo_columns(tmp_path: Path, config):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    xlsx(
        inbox / "a.xlsx",
        {
            "2026年10月": [
                HEAD + ["处理结果", "备注"],
                ["A1", "翠湖花园", "2026-10-01", "维修", None, "已修好", "业主在家"],
            ]
        },
    )
    _run(tmp_path, config)
    with Store(tmp_path / "store.sqlite") as store:
        (full,), (lean,) = store.records("complaints"), store.records("complaints", lean=True)
    assert (full["result"], full["remark"]) == ("已修好", "业主在家")
    assert {k: v for k, v in full.items() if k not in ("result", "remark")} == lean


def test_a_corrected_redrop_leaves_no_old_problem_behind(tmp_path: Path, config):
    """Issue 17.3: the superseded version's set-aside rows (even those it could not place in a month
    or a property) and its findings leave every output of the later run; history keeps them."""
    import json

    import openpyxl

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    bad = [
        ["A1", "翠湖花园", "2026-10-01", "维修", None],
        ["A2", "翠湖花园", "十月某天", "绿化", None],  # no date: no month to supersede it by
        ["A3", "某小区", "2026-10-02", "维修", None],  # no configured property
        ["A4", None, "2026-10-03", "维修", None],  # no property at all
    ]
    _complaints(inbox / "翠湖投诉.xlsx", bad, sheet="Sheet1")
    first = _run(tmp_path, config, month="2026-10")
    assert first.counts["rows_set_aside"] == 1  # A2; A3 loads under an unconfigured 某小区
    time.sleep(0.01)
    good = [
        ["A1", "翠湖花园", "2026-10-01", "维修", None],
        ["A2", "翠湖花园", "2026-10-05", "绿化", None],
        ["A3", "翠湖花园", "2026-10-02", "维修", None],
        ["A4", "翠湖花园", "2026-10-03", "维修", None],
    ]
    _complaints(inbox / "翠湖投诉.xlsx", good, sheet="Sheet1")
    second = _run(tmp_path, config, month="2026-10")
    assert second.counts == {"rows_read": 4, "rows_loaded": 4, "rows_set_aside": 0, "rows_skipped": 0}
    assert second.ingest.outcomes[0].rows_set_aside == 0
    folder = tmp_path / "reports/monthly/2026-10"
    kpis = json.loads((folder / "kpis.json").read_text(encoding="utf-8"))
    assert kpis["data_quality"]["rows_set_aside"] == 0 and len(kpis["data_quality"]["files"]) == 1
    assert not kpis["lists"].get("set_aside")
    ws = openpyxl.load_workbook(folder / "validation.xlsx")["问题清单"]
    assert [r for r in ws.iter_rows(min_row=2, values_only=True) if r[0]] == []
    assert not (folder / "annotated" / "翠湖投诉（待修改）.xlsx").exists()  # nothing left to fix
    with Store(tmp_path / "store.sqlite") as store:
        history = store.records("complaints", include_set_aside=True, include_superseded=True)
        assert len(history) == 8  # the earlier version stays on record


def test_the_inbox_scan_walks_folders_oldest_first_and_says_what_it_ignores(tmp_path: Path):
    from pipeline.store.ingest import scan_inbox

    inbox = tmp_path / "inbox"
    (inbox / "九月" / "补交").mkdir(parents=True)
    (inbox / ".隐藏").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "x.xlsx").write_bytes(b"x")
    os.symlink(tmp_path / "elsewhere", inbox / "链接目录")  # a folder link is not followed
    made = ["b.xlsx", "九月/补交/c.csv", "a.xls", "九月/d.XLSX"]
    for n, name in enumerate(made):
        (inbox / name).write_bytes(b"x")
        os.utime(inbox / name, ns=(10**18 + n, 10**18 + n))  # dropped in this order
    (inbox / ".隐藏" / "e.xlsx").write_bytes(b"x")
    (inbox / "九月" / "~$d.xlsx").write_bytes(b"lock")
    (inbox / "九月" / "说明.docx").write_bytes(b"x")
    os.symlink("/etc/passwd", inbox / "九月" / "p.csv")
    paths, ignored = scan_inbox(inbox)
    assert [str(p.relative_to(inbox)) for p in paths] == [n.replace("/", os.sep) for n in made]
    assert sorted(ignored) == [
        (os.path.join("九月", "p.csv"), "是符号链接，为安全起见不读取"),
        (os.path.join("九月", "说明.docx"), "不是登记表文件类型（.docx）"),
    ]
    assert scan_inbox(tmp_path / "missing") == ([], [])


def test_findings_are_located_by_the_layouts_of_current_files_only(tmp_path: Path, config):
    """Store.sheet_columns (where a finding's column letter comes from) reads the sheet layouts of
    files that still have current rows, not of every version the store keeps."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _complaints(inbox / "翠湖投诉.xlsx", [["A1", "翠湖花园", "2026-10-01", "维修", None]])
    _run(tmp_path, config)
    (inbox / "翠湖投诉.xlsx").unlink()
    time.sleep(0.01)
    _complaints(inbox / "翠湖投诉（改）.xlsx", [["A1", "翠湖花园", "2026-10-01", "维修", "2026-10-03"]])
    second = _run(tmp_path, config)
    assert second.ingest.outcomes[0].superseded == 1
    with Store(tmp_path / "store.sqlite") as store:
        assert {name for name, _ in store.sheet_columns()} == {"翠湖投诉（改）.xlsx"}
        assert len(store.files()) == 2  # the earlier version stays on record


def test_a_file_is_hashed_again_only_when_its_size_or_time_changed(tmp_path: Path, config, monkeypatch):
    """The inbox cache (ingest.content_hashes): a file as it was when hashed takes its hash from the
    store; one rewritten in place (same name, new content) is read again and loaded as new."""
    import pipeline.store.ingest as ingest

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _complaints(inbox / "a.xlsx", [["A1", "翠湖花园", "2026-10-01", "维修", None]])
    _complaints(inbox / "b.xlsx", [["B1", "金桂苑", "2026-10-01", "维修", None]], sheet="2026年9月")
    _run(tmp_path, config)
    hashed: list[str] = []
    real = ingest.file_hash
    monkeypatch.setattr(ingest, "file_hash", lambda path: hashed.append(path.name) or real(path))
    again = _run(tmp_path, config)
    assert hashed == [] and again.ingest.unchanged == 2
    _complaints(inbox / "a.xlsx", [["A1", "翠湖花园", "2026-10-01", "维修", "2026-10-05"]])
    os.utime(inbox / "a.xlsx", ns=(time.time_ns(), time.time_ns() + 10**9))  # a coarse clock's twin
    third = _run(tmp_path, config)
    assert hashed == ["a.xlsx"]
    assert [o.name for o in third.ingest.outcomes] == ["a.xlsx"] and third.ingest.unchanged == 1
    with Store(tmp_path / "store.sqlite") as store:
        closed = [r["closed"] for r in store.records("complaints") if r["id"] == "A1"]
    assert len(closed) == 1 and closed[0] is not None  # the rewritten version's

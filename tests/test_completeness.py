"""Issue 17.4: who has not handed in what — named in kpis.json, on page 1, in the email and the
exit code; figures no register covers are null, never 0; a mistyped inbox is no empty week."""

import json
import subprocess
from datetime import UTC
from pathlib import Path

from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.config import parse_config
from pipeline.run import RunOptions, run, summary_lines
from tests.builders import xlsx

HEAD = ["投诉编号", "项目", "受理日期", "投诉类别", "是否有效投诉"]


def _config(tmp_path: Path, **extra):
    props = {"东区": {"households": 100}, "西区": {"households": 200, **extra}}
    return parse_config({"properties": props}, tmp_path)


def _run(tmp_path: Path, config, **kw):
    opts = RunOptions(
        inbox=tmp_path / "inbox",
        reports=tmp_path / "reports",
        store=tmp_path / "s.sqlite",
        archive=tmp_path / "archive",
        as_of="2026-11-01 08:00",
        workers=1,
        **kw,
    )
    return run(config, opts)


def _inbox(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    rows = [["东区客户投诉处理登记表"], HEAD, ["TS-1", "东区", "2026-10-08", "维修", "是"]]
    xlsx(inbox / "东区投诉.xlsx", {"2026年10月": rows})
    # 西区 had no complaint in October: it hands in an empty register, which counts
    xlsx(inbox / "西区投诉.xlsx", {"2026年10月": [["西区客户投诉处理登记表"], HEAD]})
    return inbox


def test_missing_registers_are_listed_said_and_exit_1(tmp_path: Path):
    _inbox(tmp_path)
    result = _run(tmp_path, _config(tmp_path, registers=["complaints", "repairs"]), month="2026-10")
    folder = tmp_path / "reports/monthly/2026-10"
    kpis = json.loads((folder / "kpis.json").read_text(encoding="utf-8"))
    missing = kpis["data_quality"]["missing_registers"]
    # 东区 is expected to hand in all five; 西区 only complaints and repairs (config narrows it)
    assert {"property": "东区", "register": "callbacks"} in missing
    assert {"property": "西区", "register": "repairs"} in missing
    assert {"property": "西区", "register": "callbacks"} not in missing
    assert not any(m["register"] == "complaints" for m in missing)  # both handed in, one empty
    assert len(missing) == 4 + 1
    assert result.exit_code == 1
    assert any("西区 未交 报修登记表（2026-10）" in line for line in summary_lines(result))
    page1 = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-layout", str(folder / "report.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "未交登记表" in page1 and "西区 未交 报修登记表" in page1


def test_the_email_says_who_has_not_handed_in(tmp_path: Path):
    from pipeline.deliver.mail import MailSettings, build_message

    _inbox(tmp_path)
    result = _run(tmp_path, _config(tmp_path), month="2026-10")
    settings = MailSettings("127.0.0.1", 25, "none", "a@example.com", ("b@example.com",))
    msg = build_message(result.model, result.outputs["pdf"], result.outputs["xlsx"], settings)
    body = msg.get_body(("plain",)).get_content()
    assert "未交登记表" in body and "东区 未交 回访记录表（2026-10）" in body


def test_a_rate_no_register_covers_is_null_not_zero(tmp_path: Path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    rows = [["东区客户投诉处理登记表"], HEAD, ["TS-1", "东区", "2026-10-08", "维修", "是"]]
    xlsx(inbox / "东区投诉.xlsx", {"2026年10月": rows})
    _run(tmp_path, _config(tmp_path), month="2026-10")
    kpis = json.loads((tmp_path / "reports/monthly/2026-10/kpis.json").read_text(encoding="utf-8"))
    west = kpis["by_property"]["西区"]["effective_complaint_rate"]
    assert west["value"] is None and "无数据" in west["note"]
    assert kpis["by_property"]["东区"]["effective_complaint_rate"]["value"] == 0.01
    monthly = {row["period"]: row for row in kpis["trend"]["monthly"]}
    assert monthly["2026-09"]["effective_complaint_rate"] is None  # no register at all that month
    assert monthly["2026-10"]["effective_complaint_rate"] is not None
    company = kpis["kpis"]["effective_complaint_rate"]  # 西区's 200 households do not dilute it
    assert (company["numerator"], company["denominator"]) == (1, 100) and "1 个项目" in company["note"]
    assert monthly["2026-10"]["effective_complaint_rate_denominator"] == 100
    west_trend = {row["period"]: row for row in kpis["trend"]["monthly_by_property"]["西区"]}
    assert west_trend["2026-10"]["effective_complaint_rate_ytd"] is None


def test_a_missing_inbox_is_exit_2_naming_it(tmp_path: Path):
    (tmp_path / "config.toml").write_text('[properties."东区"]\nhouseholds = 100\n', encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        [
            "run",
            "--config",
            str(tmp_path / "config.toml"),
            "--inbox",
            str(tmp_path / "收件箱x"),
            "--as-of",
            "2026-11-01 08:00",
            "--store",
            str(tmp_path / "s.sqlite"),
        ],
    )
    assert result.exit_code == 2
    assert "收件箱" in result.output and "收件箱x" in result.output and "不存在" in result.output


def test_an_empty_store_with_nothing_to_load_is_exit_1(tmp_path: Path):
    (tmp_path / "inbox").mkdir()
    result = _run(tmp_path, _config(tmp_path), month="2026-10", render=False)
    assert result.exit_code == 1
    assert any("还没有任何登记数据" in line for line in summary_lines(result))


def test_generated_at_is_in_the_meetings_time_zone_with_its_offset(tmp_path: Path):
    """Issue 20: 生成于 beside 统计截止 in one time zone, whatever the machine's (this one runs in UTC)."""
    from datetime import datetime, timedelta

    _inbox(tmp_path)
    _run(tmp_path, _config(tmp_path), month="2026-10", render=False)
    kpis = json.loads((tmp_path / "reports/monthly/2026-10/kpis.json").read_text(encoding="utf-8"))
    when = datetime.fromisoformat(kpis["generated_at"])
    assert kpis["generated_at"].endswith("+08:00") and when.utcoffset() == timedelta(hours=8)
    assert abs(when - datetime.now(UTC)) < timedelta(minutes=5)


def test_a_centres_feedback_register_naming_no_property_covers_every_property(tmp_path: Path):
    """One feedback register for the whole centre (no 项目 column, no property in its title) is
    handed in for every property; its rows go to their complaints' properties (domain.attribute)."""
    inbox = _inbox(tmp_path)
    rows = [
        ["投诉处理结果客户反馈登记表"],
        ["反馈编号", "投诉编号", "反馈日期", "满意度"],
        ["FK-1", "TS-1", "2026-10-09", "满意"],
    ]
    xlsx(inbox / "客户反馈登记表.xlsx", {"2026年10月": rows})
    _run(tmp_path, _config(tmp_path), month="2026-10")
    kpis = json.loads((tmp_path / "reports/monthly/2026-10/kpis.json").read_text(encoding="utf-8"))
    assert not any(m["register"] == "feedback" for m in kpis["data_quality"]["missing_registers"])
    assert kpis["by_property"]["东区"]["satisfaction_rate"]["denominator"] == 1

"""config.toml checking and the command line."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.config import load_config
from pipeline.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_config_is_valid():
    config = load_config(ROOT / "config.toml")
    assert config.properties["翠湖花园"].households == 1200
    assert config.aliases["complaints"]["约定答复日期"] == "承诺回复日期"
    assert config.store == ROOT / "store.sqlite"  # relative to the config file's folder


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ('[properties."翠湖花园"]\nhouseholds = -5', ["翠湖花园", "households"]),
        ('[aliases.complaint]\n"x" = "受理日期"', ["aliases.complaint", "complaints"]),
        ('[aliases.complaints]\n"约定答复日期" = "答复期限"', ["答复期限", "承诺回复日期"]),
        ("[targets]\ncallback_rate = 100", ["callback_rate", "0 到 1"]),
        ('[meeting]\nweekday = "fri"', ["weekday"]),
        ("[paths\n", ["格式错误"]),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, toml, words):
    path = tmp_path / "config.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    for word in words:
        assert word in str(exc.value)


def test_every_command_has_chinese_help():
    runner = CliRunner()
    for name, command in cli.commands.items():
        assert command.help, name
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, name


def test_cli_run_prints_per_file_summary(tmp_path: Path):
    runner = CliRunner()
    inbox = tmp_path / "inbox"
    assert runner.invoke(cli, ["demo", "--inbox", str(inbox)]).exit_code == 0
    args = [
        "run",
        "--config",
        str(ROOT / "config.toml"),
        "--inbox",
        str(inbox),
        "--reports",
        str(tmp_path / "r"),
        "--store",
        str(tmp_path / "s.sqlite"),
        "--archive",
        str(tmp_path / "a"),
        "--month",
        "2026-10",
        "--as-of",
        "2026-11-01 08:00",
    ]
    result = runner.invoke(cli, args)
    assert result.exit_code == 1, result.output  # the demo plants rows that must be set aside
    assert "金桂苑-客户投诉处理登记表.xls" in result.output and "暂存 2 行" in result.output
    assert "monthly/2026-10" in result.output
    again = runner.invoke(cli, args)
    assert "26 个文件此前已处理且内容未变" in again.output  # the five registers and the two optional ones


def test_cli_turns_config_errors_into_messages(tmp_path: Path):
    bad = tmp_path / "config.toml"
    bad.write_text("[targets]\nreply_rate = 2", encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", "--config", str(bad)])
    assert result.exit_code == 2 and "reply_rate" in result.output and "Traceback" not in result.output


def test_generated_reference_pages_are_current():
    """Regenerate with `make docs` when a command, a finding code or a register changes."""
    from pipeline.docs import cli_reference, findings_catalogue, registers_reference
    from pipeline.registers import REGISTERS, RELATIONS

    assert (ROOT / "docs" / "命令参考.md").read_text(encoding="utf-8") == cli_reference()
    assert (ROOT / "docs" / "问题代码.md").read_text(encoding="utf-8") == findings_catalogue()
    page = (ROOT / "docs" / "登记表说明.md").read_text(encoding="utf-8")
    assert page == registers_reference()
    assert all(f"## {r.title}" in page for r in REGISTERS.values()) and all(r.text in page for r in RELATIONS)


def test_every_finding_code_has_a_message_and_a_fix():
    from pipeline.findings import CODES
    from pipeline.validate.rules import RULES

    assert set(RULES) <= set(CODES)
    for code, c in CODES.items():
        assert c.title and c.message and c.fix, code


def test_periods_as_people_say_them(tmp_path):
    """Issue 21: --week last | current | 2026-W44 | the meeting's date, --month 2026年10月 | last."""
    from datetime import datetime

    from pipeline.config import parse_config
    from pipeline.render.model import window_text
    from pipeline.run import resolve_period

    cfg = parse_config({}, tmp_path)
    as_of = datetime(2026, 11, 1, 8, 0)  # a Sunday
    w44 = resolve_period(cfg, "2026-W44", None, as_of)
    assert (w44.start, w44.end) == (datetime(2026, 10, 23, 16, 30), datetime(2026, 10, 30, 16, 30))
    for said in ("2026-10-30", "2026/10/30", "2026年10月30日", "2026-10-27", "last", "上周"):
        assert resolve_period(cfg, said, None, as_of) == w44, said
    assert resolve_period(cfg, "current", None, as_of).label == "2026-W45"
    assert resolve_period(cfg, "2026-10-31", None, as_of).label == "2026-W45"  # after that meeting
    for said in ("2026-10", "2026年10月", "２０２６年１０月", "2026/10", "last", "上个月"):
        assert resolve_period(cfg, None, said, as_of).label == "2026-10", said
    model = {
        "kind": "weekly",
        "start": w44.start.isoformat(),
        "end": w44.end.isoformat(),
        "period": w44.label,
    }
    assert window_text(model) == "10月23日 16:30 – 10月30日 16:30（2026-W44）"
    with pytest.raises(ConfigError, match="例会日期"):
        resolve_period(cfg, "next tuesday", None, as_of)


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["run", "--help"],
        ["run", "--bogus"],
        ["run", "--week"],
        ["nosuch"],
        ["email"],
        ["run", "--month", "x"],
    ],
)
def test_help_usage_and_errors_are_chinese(args):
    """Issue 21: click's own strings too — no "Usage:", "Show this message", "Error:" or "Try"."""
    result = CliRunner().invoke(cli, args)
    for english in (
        "Usage:",
        "Show this message",
        "Error:",
        "Try '",
        "No such",
        "Missing",
        "requires an argument",
    ):
        assert english not in result.output, (english, result.output)
    assert "用法" in result.output or "✘" in result.output


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from tests.builders import xlsx

    base = tmp_path_factory.mktemp("periods")
    rows = [["东区客户投诉处理登记表"], ["投诉编号", "项目", "受理日期", "投诉类别", "是否有效投诉"]]
    xlsx(
        base / "inbox" / "东区投诉.xlsx",
        {"2026年10月": [*rows, ["TS-1", "东区", "2026-10-28", "维修", "是"]]},
    )
    (base / "config.toml").write_text('[properties."东区"]\nhouseholds = 100\nregisters = ["complaints"]\n')
    return base


@pytest.mark.parametrize(
    "option, said, window",
    [
        ("--week", "last", "10月23日 16:30 – 10月30日 16:30（2026-W44）"),
        ("--week", "上周", "10月23日 16:30 – 10月30日 16:30（2026-W44）"),
        ("--week", "current", "10月30日 16:30 – 11月6日 16:30（2026-W45）"),
        ("--week", "本周", "10月30日 16:30 – 11月6日 16:30（2026-W45）"),
        ("--week", "2026-W44", "10月23日 16:30 – 10月30日 16:30（2026-W44）"),
        ("--week", "2026-10-30", "10月23日 16:30 – 10月30日 16:30（2026-W44）"),
        ("--week", "2026年10月30日", "10月23日 16:30 – 10月30日 16:30（2026-W44）"),
        ("--month", "2026-10", "2026年10月"),
        ("--month", "2026年10月", "2026年10月"),
        ("--month", "last", "2026年10月"),
        ("--month", "current", "2026年11月"),
    ],
)
def test_every_period_form_on_the_command_line_names_its_window(tiny, option, said, window):
    args = ["--config", str(tiny / "config.toml"), "run", "--inbox", str(tiny / "inbox")]
    args += ["--store", str(tiny / "s.sqlite"), "--archive", str(tiny / "a"), "--reports", str(tiny / "r")]
    done = CliRunner().invoke(cli, [*args, option, said, "--as-of", "2026-11-01 08:00", "--no-reports"])
    assert done.exit_code in (0, 1), done.output  # 1: November's register is not in yet
    assert f"周期：{window}" in done.output


def test_every_command_and_subcommand_helps_in_chinese():
    import click

    def walk(group, path):
        for name, command in group.commands.items():
            yield [*path, name]
            if isinstance(command, click.Group):
                yield from walk(command, [*path, name])

    for path in walk(cli, []):
        result = CliRunner().invoke(cli, [*path, "--help"])
        assert result.exit_code == 0 and "用法：" in result.output, path
        assert "Show this message" not in result.output and "Usage" not in result.output, path

"""The user guide cannot drift: every `pipeline …` command in it parses against the real CLI and,
where it can run in a test, runs on the demo inbox (mail to a local SMTP server, pushes to the local
robot server); every config.toml snippet passes the start-up check; the credentials example is one the
program accepts; the Samba share passes testparm; every picture exists and is legible (full width)."""

import re
import shlex
import shutil
import struct
import subprocess
import tomllib
import warnings
from pathlib import Path

import click
import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from pipeline import periods
from pipeline.cli import cli
from pipeline.config import load_config, parse_config
from pipeline.credentials import VARIABLES
from pipeline.deliver.robots import configured_robots
from pipeline.demo import write_demo_inbox
from pipeline.run import check_config, resolve_period
from tests.robot_server import RobotServer
from tests.test_mail import Recorder, _free_port

GUIDE = Path(__file__).parent.parent / "docs" / "使用说明.md"
NOT_IN_A_TEST = {("watch",), ("schedule", "run"), ("schedule", "install")}  # run until stopped / edit crontab


def _blocks(kind: str) -> list[tuple[str, str]]:
    text = GUIDE.read_text(encoding="utf-8")
    return [
        (info.strip(), body)
        for lang, info, body in re.findall(r"^```(\w*)([^\n]*)\n(.*?)^```", text, flags=re.M | re.S)
        if lang == kind
    ]


def _commands() -> list[list[str]]:
    out = []
    for _, body in _blocks("console"):
        for line in body.splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0] == "pipeline":
                out.append(words[1:])
    return out


def _resolve(args: list[str]) -> tuple[click.Command, click.Context, tuple[str, ...]]:
    """Parse args as the CLI would, without running: (command, its context, its name path)."""
    ctx = cli.make_context("pipeline", list(args))
    command, names, rest = cli, (), _rest(ctx)
    while isinstance(command, click.Group) and rest:
        name, command, rest = command.resolve_command(ctx, rest)
        names += (name,)
        ctx = command.make_context(name, rest, parent=ctx)
        rest = _rest(ctx) if isinstance(command, click.Group) else []
    return command, ctx, names


def _rest(ctx: click.Context) -> list[str]:
    with warnings.catch_warnings():  # click 8.2–8.x: a group's subcommand words are still protected_args
        warnings.simplefilter("ignore", DeprecationWarning)
        return [*ctx.protected_args, *ctx.args]


def test_the_guide_shows_every_command_a_supervisor_needs():
    used = {tuple(w for w in args if not w.startswith("-"))[:1] for args in _commands()}
    for name in ("run", "status", "push", "schedule", "email", "validate", "watch"):
        assert (name,) in used, f"the guide never shows pipeline {name}"
    assert len(_commands()) >= 15


def test_every_command_in_the_guide_parses_and_names_a_real_period(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "某个文件.xlsx").write_bytes(b"")  # the guide's placeholder file name
    now = periods.now_local(parse_config({}, Path.cwd()))
    config = parse_config({}, Path.cwd())
    for args in _commands():
        if args == ["--help"]:
            continue
        command, ctx, names = _resolve(args)
        assert ctx.params is not None, args
        week, month = ctx.params.get("week"), ctx.params.get("month")
        if week or month:
            resolve_period(config, week, month, now)  # raises on a form the program does not take


def test_every_config_snippet_passes_the_start_up_check(tmp_path):
    snippets = [body for info, body in _blocks("toml") if "credentials" not in info]
    assert len(snippets) >= 3
    for body in snippets:
        check_config(parse_config(tomllib.loads(body), tmp_path, tmp_path / "config.toml"))


def test_the_credentials_example_is_accepted_as_written(tmp_path, monkeypatch):
    for variable in VARIABLES.values():
        monkeypatch.delenv(variable, raising=False)
    ((_, body),) = [b for b in _blocks("toml") if "credentials" in b[0]]
    data = tomllib.loads(body)
    assert {(section, key) for section, keys in data.items() for key in keys} == set(VARIABLES)
    (tmp_path / "credentials.toml").write_text(body, encoding="utf-8")
    (tmp_path / "credentials.toml").chmod(0o600)
    robots = configured_robots(parse_config({}, tmp_path, tmp_path / "config.toml"))
    assert [r.platform.key for r in robots] == ["wecom", "dingtalk"] and robots[1].secret.startswith("SEC")


@pytest.mark.skipif(not shutil.which("testparm"), reason="Samba's testparm is not installed")
def test_the_samba_shares_pass_testparm(tmp_path):
    ((_, body),) = _blocks("ini")
    conf = tmp_path / "smb.conf"
    conf.write_text("[global]\n   workgroup = WORKGROUP\n" + body, encoding="utf-8")
    done = subprocess.run(["testparm", "-s", str(conf)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (
        "Unknown parameter" not in done.stderr and "[收件箱]" in done.stdout and "[客服报告]" in done.stdout
    )


def test_every_picture_exists_and_is_full_width():
    names = re.findall(r"!\[[^\]]*\]\((images/[^)]+)\)", GUIDE.read_text(encoding="utf-8"))
    assert len(names) >= 3
    for name in names:
        data = (GUIDE.parent / name).read_bytes()
        width, height = struct.unpack(">II", data[16:24])
        assert width >= 1200, f"{name} is {width} px wide: too small to read"


def test_the_guides_commands_run_on_the_demo_inbox(tmp_path, monkeypatch):
    for variable in VARIABLES.values():
        monkeypatch.delenv(variable, raising=False)
    write_demo_inbox(tmp_path / "inbox")
    handler, port = Recorder(), _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    with RobotServer() as robots:
        (tmp_path / "config.toml").write_text(
            '[properties."翠湖花园"]\nhouseholds = 1200\n[properties."金桂苑"]\nhouseholds = 860\n'
            '[properties."滨江壹号"]\nhouseholds = 640\naliases = ["滨江一号"]\n'
            f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
            '[email]\nfrom = "kefu@example.com"\nto = ["director@example.com"]\n'
            '[notify]\nemail = ["zhuguan@example.com"]\n',
            encoding="utf-8",
        )
        robots.write_credentials(tmp_path)
        monkeypatch.chdir(tmp_path)
        load_config(tmp_path / "config.toml")
        sample = sorted((tmp_path / "inbox").glob("*.xlsx"))[0]
        ran = []
        for args in _commands():
            if args == ["--help"]:
                continue
            args = [str(sample) if a == "某个文件.xlsx" else a for a in args]
            _, _, names = _resolve(args)
            if names in NOT_IN_A_TEST:
                continue
            done = CliRunner().invoke(cli, args)
            assert done.exit_code in (0, 1), f"pipeline {shlex.join(args)}\n{done.output}"
            ran.append(names)
        controller.stop()
    assert {("run",), ("status",), ("push",), ("email",), ("validate",), ("schedule", "show")} <= set(ran)
    assert any("周报" in t for t in robots.texts("wecom"))
    assert any(to == ["director@example.com"] for _, to, _ in handler.messages)  # --month last --email

"""Push to 企业微信 / 钉钉 group robots, against a local server on 127.0.0.1 that checks each
platform's protocol (tests/robot_server.py): summary, PDF upload, signature, size, refusal, retry."""

import json
import stat
import time

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.config import parse_config
from pipeline.deliver.push import push_report, summary
from pipeline.deliver.robots import (
    DINGTALK,
    WECOM,
    PushSettings,
    Robot,
    RobotError,
    Sender,
    configured_robots,
    split_message,
)
from pipeline.demo import write_demo_inbox
from pipeline.errors import ConfigError
from pipeline.render.model import follow_up_count, missed_kpis
from pipeline.run import RunOptions, run
from tests.robot_server import RobotServer

PROPERTIES = {
    "翠湖花园": {"households": 1200},
    "金桂苑": {"households": 860},
    "滨江壹号": {"households": 640, "aliases": ["滨江一号"]},
}
ROBOT_VARIABLES = ("PIPELINE_WECOM_WEBHOOK", "PIPELINE_DINGTALK_WEBHOOK", "PIPELINE_DINGTALK_SECRET")


@pytest.fixture(autouse=True)
def _no_robots_from_the_shell(monkeypatch):
    for variable in ROBOT_VARIABLES:
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    base = tmp_path_factory.mktemp("push")
    write_demo_inbox(base / "inbox")
    (base / "config.toml").write_text(
        "".join(f'[properties."{p}"]\nhouseholds = {v["households"]}\n' for p, v in PROPERTIES.items()),
        encoding="utf-8",
    )
    config = parse_config({"properties": PROPERTIES, "paths": {"reports": str(base / "reports")}}, base)
    result = run(
        config,
        RunOptions(
            inbox=base / "inbox",
            store=base / "s.sqlite",
            archive=base / "a",
            week="2026-10-30",
            as_of="2026-11-01 08:00",
            workers=1,
        ),
    )
    return base, config, result.report_dir


@pytest.fixture
def server():
    with RobotServer() as s:
        yield s


def _robots(server: RobotServer, secret: str | None = None) -> list[Robot]:
    return [
        Robot(WECOM, server.wecom_webhook),
        Robot(DINGTALK, server.dingtalk_webhook, server.ding_secret if secret is None else secret),
    ]


def _quick(**kw) -> Sender:
    sleeps: list[float] = []
    sender = Sender(PushSettings(backoff=0.5, rate_wait=7, **kw), sleep=sleeps.append)
    sender.sleeps = sleeps
    return sender


def test_summary_and_pdf_reach_both_robots_as_the_platforms_want(week, server):
    base, config, report_dir = week
    outcomes = push_report(report_dir, config, _robots(server), _quick())
    assert [o["robot"] for o in outcomes] == ["企业微信群机器人", "钉钉群机器人"]
    assert outcomes[0]["file"] and not outcomes[1]["file"]
    assert "钉钉群机器人不能发送文件" in outcomes[1]["notes"][0]

    model = json.loads((report_dir / "kpis.json").read_text(encoding="utf-8"))
    missed = missed_kpis(model)
    assert missed, "the demo week misses its callback target"
    for platform in ("wecom", "dingtalk"):
        (text,) = server.texts(platform)
        assert f"{len(missed)} 项未达标" in text
        for k in missed:
            assert k["label"] in text and k["value_text"] in text
            if k["worst"]:
                assert f"最差：{k['worst']['property']} {k['worst']['value_text']}" in text
        assert f"待跟进事项共 {follow_up_count(model)} 项" in text
        assert "10月23日 16:30 – 10月30日 16:30" in text
        assert str(report_dir / "report.pdf") in text
    ding = [body for p, body in server.messages if p == "dingtalk"][0]
    assert ding["markdown"]["title"] == "客服部周报 2026-W44"

    ((filename, data),) = server.uploads.values()
    assert filename == "客服部周报 2026-W44.pdf"
    assert data == (report_dir / "report.pdf").read_bytes()
    files = [body for p, body in server.messages if p == "wecom" and body["msgtype"] == "file"]
    assert files == [{"msgtype": "file", "file": {"media_id": next(iter(server.uploads))}}]


def test_the_worst_property_is_named_with_its_gap():
    def kpi(value, met):
        return {
            "value": value,
            "numerator": 1,
            "denominator": 1,
            "target": 1.0,
            "direction": ">=",
            "met": met,
        }

    model = {
        "kpis": {
            "callback_rate": kpi(0.9, False),
            **{k: {"met": True} for k in ("reply_rate", "promise_kept_rate")},
        },
        "by_property": {
            "甲": {"callback_rate": kpi(0.95, False)},
            "乙": {"callback_rate": kpi(0.8, False)},
            "丙": {"callback_rate": kpi(1.0, True)},
        },
    }
    from pipeline.render import model as m

    for key in m.HEADLINE:
        model["kpis"].setdefault(key, {"met": None})
    (row,) = missed_kpis(model)
    assert row["gap"] == "差 10.0 个百分点"
    assert row["worst"] == {"property": "乙", "value_text": "80.0%", "gap": "差 20.0 个百分点"}


def test_a_long_summary_is_split_under_each_platforms_limit_and_says_so(server):
    text = "\n".join(
        f"- 投诉逾期未答复 TS-{i:05d}（翠湖花园）已逾期 {i} 天，责任：工程部" for i in range(300)
    )
    for robot, limit, platform in (
        (_robots(server)[0], 4096, "wecom"),
        (_robots(server)[1], 20000, "dingtalk"),
    ):
        sender = _quick(max_parts=50)
        notes = sender.markdown(robot, "测试", text)
        parts = server.texts(platform)
        assert len(parts) > 1 and all(len(p.encode("utf-8")) <= limit for p in parts)
        assert notes == [
            f"消息 {len(text.encode())} 字节，超过每条 {limit} 字节的上限，分 {len(parts)} 条发送"
        ]
        assert parts[0].startswith(f"（第 1/{len(parts)} 条）")
        sent = "\n".join(p.split("\n", 1)[1] for p in parts)
        assert sent == text  # every line once, in order
    parts, note = split_message(text, 4096, 2)
    assert len(parts) == 2 and "其余" in note and parts[-1].endswith("行未发送，请看完整报告")
    (one,), note = split_message("x" * 9000, 4096, 5)
    assert len(one.encode()) <= 4096 and one.endswith("…") and "分 1 条" in note


def test_a_refusal_names_errcode_and_errmsg_without_retrying(server):
    bad = Robot(WECOM, server.wecom_webhook.replace("wx-key-1", "wrong"))
    with pytest.raises(RobotError) as caught:
        _quick().markdown(bad, "t", "内容")
    text = str(caught.value)
    assert "errcode 93000" in text and "invalid webhook url" in text and "重新复制" in text
    assert server.requests == [("wecom", "93000")]

    with pytest.raises(RobotError) as caught:
        _quick().markdown(_robots(server, secret="SECwrong")[1], "t", "内容")
    assert "errcode 310000：sign not match" in str(caught.value) and "加签密钥" in str(caught.value)
    unsigned = Robot(DINGTALK, server.dingtalk_webhook)  # the robot wants a signature
    with pytest.raises(RobotError, match="invalid timestamp"):
        _quick().markdown(unsigned, "t", "内容")


def test_the_signature_is_made_afresh_for_every_request(server):
    clock = [1_800_000_000.0]
    server.clock = lambda: clock[0]
    sender = Sender(PushSettings(), sleep=lambda s: None, clock=lambda: clock[0])
    robot = _robots(server)[1]
    sender.markdown(robot, "t", "第一条")
    clock[0] += 2 * 3600  # two hours later: a signature kept from the first request would be stale
    sender.markdown(robot, "t", "第二条")
    assert server.texts("dingtalk") == ["第一条", "第二条"]
    skewed = Sender(PushSettings(), sleep=lambda s: None, clock=lambda: clock[0] - 2 * 3600)
    with pytest.raises(RobotError, match="310000：invalid timestamp"):
        skewed.markdown(robot, "t", "本机时间错了两小时")


def test_network_errors_are_retried_with_backoff(server):
    server.faults.extend(["drop", 502])
    sender = _quick()
    sender.markdown(_robots(server)[0], "t", "第三次成功")
    assert server.texts("wecom") == ["第三次成功"]
    assert sender.sleeps == [0.5, 1.0]
    assert [r for _, r in server.requests] == ["dropped", "HTTP 502", "0"]

    server.faults.extend(["drop"] * 3)
    with pytest.raises(RobotError) as caught:
        _quick().markdown(_robots(server)[1], "t", "发不出去")
    assert "尝试 3 次" in str(caught.value) and "pipeline push" in str(caught.value)


def test_rate_limits_are_kept_and_a_rate_refusal_waits(server):
    clock = [1_800_000_000.0]
    server.clock = lambda: clock[0]
    waits: list[float] = []

    def sleep(seconds):
        waits.append(seconds)
        clock[0] += seconds

    sender = Sender(PushSettings(), sleep=sleep, clock=lambda: clock[0])
    robot = _robots(server)[0]
    for i in range(25):
        sender.markdown(robot, "t", f"第 {i} 条")
        clock[0] += 0.5
    assert len(server.texts("wecom")) == 25 and "45009" not in [r for _, r in server.requests]
    assert sum(waits) >= 50  # the 21st message waited for the minute to pass

    server.clock = time.time  # the signed DingTalk request below uses the real clock
    server.faults.append(("errcode", 130101, "send too fast, exceed 20 times per minute"))
    quick = _quick()
    quick.markdown(_robots(server)[1], "t", "限流后重发")
    assert quick.sleeps == [7] and server.texts("dingtalk") == ["限流后重发"]


def test_webhooks_come_from_the_environment_or_an_owner_only_file_never_config(tmp_path, monkeypatch, server):
    config_path = tmp_path / "config.toml"
    config_path.write_text("", encoding="utf-8")
    config = parse_config({}, tmp_path, config_path)
    assert configured_robots(config) == []
    creds = server.write_credentials(tmp_path, mode=0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        configured_robots(config)
    creds.chmod(stat.S_IRUSR | stat.S_IWUSR)
    robots = configured_robots(config)
    assert [(r.platform.key, r.secret) for r in robots] == [("wecom", None), ("dingtalk", server.ding_secret)]
    monkeypatch.setenv("PIPELINE_WECOM_WEBHOOK", server.wecom_webhook.replace("wx-key-1", "from-env"))
    assert configured_robots(config)[0].webhook.endswith("key=from-env")  # the environment wins
    monkeypatch.setenv("PIPELINE_WECOM_WEBHOOK", "qyapi.weixin.qq.com/send")
    with pytest.raises(ConfigError, match="含 key="):
        configured_robots(config)

    with pytest.raises(ConfigError, match="credentials.toml"):
        from pipeline.run import check_config

        check_config(parse_config({"push": {"webhook": "https://x"}}, tmp_path, config_path))
    with pytest.raises(ConfigError, match=r"\[push\] schedule 应是true 或 false"):
        check_config(parse_config({"push": {"schedule": "yes"}}, tmp_path, config_path))


def test_cli_run_push_sends_and_push_without_a_robot_is_exit_2(week, server, monkeypatch, tmp_path):
    base, config, report_dir = week
    runner = CliRunner()
    args = ["--config", str(base / "config.toml"), "--inbox", str(base / "inbox"), "--store"]
    args += [str(base / "s.sqlite"), "--archive", str(base / "a"), "--reports", str(base / "reports")]
    args += ["--week", "2026-10-30", "--as-of", "2026-11-01 08:00", "--quiet"]
    done = runner.invoke(cli, ["run", *args, "--push"])
    assert done.exit_code == 2
    assert "PIPELINE_WECOM_WEBHOOK" in done.output and "PIPELINE_DINGTALK_WEBHOOK" in done.output
    assert "credentials.toml" in done.output

    monkeypatch.setenv("PIPELINE_WECOM_WEBHOOK", server.wecom_webhook)
    monkeypatch.setenv("PIPELINE_DINGTALK_WEBHOOK", server.dingtalk_webhook)
    monkeypatch.setenv("PIPELINE_DINGTALK_SECRET", server.ding_secret)
    done = runner.invoke(cli, ["run", *args, "--push"])
    assert done.exit_code in (0, 1), done.output
    assert "已推送摘要和 PDF 文件到企业微信群机器人" in done.output
    assert "已推送摘要到钉钉群机器人（钉钉群机器人不能发送文件" in done.output
    assert len(server.texts("wecom")) == 1 and len(server.uploads) == 1

    again = runner.invoke(
        cli,
        [
            "push",
            "--config",
            str(base / "config.toml"),
            "--reports",
            str(base / "reports"),
            "--week",
            "2026-W44",
        ],
    )
    assert again.exit_code == 0, again.output
    assert len(server.texts("dingtalk")) == 2
    missing = runner.invoke(cli, ["push", "--config", str(base / "config.toml"), "--week", "2020-W01"])
    assert missing.exit_code == 2 and "没有 kpis.json" in missing.output


def test_one_robot_failing_does_not_stop_the_other(week, server):
    base, config, report_dir = week
    robots = [Robot(WECOM, server.wecom_webhook.replace("wx-key-1", "gone")), _robots(server)[1]]
    with pytest.raises(RobotError) as caught:
        push_report(report_dir, config, robots, _quick())
    assert "93000" in str(caught.value) and "钉钉群机器人已发送" in str(caught.value)
    assert len(server.texts("dingtalk")) == 1


def test_the_summary_is_markdown_both_platforms_render(week):
    base, config, report_dir = week
    model = json.loads((report_dir / "kpis.json").read_text(encoding="utf-8"))
    title, text = summary(model, r"\\kefu-pc\客服报告\weekly\2026-W44\report.pdf")
    assert title == "客服部周报 2026-W44"
    assert text.startswith("### 客服部周报")
    assert "\n\n\n" not in text and "{{" not in text and "None" not in text
    assert text.endswith("完整报告：\\\\kefu-pc\\客服报告\\weekly\\2026-W44\\report.pdf\n")


def test_report_link_names_the_share_or_address(tmp_path):
    from pipeline.deliver.push import report_link

    folder = tmp_path / "reports" / "weekly" / "2026-W44"
    assert report_link("", folder, tmp_path / "reports") == str(folder / "report.pdf")
    assert (
        report_link(r"\\kefu-pc\客服报告", folder, tmp_path / "reports")
        == r"\\kefu-pc\客服报告\weekly\2026-W44\report.pdf"
    )
    assert (
        report_link("http://10.0.0.5/reports/", folder, tmp_path / "reports")
        == "http://10.0.0.5/reports/weekly/2026-W44/report.pdf"
    )

"""The command line: thin click commands over the library. No pandas here.

Each command parses options, calls one library function and prints its result in Chinese.
A PipelineError becomes a message and exit code 2; anything unexpected is written to a log file.
"""

from __future__ import annotations

import logging
import shlex
import sys
import warnings
from pathlib import Path

import click

from pipeline import cli_zh
from pipeline.config import Config, load_config, parse_config
from pipeline.errors import PipelineError
from pipeline.infra.runlog import warning_to_log

log = logging.getLogger("pipeline")
cli_zh.install()  # click's own strings ("Usage:", "Error: …") in Chinese


def _config(path: str | None) -> Config:
    if path:
        return load_config(path)
    default = Path("config.toml")
    return load_config(default) if default.exists() else parse_config({}, Path.cwd())


class _Failed(click.ClickException):
    """A run that could not be done at all: exit code 2 (1 means rows were set aside)."""

    exit_code = 2

    def format_message(self) -> str:
        return self.message

    def show(self, file=None) -> None:  # in Chinese, without click's English "Error:"
        click.echo(f"✘ {self.message}", err=True)


class _Command(click.Command):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("options_metavar", "[选项]")
        super().__init__(*args, **kwargs)


class _Group(click.Group):
    command_class = _Command
    group_class = type  # subgroups (schedule) are _Group too

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("options_metavar", "[选项]")
        kwargs.setdefault("subcommand_metavar", "命令 [参数]...")
        super().__init__(*args, **kwargs)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except PipelineError as exc:
            from pipeline.infra.faults import describe_fault, write_error_log

            known = describe_fault(exc)  # a full disk behind "无法写入 PDF 报告" says so, with its fix
            if known:
                raise _Failed(f"{known}（{exc}；技术细节见 {write_error_log(exc)}）") from exc
            raise _Failed(str(exc)) from exc


class _Progress:
    """A progress bar over loading, shown only on a terminal and without --quiet."""

    def __init__(self, enabled: bool):
        self.enabled, self.bar = enabled, None

    def __call__(self, event: str, value) -> None:
        if not self.enabled:
            return
        if event == "start" and value:
            self.bar = click.progressbar(length=value, label="读取文件", file=sys.stderr, show_pos=True)
            self.bar.__enter__()
        elif event == "file" and self.bar:
            self.bar.update(1)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if self.bar:
            self.bar.__exit__(*exc)


CONFIG_OPTION = click.option(
    "--config", "config_path", type=click.Path(dir_okay=False), help="配置文件 config.toml 的路径"
)


@click.group(cls=_Group, help="客服报表 pipeline：读取客服登记表，校验、统计并生成周报/月报。")
@CONFIG_OPTION
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path


def _store_arg(ctx, param, value: str | None):
    from pipeline.store import location_of

    return location_of(value) if value else None


def _cfg(ctx: click.Context, override: str | None = None) -> Config:
    from pipeline.run import check_config

    return check_config(_config(override or ctx.obj.get("config_path")))


@cli.command(help="读取收件箱中的新文件入库、校验，并生成所选周期的 kpis.json、PDF 与 Excel 报告。")
@CONFIG_OPTION
@click.option("--inbox", type=click.Path(file_okay=False, path_type=Path), help="收件箱文件夹（默认取配置）")
@click.option("--reports", type=click.Path(file_okay=False, path_type=Path), help="报告输出文件夹")
@click.option("--store", callback=_store_arg, help="数据库：SQLite 文件或 postgresql:// 地址")
@click.option("--archive", type=click.Path(file_okay=False, path_type=Path), help="归档文件夹")
@click.option(
    "--week",
    help="周报周期：last（上周）、current（本周）、2026-W44，或例会日期 2026-10-30（该日所在的例会周期）",
)
@click.option("--month", help="月报周期：last（上个月）、current（本月）、2026-10 或 2026年10月")
@click.option("--as-of", "as_of", help='统计截止时间，例如 "2026-11-01 08:00"（默认现在）')
@click.option("--unmasked", is_flag=True, help="报告中显示客户真实姓名和电话（报告上会注明）")
@click.option("--no-reports", is_flag=True, help="只入库和校验，不生成 PDF/Excel 报告")
@click.option("--email", "send_email", is_flag=True, help="月报生成后立即发送摘要邮件（需 --month）")
@click.option("--wait", type=float, default=0, help="若另一个运行正在进行，最多等待的秒数（默认不等）")
@click.option("--quiet", is_flag=True, help="不显示进度条")
@click.option("--force", is_flag=True, help="即使数据、配置与截止时间都未变化，也重新校验、计算并生成报告")
@click.option(
    "--property", "property_name", help="只为一个项目出报告（报告放在周期文件夹下以项目命名的子文件夹）"
)
@click.option("--push", is_flag=True, help="生成后把摘要（和 PDF）推送到企业微信 / 钉钉群机器人")
@click.option(
    "--notify",
    is_flag=True,
    help="运行失败、有登记表未交或文件无法读取时，按 [notify] 邮件 / 推送通知主管（定时运行使用）",
)
@click.pass_context
def run(
    ctx,
    push,
    notify,
    property_name,
    config_path,
    inbox,
    reports,
    store,
    archive,
    week,
    month,
    as_of,
    unmasked,
    no_reports,
    send_email,
    wait,
    quiet,
    force,
):
    from pipeline.run import RunOptions, summary_lines
    from pipeline.run import run as run_pipeline

    if send_email and (not month or no_reports):
        raise click.UsageError("--email 只用于生成月报（需要 --month，且不能与 --no-reports 同用）")
    if push and no_reports:
        raise click.UsageError("--push 推送的是报告摘要，不能与 --no-reports 同用")
    try:
        config = _cfg(ctx, config_path)
    except PipelineError as exc:  # a config.toml that cannot be read cannot say whom to tell …
        if notify:
            _notify_unconfigured(Path(config_path or ctx.obj.get("config_path") or "config.toml"), exc)
        raise
    unpushable = None
    try:
        robots = _robots(config) if push else []  # no robot: exit 2 now, not after a long run …
    except _Failed as exc:
        if not notify:
            raise
        robots, unpushable = [], exc  # … but a scheduled run still makes its report, then says so
    options = RunOptions(
        inbox,
        reports,
        store,
        archive,
        week,
        month,
        as_of,
        render=not no_reports,
        unmasked=unmasked,
        wait=wait,
        property=property_name,
        reuse=not force,
    )
    what = f"月报 {month}" if month else f"周报 {week or 'current'}"
    try:
        with _Progress(enabled=not quiet and sys.stderr.isatty()) as progress:
            result = run_pipeline(config, options, progress)
        for line in summary_lines(result):
            click.echo(line)
        click.echo(f"周期：{result.period.text}")
        click.echo(f"报告目录：{result.report_dir}")
        what = f"{'周报' if result.period.kind == 'weekly' else '月报'} {result.period.label}"
        if send_email:
            _email(config, result.report_dir, store, dry_run=False, resend=False, unmasked=unmasked)
        if unpushable:
            raise unpushable
        if push:
            _push(config, result.report_dir, robots)
    except Exception as exc:
        _failed(config, what, exc, notify)
        raise
    problems = [line[2:] for line in summary_lines(result) if line.startswith("✘")]
    if problems:  # registers missing, files unreadable or older, no data: someone must act
        _notice(config, "attention", what, "\n".join(f"- {p}" for p in problems), notify)
    sys.exit(result.exit_code)


def _robots(config: Config):
    from pipeline.deliver.robots import configured_robots, missing_robot_text

    robots = configured_robots(config)
    if not robots:
        raise _Failed(missing_robot_text())
    return robots


def _push(config: Config, report_dir: Path, robots) -> None:
    from pipeline.deliver.push import push_report

    for outcome in push_report(report_dir, config, robots):
        extra = "和 PDF 文件" if outcome["file"] else ""
        notes = "；".join(outcome["notes"])
        click.echo(f"已推送摘要{extra}到{outcome['robot']}" + (f"（{notes}）" if notes else ""))


def _command_line() -> str:
    """The running command as a person would type it again: its options that differ from the defaults."""
    ctx = click.get_current_context()
    root = ctx.find_root()
    parts = [
        "pipeline",
        *(["--config", root.params["config_path"]] if root.params.get("config_path") else []),
    ]
    parts.append(ctx.info_name)
    for param in ctx.command.params:
        value = ctx.params.get(param.name)
        if value is None or value is False or value == param.default:
            continue
        option = max(param.opts, key=len)
        parts += [option] if value is True else [option, str(value)]
    return shlex.join(parts)


def _notice(config: Config, kind: str, what: str, reason: str, notify: bool) -> None:
    """Record the notice for `pipeline status`; with --notify, also email / push it."""
    from pipeline.deliver.notify import record, send_notice

    if not notify:
        record(config, kind, _command_line(), reason, [], [])
        return
    reached, problems = send_notice(config, kind, what, _command_line(), reason)
    if reached:
        click.echo(f"已通知：{'、'.join(reached)}", err=True)
    for problem in problems:
        click.echo(f"✘ 通知未送达：{problem}", err=True)


def _notify_unconfigured(path: Path, exc: Exception) -> None:
    """… so a scheduled run whose config.toml is broken tells the robots in credentials.toml (or the
    environment) beside it, and records the failure in the default reports folder there."""
    fallback = parse_config({}, path.parent, path)
    _notice(fallback, "failed", "定时运行（配置文件有误）", str(exc), notify=True)


def _failed(config: Config, what: str, exc: Exception, notify: bool) -> None:
    from pipeline.infra.faults import describe_fault, write_error_log

    if isinstance(exc, PipelineError | click.ClickException):
        reason = describe_fault(exc) or (exc.message if isinstance(exc, click.ClickException) else str(exc))
    else:
        exc.error_log = write_error_log(exc)  # main() names the same file
        reason = describe_fault(exc) or f"程序内部错误（{type(exc).__name__}），详细信息见 {exc.error_log}"
    _notice(config, "failed", what, reason, notify)


@cli.command(help="只检查指定的登记表文件（不入库），生成批注副本并列出问题。")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@CONFIG_OPTION
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="批注副本输出文件夹（默认 报告目录/validate）",
)
@click.option("--as-of", "as_of", help="统计截止时间（默认现在）")
@click.pass_context
def validate(ctx, files, config_path, out, as_of):
    from pipeline import periods
    from pipeline.render.clerk import validate_files
    from pipeline.store import Store
    from pipeline.store import exists as store_exists
    from pipeline.validate.stage import describe_results

    config = _cfg(ctx, config_path)
    when = periods.parse_as_of(as_of, config)
    store = Store(config.store) if store_exists(config.store) else None
    try:
        results = validate_files(list(files), config, when, store, out or config.reports / "validate")
    finally:
        if store:
            store.close()
    lines, errors = describe_results(results)
    for line in lines:
        click.echo(line)
    sys.exit(1 if errors else 0)


def _email(
    config: Config,
    report_dir: Path,
    store_path: Path | str | None,
    dry_run: bool,
    resend: bool,
    unmasked: bool,
) -> None:
    from pipeline.deliver.mail import deliver_monthly
    from pipeline.store import Store

    with Store(store_path or config.store) as store:
        outcome = deliver_monthly(
            report_dir, config, store, dry_run=dry_run, resend=resend, unmasked=unmasked
        )
    if outcome["status"] == "dry-run":
        click.echo(f"未发送（--dry-run），邮件已写入 {outcome['path']}")
    elif outcome["status"] == "already-sent":
        click.echo(f"本月摘要已于 {outcome['sent_at']} 发送过，未重复发送（如需再发请加 --resend）")
    else:
        click.echo(
            f"已发送：{outcome['subject']} → {'、'.join(outcome['to'])}（第 {outcome['attempts']} 次尝试成功）"
        )


@cli.command(help="发送某月的月报摘要邮件（附 PDF 与 Excel）。")
@CONFIG_OPTION
@click.option("--month", required=True, help="月份：last（上个月）、2026-10 或 2026年10月")
@click.option("--reports", type=click.Path(file_okay=False, path_type=Path), help="报告文件夹（默认取配置）")
@click.option("--store", callback=_store_arg, help="数据库：SQLite 文件或 postgresql:// 地址")
@click.option("--dry-run", is_flag=True, help="不发送，把邮件写成 .eml 文件")
@click.option("--resend", is_flag=True, help="已发送过也再发一次")
@click.option("--unmasked", is_flag=True, help="邮件中显示客户真实姓名和电话")
@click.pass_context
def email(ctx, config_path, month, reports, store, dry_run, resend, unmasked):
    from pipeline import periods
    from pipeline.run import resolve_period

    config = _cfg(ctx, config_path)
    period = resolve_period(config, None, month, periods.now_local(config))
    _email(config, (reports or config.reports) / period.folder, store, dry_run, resend, unmasked)


@cli.command(help="把已生成的周报或月报摘要（和 PDF）推送到企业微信 / 钉钉群机器人。")
@CONFIG_OPTION
@click.option("--week", help="周报：last、current、2026-W44 或例会日期 2026-10-30")
@click.option("--month", help="月报：last、2026-10 或 2026年10月")
@click.option("--reports", type=click.Path(file_okay=False, path_type=Path), help="报告文件夹（默认取配置）")
@click.option("--property", "property_name", help="推送某个项目自己的报告")
@click.pass_context
def push(ctx, config_path, week, month, reports, property_name):
    from pipeline import periods
    from pipeline.run import check_property, property_folder, resolve_period

    config = _cfg(ctx, config_path)
    check_property(config, property_name)
    robots = _robots(config)
    period = resolve_period(config, week, month, periods.now_local(config))
    _push(config, (reports or config.reports) / period.folder / property_folder(property_name), robots)


@cli.command(help="显示最近的运行、收件箱中尚未处理的文件和下一次定时运行时间。")
@CONFIG_OPTION
@click.option("--inbox", type=click.Path(file_okay=False, path_type=Path), help="收件箱文件夹（默认取配置）")
@click.option("--store", callback=_store_arg, help="数据库：SQLite 文件或 postgresql:// 地址")
@click.pass_context
def status(ctx, config_path, inbox, store):
    from pipeline.status import status_lines

    for line in status_lines(_cfg(ctx, config_path), inbox, store):
        click.echo(line)


@cli.group(help="定时运行：周五 16:00 周报、每月 1 日 08:00 月报与邮件（Asia/Shanghai）。")
def schedule() -> None:
    pass


@schedule.command("show", help="打印 crontab 行（以及 systemd 定时器写法）和下一次运行时间。")
@CONFIG_OPTION
@click.pass_context
def schedule_show(ctx, config_path):
    from pipeline.deliver.schedule import describe

    config = _cfg(ctx, config_path or ctx.parent.parent.obj.get("config_path"))
    for line in describe(config):
        click.echo(line)


@schedule.command("install", help="把定时任务写入当前用户的 crontab（替换旧的本程序条目）。")
@CONFIG_OPTION
@click.pass_context
def schedule_install(ctx, config_path):
    from pipeline.deliver.schedule import install_crontab, next_runs, schedule_warnings

    config = _cfg(ctx, config_path or ctx.parent.parent.obj.get("config_path"))
    install_crontab(config)
    for line in schedule_warnings(config):
        click.echo(line)
    click.echo("已写入 crontab。下一次运行：")
    for job, when in next_runs(config):
        click.echo(f"  {job.title}：{when:%Y-%m-%d %H:%M}（{config.timezone}）")


@schedule.command("run", help="在前台常驻，按时运行（适用于没有 cron 的机器）。Ctrl+C 退出。")
@CONFIG_OPTION
@click.pass_context
def schedule_run(ctx, config_path):
    from pipeline.deliver.schedule import run_forever

    config = _cfg(ctx, config_path or ctx.parent.parent.obj.get("config_path"))
    run_forever(config, echo=click.echo)


@cli.command(help="监视收件箱：文件放入并写完后，几秒内校验并生成批注副本。Ctrl+C 退出。")
@CONFIG_OPTION
@click.option("--inbox", type=click.Path(file_okay=False, path_type=Path), help="收件箱文件夹（默认取配置）")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="批注副本输出文件夹（默认 报告目录/watch）",
)
@click.option("--settle", type=float, default=2.0, show_default=True, help="文件大小保持不变多少秒才算写完")
@click.pass_context
def watch(ctx, config_path, inbox, out, settle):
    from pipeline.deliver.watch import watch as watch_inbox

    config = _cfg(ctx, config_path)
    folder = inbox or config.inbox
    click.echo(f"正在监视 {folder}（Ctrl+C 退出）")
    watch_inbox(config, folder, out or config.reports / "watch", echo=click.echo, settle=settle)


@cli.command(help="生成空白登记表模板（input_templates/*.xlsx）。")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("input_templates"),
    show_default=True,
)
def templates(out: Path) -> None:
    from pipeline.templates import write_templates

    for path in write_templates(out):
        click.echo(f"已生成 {path}")


@cli.command(help="生成演示用收件箱：3 个项目、9 周、5 种登记表，格式混杂。")
@click.option("--inbox", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--seed", type=int, default=2026, show_default=True)
def demo(inbox: Path, seed: int) -> None:
    from pipeline.demo import write_demo_inbox

    paths = write_demo_inbox(inbox, seed=seed)
    click.echo(f"已在 {inbox} 生成 {len(paths)} 个演示文件")


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.root.handlers:
        handler.setLevel(logging.WARNING)  # run details go to the run's log file, not the terminal
        handler.addFilter(lambda record: not record.name.startswith("pipeline"))  # nor do tracebacks
    warnings.showwarning = warning_to_log  # a library's warning is the log's business, not the user's
    try:
        cli(prog_name="pipeline")
    except Exception as exc:  # not ours: no traceback for the user, it goes to a log file of its own
        from pipeline.infra.faults import describe_fault, write_error_log

        path = getattr(exc, "error_log", None) or write_error_log(exc)
        known = describe_fault(exc)
        if known:
            click.echo(f"运行未完成：{known}（技术细节见 {path}）", err=True)
            sys.exit(2)
        click.echo(f"运行出错（程序内部错误），详细信息已写入 {path}；请把该文件发给维护人员。", err=True)
        sys.exit(3)


if __name__ == "__main__":
    main()

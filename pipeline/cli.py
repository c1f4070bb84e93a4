"""The command line: thin click commands over the library. No pandas here."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from pipeline.config import Config, load_config, parse_config
from pipeline.errors import PipelineError

log = logging.getLogger("pipeline")


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


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except PipelineError as exc:
            raise _Failed(str(exc)) from exc


@click.group(cls=_Group, help="客服报表 pipeline：读取客服登记表，校验、统计并生成周报/月报。")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="配置文件 config.toml 的路径")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path


def _cfg(ctx: click.Context, override: str | None = None) -> Config:
    return _config(override or ctx.obj.get("config_path"))


@cli.command(help="读取收件箱中的新文件入库，并生成所选周期的报告。")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="配置文件路径")
@click.option("--inbox", type=click.Path(file_okay=False, path_type=Path), help="收件箱文件夹（默认取配置）")
@click.option("--reports", type=click.Path(file_okay=False, path_type=Path), help="报告输出文件夹")
@click.option("--store", type=click.Path(dir_okay=False, path_type=Path), help="数据库文件（SQLite）")
@click.option("--archive", type=click.Path(file_okay=False, path_type=Path), help="归档文件夹")
@click.option("--week", help="周报周期，例如 2026-W43（截至该周例会）")
@click.option("--month", help="月报周期，例如 2026-10")
@click.option("--as-of", "as_of", help='统计截止时间，例如 "2026-11-01 08:00"（默认现在）')
@click.option("--unmasked", is_flag=True, help="报告中显示客户真实姓名和电话（报告上会注明）")
@click.option("--no-reports", is_flag=True, help="只入库和校验，不生成 PDF/Excel 报告")
@click.option("--email", "send_email", is_flag=True, help="月报生成后立即发送摘要邮件（需 --month）")
@click.pass_context
def run(
    ctx, config_path, inbox, reports, store, archive, week, month, as_of, unmasked, no_reports, send_email
):
    from pipeline.run import RunOptions, summary_lines
    from pipeline.run import run as run_pipeline

    config = _cfg(ctx, config_path)
    options = RunOptions(
        inbox, reports, store, archive, week, month, as_of, render=not no_reports, unmasked=unmasked
    )
    result = run_pipeline(config, options)
    for line in summary_lines(result):
        click.echo(line)
    click.echo(f"报告目录：{result.report_dir}")
    if send_email:
        if not month or no_reports:
            raise click.UsageError("--email 只用于生成月报（需要 --month，且不能与 --no-reports 同用）")
        _email(config, result.report_dir, store, dry_run=False, resend=False, unmasked=unmasked)
    sys.exit(result.exit_code)


def _email(
    config: Config, report_dir: Path, store_path: Path | None, dry_run: bool, resend: bool, unmasked: bool
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
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="配置文件路径")
@click.option("--month", required=True, help="月份，例如 2026-10")
@click.option("--reports", type=click.Path(file_okay=False, path_type=Path), help="报告文件夹（默认取配置）")
@click.option("--store", type=click.Path(dir_okay=False, path_type=Path), help="数据库文件")
@click.option("--dry-run", is_flag=True, help="不发送，把邮件写成 .eml 文件")
@click.option("--resend", is_flag=True, help="已发送过也再发一次")
@click.option("--unmasked", is_flag=True, help="邮件中显示客户真实姓名和电话")
@click.pass_context
def email(ctx, config_path, month, reports, store, dry_run, resend, unmasked):
    from pipeline import periods

    config = _cfg(ctx, config_path)
    period = periods.month(month)
    _email(config, (reports or config.reports) / period.folder, store, dry_run, resend, unmasked)


@cli.command(help="只检查指定的登记表文件（不入库），生成批注副本并列出问题。")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="配置文件路径")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="批注副本输出文件夹（默认 报告目录/validate）",
)
@click.option("--as-of", "as_of", help="统计截止时间（默认现在）")
@click.pass_context
def validate(ctx, files, config_path, out, as_of):
    from pipeline import periods
    from pipeline.findings import SEVERITY_ZH
    from pipeline.store import Store
    from pipeline.validate.stage import validate_files

    config = _cfg(ctx, config_path)
    when = periods.parse_as_of(as_of, config)
    out = out or config.reports / "validate"
    store = Store(config.store) if config.store.exists() else None
    try:
        results = validate_files(list(files), config, when, store, out)
    finally:
        if store:
            store.close()
    errors = 0
    for item in results:
        lf, found = item["loaded"], item["findings"]
        by = {s: sum(1 for f in found if f.severity == s) for s in ("error", "warning", "info")}
        errors += by["error"]
        head = f"{lf.name}：读取 {lf.rows_read} 行，可入库 {lf.rows_loaded} 行，暂存 {lf.rows_set_aside} 行；"
        click.echo(head + "，".join(f"{SEVERITY_ZH[s]} {n}" for s, n in by.items()))
        for f in found[:50]:
            click.echo(f"  [{SEVERITY_ZH[f.severity]}] {f.message}")
        if len(found) > 50:
            click.echo(f"  ……另有 {len(found) - 50} 条，见批注副本")
        if item["annotated"]:
            click.echo(f"  批注副本：{item['annotated']}")
    sys.exit(1 if errors else 0)


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
    cli(prog_name="pipeline")


if __name__ == "__main__":
    main()

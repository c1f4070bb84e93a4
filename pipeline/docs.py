"""Generated reference pages (docs/命令参考.md, docs/问题代码.md): written from --help and the catalogues,
so they cannot drift from the code. Regenerate with `make docs`; a test checks they are current."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.findings import CODES
from pipeline.validate.rules import EMITTED, RULES


def _commands(group: click.Group, prefix: str) -> list[tuple[str, click.Command]]:
    out = []
    for name in sorted(group.commands):
        cmd = group.commands[name]
        out.append((f"{prefix} {name}", cmd))
        if isinstance(cmd, click.Group):
            out.extend(_commands(cmd, f"{prefix} {name}"))
    return out


def cli_reference() -> str:
    from pipeline.cli import cli

    lines = ["# 命令参考", "", "由 `make docs` 根据各命令的 --help 生成，请勿手改。", ""]
    for path, cmd in _commands(cli, "pipeline"):
        ctx = click.Context(cmd, info_name=path)
        lines += [f"## {path}", "", "```", cmd.get_help(ctx).strip(), "```", ""]
    return "\n".join(lines)


def findings_catalogue() -> str:
    lines = [
        "# 问题代码",
        "",
        "由 `make docs` 根据程序中的问题目录生成，请勿手改。",
        "",
        "| 代码 | 名称 | 默认程度 | 说明 | 处理建议 |",
        "|---|---|---|---|---|",
    ]
    severity = {code: spec.severity for code, spec in RULES.items()} | {
        code: sev for code, (_, sev) in EMITTED.items()
    }
    for code, c in CODES.items():
        sev = {"error": "错误", "warning": "警告", "info": "提示"}.get(severity.get(code, ""), "读取时判定")
        lines.append(f"| `{code}` | {c.title} | {sev} | {c.message} | {c.fix} |")
    return "\n".join(lines) + "\n"


TYPE_ZH = {
    "text": "文字",
    "date": "日期",
    "bool": "是/否",
    "number": "数字",
    "phone": "电话",
    "choice": "选项",
}


def registers_reference() -> str:
    """Every register as registers.py declares it: columns, types, what is required, allowed
    values, the other headers clerks use, and how registers refer to one another."""
    from pipeline.registers import INLINE_CALLBACKS, REGISTERS, RELATIONS

    lines = ["# 登记表说明", "", "由 `make docs` 根据程序中的登记表定义（registers.py）生成，请勿手改。", ""]
    for reg in REGISTERS.values():
        lines += [
            f"## {reg.title}",
            "",
            f"识别用词：{'、'.join(reg.keywords)}；编号列：{reg.column(reg.id_key).header}；"
            + (
                f"按“{reg.column(reg.date_key).header}”归入周、月。"
                if reg.date_key
                else "不分月份：新交的名册整份替换旧的。"
            )
            + ("（选交：有就交，不交不算缺交）" if reg.optional else ""),
            "",
        ]
        lines += ["| 列名 | 类型 | 必填 | 可选值 | 其他写法 | 说明 |", "|---|---|---|---|---|---|"]
        for c in reg.columns:
            kind = TYPE_ZH.get(c.type, c.type) + ("（个人信息，报告中打码）" if c.personal else "")
            lines.append(
                f"| {c.header} | {kind} | {'是' if c.required else ''} | {'、'.join(c.choices)} | "
                f"{'、'.join(c.aliases)} | {c.hint} |"
            )
        lines.append("")
    lines += ["## 登记表之间的关系", ""]
    lines += [f"- {r.text}" for r in RELATIONS]
    lines += [
        f"- {REGISTERS[i.register].title}里直接写了“回访日期”的行，算作对该宗的一次{i.kind}（回访人照录）；"
        "同一项目、同一编号、同一天在回访记录表里也登记了的，只算一次"
        for i in INLINE_CALLBACKS
    ]
    return "\n".join(lines) + "\n"


def write_docs(folder: Path) -> list[Path]:
    pages = {
        "命令参考.md": cli_reference(),
        "问题代码.md": findings_catalogue(),
        "登记表说明.md": registers_reference(),
    }
    for name, text in pages.items():
        (folder / name).write_text(text, encoding="utf-8")
    return [folder / name for name in pages]

"""Findings: what the pipeline has to say about a file, a row or a cell, in Chinese.

A finding is data (a frozen dataclass); its message is rendered from one template per code,
so the catalogue below is the single list of everything a clerk can be told. It lives at the
bottom of the package because loading, validation and the reports all produce or read findings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

ERROR, WARNING, INFO = "error", "warning", "info"
SEVERITY_ZH = {ERROR: "错误", WARNING: "警告", INFO: "提示"}


@dataclass(frozen=True)
class Code:
    title: str
    message: str  # str.format template: {value} {note} {column}
    fix: str


CODES: dict[str, Code] = {
    # --- files -----------------------------------------------------------------------------
    "file-unreadable": Code(
        "文件无法读取", "文件无法读取（{note}）", "请用 Excel 打开确认文件完好，另存为 .xlsx 后重新放入收件箱"
    ),
    "file-encrypted": Code(
        "文件有密码保护", "文件设置了打开密码，无法读取", "请在 Excel 中取消打开密码后重新放入收件箱"
    ),
    "file-empty": Code("空文件", "文件是空的（0 字节或没有任何内容）", "请确认保存了正确的文件后重新放入"),
    "file-unsupported": Code(
        "不支持的文件类型", "不支持的文件类型“{value}”", "请另存为 .xlsx、.xls 或 .csv 后重新放入"
    ),
    "file-too-large": Code("文件过大", "文件超出处理上限（{note}）", "请按月份拆分登记表后重新放入"),
    "register-unknown": Code(
        "无法识别登记表",
        "前 20 行中没有找到任何登记表的表头",
        "请确认表头行写有“投诉编号”“受理日期”“回访日期”“报修时间”等列名，或在 config.toml 的 [aliases] 中登记自己的列名",
    ),
    "sheet-skipped": Code(
        "工作表已跳过", "工作表中没有找到表头，未读取（{note}）", "如该表是登记数据，请检查表头行"
    ),
    "property-unknown": Code(
        "无法确定项目",
        "无法确定这些记录属于哪个项目{note}",
        "请增加“项目”列，或在标题/文件名中写明项目名称，并确认该项目已写入 config.toml 的 [properties]",
    ),
    "property-not-configured": Code(
        "项目未登记户数",
        "项目“{value}”未在 config.toml 的 [properties] 中登记",
        '请在 config.toml 中加入 [properties."{value}"] 并填写 households（户数）',
    ),
    # --- headers ---------------------------------------------------------------------------
    "header-unknown": Code(
        "未识别的列",
        "列名“{value}”无法识别{note}，该列未读取",
        '如它就是某个标准列，请在 config.toml 的 [aliases.<登记表>] 中写一行 "{value}" = "标准列名"',
    ),
    "header-duplicate": Code(
        "重复的列", "“{value}”对应的标准列“{note}”出现了不止一次，只读取第一列", "请删除或改名重复的列"
    ),
    "column-missing": Code(
        "缺少必填列", "缺少必填列“{value}”，所有行都无法计入", "请在表头中加上“{value}”列"
    ),
    # --- cells -----------------------------------------------------------------------------
    "required-missing": Code("必填项为空", "必填项为空", "请补填“{column}”"),
    "invalid-date": Code("日期无效", "“{value}”不是有效日期{note}", "请按 2026-10-08 的格式填写"),
    "date-year-assumed": Code(
        "日期未写年份", "“{value}”未写年份，按 {note} 年读取", "建议写完整日期，例如 2026-10-08"
    ),
    "invalid-number": Code("数字无效", "“{value}”不是有效数字", "请只填写数字，例如 200 或 200.50"),
    "invalid-bool": Code("是/否无效", "“{value}”不是“是”或“否”", "请填写“是”或“否”"),
}


def column_letter(index: int) -> str:
    """0-based column index → Excel letters (0 → A, 27 → AB)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@dataclass(frozen=True)
class Finding:
    """One thing to tell a clerk, located as the clerk sees it (Excel row, header, column letter)."""

    code: str
    severity: str
    file: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    letter: str | None = None
    value: str | None = None
    note: str = ""

    @property
    def title(self) -> str:
        return CODES[self.code].title

    @property
    def location(self) -> str:
        parts = [f"“{self.file}”"]
        if self.sheet:
            parts.append(f"工作表“{self.sheet}”")
        if self.row:
            parts.append(f"第{self.row}行")
        if self.column:
            parts.append(f"“{self.column}”列" + (f"（{self.letter}列）" if self.letter else ""))
        return " ".join(parts)

    @property
    def text(self) -> str:
        """The message without its location."""
        return CODES[self.code].message.format(
            value=self.value or "", note=self.note, column=self.column or ""
        )

    @property
    def fix(self) -> str:
        return CODES[self.code].fix.format(value=self.value or "", note=self.note, column=self.column or "")

    @property
    def message(self) -> str:
        return f"{self.location}：{self.text}，{self.fix}"

    def as_dict(self) -> dict:
        d = asdict(self)
        d["message"] = self.message
        return d


def flatten(findings, *fields: str) -> list[list]:
    """Compact view for tests: flatten(findings, "sheet", "row", "code")."""
    return [[getattr(f, name) for name in fields] for f in findings]

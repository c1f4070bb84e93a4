"""Findings: what the pipeline has to say about a file, a row or a cell, in Chinese.

A finding is data (a frozen dataclass); its message is rendered from one template per code,
so the catalogue below is the single list of everything a clerk can be told. It lives at the
bottom of the package because loading, validation and the reports all produce or read findings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

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
    "formula-no-value": Code(
        "公式没有计算结果",
        "单元格 {note} 是公式，文件里没有保存计算结果，按空白读取",
        "文件可能由其他软件导出、未经 Excel 计算：请在 Excel 或 WPS 中打开、保存后重新放入收件箱",
    ),
    "sheet-too-wide": Code(
        "工作表过宽", "工作表超过 500 列，其后的 {note} 列未读取", "请删除表格右侧无关的内容"
    ),
    "sheet-skipped": Code(
        "工作表已跳过", "工作表中没有找到登记表的表头，未读取（{note}）", "如该表是登记数据，请检查表头行"
    ),
    "property-unknown": Code(
        "无法确定项目",
        "无法确定这些记录属于哪个项目{note}",
        "请增加“项目”列，或在标题/文件名中写明项目名称，并确认该项目已写入 config.toml 的 [properties]",
    ),
    "property-ambiguous": Code(
        "项目不明确",
        "无法确定属于哪个项目：{note}",
        "请写出完整的项目名称（与 config.toml [properties] 中的名称或别名一致），不要只写共有的部分",
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
    "header-other-register": Code(
        "其他登记表的列",
        "列名“{value}”是{note}的列，该列未读取",
        "这一列的内容请登记在{note}里，每条一行，用编号与本表的记录对应（例如回访记录表的“关联编号”写投诉编号）",
    ),
    "header-partial": Code(
        "列名只部分符合",
        "列名“{value}”只有一部分像“{note}”，不能确定是同一列，该列未读取",
        '如它就是“{note}”，请改成标准列名，或在 config.toml 的 [aliases.<登记表>] 中写一行 "{value}" = "{note}"',
    ),
    "header-duplicate": Code(
        "重复的列",
        "“{value}”对应的标准列“{note}”出现了不止一次，第一列空白的行取这一列的值",
        "两列是同一内容时请删除一列；不是同一内容时请改列名",
    ),
    "column-missing": Code(
        "缺少必填列", "缺少必填列“{value}”，所有行都无法计入", "请在表头中加上“{value}”列"
    ),
    # --- cells -----------------------------------------------------------------------------
    "required-missing": Code("必填项为空", "必填项为空", "请补填“{column}”"),
    "invalid-date": Code("日期无效", "“{value}”不是有效日期{note}", "请按 2026-10-08 的格式填写"),
    "date-ambiguous": Code(
        "日期顺序不明确",
        "“{value}”无法确定年、月、日的顺序{note}",
        "请按 2026-10-08（年-月-日）的格式填写，本行暂不计入",
    ),
    "date-year-assumed": Code(
        "日期未写年份", "“{value}”未写年份，按 {note} 年读取", "建议写完整日期，例如 2026-10-08"
    ),
    "number-digits-lost": Code(
        "编号被 Excel 改成了数字",
        "编号“{value}”{note}，后几位已经丢失",
        "请把该列设为“文本”格式后重新录入编号，或从系统重新导出（不要用 Excel 打开后另存为 CSV）；"
        "编号不对，回访和反馈就对不上这条记录",
    ),
    "invalid-number": Code("数字无效", "“{value}”不是有效数字", "请只填写数字，例如 200 或 200.50"),
    "invalid-bool": Code("是/否无效", "“{value}”不是“是”或“否”", "请填写“是”或“否”"),
    # --- rules: data quality ---------------------------------------------------------------
    "value-not-allowed": Code("不在可选范围", "“{value}”不是可选值（{note}）", "请从下拉列表中选择"),
    "duplicate-id": Code(
        "编号重复",
        "编号“{value}”重复，{note}",
        "同一项目内每条记录的编号应唯一（各项目可各自编号）：请改正编号，或删除重复的行",
    ),
    "invalid-phone": Code(
        "电话号码格式不对",
        "“{value}”不是 11 位手机号或带区号的固定电话",
        "请填写如 13812345678 或 0755-12345678",
    ),
    "invalid-unit": Code(
        "房号格式不对", "“{value}”不是“栋-单元-室”格式", "请填写如 3-2-1201 或 3栋2单元1201"
    ),
    "date-order": Code("日期先后矛盾", "{note}", "请核对这几个日期"),
    "date-in-future": Code("日期晚于统计时间", "“{value}”晚于统计截止时间 {note}", "请核对日期是否写错"),
    "date-outside-sheet-month": Code(
        "日期不在本月工作表", "“{value}”不在工作表“{note}”所示的月份", "请确认记录放在了正确月份的工作表"
    ),
    "calendar-missing": Code("节假日日历缺失", "{note}", "请在 config.toml 中补充该年的 [holidays]"),
    # --- rules: the department's process ---------------------------------------------------
    "not-verified-same-day": Code(
        "未当天核实", "受理 {note}，核实日期为 {value}，未做到当天调查核实", "投诉应在受理当天调查、核实"
    ),
    "reply-after-promise": Code(
        "未按承诺时间答复", "承诺 {note} 前答复，实际 {value} 才答复", "答复客户不得晚于承诺时间"
    ),
    "reply-overdue": Code("逾期未答复", "承诺 {note} 前答复，至今未答复", "请尽快答复客户并登记回复日期"),
    "callback-missing": Code(
        "待回访", "已于 {value} 完成，尚无回访记录{note}", "请安排回访并登记在回访记录表"
    ),
    "callback-ref-unknown": Code(
        "回访关联编号不存在", "关联编号“{value}”在投诉和报修登记表中都找不到", "请核对关联编号"
    ),
    "callback-before-closing": Code(
        "回访早于完成", "回访日期 {value} 早于所回访事项的完成日期 {note}", "请核对回访日期或完成日期"
    ),
    "followup-missing": Code(
        "回访问题未跟进",
        "回访反映{note}，但没有后续处理记录",
        "请登记后续处理及其日期（回访处理率须达 100%）",
    ),
    "feedback-not-reopened": Code(
        "不满意未重新处理", "客户反馈不满意，尚无重新处理日期", "客户不满意须重新处理直至满意"
    ),
    "feedback-complaint-unknown": Code(
        "反馈的投诉编号不存在", "投诉编号“{value}”在投诉登记表中找不到", "请核对投诉编号"
    ),
    "feedback-property-unknown": Code(
        "反馈项目不明确",
        "反馈未写项目，无法按投诉编号确定项目：{note}",
        "请在反馈登记表中写明项目（与 config.toml [properties] 中的名称一致），或核对投诉编号",
    ),
    "appeal-late": Code(
        "超期申诉",
        "收到报告 {note} 后第 {value} 天才申诉，超过 10 天",
        "按制度应在收到报告 10 日内申诉，请注明受理理由",
    ),
    "reinspection-one-person": Code(
        "复检少于两人", "复检人员“{value}”不足两人", "复检须两人共同进行，请补填第二人"
    ),
    "reinspection-late": Code(
        "复检答复超期", "{note}", "复检结果须在受理后 15 日内书面通知，紧急申诉 3 个工作日内"
    ),
    "action-overdue": Code(
        "问题逾期未完成", "{note}", "请责任人说明进展并在问题跟踪表中登记完成日期，或在例会上重新确定完成时限"
    ),
    "action-escalated-no-followup": Code(
        "上报问题无跟进", "已上报{note}，但没有跟进情况", "上报的问题须登记跟进情况（晨会、例会跟进直至解决）"
    ),
    "households-differ": Code(
        "名册户数与配置不符",
        "住户名册有 {value} 户，config.toml 登记 {note} 户",
        "以住户名册为准计算有效投诉率和回访覆盖率；请核对名册，并更新 config.toml 的 households",
    ),
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
    ref: int | None = field(default=None, compare=False)  # the store's record id, when there is one

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

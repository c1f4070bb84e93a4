"""The five registers, described once.

Every other part of the pipeline (the loader, the input templates, validation, KPIs and the
reports) reads these descriptions; nothing else hard-codes a Chinese header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TEXT, DATE, BOOL, NUMBER, PHONE, CHOICE = "text", "date", "bool", "number", "phone", "choice"

YES_NO = ("是", "否")
# Spellings of a choice that mean the same in every choice column (其它 is the common variant of 其他).
CHOICE_SYNONYMS = {"其它": "其他", "別的": "其他", "其余": "其他"}
_REMARK = re.compile(r"^(.+?)\s*((?:[（(].*[）)]|[，,、;；:：].*))$")


def split_remark(text: str) -> tuple[str, str] | None:
    """A value with a remark after it (满意，师傅态度好; 是（已核实）; 维修（水管）): (value, remark),
    or None when text has no remark. Choices and yes/no cells alike read the value before it."""
    found = _REMARK.match(text)
    return (found.group(1), found.group(2)) if found else None


# a paper form's boxes, as clerks copy them into cells: ticked (√ ☑ ■ …) or left empty (☐ □); and
# the crosses that answer no (×)
TICKED = "√✓✔☑☒■✅"
UNTICKED = "☐□"
CROSSED = "×✗✘❌❎"
_MARK = f"[{TICKED}{UNTICKED}]"
_MARKS = re.compile(_MARK)
_WORD = f"[^\\s{TICKED}{UNTICKED}]+"
_MARK_WORD = re.compile(rf"({_MARK})\s*({_WORD})")  # ☑满意
_WORD_MARK = re.compile(rf"({_WORD}?)\s*({_MARK})")  # 满意☑
_OPTIONS_BEFORE = re.compile(rf"(?:\s*{_MARK_WORD.pattern})+\s*")
_OPTIONS_AFTER = re.compile(rf"(?:\s*{_WORD_MARK.pattern})+\s*")


def ticked_options(text: str) -> list[str] | None:
    """The options ticked in a cell that prints a form's options with their boxes (☑满意 □基本满意
    □不满意; 是■ 否□): the ticked ones' words in order, [] when none is ticked; None when text is
    no such list (a single option with a tick, √满意, is read by ValueList.read and parse_bool)."""
    if len(_MARKS.findall(text)) < 2:
        return None
    if _OPTIONS_BEFORE.fullmatch(text):
        pairs = _MARK_WORD.findall(text)
    elif _OPTIONS_AFTER.fullmatch(text):
        pairs = [(mark, word) for word, mark in _WORD_MARK.findall(text)]
    else:
        return None
    return [word for mark, word in pairs if mark in TICKED]


# words clerks write after a choice (电话回访, 上门走访, 维修类, 噪音问题): read as the choice before them
CHOICE_FILLERS = ("回访", "走访", "投诉", "方式", "类别", "类型", "类", "问题", "方面")
SATISFACTION = ("满意", "基本满意", "不满意")
SATISFACTION_SYNONYMS = {
    "非常满意": "满意",
    "很满意": "满意",
    "比较满意": "基本满意",
    "一般": "基本满意",
    "较满意": "基本满意",
    "很不满意": "不满意",
    "非常不满意": "不满意",
    "十分满意": "满意",
    "特别满意": "满意",
    "还算满意": "基本满意",
    "还可以": "基本满意",
    "还行": "基本满意",
    "一般般": "基本满意",
    "不太满意": "不满意",
    "不满": "不满意",
    # a 是否满意 column answered yes or no
    **dict.fromkeys(("是", "√", "✓", "✔", "好评"), "满意"),
    **dict.fromkeys(("否", "×", "✗", "差评"), "不满意"),
}
# what clerks write around a choice besides a remark: a tick before or after it (√满意, 满意√), the
# one it is about and a verb (业主表示满意, 客户反映不满意), a full stop or an exclamation after it (满意。)
_AROUND = re.compile(
    rf"^[{TICKED}\s]*(?:(?:业主|客户|住户|用户|顾客)(?:表示|反映|反馈|称|说|评价为?|觉得|认为)?)?"
    rf"(?P<value>.+?)[。.!！~～…{TICKED}\s]*$"
)


@dataclass(frozen=True)
class Column:
    """One column of a register.

    Attributes:
        key: English identifier used in code and in the store.
        header: The canonical Chinese header printed on templates and reports.
        type: One of text, date, bool, number, phone, choice.
        required: The value must be present for the row to count.
        aliases: Other headers clerks use for this column.
        choices: Allowed values (for choice columns).
        synonyms: Spellings mapped onto an allowed value (非常满意 → 满意).
        personal: Customer data, masked in every report and email.
        default: Value used when the cell is blank (a blank 紧急 means 否).
        width: Column width on the input template.
        hint: One line for the 填表说明 sheet.
        memo: Free text written for people (备注, 处理结果, 客户意见 …) that no rule and no KPI
            reads: stored and kept in the clerk's files, but a run does not hold it in memory.
        template: Printed on the input template. The callback columns a complaints or repairs
            register may keep (INLINE_CALLBACKS) are read where a centre has them, not asked for:
            the templates keep callbacks in their own register.
    """

    key: str
    header: str
    type: str = TEXT
    required: bool = False
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    synonyms: dict[str, str] = field(default_factory=dict)
    personal: bool = False
    default: object = None
    width: int = 12
    hint: str = ""
    memo: bool = False
    template: bool = True


@dataclass(frozen=True)
class ValueList:
    """The values a choice column accepts, and the spellings read as one of them."""

    choices: tuple[str, ...]
    synonyms: dict[str, str]

    def read(self, text: str) -> str:
        """The allowed value text means: itself, its synonym, a value with a filler word after it
        (电话回访 → 电话, 维修类 → 维修, 噪音问题 → 噪音) or without the one it has (投诉 → 投诉回访),
        with a remark after it (满意，师傅态度好),
        or with the words around it a clerk writes (√满意, 业主表示满意, 满意。), or ticked among the
        form's options printed in the cell (☑满意 □基本满意 □不满意); else text as written (a rule
        names it)."""
        ticked = ticked_options(text)
        if ticked is not None:  # none ticked: blank; several: all of them, which a rule names
            return "、".join(self.read(word) for word in ticked)
        if text in self.synonyms:
            return self.synonyms[text]
        if text in self.choices:
            return text
        for filler in CHOICE_FILLERS:
            if text.endswith(filler) and len(text) > len(filler):
                head = text[: -len(filler)]
                head = self.synonyms.get(head, head)
                if head in self.choices:
                    return head
            if text + filler in self.choices:  # a choice written without its filler (投诉 for 投诉回访)
                return text + filler
        split = split_remark(text)
        if split:
            head, rest = self.read(split[0]), split[1]
            if head in self.choices and not any(c in rest for c in (*self.choices, *self.synonyms)):
                return head  # a remark naming another value (满意、不满意: two ticked) is no remark
        around = _AROUND.match(text)
        if around and around.group("value") != text:
            value = self.read(around.group("value"))
            if value in self.choices:
                return value
        return text


def value_list(col: Column, allowed=None, extra=(), synonyms=None) -> ValueList:
    """A choice column's values: its own, or `allowed` instead, plus `extra`; its synonyms, the
    common ones (CHOICE_SYNONYMS) where they lead to an allowed value, and `synonyms` (a company's)."""
    choices = tuple(dict.fromkeys([*(allowed if allowed is not None else col.choices), *extra]))
    common = {k: v for k, v in CHOICE_SYNONYMS.items() if v in choices}
    return ValueList(choices, {**common, **col.synonyms, **(synonyms or {})})


@dataclass(frozen=True)
class Register:
    """One register (登记表): its columns and how to recognise it."""

    key: str
    title: str
    columns: tuple[Column, ...]
    id_key: str
    date_key: str | None  # the date that places a row in a week and a month (None: a roster, no month)
    keywords: tuple[str, ...]  # title / sheet / file-name words, most specific first
    optional: bool = False  # kept where a centre keeps it; never missing (completeness)

    def column(self, key: str) -> Column:
        for col in self.columns:
            if col.key == key:
                return col
        raise KeyError(key)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.columns)


def _property() -> Column:
    return Column(
        "property",
        "项目",
        aliases=("小区", "项目名称", "小区名称", "物业项目", "管理处", "楼盘", "服务中心", "所属项目"),
        width=12,
        hint="小区/项目名称；整本登记表只属于一个项目时可省略此列，由标题或文件名确定",
    )


def _unit() -> Column:
    return Column(
        "unit",
        "房号",
        aliases=(
            "房屋编号",
            "房间号",
            "门牌号",
            "楼栋房号",
            "栋号房号",
            "户号",
            "房屋",
            "住址",
            "地址",
            "楼号",
            "室号",
        ),
        width=12,
        hint="栋-单元-室，例如 3-2-1201 或 3栋2单元1201",
    )


def _phone() -> Column:
    return Column(
        "phone",
        "联系电话",
        PHONE,
        aliases=("电话", "手机", "手机号", "手机号码", "联系方式", "电话号码", "联系电话号码"),
        personal=True,
        width=14,
        hint="11 位手机号或带区号的固定电话，例如 0755-12345678",
    )


def _yes_no(
    key: str, header: str, aliases: tuple[str, ...], default: object = None, hint: str = ""
) -> Column:
    return Column(key, header, BOOL, aliases=aliases, choices=YES_NO, default=default, width=8, hint=hint)


def _satisfaction(required: bool = False) -> Column:
    return Column(
        "satisfaction",
        "满意度",
        CHOICE,
        required=required,
        aliases=("满意程度", "客户评价", "评价", "是否满意", "满意情况", "业主评价"),
        choices=SATISFACTION,
        synonyms=SATISFACTION_SYNONYMS,
        width=10,
    )


def _date(key: str, header: str, aliases: tuple[str, ...], required: bool = False, hint: str = "") -> Column:
    return Column(key, header, DATE, required=required, aliases=aliases, width=12, hint=hint)


def _callback_columns() -> tuple[Column, ...]:
    """A case's callback written on its own row (回访日期 | 回访人 beside each complaint or repair):
    read where a register has them (INLINE_CALLBACKS)."""
    return (
        Column(
            "callback_date",
            "回访日期",
            DATE,
            aliases=("回访时间",),
            width=12,
            hint="在本表直接记回访时填写；回访记在回访记录表里的不必填",
            template=False,
        ),
        Column("callback_staff", "回访人", aliases=("回访人员", "回访员"), width=10, template=False),
    )


COMPLAINTS = Register(
    key="complaints",
    title="客户投诉处理登记表",
    id_key="id",
    date_key="received",
    keywords=("投诉处理登记", "投诉登记", "投诉"),
    columns=(
        Column(
            "id",
            "投诉编号",
            required=True,
            aliases=("编号", "投诉单号", "单号", "投诉编码", "工单号", "登记编号"),
            width=12,
            hint="每宗投诉唯一，例如 CH-202610-001",
        ),
        _property(),
        _unit(),
        Column(
            "person",
            "投诉人",
            aliases=("业主", "业主姓名", "客户", "客户姓名", "姓名", "投诉人姓名", "住户", "来访人"),
            personal=True,
            width=10,
        ),
        _phone(),
        _date(
            "received",
            "受理日期",
            (
                "投诉日期",
                "日期",
                "来访时间",
                "投诉时间",
                "受理时间",
                "接报时间",
                "登记日期",
                "来电时间",
                "接待日期",
                "来访日期",
            ),
            required=True,
            hint="收到投诉的日期，可带时间",
        ),
        Column(
            "channel",
            "投诉方式",
            CHOICE,
            aliases=("方式", "投诉渠道", "来源", "投诉途径", "受理方式", "投诉形式"),
            choices=("来访", "电话", "书面", "网络", "回访中反映"),
            synonyms={
                **dict.fromkeys(("来电", "热线", "电话热线", "客服热线", "400热线"), "电话"),
                **dict.fromkeys(("上门", "前台", "到访", "来人", "当面"), "来访"),
                **dict.fromkeys(("来信", "信件", "信访", "书信", "投诉信"), "书面"),
                **dict.fromkeys(
                    ("微信", "网上", "邮件", "电子邮件", "公众号", "小程序", "APP", "App", "app"), "网络"
                ),
            },
            width=10,
        ),
        Column(
            "category",
            "投诉类别",
            CHOICE,
            required=True,
            aliases=("类别", "投诉类型", "类型", "问题类别", "分类", "投诉分类"),
            choices=("维修", "安保", "保洁", "绿化", "收费", "服务态度", "噪音", "停车", "其他"),
            width=10,
        ),
        Column(
            "content",
            "投诉内容",
            aliases=("内容", "投诉事项", "问题描述", "投诉问题", "事由", "投诉内容摘要"),
            width=30,
        ),
        Column("handler", "受理人", aliases=("接待人", "记录人", "接待人员", "登记人", "受理人员"), width=10),
        Column("department", "责任部门", aliases=("处理部门", "责任单位", "部门", "负责部门"), width=10),
        _date(
            "verified",
            "调查核实日期",
            ("核实日期", "调查日期", "核实时间", "调查核实时间"),
            hint="应与受理日期同一天",
        ),
        _date(
            "promised",
            "承诺回复日期",
            ("承诺时限", "约定答复日期", "承诺答复日期", "预约回复时间", "承诺回复时间", "承诺日期"),
        ),
        Column(
            "result",
            "处理结果",
            aliases=("处理情况", "处理意见", "处理措施", "处理经过"),
            width=24,
            memo=True,
        ),
        _date(
            "closed",
            "完成日期",
            ("处理完成日期", "结案日期", "办结日期", "完成时间", "关闭日期", "处理完成时间"),
        ),
        _date("replied", "回复日期", ("答复日期", "回复时间", "答复时间", "回复业主日期")),
        *_callback_columns(),
        _yes_no(
            "valid",
            "是否有效投诉",
            ("有效投诉", "是否有效", "有效", "是否属实", "情况是否属实", "投诉是否属实"),
            hint="经核实属本公司责任的填“是”",
        ),
        _yes_no("urgent", "紧急", ("是否紧急", "加急", "紧急投诉"), default=False, hint="空白视为“否”"),
        Column(
            "compensation",
            "赔偿金额",
            NUMBER,
            aliases=("赔偿", "赔偿费用", "赔付金额", "补偿金额", "赔偿金额（元）"),
            width=10,
        ),
        Column("remark", "备注", aliases=("其他说明",), width=16, memo=True),
    ),
)

CALLBACKS = Register(
    key="callbacks",
    title="回访记录表",
    id_key="id",
    date_key="date",
    keywords=("回访记录", "回访登记", "回访"),
    columns=(
        # no other register refers to a callback: a 回访登记本 numbered only by 序号 still counts
        Column("id", "回访编号", aliases=("编号", "回访单号", "回访序号编号"), width=12),
        Column(
            "ref",
            "关联编号",
            aliases=(
                "投诉编号",
                "报修编号",
                "关联单号",
                "原单号",
                "工单号",
                "关联投诉/报修编号",
                "投诉单号",
                "报修单号",
                "维修单号",
                "工单编号",
            ),
            width=12,
            hint="所回访的投诉或报修编号；例行回访留空",
        ),
        _property(),
        _unit(),
        Column(
            "person",
            "被回访人",
            aliases=("业主", "业主姓名", "客户", "客户姓名", "姓名", "住户", "回访对象", "受访人"),
            personal=True,
            width=10,
        ),
        _phone(),
        _date("date", "回访日期", ("日期", "回访时间"), required=True),
        Column(
            "method",
            "回访方式",
            CHOICE,
            aliases=("方式", "回访形式"),
            choices=("电话", "上门", "座谈会", "问卷"),
            synonyms={
                **dict.fromkeys(("面访", "入户", "现场", "登门"), "上门"),
                **dict.fromkeys(("座谈", "业主座谈会", "住户座谈会"), "座谈会"),
                **dict.fromkeys(("问卷调查", "调查问卷", "满意度调查"), "问卷"),
            },
            width=10,
        ),
        Column(
            "kind",
            "回访类型",
            CHOICE,
            aliases=("类型", "回访类别", "回访性质"),
            choices=("投诉回访", "维修回访", "例行回访", "主任走访"),
            synonyms={
                **dict.fromkeys(("报修回访", "维修后回访", "报修"), "维修回访"),
                **dict.fromkeys(("日常回访", "定期回访", "例行", "季度回访", "常规回访"), "例行回访"),
                **dict.fromkeys(("主任上门走访", "主任回访", "领导走访"), "主任走访"),
            },
            width=10,
        ),
        Column("staff", "回访人", aliases=("回访人员", "回访员", "回访者"), width=10),
        Column(
            "opinion",
            "客户意见",
            aliases=("业主意见", "住户意见", "意见", "回访内容", "回访情况", "意见或建议"),
            width=28,
            memo=True,
        ),
        _satisfaction(),
        _yes_no("solved", "问题已解决", ("问题是否解决", "是否解决", "已解决", "问题解决")),
        Column(
            "followup",
            "后续处理",
            aliases=("跟进处理", "后续跟进", "跟进情况", "整改措施", "跟进结果", "处理情况"),
            width=20,
        ),
        _date("followup_date", "后续处理日期", ("跟进日期", "处理日期", "跟进处理日期")),
    ),
)

REINSPECTIONS = Register(
    key="reinspections",
    title="复检登记表",
    id_key="id",
    date_key="appealed",
    keywords=("复检", "申诉", "抱怨"),
    columns=(
        Column(
            "id", "申诉编号", required=True, aliases=("编号", "受理编号", "抱怨编号", "申诉单号"), width=12
        ),
        _property(),
        Column(
            "customer",
            "客户",
            aliases=("申诉人", "委托单位", "申诉单位", "客户名称", "委托人"),
            personal=True,
            memo=True,
            width=12,
        ),
        Column(
            "report_no",
            "报告编号",
            aliases=("检验报告编号", "原报告编号", "检测报告编号"),
            width=12,
            memo=True,
        ),
        _date(
            "report_received", "报告接收日期", ("收到报告日期", "报告日期", "报告领取日期", "接收报告日期")
        ),
        _date(
            "appealed",
            "申诉日期",
            ("抱怨日期", "申诉时间", "提出日期"),
            required=True,
            hint="收到报告后 10 日内",
        ),
        Column(
            "reason", "申诉理由", aliases=("申诉内容", "抱怨内容", "理由", "申诉原因"), width=24, memo=True
        ),
        _yes_no(
            "urgent",
            "紧急",
            ("是否紧急", "加急", "紧急申诉"),
            default=False,
            hint="紧急申诉须 3 个工作日内答复",
        ),
        _date("accepted", "受理日期", ("受理时间",)),
        _date("reinspected", "复检日期", ("复检时间",)),
        Column(
            "inspectors",
            "复检人员",
            aliases=("复检人", "检验人员", "复检者"),
            width=14,
            hint="两人，用顿号分隔",
        ),
        Column(
            "conclusion",
            "复检结论",
            CHOICE,
            aliases=("结论", "复检结果", "处理结果"),
            choices=("维持原结果", "更正"),
            synonyms={
                **dict.fromkeys(
                    ("维持", "维持原结论", "维持原判", "维持原检验结果", "原结果不变", "结果不变"),
                    "维持原结果",
                ),
                **dict.fromkeys(
                    ("更正结果", "更改", "更改结果", "修改结果", "纠正", "改正", "结果更正"), "更正"
                ),
            },
            width=12,
        ),
        _date(
            "notified",
            "书面通知日期",
            ("通知日期", "书面答复日期", "答复日期", "回复日期"),
            hint="受理后 15 日内",
        ),
    ),
)

FEEDBACK = Register(
    key="feedback",
    title="投诉处理结果客户反馈登记表",
    id_key="id",
    date_key="date",
    keywords=("客户反馈", "反馈"),
    columns=(
        Column("id", "反馈编号", aliases=("编号", "反馈单号"), width=12),  # referred to by no register
        Column(
            "complaint_id",
            "投诉编号",
            required=True,
            aliases=("关联编号", "投诉单号", "原投诉编号"),
            width=12,
        ),
        _property(),
        _date("date", "反馈日期", ("日期", "反馈时间"), required=True),
        _satisfaction(required=True),
        Column("opinion", "客户意见", aliases=("意见", "反馈意见", "业主意见"), width=28, memo=True),
        _date("reopened", "重新处理日期", ("再次处理日期", "重新处理时间", "重新处理"), hint="不满意时必填"),
    ),
)

REPAIRS = Register(
    key="repairs",
    title="报修登记表",
    id_key="id",
    date_key="reported",
    keywords=("报修登记", "报修", "维修登记"),
    columns=(
        Column(
            "id",
            "报修编号",
            required=True,
            aliases=("编号", "报修单号", "工单号", "派工单号", "维修单号"),
            width=12,
        ),
        _property(),
        _unit(),
        Column(
            "person",
            "报修人",
            aliases=("业主", "业主姓名", "客户", "客户姓名", "姓名", "报修业主"),
            personal=True,
            width=10,
        ),
        _phone(),
        _date("reported", "报修时间", ("报修日期", "日期", "接报时间", "报修日期时间"), required=True),
        Column(
            "content", "报修内容", aliases=("内容", "维修内容", "故障描述", "报修事项", "维修项目"), width=28
        ),
        _date("dispatched", "派工时间", ("派工日期", "派单时间", "派单日期")),
        Column("worker", "维修人", aliases=("维修人员", "维修工", "处理人", "维修师傅"), width=10),
        _date("completed", "完成时间", ("完成日期", "维修完成时间", "竣工时间", "维修完成日期")),
        _satisfaction(),
        *_callback_columns(),
    ),
)

HOUSEHOLDS = Register(
    key="households",
    title="住户名册",
    id_key="unit",
    date_key=None,
    keywords=("住户名册", "业主名册", "住户名单", "业主名单", "住户花名册", "名册"),
    optional=True,
    columns=(
        _property(),
        Column(
            "area",
            "区域",
            aliases=("楼栋", "片区", "管理区域", "所属区域", "区域范围", "片区范围", "责任区域", "楼栋区域"),
            width=10,
            hint="楼栋或片区，例如 3栋、东区：物管员按区域分工回访",
        ),
        Column(
            "unit",
            "房号",
            required=True,
            aliases=("房屋编号", "房间号", "门牌号", "楼栋房号", "栋号房号", "户号", "房屋", "住址", "地址"),
            width=12,
            hint="栋-单元-室，例如 3-2-1201；每户一行",
        ),
        Column(
            "owner", "业主", aliases=("业主姓名", "户主", "住户", "住户姓名", "姓名"), personal=True, width=10
        ),
        _phone(),
        Column(
            "status",
            "入住状态",
            CHOICE,
            aliases=("状态", "入住情况", "居住状态", "房屋状态"),
            choices=("已入住", "空置", "出租", "装修中"),
            width=10,
        ),
    ),
)

ACTIONS = Register(
    key="actions",
    title="问题跟踪表",
    id_key="id",
    date_key="raised",
    keywords=("问题跟踪", "问题整改", "整改跟踪", "会议决议", "决议跟踪"),
    optional=True,
    columns=(
        Column("id", "问题编号", required=True, aliases=("编号", "问题序号", "决议编号"), width=10),
        _property(),
        _date("raised", "提出日期", ("提出时间", "发现日期", "登记日期", "会议日期"), required=True),
        Column(
            "occasion",
            "提出场合",
            CHOICE,
            aliases=("场合", "问题来源", "来源", "提出会议"),
            choices=("晨会", "例会", "回访", "巡查", "其他"),
            width=10,
        ),
        Column(
            "problem", "问题描述", required=True, aliases=("问题", "存在问题", "问题内容", "事项"), width=28
        ),
        Column("cause", "原因分析", aliases=("原因", "问题原因"), width=24),
        Column("measure", "整改措施", aliases=("措施", "解决措施", "处理措施", "整改方案", "决议"), width=24),
        Column("owner", "责任人", aliases=("负责人", "跟进人", "落实人"), width=10),
        Column("department", "责任部门", aliases=("负责部门", "落实部门"), width=10),
        _date("due", "完成时限", ("完成期限", "计划完成日期", "期限", "截止日期", "要求完成日期")),
        Column("escalated_to", "上报对象", aliases=("上报", "上报给", "上报领导", "上报至"), width=10),
        _date("done", "完成日期", ("实际完成日期", "完成时间", "关闭日期")),
        Column("progress", "跟进情况", aliases=("跟进", "进展", "进度", "跟进记录"), width=24),
    ),
)

REGISTERS: dict[str, Register] = {
    r.key: r for r in (COMPLAINTS, CALLBACKS, REINSPECTIONS, FEEDBACK, REPAIRS, HOUSEHOLDS, ACTIONS)
}
CORE = tuple(key for key, r in REGISTERS.items() if not r.optional)  # the five every centre hands in


@dataclass(frozen=True)
class Relation:
    """How one register's rows refer to another's: by a number within the same property
    (domain.numbers). The rules that check a reference, and `pipeline validate` deciding which
    registers a file's check needs, read these; so do the generated docs."""

    register: str
    column: str
    targets: tuple[str, ...]
    text: str


RELATIONS = (
    Relation(
        "callbacks",
        "ref",
        ("complaints", "repairs"),
        "回访的“关联编号”是同一项目的投诉编号或报修编号；投诉、报修完成后须有回访（日期不早于完成日期）",
    ),
    Relation(
        "feedback",
        "complaint_id",
        ("complaints",),
        "反馈的“投诉编号”是同一项目的投诉编号；反馈登记表未写项目时，按该投诉编号所在的项目确定，"
        "有两个以上项目都有这个编号、或都没有时，该行暂存（反馈项目不明确）",
    ),
)


def relation(register: str) -> Relation:
    return next(r for r in RELATIONS if r.register == register)


@dataclass(frozen=True)
class InlineCallback:
    """A register that may record its cases' callbacks on their own rows: each row with a callback
    date carries a callback of its case (domain.inline_callbacks), as the callbacks register's row
    关联编号 = the case's number would. columns: callbacks' column key → this register's."""

    register: str
    kind: str  # the callback's 回访类型
    columns: dict[str, str]


INLINE_COLUMNS = {  # callbacks' column key → the case register's, for both
    "ref": "id",
    "property": "property",
    "unit": "unit",
    "person": "person",
    "phone": "phone",
    "date": "callback_date",
    "staff": "callback_staff",
}
INLINE_CALLBACKS = (
    InlineCallback("complaints", "投诉回访", INLINE_COLUMNS),
    InlineCallback("repairs", "维修回访", INLINE_COLUMNS),
)


def _case_numbers() -> dict[str, tuple[str, ...]]:
    """Register → its columns holding a case number: its own number, and the reference a relation
    follows (callbacks' 关联编号, feedback's 投诉编号). The loader checks their cells (a number Excel
    cut to 15 digits); domain.key_cases gives them their keys."""
    out = {key: [reg.id_key] for key, reg in REGISTERS.items()}
    for link in RELATIONS:
        out[link.register].append(link.column)
    return {key: tuple(dict.fromkeys(cols)) for key, cols in out.items()}


CASE_NUMBERS = _case_numbers()


# Headers that belong to no register but are expected on clerks' sheets; never reported as unknown.
IGNORED_HEADERS = ("序号", "No", "NO", "no", "行号", "编码序号")

# Words that mark a row as a signature, date, subtotal or note line rather than data, when its first
# filled cell begins with one of them (登记人：王敏, 合计, 主管签字：) …
FOOTER_WORDS = (
    "填表人",
    "审核人",
    "制表人",
    "登记人",
    "经办人",
    "统计人",
    "复核人",
    "批准人",
    "审批人",
    "负责人签字",
    "部门负责人",
    "主管签字",
    "经理签字",
    "签字",
    "签名",
    "合计",
    "小计",
    "总计",
    "共计",
    "备注：",
    "说明：",
)
# … or is one of these labels followed by a colon (日期：2026-10-31, 主管：李强).
FOOTER_LABELS = (
    "日期",
    "填表日期",
    "制表日期",
    "报表日期",
    "填报日期",
    "主管",
    "经理",
    "负责人",
    "部门",
    "审核",
)

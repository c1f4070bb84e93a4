"""Cell values as clerks write them → Python values.

Each parser returns the value (or None for a blank or placeholder) and raises ValueProblem with a
finding code when the text cannot be read. Parsers never guess silently: a date without a year
is read with the year hint and reported as such by the caller.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta

from pipeline.registers import CROSSED, TICKED, UNTICKED, split_remark, ticked_options

PLACEHOLDERS = frozenset(
    {
        "",
        "/",
        "\\",
        "-",
        "--",
        "—",
        "——",
        "－",
        "无",
        "暂无",
        "空",
        "未",
        "n/a",
        "na",
        "null",
        "none",
        "#n/a",
        "nan",
        "…",
        "...",
    }
)
EXCEL_EPOCH = datetime(1899, 12, 30)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MIN_YEAR, MAX_YEAR_AHEAD = 2000, 1


class ValueProblem(ValueError):
    def __init__(self, code: str, note: str = ""):
        super().__init__(code)
        self.code = code
        self.note = note


def clean_text(value: object) -> str:
    """NFKC (full-width → half-width), no control characters, stripped, inner whitespace runs collapsed."""
    if isinstance(value, str):
        text = value
    elif value is None:
        return ""
    elif isinstance(value, float) and value.is_integer():
        return str(int(value))
    elif isinstance(value, datetime):
        if value.time() != datetime.min.time():
            return value.isoformat(sep=" ", timespec="minutes")
        return value.date().isoformat()
    elif isinstance(value, date):
        return value.isoformat()
    else:
        text = str(value)
    if not text.isprintable():  # line breaks, tabs, control characters, full-width spaces
        text = " ".join(_CONTROL.sub("", text).split())
    elif text[:1] == " " or text[-1:] == " " or "  " in text:
        text = " ".join(text.split())
    if not unicodedata.is_normalized("NFKC", text):
        text = " ".join(unicodedata.normalize("NFKC", text).split())
    return text


def is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        if not value:
            return True
        if len(value) > 8:
            return False  # longer than any placeholder
        return clean_text(value).lower() in PLACEHOLDERS
    return False


# --- dates -------------------------------------------------------------------------------------
#
# A text date is read in three steps: the weekday and Chinese numerals go (三月一号 → 3月1号), a date
# form is matched at the start, and what follows must be a time of day or nothing. A numeric date
# whose order cannot be known (1/2/2020: January or February?) is never guessed: its sheet's other
# values may show the order (24/9/2020 can only be day first), else it is a `date-ambiguous` problem.

_WEEKDAY = re.compile(r"[,，\s]*[(（]?(?:周|星期|礼拜)[一二三四五六日天1-7][)）]?")
_CN_NUM = re.compile(r"[〇零一二三四五六七八九十两]+")
_CN_DIGIT = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_MONTHS = {
    m: i
    for i, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for m in names
}
_MON = "(?P<mon>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DATE_FORMS = [  # (kind, pattern) tried in order at the start of the text
    ("ymd", r"(?P<y>\d{4})\s*[年./\-]\s*(?P<m>\d{1,2})\s*[月./\-]\s*(?P<d>\d{1,2})(?!\d)\s*[日号]?"),
    ("ymd", r"(?P<y>\d{2})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]?"),
    ("triple", r"(?P<a>\d{1,2})\s*(?P<sep>[./\-])\s*(?P<b>\d{1,2})\s*(?P=sep)\s*(?P<c>\d{4}|\d{1,2})(?!\d)"),
    ("ymd", r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?!\d)"),
    ("md", r"(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})(?!\d)\s*[日号]?"),
    (
        "short",
        r"(?P<m>\d{1,2})\s*[./\-]\s*(?P<d>\d{1,2})(?![\d./\-])",
    ),  # 11/5: month first unless the sheet shows day first
    ("d", r"(?P<d>\d{1,2})\s*[日号]"),  # 3日, 5号: in a register whose month is named
    ("ymd", r"(?P<y>\d{4})\s*-\s*" + _MON + r"\s*-\s*(?P<d>\d{1,2})"),
    # 3 Nov 2026, and Excel's d-mmm-yy (3-Nov-26) as a CSV it saved writes a date cell
    ("ymd", r"(?P<d>\d{1,2})(?:st|nd|rd|th)?[\s\-]*" + _MON + r"[\s\-,]*(?P<y>\d{4}|\d{2})(?!\d)"),
    ("ymd", _MON + r"\s*(?P<d>\d{1,2})(?:st|nd|rd|th)?\s*,?\s*(?P<y>\d{4})"),
]
_DATE_RES = [(kind, re.compile(pattern)) for kind, pattern in _DATE_FORMS]
_SHORT = next(pattern for kind, pattern in _DATE_RES if kind == "short")
_DAYPART = (
    r"(?P<pre>上午|下午|中午|晚上|早上|早晨|凌晨|傍晚|夜里|夜间|晚间|午后|清晨|白天|晚|早|a\.?m\.?|p\.?m\.?)"
)
_TIME = re.compile(
    r"^[\st,，]*" + _DAYPART + r"?\s*"
    r"(?:(?P<h>\d{1,2})\s*(?:[:：]|时|点钟|点)\s*"
    r"(?:(?P<half>半)|(?P<q>[1-3])\s*刻|(?P<mi>\d{1,2})\s*分?)?\s*"
    r"(?:[:：]?\s*(?P<s>\d{1,2})(?:\.\d+)?\s*秒?)?"
    r"|(?P<h2>\d{1,2})(?=\s*(?:a\.?m|p\.?m)))?"
    r"\s*(?P<post>a\.?m\.?|p\.?m\.?|上午|下午)?\s*(?:z|[+\-]\d{2}:?\d{2})?$"
)
_LATE = frozenset({"下午", "晚上", "傍晚", "夜里", "夜间", "晚间", "午后", "晚", "pm", "p.m.", "p.m", "pm."})
_EARLY = frozenset({"上午", "早上", "早晨", "凌晨", "清晨", "早", "am", "a.m.", "a.m", "am."})
_SEPARATED = re.compile(r"\d\s*[./\-／．－]\s*\d")
NEAR_YEARS = 2  # a two-digit-year reading this far from the expected year is no reading at all


def _serial(n: float) -> datetime:
    if not 1 <= n < 2958466:
        raise ValueProblem("invalid-date", "（超出 Excel 日期范围）")
    return EXCEL_EPOCH + timedelta(days=float(n))


def _as_result(dt: datetime) -> date | datetime:
    dt = dt.replace(microsecond=0)
    if dt.hour == dt.minute == dt.second == 0:
        return dt.date()
    return dt


def _check_year(year: int, as_of: datetime) -> None:
    if not MIN_YEAR <= year <= as_of.year + MAX_YEAR_AHEAD:
        raise ValueProblem("invalid-date", f"（年份 {year} 不合理）")


def _cn_number(run: str) -> str:
    """二〇二六 → 2026, 十 → 10, 三十一 → 31, 十二 → 12."""
    if "十" not in run:
        return "".join(str(_CN_DIGIT[c]) for c in run)
    head, _, tail = run.partition("十")
    if len(head) > 1 or len(tail) > 1:
        raise ValueProblem("invalid-date")
    return str((_CN_DIGIT[head] if head else 1) * 10 + (_CN_DIGIT[tail] if tail else 0))


def _valid(y: int, m: int, d: int) -> bool:
    try:
        date(y, m, d)
    except ValueError:
        return False
    return True


def infer_year(month: int, day: int, as_of: datetime) -> int:
    """The year that puts month/day nearest on or before the as-of date (29 February: the leap year)."""
    year = as_of.year
    if month == 2 and day == 29:
        while not _valid(year, 2, 29) or date(year, 2, 29) > as_of.date():
            year -= 1
        return year
    try:
        if date(year, month, day) > as_of.date():
            year -= 1
    except ValueError:
        pass
    return year


def _month_dot_day(value: float, year_hint, as_of, month_hint) -> tuple[date | datetime | None, bool]:
    """11.5 typed into a General cell, which Excel keeps as the number 11.5, read as month.day (the
    way it is typed in China, whatever order the sheet's slash dates show). Its day may have lost
    a 0 (11.10 is the number 11.1): when both readings are dates, it is ambiguous, both named."""
    text = repr(value)
    readings = {}
    for candidate in (text, text + "0") if len(text.partition(".")[2]) == 1 else (text,):
        try:
            readings[candidate] = parse_date(candidate, year_hint, as_of, None, month_hint)
        except ValueProblem:
            continue
    if not readings:
        return parse_date(text, year_hint, as_of, None, month_hint)  # raises its problem
    if len(readings) > 1:
        dates = " 或 ".join(r[0].isoformat() for r in readings.values())
        raise ValueProblem("date-ambiguous", f"：数字 {text} 可读作 {dates}（Excel 会去掉末尾的 0）")
    return next(iter(readings.values()))


def _parts(value) -> tuple[int, int, int | None] | None:
    """The two leading numbers of a numeric date (a/b/c with its year c, or a/b with none), for the
    order evidence of date_order and month_order; None for anything else."""
    if type(value) is not str or len(value) > 40 or not _SEPARATED.search(value):
        return None  # dates read as dates, numbers, and texts with no separated numbers say nothing
    text = value.strip() if value.isascii() else clean_text(value)
    m = _DATE_RES[2][1].match(text)
    if m:
        c = m.group("c")
        return int(m.group("a")), int(m.group("b")), int(c) if len(c) == 4 else None
    m = _SHORT.match(text)
    return (int(m.group("m")), int(m.group("d")), None) if m else None


def date_order(values) -> str | None:
    """'dmy' or 'mdy' when a sheet's (or a column's) numeric dates show their order (a first part
    over 12 can only be a day: 24/9/2020, 24/9), None when they do not or contradict each other."""
    seen = set()
    for value in values:
        parts = _parts(value)
        if parts:
            a, b, _ = parts
            if a > 12 >= b:
                seen.add("dmy")
            elif b > 12 >= a:
                seen.add("mdy")
    return seen.pop() if len(seen) == 1 else None


def month_order(values, month: str | None) -> str | None:
    """'dmy' or 'mdy' when the register's dates show their order by the month the register names
    ('2026-11': 05/11/2026 and 5/11 can then only be day-month): every such date that only one
    order puts in that month says the same order. None when none does or they contradict each other
    (a sheet is written in one order, so one date settles the others)."""
    if not month:
        return None
    year, mon = int(month[:4]), int(month[5:7])
    seen = set()
    for value in values:
        parts = _parts(value)
        if not parts or parts[2] not in (None, year):
            continue
        a, b, _ = parts
        if a != b and (a == mon) != (b == mon):
            seen.add("mdy" if a == mon else "dmy")
    return seen.pop() if len(seen) == 1 else None


def _triple(m: re.Match, year_hint: int | None, as_of: datetime, order: str | None) -> tuple[int, int, int]:
    """a/b/c: with a four-digit year last, month-day or day-month; with two digits, also year first.
    One valid reading (or one near the expected year, for two-digit years) is the date; otherwise
    the sheet's order decides (date_order, month_order), else the date is ambiguous."""
    a, b, c = int(m.group("a")), int(m.group("b")), m.group("c")
    if len(c) == 4:
        readings = {"mdy": (int(c), a, b), "dmy": (int(c), b, a)}
    else:
        y = 2000 + int(c)
        readings = {"ymd": (2000 + a, b, int(c)), "dmy": (y, b, a), "mdy": (y, a, b)}
    valid = {kind: ymd for kind, ymd in readings.items() if _valid(*ymd)}
    expected = year_hint or as_of.year
    near = {ymd for ymd in valid.values() if abs(ymd[0] - expected) <= NEAR_YEARS}
    if len(set(valid.values())) == 1:
        return next(iter(valid.values()))
    if len(c) < 4 and len(near) == 1:
        return near.pop()
    if order in valid:
        return valid[order]
    if not valid:
        raise ValueProblem("invalid-date", "（月、日不存在）")
    readings_text = " 或 ".join(sorted({date(*v).isoformat() for v in valid.values()}))
    raise ValueProblem("date-ambiguous", f"：可读作 {readings_text}")


def _clock(rest: str) -> tuple[int, int, int]:
    """Hour, minute, second of what follows a date ('' → midnight)."""
    m = _TIME.match(rest)
    if not m:
        raise ValueProblem("invalid-date")
    hour = m.group("h") or m.group("h2")
    if hour is None:
        return 0, 0, 0  # a part of day alone (2月15号早上): the date is what counts
    hour = int(hour)
    minute = 30 if m.group("half") else 15 * int(m.group("q")) if m.group("q") else int(m.group("mi") or 0)
    second = int(m.group("s") or 0)
    part = {m.group("pre"), m.group("post")} - {None}
    if part & _LATE and hour < 12:
        hour += 12
    elif part & {"中午"} and hour < 6:
        hour += 12  # 中午1点 is 13:00
    elif part & _EARLY and hour == 12:
        hour = 0  # 12:00:03 AM, 凌晨12点
    if hour > 23 or minute > 59 or second > 59:
        raise ValueProblem("invalid-date", "（时间不存在）")
    return hour, minute, second


def time_of_day(value: object) -> str | None:
    """A time of day alone, as HH:MM:SS (受理时间 in a column of its own beside 受理日期): a time cell,
    a time Excel keeps on its day zero (1899-12-30), or a text with an hour (14:30, 下午3点, 9点15分);
    None for anything else (a date, a bare number, a part of day with no hour)."""
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, datetime) and value.date() in _DAY_ZERO:
        return value.strftime("%H:%M:%S")
    if not isinstance(value, str):
        return None
    text = clean_text(value)
    m = _TIME.match(text)
    if not text or m is None or (m.group("h") or m.group("h2")) is None:
        return None
    try:
        hour, minute, second = _clock(text)
    except ValueProblem:
        return None
    return f"{hour:02d}:{minute:02d}:{second:02d}"


_DAY_ZERO = (EXCEL_EPOCH.date(), (EXCEL_EPOCH + timedelta(days=1)).date())  # and 1900's day 0


def arabic_numerals(text: str) -> str:
    """Chinese numerals written as digits: 二〇二六年十一月三日 → 2026年11月3日, 十一月 → 11月."""
    return _CN_NUM.sub(lambda m: _cn_number(m.group()), text) if _CN_NUM.search(text) else text


def _text_date(text: str, year_hint: int | None, as_of: datetime, order: str | None, month_hint: str | None):
    text = _WEEKDAY.sub(" ", text).strip(" ,，")
    if text[-1:] in ("。", ".") and (text[-2:-1].isdigit() or text[-2:-1] in ("日", "号")):
        text = text[:-1]  # a full stop after the day (2026.11.3.), not a.m.'s
    text = arabic_numerals(text).lower()
    for kind, pattern in _DATE_RES:
        m = pattern.match(text)
        if not m:
            continue
        assumed = False
        if kind == "d":
            if not month_hint:
                continue  # a day of no named month
            y, mo, d = int(month_hint[:4]), int(month_hint[5:7]), int(m.group("d"))
        elif kind == "triple":
            y, mo, d = _triple(m, year_hint, as_of, order)
        elif kind in ("md", "short"):
            mo, d = int(m.group("m")), int(m.group("d"))
            if kind == "short" and order == "dmy":  # 5/11 in a sheet written day first
                mo, d = d, mo
            y, assumed = year_hint, True
            if y is None or (mo == 2 and d == 29 and not _valid(y, 2, 29)):
                y = infer_year(mo, d, as_of)
        else:
            y = int(m.group("y"))
            y += 2000 if y < 100 else 0
            mo = _MONTHS[m.group("mon")] if "mon" in m.groupdict() else int(m.group("m"))
            d = int(m.group("d"))
        _check_year(y, as_of)
        hour, minute, second = _clock(text[m.end() :])
        try:
            return _as_result(datetime(y, mo, d, hour, minute, second)), assumed
        except ValueError as exc:
            raise ValueProblem("invalid-date", "（月、日或时间不存在）") from exc
    raise ValueProblem("invalid-date")


def parse_date(
    value: object,
    year_hint: int | None,
    as_of: datetime,
    order: str | None = None,
    month_hint: str | None = None,
) -> tuple[date | datetime | None, bool]:
    """Parse a clerk's date. Returns (value, year_was_assumed).

    Accepts Excel serials and datetimes, 2026年10月8日, 二〇二六年三月一号, 2026.10.8, 2026/10/8,
    2026-10-08 14:30, 2026/10/12 3:05 PM, 10月12号，星期一 晚8:00, 20时1刻, 17:06:30.0, Oct 12, 2026,
    9/24/2019 (US export), 20261008, and 10月8日 / 10-8 / 三月一号 whose year comes from year_hint or,
    failing that, the year that puts the date nearest before as_of. order ('dmy' / 'mdy', from the
    sheet: date_order, month_order) settles 1/2/2020; without it such a date is a date-ambiguous
    problem. A day alone (3日, 5号 下午2点) is a day of month_hint (the register's month, '2026-11'),
    and no date without it.
    """
    if value is None:
        return None, False
    if isinstance(value, datetime):
        _check_year(value.year, as_of)
        return _as_result(value), False
    if isinstance(value, date):
        _check_year(value.year, as_of)
        return value, False
    if isinstance(value, bool):
        raise ValueProblem("invalid-date")
    if isinstance(value, int | float):
        if 19000101 <= value <= 99991231 and float(value).is_integer():
            return parse_date(str(int(value)), year_hint, as_of)
        if isinstance(value, float) and 1 <= value < 13 and not value.is_integer():
            return _month_dot_day(value, year_hint, as_of, month_hint)
        dt = _serial(value)
        _check_year(dt.year, as_of)
        return _as_result(dt), False
    text = clean_text(value)
    if text.lower() in PLACEHOLDERS:
        return None, False
    if re.fullmatch(r"\d{5}(\.\d+)?", text):  # a serial stored as text
        return parse_date(float(text), year_hint, as_of)
    return _text_date(text, year_hint, as_of, order, month_hint)


# --- other types -------------------------------------------------------------------------------

_TRUE = frozenset(
    {"是", "y", "yes", "true", "有", "对", "1", "紧急", "是的", "已解决", "解决"}
    | {"有效", "有效投诉", "属实", "加急", "紧急投诉"}
    | {"急", "特急", "很急", "非常紧急", "紧急件", "加急件"}  # a 紧急 column's degrees
)
_FALSE = frozenset(
    {"否", "x", "n", "no", "false", "无", "0", "不", "不是", "未解决", "一般", "非紧急"}
    | set(CROSSED)
    | {"无效", "无效投诉", "不属实", "非", "不紧急", "普通", "未"}
    | {"不急", "一般件", "普通件"}  # not 正常: in 问题已解决 it would say the opposite
)
_BOOL_BLANK = PLACEHOLDERS - {"无", "未"}  # in a 是/否 column 无 and 未 say no


def parse_bool(value: object) -> bool | None:
    """是/否 as clerks write it: the words, a tick or a cross, a box ticked (☑ ■) or left empty
    (☐ □), the word with its tick (是√), the form's two options with one ticked (☑是 □否), a yes
    or no with a remark after it (是（已核实）)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = clean_text(value).lower()
    if text in _BOOL_BLANK:
        return None
    if text in _TRUE or (len(text) == 1 and text in TICKED):
        return True
    if text in _FALSE or (len(text) == 1 and text in UNTICKED):
        return False
    ticked = ticked_options(text)
    if ticked is not None:  # 是/否 printed with their boxes: the one ticked; none: blank
        if len(ticked) > 1:
            raise ValueProblem("invalid-bool")
        return parse_bool(ticked[0]) if ticked else None
    word = text.strip(TICKED + " ")
    if word != text and word and (word in _TRUE or word in _FALSE):  # 是√, √否: the word ticked
        return word in _TRUE
    split = split_remark(text)  # a yes or no with a remark after it (not 是、否: both)
    if split and not split[0].isdigit() and (split[0] in _TRUE or split[0] in _FALSE):
        if not any(word in split[1] for word in ("是", "否", "√", "×")):
            return split[0] in _TRUE
    raise ValueProblem("invalid-bool")


def parse_number(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = clean_text(value)
    if text.lower() in PLACEHOLDERS:
        return None
    text = re.sub(r"^[¥￥]|元$|[,，\s]", "", text)
    try:
        return float(text)
    except ValueError as exc:
        raise ValueProblem("invalid-number") from exc


def parse_phone(value: object) -> str | None:
    """Phones arrive as text, as integers, or as floats (13812345678.0); keep digits and the area-code dash."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = clean_text(value)
    if text.lower() in PLACEHOLDERS:
        return None
    text = re.sub(r"^\+?86[\s-]?", "", text) if len(re.sub(r"\D", "", text)) > 11 else text
    text = re.sub(r"[\s()（）]", "", text).replace("—", "-")
    return text.replace("-", "") if _GROUPED_MOBILE.fullmatch(text) else text  # 138-1234-5678


_GROUPED_MOBILE = re.compile(r"1[3-9][0-9]-?[0-9]{4}-?[0-9]{4}")


_DASHES = frozenset({"/", "\\", "-", "--", "—", "——", "－", "…"})


def parse_text(value: object) -> str | None:
    """Free text keeps words such as 无 (they mean something); bare dashes and slashes are blanks."""
    text = clean_text(value)
    return None if text in _DASHES else (text or None)


def parse_choice(value: object, values) -> str | None:
    """A choice as written, or the allowed value it is a synonym of (values: registers.ValueList)."""
    text = clean_text(value).replace(" ", "")
    if text.lower() in PLACEHOLDERS:
        return None
    return values.read(text) or None  # a form's options with none ticked: blank

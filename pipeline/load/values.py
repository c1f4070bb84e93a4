"""Cell values as clerks write them → Python values.

Each parser returns the value (or None for a blank or placeholder) and raises ValueProblem with a
finding code when the text cannot be read. Parsers never guess silently: a date without a year
is read with the year hint and reported as such by the caller.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta

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

_TIME = r"(?:[ T]*(?P<ampm>上午|下午|晚上|早上)?\s*(?P<h>\d{1,2})\s*[:时点]\s*(?P<mi>\d{1,2})?\s*分?(?::(?P<s>\d{1,2}))?)?"
_YMD = re.compile(
    r"^(?P<y>\d{4}|\d{2})\s*[年./\-]\s*(?P<m>\d{1,2})\s*[月./\-]\s*(?P<d>\d{1,2})\s*[日号]?" + _TIME + r"$"
)
_MDY = re.compile(r"^(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})" + _TIME + r"$")
_MD = re.compile(r"^(?P<m>\d{1,2})\s*[月./\-]\s*(?P<d>\d{1,2})\s*[日号]?" + _TIME + r"$")
_COMPACT = re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$")
_WEEKDAY = re.compile(r"[(（]?(?:周|星期|礼拜)[一二三四五六日天][)）]?")


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


def _from_match(m: re.Match, year: int) -> datetime:
    hour = int(m.group("h") or 0)
    if m.group("ampm") in ("下午", "晚上") and hour < 12:
        hour += 12
    try:
        return datetime(
            year, int(m.group("m")), int(m.group("d")), hour, int(m.group("mi") or 0), int(m.group("s") or 0)
        )
    except ValueError as exc:
        raise ValueProblem("invalid-date", "（月、日或时间不存在）") from exc


def infer_year(month: int, day: int, as_of: datetime) -> int:
    """The year that puts month/day nearest on or before the as-of date."""
    year = as_of.year
    try:
        if date(year, month, day) > as_of.date():
            year -= 1
    except ValueError:
        pass
    return year


def parse_date(value: object, year_hint: int | None, as_of: datetime) -> tuple[date | datetime | None, bool]:
    """Parse a clerk's date. Returns (value, year_was_assumed).

    Accepts Excel serials and datetimes, 2026年10月8日, 2026.10.8, 2026/10/8, 2026-10-08 14:30,
    9/24/2019 (US export), 20261008, and 10月8日 / 10-8 whose year comes from year_hint or, failing
    that, the year that puts the date nearest before as_of.
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
        dt = _serial(value)
        _check_year(dt.year, as_of)
        return _as_result(dt), False
    text = clean_text(value)
    if text.lower() in PLACEHOLDERS:
        return None, False
    text = _WEEKDAY.sub("", text).strip()
    if re.fullmatch(r"\d{5}(\.\d+)?", text):  # a serial stored as text
        return parse_date(float(text), year_hint, as_of)
    for pattern in (_YMD, _MDY):
        m = pattern.match(text)
        if m:
            year = int(m.group("y"))
            if year < 100:
                year += 2000
            _check_year(year, as_of)
            if pattern is _MDY and int(m.group("m")) > 12:  # 24/9/2019: day first
                text2 = f"{year}-{m.group('d')}-{m.group('m')}"
                return parse_date(text2, year_hint, as_of)
            return _as_result(_from_match(m, year)), False
    m = _COMPACT.match(text)
    if m:
        year = int(m.group("y"))
        _check_year(year, as_of)
        try:
            return date(year, int(m.group("m")), int(m.group("d"))), False
        except ValueError as exc:
            raise ValueProblem("invalid-date", "（月或日不存在）") from exc
    m = _MD.match(text)
    if m:
        month, day = int(m.group("m")), int(m.group("d"))
        year = year_hint or infer_year(month, day, as_of)
        return _as_result(_from_match(m, year)), True
    raise ValueProblem("invalid-date")


# --- other types -------------------------------------------------------------------------------

_TRUE = frozenset(
    {"是", "√", "✓", "✔", "y", "yes", "true", "有", "对", "1", "紧急", "是的", "已解决", "解决"}
)
_FALSE = frozenset(
    {"否", "×", "✗", "✘", "x", "n", "no", "false", "无", "0", "不", "不是", "未解决", "一般", "非紧急"}
)


def parse_bool(value: object) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = clean_text(value).lower()
    if text in ("", "/", "-", "—"):
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
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
    return re.sub(r"[\s()（）]", "", text).replace("—", "-")


_DASHES = frozenset({"/", "\\", "-", "--", "—", "——", "－", "…"})


def parse_text(value: object) -> str | None:
    """Free text keeps words such as 无 (they mean something); bare dashes and slashes are blanks."""
    text = clean_text(value)
    return None if text in _DASHES else (text or None)


def parse_choice(value: object, synonyms: dict[str, str]) -> str | None:
    text = clean_text(value).replace(" ", "")
    if text.lower() in PLACEHOLDERS:
        return None
    return synonyms.get(text, text)

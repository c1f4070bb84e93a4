"""Report periods: the Friday-meeting week, the calendar month, the as-of time. Times are Asia/Shanghai."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from pipeline.config import Config
from pipeline.errors import ConfigError


@dataclass(frozen=True)
class Period:
    kind: str  # weekly | monthly
    label: str  # 2026-W43 | 2026-10
    start: datetime  # inclusive, naive local time
    end: datetime  # exclusive

    @property
    def folder(self) -> str:
        return f"{self.kind}/{self.label}"

    def contains(self, when: datetime) -> bool:
        return self.start <= when < self.end

    @property
    def text(self) -> str:
        """As people say it: '10月23日 16:30 – 10月30日 16:30（2026-W44）', '2026年10月'."""
        if self.kind == "monthly":
            return f"{self.start.year}年{self.start.month}月"
        s, e = self.start, self.end
        return f"{s.month}月{s.day}日 {s:%H:%M} – {e.month}月{e.day}日 {e:%H:%M}（{self.label}）"


def now_local(config: Config) -> datetime:
    return datetime.now(ZoneInfo(config.timezone)).replace(tzinfo=None, microsecond=0)


def parse_as_of(text: str | None, config: Config) -> datetime:
    """'2026-11-01 08:00', '2026-11-01T08:00' or '2026-11-01' (end of that day); default: now."""
    if not text:
        return now_local(config)
    text = text.strip().replace("/", "-")
    try:
        if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", text):
            return datetime.combine(date.fromisoformat(_pad(text)), datetime.max.time()).replace(
                microsecond=0
            )
        return datetime.fromisoformat(_pad(text)).replace(tzinfo=None)
    except ValueError as exc:
        raise ConfigError(f"--as-of “{text}” 不是有效时间，请写成 2026-11-01 08:00 的形式") from exc


def _pad(text: str) -> str:
    return re.sub(r"^(\d{4})-(\d{1,2})-(\d{1,2})", lambda m: f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}", text)


def meeting_at(config: Config, day: date) -> datetime:
    return datetime.combine(day, config.meeting_time)


_DAY = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")
_MONTH = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?")


def week(label: str, config: Config) -> Period:
    """'2026-W43' → the window that ends at that ISO week's meeting and starts at the one before;
    a date ('2026-10-30', '2026年10月30日': the meeting's Friday) → the meeting window it falls in."""
    text = unicodedata.normalize("NFKC", label).strip()
    day = _DAY.fullmatch(text)
    if day:
        try:
            when = datetime(int(day[1]), int(day[2]), int(day[3]))
        except ValueError as exc:
            raise ConfigError(f"--week “{label}” 不是有效日期") from exc
        return week_of(when, config)
    m = re.fullmatch(r"(\d{4})\s*-?\s*W(\d{1,2})", text, re.IGNORECASE)
    if not m:
        raise ConfigError(
            f"--week “{label}” 格式不对：可写 last（上周）、current（本周）、2026-W44 或例会日期 2026-10-30"
        )
    try:
        day = date.fromisocalendar(int(m[1]), int(m[2]), config.meeting_weekday + 1)
    except ValueError as exc:
        raise ConfigError(f"--week “{label}”：{m[1]} 年没有第 {int(m[2])} 周") from exc
    end = meeting_at(config, day)
    return Period("weekly", f"{m[1]}-W{int(m[2]):02d}", end - timedelta(days=7), end)


def week_of(when: datetime, config: Config) -> Period:
    """The meeting window that contains `when` (it ends at the first meeting after it)."""
    day = when.date()
    ahead = (config.meeting_weekday - day.weekday()) % 7
    end = meeting_at(config, day + timedelta(days=ahead))
    if end <= when:
        end += timedelta(days=7)
    iso = end.date().isocalendar()
    return Period("weekly", f"{iso.year}-W{iso.week:02d}", end - timedelta(days=7), end)


def month(label: str) -> Period:
    """'2026-10', '2026年10月', '2026/10', '2026.10' → that calendar month."""
    m = _MONTH.fullmatch(unicodedata.normalize("NFKC", label).strip())
    if not m or not 1 <= int(m[2]) <= 12:
        raise ConfigError(f"--month “{label}” 格式不对：可写 last（上个月）、2026-10 或 2026年10月")
    y, mo = int(m[1]), int(m[2])
    start = datetime(y, mo, 1)
    end = datetime(y + (mo == 12), mo % 12 + 1, 1)
    return Period("monthly", f"{y}-{mo:02d}", start, end)


def month_of(when: datetime) -> Period:
    return month(f"{when.year}-{when.month:02d}")


def previous(period: Period, config: Config, n: int = 1) -> Period:
    """The period n steps before this one."""
    if period.kind == "weekly":
        end = period.end - timedelta(days=7 * n)
        return week_of(end - timedelta(seconds=1), config)
    y, m = period.start.year, period.start.month - n
    while m < 1:
        y, m = y - 1, m + 12
    return month(f"{y}-{m:02d}")


def months_in(period: Period, as_of: datetime) -> list[str]:
    """The months ('2026-10') the period covers up to the as-of time: what a register must cover."""
    stop = min(period.end, as_of)
    if stop <= period.start:
        stop = period.start + timedelta(seconds=1)
    out, year, month = [], period.start.year, period.start.month
    while datetime(year, month, 1) < stop:
        out.append(f"{year}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out

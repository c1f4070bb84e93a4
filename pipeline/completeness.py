"""Who has not handed in what: each configured property is expected to hand in each of its
registers ([properties."X"] registers, default all five) for each month of the period.

A register is handed in for a month when a current file holds rows of that property and month, or
was handed in empty for it (its sheet, title or file name naming both). A missing register is
said in kpis.json, on the report's first page, in the email and in the exit code, and the
figures that depend on it are null (无数据) rather than 0."""

from __future__ import annotations

from datetime import datetime

from pipeline.config import Config
from pipeline.periods import Period, months_in
from pipeline.registers import REGISTERS


def missing_registers(
    handed_in: set[tuple[str, str, str]],
    config: Config,
    period: Period,
    as_of: datetime,
    property_name: str | None = None,
) -> list[dict]:
    """[{"property", "register", "months"}] for every expected register a property lacks in some
    month of the period (handed_in: Store.handed_in())."""
    months = months_in(period, as_of)
    out = []
    for name, prop in config.properties.items():
        if property_name and name != property_name:
            continue
        for register in prop.registers:
            lacking = [m for m in months if not covered(handed_in, register, (name, None), [m])]
            if lacking:
                out.append({"property": name, "register": register, "months": lacking})
    return out


def missing_text(item: dict) -> str:
    """'翠湖花园 未交 客户投诉处理登记表（2026-10）'."""
    return f"{item['property']} 未交 {REGISTERS[item['register']].title}（{'、'.join(item['months'])}）"


def covered(handed_in: set[tuple[str, str, str]], register: str, properties, months: list[str]) -> bool:
    """Whether any of the properties handed in the register for any of the months."""
    return any((register, p, m) in handed_in for p in properties for m in months)

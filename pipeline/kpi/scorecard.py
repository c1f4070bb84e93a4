"""Optional staff scorecard (seed 003 第三则 奖惩), switched on by [scorecard] enabled = true.

From the registers, per staff member and month: complaints handled (受理人), callbacks made (回访人),
repairs completed (维修人), and the on-time share (replies on or before the promised date).
The month's top performer has the highest volume, ties going to the better on-time share; the
特别奖 is 50 / 100 / 200 yuan for 1 / 2 / 3+ consecutive months on top (amounts in config).
The 业绩奖 commission (1% of sales below a 70% inquiry conversion rate, 1.5% at or above) needs
sales and conversion figures no register holds: it is computed only for the staff whose figures
are given under [scorecard.sales."姓名"] amount = …, conversion = ….
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from pipeline.config import Config
from pipeline.errors import ConfigError
from pipeline.kpi.core import Data, within
from pipeline.periods import Period, previous

STREAK_MONTHS = 12


def settings(config: Config) -> dict | None:
    raw = config.raw.get("scorecard") or {}
    if not raw.get("enabled"):
        return None
    awards = raw.get("top_awards", [50, 100, 200])
    rates = raw.get("commission_rates", [0.01, 0.015])
    threshold = raw.get("commission_threshold", 0.7)
    if not (
        isinstance(awards, list) and len(awards) == 3 and all(isinstance(a, int | float) for a in awards)
    ):
        raise ConfigError(
            "配置文件 [scorecard] top_awards 应为三个金额，例如 [50, 100, 200]（连续 1 / 2 / 3 个月及以上）"
        )
    if not (isinstance(rates, list) and len(rates) == 2) or not 0 < threshold < 1:
        raise ConfigError(
            "配置文件 [scorecard] commission_rates 应为两个比例，例如 [0.01, 0.015]；commission_threshold 在 0 与 1 之间"
        )
    return {"awards": awards, "rates": rates, "threshold": threshold, "sales": raw.get("sales", {})}


def month_scores(data: Data, start: datetime, stop: datetime) -> dict[str, dict]:
    """Per staff member over [start, stop): complaints handled, replies promised and kept, callbacks
    made, repairs completed, their volume and on-time share."""
    c, cb, r = data["complaints"], data["callbacks"], data["repairs"]
    received = c.loc[within(c, "received", start, stop)]
    replied = c.loc[within(c, "replied", start, stop) & c["promised"].notna().to_numpy()]
    kept = replied["replied"].dt.normalize() <= replied["promised"].dt.normalize()
    counted = {
        "complaints": received["handler"].value_counts(),
        "promised": replied["handler"].value_counts(),
        "kept": kept.groupby(replied["handler"]).sum(),
        "callbacks": cb.loc[within(cb, "date", start, stop), "staff"].value_counts(),
        "repairs": r.loc[within(r, "completed", start, stop), "worker"].value_counts(),
    }
    people: dict[str, dict] = defaultdict(
        lambda: {"complaints": 0, "callbacks": 0, "repairs": 0, "promised": 0, "kept": 0}
    )
    for key, series in counted.items():
        for name, n in series.items():
            if name and (key != "kept" or name in people):
                people[name][key] = int(n)
    for p in people.values():
        p["volume"] = p["complaints"] + p["callbacks"] + p["repairs"]
        p["on_time_share"] = p["kept"] / p["promised"] if p["promised"] else None
    return dict(people)


def _top(scores: dict[str, dict]) -> str | None:
    if not scores:
        return None
    return max(scores, key=lambda n: (scores[n]["volume"], scores[n]["on_time_share"] or 0, n))


def scorecard(data: Data, period: Period, as_of: datetime, config: Config) -> list[dict] | None:
    """Rows for the month's scorecard, best first; None when the scorecard is off."""
    s = settings(config)
    if s is None or period.kind != "monthly":
        return None
    scores = month_scores(data, period.start, min(period.end, as_of))
    top = _top(scores)
    streak = 0
    p = period
    while streak < STREAK_MONTHS and _top(month_scores(data, p.start, min(p.end, as_of))) == top and top:
        streak += 1
        p = previous(p, config)
    rows = []
    for name, sc in sorted(scores.items(), key=lambda kv: (-kv[1]["volume"], kv[0])):
        award = s["awards"][min(streak, 3) - 1] if name == top and streak else 0
        sales = s["sales"].get(name) or {}
        commission = None
        if "amount" in sales and "conversion" in sales:
            rate = s["rates"][1] if sales["conversion"] >= s["threshold"] else s["rates"][0]
            commission = round(sales["amount"] * rate, 2)
        rows.append(
            {
                "name": name,
                **{k: sc[k] for k in ("complaints", "callbacks", "repairs", "volume", "on_time_share")},
                "top": name == top,
                "streak": streak if name == top else 0,
                "award": award,
                "commission": commission,
            }
        )
    return rows

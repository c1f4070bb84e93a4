"""Small SVG charts drawn from the data (no screenshots): trend lines with a target line, Pareto bars.

The SVG is inlined in the report HTML; WeasyPrint renders it as vectors. Text uses the same CJK
font as the page. Values of None leave a gap in a line, never a zero.
"""

from __future__ import annotations

import math
from html import escape

FONT = "Noto Sans CJK SC, sans-serif"
COLORS = ("#1f6fb2", "#e07b00", "#2a9d4b", "#8e44ad", "#c0392b", "#7f8c8d", "#17becf", "#b8860b")


def _frame(width: int, height: int, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'font-family="{FONT}" font-size="9" role="img" aria-label="{escape(title)}">'
        f'<text x="4" y="11" font-size="10" font-weight="bold">{escape(title)}</text>{"".join(body)}</svg>'
    )


NICE_STEPS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


def nice_axis(lo: float, hi: float, ticks: int = 5) -> tuple[float, float, float]:
    """(low, high, step) with round ticks covering [lo, hi]: 0/25/50/75/100%, 75/80/…/100%,
    0/0.5/1.0/1.5% — never 75/81/88/94%."""
    span = max(hi - lo, 1e-9)
    step = next((st for st in NICE_STEPS if span / st <= ticks), NICE_STEPS[-1])
    low = math.floor(lo / step + 1e-9) * step
    high = math.ceil(hi / step - 1e-9) * step
    if high - low < step:
        high = low + step
    return round(low, 6), round(high, 6), step


def period_label(label: str, first: bool) -> str:
    """'2026-W44' → 'W44'; '2026-10' → '10月' ('2026年1月' for a January or the first label)."""
    year, _, rest = label.partition("-")
    if rest.startswith("W"):
        return rest if not first else f"{year[2:]}-{rest}"
    if rest.isdigit():
        month = int(rest)
        return f"{year}年{month}月" if first or month == 1 else f"{month}月"
    return label


def _percent(v: float, step: float) -> str:
    """A tick in percent with the decimals its step needs (0.5 → one, 0.25 → two)."""
    digits = next(d for d in range(4) if abs(round(step * 100, d) - step * 100) < 1e-9 or d == 3)
    return f"{v * 100:.{digits}f}%"


def line_chart(
    title: str,
    labels: list[str],
    series: dict[str, list[float | None]],
    target: float | None = None,
    percent: bool = True,
    width: int = 500,
    height: int = 170,
    target_label: str = "目标",
) -> str:
    """A trend: round ticks, whole period labels, gaps where a period has no data, every series
    named in a legend that wraps, the target line labelled in the right margin, off the data."""
    left, right, top = 42, 62, 22
    legend_rows = _legend_rows(list(series), width - left - 8)
    bottom = 24 + 13 * len(legend_rows)
    values = [v for vs in series.values() for v in vs if v is not None] + (
        [target] if target is not None else []
    )
    data_lo, data_hi = min(values, default=0.0), max(values, default=1.0)
    if percent and data_hi <= 1.0 and data_lo >= 0:
        # a rate near the top is read against the top: start the axis near the data, not at 0
        lo, hi, step = nice_axis(data_lo if data_lo > 0.5 else 0.0, max(data_hi, 0.0001))
    else:
        lo, hi, step = nice_axis(min(data_lo, 0.0), data_hi or 1.0)
    span = (hi - lo) or 1.0
    w, h = width - left - right, height - top - bottom
    n = max(len(labels), 1)

    def x(i: int) -> float:
        return left + (w * i / (n - 1) if n > 1 else w / 2)

    def y(v: float) -> float:
        return top + h - (v - lo) / span * h

    body = [f'<line x1="{left}" y1="{top + h}" x2="{left + w}" y2="{top + h}" stroke="#888"/>']
    k = 0
    while lo + k * step <= hi + 1e-9:
        v = lo + k * step
        text = _percent(v, step) if percent else f"{v:g}"
        body.append(
            f'<line x1="{left}" y1="{y(v):.1f}" x2="{left + w}" y2="{y(v):.1f}" stroke="#eee"/>'
            f'<text x="{left - 4}" y="{y(v) + 3:.1f}" text-anchor="end" fill="#555">{text}</text>'
        )
        k += 1
    shown = [period_label(lab, i == 0) for i, lab in enumerate(labels)]
    room = w / n
    step_x = max(1, int(max((len(t) * 6 for t in shown), default=1) / max(room, 1)) + 1)
    for i, text in enumerate(shown):
        if i % step_x == 0 or i == n - 1:
            body.append(
                f'<text x="{x(i):.1f}" y="{top + h + 12}" text-anchor="middle" fill="#555">{escape(text)}</text>'
            )
    if target is not None:
        body.append(
            f'<line x1="{left}" y1="{y(target):.1f}" x2="{left + w}" y2="{y(target):.1f}" stroke="#c0392b" '
            f'stroke-dasharray="4 3"/><text x="{left + w + 4}" y="{y(target) + 3:.1f}" '
            f'fill="#c0392b">{escape(target_label)}</text>'
        )
    for si, vs in enumerate(series.values()):
        color = COLORS[si % len(COLORS)]
        path, pen = [], "M"
        for i, v in enumerate(vs):
            if v is None:
                pen = "M"
                continue
            path.append(f"{pen}{x(i):.1f},{y(v):.1f}")
            pen = "L"
            body.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2" fill="{color}"/>')
        if path:
            body.append(f'<path d="{" ".join(path)}" fill="none" stroke="{color}" stroke-width="1.6"/>')
    for row, names in enumerate(legend_rows):
        lx, ly = left + 8, top + h + 26 + 13 * row
        for name in names:
            si = list(series).index(name)
            color = COLORS[si % len(COLORS)]
            body.append(
                f'<rect x="{lx}" y="{ly - 4}" width="10" height="3" fill="{color}"/>'
                f'<text x="{lx + 14}" y="{ly}">{escape(name)}</text>'
            )
            lx += _legend_width(name)
    return _frame(width, height + 13 * max(0, len(legend_rows) - 1), body, title)


def _legend_width(name: str) -> int:
    return 24 + sum(9 if ord(ch) >= 0x2E80 else 5 for ch in name)


def _legend_rows(names: list[str], room: int) -> list[list[str]]:
    """Every series' name, on as many rows as they need."""
    rows: list[list[str]] = [[]]
    used = 0
    for name in names:
        if rows[-1] and used + _legend_width(name) > room:
            rows.append([])
            used = 0
        rows[-1].append(name)
        used += _legend_width(name)
    return rows


def pareto_chart(
    title: str, categories: list[str], counts: list[int], width: int = 500, height: int = 180
) -> str:
    left, right, top, bottom = 30, 36, 22, 34
    w, h = width - left - right, height - top - bottom
    total = sum(counts) or 1
    hi = max(counts, default=1) or 1
    n = max(len(categories), 1)
    bw = w / n
    body = [f'<line x1="{left}" y1="{top + h}" x2="{left + w}" y2="{top + h}" stroke="#888"/>']
    running, points = 0, []
    for i, (cat, c) in enumerate(zip(categories, counts, strict=True)):
        bh = h * c / hi
        bx = left + i * bw + bw * 0.15
        body.append(
            f'<rect x="{bx:.1f}" y="{top + h - bh:.1f}" width="{bw * 0.7:.1f}" height="{bh:.1f}" fill="#1f6fb2"/>'
            f'<text x="{bx + bw * 0.35:.1f}" y="{top + h - bh - 2:.1f}" text-anchor="middle">{c}</text>'
            f'<text x="{bx + bw * 0.35:.1f}" y="{top + h + 12}" text-anchor="middle">{escape(cat)}</text>'
        )
        running += c
        points.append((left + i * bw + bw / 2, top + h - h * running / total))
    if points:
        d = " ".join(f"{'M' if i == 0 else 'L'}{px:.1f},{py:.1f}" for i, (px, py) in enumerate(points))
        body.append(f'<path d="{d}" fill="none" stroke="#e07b00" stroke-width="1.6"/>')
        for px, py in points:
            body.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2" fill="#e07b00"/>')
        for k in (0, 50, 80, 100):
            yy = top + h - h * k / 100
            body.append(f'<text x="{left + w + 4}" y="{yy + 3:.1f}" fill="#e07b00">{k}%</text>')
    body.append(f'<text x="{left}" y="{height - 4}" fill="#555">柱：件数　折线：累计占比</text>')
    return _frame(width, height, body, title)


def histogram(
    title: str,
    values: list[int],
    bins: list[tuple[int, int]],
    limit: int | None = None,
    width: int = 500,
    height: int = 150,
) -> str:
    labels = [f"{a}–{b}天" if b < 10_000 else f"{a}天以上" for a, b in bins]
    counts = [sum(1 for v in values if a <= v <= b) for a, b in bins]
    svg = pareto_chart(title, labels, counts, width, height)
    return svg.replace(
        "柱：件数　折线：累计占比", f"受理至书面通知的天数{f'（期限 {limit} 天）' if limit else ''}"
    )

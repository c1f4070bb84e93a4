"""Small SVG charts drawn from the data (no screenshots): trend lines with a target line, Pareto bars.

The SVG is inlined in the report HTML; WeasyPrint renders it as vectors. Text uses the same CJK
font as the page. Values of None leave a gap in a line, never a zero.
"""

from __future__ import annotations

from html import escape

FONT = "Noto Sans CJK SC, sans-serif"
COLORS = ("#1f6fb2", "#e07b00", "#2a9d4b", "#8e44ad", "#c0392b", "#7f8c8d")


def _frame(width: int, height: int, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'font-family="{FONT}" font-size="9" role="img" aria-label="{escape(title)}">'
        f'<text x="4" y="11" font-size="10" font-weight="bold">{escape(title)}</text>{"".join(body)}</svg>'
    )


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
    left, right, top, bottom = 42, 10, 22, 30
    values = [v for vs in series.values() for v in vs if v is not None] + (
        [target] if target is not None else []
    )
    hi = max(values, default=1.0) or 1.0
    lo = min(min(values, default=0.0), 0.0)
    if percent and hi <= 1.0 and lo >= 0:
        lo = max(0.0, min(values, default=0) - 0.1) if min(values, default=0) > 0.5 else 0.0
        hi = 1.0 if hi > 0.5 else hi * 1.15
    span = (hi - lo) or 1.0
    w, h = width - left - right, height - top - bottom
    n = max(len(labels), 1)

    def x(i: int) -> float:
        return left + (w * i / (n - 1) if n > 1 else w / 2)

    def y(v: float) -> float:
        return top + h - (v - lo) / span * h

    body = [f'<line x1="{left}" y1="{top + h}" x2="{left + w}" y2="{top + h}" stroke="#888"/>']
    for k in range(5):
        v = lo + span * k / 4
        text = f"{v * 100:.{2 if hi < 0.05 else 0}f}%" if percent else f"{v:.0f}"
        body.append(
            f'<line x1="{left}" y1="{y(v):.1f}" x2="{left + w}" y2="{y(v):.1f}" stroke="#eee"/>'
            f'<text x="{left - 4}" y="{y(v) + 3:.1f}" text-anchor="end" fill="#555">{text}</text>'
        )
    step = max(1, n // 12)
    for i, lab in enumerate(labels):
        if i % step == 0 or i == n - 1:
            body.append(
                f'<text x="{x(i):.1f}" y="{top + h + 12}" text-anchor="middle" fill="#555">{escape(lab[-5:])}</text>'
            )
    if target is not None:
        body.append(
            f'<line x1="{left}" y1="{y(target):.1f}" x2="{left + w}" y2="{y(target):.1f}" stroke="#c0392b" '
            f'stroke-dasharray="4 3"/><text x="{left + w}" y="{y(target) - 3:.1f}" text-anchor="end" '
            f'fill="#c0392b">{escape(target_label)}</text>'
        )
    for si, (name, vs) in enumerate(series.items()):
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
        lx = left + 8 + si * 110
        body.append(
            f'<rect x="{lx}" y="{height - 10}" width="10" height="3" fill="{color}"/>'
            f'<text x="{lx + 14}" y="{height - 6}">{escape(name)}</text>'
        )
    return _frame(width, height, body, title)


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

"""Report model → HTML (Jinja2, autoescaped) → PDF (WeasyPrint), written atomically.

WeasyPrint may only load the project's own template assets: register text such as
<img src="file:///etc/passwd"> is escaped, and the URL fetcher refuses everything else anyway.
"""

from __future__ import annotations

import gc
import importlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import jinja2

from pipeline.errors import RenderError
from pipeline.infra.atomic import atomic_path
from pipeline.render import charts
from pipeline.render.model import ELSEWHERE, GROUP_ROWS, Rate, Report, Table, pct, shortfall, text_width

TEMPLATES = Path(__file__).parent / "templates"
_env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=False)
_importing: list[threading.Thread] = []  # preload()'s thread


def preload() -> None:
    """Import WeasyPrint (0.5 s, a second under load) in a thread while the run validates its
    records and computes the KPIs, instead of when the PDF is due. Call it when the run will fork
    no worker before imported() (render_reports calls that first): a process forked mid-import
    would inherit module locks that no thread of it releases."""
    if not _importing:
        thread = threading.Thread(target=_import, name="import-weasyprint", daemon=True)
        _importing.append(thread)
        thread.start()


def _import() -> None:
    try:
        importlib.import_module("weasyprint")
    except Exception:  # noqa: BLE001 - write_pdf's own import says what is missing
        pass


def imported() -> None:
    """Wait for preload()'s import, if one was started."""
    for thread in _importing:
        thread.join()


def _charts(r: Report) -> dict[str, str]:
    out = {
        "pareto": charts.pareto_chart(
            "投诉类别（帕累托）", [p["category"] for p in r.pareto], [p["count"] for p in r.pareto]
        )
    }
    for kind in ("weekly", "monthly"):
        rows = r.trend.get(kind, [])
        labels = [row["period"] for row in rows]
        series = {
            "回访率": [row["callback_rate"] for row in rows],
            "回复率": [row["reply_rate"] for row in rows],
            "满意率": [row["satisfaction_rate"] for row in rows],
        }
        title = "近 12 周趋势" if kind == "weekly" else "近 12 个月趋势"
        out[f"trend_{kind}"] = charts.line_chart(title, labels, series, target=1.0, target_label="目标 100%")
    rows = r.trend.get("monthly", [])
    out["effective"] = charts.line_chart(
        "有效投诉率：各月与年累计（目标：全年 < 1%）",
        [row["period"] for row in rows],
        {
            "当月": [row["effective_complaint_rate"] for row in rows],
            "年累计": [row["effective_complaint_rate_ytd"] for row in rows],
        },
        target=0.01,
        target_label="1%",
    )
    by_property = r.trend.get("monthly_by_property") or {}
    if by_property:
        watch = sorted(
            by_property, key=lambda n: (by_property[n][-1]["callback_rate"] if by_property[n] else 1) or 1
        )[:8]
        labels = [row["period"] for row in next(iter(by_property.values()))]
        title = "各项目回访率（近 12 个月）" + (
            "" if len(by_property) <= 8 else "：本月回访率最低的 8 个项目"
        )
        out["property_callback"] = charts.line_chart(
            title,
            labels,
            {n: [row["callback_rate"] for row in by_property[n]] for n in watch},
            target=1.0,
            target_label="目标 100%",
        )
        out["property_effective"] = charts.line_chart(
            "各项目有效投诉率年累计（近 12 个月，目标全年 < 1%）",
            labels,
            {n: [row["effective_complaint_rate_ytd"] for row in by_property[n]] for n in watch},
            target=0.01,
            target_label="1%",
        )
    values = r.turnaround.get("values") or []
    out["turnaround"] = charts.histogram(
        "复检周期分布", values, [(0, 3), (4, 7), (8, 11), (12, 15), (16, 10_000)], 15
    )
    return out


PDF_ROWS = 25  # the PDF is read in the meeting; the Excel report has every row


def cap(table: Table, n: int = PDF_ROWS, group: bool = False) -> Table:
    """The first n rows, and a note saying where the rest is (the Excel report, or in a group's
    roll-up past excel.GROUP_ROWS, each property's own report)."""
    if table.count <= n:
        return table
    where = ELSEWHERE if group and table.count > GROUP_ROWS else "完整清单见 Excel 报告"
    note = f"共 {table.count} 项，此处列出前 {n} 项，{where}。" + (table.note or "")
    return replace(table, rows=table.rows[:n], note=note)


PDF_PROPERTIES = 30  # a group's properties in a PDF table, the worst first; report.xlsx has them all


def worst(table: Table, sheet: str, total: bool = False, n: int = PDF_PROPERTIES) -> Table:
    """A group's table of properties cut to the n that fall furthest short of their targets
    (model.shortfall; ties in the table's order), and its total row (the last) when `total`, saying
    where every property is. The meeting reads the properties that need it, not ten pages of 300
    (at about 1 ms a cell, such a table was half the time of a group's weekly PDF)."""
    rows = table.rows[:-1] if total else table.rows
    if len(rows) <= n:
        return table
    kept = sorted(rows, key=shortfall)[:n]
    note = f"共 {len(rows)} 个项目，此处列出未达标最多的前 {n} 个；全部项目见 Excel 报告“{sheet}”工作表。"
    return replace(table, rows=kept + table.rows[-1:] if total else kept, note=note + (table.note or ""))


def widths(table: Table, small: bool = False, wrap_at: int = 36) -> list[float]:
    """Column widths in percent from the texts they hold, so tables can use the fixed layout.

    WeasyPrint's automatic table layout measures every cell's minimum and maximum width first,
    which is most of a long report's layout time; the fixed layout does not, and these widths
    give it the same shape: short columns (codes, dates, counts) get what they need and do not
    wrap, long texts share the rest and wrap.
    """
    room = 118 if small else 98  # half-width characters across an A4 portrait page at 7.5 / 9 pt
    needs, weights = [], []
    for i, head in enumerate(table.columns):
        longest = max((text_width(row[i]) for row in table.rows if i < len(row)), default=0)
        needs.append(max(min(text_width(head), 8), longest, 2) + 3)  # + 3: the cell's padding
        grown = min(longest, wrap_at) + max(0, min(longest, 6 * wrap_at) - wrap_at) / 4  # long texts: wider
        weights.append(max(min(text_width(head), 8), grown, 2) + 3)
    short = [n <= wrap_at * 0.75 for n in needs]
    fixed = sum(n for n, s in zip(needs, short, strict=True) if s)
    if not (any(short) and not all(short) and fixed <= 0.6 * room):
        short = [n <= 16 for n in needs]  # many middling texts: at least codes and dates keep their width
        fixed = sum(n for n, s in zip(needs, short, strict=True) if s)
    if any(short) and not all(short) and fixed <= 0.6 * room:
        rest = sum(w for w, s in zip(weights, short, strict=True) if not s)
        share = 100 - 100 * fixed / room
        out = [
            100 * n / room if s else share * w / rest for n, w, s in zip(needs, weights, short, strict=True)
        ]
    else:
        total = sum(weights) or 1
        out = [100 * w / total for w in weights]
    return [round(w, 2) for w in out]


def numeric_columns(table: Table) -> tuple[int, ...]:
    """The columns whose cells are all numbers or KPI figures (or empty): right-aligned."""

    def numeric(v) -> bool:
        return v is None or v == "" or (isinstance(v, int | float | Rate) and not isinstance(v, bool))

    return tuple(
        j
        for j in range(len(table.columns))
        if table.rows
        and all(numeric(row[j]) for row in table.rows if j < len(row))
        and any(row[j] not in (None, "") for row in table.rows if j < len(row))
    )


def render_html(report: Report, scope_name: str = "全部项目") -> str:
    return _env.get_template("report.html.j2").render(
        r=report,
        charts=_charts(report),
        pct=pct,
        scope_name=scope_name,
        cap=lambda table, n=PDF_ROWS: cap(table, n, report.group),
        worst=worst,
        widths=widths,
        numeric_columns=numeric_columns,
    )


def _own_assets_fetcher():
    """A WeasyPrint URL fetcher that serves only the stylesheet beside the template: no other file, no network."""
    from urllib.parse import unquote, urlparse

    from weasyprint.urls import URLFetcher

    class OwnAssetsOnly(URLFetcher):
        def fetch(self, url, headers=None):
            if url.startswith("file:"):
                path = Path(unquote(urlparse(url).path)).resolve()
                if path.parent == TEMPLATES.resolve() and path.suffix == ".css":
                    return super().fetch(url, headers)
            raise ValueError(f"blocked: {url[:80]}")

    return OwnAssetsOnly(allowed_protocols=("file",))


def write_pdf(report: Report, path: Path, scope_name: str = "全部项目") -> Path:
    import weasyprint

    html = render_html(report, scope_name)
    try:
        with atomic_path(path) as tmp:
            doc = weasyprint.HTML(
                string=html, base_url=str(TEMPLATES) + "/", url_fetcher=_own_assets_fetcher()
            )
            with _layout_kept():
                doc.write_pdf(tmp)
    except OSError as exc:
        raise RenderError(f"无法写入 PDF 报告 {path}：{exc}") from exc
    return path


@contextmanager
def _layout_kept() -> Iterator[None]:
    """WeasyPrint keeps every box of the layout alive until the PDF is written: a group's 20 pages
    are 500,000 objects that CPython's generational collector scans about a hundred times over
    without finding them free (1.3–1.9 s of a 5.6–6.2 s render, measured). It is paused while they
    are built and resumes after; the few cycles the layout leaves are freed by its next pass."""
    if not gc.isenabled():  # already paused by the caller: leave it as it was
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()

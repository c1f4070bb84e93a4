"""Issue 20: charts a meeting can read — round ticks, whole period labels, gaps where a period has
no data, every series named, the target labelled off the data."""

import re

import pytest

from pipeline.render.charts import line_chart, nice_axis, period_label


@pytest.mark.parametrize(
    ("lo", "hi", "ticks"),
    [
        (0.0, 1.0, ["0", "25", "50", "75", "100"]),
        (0.75, 1.0, ["75", "80", "85", "90", "95", "100"]),
        (0.0, 0.015, ["0.0", "0.5", "1.0", "1.5"]),
        (0.81, 0.94, ["80", "85", "90", "95"]),
    ],
)
def test_ticks_are_round(lo, hi, ticks):
    low, high, step = nice_axis(lo, hi)
    assert low <= lo and high >= hi
    svg = line_chart("t", ["2026-09", "2026-10"], {"回访率": [lo, hi]}, percent=True)
    shown = re.findall(r'text-anchor="end" fill="#555">([\d.]+)%<', svg)
    if lo > 0.5:  # a rate near the top: the axis starts near the data
        assert shown == ticks
    assert not any(t in svg for t in ("81%", "88%", "94%"))


def test_labels_are_whole_and_periods_without_data_are_gaps():
    labels = [f"2026-W{w}" for w in range(33, 45)]
    svg = line_chart("近 12 周趋势", labels, {"回访率": [None] * 6 + [0.9, 0.95, None, 0.97, 1.0, 0.99]})
    assert ">W44<" in svg and "6-W4" not in svg
    assert svg.count("M") >= 2  # the line breaks at the missing week: two pieces, no drop to 0
    assert ">0%<" not in svg and ">0.0%<" not in svg  # no point drawn at zero for the empty weeks
    months = [f"2025-{m:02d}" for m in (11, 12)] + [f"2026-{m:02d}" for m in range(1, 11)]
    svg = line_chart("近 12 个月", months, {"回访率": [0.9] * 12})
    assert ">2025年11月<" in svg and ">2026年1月<" in svg
    assert [period_label(x, i == 0) for i, x in enumerate(months[:3])] == ["2025年11月", "12月", "2026年1月"]


def test_every_series_is_named_and_the_target_label_sits_off_the_data():
    names = ["翠湖花园", "金桂苑", "滨江壹号", "碧水东区", "碧水西区", "南亚广场", "东南亚花园", "翠湖二期"]
    svg = line_chart(
        "各项目回访率",
        ["2026-09", "2026-10"],
        {n: [0.9, 0.95] for n in names},
        target=1.0,
        target_label="目标 100%",
    )
    for name in names:
        assert f">{name}<" in svg
    plot_right = 500 - 62
    (x,) = re.findall(r'<text x="([\d.]+)" y="[\d.]+" fill="#c0392b">目标 100%</text>', svg)
    assert float(x) > plot_right

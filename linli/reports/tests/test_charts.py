"""The SVG charts (linli/reports/charts.py): tick arithmetic, empty data, gaps, escaping, all-zero series."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from django.utils.translation import override

from linli.reports import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # our own output: it must be well-formed XML
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("width") == "100%"
    assert re.fullmatch(r"0 0 \d+ \d+", root.get("viewBox") or "")
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == root.get("aria-label")
    return root


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


@pytest.mark.parametrize(
    ("top", "integer", "expected"),
    [
        (7, True, [0, 2, 4, 6, 8]),
        (300, True, [0, 100, 200, 300]),
        (33, True, [0, 10, 20, 30, 40]),
        (1, True, [0, 1]),
        (3, True, [0, 1, 2, 3]),  # never a step of 0.75 people
        (10, True, [0, 5, 10]),  # 2.5 is not a step for whole numbers
        (100, False, [0, 25, 50, 75, 100]),
        (0.8, False, [0, 0.2, 0.4, 0.6, 0.8]),
        (1234, True, [0, 500, 1000, 1500]),
        (0, True, [0, 1]),
        (None, True, [0, 1]),
    ],
)
def test_nice_ticks(top: float | None, integer: bool, expected: list[float]) -> None:
    assert charts.nice_ticks(top, integer=integer) == expected


def test_nice_steps_are_round() -> None:
    for top in [1, 2, 9, 11, 47, 99, 101, 555, 999, 1001, 28_000, 3_333_333]:
        step = charts.nice_step(top, integer=True)
        mantissa = step / 10 ** int(f"{step:e}".split("e")[1])
        assert mantissa in {1, 2, 2.5, 5}, (top, step)
        ticks = charts.nice_ticks(top)
        assert ticks[0] == 0 and ticks[-1] >= top and len(ticks) <= 6, (top, ticks)


def test_thin_keeps_the_last_label() -> None:
    assert charts.thin(5, 10) == [True] * 5
    keep = charts.thin(36, 6)
    assert keep[-1] and sum(keep) <= 6


def test_month_labels_translated() -> None:
    with override("en"):
        assert charts.month_label("2026-10") == "Oct"
        assert charts.month_label("2026-10", with_year=True) == "Oct 2026"
        assert charts.month_label("not a month") == "not a month"


def test_empty_data_says_so() -> None:
    for svg in (
        charts.line_chart([], {}, title="Volunteers"),
        charts.bar_chart([], {"a": []}, title="Volunteers"),
        charts.stacked_bar(["2026-10"], {}, title="Volunteers"),
        charts.hbar([], title="Volunteers"),
    ):
        root = parse(svg)
        assert root.get("aria-label") == "Volunteers"
        assert len(texts(root)) == 1


def test_none_leaves_a_gap() -> None:
    months = ["2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
    root = parse(charts.line_chart(months, {"rate": [50, 60, None, 80, 90]}, title="t", unit="%", y_max=100))
    lines = list(root.iter(f"{SVG}polyline"))
    assert len(lines) == 2  # two runs, not one line across the missing month
    assert all(len((line.get("points") or "").split()) == 2 for line in lines)
    assert "90%" in texts(root)  # the last value written at the end of its line
    assert {"0%", "50%", "100%"} <= set(texts(root))  # the fixed 0-100 % axis


def test_a_lone_point_is_still_drawn() -> None:
    root = parse(charts.line_chart(["2026-09", "2026-10", "2026-11"], {"x": [None, 4, None]}, title="t"))
    assert not list(root.iter(f"{SVG}polyline"))
    assert len(list(root.iter(f"{SVG}circle"))) == 2  # the legend's marker and the point


def test_names_are_escaped() -> None:
    evil = '<script>alert("x")</script>'
    for svg in (
        charts.line_chart(["2026-10"], {evil: [1]}, title=evil),
        charts.bar_chart(["2026-10"], {evil: [1]}, title=evil),
        charts.stacked_bar([evil], {evil: [1]}, title=evil, months=False),
        charts.hbar([(evil, 3)], title=evil),
    ):
        assert "<script>" not in svg
        root = parse(svg)
        assert root.get("aria-label") == evil  # escaped in the markup, intact for the reader
        assert evil in texts(root)


def test_all_zero_series_draw_an_axis() -> None:
    root = parse(charts.bar_chart(["2026-09", "2026-10"], {"earned": [0, 0], "spent": [0, 0]}, title="t"))
    assert {"0", "1"} <= set(texts(root))
    assert all(float(r.get("height") or 0) == 0 for r in root.iter(f"{SVG}rect") if r.get("width") != "16")
    root = parse(charts.hbar([("A", 0), ("B", 0)], title="t"))
    assert texts(root).count("0") == 2


def test_bars_label_their_values_and_legend_in_words() -> None:
    root = parse(charts.bar_chart(["2026-09", "2026-10"], {"issued": [20, 28], "redeemed": [0, 15]}, title="t"))
    words = texts(root)
    assert {"issued", "redeemed", "20", "28", "15"} <= set(words)


def test_stacked_bars_use_the_three_colours_and_total() -> None:
    svg = charts.stacked_bar(
        ["2026-10"],
        {"blue": [1], "yellow": [2], "red": [0], "not graded": [1]},
        title="t",
        colours={"blue": charts.BLUE, "yellow": charts.YELLOW, "red": charts.RED, "not graded": charts.GREY},
    )
    root = parse(svg)
    fills = [r.get("fill") for r in root.iter(f"{SVG}rect")]
    assert fills.count(charts.BLUE) == 2 and fills.count(charts.YELLOW) == 2 and fills.count(charts.GREY) == 2
    assert fills.count(charts.RED) == 1  # in the legend only: a zero draws no block
    assert "4" in texts(root)  # the total on top


def test_hbar_order_and_missing_value() -> None:
    root = parse(charts.hbar([("A", 30), ("B", 10), ("C", None)], title="ranked"))
    words = texts(root)
    assert words.index("A") < words.index("B") < words.index("C")
    assert "—" in words
    widths = [float(r.get("width") or 0) for r in root.iter(f"{SVG}rect")]
    assert len(widths) == 2 and widths[0] > widths[1] > 0


def test_text_is_big_enough_on_a_phone() -> None:
    """At 375 px the chart's box is about 325 px wide: every text must be drawn at >= 13.5 px, values at >= 14 px."""
    root = parse(charts.bar_chart(["2026-10"], {"a": [3]}, title="t"))
    width = int((root.get("viewBox") or "").split()[2])
    sizes = [float(t.get("font-size") or 0) * 325 / width for t in root.iter(f"{SVG}text")]
    assert min(sizes) >= 13.5
    assert charts.FONT * 325 / charts.WIDTH >= 14

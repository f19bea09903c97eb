"""Charts drawn on the server as SVG: no JavaScript, no charting library (decision 0015).

They print, work on old phones and without JavaScript, and screen readers announce them: each <svg> has role="img",
a <title> and an aria-label, and the page follows it with the same numbers as a table. A viewBox lets the chart scale
to the width of its box; text is sized in viewBox units so that a 400-unit-wide chart on a 375 px phone (about 340 px
of box) still draws its labels at 14 px or more. Colour never carries meaning alone: every chart has a legend in
words, lines also differ by marker shape and dash. Every label is escaped here (names come from staff input).

Pure functions: numbers and labels in, a SafeString out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

Number = int | float

WIDTH = 400  # viewBox width: a 375 px phone leaves the chart ~325 px, a unit is ~0.81 px
FONT = 18  # -> 14.6 px in the ~325 px a phone leaves the chart
SMALL = 17
INK = "#1a1a1a"
GRID_LINE = "#d0d0d0"
AXIS = "#555555"

# The three colours of a work order (SEEDS 002), and grey for one not graded yet.
BLUE, YELLOW, RED, GREY = "#1e66d0", "#d4a106", "#c62828", "#8a8a8a"
SEVERITY_COLOURS = {"blue": BLUE, "yellow": YELLOW, "red": RED, "": GREY}
# Series colours, dark enough on white (contrast >= 4.5:1 except the yellow, used only as a fill with a legend).
PALETTE = ("#1e66d0", "#c62828", "#2e7d32", "#6a1b9a", "#b45309", "#00838f", "#4e342e", "#ad1457", "#37474f")
DASHES = ("", "6 4", "2 4", "10 4 2 4")
MARKERS = ("circle", "square", "diamond", "triangle")


# --- numbers --------------------------------------------------------------------------------------------------------


def nice_step(span: float, count: int = 4, *, integer: bool = False) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) that cuts `span` into about `count` parts. Integer data
    never gets a step below 1 (no "0.5 people") nor 2.5."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / max(count, 1)
    if integer and raw <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    factors = (1, 2, 5, 10) if integer and power < 10 else (1, 2, 2.5, 5, 10)
    for factor in factors:
        if raw <= factor * power * (1 + 1e-9):
            return factor * power
    return 10 * power  # pragma: no cover - the loop always returns


def nice_ticks(top: float | None, *, count: int = 4, integer: bool = True) -> list[Number]:
    """Ticks from 0 up to the first round number >= top; an empty or all-zero chart still gets an axis (0 and 1)."""
    if top is None or top <= 0 or not math.isfinite(top):
        return [0, 1]
    step = nice_step(top, count, integer=integer)
    n = math.ceil(top / step - 1e-9)
    return [_plain(i * step) for i in range(n + 1)]


def _plain(value: float) -> Number:
    """2.0 -> 2; 0.30000000000000004 -> 0.3."""
    rounded = round(value, 6)
    return int(rounded) if rounded == int(rounded) else rounded


def fmt(value: Number | None, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and value != int(value):
        text = f"{value:.1f}"
    else:
        text = f"{int(value):,}" if abs(value) >= 10000 else str(int(value))
    return f"{text}{unit}"


# --- month labels ---------------------------------------------------------------------------------------------------


def _month_names() -> list[str]:
    return [
        pgettext("short month", "Jan"),
        pgettext("short month", "Feb"),
        pgettext("short month", "Mar"),
        pgettext("short month", "Apr"),
        pgettext("short month", "May"),
        pgettext("short month", "Jun"),
        pgettext("short month", "Jul"),
        pgettext("short month", "Aug"),
        pgettext("short month", "Sep"),
        pgettext("short month", "Oct"),
        pgettext("short month", "Nov"),
        pgettext("short month", "Dec"),
    ]


def month_label(text: str, *, with_year: bool = False) -> str:
    """ "2026-10" -> "Oct" (zh: "10月"); with the year "Oct 2026" (zh: "2026年10月"). Anything else is kept."""
    if len(text) != 7 or text[4] != "-" or not (text[:4].isdigit() and text[5:].isdigit()):
        return text
    month = int(text[5:])
    if not 1 <= month <= 12:
        return text
    name = _month_names()[month - 1]
    if with_year:
        return _("%(month)s %(year)s") % {"month": name, "year": text[:4]}
    return name


def month_labels(months: Sequence[str]) -> list[str]:
    """Labels of an x axis of months: the first label and every January carry the year."""
    return [month_label(m, with_year=i == 0 or m[5:] == "01") for i, m in enumerate(months)]


def thin(n: int, room: int) -> list[bool]:
    """Which of n evenly spaced labels to draw when only `room` fit: every k-th, always the last."""
    if n <= room:
        return [True] * n
    k = math.ceil(n / max(room, 1))
    keep = [(n - 1 - i) % k == 0 for i in range(n)]
    return keep


# --- drawing helpers ------------------------------------------------------------------------------------------------


def _text_width(text: str, size: float) -> float:
    """Rough width: CJK glyphs are square, Latin ones about half as wide."""
    return sum(size if ord(ch) > 0x2E80 else size * (0.9 if ch in "%MW" else 0.62) for ch in text)


def _svg(title: str, width: int, height: int, body: list[str], *, css: str = "chart") -> SafeString:
    label = escape(title)
    return mark_safe(  # noqa: S308 - every piece of text in `body` went through escape()
        f'<svg class="{css}" role="img" aria-label="{label}" viewBox="0 0 {width} {height}" width="100%" '
        f'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="system-ui, -apple-system, &quot;PingFang SC&quot;, &quot;Noto Sans CJK SC&quot;, sans-serif">'
        f"<title>{label}</title>" + "".join(body) + "</svg>"
    )


def _t(
    x: float, y: float, text: str, *, size: int = FONT, anchor: str = "start", weight: str = "", fill: str = INK
) -> str:
    bold = f' font-weight="{weight}"' if weight else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}"{bold}>'
        f"{escape(text)}</text>"
    )


@dataclass(frozen=True)
class LegendItem:
    name: str
    colour: str
    kind: str = "box"  # box | line
    dash: str = ""
    marker: str = ""


def _legend(items: Sequence[LegendItem], width: int, y: float) -> tuple[list[str], float]:
    """Swatch + words, wrapped onto as many rows as needed; returns the drawing and the height used."""
    out: list[str] = []
    x, row_h, gap = 0.0, FONT + 10, 16
    for item in items:
        w = 26 + _text_width(item.name, FONT)
        if x > 0 and x + w > width:
            x, y = 0.0, y + row_h
        cy = y + row_h / 2 - 3
        if item.kind == "line":
            dash = f' stroke-dasharray="{item.dash}"' if item.dash else ""
            out.append(
                f'<line x1="{x:.1f}" y1="{cy:.1f}" x2="{x + 20:.1f}" y2="{cy:.1f}" stroke="{item.colour}" '
                f'stroke-width="3"{dash}/>'
            )
            if item.marker:
                out.append(_marker(item.marker, x + 10, cy, item.colour))
        else:
            out.append(f'<rect x="{x:.1f}" y="{cy - 7:.1f}" width="16" height="14" fill="{item.colour}"/>')
        out.append(_t(x + 24, cy + FONT * 0.35, item.name))
        x += w + gap
    return out, (y + row_h) if items else y


def _marker(kind: str, x: float, y: float, colour: str) -> str:
    r = 4.5
    if kind == "square":
        return f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r}" height="{2 * r}" fill="{colour}"/>'
    if kind == "diamond":
        return (
            f'<polygon points="{x:.1f},{y - r - 1:.1f} {x + r + 1:.1f},{y:.1f} {x:.1f},{y + r + 1:.1f} '
            f'{x - r - 1:.1f},{y:.1f}" fill="{colour}"/>'
        )
    if kind == "triangle":
        return (
            f'<polygon points="{x:.1f},{y - r - 1:.1f} {x + r + 1:.1f},{y + r:.1f} {x - r - 1:.1f},{y + r:.1f}" '
            f'fill="{colour}"/>'
        )
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{colour}"/>'


@dataclass(frozen=True)
class _Frame:
    """The plotting area below the legend, with the y axis already drawn."""

    left: float
    top: float
    right: float
    bottom: float
    ymax: float

    def y(self, value: float) -> float:
        return self.bottom - (self.bottom - self.top) * (value / self.ymax if self.ymax else 0)


def _axes(ticks: Sequence[Number], unit: str, top: float, plot_h: float, width: int) -> tuple[_Frame, list[str]]:
    labels = [fmt(t, unit) for t in ticks]
    left = max(_text_width(s, SMALL) for s in labels) + 8
    frame = _Frame(left=left, top=top + 8, right=width - 6, bottom=top + 8 + plot_h, ymax=float(ticks[-1]))
    out: list[str] = []
    for tick, label in zip(ticks, labels, strict=True):
        y = frame.y(tick)
        out.append(
            f'<line x1="{frame.left:.1f}" y1="{y:.1f}" x2="{frame.right:.1f}" y2="{y:.1f}" '
            f'stroke="{AXIS if tick == 0 else GRID_LINE}" stroke-width="1"/>'
        )
        out.append(_t(frame.left - 6, y + SMALL * 0.35, label, size=SMALL, anchor="end", fill=AXIS))
    return frame, out


def _x_labels(frame: _Frame, xs: Sequence[float], labels: Sequence[str], *, months: bool) -> tuple[list[str], float]:
    """Labels under the axis, thinned to what fits; for months the year goes on a second line under the first label
    and under each January. Returns the drawing and the height used below the axis."""
    texts = [month_label(m) for m in labels] if months else list(labels)
    longest = max((_text_width(s, SMALL) for s in texts), default=0) + 10
    room = max(1, int((frame.right - frame.left) // max(longest, 1)))
    keep = thin(len(texts), room)
    out = []
    years = False
    for i, (x, label, shown) in enumerate(zip(xs, texts, keep, strict=True)):
        if shown:
            out.append(_t(x, frame.bottom + SMALL + 6, label, size=SMALL, anchor="middle"))
        if months and len(labels[i]) == 7 and (i == 0 or labels[i][5:] == "01"):
            out.append(_t(x, frame.bottom + 2 * SMALL + 10, labels[i][:4], size=SMALL, anchor="middle", fill=AXIS))
            years = True
    return out, (2 * SMALL + 16 if years else SMALL + 14)


def _empty(title: str, message: str | None = None) -> SafeString:
    return _svg(title, WIDTH, 80, [_t(WIDTH / 2, 46, message or _("No data yet."), anchor="middle", fill=AXIS)])


def _top(values: Sequence[Number | None]) -> float:
    present = [float(v) for v in values if v is not None]
    return max(present, default=0.0)


def _integer(values: Sequence[Number | None]) -> bool:
    return all(v is None or float(v) == int(v) for v in values)


# --- charts ---------------------------------------------------------------------------------------------------------


def _end_labels(labels: list[tuple[float, float, str, str]], frame: _Frame) -> list[str]:
    """The last value of each line beside its point, pushed apart so two lines ending together stay readable."""
    out: list[str] = []
    placed: list[float] = []
    for y, x, text, colour in sorted(labels):
        ty = max(y + FONT * 0.35, frame.top + FONT * 0.7)
        if placed and ty - placed[-1] < FONT + 2:
            ty = placed[-1] + FONT + 2
        placed.append(ty)
        out.append(_t(x + 8, ty, text, weight="700", fill=colour))
    return out


def line_chart(
    labels: Sequence[str],
    series: Mapping[str, Sequence[Number | None]],
    *,
    title: str,
    unit: str = "",
    y_max: Number | None = None,
    months: bool = True,
    height: int = 230,
) -> SafeString:
    """One line per series over the labels (months "2026-10" unless months=False). None leaves a gap; a lone point
    between gaps is still drawn (its marker). The last value of each line is written next to it.
    y_max fixes the scale (100 for percentages)."""
    if not labels or not series:
        return _empty(title)
    all_values = [v for values in series.values() for v in values]
    if y_max is not None:
        ticks: list[Number] = [_plain(y_max * i / 4) for i in range(5)]
    else:
        ticks = nice_ticks(_top(all_values), integer=_integer(all_values))
    names = list(series)
    legend_items = [
        LegendItem(n, PALETTE[i % len(PALETTE)], "line", DASHES[i % len(DASHES)], MARKERS[i % len(MARKERS)])
        for i, n in enumerate(names)
    ]
    body, legend_h = _legend(legend_items, WIDTH, 0)
    frame, axes = _axes(ticks, unit, legend_h + FONT // 2, height, WIDTH)
    ends = [next((v for v in reversed(list(values)) if v is not None), None) for values in series.values()]
    room = max((_text_width(fmt(v, unit), FONT) for v in ends if v is not None), default=0) + 10
    frame = _Frame(frame.left, frame.top, frame.right - room, frame.bottom, frame.ymax)  # the last values' labels
    body += axes
    n = len(labels)
    step = (frame.right - frame.left) / max(n - 1, 1)
    xs = [frame.left + (step * i if n > 1 else (frame.right - frame.left) / 2) for i in range(n)]
    end_labels: list[tuple[float, float, str, str]] = []
    for i, name in enumerate(names):
        colour, dash, marker = PALETTE[i % len(PALETTE)], DASHES[i % len(DASHES)], MARKERS[i % len(MARKERS)]
        values = list(series[name])[:n]
        runs: list[list[tuple[float, float]]] = [[]]
        for x, v in zip(xs, values, strict=False):
            if v is None:
                runs.append([])
            else:
                runs[-1].append((x, frame.y(min(float(v), frame.ymax))))
        for run in runs:
            if len(run) > 1:
                points = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                dashes = f' stroke-dasharray="{dash}"' if dash else ""
                body.append(
                    f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="3" '
                    f'stroke-linejoin="round"{dashes}/>'
                )
            if len(run) <= 12 or len(run) == 1:
                body += [_marker(marker, x, y, colour) for x, y in run]
        points_at = list(zip(xs, values, strict=False))
        last = next(((x, v) for x, v in reversed(points_at) if v is not None), None)
        if last is not None:
            end_labels.append((frame.y(min(float(last[1]), frame.ymax)), last[0], fmt(last[1], unit), colour))
    body += _end_labels(end_labels, frame)
    drawn, below = _x_labels(frame, xs, labels, months=months)
    return _svg(title, WIDTH, int(frame.bottom + below), body + drawn)


def _bars(
    labels: Sequence[str],
    series: Mapping[str, Sequence[Number | None]],
    *,
    title: str,
    unit: str,
    months: bool,
    height: int,
    stacked: bool,
    colours: Mapping[str, str] | None,
) -> SafeString:
    if not labels or not series:
        return _empty(title)
    names = list(series)
    n = len(labels)
    colour_of = {name: (colours or {}).get(name) or PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}
    rows = {name: [(list(series[name]) + [None] * n)[:n][j] for j in range(n)] for name in names}
    if stacked:
        totals: list[Number | None] = [
            sum(float(rows[name][j] or 0) for name in names)
            if any(rows[name][j] is not None for name in names)
            else None
            for j in range(n)
        ]
        top = _top(totals)
    else:
        totals = []
        top = _top([v for values in rows.values() for v in values])
    integer = _integer([v for values in rows.values() for v in values])
    ticks = nice_ticks(top, integer=integer)
    body, legend_h = _legend([LegendItem(name, colour_of[name]) for name in names], WIDTH, 0)
    frame, axes = _axes(ticks, unit, legend_h + (FONT + 4), height, WIDTH)
    body += axes
    slot = (frame.right - frame.left) / n
    group = slot * 0.78
    xs = [frame.left + slot * (j + 0.5) for j in range(n)]
    show_values = n * (1 if stacked else len(names)) <= 12
    for j, cx in enumerate(xs):
        if stacked:
            base = 0.0
            for name in names:
                v = rows[name][j]
                if not v:
                    continue
                y0, y1 = frame.y(base), frame.y(base + float(v))
                body.append(
                    f'<rect x="{cx - group / 2:.1f}" y="{y1:.1f}" width="{group:.1f}" height="{max(y0 - y1, 0):.1f}" '
                    f'fill="{colour_of[name]}" stroke="#fff" stroke-width="1"/>'
                )
                base += float(v)
            total = totals[j]
            if show_values and total is not None:
                body.append(_t(cx, frame.y(float(total)) - 5, fmt(total, unit), anchor="middle", weight="700"))
        else:
            width = group / len(names)
            for k, name in enumerate(names):
                v = rows[name][j]
                x = cx - group / 2 + width * k
                if v is None:
                    continue
                y = frame.y(float(v))
                body.append(
                    f'<rect x="{x + 0.5:.1f}" y="{y:.1f}" width="{max(width - 1, 1):.1f}" '
                    f'height="{max(frame.bottom - y, 0):.1f}" fill="{colour_of[name]}"/>'
                )
                if show_values:
                    body.append(_t(x + width / 2, y - 5, fmt(v, unit), anchor="middle", weight="700"))
    drawn, below = _x_labels(frame, xs, labels, months=months)
    return _svg(title, WIDTH, int(frame.bottom + below), body + drawn)


def bar_chart(
    labels: Sequence[str],
    series: Mapping[str, Sequence[Number | None]],
    *,
    title: str,
    unit: str = "",
    months: bool = True,
    colours: Mapping[str, str] | None = None,
    height: int = 210,
) -> SafeString:
    """Grouped bars: for each label one bar per series side by side (points issued vs redeemed per month)."""
    return _bars(labels, series, title=title, unit=unit, months=months, height=height, stacked=False, colours=colours)


def stacked_bar(
    labels: Sequence[str],
    series: Mapping[str, Sequence[Number | None]],
    *,
    title: str,
    unit: str = "",
    months: bool = True,
    colours: Mapping[str, str] | None = None,
    height: int = 210,
) -> SafeString:
    """One bar per label, the series stacked in order (work orders by status, or by colour with SEVERITY_COLOURS)."""
    return _bars(labels, series, title=title, unit=unit, months=months, height=height, stacked=True, colours=colours)


def hbar(
    items: Sequence[tuple[str, Number | None]],
    *,
    title: str,
    unit: str = "",
    x_max: Number | None = None,
    colour: str = PALETTE[0],
) -> SafeString:
    """Horizontal bars, one row per item in the order given (communities ranked): the name above its bar, the value at
    the bar's end. None draws no bar and says "—"."""
    if not items:
        return _empty(title)
    values = [v for _name, v in items]
    top = float(x_max) if x_max is not None else float(nice_ticks(_top(values), integer=_integer(values))[-1])
    row_h, bar_h = FONT + 26, 16
    right_room = max(_text_width(fmt(v, unit), FONT) for v in values) + 8
    span = WIDTH - right_room
    body: list[str] = []
    for i, (name, v) in enumerate(items):
        y = i * row_h
        body.append(_t(0, y + FONT, name))
        by = y + FONT + 5
        length = span * (float(v) / top) if v is not None and top else 0.0
        if v is not None and length > 0:
            body.append(f'<rect x="0" y="{by:.1f}" width="{length:.1f}" height="{bar_h}" fill="{colour}"/>')
        body.append(_t(length + 6, by + bar_h - 2, fmt(v, unit), weight="700"))
    body.append(f'<line x1="0" y1="0" x2="0" y2="{len(items) * row_h:.1f}" stroke="{AXIS}" stroke-width="1"/>')
    return _svg(title, WIDTH, len(items) * row_h + 4, body)

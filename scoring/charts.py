"""Charts for the debrief report: matplotlib (Agg, no display) rendered to inline SVG.

Every chart is language-neutral by design. The only text inside a chart is numbers, week numbers,
dealer ids (ASCII: the scenario schema allows only `[a-z0-9_]`) and decision numbers (`D1`, `D2`,
…) with the analysis marks (`?!`, `?`, `??`). Titles, axis names and legends are written by the
report in its own language around the SVG (scoring/report.py), so a chart can never show tofu
boxes whatever fonts the machine has, and the same SVG serves both languages. `_guard` enforces it.

SVG text stays text (`svg.fonttype = "none"`) so the browser draws it with its own fonts; the
SVG is cleaned for inlining (no XML declaration, DOCTYPE or metadata; ids prefixed per chart so
several charts share one HTML page), deterministic (fixed hash salt, no date) and scales to the
width of its container.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # no display; pyplot is never imported here (each chart is its own Figure)

from matplotlib.figure import Figure  # noqa: E402  (after the backend is chosen)

# Dealer colours (Okabe–Ito, readable by colour-blind trainees), by dealer order in the scenario.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
LABEL_COLOURS = {
    "best": "#1a7f37",
    "good": "#2f81b7",
    "inaccuracy": "#b58900",
    "mistake": "#d9730d",
    "blunder": "#c62828",
    "": "#6e7781",  # no analysis
}
FLAGGED = ("inaccuracy", "mistake", "blunder")
BAND_COLOUR = "#2e7d32"

_RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "dealersim",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#8c959f",
    "axes.grid": True,
    "grid.color": "#d0d7de",
    "grid.linewidth": 0.6,
    "xtick.color": "#57606a",
    "ytick.color": "#57606a",
}
_ASCII = re.compile(r"^[\x20-\x7e]*$")


@dataclass(frozen=True)
class Marker:
    """A decision on a time axis: drawn as a vertical line between week `x - 0.5` and `x + 0.5`."""

    x: float
    label: str  # "D3" or "D1-5", plus a mark such as "??"
    kind: str = ""  # the worst label among the decisions at this x ("" when not analysed)


def palette(dealers: Sequence[str]) -> dict[str, str]:
    return {d: PALETTE[i % len(PALETTE)] for i, d in enumerate(dealers)}


def _guard(text: str) -> str:
    """Chart text must be plain ASCII (ids, numbers, marks): the guarantee behind 'never tofu'."""
    if not _ASCII.match(text):
        raise ValueError(f"chart text must be language-neutral ASCII, got {text!r}")
    return text


def _figure(width: float = 6.4, height: float = 2.8) -> tuple[Figure, object]:
    fig = Figure(figsize=(width, height), layout="constrained")
    ax = fig.add_subplot()
    return fig, ax


def _markers(ax, markers: Sequence[Marker]) -> None:
    top = ax.get_ylim()[1]
    for m in markers:
        colour = LABEL_COLOURS.get(m.kind, LABEL_COLOURS[""])
        flagged = m.kind in FLAGGED
        ax.axvline(m.x, color=colour, linewidth=1.4 if flagged else 0.8, linestyle="-" if flagged else ":", zorder=1)
        ax.annotate(
            _guard(m.label), (m.x, top), xytext=(2, -2), textcoords="offset points", va="top", ha="left",
            fontsize=8, color=colour, fontweight="bold" if flagged else "normal",
        )


def _week_axis(ax, weeks: Sequence[int]) -> None:
    if weeks:
        ax.set_xlim(min(weeks) - 0.5 if min(weeks) <= 0 else min(0.2, min(weeks) - 0.5), max(weeks) + 0.5)
        step = max(1, round(len(weeks) / 12))
        ax.set_xticks([w for w in weeks if (w - weeks[0]) % step == 0])


def _legend(ax, handles) -> None:
    if len(handles) > 1:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)


def to_svg(fig: Figure, prefix: str, label: str = "") -> str:
    """The figure as an inline SVG element: ids prefixed, no external references, scalable."""
    buf = io.StringIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    svg = buf.getvalue()
    svg = re.sub(r"<\?xml[^>]*\?>\s*", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>\s*", "", svg)
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    ids = set(re.findall(r'\sid="([^"]+)"', svg))

    def rename(match: re.Match) -> str:
        name = match.group(2)
        return f"{match.group(1)}{prefix}-{name}{match.group(3)}" if name in ids else match.group(0)

    svg = re.sub(r'(\sid=")([^"]+)(")', rename, svg)
    svg = re.sub(r"(url\(#)([^)]+)(\))", rename, svg)
    svg = re.sub(r'(href="#)([^"]+)(")', rename, svg)
    # scale with the page: keep the viewBox, drop the fixed size in points
    svg = re.sub(r'<svg([^>]*?)\swidth="[^"]*"\sheight="[^"]*"', r'<svg\1', svg, count=1)
    aria = f' role="img" aria-label="{_attr(label)}"' if label else ""
    svg = svg.replace("<svg", f'<svg class="chart" preserveAspectRatio="xMidYMid meet"{aria}', 1)
    return svg.strip()


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def _render(fig: Figure, prefix: str, label: str) -> str:
    with matplotlib.rc_context(_RC):
        return to_svg(fig, prefix, label)


def series_chart(
    prefix: str,
    weeks: Sequence[int],
    values: Mapping[str, Sequence[float]],
    colours: Mapping[str, str],
    *,
    markers: Sequence[Marker] = (),
    band: tuple[float, float] | None = None,
    target: float | None = None,
    dashed: Mapping[str, Sequence[float]] | None = None,
    ylim: tuple[float | None, float | None] | None = None,
    label: str = "",
) -> str:
    """One line per dealer over the weeks (the legend shows dealer ids), optional shaded band,
    reference line, dotted companion lines (e.g. demand behind sales) and decision markers."""
    with matplotlib.rc_context(_RC):
        fig, ax = _figure()
        if band is not None:
            ax.axhspan(band[0], band[1], color=BAND_COLOUR, alpha=0.12, linewidth=0, zorder=0)
        if target is not None:
            ax.axhline(target, color=BAND_COLOUR, linewidth=1.0, linestyle="--", zorder=1)
        handles = []
        for dealer, ys in values.items():
            (line,) = ax.plot(weeks, ys, color=colours[dealer], linewidth=1.8, marker="o", markersize=3, label=_guard(dealer), zorder=3)
            handles.append(line)
            if dashed and dealer in dashed:
                ax.plot(weeks, dashed[dealer], color=colours[dealer], linewidth=1.0, linestyle=":", zorder=2)
        if ylim is not None:
            ax.set_ylim(*ylim)
        elif band is not None:
            ax.set_ylim(0, max([band[1] * 1.15] + [max(ys, default=0) * 1.08 for ys in values.values()]))
        else:
            ax.set_ylim(bottom=0)
        _week_axis(ax, list(weeks))
        _markers(ax, markers)
        _legend(ax, handles)
        return _render(fig, prefix, label)


def expected_chart(
    prefix: str,
    curve: Sequence[float],
    labels: Sequence[str],
    *,
    final: float | None = None,
    good: float = 70.0,
    label: str = "",
) -> str:
    """The expected final total before decision 1 (x = 0) and after each decision (x = 1..n),
    each point coloured by the decision's label; flagged decisions are named (D3 ??)."""
    from scoring.analysis_types import MARKS

    with matplotlib.rc_context(_RC):
        fig, ax = _figure(width=10.0, height=2.9)  # shown full width, under the market charts
        xs = list(range(len(curve)))
        ax.axhspan(good, 100, color=BAND_COLOUR, alpha=0.08, linewidth=0, zorder=0)
        ax.axhline(good, color=BAND_COLOUR, linewidth=1.0, linestyle="--", zorder=1)
        if final is not None:
            ax.axhline(final, color="#57606a", linewidth=1.0, linestyle=":", zorder=1)
        ax.plot(xs, curve, color="#57606a", linewidth=1.6, zorder=2)
        colours = [LABEL_COLOURS[""]] + [LABEL_COLOURS.get(k, LABEL_COLOURS[""]) for k in labels]
        ax.scatter(xs, curve, c=colours[: len(xs)], s=[22] + [60 if k in FLAGGED else 26 for k in labels][: len(xs) - 1], zorder=3)
        ax.set_ylim(0, 100)
        ax.set_xlim(-0.4, max(len(curve) - 1, 1) + 0.6)
        ax.set_xticks(xs, [_guard("0")] + [_guard(f"D{i}") for i in range(1, len(xs))])
        for i, kind in enumerate(labels, start=1):
            if kind in FLAGGED and i < len(curve):
                ax.annotate(_guard(f"D{i} {MARKS[kind]}"), (i, curve[i]), xytext=(0, -13), textcoords="offset points",
                            ha="center", fontsize=8, fontweight="bold", color=LABEL_COLOURS[kind])
        return _render(fig, prefix, label)

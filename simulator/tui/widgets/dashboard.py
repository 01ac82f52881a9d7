"""The market dashboard: one card per dealer, drawn from what `session.observe()` exposes.

Per dealer: cover against the 1.5-cycle band (a bar with the acceptable band shaded and the 1.5
target marked), a sparkline of weekly sell-through, stock, price index, trust, receivables, and
anything else the market exposes for the dealer (its warning signs among them) — no field beyond
`Market.DEALER_FIELDS` is assumed. Each card is one widget that draws itself, so updating the
dashboard after a decision costs one repaint, not a re-layout of dozens of small widgets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.geometry import Size
from textual.widget import Widget

from simulator.tui.widgets.prose import WrappedLines, join_items, wrap_content

TARGET = 1.5  # the course: stock ≈ 1.5 × one sales cycle
BARS = "▁▂▃▄▅▆▇█"
LABEL_WIDTH = 7
VALUE_WIDTH = 10


@dataclass
class DealerCardData:
    """Everything a card shows, already in the trainee's language."""

    id: str
    name: str
    cover_cycles: float | None
    cover_label: str  # e.g. "1.3 cyc"
    sales: list[float]
    sales_label: str  # e.g. "4w 480"
    stats: list[str]  # stock, price, trust, receivables
    details: list[str] = field(default_factory=list)  # any other non-zero figures the market exposes
    warnings: list[str] = field(default_factory=list)  # warning signs and problems
    band: tuple[float, float] = (1.2, 1.8)


def fit(text: str, width: int) -> Content:
    """`text` cut or padded to exactly `width` cells (CJK characters take two)."""
    content = Content(text).truncate(width)
    return content + Content(" " * (width - content.cell_length))


def cover_bar(cover: float | None, band: tuple[float, float], width: int) -> Content:
    """Cover in sales cycles as a bar: shaded band, ┃ at the 1.5 target, red above the band."""
    width = max(width, 1)
    lo, hi = band
    scale = max(3.0, math.ceil((cover or 0) * 1.15))
    if cover is None:
        tone = "$text-muted"
    elif cover > hi:
        tone = "$error"
    elif cover < lo:
        tone = "$warning"
    else:
        tone = "$success"
    target_cell = min(int(TARGET / scale * width), width - 1)
    parts: list[tuple[str, str]] = []  # runs of cells of one style (one span each, not one per cell)
    for i in range(width):
        mid = (i + 0.5) * scale / width
        if i == target_cell:
            cell = ("┃", "bold $foreground")
        elif cover is not None and mid <= cover:
            cell = ("█", tone)
        elif lo <= mid <= hi:
            cell = ("░", "$success 70%")
        else:
            cell = ("─", "$text-muted")
        if parts and parts[-1][1] == cell[1]:
            parts[-1] = (parts[-1][0] + cell[0], cell[1])
        else:
            parts.append(cell)
    return Content.assemble(*parts)


def sparkline(values: Sequence[float], width: int) -> Content:
    """Weekly values as bars spread over `width` cells (each cell shows the largest value it covers)."""
    width = max(width, 1)
    if not values:
        return Content.styled("·" * width, "$text-muted")
    low, high = min(values), max(values)
    span = high - low
    cells = []
    for i in range(width):
        start = int(i * len(values) / width)
        end = max(int((i + 1) * len(values) / width), start + 1)
        value = max(values[start:end])
        level = round((value - low) / span * (len(BARS) - 1)) if span else len(BARS) // 2
        cells.append(BARS[level])
    return Content.styled("".join(cells), "$primary")


class DealerCard(WrappedLines):
    DEFAULT_CSS = """
    DealerCard {
        height: auto;
        margin-bottom: 1;
    }
    """

    def __init__(self, data: DealerCardData, labels: tuple[str, str]) -> None:
        super().__init__(id=f"dealer-{data.id}")
        self.data = data
        self.labels = labels  # ("Cover", "Sales") in the trainee's language
        self._drawn: dict[int, tuple[Content, int]] = {}  # width → (lines, height); layout asks at more than one width

    def update(self, data: DealerCardData) -> None:
        if data == self.data:
            return  # no market time passed: nothing to redraw
        old_height = self._height(self.size.width) if self._drawn else None
        self.data = data
        self._drawn = {}
        self.refresh(layout=old_height is None or old_height != self._height(self.size.width))

    def _lines(self, width: int) -> Content:
        return self._draw(width)[0]

    def _height(self, width: int) -> int:
        return self._draw(width)[1] if width else 0

    def _draw(self, width: int) -> tuple[Content, int]:
        drawn = self._drawn.get(width)
        if drawn is None:
            d = self.data
            inner = max(width - LABEL_WIDTH - VALUE_WIDTH, 4)

            def row(label: str, body: Content, value: str) -> Content:
                return fit(label, LABEL_WIDTH).stylize("$text-muted") + body + Content(" ") + fit(value, VALUE_WIDTH - 1)

            lines = [
                Content.styled(d.name, "bold"),
                row(self.labels[0], cover_bar(d.cover_cycles, d.band, inner), d.cover_label),
                row(self.labels[1], sparkline(d.sales, inner), d.sales_label),
            ]
            for items, style in ((d.stats, ""), (d.details, "$text-muted")):
                if items:
                    content, keep = join_items(items)
                    wrapped = wrap_content(content, width, keep)
                    lines.append(wrapped.stylize_before(style) if style else wrapped)
            if d.warnings:
                lines.append(wrap_content(Content("\n".join(d.warnings)), width).stylize_before("$text-warning"))
            text = Content("\n").join(lines)
            drawn = self._drawn[width] = (text, len(text.split("\n", allow_blank=True)))
        return drawn

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self._height(width)

    def render(self) -> Content:
        return self._lines(self.size.width)


class Dashboard(VerticalScroll):
    """A card per dealer; `show()` updates them in place."""

    DEFAULT_CSS = """
    Dashboard {
        height: auto;
    }
    """

    def __init__(self, labels: tuple[str, str], *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.labels = labels
        self.cards: dict[str, DealerCard] = {}

    def show(self, dealers: list[DealerCardData]) -> None:
        new = []
        for data in dealers:
            card = self.cards.get(data.id)
            if card is None:
                card = self.cards[data.id] = DealerCard(data, self.labels)
                new.append(card)
            else:
                card.update(data)
        if new:
            self.mount_all(new)


class MarketLine(Widget):
    """One line per dealer for small terminals: name, cover bar, cover (⚠ when there are warnings)."""

    DEFAULT_CSS = """
    MarketLine {
        height: 1;
    }
    """

    def __init__(self, data: DealerCardData) -> None:
        super().__init__()
        self.data = data

    def update(self, data: DealerCardData) -> None:
        self.data = data
        self.refresh()

    def render(self) -> Content:
        d = self.data
        width = self.size.width
        value = Content(" " + d.cover_label + (" ⚠" if d.warnings else ""))
        name_width = min(24, max(width // 3, 8))
        name = Content(d.name).truncate(name_width - 1, ellipsis=True)
        name = name + Content(" " * max(name_width - name.cell_length, 1))
        bar_width = max(width - name.cell_length - value.cell_length, 4)  # cells, not characters: 周期 is 4 wide
        return name + cover_bar(d.cover_cycles, d.band, bar_width) + value


class MarketStrip(Vertical):
    """The collapsed dashboard shown on small terminals (the full one is a key away)."""

    DEFAULT_CSS = """
    MarketStrip {
        height: auto;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.rows: dict[str, MarketLine] = {}

    def show(self, dealers: list[DealerCardData]) -> None:
        new = []
        for data in dealers:
            line = self.rows.get(data.id)
            if line is None:
                line = self.rows[data.id] = MarketLine(data)
                new.append(line)
            else:
                line.update(data)
        if new:
            self.mount_all(new)

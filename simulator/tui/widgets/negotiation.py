"""The negotiation table: the counterpart's terms and lines, both sides' offers round by round, an
offer builder with one input per issue, and the moves on letter keys.

Attributes down: the play screen hands it a `TableView` (simulator/tui/table.py) after every move.
Messages up: an input that changes posts `OfferEdited` (the screen previews the offer and calls
`show_worth`), a click on a move posts `MovePicked`. The table never changes the game itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.geometry import Size
from textual.widget import Widget

from simulator.tui.messages import MovePicked, OfferEdited
from simulator.tui.table import IssueEditor, Tactic, TableView, offer_values
from simulator.tui.widgets.prose import Line, Prose
from simulator.tui.wrap import break_offsets, cell_width, text_width

GAP = 2  # cells between columns
HEADER_LINES = 3  # an issue's name wraps onto a second header line (a third only if nothing else fits) rather than be cut
CELL_LINES = 3  # a long option ("a display fund for new outlets") may take more lines of its row
CUT = 1000  # the cost of cutting a text with "…": only when nothing else fits …
HEADER_WEIGHT = 3  # … a cut in a name as much as cuts in three rows …
LINE_COST = (10, 11)  # … against one more line of the header, of a row (the header's is one line for every row)
ODD_BREAK = 12  # a Chinese name broken inside a two-character word (年度最 / 低采购) costs more than a line


def fit(text: str, width: int) -> str:
    """`text` cut to `width` cells (CJK takes two) with an ellipsis, or padded to it."""
    if width <= 0:
        return ""
    if text_width(text) <= width:
        return text + " " * (width - text_width(text))
    out, used = "", 0
    for ch in text:
        w = cell_width(ch)
        if used + w > width - 1:
            break
        out += ch
        used += w
    return out + "…" + " " * (width - used - 1)


def _latin_lines(text: str, width: int) -> tuple[list[str], bool]:
    """Plain (ASCII) text in lines of `width` cells, broken at spaces and after hyphens
    ("point-of- / sale"); and whether a word had to be split anyway (it alone is wider)."""
    lines: list[str] = []
    line, split = "", False
    for word in text.split():
        pieces = re.findall(r"[^-]*-|[^-]+", word)
        for k, piece in enumerate(pieces):
            joined = line + ("" if k or not line else " ") + piece
            if text_width(joined) <= width or not line:
                line = joined
            else:
                lines.append(line)
                line = piece
            while text_width(line) > width:  # one piece wider than the column: fold it
                lines.append(line[:width])
                line, split = line[width:], True
    lines.append(line)
    return lines, split


@lru_cache(maxsize=4096)
def _wrapped(text: str, width: int, most: int) -> tuple[tuple[str, ...], int]:
    """`text` in lines of `width` cells at most, broken where a line may break (spaces, after a
    hyphen, between CJK characters), and what that cost: 0, or `CUT` for a word split in two or for
    lines beyond `most` (the last then ends in "…"), plus a tenth of `CUT` per cell hidden."""
    if width <= 0:
        return ("",), (CUT + CUT // 10 * text_width(text)) if text else 0
    if text.isascii():
        lines, split = _latin_lines(text, width)
    else:
        cuts = break_offsets(text, width)
        split = any(text[k - 1] != " " and text[k] != " " and cell_width(text[k - 1]) < 2 and cell_width(text[k]) < 2 for k in cuts)
        bounds = [0, *cuts, len(text)]
        lines = [text[a:b].strip() for a, b in zip(bounds, bounds[1:])]
    cost = CUT + CUT // 10 * 5 if split else 0  # a split word ("(pk / g)") reads worse than a few cells cut
    wide = [line for line in lines if text_width(line) > width]  # one CJK character in a one-cell column
    if wide:
        lines = [fit(line, width).rstrip() for line in lines]
        cost = CUT + CUT // 10 * sum(text_width(line) for line in wide)
    if len(lines) > most:
        shown = lines[: most - 1]
        rest = lines[most - 1]
        for line in lines[most:]:
            rest += ("" if rest.endswith("-") or not text.isascii() else " ") + line
        last = fit(rest, width).rstrip()
        lines = shown + [last]
        cost = CUT + CUT // 10 * (text_width(rest) - text_width(last) + 1)
    return tuple(lines), cost


def _odd_break(lines: tuple[str, ...]) -> bool:
    """A Chinese name broken after an odd number of characters: most words have two, so 年度最 /
    低采购 splits one (年度最低 / 采购 does not)."""
    return len(lines) > 1 and all(cell_width(ch) == 2 for line in lines for ch in line) and any(len(line) % 2 for line in lines[:-1])


@dataclass(frozen=True)
class HistoryLayout:
    """How the offers so far are laid out in a given width: each column's width (`GAP` cells
    between columns), and the lines of the header and of each row."""

    widths: tuple[int, ...]
    header: tuple[tuple[str, ...], ...]  # per column, its lines
    rows: tuple[tuple[tuple[str, ...], ...], ...]  # per row, per column, its lines
    cuts: int  # how many texts are cut or split (0: every text is whole)

    @property
    def header_height(self) -> int:
        return max((len(c) for c in self.header), default=1)

    def row_height(self, r: int) -> int:
        return max((len(c) for c in self.rows[r]), default=1)


def history_layout(columns: list[str], rows: list[list[str]], width: int, header_lines: int = HEADER_LINES) -> HistoryLayout:
    """Column widths for the history in `width` cells: every text whole on one line if they fit;
    else the names in the header wrap onto more lines (at most `header_lines`), and long values onto
    more lines of their row (at most `CELL_LINES`); a text is cut with "…" only when nothing else
    fits, a value rather than a name.

    Shrinks one column at a time, the one that costs the fewest extra lines (the widest on a tie): a
    wrapped name costs one line for the whole table, a wrapped value one per row."""
    n, count = len(columns), len(rows)
    table = [[columns[c], *(r[c] for r in rows)] for c in range(n)]
    natural = [max(text_width(t) for t in col) for col in table]

    def wrapped(c: int, w: int) -> list[tuple[tuple[str, ...], int]]:
        # a cut in the header weighs as much as cuts in a few rows: it names the column of them all
        head, cost = _wrapped(table[c][0], w, header_lines)
        cost = cost * HEADER_WEIGHT + (ODD_BREAK if _odd_break(head) else 0)
        return [(head, cost), *(_wrapped(t, w, CELL_LINES) for t in table[c][1:])]

    def column(c: int, w: int) -> tuple[list[tuple[str, ...]], list[int], int, int]:
        """Column c at most w wide: its texts' lines (header first), their heights, the cost of its
        cuts, and the width they really take (the next step shrinks from there). Texts that wrap are
        balanced: the narrowest width with the same lines and cuts ("Worth / to us", not "Worth to / us")."""
        texts = wrapped(c, w)
        shape = ([len(lines) for lines, _ in texts], sum(cost for _, cost in texts))
        lo, hi = 1, w
        while lo < hi:  # narrower never takes fewer lines: search the narrowest with the same shape
            mid = (lo + hi) // 2
            trial = wrapped(c, mid)
            if ([len(lines) for lines, _ in trial], sum(cost for _, cost in trial)) == shape:
                hi = mid
            else:
                lo = mid + 1
        texts = wrapped(c, lo)
        if _odd_break(texts[0][0]):  # 年度最 / 低采购: a little wider or narrower, 年度最低 / 采购 or 年度 / 最低采购
            for other in [*range(lo + 1, w + 1), *range(lo - 1, 0, -1)]:
                trial = wrapped(c, other)
                if [len(lines) for lines, _ in trial] == shape[0] and sum(cost for _, cost in trial) < shape[1]:
                    texts, shape = trial, (shape[0], sum(cost for _, cost in trial))
                    break
        used = max(text_width(line) for lines, _ in texts for line in lines)
        return [lines for lines, _ in texts], shape[0], shape[1], max(used, 1)

    def fitted() -> tuple[list[int], list]:
        # (the gap never narrows: with names on two lines, "support for new Worth" would read as one)
        budget = width - GAP * (n - 1)
        widths = list(natural)
        cols = [column(c, w) for c, w in enumerate(widths)]
        while sum(widths) > budget:
            # per line of the table (the header, then each row): the tallest column and the next tallest
            tops = []
            for r in range(count + 1):
                hs = sorted(((cols[c][1][r], c) for c in range(n)), reverse=True)
                tops.append((hs[0][0], hs[0][1], hs[1][0] if n > 1 else 0))
            cut_total = sum(col[2] for col in cols)
            best = None
            for c in range(n):
                if widths[c] <= 1:
                    continue
                trial = column(c, widths[c] - 1)
                height = sum(LINE_COST[r > 0] * max(second if top_c == c else top, trial[1][r]) for r, (top, top_c, second) in enumerate(tops))
                key = (cut_total - cols[c][2] + trial[2] + height, -widths[c], c)
                if best is None or key < best[0]:
                    best = (key, c, trial)
            if best is None:
                break
            _, c, trial = best
            widths[c] = min(trial[3], widths[c] - 1)
            cols[c] = trial

        def total(cols: list) -> int:
            return sum(col[2] for col in cols) + sum(LINE_COST[r > 0] * max(col[1][r] for col in cols) for r in range(count + 1))

        # a step can free more than needed (a name that wraps takes only its longer half): give the
        # room back to the columns it saves the most lines or cuts in
        while True:
            spare = budget - sum(widths)
            now = total(cols)
            gains = []
            for c in range(n):
                if widths[c] < natural[c]:
                    w = min(natural[c], widths[c] + spare)
                    wider = column(c, w)
                    gains.append((total(cols[:c] + [wider] + cols[c + 1:]) - now, c, wider))
            gains = [g for g in gains if g[0] < 0]
            if not gains or spare <= 0:
                break
            _, c, wider = min(gains, key=lambda g: g[:2])
            widths[c], cols[c] = wider[3], wider
        return widths, cols

    widths, cols = fitted()
    cuts = sum(cost > 0 for c in range(n) for _, cost in wrapped(c, widths[c]))
    return HistoryLayout(tuple(widths), tuple(col[0][0] for col in cols),
                         tuple(tuple(col[0][r + 1] for col in cols) for r in range(count)), cuts)


# ---------------------------------------------------------------- one issue of the offer being built


BUILDER_NOTE = 20  # cells kept after the value for their terms and a reading ("they 30 days  asked: low")
BUILDER_MIN = 10  # an issue's name or value is never cut below this many cells


def builder_widths(names: int, labels: int, width: int) -> tuple[int, int]:
    """The (name, value) columns of the builder's inputs: whole when they fit beside the arrows and
    a short note of their terms; else the longer of the two gives way a cell at a time (a name
    "next year's target growth" keeps more than a quarter of the line)."""
    room = width - (GAP + 2 + 2 + GAP) - BUILDER_NOTE  # "name  ◀ value ▶  they …"
    name, value = names, labels
    while name + value > room and max(name, value) > BUILDER_MIN:
        if name >= value:
            name -= 1
        else:
            value -= 1
    return name, value



class IssueInput(Widget, can_focus=True):
    """One issue: ←/→ step through its range (numbers on their grid, or its options), Home/End jump
    to the ends, ↑/↓ go to the next issue. A click on ◀ or ▶ steps too."""

    DEFAULT_CSS = """
    IssueInput {
        height: 1;
        width: 1fr;
    }
    IssueInput:focus {
        background: $accent 25%;
    }
    IssueInput > .issue--value {
        text-style: bold;
    }
    IssueInput > .issue--note {
        color: $text-muted;
    }
    """
    COMPONENT_CLASSES = {"issue--value", "issue--note"}
    BINDINGS = [
        Binding("left", "step(-1)", show=False),
        Binding("right", "step(1)", show=False),
        Binding("home", "end(0)", show=False),
        Binding("end", "end(1)", show=False),
        Binding("up", "move_focus(-1)", show=False),
        Binding("down", "move_focus(1)", show=False),
    ]

    def __init__(self, issue: IssueEditor | None, *, widths: tuple[int, int] = (12, 8)) -> None:
        super().__init__()
        self.issue = issue  # None: a row made before the table opens, hidden until it has an issue
        self.index = issue.start if issue else 0
        self.widths = widths  # (name, value) columns, shared by every input of the builder

    def show(self, issue: IssueEditor, *, reset: bool) -> None:
        self.issue = issue
        if reset:
            self.index = issue.start
        self.index = max(0, min(self.index, len(issue.values) - 1))
        self.refresh()

    @property
    def value(self) -> Any:
        return self.issue.values[self.index]

    def _arrows(self) -> tuple[int, int]:
        """The columns of ◀ and ▶."""
        name_w, value_w = self.widths
        left = name_w + GAP
        return left, left + 2 + value_w + 1

    def render(self) -> Content:
        name_w, value_w = self.widths
        issue = self.issue
        if issue is None:
            return Content("")
        at_lo, at_hi = self.index == 0, self.index == len(issue.values) - 1
        value_style = self.get_visual_style("issue--value")
        note_style = self.get_visual_style("issue--note")
        row = Content.assemble(
            fit(issue.name, name_w), " " * GAP,
            ("◀" if not at_lo else " ", value_style), " ",
            (fit(issue.labels[self.index], value_w), value_style), " ",
            ("▶" if not at_hi else " ", value_style), " " * GAP,
            (issue.their, note_style),
            ("  " + issue.reading if issue.reading else "", note_style),
        )
        return row.truncate(self.size.width, ellipsis=True) if self.size.width else row

    def action_step(self, delta: int) -> None:
        index = max(0, min(self.index + delta, len(self.issue.values) - 1))
        if index != self.index:
            self.index = index
            self.refresh()
            self.post_message(OfferEdited())

    def action_end(self, high: int) -> None:
        self.action_step(len(self.issue.values) if high else -len(self.issue.values))

    def action_move_focus(self, delta: int) -> None:
        inputs = self.query_ancestor(OfferBuilder)._inputs()
        if self in inputs:
            # at once, not as focus() does after the keys already queued: ↓→ typed fast changes the next issue
            self.screen.set_focus(inputs[(inputs.index(self) + delta) % len(inputs)])

    def on_click(self, event: events.Click) -> None:
        left, right = self._arrows()
        if abs(event.x - left) <= 1:
            self.action_step(-1)
        elif abs(event.x - right) <= 1:
            self.action_step(1)


class OffTable(Line):
    """An issue not on the table yet: shown dimmed (b brings it in)."""

    def __init__(self, text: str, issue_id: str) -> None:
        super().__init__(text, classes="off-table")
        self.issue_id = issue_id


class OfferBuilder(Vertical):
    """The inputs, one per issue on the table, and a dimmed line for each issue off it.

    Its rows are made with the screen, as many as the scenario's largest negotiation has issues, and
    only filled, shown and hidden afterwards: mounting them when the table opens cost that step ≈ 5 ms."""

    DEFAULT_CSS = """
    OfferBuilder {
        height: auto;
    }
    OfferBuilder > .off-table {
        color: $text-muted;
    }
    """

    def __init__(self, rows: int = 0, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows = rows
        self.issues: list[IssueEditor] = []
        self.key: tuple = ()
        self.off_note = ""

    def compose(self) -> ComposeResult:
        yield from self._blank_rows(self.rows)

    @staticmethod
    def _blank_rows(rows: int) -> list[Widget]:
        """`rows` inputs, then `rows` off-table lines, all hidden (an issue is either on the table or off it)."""
        blank: list[Widget] = [IssueInput(None) for _ in range(rows)] + [OffTable("", "") for _ in range(rows)]
        for widget in blank:
            widget.display = False
        return blank

    def _inputs(self) -> list[IssueInput]:
        return [w for w in self.query(IssueInput) if w.display]

    def values(self) -> dict[str, Any]:
        picked = {w.issue.id: w.index for w in self._inputs() if w.issue is not None}
        return offer_values(self.issues, picked)

    def _widths(self, issues: list[IssueEditor], width: int) -> tuple[int, int]:
        names = max((text_width(i.name) for i in issues), default=4)
        labels = max((text_width(label) for i in issues for label in i.labels), default=4)
        return builder_widths(names, labels, max(width, 40))

    async def show(self, issues: list[IssueEditor], key: tuple, off_note: str) -> None:
        """Show these issues; the values picked are kept unless `key` changed (a new bid, an issue added)."""
        reset = key != self.key
        self.key = key
        self.issues = issues
        self.off_note = off_note
        widths = self._widths(issues, self.size.width or self.app.size.width // 2)
        on = [i for i in issues if i.kind != "off"]
        off = [i for i in issues if i.kind == "off"]
        focused = self.screen.focused
        if len(issues) > len(self.query(OffTable)):  # more issues than the rows made (not from the screen's scenario)
            await self.remove_children()
            await self.mount_all(self._blank_rows(len(issues)))
        inputs, lines = list(self.query(IssueInput)), list(self.query(OffTable))
        for widget, issue in zip(inputs, on + [None] * (len(inputs) - len(on))):
            if issue is not None:
                widget.widths = widths
                widget.show(issue, reset=reset or widget.issue is None or widget.issue.id != issue.id)
            widget.display = issue is not None
        for line, issue in zip(lines, off + [None] * (len(lines) - len(off))):
            if issue is not None:
                line.issue_id = issue.id
                line.update(self._off_line(issue, widths))
            line.display = issue is not None
        if isinstance(focused, IssueInput) and focused not in self._inputs():  # its issue left the inputs (or its row was remade)
            self.focus_first()

    def on_resize(self) -> None:
        """The columns follow the builder's width (it has none yet when the first issues arrive)."""
        widths = self._widths(self.issues, self.size.width)
        for widget in self._inputs():
            if widget.widths != widths:
                widget.widths = widths
                widget.refresh()
        for line, issue in zip(self.query(OffTable), [i for i in self.issues if i.kind == "off"]):
            line.update(self._off_line(issue, widths))

    def _off_line(self, issue: IssueEditor, widths: tuple[int, int]) -> str:
        return f"{fit(issue.name, widths[0])}{' ' * GAP}{self.off_note}{'  ' + issue.reading if issue.reading else ''}"

    def focus_first(self) -> None:
        inputs = self._inputs()
        if inputs:
            inputs[0].focus()


# ---------------------------------------------------------------- the offers so far


class OfferHistory(Widget):
    """Both sides' offers, one row per offer, one column per issue on the table, the newest at the
    bottom; when they do not all fit, the oldest scroll away under the header. A long issue name
    wraps onto a second header line (and a long value onto a second line of its row) rather than
    being cut (`history_layout`)."""

    DEFAULT_CSS = """
    OfferHistory {
        height: auto;
        width: 1fr;
    }
    OfferHistory > .history--header {
        text-style: bold underline;
        color: $text-muted;
    }
    OfferHistory > .history--header-above {
        text-style: bold;
        color: $text-muted;
    }
    OfferHistory > .history--us {
        color: $text-accent;
        text-style: bold;
    }
    OfferHistory > .history--good_cop {
        color: $text-warning;
    }
    OfferHistory > .history--bad_cop {
        color: $text-error;
    }
    """
    COMPONENT_CLASSES = {"history--header", "history--header-above", "history--us", "history--good_cop", "history--bad_cop"}
    TONES = ("header", "header-above", "us", "good_cop", "bad_cop")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.columns: list[str] = []
        self.rows: list[tuple[list[str], str]] = []
        self.empty = ""
        self._layouts: dict[tuple, HistoryLayout] = {}

    def show(self, columns: list[str], rows: list[tuple[list[str], str]], empty: str) -> None:
        layout = len(rows) != len(self.rows) or columns != self.columns
        self.columns, self.rows, self.empty = columns, rows, empty
        self.refresh(layout=layout)

    def layout_for(self, width: int, header_lines: int = HEADER_LINES) -> HistoryLayout:
        """The columns laid out in `width` cells (kept until the offers, the width or the room change)."""
        key = (width, header_lines, tuple(self.columns), tuple(tuple(cells) for cells, _ in self.rows))
        if key not in self._layouts:
            if len(self._layouts) >= 4:  # the offers changed, or the screen was resized
                self._layouts.clear()
            self._layouts[key] = history_layout(self.columns, [cells for cells, _ in self.rows], width, header_lines)
        return self._layouts[key]

    def layout_in(self, width: int, height: int) -> HistoryLayout:
        """The layout drawn in `width` × `height` cells: when the names' lines would leave no room
        for the newest row, they get fewer lines (and the columns are laid out again)."""
        lay = self.layout_for(width)
        if lay.header_height > 1 and height < lay.header_height + 1:
            lay = self.layout_for(width, max(1, height - 1))
        return lay

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if not self.columns or not self.rows:
            return 2
        lay = self.layout_for(width)
        return lay.header_height + sum(lay.row_height(r) for r in range(len(self.rows)))

    def lines(self, width: int, height: int) -> list[tuple[str, str]]:
        """(text, tone) of each line drawn: the header, then the newest rows that fit (plain, for tests).

        The header sits on its last line (the names that wrap start a line above); when the space
        is short, the names get fewer lines (laid out again), leaving at least one for the newest row."""
        if not self.columns:
            return []
        if not self.rows:
            return [(self.empty, "")]
        lay = self.layout_in(width, height)
        gap = " " * GAP

        def line(cells: list[str]) -> str:
            return gap.join(fit(cell, w) for cell, w in zip(cells, lay.widths)).rstrip()

        header_h = lay.header_height
        header = []
        for k in range(header_h):
            # bottom-aligned: a one-line name sits on the last header line
            cells = [head[k - (header_h - len(head))] if k >= header_h - len(head) else "" for head in lay.header]
            header.append((line(cells), "header" if k == header_h - 1 else "header-above"))
        room = max(height - len(header), 1)
        body: list[tuple[str, str]] = []
        for r in range(len(self.rows) - 1, -1, -1):
            h = lay.row_height(r)
            tone = self.rows[r][1]
            block = [(line([cell[k] if k < len(cell) else "" for cell in lay.rows[r]]), tone) for k in range(h)]
            if body and len(body) + h > room:
                break
            body = block + body
        return header + body[:room]

    def render(self) -> Content:
        out = []
        for text, tone in self.lines(self.size.width, self.size.height):
            style = self.get_visual_style(f"history--{tone}") if tone in self.TONES else None
            out.append(Content.styled(text, style) if style else Content(text))
        return Content("\n").join(out)


# ---------------------------------------------------------------- the moves on keys


class TacticsBar(Widget):
    """The moves allowed now, each with its key, laid out in as many lines as they need (a move's
    name is never split). A click on one picks it."""

    DEFAULT_CSS = """
    TacticsBar {
        height: auto;
        width: 1fr;
    }
    TacticsBar > .tactics--key {
        color: $accent;
        text-style: bold reverse;
    }
    """
    COMPONENT_CLASSES = {"tactics--key"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tactics: list[Tactic] = []

    def show(self, tactics: list[Tactic]) -> None:
        width = self.size.width
        old = self._placed(width) if width else None
        self.tactics = list(tactics)
        self.refresh(layout=not width or len(self._placed(width)) != len(old or []))

    def _placed(self, width: int) -> list[list[tuple[int, Tactic]]]:
        """The tactics by line, each with the column it starts at."""
        lines: list[list[tuple[int, Tactic]]] = [[]]
        x = 0
        for tactic in self.tactics:
            w = 2 + text_width(tactic.label)  # "o 出方案"
            if lines[-1] and x + GAP + w > width:
                lines.append([])
                x = 0
            start = x + (GAP if lines[-1] else 0)
            lines[-1].append((start, tactic))
            x = start + w
        return lines if lines[-1] else lines[:-1]

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(len(self._placed(width)), 1)

    def render(self) -> Content:
        key_style = self.get_visual_style("tactics--key")
        lines = []
        for placed in self._placed(self.size.width):
            parts: list[Content] = []
            x = 0
            for start, tactic in placed:
                parts.append(Content(" " * (start - x)))
                parts.append(Content.styled(tactic.key, key_style))
                parts.append(Content(" " + tactic.label))
                x = start + 2 + text_width(tactic.label)
            lines.append(Content("").join(parts).truncate(self.size.width, ellipsis=True))
        return Content("\n").join(lines)

    def on_click(self, event: events.Click) -> None:
        placed = self._placed(self.size.width)
        if 0 <= event.y < len(placed):
            for start, tactic in placed[event.y]:
                if start <= event.x < start + 2 + text_width(tactic.label):
                    self.post_message(MovePicked(tactic.move))
                    return


# ---------------------------------------------------------------- the table


class NegotiationTable(Vertical):
    DEFAULT_CSS = """
    NegotiationTable {
        height: auto;
    }
    """

    def compose(self) -> ComposeResult:
        yield Line(id="table-status")
        yield Prose(id="table-warning")
        yield Prose(id="table-said")
        yield Prose(id="table-terms")
        yield Prose(id="table-request")
        yield Line(id="table-history-title", classes="table-section")
        yield OfferHistory(id="table-history")
        yield Line(id="table-builder-title", classes="table-section")
        yield OfferBuilder(self.rows, id="table-builder")
        yield Line(id="table-worth")
        yield TacticsBar(id="table-tactics")

    def __init__(self, rows: int = 0, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows = rows  # the builder's rows: the most issues a negotiation of the scenario has
        self.view: TableView | None = None

    async def show(self, view: TableView, lang: str) -> None:
        from simulator.i18n import t

        self.view = view
        self.query_one("#table-status", Line).update(view.status)
        warning = self.query_one("#table-warning", Prose)
        warning.update(view.warning)
        warning.display = bool(view.warning)
        self.query_one("#table-said", Prose).update("\n".join(view.said))
        self.query_one("#table-terms", Prose).update(view.terms)
        request = self.query_one("#table-request", Prose)
        request.update(view.request)
        request.display = bool(view.request)
        self.set_class(bool(view.request), "-aside")
        self.query_one("#table-history-title", Line).update(t("table_history", lang))  # type: ignore[arg-type]
        self.query_one(OfferHistory).show(view.columns, view.rows, t("table_history_empty", lang))  # type: ignore[arg-type]
        self.query_one("#table-builder-title", Line).update(t("table_builder", lang))  # type: ignore[arg-type]
        await self.query_one(OfferBuilder).show(view.issues, view.key, t("table_off_table", lang))  # type: ignore[arg-type]
        self.query_one(TacticsBar).show(view.tactics)

    def values(self) -> dict[str, Any]:
        return self.query_one(OfferBuilder).values()

    def show_worth(self, text: str, below: bool) -> None:
        worth = self.query_one("#table-worth", Line)
        worth.update(text)
        worth.set_class(below, "-below")

    def focus_builder(self, editing: IssueInput | None = None) -> None:
        """The focus to the input `editing` if it still shows, else to the first."""
        if editing is not None and editing.display and editing.parent is self.query_one(OfferBuilder):
            editing.focus()
        else:
            self.query_one(OfferBuilder).focus_first()

    @property
    def text(self) -> str:
        """Everything the table says, as plain text (for tests and tools)."""
        parts = [w.text for w in self.query(Line) if w.display] + [p.text for p in self.query(Prose)]
        history = self.query_one(OfferHistory)
        parts += [text for text, _ in history.lines(max(history.size.width, 80), 99)]
        parts += [w.render().plain for w in self.query(IssueInput) if w.display]
        parts += [f"{x.key} {x.label}" for x in self.query_one(TacticsBar).tactics]
        return "\n".join(parts)

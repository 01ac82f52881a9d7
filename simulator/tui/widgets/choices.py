"""The numbered options at a decision: ↑/↓ move the highlight, Enter or a click picks it.

One widget draws every option (wrapped for Chinese and English, continuation lines under the
text), so a new step costs no widget mounting. Keys 1–9 are bound on the play screen (they work
wherever the focus is) and call `choose_number`. The list never changes the game itself: it posts
`Choose`, and the screen records the decision.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.geometry import Region, Size
from textual.reactive import reactive

from simulator.tui.messages import Choose
from simulator.tui.widgets.prose import WrappedLines, wrap_content

NUMBER_WIDTH = 4  # "1.  "


@dataclass(frozen=True)
class Item:
    option_id: str
    number: int
    text: str


class ChoicesList(WrappedLines, can_focus=True):
    DEFAULT_CSS = """
    ChoicesList {
        height: auto;
        padding: 0 1;
    }
    ChoicesList > .choices--number {
        color: $accent;
        text-style: bold;
    }
    ChoicesList > .choices--highlight {
        background: $accent 25%;
    }
    """
    COMPONENT_CLASSES = {"choices--number", "choices--highlight"}

    BINDINGS = [
        Binding("up", "cursor(-1)", show=False),
        Binding("down", "cursor(1)", show=False),
        Binding("k", "cursor(-1)", show=False),
        Binding("j", "cursor(1)", show=False),
        Binding("home", "first", show=False),
        Binding("end", "last", show=False),
        Binding("enter", "confirm", "tui_key_confirm", key_display="⏎"),
    ]

    highlighted: reactive[int] = reactive(0, init=False)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.items: list[Item] = []
        self.busy = False
        self._stale = False  # the highlight moved without a repaint (choose_number(quiet=True))
        self._layout: tuple[int, list[Content], list[tuple[int, int]]] | None = None  # width, wrapped options, line ranges
        self._rendered: tuple[tuple[int, int, int], Content] | None = None
        # The list keeps the tallest height it has had at a width (the rest of the box stays blank):
        # a step with fewer lines of options would otherwise lay the whole screen out again and the
        # story above would jump.
        self._tallest: dict[int, int] = {}

    # -------------------------------------------------------- attributes down

    def set_items(self, items: list[Item]) -> None:
        width = self.size.width
        old_height = self.get_content_height(self.size, self.size, width) if width else -1
        self.items = list(items)
        self._stale = False
        self._layout = None
        self._rendered = None
        self.set_reactive(ChoicesList.highlighted, 0)
        # a new layout only when the list's height changes; otherwise repainting it is enough
        self.refresh(layout=not width or self.get_content_height(self.size, self.size, width) != old_height)
        self.call_after_refresh(self._reveal)

    def set_busy(self, busy: bool) -> None:
        """While a decision is being recorded, keys and clicks pick nothing (no restyling: it takes
        a few milliseconds and a visible change would only flicker)."""
        self.busy = busy
        if not busy and self._stale:
            self._stale = False
            self.refresh()
            self._reveal()

    # -------------------------------------------------------- drawing

    def _wrapped(self, width: int) -> tuple[list[Content], list[tuple[int, int]]]:
        if self._layout is None or self._layout[0] != width:
            texts: list[Content] = []
            ranges: list[tuple[int, int]] = []
            line = 0
            for item in self.items:
                text = wrap_content(Content(item.text), max(width - NUMBER_WIDTH, 1))
                count = len(text.split("\n", allow_blank=True))
                texts.append(text)
                ranges.append((line, line + count))
                line += count
            self._layout = (width, texts, ranges)
        return self._layout[1], self._layout[2]

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        _, ranges = self._wrapped(width)
        if not ranges:
            return 0  # no options: the box is hidden (a negotiation, the end)
        height = self._tallest[width] = max(ranges[-1][1], self._tallest.get(width, 0))
        return height

    def render(self) -> Content:
        width = self.size.width
        key = (width, self.highlighted, len(self.items))
        if self._rendered is not None and self._rendered[0] == key:
            return self._rendered[1]
        texts, _ = self._wrapped(width)
        number_style = self.get_visual_style("choices--number")
        highlight_style = self.get_visual_style("choices--highlight")
        lines: list[Content] = []
        for index, (item, text) in enumerate(zip(self.items, texts)):
            for k, line in enumerate(text.split("\n", allow_blank=True)):
                prefix = Content.styled(f"{item.number}.".ljust(NUMBER_WIDTH), number_style) if k == 0 else Content(" " * NUMBER_WIDTH)
                row = prefix + line
                if index == self.highlighted:
                    row = row.pad_right(max(width - row.cell_length, 0)).stylize(highlight_style)
                lines.append(row)
        content = Content("\n").join(lines)
        self._rendered = (key, content)
        return content

    # -------------------------------------------------------- keys and mouse

    def watch_highlighted(self) -> None:
        self.refresh()
        self._reveal()

    def _reveal(self) -> None:
        """Scroll the highlighted option into view when the list is taller than its box."""
        if not self.items or not self.is_mounted:
            return
        _, ranges = self._wrapped(self.size.width)
        box = self.parent
        if isinstance(box, ChoicesBox) and 0 <= self.highlighted < len(ranges):
            first, last = ranges[self.highlighted]
            top = self.virtual_region.y + self.styles.padding.top
            visible = box.scroll_y <= top + first and top + last <= box.scroll_y + box.scrollable_content_region.height
            if not visible:
                box.scroll_to_region(Region(0, top + first, max(self.size.width, 1), last - first), animate=False)

    def on_click(self, event: events.Click) -> None:
        _, ranges = self._wrapped(self.size.width)
        y = event.y - self.styles.padding.top
        for index, (first, last) in enumerate(ranges):
            if first <= y < last:
                self.highlighted = index
                self.action_confirm()
                return

    def action_cursor(self, step: int) -> None:
        if self.items:
            self.highlighted = (self.highlighted + step) % len(self.items)

    def action_first(self) -> None:
        self.highlighted = 0

    def action_last(self) -> None:
        if self.items:
            self.highlighted = len(self.items) - 1

    def action_confirm(self) -> None:
        if self.items and not self.busy and 0 <= self.highlighted < len(self.items):
            self.post_message(Choose(self.items[self.highlighted].option_id))

    def choose_number(self, number: int, *, quiet: bool = False) -> bool:
        """Pick the option with this number (1-based); False when there is none. `quiet`: the list
        is about to be replaced by the next step's, so moving the highlight is not drawn (a frame
        that would only delay the decision); it is if the list stays (`set_busy(False)`)."""
        for i, item in enumerate(self.items):
            if item.number == number:
                if quiet:
                    self.set_reactive(ChoicesList.highlighted, i)
                    self._stale = True
                else:
                    self.highlighted = i
                self.action_confirm()
                return True
        return False


class ChoicesBox(VerticalScroll, can_focus=False):
    """Scrolls the options when they do not fit (nine long options on a small terminal)."""

    DEFAULT_CSS = """
    ChoicesBox {
        height: auto;
    }
    """

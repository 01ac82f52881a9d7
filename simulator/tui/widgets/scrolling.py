"""Scrolling text whose changes never lay the screen out again.

A scroll view's `virtual_size` is a layout reactive in Textual: setting it lays out every widget on
the screen (3–5 ms on the play screen, plus a repaint of every container), though the view's own
size does not change with its content. The story and the side panels change at every step, so they
set it with `set_virtual_size`, which moves only their scrollbars; those are drawn straight to
strips (`QuickScrollBar`).
"""

from __future__ import annotations

from rich.color import Color
from rich.segment import Segment
from textual.content import Content
from textual.geometry import Offset, Region, Size
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.strip import Strip

from simulator.tui.widgets.prose import content_strip, wrap_lines


def set_virtual_size(view: ScrollView, size: Size) -> None:
    """Set `view.virtual_size` without a new layout of the screen: only its scrollbars follow
    (Textual's `_scroll_update`, as a layout would call it; textual is pinned to 8.2 in
    pyproject.toml). A scrollbar that appears or goes still lays the screen out, as it must."""
    if size != view.virtual_size:
        view.set_reactive(ScrollView.virtual_size, size)
        view._scroll_update(size)
        view.refresh()


class QuickScrollBar(ScrollBar):
    """Textual's vertical scrollbar (same bar, colours and mouse actions), drawn straight to strips
    and kept until it changes: Textual draws it through Rich, cell by cell, ≈ 1 ms a step for the
    story's."""

    _bar: tuple[tuple, list[Strip]] | None = None

    def render_lines(self, crop: Region) -> list[Strip]:
        bar = self.render()
        if not (self.vertical and isinstance(bar, ScrollBarRender)):
            return super().render_lines(crop)
        width, height = self.size
        key = (width, height, bar.virtual_size, bar.window_size, bar.position, bar.style, self.visual_style)
        if self._bar is None or self._bar[0] != key:
            style = bar.style
            segments = bar.render_bar(
                size=height,
                virtual_size=bar.virtual_size,
                window_size=bar.window_size,
                position=bar.position,
                thickness=width,
                vertical=True,
                back_color=style.bgcolor or Color.parse("#555555"),  # Textual's defaults
                bar_color=style.color or Color.parse("bright_magenta"),
            ).segments
            base = self.visual_style.rich_style  # under the bar's own style, as Textual draws it
            self._bar = (key, [Strip([Segment(text, base + style)], width) for text, style, _ in segments])
        _, background = self.background_colors
        filters = self.get_line_filters()
        strips = []
        for strip in self._bar[1][crop.y : crop.bottom]:
            for line_filter in filters:  # e.g. monochrome under NO_COLOR, as Textual does for every line
                strip = strip.apply_filter(line_filter, background)
            strips.append(strip.crop(*crop.column_span) if crop.column_span != (0, width) else strip)
        return strips


class QuickScrollbars:
    """For a scrolling widget: its vertical scrollbar is a `QuickScrollBar` (Textual creates a
    `ScrollBar` in the same property)."""

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        if self._vertical_scrollbar is None:
            self._vertical_scrollbar = bar = QuickScrollBar(vertical=True, name="vertical", thickness=self.scrollbar_size_vertical)
            bar.display = False
            self.app._start_widget(self, bar)
        return self._vertical_scrollbar


class LineScrollView(QuickScrollbars, ScrollView):
    """A scroll view that draws line by line (`_render(index, width)`, defined by each widget) and
    keeps each drawn line in `_strips` until the widget clears them (new text, width or styles)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._strips: dict[int, Strip] = {}
        self._view = (Offset(0, 0), 0)  # scroll offset and width while the lines are drawn

    def _render(self, index: int, width: int) -> Strip:
        raise NotImplementedError

    def render_lines(self, crop: Region) -> list[Strip]:
        # the scroll position and width, read once for all the lines (they are computed properties)
        self._view = (self.scroll_offset, self.scrollable_content_region.width)
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        offset, width = self._view
        index = offset.y + y
        strip = self._strips.get(index)
        if strip is None or strip.cell_length != width:
            strip = self._strips[index] = self._render(index, width)
        return strip.crop(offset.x, offset.x + width)


class ScrollingText(LineScrollView):
    """Text in a box of fixed size that scrolls when it does not fit; wrapped for Chinese and
    English (continuation lines of list items hang under the text) and drawn line by line. Its
    scrollbar is always there, one column on the background, seen when there is something to scroll
    (a scrollbar that comes and goes changes the width: a new layout and a new wrapping)."""

    DEFAULT_CSS = """
    ScrollingText {
        height: 1fr;
        overflow-x: hidden;
        overflow-y: scroll;
        scrollbar-size-vertical: 1;
        scrollbar-background: $background;
        scrollbar-background-hover: $background;
        scrollbar-background-active: $background;
    }
    """

    def __init__(self, text: str | Content = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._content = Content(text) if isinstance(text, str) else text
        self._width = 0
        self._lines: list[Content] = []
        self._wrapped: dict[tuple, list[Content]] = {}  # (text, spans, width) of a line → its wrapped lines
        self._at_end = False  # scrolled to the end of the text (else its start)

    @property
    def text(self) -> str:
        return self._content.plain

    def update(self, text: str | Content, *, end: bool = False) -> None:
        """Show `text` from its start, or scrolled to its `end` (in the same frame)."""
        content = Content(text) if isinstance(text, str) else text
        self._at_end = end
        if not content.is_same(self._content):
            self._content = content
            self._wrap()
            self.refresh()
        self._scroll()

    def _wrap(self) -> None:
        self._width = width = self.scrollable_content_region.width
        lines: list[Content] = []
        if width:
            # kept per line of text: most lines of the notebook and the feed are there at the next step too
            wrapped, self._wrapped = self._wrapped, {}
            for line in self._content.split("\n", allow_blank=True):
                key = (line.plain, tuple(line.spans), width)
                pieces = self._wrapped[key] = wrapped.get(key) or wrap_lines(line, width)
                lines.extend(pieces)
        self._lines = lines
        self._strips = {}
        set_virtual_size(self, Size(width, len(self._lines)))

    def _scroll(self) -> None:
        y = self.max_scroll_y if self._at_end else 0
        if self._width and y != self.scroll_y:
            self.scroll_to(y=y, animate=False, immediate=True)

    def on_resize(self) -> None:
        if self.scrollable_content_region.width != self._width:
            self._wrap()
            self._scroll()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips = {}  # e.g. the muted style of the empty text

    def _render(self, index: int, width: int) -> Strip:
        base = self.visual_style
        if index >= len(self._lines):
            return Strip.blank(width, base.rich_style)
        return content_strip(self._lines[index], width, base, self._get_style)

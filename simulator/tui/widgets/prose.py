"""Prose: text that wraps Chinese and English properly at any width.

Textual wraps at spaces only, so a Chinese paragraph (one long "word") would jump to the next line
whole or start a line with a comma. Prose breaks its text with `simulator.tui.wrap` for the width it
is given and hands Textual lines that already fit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich.segment import Segment
from textual.content import Content
from textual.geometry import Size
from textual.strip import Strip
from textual.style import Style
from textual.widget import Widget

from simulator.tui.wrap import break_offsets


# Indentation and a list marker at the start of a line: continuation lines hang under the text.
HANG = re.compile(r"^ *(?:[•·\-✓✗⚠✎!] +|\d{1,2}\. +|[+−±]\d+ +)?")


def wrap_lines(content: Content, width: int, keep: Sequence[tuple[int, int]] = ()) -> list[Content]:
    """`content` as lines no wider than `width` cells; lines that start with indentation or a list
    marker keep their continuation lines under the text; text in the `keep` ranges (offsets in the
    first line) is not broken if it can be helped."""
    if width <= 0:
        return content.split("\n", allow_blank=True)
    lines: list[Content] = []
    for number, line in enumerate(content.split("\n", allow_blank=True)):
        plain = line.plain
        if number == 0 and keep:
            lines.extend(_pieces(line, break_offsets(plain, width, keep)))
            continue
        match = HANG.match(plain)
        hang = len(match.group(0)) if match else 0  # the pattern is narrow characters only
        if hang and hang <= width // 2:
            head, body = line[:hang], line[hang:]
            pieces = _pieces(body, break_offsets(body.plain, width - hang))
            lines.append(head + pieces[0])
            lines.extend(Content(" " * hang) + piece for piece in pieces[1:])
        else:
            lines.extend(_pieces(line, break_offsets(plain, width)))
    return lines


def _pieces(line: Content, offsets: list[int]) -> list[Content]:
    """`line` cut at `offsets`, trailing spaces dropped (unstyled text is cut as plain strings: faster)."""
    if not offsets:
        return [line.rstrip()]
    if not line.spans:
        plain = line.plain
        cuts = [0, *offsets, len(plain)]
        return [Content(plain[a:b].rstrip()) for a, b in zip(cuts, cuts[1:])]
    return [piece.rstrip() for piece in line.divide(offsets)]


def wrap_content(content: Content, width: int, keep: Sequence[tuple[int, int]] = ()) -> Content:
    """`wrap_lines` joined into one text."""
    if width <= 0:
        return content
    return Content("\n").join(wrap_lines(content, width, keep))


def join_items(items: Sequence[str | Content], separator: str = " · ") -> tuple[Content, list[tuple[int, int]]]:
    """The items joined on one line, and the range of each (to keep it whole when wrapping)."""
    parts: list[Content] = []
    keep: list[tuple[int, int]] = []
    offset = 0
    for i, item in enumerate(items):
        piece = item if isinstance(item, Content) else Content(item)
        if i:
            parts.append(Content(separator))
            offset += len(separator)
        keep.append((offset, offset + len(piece.plain)))
        parts.append(piece)
        offset += len(piece.plain)
    return Content("").join(parts), keep


def content_strip(line: Content, width: int, base: Style, get_style) -> Strip:
    """One line of text that already fits as a strip `width` cells wide. Textual's general text
    renderer would wrap and align it again: for lines wrapped here that costs two thirds of a frame's
    text drawing. (`get_style` resolves style names such as "$accent": the widget's `_get_style`.)"""
    segments = [Segment(text, style.rich_style) for text, style in line.render(base, "", parse_style=get_style)]
    return Strip(segments, line.cell_length).crop_extend(0, width, base.rich_style)


class WrappedLines(Widget):
    """A widget whose `render()` returns text already broken into lines that fit its width (and the
    same object until it changes): its lines are drawn straight to strips, and kept until the text,
    the width or the widget's style changes."""

    _line_strips: tuple[Content, Style, int, list[Content], dict[int, Strip]] | None = None

    def render_line(self, y: int) -> Strip:
        if self.styles.text_align not in ("left", "start"):
            return super().render_line(y)  # aligned text: Textual's renderer does the aligning
        content = self.render()
        if not isinstance(content, Content):
            return super().render_line(y)
        base = self.visual_style
        width = self.size.width
        cached = self._line_strips
        if cached is None or cached[0] is not content or cached[1] is not base or cached[2] != width:
            cached = self._line_strips = (content, base, width, content.split("\n", allow_blank=True), {})
        lines, strips = cached[3], cached[4]
        if y >= len(lines):
            return Strip.blank(width, base.rich_style)
        strip = strips.get(y)
        if strip is None:  # only the lines asked for: in a scrolling panel most are out of sight
            strip = strips[y] = content_strip(lines[y], width, base, self._get_style)
        return strip


class Line(WrappedLines):
    """One line of text that never changes size (a title bar): updating it repaints, never re-lays out."""

    DEFAULT_CSS = """
    Line {
        height: 1;
        width: 1fr;
    }
    """

    def __init__(self, text: str = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._text = text
        self._drawn: tuple[int, Content] | None = None

    @property
    def text(self) -> str:
        return self._text

    def update(self, text: str) -> None:
        if text != self._text:
            self._text = text
            self._drawn = None
            self.refresh()

    def render(self) -> Content:
        width = self.size.width
        if self._drawn is None or self._drawn[0] != width:
            self._drawn = (width, Content(self._text).truncate(width, ellipsis=True))
        return self._drawn[1]


class Prose(WrappedLines):
    """Static text with CJK-aware wrapping. `update()` replaces the text."""

    DEFAULT_CSS = """
    Prose {
        height: auto;
        width: 1fr;
    }
    """

    def __init__(
        self,
        text: str | Content = "",
        *,
        items: Sequence[str | Content] | None = None,
        markup: bool = False,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._markup = markup
        self._content = self._to_content(text)
        self._keep: list[tuple[int, int]] = []
        self._wrapped: dict[int, tuple[Content, int]] = {}  # width → (lines, height)
        if items is not None:
            self._content, self._keep = join_items(items)

    def _to_content(self, text: str | Content) -> Content:
        if isinstance(text, Content):
            return text
        return Content.from_markup(text) if self._markup else Content(text)

    @property
    def text(self) -> str:
        return self._content.plain

    def update(self, text: str | Content) -> None:
        self._set(self._to_content(text), [])

    def update_items(self, items: Sequence[str | Content]) -> None:
        """One line of items (e.g. "Stock 310 · Trust 60"): lines break between items, not inside them."""
        self._set(*join_items(items))

    def _set(self, content: Content, keep: list[tuple[int, int]]) -> None:
        if content.is_same(self._content) and keep == self._keep:
            return  # nothing changed: nothing to draw
        width = self.size.width
        old_height = self._height(width) if width else -1
        self._content, self._keep = content, keep
        self._wrapped = {}
        # a new layout only when the height changes; otherwise a repaint of this widget is enough
        self.refresh(layout=not width or self._height(width) != old_height)

    def _height(self, width: int) -> int:
        return self._wrap(width)[1]

    def _lines(self, width: int) -> Content:
        return self._wrap(width)[0]

    def _wrap(self, width: int) -> tuple[Content, int]:
        """The text wrapped at `width`, and its height (kept per width: layout asks at more than one,
        with and without a scrollbar)."""
        wrapped = self._wrapped.get(width)
        if wrapped is None:
            text = wrap_content(self._content, width, self._keep)
            wrapped = self._wrapped[width] = (text, len(text.split("\n", allow_blank=True)))
        return wrapped

    def get_content_width(self, container: Size, viewport: Size) -> int:
        longest = max((line.cell_length for line in self._content.split("\n", allow_blank=True)), default=0)
        return min(longest, container.width)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self._height(width) if width else 0

    def render(self) -> Content:
        return self._lines(self.size.width)

"""The narrative: the briefing, steps entered, decisions taken (with coaching feedback), the ending.

It grows all session long, so it is a Line-API `ScrollView` (as in Toolong): blocks are wrapped
once per width (CJK-aware) and only the lines on screen are drawn. Adding a step mounts nothing
and lays nothing out; earlier blocks are dimmed, and the view scrolls to the newest block so the
trainee can always scroll back to what was said before.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.content import Content
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from simulator.tui.widgets.prose import content_strip, wrap_lines


@dataclass(frozen=True)
class Part:
    text: str | Content
    role: str = ""  # step-title, step-text, choice-text, choice-reply, coach-title, coach-feedback, coach-tag, coach-citation


@dataclass(frozen=True)
class Block:
    kind: str  # briefing | step | choice | coaching | ending | notice
    parts: tuple[Part, ...]
    tone: str = ""  # the ending's outcome: good | mixed | bad

    @property
    def text(self) -> str:
        return "\n".join(p.text.plain if isinstance(p.text, Content) else p.text for p in self.parts)


ROLE_STYLES = {
    "step-title": "bold $accent",
    "choice-text": "bold",
    "choice-reply": "italic",
    "coach-title": "bold $text-success",
    "coach-citation": "$text-muted",
    "notice": "italic $text-muted",
}
ROLE_INDENT = {"coach-citation": 4}
MARGIN = 1  # a column of space on each side
BAR = "▌ "  # the coaching block's left edge


def _part_lines(part: Part, width: int) -> list[Content]:
    """A part wrapped at `width`, then styled for its role (wrapping plain text is faster)."""
    text = part.text if isinstance(part.text, Content) else Content(part.text)
    indent = ROLE_INDENT.get(part.role, 0)
    lines = wrap_lines(Content(" " * indent) + text if indent else text, width)
    style = ROLE_STYLES.get(part.role)
    return [line.stylize_before(style) for line in lines] if style else lines


class StoryLog(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    StoryLog {
        height: 1fr;
        scrollbar-gutter: stable;
    }
    StoryLog > .story--past {
        color: $text-muted;
    }
    StoryLog > .story--coaching {
        background: $success-muted 40%;
    }
    StoryLog > .story--coaching-bar {
        color: $success;
    }
    StoryLog > .story--good {
        background: $success-muted;
        color: $text-success;
        text-style: bold;
    }
    StoryLog > .story--mixed {
        background: $warning-muted;
        color: $text-warning;
        text-style: bold;
    }
    StoryLog > .story--bad {
        background: $error-muted;
        color: $text-error;
        text-style: bold;
    }
    """
    COMPONENT_CLASSES = {"story--past", "story--coaching", "story--coaching-bar", "story--good", "story--mixed", "story--bad"}

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.blocks: list[Block] = []
        self.past = 0  # blocks before this index are from earlier steps (dimmed)
        self._width = 0
        self._lines: list[tuple[Content, int]] = []  # (line, block index), blank separators included
        self._starts: list[int] = []  # first line of each block
        self._strips: dict[int, Strip] = {}
        self._revealing = 0  # the block scrolled to after the last add

    @property
    def text(self) -> str:
        return "\n".join(block.text for block in self.blocks)

    # -------------------------------------------------------- attributes down

    def add(self, blocks: list[Block], reveal: int = 0) -> None:
        """Append blocks; what was there before is dimmed and the new ones are scrolled to (from
        the block `reveal` among them: the last decision when a session is resumed)."""
        if not blocks:
            return
        self.past = len(self.blocks)
        first_new = len(self.blocks)
        self.blocks.extend(blocks)
        self._strips.clear()  # the dimming changed
        self._revealing = first_new + reveal
        if self._width:
            self._wrap_from(first_new)
            self._reveal(self._revealing)
        self.refresh()

    # -------------------------------------------------------- layout

    def _content_width(self) -> int:
        return max(self.scrollable_content_region.width - 2 * MARGIN, 1)

    def _wrap_from(self, start: int) -> None:
        """Wrap blocks[start:] at the current width and append their lines."""
        width = self._width
        for index in range(start, len(self.blocks)):
            block = self.blocks[index]
            self._starts.append(len(self._lines))
            inner = width - len(BAR) if block.kind == "coaching" else width
            for part in block.parts:
                self._lines.extend((line, index) for line in _part_lines(part, max(inner, 1)))
            self._lines.append((Content(""), -1))
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._lines))

    def _rewrap(self) -> None:
        self._width = self._content_width()
        self._lines, self._starts, self._strips = [], [], {}
        self._wrap_from(0)

    def _reveal(self, index: int) -> None:
        """Scroll so the block starts at the top: at once, so the step is drawn in the same frame
        (not once at the old position and again scrolled), and again once the new height is laid
        out, in case the view's height changed (a no-op when it did not)."""
        if 0 <= index < len(self._starts):
            y = self._starts[index]
            if self.size:
                self.scroll_to(y=y, animate=False, immediate=True)
            self.call_after_refresh(self.scroll_to, y=y, animate=False)

    def on_resize(self) -> None:
        if self._content_width() != self._width:
            self._rewrap()
            self._reveal(self._revealing)
            self.refresh()

    # -------------------------------------------------------- drawing

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        strip = self._strips.get(index)
        if strip is None or strip.cell_length != width:
            strip = self._render(index, width)
            self._strips[index] = strip
        return strip.crop(self.scroll_offset.x, self.scroll_offset.x + width)

    def _render(self, index: int, width: int) -> Strip:
        if index >= len(self._lines):
            return Strip.blank(width, self.rich_style)
        line, block_index = self._lines[index]
        if block_index < 0:
            return Strip.blank(width, self.rich_style)
        block = self.blocks[block_index]
        if block.kind == "coaching":
            line = Content.styled(BAR, self.get_visual_style("story--coaching-bar")) + line
        line = Content(" " * MARGIN) + line
        if block.kind == "coaching":
            line = line.pad_right(max(width - line.cell_length, 0)).stylize_before(self.get_visual_style("story--coaching"))
        elif block.kind == "ending" and block.tone:
            line = line.pad_right(max(width - line.cell_length, 0)).stylize_before(self.get_visual_style(f"story--{block.tone}"))
        if block_index < self.past:
            line = line.stylize_before(self.get_visual_style("story--past"))
        return content_strip(line, width, self.visual_style, self._get_style)

    def lines(self) -> list[str]:
        """The wrapped lines as plain text (what the trainee reads, for tests and tools)."""
        return [line.plain for line, _ in self._lines]

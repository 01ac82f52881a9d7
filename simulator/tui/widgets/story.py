"""The narrative: the briefing, steps entered, decisions taken (with coaching feedback), the ending.

It grows all session long, so it is a Line-API `ScrollView` (as in Toolong): blocks are wrapped
once per width (CJK-aware) and only the lines on screen are drawn. Adding a step mounts nothing
and lays nothing out (`set_virtual_size`); earlier blocks are dimmed, and the view scrolls to the
newest block so the trainee can always scroll back to what was said before.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from textual.content import Content
from textual.geometry import Size
from textual.strip import Strip
from textual.style import Style

from simulator.tui.widgets.prose import wrap_lines
from simulator.tui.widgets.scrolling import LineScrollView, set_virtual_size


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
    """A part wrapped at `width` (its role's style is applied when a line is drawn)."""
    text = part.text if isinstance(part.text, Content) else Content(part.text)
    indent = ROLE_INDENT.get(part.role, 0)
    return wrap_lines(Content(" " * indent) + text if indent else text, width)


class StoryLog(LineScrollView, can_focus=True):
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
        self._lines: list[tuple[Content, int, str]] = []  # (line, block index, role), blank separators included
        self._starts: list[int] = []  # first line of each block
        self._styles: dict[tuple[int, str], tuple[Style, Style]] = {}  # (block index, role) → (margin, text) style
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
        self._styles.clear()
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
                self._lines.extend((line, index, part.role) for line in _part_lines(part, max(inner, 1)))
            self._lines.append((Content(""), -1, ""))
        set_virtual_size(self, Size(self.scrollable_content_region.width, len(self._lines)))

    def _rewrap(self) -> None:
        self._width = self._content_width()
        self._lines, self._starts, self._strips, self._styles = [], [], {}, {}
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

    def _render(self, index: int, width: int) -> Strip:
        base = self.visual_style
        if index >= len(self._lines) or self._lines[index][1] < 0:
            return Strip.blank(width, base.rich_style)
        line, block_index, role = self._lines[index]
        block = self.blocks[block_index]
        margin, text_style = self._line_styles(block_index, role)
        segments = [Segment(" " * MARGIN, margin.rich_style)]
        if block.kind == "coaching":
            segments.append(Segment(BAR, (margin + self.get_visual_style("story--coaching-bar")).rich_style))
        segments.extend(Segment(text, style.rich_style) for text, style in line.render(text_style, "", parse_style=self._get_style))
        strip = Strip(segments)
        if block.kind == "coaching" or (block.kind == "ending" and block.tone):
            return strip.crop_extend(0, width, margin.rich_style)  # the block's background runs to the edge
        return strip.crop_extend(0, width, base.rich_style)

    def _line_styles(self, block_index: int, role: str) -> tuple[Style, Style]:
        """The style under a line's margin (and padding), and under its text: the widget's style, then
        the dimming of earlier steps, the block's background, the part's role. Resolved once per block
        and role (a line is then one or two segments, not a stack of styled spans)."""
        key = (block_index, role)
        styles = self._styles.get(key)
        if styles is None:
            block = self.blocks[block_index]
            margin = self.visual_style
            if block_index < self.past:
                margin += self.get_visual_style("story--past")
            if block.kind == "coaching":
                margin += self.get_visual_style("story--coaching")
            elif block.kind == "ending" and block.tone:
                margin += self.get_visual_style(f"story--{block.tone}")
            role_style = ROLE_STYLES.get(role)
            text = margin + self._get_style(role_style) if role_style else margin
            styles = self._styles[key] = (margin, text)
        return styles

    def lines(self) -> list[str]:
        """The wrapped lines as plain text (what the trainee reads, for tests and tools)."""
        return [line.plain for line, _, _ in self._lines]

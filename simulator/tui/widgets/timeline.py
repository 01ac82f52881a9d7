"""The debrief viewer's timeline: one line per decision with its mark (!, ?!, ?, ??).

The rows are plain `TimelineItem`s built by the screen from `scoring.viewer.Row`; moving the
highlight (↑/↓, or ←/→ on the screen, or a click) posts OptionList.OptionHighlighted.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

# how each label is drawn: the mark in the timeline's mark column, and its colour
MARK_STYLE = {
    "best": "bold $text-success",
    "good": "$text-muted",
    "inaccuracy": "bold $text-warning",
    "mistake": "bold $text-error",
    "blunder": "bold reverse $text-error",
}
MARK_CELLS = 2


@dataclass(frozen=True)
class TimelineItem:
    turn: int
    text: str
    label: str | None  # best, good, inaccuracy, mistake, blunder; None before (or without) the analysis
    mark: str  # MARKS[label] ("" for good)


def mark_content(label: str | None, mark: str) -> Content:
    """Always MARK_CELLS wide so the texts line up; '·' for good, blank before the analysis."""
    if label is None:
        return Content(" " * MARK_CELLS)
    shown = mark or "·"
    return Content.styled(shown, MARK_STYLE.get(label, "")) + Content(" " * (MARK_CELLS - len(shown)))


def item_prompt(item: TimelineItem) -> Content:
    return Content.assemble((f"D{item.turn:<3}", "bold"), mark_content(item.label, item.mark), " ", item.text)


class Timeline(OptionList):
    """The decisions of one session; `set_items` keeps the highlight where it was."""

    def set_items(self, items: list[TimelineItem]) -> None:
        highlighted = self.highlighted
        if self.option_count == len(items):
            for i, item in enumerate(items):
                self.replace_option_prompt_at_index(i, item_prompt(item))
        else:
            self.clear_options()
            self.add_options([Option(item_prompt(item), id=f"turn:{item.turn}") for item in items])
        if items:
            self.highlighted = min(highlighted or 0, len(items) - 1)

"""Side panels of the play screen: what happened this week, and the trainee's notebook."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content

from simulator.tui.widgets.prose import Line
from simulator.tui.widgets.scrolling import ScrollingText


class TitledPanel(Vertical):
    """A title line over a scrolling block of text (the title stays when the text scrolls). New
    text never lays the screen out again: the panel's size does not depend on it."""

    DEFAULT_CSS = """
    TitledPanel {
        height: 1fr;
    }
    TitledPanel > .panel-title {
        text-style: bold;
        color: $accent;
    }
    TitledPanel > ScrollingText {
        height: 1fr;
    }
    TitledPanel .panel-body.-empty {
        color: $text-muted;
    }
    """

    def __init__(self, title: str, empty: str, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.panel_title = title
        self.empty = empty
        self._shown: tuple[list[str], int] | None = None

    def compose(self) -> ComposeResult:
        yield Line(self.panel_title, classes="panel-title")
        yield ScrollingText(self.empty, classes="panel-body -empty")

    def show(self, lines: list[str], title: str | None = None, *, newest: int = 0, scroll: bool = False) -> None:
        """Show `lines`; the last `newest` of them are emphasised; `scroll` shows the end."""
        if title is not None:
            self.query_one(".panel-title", Line).update(title)
        if self._shown == (lines, newest) and not scroll:
            return  # the same lines: nothing to redraw
        self._shown = (list(lines), newest)
        body = self.query_one(".panel-body", ScrollingText)
        body.set_class(not lines, "-empty")
        if not lines:
            body.update(self.empty)
            return
        old = len(lines) - newest
        text = Content("\n").join(Content(line) if i < old else Content.styled(line, "bold") for i, line in enumerate(lines))
        body.update(text, end=scroll)


class EventsFeed(TitledPanel):
    """What the last decision caused: effects, the market's weeks, the ending."""


class Notebook(TitledPanel):
    """What the trainee has learned so far (`session.notebook`)."""

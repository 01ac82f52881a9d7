"""Where the scorecard goes on the end screen.

Phase 1 shows what the scorer records now (its text scorecard); phase 2 replaces the body with the
full view — process and results, the principle breakdown, the grade — without moving the slot.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label

from simulator.tui.widgets.prose import Prose


class ScorecardPanel(Vertical):
    DEFAULT_CSS = """
    ScorecardPanel {
        height: auto;
    }
    ScorecardPanel > .panel-title {
        text-style: bold;
        color: $accent;
    }
    """

    def __init__(self, title: str, lines: list[str], empty: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.panel_title = title
        self.score_lines = lines
        self.empty = empty

    def compose(self) -> ComposeResult:
        yield Label(self.panel_title, classes="panel-title")
        yield Prose("\n".join(self.score_lines) if self.score_lines else self.empty, classes="scorecard-body")

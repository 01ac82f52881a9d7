"""The end: how the story ended, every decision with the principles it tagged, and the scorecard.

Layout, top to bottom: outcome, ending text, "Your decisions", then the `#scorecard` slot
(`ScorecardPanel`), then where the log is. Phase 2 fills the scorecard slot with the full view and
adds the debrief key; nothing else has to move.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Label

from simulator.i18n import t
from simulator.tui.game import Game
from simulator.tui.keys import localize_bindings
from simulator.tui.messages import OpenDebrief, OpenHome
from simulator.tui.present import tags_inline
from simulator.tui.widgets.prose import Prose
from simulator.tui.widgets.scorecard import ScorecardPanel


class EndScreen(Screen):
    BINDINGS = [
        Binding("enter", "home", "tui_key_home", key_display="⏎"),
        Binding("b", "debrief", "tui_key_viewer_debrief"),
        Binding("pageup", "scroll('up')", show=False),
        Binding("pagedown", "scroll('down')", show=False),
        Binding("q", "app.quit_app", "tui_key_quit"),
    ]

    def __init__(self, game: Game) -> None:
        super().__init__()
        self.game = game
        self.lang = game.lang
        localize_bindings(self, self.lang)

    def compose(self) -> ComposeResult:
        game, lang = self.game, self.lang
        outcome, title, text = game.ending()
        yield Label(" · ".join([game.title, t("tui_the_end", lang)]), id="topbar")
        with VerticalScroll(id="end-body"):
            yield Label(t("ending", lang, title=t(f"outcome_{outcome}", lang)) if outcome else "", id="outcome", classes=f"outcome -{outcome}")
            if title:
                yield Label(title, classes="step-title")
            yield Prose(text, id="ending-text")
            yield Label(t("tui_your_decisions", lang), classes="section-title")
            with Vertical(id="decisions"):
                for d in game.decisions():
                    where = [(d.step_title, "$text-muted"), " — "] if d.step_title else []
                    yield Prose(Content.assemble((f"{d.turn}. ", "bold"), *where, d.text), classes="decision")
                    if d.tags:
                        yield Prose(tags_inline(d.tags), classes="decision-tags")
            lines = game.scorecard_lines()
            if lines and lines[0].startswith("=="):
                lines = lines[1:]
            yield ScorecardPanel(t("scorecard", lang), lines, t("tui_no_scorecard", lang), id="scorecard")
            yield Prose(t("log_saved", lang, path=game.path), id="log-path")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#end-body", VerticalScroll).focus()

    def action_home(self) -> None:
        self.post_message(OpenHome())

    def action_debrief(self) -> None:
        """This session in the debrief viewer (the log is complete: the end record is written)."""
        self.post_message(OpenDebrief(self.game.path))

    def action_scroll(self, direction: str) -> None:
        body = self.query_one("#end-body", VerticalScroll)
        body.scroll_page_up() if direction == "up" else body.scroll_page_down()

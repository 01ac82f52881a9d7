"""Play: the narrative, the numbered choices, the market dashboard, this week's events, the notebook.

Every decision runs `Game.decide` (i.e. `RecordedSession.choose`) in a worker thread; the screen
only moves on when the worker reports that the decision is in the log. While it runs the choices
are locked, so a double key press cannot decide twice.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Label

from simulator.diagnostics import DiagnosticError
from simulator.i18n import t
from simulator.tui.game import Game, cover_band, render_diagnostics
from simulator.tui.keys import localize_bindings
from simulator.tui.messages import Choose, DecisionFailed, DecisionRecorded, OpenEnd
from simulator.tui.present import StepView, step_view
from simulator.tui.widgets.choices import ChoicesBox, ChoicesList
from simulator.tui.widgets.dashboard import Dashboard, MarketStrip
from simulator.tui.widgets.panels import EventsFeed, Notebook
from simulator.tui.widgets.prose import Line
from simulator.tui.widgets.story import StoryLog


class PlayScreen(Screen):
    BINDINGS = [
        Binding("1", "choose(1)", "tui_key_choose", key_display="1–9"),
        *[Binding(str(n), f"choose({n})", show=False) for n in range(2, 10)],
        Binding("enter", "results", "tui_key_results", key_display="⏎"),
        Binding("d", "toggle_market", "tui_key_market"),
        Binding("pageup", "story('up')", show=False),
        Binding("pagedown", "story('down')", show=False),
        Binding("q", "leave", "tui_key_quit"),
    ]

    def __init__(self, game: Game, *, resumed: bool = False) -> None:
        super().__init__()
        self.game = game
        self.lang = game.lang
        self.coaching = game.mode == "coaching"
        self.resumed = resumed
        self.busy = False
        self.band = cover_band()
        localize_bindings(self, self.lang)

    # -------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        lang = self.lang
        yield Line(id="topbar")
        with Horizontal(id="play-main"):
            with Vertical(id="play-left"):
                yield StoryLog(id="story")
                yield MarketStrip(id="strip")
                yield Label(t("tui_your_move", lang), id="choices-title", classes="section-title")
                choices = ChoicesList(id="choices")
                localize_bindings(choices, lang)
                with ChoicesBox(id="choices-box"):
                    yield choices
                yield Label(t("tui_finished_hint", lang), id="finished-hint")
            with Vertical(id="side"):
                yield Line(id="market-title", classes="section-title")
                yield Dashboard((t("tui_cover", lang), t("tui_sales", lang)), id="dashboard")
                yield EventsFeed(t("tui_this_week", lang), t("tui_nothing_yet", lang), id="feed")
                yield Notebook(t("notebook", lang), t("notebook_empty", lang), id="notebook")
        yield Footer()

    async def on_mount(self) -> None:
        game = self.game
        view = step_view(game, game.events, coaching=self.coaching, band=self.band, opening=True, resumed=self.resumed)
        await self._show(view)
        self.query_one(ChoicesList).focus()

    # -------------------------------------------------------- showing the state

    async def _show(self, view: StepView) -> None:
        with self.app.batch_update():  # one layout and one repaint for the whole step
            self.query_one(StoryLog).add(view.blocks, reveal=view.reveal)
            self.query_one("#topbar", Line).update(view.topbar)
            self.query_one("#market-title", Line).update(view.market_title)
            self.query_one(Dashboard).show(view.cards)
            self.query_one(MarketStrip).show(view.cards)
            self.query_one(EventsFeed).show(view.feed, title=view.feed_title)
            self.query_one(Notebook).show(view.notes, newest=view.new_notes, scroll=bool(view.new_notes))
            choices = self.query_one(ChoicesList)
            if view.finished:
                self.add_class("-finished")
                choices.set_items([])
                self.set_focus(None)  # the choices are gone: Enter goes to the screen (results)
                self.refresh_bindings()  # the footer now offers the results instead of the choices
            else:
                choices.set_items(view.items)
                choices.set_busy(False)
                if self.focused is None:
                    choices.focus()

    # -------------------------------------------------------- deciding

    def action_choose(self, number: int) -> None:
        if not self.busy and not self.game.finished:
            self.query_one(ChoicesList).choose_number(number)

    @on(Choose)
    def _choose(self, message: Choose) -> None:
        message.stop()
        if self.busy or self.game.finished:
            return
        self.busy = True
        self.query_one(ChoicesList).set_busy(True)
        self._decide(message.option_id)

    @work(thread=True, exit_on_error=False, group="decide")
    def _decide(self, option_id: str) -> None:
        """Record the decision (fsync per event), then prepare what the screen will show."""
        try:
            events = self.game.decide(option_id)
        except DiagnosticError as err:
            self.post_message(DecisionFailed(render_diagnostics(err)))
            return
        self.post_message(DecisionRecorded(events, step_view(self.game, events, coaching=self.coaching, band=self.band)))

    @on(DecisionRecorded)
    async def _recorded(self, message: DecisionRecorded) -> None:
        self.busy = False
        await self._show(message.view)

    @on(DecisionFailed)
    def _failed(self, message: DecisionFailed) -> None:
        self.busy = False
        self.query_one(ChoicesList).set_busy(False)
        self.notify(message.text, title=t("tui_error", self.lang), severity="error", timeout=30)

    def decision_crashed(self) -> None:
        """Called by the app when the decision worker hit a bug (the log is safe)."""
        self.busy = False
        self.query_one(ChoicesList).set_busy(False)

    # -------------------------------------------------------- other keys

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "results":
            return self.game.finished
        if action == "choose":
            return not self.game.finished
        return True

    def action_results(self) -> None:
        if self.game.finished:
            self.post_message(OpenEnd())

    def action_toggle_market(self) -> None:
        self.toggle_class("-show-market")
        if not self.game.finished:
            self.call_after_refresh(self._refocus)

    def _refocus(self) -> None:
        choices = self.query_one(ChoicesList)
        if choices.display and choices.region.width:
            choices.focus()

    def action_story(self, direction: str) -> None:
        story = self.query_one(StoryLog)
        story.scroll_page_up() if direction == "up" else story.scroll_page_down()

    def action_leave(self) -> None:
        if self.game.finished:
            self.app.action_quit_app()
            return
        from simulator.tui.screens.quit import QuitScreen

        self.app.push_screen(QuitScreen(self.game.path, self.lang), self._leave_answer)

    def _leave_answer(self, leave: bool | None) -> None:
        if leave:
            self.app.action_quit_app()

"""Play: the narrative, the numbered choices, the market dashboard, this week's events, the notebook.
At a negotiation step the numbered choices give way to the negotiation table: an offer builder, both
sides' offers, the counterpart's lines and the moves on letter keys.

Every decision runs `Game.decide` (i.e. `RecordedSession.choose`, with a negotiation move's params)
in a worker thread; the screen only moves on when the worker reports that the decision is in the
log. While it runs the choices and moves are locked, so a double key press cannot decide twice.
"""

from __future__ import annotations

import gc
import time

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.screen import Screen
from textual.widgets import Footer, Label

from simulator.diagnostics import DiagnosticError
from simulator.i18n import t
from simulator.schema import NegotiationStep
from simulator.tui.app import TALL, WIDE
from simulator.tui.game import Game, cover_band, render_diagnostics
from simulator.tui.keys import localize_bindings
from simulator.tui.messages import Choose, DecisionFailed, DecisionRecorded, MovePicked, OfferEdited, OpenEnd
from simulator.tui.present import StepView, step_view
from simulator.tui.table import MOVE_KEYS
from simulator.tui.widgets.choices import ChoicesBox, ChoicesList
from simulator.tui.widgets.negotiation import IssueInput, NegotiationTable
from simulator.tui.widgets.dashboard import Dashboard, MarketStrip
from simulator.tui.widgets.panels import EventsFeed, Notebook
from simulator.tui.widgets.prose import Line
from simulator.tui.widgets.story import StoryLog


_frozen = False
# A number key decides at once, so a trainee who then presses Enter out of habit (or a number twice)
# would pick an option of the next step unread; picks this soon after a step appears are ignored.
KEY_GUARD = 0.4  # seconds
clock = time.monotonic  # (tests move time on by hand)
GC_PAUSE_AFTER = 0.1  # seconds after a step is shown before the collector may run again (the frame is out by then)


def _freeze_heap() -> None:
    """Once per process, when the first play screen opens: move what is alive (Textual, the
    scenario, the market) out of the collector's way, so later full collections take a few ms,
    not ~100 ms. (No collection first: it would cost those 100 ms now; the little garbage there
    is stays.)"""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()


class PlayScreen(Screen):
    BINDINGS = [
        Binding("1", "choose(1)", "tui_key_choose", key_display="1–9"),
        *[Binding(str(n), f"choose({n})", show=False) for n in range(2, 10)],
        Binding("enter", "results", "tui_key_results", key_display="⏎"),
        Binding("d", "toggle_market", "tui_key_market"),
        Binding("v", "toggle_story", "tui_key_table_story"),
        *[Binding(key, f"move('{move}')", show=False) for move, key in MOVE_KEYS.items()],
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
        self.negotiating = False  # a negotiation step is being played: the table replaces the choices
        self.story_shown = False  # at the table: v put the story in the table's place
        self._editing: IssueInput | None = None  # the input that had the focus when v hid the table
        self._gc_paused = False
        self.band = cover_band()
        self._shown_at = 0.0  # when the current step appeared (clock())
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
                rows = max((len(step.issues) for step in self.game.scenario.steps if isinstance(step, NegotiationStep)), default=0)
                yield NegotiationTable(rows, id="table")
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
        if view.table is None:
            self.query_one(ChoicesList).focus()
        _freeze_heap()

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
            table = self.query_one(NegotiationTable)
            negotiating = view.table is not None
            if negotiating != self.negotiating:
                self.negotiating = negotiating
                self.story_shown = False
                self._arrange(self.size)
                self.refresh_bindings()
            if view.table is not None:
                await table.show(view.table, self.lang)
                self._preview()
                if not isinstance(self.focused, IssueInput):
                    self.call_after_refresh(table.focus_builder)
            else:
                table.view = None  # its keys make no moves once the negotiation is over
            if view.finished:
                # shown and hidden directly: a class would restyle them against the whole stylesheet (~5 ms)
                for selector in ("#choices-box", "#choices-title"):
                    self.query_one(selector).display = False
                self.query_one("#finished-hint").display = True
                choices.set_items([])
                self.call_after_refresh(self._offer_results)  # the ending first; the footer a frame later
            else:
                choices.set_items([] if negotiating else view.items)  # the table's keys make the moves
                choices.set_busy(False)
                if not negotiating and (self.focused is None or isinstance(self.focused, IssueInput)):
                    choices.focus()
        self._shown_at = clock()

    def _arrange(self, size: Size) -> None:
        """The left column for the step: the numbered choices, or the negotiation table in their
        place (on a small screen in the story's and the market strip's place too; v swaps the story
        in). Set here rather than by classes: a class change restyles the widget and its parts
        against the whole stylesheet, ≈ 6 ms each time the table opens or closes."""
        story, strip = self.query_one(StoryLog).styles, self.query_one(MarketStrip).styles
        negotiating, small = self.negotiating, size.width < WIDE or size.height < TALL
        for selector in ("#choices-title", "#choices-box"):
            self.query_one(selector).styles.display = "none" if negotiating else None  # None: back to app.tcss
        self.query_one(NegotiationTable).display = negotiating and not self.story_shown
        strip.display = "none" if negotiating and small else None
        if not negotiating:
            story.display = story.height = story.min_height = story.max_height = None
        elif self.story_shown:
            story.display, story.height, story.min_height, story.max_height = "block", "1fr", 5, "100%"
        else:
            story.display, story.height, story.min_height, story.max_height = ("none" if small else None), "auto", 5, "25%"

    def on_resize(self, event: events.Resize) -> None:
        if self.negotiating:
            self._arrange(event.size)

    def _offer_results(self) -> None:
        self.set_focus(None)  # the choices are gone: Enter goes to the screen (results)
        self.refresh_bindings()  # the footer now offers the results instead of the choices

    def _too_soon(self) -> bool:
        guard = self.app.key_guard
        return clock() - self._shown_at < (KEY_GUARD if guard is None else guard)

    # -------------------------------------------------------- deciding

    def action_choose(self, number: int) -> None:
        if not self.busy and not self.game.finished and not self.negotiating and not self._too_soon():
            self.query_one(ChoicesList).choose_number(number, quiet=True)

    @on(Choose)
    def _choose(self, message: Choose) -> None:
        message.stop()
        if self.busy or self.game.finished or (not self.negotiating and self._too_soon()):
            return
        self.busy = True
        self.query_one(ChoicesList).set_busy(True)
        self._pause_gc()
        self._decide(message.option_id, message.params)

    @work(thread=True, exit_on_error=False, group="decide")
    def _decide(self, option_id: str, params: dict | None = None) -> None:
        """Record the decision (fsync per event), then prepare what the screen will show."""
        try:
            events = self.game.decide(option_id, **(params or {}))
        except DiagnosticError as err:
            self.post_message(DecisionFailed(render_diagnostics(err)))
            return
        self.post_message(DecisionRecorded(events, step_view(self.game, events, coaching=self.coaching, band=self.band)))

    @on(DecisionRecorded)
    async def _recorded(self, message: DecisionRecorded) -> None:
        self.busy = False
        await self._show(message.view)
        self.set_timer(GC_PAUSE_AFTER, self._resume_gc)  # once the next step is on the screen

    # A full garbage collection of the heap takes ~100 ms (Textual keeps many objects alive); one
    # that struck between the key press and the next frame was most of the slow decisions. So the
    # collector waits while a decision is recorded and drawn (a few MB at most are allocated then).
    def _pause_gc(self) -> None:
        if not self._gc_paused and gc.isenabled():
            self._gc_paused = True
            gc.disable()

    def _resume_gc(self) -> None:
        if self._gc_paused:
            self._gc_paused = False
            gc.enable()

    def on_unmount(self) -> None:
        self._resume_gc()

    @on(DecisionFailed)
    def _failed(self, message: DecisionFailed) -> None:
        self.busy = False
        self._resume_gc()
        self.query_one(ChoicesList).set_busy(False)
        self.notify(message.text, title=t("tui_error", self.lang), severity="error", timeout=30)

    def decision_crashed(self) -> None:
        """Called by the app when the decision worker hit a bug (the log is safe)."""
        self.busy = False
        self._resume_gc()
        self.query_one(ChoicesList).set_busy(False)

    # -------------------------------------------------------- the negotiation table

    def _table(self):
        return self.query_one(NegotiationTable).view

    def action_move(self, move: str) -> None:
        """A move's key (or a click on it): offers take the builder's values; ask and break_deadlock
        ask which issue or how; accepting and walking away ask first (they end the negotiation)."""
        view = self._table()
        if self.busy or self.game.finished or view is None or move not in {x.move for x in view.tactics}:
            return
        from simulator.tui.screens.pick import PickScreen

        lang = self.lang
        if move in ("offer", "package"):
            self.post_message(Choose(move, {"values": self.query_one(NegotiationTable).values()}))
        elif move in ("ask", "break_deadlock"):
            picks = view.ask if move == "ask" else view.deadlock
            title = t("table_pick_ask" if move == "ask" else "table_pick_deadlock", lang)

            def answer(index: int | None) -> None:
                if index is not None and 0 <= index < len(picks):
                    self.post_message(Choose(move, dict(picks[index].params)))

            self.app.push_screen(PickScreen(title, [p.label for p in picks], lang), answer)
        elif move in ("accept", "walk_away"):
            title = t("table_pick_accept", lang, terms=view.accept_terms) if move == "accept" else t("table_pick_walk", lang)
            yes = t("table_pick_accept_yes" if move == "accept" else "table_pick_walk_yes", lang)

            def confirm(index: int | None) -> None:
                if index == 0:
                    self.post_message(Choose(move))

            self.app.push_screen(PickScreen(title, [yes], lang), confirm)
        else:
            self.post_message(Choose(move))

    @on(MovePicked)
    def _move_picked(self, message: MovePicked) -> None:
        message.stop()
        self.action_move(message.move)

    @on(OfferEdited)
    def _offer_edited(self, message: OfferEdited) -> None:
        message.stop()
        self._preview()

    def _preview(self) -> None:
        """The offer being built, as the engine would take it, and its worth to us."""
        view = self._table()
        table = self.query_one(NegotiationTable)
        if view is None or self.busy or not self.game.session.negotiating:
            return
        try:
            own = float(self.game.preview_offer(table.values())["own_utility"])
        except DiagnosticError:
            table.show_worth("", False)
            return
        text = t("table_worth", self.lang, own=f"{own:.2f}", floor=f"{view.floor:.2f}", theirs=f"{view.their_worth:.2f}")
        if own < view.floor:
            text += " · " + t("table_below_floor", self.lang)
        table.show_worth(text, own < view.floor)

    def action_toggle_story(self) -> None:
        if self.negotiating:
            table = self.query_one(NegotiationTable)
            if not self.story_shown:
                self._editing = self.focused if isinstance(self.focused, IssueInput) else None  # hiding the table blurs it
            self.story_shown = not self.story_shown
            self._arrange(self.size)
            if not self.story_shown:
                self.call_after_refresh(table.focus_builder, self._editing)  # back on the issue being edited

    # -------------------------------------------------------- other keys

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "results":
            return self.game.finished
        if action == "choose":
            return not self.game.finished and not self.negotiating
        if action in ("move", "toggle_story"):
            return self.negotiating and not self.game.finished
        return True

    def action_results(self) -> None:
        if self.game.finished:
            self.post_message(OpenEnd())

    def action_toggle_market(self) -> None:
        self.toggle_class("-show-market")
        if not self.game.finished:
            self.call_after_refresh(self._refocus)

    def _refocus(self) -> None:
        if self.negotiating:
            self.query_one(NegotiationTable).focus_builder()
            return
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

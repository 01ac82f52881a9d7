"""The debrief viewer: a session log's decisions on a timeline, the market as it was at each one,
the best alternative and where it would have led; retry from here.

The data is `scoring.viewer` (plain Python): the log is read and its market replayed in a worker,
then the per-decision analysis runs in another worker with a progress bar; the timeline's marks
appear when it is done. Retry from here asks the app (`RetryFrom`), which builds the retry session
(`simulator.retry.start_retry`) in a worker and opens it in `RetryPlayScreen` — the normal play
screen plus, once decision N is in the log, how the new choice compares with the best option.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Input, Label, LoadingIndicator, OptionList, ProgressBar
from textual.widgets.option_list import Option

from scoring.analysis import DEFAULT_ROLLOUTS
from scoring.analysis_types import MARKS, DecisionAnalysis
from scoring.viewer import LogEntry, LogView, Row, Verdict, analyse_view, compare, find_logs, load_view
from simulator.diagnostics import DiagnosticError
from simulator.i18n import t
from simulator.recorded import RecordedSession
from simulator.schema import Lang
from simulator.transcript import goods_unit
from simulator.tui.game import DealerView, Game, PrincipleTag, catalogue, cover_band, render_diagnostics
from simulator.tui.keys import localize_bindings
from simulator.tui.messages import (
    AnalysisDone,
    AnalysisProgress,
    DecisionRecorded,
    OpenHome,
    RetryFrom,
    ViewFailed,
    ViewLoaded,
)
from simulator.tui.present import dealer_card, tags_inline
from simulator.tui.screens.play import PlayScreen
from simulator.tui.widgets.dashboard import Dashboard
from simulator.tui.widgets.prose import Line, Prose
from simulator.tui.widgets.timeline import Timeline, TimelineItem, mark_content

FLAG_ORDER = ("inaccuracy", "mistake", "blunder")


def _n(x: float) -> str:
    return f"{x:.0f}"


def principle_tags(principles: dict[str, int], lang: Lang) -> list[PrincipleTag]:
    """As `Game.tags`, for a log that is not a live game."""
    cat = catalogue()
    out = []
    for pid, weight in principles.items():
        if pid in cat:
            p = cat.get(pid)
            out.append(PrincipleTag(pid, int(weight), p.text("name", lang), f"{p.citation.seed} · {p.citation.section}"))
        else:
            out.append(PrincipleTag(pid, int(weight), pid, ""))
    return out


def led(view: LogView, da: DecisionAnalysis, option: str, lang: Lang) -> str:
    """Where an option would have led, as the report says it (report_led)."""
    o = da.option(option)
    ending, outcome = view.ending_name(o.ending, lang), view.ending_outcome(o.ending)
    if outcome:
        judged = t(f"outcome_{outcome}", lang)
        ending += f"（{judged}）" if lang == "zh" else f" ({judged})"
    return t("report_led", lang, total=_n(o.expected_total), p10=_n(o.p10), p90=_n(o.p90), ending=ending, share=_n(100 * o.ending_share))


def flags_summary(rows: list[Row], lang: Lang) -> str:
    """e.g. "?! 2 inaccuracy, ?? 1 blunder" (empty when nothing is flagged)."""
    counts = Counter(r.label for r in rows if r.flagged)
    parts = [f"{MARKS[label]} " + t("viewer_flag_count", lang, label=t(f"report_label_{label}", lang), n=counts[label]) for label in FLAG_ORDER if counts[label]]
    return ("，" if lang == "zh" else ", ").join(parts)


class DebriefScreen(Screen):
    BINDINGS = [
        # priority: the timeline's own (horizontal scroll) bindings for ←/→ would hide these in the footer
        Binding("left", "step(-1)", "tui_key_viewer_step", key_display="←→", priority=True),
        Binding("right", "step(1)", show=False, priority=True),
        Binding("f", "next_flag", "tui_key_viewer_flagged"),
        Binding("r", "retry", "tui_key_viewer_retry"),
        Binding("d", "toggle_market", "tui_key_viewer_market"),
        Binding("pageup", "scroll('up')", show=False),
        Binding("pagedown", "scroll('down')", show=False),
        Binding("escape", "home", "tui_key_home", key_display="esc"),
        Binding("q", "app.quit_app", "tui_key_quit"),
    ]

    def __init__(self, path: Path, lang: Lang, *, rollouts: int = DEFAULT_ROLLOUTS) -> None:
        super().__init__()
        self.path = Path(path)
        self.lang = lang
        self.rollouts = rollouts
        self.view: LogView | None = None
        self.index = 0
        self.analysing = False
        self.retrying = False
        self.analysis_problem = ""
        self.band = cover_band()
        localize_bindings(self, lang)

    # -------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        lang = self.lang
        yield Line(t("viewer_title", lang), id="topbar")
        yield LoadingIndicator(id="debrief-loading")
        with Vertical(id="debrief-main"):
            with Vertical(id="debrief-top"):
                yield Label(t("viewer_timeline", lang), id="timeline-title", classes="section-title")
                yield Timeline(id="timeline")
            with Horizontal(id="debrief-body"):
                with VerticalScroll(id="debrief-detail"):
                    yield Line(id="moment-head", classes="step-title")
                    yield Prose("", id="moment-situation")
                    yield Prose("", id="moment-chosen")
                    yield Prose("", id="moment-verdict")
                    yield Prose("", id="moment-principles")
                    yield Prose("", id="moment-feedback")
                    yield Prose("", id="moment-retry")
                with VerticalScroll(id="debrief-market"):
                    yield Line(id="moment-market-title", classes="section-title")
                    yield Prose("", id="moment-no-market")
                    yield Dashboard((t("tui_cover", lang), t("tui_sales", lang)), id="moment-market")
                    yield Prose("", id="moment-notebook")
        with Horizontal(id="analysis-bar"):
            yield Line("", id="analysis-status")
            yield ProgressBar(id="analysis-progress", show_eta=False, show_percentage=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#debrief-main").display = False
        self.query_one("#analysis-bar").display = False
        self._load()

    # -------------------------------------------------------- loading and analysing (workers)

    @work(thread=True, exit_on_error=False, group="debrief")
    def _load(self) -> None:
        try:
            view = load_view(self.path, lang=self.lang, catalogue=catalogue())
        except DiagnosticError as err:
            self.post_message(ViewFailed(render_diagnostics(err)))
            return
        self.post_message(ViewLoaded(view))

    @on(ViewFailed)
    def _failed(self, message: ViewFailed) -> None:
        self.notify(message.text, title=t("viewer_cannot_open", self.lang), severity="error", timeout=30)
        self.post_message(OpenHome())

    @on(ViewLoaded)
    def _loaded(self, message: ViewLoaded) -> None:
        view: LogView = message.view
        self.view = view
        lang = self.lang
        self.query_one("#debrief-loading").remove()
        self.query_one("#debrief-main").display = True
        top = [t("viewer_title", lang), view.title(lang), view.trainee or t("tui_anonymous", lang), f"{t('report_meta_seed', lang)} {view.seed}"]
        if view.retry_of:
            top.append(t("viewer_retry_of", lang, log=Path(str(view.retry_of.get("log", "?"))).name, turn=view.retry_of.get("decision", "?")))
        self.query_one("#topbar", Line).update(" · ".join(top))
        timeline = self.query_one(Timeline)
        self._fill_timeline()
        if not view.rows:
            timeline.add_option(Option(Content.styled(t("viewer_no_decisions", lang), "$text-muted"), disabled=True))
        timeline.focus()
        self._show_row()
        if view.replayable and view.rows and self.rollouts > 0:
            self.analysing = True
            self.query_one("#analysis-bar").display = True
            self.query_one(ProgressBar).update(total=len(view.choices), progress=0)
            self._progress(0, len(view.choices))
            self._analyse(view)

    @work(thread=True, exit_on_error=False, group="debrief-analysis")
    def _analyse(self, view: LogView) -> None:
        try:
            analyses = analyse_view(view, self.rollouts, progress=lambda done, total: self.post_message(AnalysisProgress(done, total)))
        except DiagnosticError as err:
            self.analysis_problem = render_diagnostics(err)
            self.post_message(AnalysisDone([]))
            return
        self.post_message(AnalysisDone(analyses))

    @on(AnalysisProgress)
    def _on_progress(self, message: AnalysisProgress) -> None:
        self._progress(message.done, message.total)

    def _progress(self, done: int, total: int) -> None:
        self.query_one("#analysis-status", Line).update(t("viewer_analysing", self.lang, rollouts=self.rollouts, done=done, total=total))
        self.query_one(ProgressBar).update(progress=done)

    @on(AnalysisDone)
    def _analysed(self, message: AnalysisDone) -> None:
        assert self.view is not None
        self.analysing = False
        self.view.set_analysis(message.analyses)
        self._fill_timeline()
        self.query_one(ProgressBar).display = False
        status = self.query_one("#analysis-status", Line)
        if self.analysis_problem:
            status.update(t("viewer_analysis_failed", self.lang, problem=self.analysis_problem))
        else:
            flags = flags_summary(self.view.rows, self.lang)
            status.update(t("viewer_analysed", self.lang, flags=flags) if flags else t("viewer_analysed_clean", self.lang))
        self._show_row()
        self.refresh_bindings()

    # -------------------------------------------------------- showing one decision

    def _fill_timeline(self) -> None:
        assert self.view is not None
        items = [TimelineItem(r.turn, r.text, r.label, r.mark) for r in self.view.rows]
        if items:
            self.query_one(Timeline).set_items(items)
            self.query_one(Timeline).highlighted = self.index

    @property
    def row(self) -> Row | None:
        if self.view is None or not self.view.rows:
            return None
        return self.view.rows[self.index]

    @on(OptionList.OptionHighlighted, "#timeline")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if self.view is not None and self.view.rows and event.option_index != self.index:
            self.index = event.option_index
            self._show_row()
            self.refresh_bindings()

    def _show_row(self) -> None:
        view, row, lang = self.view, self.row, self.lang
        if view is None:
            return
        q = self.query_one
        if row is None:
            for pid in ("#moment-situation", "#moment-chosen", "#moment-verdict", "#moment-principles", "#moment-feedback", "#moment-retry", "#moment-notebook"):
                self._put(pid, "")
            q("#moment-head", Line).update("")
            q("#moment-market-title", Line).update("")
            return
        title, text = view.step_texts(row, lang)
        week = row.moment.week if row.moment else row.week
        head = t("viewer_decision", lang, turn=row.turn, n=len(view.rows), week=week)
        q("#moment-head", Line).update(head + (f" · {title}" if title else ""))
        self._put("#moment-situation", text)
        self._put("#moment-chosen", t("viewer_you_chose", lang, text=view.option_text(row, row.choice, lang)))
        verdict: list[str | Content] = []
        da = row.analysis
        if da is not None:
            label = Content.assemble(mark_content(da.label, row.mark), " ", (t(f"report_label_{da.label}", lang), "bold"))
            verdict.append(label + Content(" · " + t("report_loss", lang, loss=f"{da.loss:.1f}")) if da.loss > 0 else label)
            verdict.append(t("report_yours", lang, led=led(view, da, da.chosen, lang)))
            if da.best != da.chosen:
                verdict.append(t("report_better", lang, choice=view.option_text(row, da.best, lang), led=led(view, da, da.best, lang)))
        elif self.analysing:
            verdict.append(t("viewer_analysis_pending", lang))
        elif view.replayable and self.rollouts > 0:
            verdict.append(t("viewer_not_analysed", lang))
        self._put("#moment-verdict", Content("\n").join(Content(v) if isinstance(v, str) else v for v in verdict))
        principles = []
        if row.principles:
            principles.append(Content(t("viewer_principles", lang, tags="")) + tags_inline(principle_tags(row.principles, lang)))
        if da is not None and da.best != da.chosen:
            best_tags = view.principles_of(row, da.best)
            if best_tags:
                principles.append(Content(t("viewer_best_principles", lang, tags="")) + tags_inline(principle_tags(best_tags, lang)))
        self._put("#moment-principles", Content("\n").join(principles))
        self._put("#moment-feedback", t("viewer_feedback", lang, text=row.feedback) if row.feedback else "")
        self._put("#moment-retry", t("viewer_retry_hint", lang) if row.retryable else "")
        self._show_market(row)

    def _put(self, selector: str, text: str | Content) -> None:
        """Fill one of the decision's paragraphs; an empty one takes no room (nor its margin)."""
        prose = self.query_one(selector, Prose)
        prose.update(text)
        prose.display = bool(str(text))

    def _show_market(self, row: Row) -> None:
        lang, q = self.lang, self.query_one
        dashboard = q("#moment-market", Dashboard)
        moment = row.moment
        if moment is None:
            q("#moment-market-title", Line).update("")
            self._put("#moment-no-market", t(f"viewer_no_market_{self.view.market if self.view else 'missing'}", lang))
            dashboard.display = False
            self._put("#moment-notebook", "")
            return
        self._put("#moment-no-market", "")
        q("#moment-market-title", Line).update(t("viewer_market_then", lang, week=moment.week))
        dashboard.display = True
        unit = goods_unit(self.view.loaded.scenario.market.unit, lang) if self.view and self.view.loaded else None  # 箱, 台, …
        dashboard.show([dealer_card(DealerView(d.id, d.name, d.values, d.sales), lang, self.band, unit) for d in moment.dealers])
        notes = [t("viewer_notebook_then", lang)] + [f"• {n}" for n in moment.notebook] if moment.notebook else []
        self._put("#moment-notebook", "\n".join(notes))

    # -------------------------------------------------------- keys

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "retry":
            row = self.row
            return row is not None and row.retryable
        if action == "next_flag":
            return self.view is not None and any(r.flagged for r in self.view.rows)
        return True

    def action_step(self, delta: int) -> None:
        if self.view is None or not self.view.rows:
            return
        self._select(max(0, min(len(self.view.rows) - 1, self.index + delta)))

    def _select(self, index: int) -> None:
        self.query_one(Timeline).highlighted = index  # posts OptionHighlighted, which shows the row
        if index != self.index:
            self.index = index
            self._show_row()
            self.refresh_bindings()
        self.query_one("#debrief-detail", VerticalScroll).scroll_home(animate=False)
        self.query_one("#debrief-market", VerticalScroll).scroll_home(animate=False)

    def action_next_flag(self) -> None:
        if self.view is None:
            return
        rows = self.view.rows
        after = [i for i in range(self.index + 1, len(rows)) if rows[i].flagged] + [i for i in range(0, self.index + 1) if rows[i].flagged]
        if not after:
            self.notify(t("viewer_no_flags", self.lang))
            return
        self._select(after[0])

    def action_retry(self) -> None:
        row = self.row
        if row is None or self.view is None:
            return
        if row.analysis is None:
            self.notify(t("viewer_analysis_pending" if self.analysing else "viewer_not_analysed", self.lang))
            return
        if self.retrying:  # a second r while the first retry is being built would start two logs
            return
        self.retrying = True
        self.query_one("#analysis-status", Line).update(t("viewer_starting_retry", self.lang))
        self.post_message(RetryFrom(self.view.path, row.turn, row.analysis))

    def action_toggle_market(self) -> None:
        self.toggle_class("-show-market")

    def action_scroll(self, direction: str) -> None:
        detail = self.query_one("#debrief-market" if self.has_class("-show-market") and self.has_class("-narrow") else "#debrief-detail", VerticalScroll)
        detail.scroll_page_up() if direction == "up" else detail.scroll_page_down()

    def action_home(self) -> None:
        self.post_message(OpenHome())


# ---------------------------------------------------------------- opening a log


class LogPicker(ModalScreen[Path | None]):
    """The logs in the sessions folder, newest first, or a path typed in."""

    BINDINGS = [
        Binding("escape", "cancel", "tui_key_viewer_cancel", key_display="esc"),
        Binding("tab", "app.focus_next", "tui_key_viewer_path", key_display="tab", show=True),
    ]

    def __init__(self, sessions: Path, lang: Lang, titles: dict[str, str] | None = None) -> None:
        super().__init__()
        self.sessions = sessions
        self.lang = lang
        self.titles = titles or {}  # scenario id -> title in the trainee's language
        self.entries: list[LogEntry] = []
        localize_bindings(self, lang)

    def compose(self) -> ComposeResult:
        lang = self.lang
        with Vertical(id="picker-dialog"):
            yield Label(t("viewer_pick_title", lang), id="picker-title", classes="step-title")
            yield OptionList(id="log-list")
            yield Label(t("viewer_pick_path", lang), classes="setting-label")
            yield Input(placeholder=t("viewer_pick_placeholder", lang), id="log-path-input", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#log-list", OptionList).focus()
        self._find()

    @work(thread=True, exit_on_error=False, group="find-logs")
    def _find(self) -> None:
        entries = find_logs(self.sessions)
        self.app.call_from_thread(self._show, entries)

    def _show(self, entries: list[LogEntry]) -> None:
        lang = self.lang
        self.entries = entries
        options = self.query_one("#log-list", OptionList)
        if not entries:
            options.add_option(Option(Content.styled(t("viewer_pick_none", lang, folder=self.sessions), "$text-muted"), disabled=True))
            self.query_one(Input).focus()
            return
        for i, e in enumerate(entries):
            state = t("viewer_pick_finished" if e.finished else "viewer_pick_unfinished", lang)
            extra = [state, t("tui_decisions_made", lang, n=e.decisions)]
            if e.retry_of is not None:
                extra.append(t("viewer_pick_retry", lang, turn=e.retry_of))
            prompt = Content.assemble((e.trainee or t("tui_anonymous", lang), "bold"), " · ", self.titles.get(e.scenario_id, e.scenario_id), (" · " + " · ".join(extra), "$text-muted"), "\n", (e.path.name, "$text-muted"))
            options.add_option(Option(prompt, id=f"log:{i}"))
        options.highlighted = 0

    @on(OptionList.OptionSelected, "#log-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        index = int((event.option.id or "log:-1").split(":")[1])
        if 0 <= index < len(self.entries):
            self.dismiss(self.entries[index].path)

    @on(Input.Submitted, "#log-path-input")
    def _typed(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        if not value:
            return
        path = Path(value).expanduser()
        if not path.is_file():
            self.notify(t("viewer_pick_missing", self.lang, path=path), severity="warning")
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)


# ---------------------------------------------------------------- retry from here


class RetryGame(Game):
    """A game that replays a log up to decision N; the choice at N is graded against the analysis."""

    def __init__(self, recorded: RecordedSession, mode: str, turn: int, analysis: DecisionAnalysis, original: Path) -> None:
        super().__init__(recorded, mode)
        self.retry_turn = turn
        self.analysis = analysis
        self.original = original
        self.verdict: Verdict | None = None

    def decide(self, option_id: str, **params):
        before = self.turn
        step = self.session.step
        events = super().decide(option_id, **params)  # in the log first
        if before + 1 == self.retry_turn and self.verdict is None:
            choices = {c.id: dict(c.principles) for c in getattr(step, "choices", [])}
            try:
                self.verdict = compare(self.analysis, option_id, lambda option: choices.get(option, {}))
            except KeyError:  # an option the analysis did not see (the scenario changed): no grade
                self.verdict = None
        return events

    def option_text(self, option: str) -> str:
        value = next((o for o in self.analysis.options if o.option == option), None)
        if value is None:
            return option
        return value.text_zh if self.lang == "zh" else value.text_en


class RetryPlayScreen(PlayScreen):
    """The play screen for a retry: after decision N is recorded, the verdict against the best option."""

    def __init__(self, game: RetryGame, *, resumed: bool = True) -> None:
        super().__init__(game, resumed=resumed)
        self.verdict_shown = False

    @on(DecisionRecorded)
    def _retry_verdict(self, message: DecisionRecorded) -> None:
        game = self.game
        if isinstance(game, RetryGame) and game.verdict is not None and not self.verdict_shown:
            self.verdict_shown = True
            self.call_after_refresh(self.app.push_screen, VerdictScreen(game.verdict, game))


def verdict_lines(verdict: Verdict, game: RetryGame, lang: Lang) -> list[str | Content]:
    text = game.option_text
    lines: list[str | Content] = [
        Content.assemble(t("viewer_verdict_choice", lang, text=text(verdict.chosen)), "  ", mark_content(verdict.label, verdict.mark), " ", t(f"report_label_{verdict.label}", lang))
    ]
    if verdict.label == "best":
        lines.append(t("viewer_verdict_best", lang))
    else:
        lines.append(t("viewer_verdict_loss", lang, loss=f"{verdict.loss:.1f}"))
        lines.append(t("viewer_verdict_best_was", lang, text=text(verdict.best)))
    delta = verdict.improved
    lines.append(t("viewer_verdict_values", lang, now=_n(verdict.chosen_total), before=_n(verdict.original_total), delta=f"{delta:+.0f}", best=_n(verdict.best_total)))
    tags = verdict.principles_best if verdict.label != "best" else verdict.principles_chosen
    if tags:
        lines.append(Content(t("viewer_verdict_principle", lang, tags="")) + tags_inline(principle_tags(tags, lang)))
        for tag in principle_tags(tags, lang):
            if tag.citation:
                lines.append(Content.styled("   " + t("tui_citation", lang, citation=tag.citation), "$text-muted"))
    return lines


class VerdictScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("enter", "close", "tui_key_viewer_continue", key_display="⏎"),
        Binding("escape", "close", show=False),
        Binding("space", "close", show=False),
    ]

    def __init__(self, verdict: Verdict, game: RetryGame) -> None:
        super().__init__()
        self.verdict = verdict
        self.game = game
        self.lang = game.lang
        localize_bindings(self, self.lang)

    def compose(self) -> ComposeResult:
        lang = self.lang
        with Vertical(id="verdict-dialog", classes=f"-{self.verdict.label}"):
            yield Label(t("viewer_verdict_title", lang, turn=self.verdict.turn), id="verdict-title")
            yield Prose(Content("\n").join(Content(x) if isinstance(x, str) else x for x in verdict_lines(self.verdict, self.game, lang)), id="verdict-text")
            yield Label(t("viewer_verdict_hint", lang), id="verdict-hint")

    def action_close(self) -> None:
        self.dismiss(None)

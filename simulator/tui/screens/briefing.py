"""Briefing: what the trainee reads before the first decision; Enter starts the recorded session."""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label

from simulator.diagnostics import DiagnosticError
from simulator.i18n import t
from simulator.schema import text_in
from simulator.tui.game import Game, ScenarioInfo, catalogue, render_diagnostics, seed_from, start_session
from simulator.tui.keys import localize_bindings
from simulator.tui.messages import GameFailed, GameStarted, OpenHome
from simulator.tui.settings import Settings
from simulator.tui.widgets.prose import Prose
from simulator.tui.screens.home import stars


class BriefingScreen(Screen):
    BINDINGS = [
        Binding("enter", "begin", "tui_key_begin", key_display="⏎"),
        Binding("escape", "back", "tui_key_back", key_display="esc"),
        Binding("pageup", "scroll('up')", show=False),
        Binding("pagedown", "scroll('down')", show=False),
        Binding("q", "app.quit_app", "tui_key_quit"),
    ]

    def __init__(
        self,
        scenario: ScenarioInfo,
        settings: Settings,
        sessions: Path,
        *,
        seed: int | str | None = None,
        log: Path | None = None,
    ) -> None:
        super().__init__()
        self.scenario = scenario
        self.settings = settings
        self.lang = settings.lang
        self.sessions = sessions
        self.seed = seed  # given on the command line; otherwise the settings' code or a fresh one
        self.log_path = log
        self.starting = False
        localize_bindings(self, self.lang)

    def compose(self) -> ComposeResult:
        lang = self.lang
        sc = self.scenario.loaded.scenario
        yield Label(t("app_title", lang), id="topbar")
        with VerticalScroll(id="briefing-body"):
            yield Label(self.scenario.title(lang), id="briefing-title")
            yield Prose(
                items=[
                    t(f"tui_family_{sc.family}", lang),
                    f"{stars(sc.difficulty)} {t('difficulty', lang, n=sc.difficulty)}",
                    t("minutes", lang, n=sc.minutes),
                    t(f"tui_mode_{self.settings.mode}", lang),
                    self._seed_text(),
                    t("tui_trainee", lang, name=self.settings.trainee or t("tui_anonymous", lang)),
                ],
                id="briefing-meta",
            )
            yield Label(t("briefing", lang), classes="section-title")
            yield Prose(text_in(sc.briefing, lang).strip(), id="briefing-text")
            yield Label(t("tui_teaches", lang), classes="section-title")
            cat = catalogue()
            lines = []
            for pid, name in self.scenario.principle_names(lang):
                lines.append(f"• {name}")
                if pid in cat:
                    p = cat.get(pid)
                    lines.append(f"  {t('tui_citation', lang, citation=f'{p.citation.seed} · {p.citation.section}')}")
            yield Prose("\n".join(lines), id="briefing-principles")
            yield Label(t("tui_press_enter", lang), id="briefing-hint")
        yield Footer()

    def _seed_text(self) -> str:
        if self.seed is not None:
            return t("tui_seed_value", self.lang, seed=self.seed)
        if self.settings.code:
            return t("tui_seed_value", self.lang, seed=self.settings.code)
        return t("tui_seed_fresh", self.lang)

    def action_scroll(self, direction: str) -> None:
        body = self.query_one("#briefing-body", VerticalScroll)
        body.scroll_page_up() if direction == "up" else body.scroll_page_down()

    def action_back(self) -> None:
        if not self.starting:
            self.post_message(OpenHome())

    def action_begin(self) -> None:
        if self.starting:
            return
        self.starting = True
        seed = self.seed if self.seed is not None else seed_from(self.settings.code)
        self._start(seed)

    @work(thread=True, exit_on_error=False, group="start")
    def _start(self, seed: int | str) -> None:
        try:
            recorded = start_session(self.scenario.loaded, seed, self.lang, self.settings.trainee, self.sessions, self.log_path)
        except DiagnosticError as err:
            self.starting = False
            self.post_message(GameFailed(render_diagnostics(err)))
            return
        self.post_message(GameStarted(Game(recorded, self.settings.mode)))

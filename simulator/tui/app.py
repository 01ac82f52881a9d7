"""DealersimApp: the Textual game (home → briefing → play → end).

The app owns navigation, the settings and the live game; screens get what they show when they are
built and report back with messages. The first frame appears before the slow imports (numpy,
pydantic, the engine) and before the scenarios are read: both happen in a worker thread.
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Label, LoadingIndicator
from textual.worker import Worker, WorkerState

from simulator.tui.messages import (
    Booted,
    BootFailed,
    GameFailed,
    GameStarted,
    LibraryLoaded,
    OpenBriefing,
    OpenDebrief,
    OpenEnd,
    OpenHome,
    OpenWorkshop,
    OpenSession,
    RetryFrom,
    RetryStarted,
    SettingsChanged,
)

if TYPE_CHECKING:
    from simulator.loader import LoadedScenario
    from simulator.recorded import RecordedSession
    from simulator.tui.game import Game, Library
    from simulator.tui.settings import Settings


class LogNoticed(Message):
    """The session log moved to another folder, or records wait in memory (from the decision's thread)."""

    def __init__(self, notice) -> None:
        super().__init__()
        self.notice = notice


@dataclass
class Outcome:
    """What the command line prints after the app has gone: where the live session's log is."""

    path: Path
    finished: bool
    lang: str
    unsaved: int = 0  # decisions the disk refused (they waited in memory to the end)


WIDE, TALL = 100, 30  # below either a screen is small (-narrow, -short): one column, fewer lines


class DealersimApp(App[Outcome | None]):
    CSS_PATH = "app.tcss"
    TITLE = "dealersim"
    ENABLE_COMMAND_PALETTE = False
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (TALL, "-tall")]
    BINDINGS = [
        Binding("ctrl+q", "quit_app", show=False, priority=True),
        Binding("ctrl+c", "quit_app", show=False, priority=True),
    ]

    def __init__(
        self,
        *,
        scenario_dirs: tuple[str | Path, ...] = (),
        shipped: bool = True,
        sessions: Path | None = None,
        lang: str | None = None,
        mode: str | None = None,
        start: "LoadedScenario | None" = None,
        seed: int | str | None = None,  # this run's seed (dealersim play --seed); else the trainee's code or a fresh one
        trainee: str | None = None,
        log: Path | None = None,
        resume: "RecordedSession | None" = None,
        remember: bool = True,
        view: Path | None = None,  # dealersim view LOG: open the debrief viewer on this log
        rollouts: int | None = None,  # the viewer's playouts per option (None: the analysis's default)
        key_guard: float | None = None,  # seconds a new step ignores picks (None: play.KEY_GUARD; tests pass 0)
        workshop: str | Path | None = None,  # dealersim workshop --view: open the class comparison of this folder
        workshop_names: bool = False,
        workshop_leaderboard: bool = False,
    ) -> None:
        super().__init__()
        self.scenario_dirs = tuple(scenario_dirs)
        self.shipped = shipped
        self.sessions: Path = sessions if sessions is not None else Path()  # set at boot when not given
        self.sessions_given = sessions is not None
        self.lang_override = lang
        self.mode_override = mode
        self.start_scenario = start
        self.start_seed = seed
        self.start_trainee = trainee
        self.start_log = log
        self.resume_recorded = resume
        self.remember = remember  # False when serving a classroom: visitors must not see each other's name
        self.view_log = view
        self.rollouts = rollouts
        self.key_guard = key_guard
        self.workshop = (Path(workshop), workshop_names, workshop_leaderboard) if workshop is not None else None
        self.settings: Settings | None = None
        self.library: Library | None = None
        self.game: Game | None = None
        self.last_highlight: str | None = None  # the home screen comes back to the scenario last opened

    # -------------------------------------------------------- start-up

    def compose(self) -> ComposeResult:
        yield Label("dealersim", id="splash-title")
        yield LoadingIndicator(id="splash")

    def on_mount(self) -> None:
        self._boot()

    @work(thread=True, exit_on_error=False, group="boot")
    def _boot(self) -> None:
        from simulator.tui.game import load_library
        from simulator.tui.settings import load_settings

        # the screens' modules (and the engine behind them) are imported here, off the UI thread
        import simulator.tui.screens.briefing  # noqa: F401
        import simulator.tui.screens.end  # noqa: F401
        import simulator.tui.screens.home  # noqa: F401
        import simulator.tui.screens.play  # noqa: F401
        import simulator.tui.screens.debrief  # noqa: F401

        from simulator.diagnostics import DiagnosticError
        from simulator.tui.game import render_diagnostics

        if not self.sessions_given:
            from simulator.cli import sessions_dir

            self.sessions = sessions_dir()
        if self.remember:
            settings, problems = load_settings()
        else:
            from simulator.i18n import default_lang
            from simulator.tui.settings import Settings

            settings, problems = Settings(lang=default_lang()), []
        try:
            library = load_library(self.scenario_dirs, self.sessions, self.shipped)
        except DiagnosticError as err:  # e.g. a broken principle catalogue: nothing can be played
            self.post_message(BootFailed(render_diagnostics(err)))
            return
        self.post_message(Booted(settings, problems, library))

    @on(Booted)
    def _booted(self, message: Booted) -> None:
        settings = message.settings
        if self.lang_override in ("zh", "en"):
            settings = settings.with_(lang=self.lang_override)
        if self.mode_override in ("coaching", "exam"):
            settings = settings.with_(mode=self.mode_override)
        if self.start_trainee:
            settings = settings.with_(trainee=self.start_trainee)
        self.settings = settings
        self.library = message.library
        self.query_one("#splash", LoadingIndicator).remove()  # it would keep animating under the screens
        for problem in message.problems:
            self.notify(problem, severity="warning", timeout=10)
        if self.resume_recorded is not None:
            from simulator.tui.game import Game

            self._play(Game(self.resume_recorded, settings.mode), resumed=True)
        elif self.start_scenario is not None:
            from simulator.tui.game import ScenarioInfo

            loaded = self.start_scenario
            self._briefing(ScenarioInfo(Path(loaded.path), loaded), seed=self.start_seed, log=self.start_log)
        elif self.view_log is not None:
            self._debrief(self.view_log)
        elif self.workshop is not None:
            from simulator.tui.screens.workshop import WorkshopScreen

            folder, names, board = self.workshop
            self._show(WorkshopScreen(folder, settings.lang, scenario_dirs=self.scenario_dirs, names=names, leaderboard=board, standalone=True))
        else:
            self._home()

    @on(BootFailed)
    def _boot_failed(self, message: BootFailed) -> None:
        self.exit(None, return_code=1, message=message.text)

    # -------------------------------------------------------- navigation

    def _show(self, screen) -> None:
        if len(self.screen_stack) > 1:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def _home(self, highlight: str | None = None) -> None:
        from simulator.tui.screens.home import HomeScreen

        assert self.library is not None and self.settings is not None
        self._show(HomeScreen(self.library, self.settings, highlight))

    def _briefing(self, scenario, *, seed: int | str | None = None, log: Path | None = None) -> None:
        from simulator.tui.screens.briefing import BriefingScreen

        assert self.settings is not None
        self._show(BriefingScreen(scenario, self.settings, self.sessions, seed=seed, log=log))

    def _play(self, game: "Game", resumed: bool = False) -> None:
        from simulator.tui.screens.play import PlayScreen

        self._set_game(game)
        self._show(PlayScreen(game, resumed=resumed))

    def _set_game(self, game: "Game | None") -> None:
        if self.game is not None and self.game is not game:
            self.game.close()
        self.game = game
        if game is not None:  # the log moved or waits in memory: say so, and let the trainee play on
            game.on_log_notice = lambda notice: self.post_message(LogNoticed(notice))
            for notice in game.recorded.take_notices():
                self._log_noticed(LogNoticed(notice))

    @on(LogNoticed)
    def _log_noticed(self, message: LogNoticed) -> None:
        from simulator.i18n import t
        from simulator.plain import notice_lines

        notice = message.notice
        lang = self.settings.lang if self.settings else "en"
        severity = {"moved": "warning", "unsaved": "error"}.get(notice.kind, "information")
        self.notify("\n".join(notice_lines(notice, lang)), title=t("rec_title", lang), severity=severity, timeout=60)

    @on(OpenBriefing)
    def _open_briefing(self, message: OpenBriefing) -> None:
        from simulator.tui.screens.home import scenario_key

        self.last_highlight = scenario_key(message.scenario)
        self._briefing(message.scenario, seed=self.start_seed)

    @on(OpenSession)
    def _open_session(self, message: OpenSession) -> None:
        self._resume(message.path)

    @work(thread=True, exit_on_error=False, group="resume")
    def _resume(self, path: Path) -> None:
        from simulator.diagnostics import DiagnosticError
        from simulator.tui.game import Game, render_diagnostics, resume_session

        try:
            recorded = resume_session(path)
        except DiagnosticError as err:
            self.post_message(GameFailed(render_diagnostics(err)))
            return
        mode = self.settings.mode if self.settings else "coaching"
        self.post_message(GameStarted(Game(recorded, mode), resumed=True))

    @on(GameStarted)
    def _game_started(self, message: GameStarted) -> None:
        self._play(message.game, resumed=message.resumed)

    @on(GameFailed)
    def _game_failed(self, message: GameFailed) -> None:
        from simulator.i18n import t

        lang = self.settings.lang if self.settings else "en"
        self.notify(message.text, title=t("tui_error", lang), severity="error", timeout=30)

    @on(OpenEnd)
    def _open_end(self) -> None:
        from simulator.tui.screens.end import EndScreen

        if self.game is not None:
            self._show(EndScreen(self.game))

    @on(OpenWorkshop)
    def _open_workshop(self, message: OpenWorkshop) -> None:
        from simulator.tui.screens.workshop import WorkshopScreen

        assert self.settings is not None
        self._show(WorkshopScreen(message.folder or self.sessions, self.settings.lang, scenario_dirs=self.scenario_dirs))

    # -------------------------------------------------------- the debrief viewer and retry from here

    def _debrief(self, path: Path) -> None:
        from simulator.tui.screens.debrief import DebriefScreen

        assert self.settings is not None
        options = {} if self.rollouts is None else {"rollouts": self.rollouts}
        self._show(DebriefScreen(path, self.settings.lang, **options))

    @on(OpenDebrief)
    def _open_debrief(self, message: OpenDebrief) -> None:
        self._debrief(message.path)

    @on(RetryFrom)
    def _retry_from(self, message: RetryFrom) -> None:
        self._start_retry(message.path, message.turn, message.analysis)

    @work(thread=True, exit_on_error=False, group="retry")
    def _start_retry(self, path: Path, turn: int, analysis) -> None:
        """Replay decisions 1..turn-1 into a new log (each recorded before the screen moves on)."""
        from scoring import session_observers
        from simulator.diagnostics import DiagnosticError
        from simulator.retry import start_retry
        from simulator.tui.game import catalogue, render_diagnostics
        from simulator.tui.screens.debrief import RetryGame

        cat = catalogue()
        try:
            recorded = start_retry(path, turn, self.sessions, principles=cat.ids, observers=session_observers, catalogue_version=cat.version)
        except DiagnosticError as err:
            self.post_message(GameFailed(render_diagnostics(err)))
            return
        mode = self.settings.mode if self.settings else "coaching"
        self.post_message(RetryStarted(RetryGame(recorded, mode, turn, analysis, path)))

    @on(RetryStarted)
    def _retry_started(self, message: RetryStarted) -> None:
        from simulator.tui.screens.debrief import RetryPlayScreen

        self._set_game(message.game)
        self._show(RetryPlayScreen(message.game, resumed=True))

    @on(OpenHome)
    def _open_home(self) -> None:
        if self.game is not None and self.game.finished:
            self._set_game(None)
        self._reload_library()

    @work(thread=True, exclusive=True, exit_on_error=False, group="library")
    def _reload_library(self) -> None:
        from simulator.tui.game import Library, find_unfinished

        assert self.library is not None
        self.post_message(LibraryLoaded(Library(self.library.scenarios, find_unfinished(self.sessions))))

    @on(LibraryLoaded)
    def _library_loaded(self, message: LibraryLoaded) -> None:
        self.library = message.library
        self._home(self.last_highlight)

    @on(SettingsChanged)
    def _settings_changed(self, message: SettingsChanged) -> None:
        self.settings = message.settings
        self.last_highlight = message.highlight or self.last_highlight
        if self.remember:
            self._save_settings(message.settings)
        if message.rebuild:
            self._home(message.highlight)

    @work(thread=True, exclusive=True, exit_on_error=False, group="settings")
    def _save_settings(self, settings: "Settings") -> None:
        from simulator.tui.settings import save_settings

        problem = save_settings(settings)
        if problem:
            self.call_from_thread(self.notify, problem, severity="warning", timeout=10)

    # -------------------------------------------------------- leaving, and bugs

    def outcome(self) -> Outcome | None:
        game = self.game
        if game is None:
            return None
        unsaved = sum(1 for kind, _ in game.recorded.pending if kind == "choice")
        return Outcome(game.path, game.finished, game.lang, unsaved)

    def action_quit_app(self) -> None:
        if self.game is not None and not self.game.recorded.saved:
            self.game.recorded.retry_save()  # last chance for records the disk refused; the outcome says if it failed
        self.exit(self.outcome())

    def on_unmount(self) -> None:
        self.close_game()

    def close_game(self) -> None:
        if self.game is not None:
            self.game.close()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A bug in a worker: report it and keep the game running (every decision is already logged)."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        report = crash_report(error)
        lang = self.settings.lang if self.settings else "en"
        from simulator.i18n import t

        self.notify(t("tui_internal_error", lang, error=f"{type(error).__name__}: {error}", report=report), severity="error", timeout=60)
        screen = self.screen
        if hasattr(screen, "decision_crashed"):
            screen.decision_crashed()
        if event.worker.group == "boot":
            self.exit(None, return_code=70, message=f"dealersim could not start: {type(error).__name__}: {error} (details: {report})")


def crash_report(error: BaseException | None) -> Path:
    path = Path(tempfile.gettempdir()) / f"dealersim-crash-{datetime.now().strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.txt"
    try:
        text = "".join(traceback.format_exception(error)) if error else "unknown error"
        path.write_text(text + f"\nargv: {sys.argv}\n", "utf-8")
    except OSError:
        pass
    return path


def outcome_message(outcome: Outcome | None) -> str | None:
    """The line the command line prints after the app exits."""
    if outcome is None:
        return None
    from simulator.i18n import t

    lang: Any = outcome.lang if outcome.lang in ("zh", "en") else "en"
    if outcome.unsaved:
        return t("rec_lost_on_quit", lang, n=outcome.unsaved, path=outcome.path)
    return t("log_saved" if outcome.finished else "resume_hint", lang, path=outcome.path)

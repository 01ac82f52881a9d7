"""Home: pick a scenario (grouped by family) or an unfinished session; language, mode, name, seed."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, OptionList
from textual.widgets.option_list import Option

from simulator.i18n import t
from simulator.schema import Lang
from simulator.tui.game import Library, ScenarioInfo, UnfinishedSession
from simulator.tui.keys import localize_bindings
from simulator.tui.messages import OpenBriefing, OpenDebrief, OpenSession, OpenWorkshop, SettingsChanged
from simulator.tui.settings import Settings
from simulator.tui.widgets.prose import Prose

STARS = "★★★"


def scenario_key(info: ScenarioInfo) -> str:
    return f"scenario:{info.path.resolve()}"


def stars(n: int) -> str:
    return STARS[:n] + "☆" * (3 - n)


class ScenarioPicker(OptionList):
    """Scenarios by family, then unfinished sessions; Enter opens the highlighted one."""

    BINDINGS = [Binding("enter", "select", "tui_key_start", key_display="⏎")]


class HomeScreen(Screen):
    BINDINGS = [
        Binding("l", "language", "tui_key_language"),
        Binding("m", "mode", "tui_key_mode"),
        Binding("n", "focus_input('name')", "tui_key_name"),
        Binding("s", "focus_input('code')", "tui_key_code"),
        Binding("w", "workshop", "tui_key_ws_open"),
        Binding("o", "open_log", "tui_key_viewer_open"),
        Binding("escape", "focus_picker", show=False),
        Binding("q", "app.quit_app", "tui_key_quit"),
    ]

    def __init__(self, library: Library, settings: Settings, highlight: str | None = None) -> None:
        super().__init__()
        self.library = library
        self.settings = settings
        self.lang: Lang = settings.lang
        self.initial_highlight = highlight
        self.entries: dict[str, ScenarioInfo | UnfinishedSession] = {}
        localize_bindings(self, self.lang)

    # -------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        lang = self.lang
        yield Label(t("app_title", lang), id="topbar")
        with Horizontal(id="home-main"):
            with Vertical(id="home-left"):
                picker = ScenarioPicker(*self._options(), id="picker")
                localize_bindings(picker, lang)
                yield picker
            with VerticalScroll(id="home-details"):
                yield Label("", id="detail-title")
                yield Prose("", id="detail-meta")
                yield Prose("", id="detail-summary")
                yield Label(t("tui_teaches", lang), id="detail-teaches-title", classes="section-title")
                yield Prose("", id="detail-principles")
        with Vertical(id="home-settings"):
            with Horizontal(classes="settings-row"):
                yield Label(t("tui_language", lang), classes="setting-label")
                yield Label(self._language_choice(), id="lang-value", classes="setting-value")
                yield Label(t("tui_mode", lang), classes="setting-label")
                yield Label(self._mode_choice(), id="mode-value", classes="setting-value")
            yield Prose(t(f"tui_mode_{self.settings.mode}_help", lang), id="mode-help")
            with Horizontal(classes="settings-row inputs"):
                yield Label(t("tui_name", lang), classes="setting-label")
                yield Input(self.settings.trainee, placeholder=t("tui_name_placeholder", lang), id="name", max_length=40, compact=True)
                yield Label(t("tui_code", lang), classes="setting-label")
                yield Input(self.settings.code, placeholder=t("tui_code_placeholder", lang), id="code", max_length=40, compact=True)
        yield Footer()

    def _options(self) -> list[Option | None]:
        lang = self.lang
        options: list[Option | None] = []
        self.entries = {}
        for family, items in self.library.by_family():
            options.append(Option(Content.styled(t(f"tui_family_{family}", lang), "bold $accent"), disabled=True))
            for info in items:
                sc = info.loaded.scenario
                key = scenario_key(info)  # by file: two files may (wrongly) share a scenario id
                self.entries[key] = info
                prompt = Content.assemble("  ", info.title(lang), ("  " + stars(sc.difficulty), "$warning"))
                if sum(other.id == info.id for other in self.library.scenarios if other.ok) > 1:
                    prompt += Content.styled(f"  ({info.path.name})", "$text-muted")
                options.append(Option(prompt, id=key))
        if not self.entries:
            options.append(Option(Content.styled(t("no_scenarios", lang), "$text-muted"), disabled=True))
        if self.library.unfinished:
            options.append(None)
            options.append(Option(Content.styled(t("tui_unfinished", lang), "bold $accent"), disabled=True))
            for i, s in enumerate(self.library.unfinished):
                key = f"session:{i}"
                self.entries[key] = s
                info = self.library.find(s.scenario_id)
                title = info.title(lang) if info else s.scenario_id
                who = s.trainee or t("tui_anonymous", lang)
                prompt = Content.assemble("  ", (who, "bold"), " · ", title, (" · " + t("tui_decisions_made", lang, n=s.decisions), "$text-muted"))
                options.append(Option(prompt, id=key))
        if self.library.broken:
            # highlightable, so the arrows reach them and the details show what is wrong and where
            options.append(None)
            options.append(Option(Content.styled(t("tui_broken", lang), "bold $error"), disabled=True))
            for i, info in enumerate(self.library.broken):
                key = f"broken:{i}"
                self.entries[key] = info
                options.append(Option(Content.assemble(("  ✗ ", "$error"), info.path.name, (" · " + t("tui_broken_line", lang, n=info.errors), "$text-muted")), id=key))
        return options

    def on_mount(self) -> None:
        picker = self.query_one("#picker", ScenarioPicker)
        keys = list(self.entries)
        if keys:
            target = self.initial_highlight if self.initial_highlight in self.entries else keys[0]
            picker.highlighted = picker.get_option_index(target)
        picker.focus()
        self._show_details(self._highlighted_key())

    # -------------------------------------------------------- details

    def _highlighted_key(self) -> str | None:
        picker = self.query_one("#picker", ScenarioPicker)
        if picker.highlighted is None:
            return None
        return picker.get_option_at_index(picker.highlighted).id

    @on(OptionList.OptionHighlighted, "#picker")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._show_details(event.option.id)

    def _show_details(self, key: str | None) -> None:
        entry = self.entries.get(key or "")
        lang = self.lang
        title = self.query_one("#detail-title", Label)
        meta = self.query_one("#detail-meta", Prose)
        summary = self.query_one("#detail-summary", Prose)
        teaches_title = self.query_one("#detail-teaches-title", Label)
        principles = self.query_one("#detail-principles", Prose)
        if isinstance(entry, ScenarioInfo) and not entry.ok:
            title.update(entry.path.name)
            meta.update(t("tui_broken_meta", lang, n=entry.errors, path=entry.path))
            summary.update("\n".join(d.render() for d in entry.diagnostics))
            teaches_title.display = False
            principles.update("")
        elif isinstance(entry, ScenarioInfo):
            sc = entry.loaded.scenario
            title.update(entry.title(lang))
            meta.update_items([t(f"tui_family_{sc.family}", lang), f"{stars(sc.difficulty)} {t('difficulty', lang, n=sc.difficulty)}", t("minutes", lang, n=sc.minutes)])
            summary.update(entry.summary(lang))
            teaches_title.display = True
            principles.update("\n".join(f"• {name}" for _, name in entry.principle_names(lang)))
        elif isinstance(entry, UnfinishedSession):
            info = self.library.find(entry.scenario_id)
            title.update(info.title(lang) if info else entry.scenario_id)
            meta.update(
                t(
                    "tui_session_meta",
                    lang,
                    trainee=entry.trainee or t("tui_anonymous", lang),
                    n=entry.decisions,
                    seed=entry.seed,
                    language=t(f"tui_lang_{entry.lang}", lang) if entry.lang in ("zh", "en") else entry.lang,
                )
            )
            summary.update(t("tui_session_resume", lang, path=entry.path))
            teaches_title.display = False
            principles.update("")
        else:
            title.update("")
            meta.update("")
            summary.update("")
            teaches_title.display = False
            principles.update("")

    # -------------------------------------------------------- choices

    def _language_choice(self) -> Content:
        return self._choice([("zh", "中文"), ("en", "English")], self.settings.lang)

    def _mode_choice(self) -> Content:
        return self._choice([(m, t(f"tui_mode_{m}", self.lang)) for m in ("coaching", "exam")], self.settings.mode)

    @staticmethod
    def _choice(pairs: list[tuple[str, str]], current: str) -> Content:
        parts: list[Content] = []
        for value, label in pairs:
            parts.append(Content.styled(f" {label} ", "reverse bold $accent") if value == current else Content.styled(f" {label} ", "$text-muted"))
        return Content(" ").join(parts)

    @on(OptionList.OptionSelected, "#picker")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        entry = self.entries.get(event.option.id or "")
        self._save_inputs()
        if isinstance(entry, ScenarioInfo) and not entry.ok:
            self.notify(t("tui_broken_open", self.lang), severity="error")
        elif isinstance(entry, ScenarioInfo):
            self.post_message(OpenBriefing(entry))
        elif isinstance(entry, UnfinishedSession):
            self.post_message(OpenSession(entry.path))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("language", "mode", "focus_input") and isinstance(self.focused, Input):
            return False
        return True

    def action_open_log(self) -> None:
        """Pick a session log (the sessions folder, or a path) for the debrief viewer."""
        from simulator.tui.screens.debrief import LogPicker

        self._save_inputs()
        titles = {info.id: info.title(self.lang) for info in self.library.scenarios if info.ok}
        self.app.push_screen(LogPicker(self.app.sessions, self.lang, titles), self._log_picked)

    def _log_picked(self, path: Path | None) -> None:
        if path is not None:
            self.post_message(OpenDebrief(path))

    def action_workshop(self) -> None:
        self.post_message(OpenWorkshop())

    def action_language(self) -> None:
        self.settings = self.settings.with_(lang="en" if self.settings.lang == "zh" else "zh")
        self._save_inputs(rebuild=True)

    def action_mode(self) -> None:
        self.settings = self.settings.with_(mode="exam" if self.settings.mode == "coaching" else "coaching")
        self.query_one("#mode-value", Label).update(self._mode_choice())
        self.query_one("#mode-help", Prose).update(t(f"tui_mode_{self.settings.mode}_help", self.lang))
        self._save_inputs()

    # set_focus, not focus(): focus() waits behind the keys already queued, so the "l" of a name typed
    # right after n would switch the language
    def action_focus_input(self, which: str) -> None:
        self.set_focus(self.query_one(f"#{which}", Input))

    def action_focus_picker(self) -> None:
        self.set_focus(self.query_one("#picker", ScenarioPicker))

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self._save_inputs()
        self.action_focus_picker()

    @on(Input.Changed)
    def _changed(self) -> None:
        self._save_inputs()

    def _save_inputs(self, rebuild: bool = False) -> None:
        name = self.query_one("#name", Input).value.strip()
        code = self.query_one("#code", Input).value.strip()
        self.settings = self.settings.with_(trainee=name, code=code)
        self.post_message(SettingsChanged(self.settings, rebuild=rebuild, highlight=self._highlighted_key()))

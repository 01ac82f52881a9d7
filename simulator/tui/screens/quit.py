"""Leaving mid-scenario: says where the session is saved and how to continue it."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label

from simulator.i18n import t
from simulator.schema import Lang
from simulator.tui.keys import localize_bindings
from simulator.tui.widgets.prose import Prose


class QuitScreen(ModalScreen[bool]):
    BINDINGS = [
        Binding("enter", "leave", "tui_key_leave", key_display="⏎"),
        Binding("y", "leave", show=False),
        Binding("q", "leave", show=False),
        Binding("escape", "stay", "tui_key_stay", key_display="esc"),
        Binding("n", "stay", show=False),
    ]

    def __init__(self, log: Path, lang: Lang) -> None:
        super().__init__()
        self.log_path = log
        self.lang = lang
        localize_bindings(self, lang)

    def compose(self) -> ComposeResult:
        with Vertical(id="quit-dialog"):
            yield Label(t("tui_quit_title", self.lang), id="quit-title")
            yield Prose(t("tui_quit_text", self.lang, path=self.log_path), id="quit-text")
            yield Label(t("tui_quit_keys", self.lang), id="quit-keys")

    def action_leave(self) -> None:
        self.dismiss(True)

    def action_stay(self) -> None:
        self.dismiss(False)

"""A small dialog for a negotiation move that needs one more answer: which issue to ask about, how
to break a deadlock, or "really accept / walk away?". It returns the index picked (or None), and
the play screen makes the move: the dialog changes nothing itself."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label

from simulator.i18n import t
from simulator.schema import Lang
from simulator.tui.keys import localize_bindings
from simulator.tui.messages import Choose
from simulator.tui.widgets.choices import ChoicesBox, ChoicesList, Item
from simulator.tui.widgets.prose import Prose


class PickScreen(ModalScreen[int | None]):
    BINDINGS = [
        Binding("escape", "cancel", "tui_key_back", key_display="esc"),
        *[Binding(str(n), f"pick({n})", show=False) for n in range(1, 10)],
    ]

    def __init__(self, title: str, labels: list[str], lang: Lang) -> None:
        super().__init__()
        self.title_text = title
        self.labels = labels
        self.lang = lang
        self.done = False  # a second key press before the dialog has gone picks nothing
        localize_bindings(self, lang)

    def compose(self) -> ComposeResult:
        with Vertical(id="pick-dialog"):
            yield Prose(self.title_text, id="pick-title")
            choices = ChoicesList(id="pick-choices")
            localize_bindings(choices, self.lang)
            with ChoicesBox(id="pick-box"):
                yield choices
            yield Label(t("table_pick_keys", self.lang), id="pick-keys")

    def on_mount(self) -> None:
        choices = self.query_one(ChoicesList)
        choices.set_items([Item(str(i), i + 1, label) for i, label in enumerate(self.labels)])
        choices.focus()

    @on(Choose)
    def _picked(self, message: Choose) -> None:
        message.stop()
        self._close(int(message.option_id))

    def action_pick(self, number: int) -> None:
        self.query_one(ChoicesList).choose_number(number)

    def action_cancel(self) -> None:
        self._close(None)

    def _close(self, answer: int | None) -> None:
        if not self.done:
            self.done = True
            self.dismiss(answer)

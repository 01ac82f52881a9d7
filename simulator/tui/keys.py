"""Footer labels in the trainee's language.

Bindings are declared with a UI string key as their description (`"tui_key_quit"`); a screen calls
`localize_bindings(self, lang)` in its constructor and the footer shows `t(key, lang)`. Textual has
no public API for per-instance binding descriptions, so this rebuilds the node's binding map (a
private attribute; tests/test_tui_app.py checks the footer so a Textual upgrade that breaks this is
caught).
"""

from __future__ import annotations

from dataclasses import replace

from textual.binding import BindingsMap
from textual.dom import DOMNode

from simulator.i18n import t
from simulator.schema import Lang

PREFIX = "tui_key_"


def localize_bindings(node: DOMNode, lang: Lang) -> None:
    keys = {
        key: [replace(b, description=t(b.description, lang)) if b.description.startswith(PREFIX) else b for b in bindings]
        for key, bindings in node._bindings.key_to_bindings.items()
    }
    node._bindings = BindingsMap.from_keys(keys)

"""What the game remembers between runs: language, mode, trainee name, workshop code.

A small TOML file in the user's config folder (`$XDG_CONFIG_HOME/dealersim/settings.toml`, or
`~/.config/...`, `%APPDATA%\\dealersim\\...` on Windows); `DEALERSIM_SETTINGS` names another file
(tests point it at a temporary folder). A missing file gives the defaults; a broken one gives the
defaults and a warning, never a crash; failing to save is reported, never fatal.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from simulator.i18n import default_lang
from simulator.schema import Lang

Mode = Literal["coaching", "exam"]
MODES: tuple[Mode, ...] = ("coaching", "exam")
MAX_TEXT = 40


@dataclass(frozen=True)
class Settings:
    lang: Lang = "en"
    mode: Mode = "coaching"
    trainee: str = ""
    code: str = ""  # seed or workshop code; empty = a fresh seed each time

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)


def settings_path() -> Path:
    override = os.environ.get("DEALERSIM_SETTINGS")
    if override:
        return Path(override)
    if os.name == "nt" and os.environ.get("APPDATA"):
        base = Path(os.environ["APPDATA"])
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "dealersim" / "settings.toml"


def load_settings(path: Path | None = None) -> tuple[Settings, list[str]]:
    """The saved settings (defaults for anything missing or invalid) and what was wrong, if anything."""
    path = path or settings_path()
    defaults = Settings(lang=default_lang())
    try:
        raw = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return defaults, []
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return defaults, [f"{path}: {exc}"]
    problems: list[str] = []
    values: dict[str, str] = {}
    for key, allowed in (("lang", ("zh", "en")), ("mode", MODES)):
        if key in raw:
            if raw[key] in allowed:
                values[key] = raw[key]
            else:
                problems.append(f"{path}: {key} = {raw[key]!r} is not one of {', '.join(allowed)}")
    for key in ("trainee", "code"):
        if key in raw:
            if isinstance(raw[key], str):
                values[key] = raw[key][:MAX_TEXT]
            else:
                problems.append(f"{path}: {key} must be text")
    unknown = sorted(set(raw) - {"lang", "mode", "trainee", "code"})
    if unknown:
        problems.append(f"{path}: unknown setting(s) {', '.join(unknown)} ignored")
    return defaults.with_(**values), problems


def save_settings(settings: Settings, path: Path | None = None) -> str | None:
    """Write the settings atomically; returns what went wrong, or None."""
    path = path or settings_path()
    # JSON strings are valid TOML basic strings (same escapes)
    body = "".join(
        f"{key} = {json.dumps(value, ensure_ascii=False)}\n"
        for key, value in (("lang", settings.lang), ("mode", settings.mode), ("trainee", settings.trainee), ("code", settings.code))
    )
    text = "# dealersim settings (written by the game; safe to edit or delete)\n" + body
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, "utf-8")
        os.replace(tmp, path)
    except (OSError, UnicodeError) as exc:
        return f"{path}: {getattr(exc, 'strerror', None) or exc}"
    return None

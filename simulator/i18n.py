"""zh/en selection: UI strings live in data/strings.toml, scenario text in the scenario files."""

from __future__ import annotations

import locale
import os
import tomllib
from functools import cache
from importlib import resources

from simulator.schema import LANGS, Lang


@cache
def _strings() -> dict[str, dict[str, str]]:
    """All UI strings: every file in data/strings/ (one per part of the program), merged."""
    merged: dict[str, dict[str, str]] = {}
    folder = resources.files("simulator.data").joinpath("strings")
    for item in sorted(folder.iterdir(), key=lambda f: f.name):
        if item.name.endswith(".toml"):
            for key, entry in tomllib.loads(item.read_text("utf-8"))["strings"].items():
                if key in merged:
                    raise KeyError(f"UI string '{key}' is defined twice (in {item.name})")  # a packaging bug, caught by tests
                merged[key] = entry
    return merged


def t(key: str, lang: Lang, **values: object) -> str:
    """The UI string `key` in `lang`, with `{name}` placeholders filled."""
    entry = _strings()[key]
    text = entry[lang]
    return text.format(**values) if values else text


def all_keys() -> list[str]:
    return list(_strings())


def default_lang() -> Lang:
    """zh when the environment's locale is Chinese, otherwise en."""
    for var in ("DEALERSIM_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    code = locale.getlocale()[0] or ""
    return "zh" if code.lower().startswith("zh") else "en"


def check_lang(value: str) -> Lang:
    if value not in LANGS:
        raise ValueError(value)
    return value  # type: ignore[return-value]

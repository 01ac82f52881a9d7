"""Diagnostics: every problem a user can cause is a value with a code, a place and a hint.

Codes, their severity and their one-line title live in `data/diagnostics.toml`; the long
explanation with an example and the fix lives in docs/DIAGNOSTICS.md (a test keeps both in step).
Rendering happens once, at the edge (CLI or TUI).
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Iterable, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class CodeInfo:
    code: str
    severity: Severity
    title: str


@cache
def codes() -> dict[str, CodeInfo]:
    raw = tomllib.loads(resources.files("simulator.data").joinpath("diagnostics.toml").read_text("utf-8"))
    return {
        code: CodeInfo(code=code, severity=entry["severity"], title=entry["title"])
        for code, entry in raw["codes"].items()
    }


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    hint: str = ""
    file: str = ""
    line: int = 0
    col: int = 0
    severity: Severity = field(default="error")

    @classmethod
    def make(cls, code: str, message: str, hint: str = "", *, file: str = "", line: int = 0, col: int = 0) -> "Diagnostic":
        """A diagnostic with the severity its code is registered with."""
        info = codes().get(code)
        if info is None:
            raise KeyError(f"unregistered diagnostic code {code}")  # programming error, not user input
        return cls(code=code, message=message, hint=hint, file=file, line=line, col=col, severity=info.severity)

    @property
    def place(self) -> str:
        if not self.file:
            return ""
        if self.line and self.col:
            return f"{self.file}:{self.line}:{self.col}"
        if self.line:
            return f"{self.file}:{self.line}"
        return self.file

    def at(self, file: str, line: int = 0, col: int = 0) -> "Diagnostic":
        return replace(self, file=file, line=line, col=col)

    def render(self) -> str:
        head = " ".join(part for part in (self.code, self.severity, self.place) if part)
        text = f"{head} {self.message}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text

    def to_json(self) -> dict:
        return asdict(self)


class DiagnosticError(Exception):
    """Raised where a problem must stop the current action; carries the diagnostics to render."""

    def __init__(self, diagnostics: Diagnostic | Iterable[Diagnostic]):
        self.diagnostics = [diagnostics] if isinstance(diagnostics, Diagnostic) else list(diagnostics)
        super().__init__("\n".join(d.render() for d in self.diagnostics))


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity == "error" for d in diagnostics)


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """' — did you mean 'x'?' or '' when nothing is close."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" — did you mean '{close[0]}'?" if close else ""


def sort_key(d: Diagnostic) -> tuple:
    return (d.file, d.line, d.col, d.code)

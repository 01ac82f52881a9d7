"""The principle catalogue: the course's principles as data (`scoring/principles.toml`).

Scenarios tag choices with principle ids and the scorer reports against them; this module loads
and validates the catalogue and answers "is this a principle id?". A broken catalogue is reported
as diagnostics (DS0003 for TOML syntax, DS0109 for an invalid value), never as a traceback.

    cat = load_catalogue()
    p = cat.get("stock.safety_stock_1_5x")
    p.text("name", "zh")                       # '库存保持约1.5个销售周期'
    cat.family_name(p.family, "en")            # 'Stock pushing & inventory'
    if pid not in cat:
        diagnostics.append(cat.unknown_id_diagnostic(pid).at(scenario_file, line))
"""

from __future__ import annotations

import re
import tomllib
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from simulator.diagnostics import Diagnostic, DiagnosticError, did_you_mean
from simulator.toml_positions import key_positions, locate

Lang = Literal["zh", "en"]
Coverage = Literal["stated", "listed", "named_only"]
TextField = Literal["name", "explain"]

LANGS: tuple[str, ...] = ("zh", "en")
COVERAGES: tuple[str, ...] = ("stated", "listed", "named_only")
ID_PATTERN = r"^[a-z]+\.[a-z0-9_]+$"

CATALOGUE_RESOURCE = "principles.toml"
CATALOGUE_DISPLAY_PATH = "scoring/principles.toml"
_IDS_HINT = f"see {CATALOGUE_DISPLAY_PATH} or run `dealersim principles` for the valid ids"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class LocalText(_Strict):
    """A text in both workshop languages; both are required and non-blank."""

    zh: str
    en: str

    @field_validator("zh", "en")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise PydanticCustomError("blank_text", "text must not be empty")
        return value

    def get(self, lang: str) -> str:
        if lang not in LANGS:
            raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGS)}")
        return getattr(self, lang)


class Citation(_Strict):
    """Where the principle comes from: the primary seed file, its heading path and one verbatim quote."""

    seed: str = Field(min_length=1)
    section: str = Field(min_length=1)
    quote: str = Field(min_length=1)


class Principle(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    family: str
    name: LocalText
    explain: LocalText
    coverage: Coverage
    ours: bool
    citation: Citation

    @field_validator("family")
    @classmethod
    def _family_is_id_prefix(cls, family: str, info: ValidationInfo) -> str:
        pid = info.data.get("id")
        if pid is not None and pid.split(".", 1)[0] != family:
            raise PydanticCustomError(
                "family_mismatch",
                "family '{family}' does not match the id's prefix '{prefix}'",
                {"family": family, "prefix": pid.split(".", 1)[0]},
            )
        return family

    def text(self, field: TextField, lang: Lang) -> str:
        """The principle's name or explanation in 'zh' or 'en'."""
        if field not in ("name", "explain"):
            raise ValueError(f"unknown text field {field!r}; expected 'name' or 'explain'")
        return getattr(self, field).get(lang)


class Catalogue(_Strict):
    model_config = ConfigDict(populate_by_name=True)

    version: str = Field(min_length=1)
    # In the file each principle is a [[principle]] table.
    principles: list[Principle] = Field(alias="principle", min_length=1)
    families: dict[str, LocalText]

    @model_validator(mode="after")
    def _cross_check(self) -> "Catalogue":
        problems: list[tuple[int, str, str]] = []  # (principle index, field, message)
        first_at: dict[str, int] = {}
        for i, p in enumerate(self.principles):
            if p.id in first_at:
                problems.append((i, "id", f"duplicate principle id '{p.id}' (first defined by principle #{first_at[p.id] + 1})"))
            else:
                first_at[p.id] = i
            if p.family not in self.families:
                known = ", ".join(self.families) or "none"
                problems.append((i, "family", f"family '{p.family}' is not a key of [families] (known: {known})"))
        if problems:
            raise PydanticCustomError(
                "catalogue_cross_check",
                "{summary}",
                {"summary": "; ".join(msg for _, _, msg in problems), "problems": problems},
            )
        return self

    @cached_property
    def _by_id(self) -> dict[str, Principle]:
        return {p.id: p for p in self.principles}

    @property
    def ids(self) -> list[str]:
        """All principle ids, in catalogue order."""
        return [p.id for p in self.principles]

    def get(self, pid: str) -> Principle:
        """The principle with this id; KeyError if there is none."""
        try:
            return self._by_id[pid]
        except (KeyError, TypeError):
            raise KeyError(pid) from None

    def __contains__(self, pid: object) -> bool:
        return isinstance(pid, str) and pid in self._by_id

    def __len__(self) -> int:
        return len(self.principles)

    def in_family(self, family: str) -> list[Principle]:
        return [p for p in self.principles if p.family == family]

    def family_name(self, family: str, lang: str) -> str:
        """The family's display name in 'zh' or 'en'; KeyError for an unknown family."""
        return self.families[family].get(lang)

    def unknown_id_diagnostic(self, pid: str) -> Diagnostic:
        """DS0208 for an id that is not in the catalogue; the caller adds the place with `.at()`."""
        return Diagnostic.make(
            "DS0208",
            f"unknown principle id '{pid}'{did_you_mean(pid, self.ids)}",
            hint=_IDS_HINT,
        )


# --- loading ---------------------------------------------------------------------------------


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Load and validate a principle catalogue.

    Without a path: the packaged scoring/principles.toml, loaded once and cached.
    Raises DiagnosticError (never a raw parse or validation error) when the file is broken.
    """
    if path is None:
        return _load_packaged()
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DiagnosticError(
            Diagnostic.make("DS0001", f"cannot read the principle catalogue: {exc.strerror or exc}", file=str(path))
        ) from None
    return _parse(data, str(path))


@cache
def _load_packaged() -> Catalogue:
    resource = resources.files("scoring").joinpath(CATALOGUE_RESOURCE)
    try:
        data = resource.read_bytes()
    except OSError as exc:
        raise DiagnosticError(
            Diagnostic.make("DS0001", f"cannot read the principle catalogue: {exc}", file=CATALOGUE_DISPLAY_PATH)
        ) from None
    return _parse(data, CATALOGUE_DISPLAY_PATH)


_TOML_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_EOF = re.compile(r"\s*\(at end of document\)\s*$")


def _parse(data: bytes, file: str) -> Catalogue:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DiagnosticError(
            Diagnostic.make("DS0002", f"the principle catalogue is not valid UTF-8 (byte {exc.start})", file=file, line=line)
        ) from None

    text = text.removeprefix("\ufeff")  # a BOM is harmless; toml_positions does not count it either
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message, line, col = str(exc), 0, 0
        if m := _TOML_POS.search(message):
            line, col = int(m.group(1)), int(m.group(2))
            message = message[: m.start()]
        elif m := _TOML_EOF.search(message):
            line = text.count("\n") + 1
            message = message[: m.start()]
        raise DiagnosticError(
            Diagnostic.make(
                "DS0003",
                f"TOML syntax error in the principle catalogue: {message}",
                hint="fix the syntax; every [[principle]] table has the same keys (see the comment at the top of the file)",
                file=file,
                line=line,
                col=col,
            )
        ) from None

    try:
        return Catalogue.model_validate(raw)
    except ValidationError as exc:
        positions = key_positions(text)
        diagnostics = [
            diagnostic
            for error in exc.errors(include_url=False)
            for diagnostic in _diagnostics_for(error, raw, positions, file)
        ]
        diagnostics.sort(key=lambda d: (d.line, d.col, d.message))
        raise DiagnosticError(diagnostics) from None


def _diagnostics_for(error: dict[str, Any], raw: dict[str, Any], positions: dict, file: str) -> list[Diagnostic]:
    if error["type"] == "catalogue_cross_check":
        return [
            _invalid(("principle", index, field), message, field, raw, positions, file)
            for index, field, message in error["ctx"]["problems"]
        ]
    loc = tuple(error["loc"])  # aliases, i.e. the file's own keys ("principle", not "principles")
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = f"unknown field '{loc[-1]}'"
    elif error["type"] == "missing":
        message = f"required field '{loc[-1]}' is missing"
    field = next((part for part in reversed(loc) if isinstance(part, str) and part != "principle"), "")
    return [_invalid(loc, message, field, raw, positions, file)]


def _invalid(loc: tuple, message: str, field: str, raw: dict[str, Any], positions: dict, file: str) -> Diagnostic:
    line, col = locate(positions, loc)
    return Diagnostic.make(
        "DS0109", f"{_describe(loc, raw)}: {message}", hint=_hint_for(field), file=file, line=line, col=col
    )


def _describe(loc: tuple, raw: dict[str, Any]) -> str:
    if not loc:
        return "principle catalogue"
    if loc[0] == "principle" and len(loc) > 1 and isinstance(loc[1], int):
        index = loc[1]
        entries = raw.get("principle")
        pid = None
        if isinstance(entries, list) and index < len(entries) and isinstance(entries[index], dict):
            pid = entries[index].get("id")
        where = f"principle #{index + 1}" + (f" '{pid}'" if isinstance(pid, str) else "")
        rest = ".".join(str(part) for part in loc[2:])
        return f"{where}, {rest}" if rest else where
    return ".".join(str(part) for part in loc)


def _hint_for(field: str) -> str:
    return {
        "id": "ids are family.rule in lower-case snake_case (e.g. stock.safety_stock_1_5x) and must be unique",
        "family": "family is the id's prefix and must be one of the keys of the [families] table",
        "coverage": "coverage is one of: " + ", ".join(COVERAGES),
        "zh": "give the text in both languages (zh and en)",
        "en": "give the text in both languages (zh and en)",
    }.get(field, "see the comment at the top of the catalogue file for the expected keys")

"""TOML → Scenario, with every problem a diagnostic that points at the offending key.

Stages: read and decode → TOML syntax → schema version → pydantic models → cross-references,
conditions and the story graph. A broken file never produces a traceback.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from simulator.diagnostics import Diagnostic, did_you_mean, has_errors, sort_key
from simulator.expr import Condition, Scope, compile_condition
from simulator.market import Market, market_problems
from simulator.market import territories as market_territories
from simulator.schema import (
    EFFECT_KINDS,
    SCHEMA_VERSION,
    STEP_KINDS,
    BranchStep,
    DecisionStep,
    EndingStep,
    LocalText,
    NegotiationStep,
    Scenario,
    _effect_kind,
    _step_kind,
    effect_kind,
    effect_params,
)
from simulator.toml_positions import key_positions, locate

MAX_BYTES = 1_000_000
Loc = tuple[str | int, ...]


@dataclass
class LoadedScenario:
    """A validated scenario with its compiled conditions and where it came from."""

    scenario: Scenario
    path: str
    sha256: str
    conditions: dict[str, Condition] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)  # warnings that did not stop loading
    negotiations: dict[str, Any] = field(default_factory=dict)  # negotiation step id -> the core's NegotiationSpec
    nego_names: dict[str, str] = field(default_factory=dict)  # every `nego.<step>.*` condition name -> "bool" | "number"

    def condition(self, source: str) -> Condition:
        return self.conditions[source]


@dataclass
class LoadResult:
    loaded: LoadedScenario | None
    diagnostics: list[Diagnostic]

    @property
    def ok(self) -> bool:
        return self.loaded is not None


def load_scenario(path: str | Path, principles: Collection[str] | None = None, *, tolerate: Collection[str] = ()) -> LoadResult:
    """Load and check a scenario file. Errors whose codes are in `tolerate` do not stop loading
    (the path explorer uses it to play a scenario whose story graph is broken and show where)."""
    label = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as err:
        return LoadResult(None, [Diagnostic.make("DS0001", f"cannot read the file: {err.strerror or err}", "check the path and that the file exists", file=label)])
    return load_text(raw, label, principles, tolerate=tolerate)


def load_text(raw: bytes | str, label: str = "<scenario>", principles: Collection[str] | None = None, *, tolerate: Collection[str] = ()) -> LoadResult:
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_BYTES:
        return _fail("DS0005", f"file is {len(raw):,} bytes; the limit is {MAX_BYTES:,}", "split the scenario or remove pasted material", label)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        col = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        return _fail("DS0002", f"byte 0x{raw[err.start]:02x} is not UTF-8", "save the file as UTF-8 (most editors: File › Save with encoding › UTF-8)", label, line, col)
    text = text.removeprefix("\ufeff")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        return _toml_error(err, label, text)
    lines = text.splitlines()
    ctx = _Ctx(label, None, lines, data, text=text)  # key positions are found only if a diagnostic needs one

    if "schema" not in data:
        return LoadResult(None, [ctx.diag("DS0102", (), "missing `schema = 1` at the top of the file", "add the line `schema = 1` as the first line")])
    if data["schema"] != SCHEMA_VERSION:
        return LoadResult(None, [ctx.diag("DS0004", ("schema",), f"schema version {data['schema']!r} is not supported (this dealersim reads version {SCHEMA_VERSION})", f"write `schema = {SCHEMA_VERSION}`, or upgrade dealersim")])
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as err:
        return LoadResult(None, sorted(_schema_diagnostics(err, ctx), key=sort_key))

    diags, conditions = _cross_check(scenario, ctx, principles)
    specs, nego_names, nego_diags = _check_negotiations(scenario, ctx)
    diags = sorted(_dedupe(diags + nego_diags), key=sort_key)
    if has_errors(d for d in diags if d.code not in tolerate):
        return LoadResult(None, diags)
    sha = hashlib.sha256(raw).hexdigest()
    return LoadResult(LoadedScenario(scenario, label, sha, conditions, diags, specs, nego_names), diags)


def _fail(code: str, message: str, hint: str, label: str, line: int = 0, col: int = 0) -> LoadResult:
    return LoadResult(None, [Diagnostic.make(code, message, hint, file=label, line=line, col=col)])


def _toml_error(err: tomllib.TOMLDecodeError, label: str, text: str) -> LoadResult:
    message = str(err)
    line = col = 0
    m = re.search(r"\(at line (\d+), column (\d+)\)", message)
    if m:
        line, col = int(m.group(1)), int(m.group(2))
        message = message[: m.start()].strip()
    elif m := re.search(r"\(at end of document\)", message):
        message = message[: m.start()].strip() + " at the end of the file"
        lines = text.splitlines() or [""]
        line, col = len(lines), len(lines[-1]) + 1
    hint = _TOML_HINTS.get(message.lower(), "check quotes, brackets and `key = value` on this line")
    return _fail("DS0003", f"TOML syntax: {message[:1].lower() + message[1:]}", hint, label, line, col)


_TOML_HINTS = {
    "invalid value": "text values need quotes: key = \"some text\"",
    "cannot overwrite a value": "this key is written twice; keep one",
    "unclosed array": "close the list with ]",
    "unclosed inline table": "close the table with }",
    "expected '=' after a key in a key/value pair": "write key = value",
    "invalid statement": "each line is `key = value`, `[table]` or `[[array]]`",
}


class _Ctx:
    def __init__(self, label: str, positions: dict | None, lines: list[str], data: dict, root: type[BaseModel] = Scenario, *, text: str = ""):
        self.root = root  # the model the whole document validates against (playthrough tests have their own)
        self.label = label
        self._positions = positions
        self._text = text
        self.lines = lines
        self.data = data

    @property
    def positions(self) -> dict:
        """Where each key is (simulator/toml_positions.py): a second parse of the file, so only when asked."""
        if self._positions is None:
            self._positions = key_positions(self._text)
        return self._positions

    def pos(self, loc: Loc) -> tuple[int, int]:
        line, col = locate(self.positions, loc)
        return (line, col) if line else (1, 1)  # a problem with the whole file: point at its top

    def diag(self, code: str, loc: Loc, message: str, hint: str = "") -> Diagnostic:
        line, col = self.pos(loc)
        return Diagnostic.make(code, message, hint, file=self.label, line=line, col=col)

    def value_pos(self, loc: Loc) -> tuple[int, int]:
        """Where the value of a `key = "..."` string starts (inside the quote), for condition columns."""
        line, col = self.pos(loc)
        if not line or line > len(self.lines):
            return line, col
        text = self.lines[line - 1]
        eq = text.find("=", max(col - 1, 0))
        if eq < 0:
            return line, col
        m = re.compile(r"\s*('''|\"\"\"|'|\")").match(text, eq + 1)
        return (line, m.end() + 1) if m else (line, eq + 2)


# ---------------------------------------------------------------- schema errors


def _clean_loc(loc: tuple, data: Any) -> tuple[Loc, list[str]]:
    """Split a pydantic loc into the path in the data and the union labels pydantic added."""
    path: list[str | int] = []
    labels: list[str] = []
    current = data
    for i, part in enumerate(loc):
        if isinstance(current, dict) and isinstance(part, str) and part in current:
            current = current[part]
            path.append(part)
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            current = current[part]
            path.append(part)
        elif i == len(loc) - 1 and isinstance(part, str) and isinstance(current, dict) and part not in _UNION_LABELS:
            path.append(part)  # a missing key: name it
        else:
            labels.append(str(part))
    return tuple(path), labels


_UNION_LABELS = {"str", "LocalText", "float", "bool", "int", "list[float]", "number_issue", "options_issue", *EFFECT_KINDS, *STEP_KINDS}


def _value_at(data: Any, loc: Loc) -> Any:
    for part in loc:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def _model_at(loc: Loc, data: Any, root: type[BaseModel] = Scenario) -> type[BaseModel] | None:
    """The model class that validates the table at `loc` (for "did you mean" on field names)."""
    ann: Any = root
    current = data
    for part in loc:
        ann = _pick(ann, current)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            fields = {f.alias or name: f for name, f in ann.model_fields.items()}
            if part not in fields:
                return None
            ann = fields[part].annotation
        elif get_origin(ann) is list:
            ann = get_args(ann)[0]
        elif get_origin(ann) is dict:
            ann = get_args(ann)[1]
        else:
            return None
        current = _value_at(current, (part,))
    ann = _pick(ann, current)
    return ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None


def _pick(annotation: Any, value: Any) -> Any:
    """Unwrap Optional/Annotated/Union to the member that fits the raw value."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _pick(get_args(annotation)[0], value)
    if origin is Union or origin is types.UnionType:
        members = [_pick(a, value) for a in get_args(annotation) if a is not type(None)]
        models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
        if isinstance(value, dict) and models:
            tag = _effect_kind(value) or _step_kind(value)
            for m in models:
                kind_field = m.model_fields.get("kind")
                if tag and (tag in m.model_fields or (kind_field is not None and kind_field.default == tag)):
                    return m
            if len(models) == 1:
                return models[0]
        return members[0] if len(members) == 1 else annotation
    return annotation


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'the text "{value[:40]}"'
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


_TYPE_WORDS = {
    "string_type": "text in quotes",
    "float_type": "a number",
    "int_type": "a whole number",
    "bool_type": "true or false",
    "dict_type": "a table",
    "model_type": "a table",
    "list_type": "a list [ … ]",
    "literal_error": "one of the allowed values",
}


def _schema_diagnostics(err: ValidationError, ctx: _Ctx) -> Iterator[Diagnostic]:
    seen: set[Loc] = set()
    for e in err.errors(include_url=False):
        loc, labels = _clean_loc(e["loc"], ctx.data)
        if loc in seen:
            continue
        seen.add(loc)
        yield _schema_diagnostic(e, loc, labels, ctx)


def _where(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            key = f'"{part}"' if "." in part else part
            out += f".{key}" if out else key
    return out or "the scenario"


def _schema_diagnostic(e: dict, loc: Loc, labels: list[str], ctx: _Ctx) -> Diagnostic:
    etype = e["type"]
    value = _value_at(ctx.data, loc)
    where = _where(loc)
    if etype == "extra_forbidden":
        key = str(loc[-1])
        model = _model_at(loc[:-1], ctx.data, ctx.root)
        allowed = [f.alias or n for n, f in model.model_fields.items()] if model else []
        hint = f"allowed here: {', '.join(allowed)}" if allowed else "remove it"
        return ctx.diag("DS0101", loc, f"unknown field '{key}' in {_where(loc[:-1])}{did_you_mean(key, allowed)}", hint)
    if etype == "missing":
        return ctx.diag("DS0102", loc[:-1], f"{_where(loc[:-1])} needs '{loc[-1]}'", _missing_hint(loc, ctx))
    if etype == "union_tag_invalid" or etype == "union_tag_not_found":
        if loc and "effects" in loc[-3:-1] or (len(loc) >= 2 and loc[-2] == "effects"):
            keys = list(value) if isinstance(value, dict) else []
            name = keys[0] if len(keys) == 1 else ", ".join(map(str, keys)) or "nothing"
            return ctx.diag(
                "DS0106",
                loc,
                f"unknown effect '{name}'{did_you_mean(str(name), EFFECT_KINDS)}",
                f"an effect is a table with exactly one of: {', '.join(EFFECT_KINDS)}",
            )
        kind = value.get("kind") if isinstance(value, dict) else None
        extra = f"unknown step kind '{kind}'{did_you_mean(str(kind), STEP_KINDS)}" if kind else "cannot tell what kind of step this is"
        return ctx.diag("DS0107", loc, f"{where}: {extra}", "a decision step has `choices`, a branch step has `routes`, an ending has `outcome`, a negotiation has `issues` (or set kind = \"decision\" | \"branch\" | \"ending\" | \"negotiation\")")
    if etype in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        limit = next(iter(e.get("ctx", {}).values()), "")
        words = {"greater_than": "more than", "greater_than_equal": "at least", "less_than": "less than", "less_than_equal": "at most"}[etype]
        return ctx.diag("DS0104", loc, f"{where} is {value}; it must be {words} {limit}", f"use a value {words} {limit} (ranges: docs/FORMAT.md)")
    if etype in ("too_short", "too_long"):
        return ctx.diag("DS0109", loc, f"{where}: {e['msg'].lower()}", "see docs/FORMAT.md for how many items are allowed here")
    if etype == "literal_error":
        expected = e.get("ctx", {}).get("expected", "")
        allowed = re.findall(r"'([^']*)'", expected)
        return ctx.diag("DS0105", loc, f"{where} is {_describe(value)}; expected {expected}{did_you_mean(str(value), allowed)}", f"use one of: {', '.join(allowed) or expected}")
    if etype == "string_pattern_mismatch":
        hint = "ids are lower-case letters, digits and _, starting with a letter (e.g. `fallout`)"
        if loc == ("id",):
            hint = "the scenario id is `family.name`, e.g. `stock_push.quarter_end`"
        return ctx.diag("DS0105", loc, f"{where} is {_describe(value)}, which is not a valid id", hint)
    if "LocalText" in labels or (etype in ("string_type", "model_type", "dict_type") and _is_text_field(loc, ctx)):
        return ctx.diag("DS0103", loc, f"{where} must be text: a string or {{ zh = \"…\", en = \"…\" }}, not {_describe(value)}", 'write text in quotes, or both languages: { zh = "中文", en = "English" }')
    if etype in _TYPE_WORDS or etype.endswith("_type"):
        want = _TYPE_WORDS.get(etype, etype.removesuffix("_type"))
        hint = "write numbers without quotes, e.g. 120 or 0.25" if want.startswith("a number") or want.startswith("a whole") else f"write {want}"
        if etype == "int_type" and isinstance(value, float):
            hint = "use a whole number, e.g. 4 instead of 4.0 or 4.5"
        return ctx.diag("DS0103", loc, f"{where} must be {want}, not {_describe(value)}", hint)
    return ctx.diag("DS0109", loc, f"{where}: {e['msg'].removeprefix('Value error, ')}", "see docs/FORMAT.md")


def _missing_hint(loc: Loc, ctx: _Ctx) -> str:
    """How to write the missing key: `[market]` and `[[steps]]` are tables, not `key = …`."""
    model = _model_at(loc[:-1], ctx.data, ctx.root)
    field = model.model_fields.get(str(loc[-1])) if model else None
    if field is None and model:
        field = next((f for f in model.model_fields.values() if f.alias == loc[-1]), None)
    ann = _pick(field.annotation, None) if field else None
    dotted = ".".join(str(p) for p in loc)
    if not any(isinstance(p, int) for p in loc):
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            return f"add a `[{dotted}]` table (see docs/FORMAT.md)"
        if get_origin(ann) is list and _holds_tables(get_args(ann)[0]):
            return f"add `[[{dotted}]]` tables, one per item (see docs/FORMAT.md)"
    return f"add `{loc[-1]} = …` (see docs/FORMAT.md)"


def _holds_tables(annotation: Any) -> bool:
    """Whether the items of a list are tables (models), possibly one of several kinds."""
    if get_origin(annotation) is Annotated:
        return _holds_tables(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_holds_tables(a) for a in get_args(annotation))
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _is_text_field(loc: Loc, ctx: _Ctx) -> bool:
    return bool(loc) and loc[-1] in ("text", "title", "summary", "briefing", "name", "feedback", "reply", "note", "unit")


# ---------------------------------------------------------------- cross-references


def _cross_check(sc: Scenario, ctx: _Ctx, principles: Collection[str] | None) -> tuple[list[Diagnostic], dict[str, Condition]]:
    diags: list[Diagnostic] = []
    step_ids: dict[str, int] = {}
    for i, step in enumerate(sc.steps):
        if step.id in step_ids:
            diags.append(ctx.diag("DS0201", ("steps", i, "id"), f"step id '{step.id}' is used twice (first at step {step_ids[step.id] + 1})", "give every step its own id"))
        else:
            step_ids[step.id] = i
    dealer_ids: dict[str, int] = {}
    for i, dealer in enumerate(sc.market.dealers):
        if dealer.id in dealer_ids:
            diags.append(ctx.diag("DS0210", ("market", "dealers", i, "id"), f"dealer id '{dealer.id}' is used twice", "give every dealer its own id"))
        dealer_ids.setdefault(dealer.id, i)

    family_prefix = sc.id.split(".")[0]
    if family_prefix != sc.family:
        diags.append(ctx.diag("DS0215", ("id",), f"scenario id '{sc.id}' does not start with its family '{sc.family}'", f"write id = \"{sc.family}.{sc.id.split('.', 1)[-1]}\""))

    if sc.start is not None and sc.start not in step_ids:
        diags.append(ctx.diag("DS0211", ("start",), f"start step '{sc.start}' does not exist{did_you_mean(sc.start, step_ids)}", "name one of the steps' ids"))

    market = Market(sc.market)
    names = {n: "number" for n in market.observable_names()}
    for var, value in sc.variables.items():
        names[f"var.{var}"] = "bool" if isinstance(value, bool) else "number"
    for step in sc.steps:
        if isinstance(step, NegotiationStep):
            names.update(nego_condition_names(step))
    choice_ids = {f"{s.id}.{c.id}" for s in sc.steps if isinstance(s, DecisionStep) for c in s.choices}
    scope = Scope(names=names, steps=frozenset(step_ids), choices=frozenset(choice_ids))
    conditions: dict[str, Condition] = {}
    used_names: set[str] = set()
    used_dealers: set[str] = set()

    def check_condition(source: str, loc: Loc) -> None:
        cond, problems = compile_condition(source, scope)
        if cond is not None:
            conditions[source] = cond
            used_names.update(cond.names)
            return
        line, col = ctx.value_pos(loc)
        for d in problems:
            diags.append(d.at(ctx.label, line, col + max(d.col, 1) - 1 if line else 0))

    def check_goto(target: str, loc: Loc, what: str) -> None:
        if target not in step_ids:
            diags.append(ctx.diag("DS0203", loc, f"{what} goes to unknown step '{target}'{did_you_mean(target, step_ids)}", "name an existing step id, or add the step"))

    def check_dealer(dealer: str, loc: Loc) -> None:
        used_dealers.add(dealer)
        if dealer not in dealer_ids:
            diags.append(ctx.diag("DS0204", loc, f"unknown dealer '{dealer}'{did_you_mean(dealer, dealer_ids)}", f"dealers in this scenario: {', '.join(dealer_ids)}"))

    def check_principle(pid: str, loc: Loc) -> None:
        if principles is not None and pid not in principles:
            diags.append(ctx.diag("DS0208", loc, f"unknown principle id '{pid}'{did_you_mean(pid, principles)}", "see scoring/principles.toml or run `dealersim principles`"))

    for k, pid in enumerate(sc.principles):
        check_principle(pid, ("principles", k))
    taught = set(sc.principles)

    for i, step in enumerate(sc.steps):
        base: Loc = ("steps", i)
        if isinstance(step, DecisionStep):
            seen_choices: set[str] = set()
            for c_i, choice in enumerate(step.choices):
                cloc = base + ("choices", c_i)
                if choice.id in seen_choices:
                    diags.append(ctx.diag("DS0202", cloc + ("id",), f"choice id '{choice.id}' is used twice in step '{step.id}'", "give each choice in a step its own id"))
                seen_choices.add(choice.id)
                if choice.when is not None:
                    check_condition(choice.when, cloc + ("when",))
                check_goto(choice.then.goto, cloc + ("then", "goto"), f"choice '{choice.id}'")
                for e_i, effect in enumerate(choice.effects):
                    _check_effect(effect, cloc + ("effects", e_i), sc, ctx, diags, check_dealer, used_names)
                for pid in choice.principles:
                    check_principle(pid, cloc + ("principles", pid))
                    if principles is not None and pid in principles and pid not in taught:
                        diags.append(ctx.diag("DS0214", cloc + ("principles", pid), f"choice '{choice.id}' scores '{pid}', which the scenario does not list in `principles`", "add it to the scenario's `principles` list so the briefing and catalogue show it"))
            if all(c.when is not None for c in step.choices):
                diags.append(ctx.diag("DS0216", base + ("choices",), f"every choice of step '{step.id}' has a condition; when none holds the trainee is stuck", "give at least one choice no `when`"))
        elif isinstance(step, (BranchStep, NegotiationStep)):
            what = "branch" if isinstance(step, BranchStep) else "negotiation"
            for r_i, route in enumerate(step.routes):
                rloc = base + ("routes", r_i)
                if route.when is not None:
                    check_condition(route.when, rloc + ("when",))
                check_goto(route.goto, rloc + ("goto",), f"route {r_i + 1} of '{step.id}'")
                for e_i, effect in enumerate(getattr(route, "effects", [])):
                    _check_effect(effect, rloc + ("effects", e_i), sc, ctx, diags, check_dealer, used_names)
            if step.routes[-1].when is not None:
                diags.append(ctx.diag("DS0207", base + ("routes",), f"{what} step '{step.id}' has no default route: when no condition holds the story stops", "add a last route with only `goto` (no `when`)"))
        _check_texts(step, base, ctx, diags)

    _check_texts(sc, (), ctx, diags)
    for d_i, dealer in enumerate(sc.market.dealers):
        if isinstance(dealer.name, str):
            diags.append(_one_language(ctx, ("market", "dealers", d_i, "name")))
    if isinstance(sc.market.unit, str):
        diags.append(_one_language(ctx, ("market", "unit")))
    diags.extend(_graph_checks(sc, ctx, step_ids))
    diags.extend(_check_languages(sc, ctx))
    diags.extend(_check_market(sc, ctx))

    for dealer, d_i in dealer_ids.items():
        if dealer not in used_dealers and not any(n.startswith(f"dealer.{dealer}.") for n in used_names):
            diags.append(ctx.diag("DS0209", ("market", "dealers", d_i, "id"), f"dealer '{dealer}' is never used by an effect or a condition", "use it, or remove it if it only sets the scene"))
    broken_condition = any(d.code.startswith("DS03") for d in diags)
    for var in sc.variables:
        if f"var.{var}" not in used_names and not broken_condition:
            diags.append(ctx.diag("DS0209", ("variables", var), f"variable '{var}' is never read by a condition", "use it in a `when`, or remove it"))
    return diags, conditions


def _check_effect(effect, loc: Loc, sc: Scenario, ctx: _Ctx, diags: list[Diagnostic], check_dealer, used_names: set[str]) -> None:
    kind = effect_kind(effect)
    p = effect_params(effect)
    ploc = loc + (kind,)
    if hasattr(p, "dealer"):
        check_dealer(p.dealer, ploc + ("dealer",))
    if kind == "order" and (p.units is None) == (p.cover_cycles is None):
        diags.append(ctx.diag("DS0109", ploc, "an order needs exactly one of `units` or `cover_cycles`", "write `units = 600` or `cover_cycles = 1.5`"))
    if kind in ("set", "add"):
        if p.var not in sc.variables:
            diags.append(ctx.diag("DS0213", ploc + ("var",), f"unknown variable '{p.var}'{did_you_mean(p.var, sc.variables)}", "declare it under [variables] with a starting value"))
        elif kind == "add" and isinstance(sc.variables[p.var], bool):
            diags.append(ctx.diag("DS0109", ploc + ("var",), f"variable '{p.var}' is true/false; `add` needs a number", "use `set` for true/false variables"))
        elif kind == "set" and isinstance(sc.variables[p.var], bool) != isinstance(p.value, bool):
            diags.append(ctx.diag("DS0103", ploc + ("value",), f"variable '{p.var}' was declared as {'true/false' if isinstance(sc.variables[p.var], bool) else 'a number'}; this sets {_describe(p.value)}", "keep each variable's type the same"))
    if kind == "note" and isinstance(p, str):
        diags.append(_one_language(ctx, ploc))
    # ---- market levers (simulator/market.py owns their meaning; docs/FORMAT.md, Effects) ----
    if kind == "buy_back" and p.units is not None and p.cover_cycles is not None:
        diags.append(ctx.diag("DS0109", ploc, "a buy-back takes at most one of `units` or `cover_cycles`", "write `units = 200` or `cover_cycles = 1.5`"))
    elif kind == "buy_back" and p.source == "market" and p.cover_cycles is not None:
        diags.append(ctx.diag("DS0109", ploc + ("cover_cycles",), "a market buy-back counts diverted units, not cover", "write `units = …`, or leave it out to buy up all diverted goods in the territory"))
    if kind in ("credit_terms", "channel_policy") and not (p.model_fields_set - {"dealer"}):
        diags.append(ctx.diag("DS0109", ploc, f"this `{kind}` effect changes nothing", "give at least one of its fields (docs/FORMAT.md, Effects)"))
    if kind == "territory_change" and p.territory not in (known := market_territories(sc.market)):
        diags.append(ctx.diag("DS0401", ploc + ("territory",), f"unknown territory '{p.territory}'{did_you_mean(p.territory, known)}", f"territories in this market: {', '.join(known)}; name a new one in `[[market.transport]]`"))
    # ---- end market levers ----


def _one_language(ctx: _Ctx, loc: Loc) -> Diagnostic:
    return ctx.diag("DS0108", loc, f"{_where(loc)} is given in one language only; trainees playing in the other language see it untranslated", 'write { zh = "中文", en = "English" }')


def _check_texts(model: BaseModel, base: Loc, ctx: _Ctx, diags: list[Diagnostic]) -> None:
    for name in ("title", "summary", "briefing", "text"):
        if isinstance(getattr(model, name, None), str):
            diags.append(_one_language(ctx, base + (name,)))
    for c_i, choice in enumerate(getattr(model, "choices", []) or []):
        for name in ("text", "feedback", "reply"):
            if isinstance(getattr(choice, name), str):
                diags.append(_one_language(ctx, base + ("choices", c_i, name)))
    if isinstance(model, NegotiationStep):
        for k, issue in enumerate(model.issues):
            if isinstance(issue.name, str):
                diags.append(_one_language(ctx, base + ("issues", k, "name")))
            for o, option in enumerate(getattr(issue, "options", [])):
                if isinstance(option.name, str):
                    diags.append(_one_language(ctx, base + ("issues", k, "options", o, "name")))
        for name in ("name", "partner"):
            if isinstance(getattr(model.counterpart, name), str):
                diags.append(_one_language(ctx, base + ("counterpart", name)))


# Chinese characters (CJK unified ideographs and their extensions used in names) and Latin letters.
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def _local_texts(value: Any, loc: Loc) -> Iterator[tuple[Loc, LocalText]]:
    """Every `{ zh, en }` text in a model tree, with its path in the file."""
    if isinstance(value, LocalText):
        yield loc, value
    elif isinstance(value, BaseModel):
        for name, f in type(value).model_fields.items():
            yield from _local_texts(getattr(value, name), loc + (f.alias or name,))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _local_texts(item, loc + (i,))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _local_texts(item, loc + (key,))


def _check_languages(sc: Scenario, ctx: _Ctx) -> Iterator[Diagnostic]:
    """DS0110: a `zh` text with no Chinese in it, or an `en` text that is mostly Chinese (swapped or pasted twice)."""
    for loc, text in _local_texts(sc, ()):
        if not _CJK.search(text.zh):
            yield ctx.diag("DS0110", loc + ("zh",), f"{_where(loc)}.zh has no Chinese characters: \"{text.zh[:40]}\"", "write the Chinese text under zh (were zh and en swapped?)")
        cjk = len(_CJK.findall(text.en))  # usually none: then the Latin letters need no counting
        if cjk and cjk > len(_LATIN.findall(text.en)):
            yield ctx.diag("DS0110", loc + ("en",), f"{_where(loc)}.en is mostly Chinese: \"{text.en[:40]}\"", "write the English text under en (quoting a Chinese phrase inside English text is fine)")


MAX_COVER_CYCLES = 20  # also the largest `cover_cycles` an order may ask for (schema.OrderParams)
JUMPY_ADJUST_WEEKS = 1.0
JUMPY_CV = 0.5


def _check_market(sc: Scenario, ctx: _Ctx) -> Iterator[Diagnostic]:
    """DS0401/DS0402: market parameters each in range but implausible together."""
    for loc, code, message, hint in market_problems(sc.market):  # transport table, price floor (simulator/market.py)
        yield ctx.diag(code, loc, message, hint)
    cycle = sc.market.weeks_per_cycle
    dealers = {d.id: d for d in sc.market.dealers}
    for i, d in enumerate(sc.market.dealers):
        loc: Loc = ("market", "dealers", i)
        per_cycle = d.demand.mean * cycle
        if d.stock > MAX_COVER_CYCLES * per_cycle:
            yield ctx.diag(
                "DS0401", loc + ("stock",),
                f"dealer '{d.id}' starts with {d.stock:g} units, {d.stock / per_cycle:.0f} sales cycles of cover; the model allows at most {MAX_COVER_CYCLES}",
                f"one cycle is {per_cycle:g} units (demand.mean × weeks_per_cycle) and safety stock is 1.5 cycles ({1.5 * per_cycle:g}); check stock and demand.mean",
            )
        if d.adjust_weeks < JUMPY_ADJUST_WEEKS and d.demand.cv >= JUMPY_CV:
            yield ctx.diag(
                "DS0402", loc + ("adjust_weeks",),
                f"dealer '{d.id}' closes its stock gap within {d.adjust_weeks:g} week(s) while demand varies by cv {d.demand.cv:g}: its reorders will swing wildly week to week",
                f"use adjust_weeks ≥ {JUMPY_ADJUST_WEEKS:g} or a cv below {JUMPY_CV:g} (typical dealers: adjust_weeks 2–4, cv 0.2–0.4)",
            )
    for i, step in enumerate(sc.steps):
        for c_i, choice in enumerate(getattr(step, "choices", [])):
            for e_i, effect in enumerate(choice.effects):
                p = effect_params(effect)
                d = dealers.get(getattr(p, "dealer", ""))
                if effect_kind(effect) != "order" or p.units is None or d is None:
                    continue
                per_cycle = d.demand.mean * cycle
                if p.units > MAX_COVER_CYCLES * per_cycle:
                    yield ctx.diag(
                        "DS0402", ("steps", i, "choices", c_i, "effects", e_i, "order", "units"),
                        f"an order of {p.units:g} units is {p.units / per_cycle:.0f} sales cycles of demand for dealer '{d.id}'",
                        "check the number (a digit too many?), or order `cover_cycles = …` instead",
                    )


def _graph_checks(sc: Scenario, ctx: _Ctx, step_ids: dict[str, int]) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    edges: dict[str, list[str]] = {}
    for step in sc.steps:
        if isinstance(step, DecisionStep):
            edges[step.id] = [c.then.goto for c in step.choices if c.then.goto in step_ids]
        elif isinstance(step, (BranchStep, NegotiationStep)):
            edges[step.id] = [r.goto for r in step.routes if r.goto in step_ids]
        else:
            edges[step.id] = []
    endings = {s.id for s in sc.steps if isinstance(s, EndingStep)}
    if not endings:
        diags.append(ctx.diag("DS0212", ("steps",), "the scenario has no ending step", 'add a step with `outcome = "good"` (or "mixed", "bad") and a text'))
        return diags
    start = sc.start if sc.start in step_ids else sc.steps[0].id
    reachable = _reach(start, edges)
    for step in sc.steps:
        if step.id not in reachable:
            diags.append(ctx.diag("DS0205", ("steps", step_ids[step.id], "id"), f"step '{step.id}' can never be reached from '{start}'", "add a goto to it, or remove it"))
    reverse: dict[str, list[str]] = {s: [] for s in edges}
    for src, targets in edges.items():
        for t in targets:
            reverse[t].append(src)
    can_finish: set[str] = set()
    for e in endings:
        can_finish |= _reach(e, reverse)
    for step in sc.steps:
        if step.id in reachable and step.id not in can_finish:
            diags.append(ctx.diag("DS0206", ("steps", step_ids[step.id], "id"), f"dead end: no ending can be reached from step '{step.id}'", "make at least one choice or route lead on towards an ending"))
    # branch steps that loop only through branch steps would never let the trainee act
    branch_only = {s.id: [r.goto for r in s.routes if r.goto in step_ids] for s in sc.steps if isinstance(s, BranchStep)}
    for sid in branch_only:
        if sid in _reach_within(sid, branch_only):
            diags.append(ctx.diag("DS0206", ("steps", step_ids[sid], "id"), f"branch step '{sid}' can loop back to itself through branch steps only", "route the loop through a decision step"))
    return diags


def _reach(start: str, edges: dict[str, list[str]]) -> set[str]:
    seen = {start}
    stack = [start]
    while stack:
        for nxt in edges.get(stack.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _reach_within(start: str, edges: dict[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(edges.get(start, []))
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack.extend(edges.get(node, []))
    return seen


def _dedupe(diags: list[Diagnostic]) -> list[Diagnostic]:
    out, seen = [], set()
    for d in diags:
        key = (d.code, d.line, d.col, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


# ---------------------------------------------------------------- negotiation steps

ZOPA_SAMPLE = 200  # counterparts drawn to judge whether a deal is usually possible
ZOPA_SHARE = 0.5  # warn when fewer than this share of them leave any deal both sides accept


def _check_negotiations(sc: Scenario, ctx: _Ctx) -> tuple[dict[str, Any], dict[str, str], list[Diagnostic]]:
    """Each negotiation step as the core's spec, its condition names, and what makes it unplayable.

    DS0111 unknown line or tactic key; DS0109 a tactic value; DS0403 issues or counterpart that cannot
    be played (with the core's reason); DS0404 no zone of agreement for most counterparts."""
    from simulator.negotiation.spec import SpecError
    from simulator.negotiation.step import FIXED_NAMES, PARAM_NAMES, core_issue, counterpart_spec, spec_from_step, tactic_params

    specs: dict[str, Any] = {}
    names: dict[str, str] = {}
    diags: list[Diagnostic] = []
    for i, step in enumerate(sc.steps):
        if not isinstance(step, NegotiationStep):
            continue
        base: Loc = ("steps", i)
        names.update(nego_condition_names(step))
        from simulator.negotiation.lines import LINES

        for key in step.lines:
            if key not in LINES:
                diags.append(ctx.diag("DS0111", base + ("lines", key), f"'{key}' is not a negotiation line{did_you_mean(key, LINES)}", "lines: docs/NEGOTIATION.md#lines"))
        for key in step.tactics:
            if key not in PARAM_NAMES:
                diags.append(ctx.diag("DS0111", base + ("tactics", key), f"'{key}' is not a tactic parameter{did_you_mean(key, PARAM_NAMES)}", "parameters: docs/NEGOTIATION.md#parameters-tacticparams-all-ours"))
        broken = False
        for key, value in step.tactics.items():
            try:
                tactic_params({key: value})
            except SpecError as err:
                diags.append(ctx.diag("DS0109", base + ("tactics", key), str(err), err.hint))
                broken = True
        ids: dict[str, int] = {}
        for k, issue in enumerate(step.issues):
            iloc = base + ("issues", k)
            if issue.id in ids:
                diags.append(ctx.diag("DS0403", iloc + ("id",), f"issue id '{issue.id}' is used twice in negotiation '{step.id}'", "give every issue its own id"))
                broken = True
            ids.setdefault(issue.id, k)
            if issue.id in FIXED_NAMES:
                diags.append(ctx.diag("DS0403", iloc + ("id",), f"issue id '{issue.id}' clashes with the condition name nego.{step.id}.{issue.id}", "choose another id for the issue"))
                broken = True
            try:
                core_issue(issue)
            except SpecError as err:
                diags.append(ctx.diag("DS0403", iloc + (_issue_field(str(err)),), f"negotiation '{step.id}': {err}", err.hint))
                broken = True
        try:
            counterpart_spec(step)
        except SpecError as err:
            diags.append(ctx.diag("DS0403", base + ("counterpart", _counterpart_field(str(err))), f"negotiation '{step.id}': {err}", err.hint))
            broken = True
        if all(issue.weight == 0 for issue in step.issues):
            diags.append(ctx.diag("DS0403", base + ("issues", 0, "weight"), f"negotiation '{step.id}': every issue has weight 0, so no deal is better for the company than another", "give the issues that matter to the company a weight above 0"))
            broken = True
        if broken:
            continue
        try:
            spec = spec_from_step(step)
        except SpecError as err:
            field_ = "moves" if "moves" in str(err) else "issues"
            diags.append(ctx.diag("DS0403", base + (field_,), f"negotiation '{step.id}': {err}", err.hint))
            continue
        specs[step.id] = spec
        share = _zopa_share(spec)
        if share < ZOPA_SHARE:
            diags.append(ctx.diag(
                "DS0404", base + ("walk_away_below",),
                f"negotiation '{step.id}': only {share:.0%} of the counterparts drawn from its distributions leave any deal both sides would accept",
                "lower walk_away_below or the counterpart's reservation, widen the ranges, or add an issue to trade",
            ))
    return specs, names, diags


def _issue_field(message: str) -> str:
    for word, name in (("default", "default"), ("grid", "step"), ("step", "step"), ("lo <", "range"), ("range", "range"), ("finite", "range"), ("option", "options")):
        if word in message:
            return name
    return "id"


def _counterpart_field(message: str) -> str:
    for word in ("reservation", "anchor", "good_cop_at", "style", "concession", "weight_alpha"):
        if word in message:
            return {"concession": "style", "weight_alpha": "name"}.get(word, word)
    return "name"


def _zopa_share(spec: Any) -> float:
    """Share of counterparts (a fixed sample) for which some outcome clears both reservation values."""
    import numpy as np

    from simulator.negotiation.strategy import draw_profile
    from simulator.negotiation.utility import Domain, company_utility, value_table

    domain = Domain(spec)
    idx = domain.enumerate(tuple(True for _ in spec.issues))
    own = company_utility(spec).batch(idx)
    ok_own = own >= spec.company_reservation - 1e-12
    if not ok_own.any():
        return 0.0
    theirs_v = np.stack([value_table(issue, "counterpart")[idx[:, k]] for k, issue in enumerate(spec.issues)], axis=1)[ok_own]
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(0, spawn_key=(0x7A0BA,))))
    hits = 0
    for _ in range(ZOPA_SAMPLE):
        profile = draw_profile(spec, rng)
        if (theirs_v @ np.asarray(profile.weights)).max() >= profile.reservation - 1e-12:
            hits += 1
    return hits / ZOPA_SAMPLE


def nego_condition_names(step: NegotiationStep) -> dict[str, str]:
    from simulator.negotiation.step import condition_names

    return condition_names(step)


def scenario_files(paths: list[str | Path]) -> list[Path]:
    """Scenario files named or found under the folders given (playthrough tests excluded)."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found += sorted(f for f in p.rglob("*.toml") if not f.name.endswith(".test.toml"))
        else:
            found.append(p)
    return found


__all__ = ["LoadedScenario", "LoadResult", "load_scenario", "load_text", "scenario_files", "LocalText"]

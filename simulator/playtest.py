"""Playthrough tests: `*.test.toml` files next to a scenario that play given choices and check the result.

    # scenarios/stock_push/quarter_end.test.toml   (plays scenarios/stock_push/quarter_end.toml)
    [[test]]
    name = "the course's path ends well"
    seeds = [1, 2, 3]
    choices = ["look_first", "walk_warehouse", 1, 2]      # option ids, or numbers as the trainee types them
    ending = "end_partner"                                 # or: reach = "step_id" / outcome = "good"
    [test.expect]
    "dealer.wang.cover_cycles" = [1.2, 1.8]                # any name a condition can read: a [low, high] range,
    "var.checked_stock" = true                             # a number, or true/false

A test file is checked like a scenario (strict fields with "did you mean", every problem at
file:line:col); a failing assertion is a DS0701 diagnostic that says what differed and how to
replay it. `dealersim test` and pytest (tests/test_playthroughs.py) run them.

Extension point: names in `[test.expect]` are read from `SOURCES`. The market and variables are
built in; the scorer will register a source for `score.*` names (its observers join the session).
"""

from __future__ import annotations

import re
import shlex
import tomllib
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import Field, ValidationError, field_validator, model_validator

from simulator.diagnostics import Diagnostic, DiagnosticError, did_you_mean, has_errors, sort_key
from simulator.engine import Session
from simulator.loader import MAX_BYTES, LoadedScenario, Loc, _Ctx, _describe, _schema_diagnostics, _toml_error, load_scenario
from simulator.market import Market
from simulator.negotiation.play import play_moves
from simulator.negotiation.step import format_choice, parse_choice
from simulator.schema import IDENT, MOVE_KINDS, DecisionStep, EndingStep, Lang, NegotiationStep, Strict
from simulator.toml_positions import key_positions

SUFFIX = ".test.toml"
DOC = "docs/AUTHORING.md#playthrough-tests"

Range = Annotated[list[float], Field(min_length=2, max_length=2)]
Expected = Union[bool, float, Range]


class PlayTest(Strict):
    """One playthrough: the choices to make and what must hold afterwards."""

    name: str = Field(min_length=1, description="What the test shows, e.g. \"the course's path ends well\".")
    seed: int | str | None = Field(default=None, description="The market seed (default 0)…")
    seeds: list[int | str] | None = Field(default=None, min_length=1, max_length=100, description="…or several seeds: the test must pass for each.")
    lang: Lang = Field(default="en", description="Language of the session (it changes no outcome).")
    choices: list[str | int] = Field(
        default_factory=list, max_length=200,
        description="Option ids, or the numbers a trainee would type, in order; at a negotiation step its moves (`ask=rebate`, `package:rebate=2.5;payment_days=45`) or `~course` (the rest of the negotiation by a headless strategy).",
    )
    reach: Annotated[str, Field(pattern=IDENT)] | None = Field(default=None, description="A step the story must pass through.")
    ending: Annotated[str, Field(pattern=IDENT)] | None = Field(default=None, description="The ending the story must reach.")
    outcome: Literal["good", "mixed", "bad"] | None = Field(default=None, description="The outcome of the ending reached.")
    expect: dict[str, Expected] = Field(
        default_factory=dict,
        description="Values after the last choice: a name a condition can read = a [low, high] range, a number, or true/false.",
    )

    @field_validator("choices")
    @classmethod
    def _choice_ids_or_numbers(cls, value: list[str | int]) -> list[str | int]:
        for k, choice in enumerate(value, 1):
            if isinstance(choice, int) and not 1 <= choice <= 9:
                raise ValueError(f"choice {k} is {choice}: option numbers are 1–9")
            if isinstance(choice, str) and not re.match(IDENT, choice) and not _move_syntax(choice):
                raise ValueError(f"choice {k} is \"{choice}\": a choice id is lower-case letters, digits and _ (a negotiation move: ask=rebate, package:rebate=2.5, ~course)")
        return value

    @field_validator("expect")
    @classmethod
    def _ranges_ascend(cls, value: dict[str, Expected]) -> dict[str, Expected]:
        for name, want in value.items():
            if isinstance(want, list) and want[0] > want[1]:
                raise ValueError(f"the range for '{name}' is [{want[0]:g}, {want[1]:g}]: write the low end first")
        return value

    @model_validator(mode="after")
    def _one_seed_field(self) -> "PlayTest":
        if self.seed is not None and self.seeds is not None:
            raise ValueError("give `seed` or `seeds`, not both")
        return self

    @property
    def seed_list(self) -> list[int | str]:
        return list(self.seeds) if self.seeds is not None else [0 if self.seed is None else self.seed]


def _move_syntax(text: str) -> bool:
    """A negotiation move in its text form, or `~strategy`."""
    from simulator.negotiation.play import STRATEGIES
    from simulator.negotiation.step import ChoiceSyntaxError, parse_choice

    if text.startswith("~"):
        return text[1:] in STRATEGIES
    try:
        kind, _ = parse_choice(text)
    except ChoiceSyntaxError:
        return False
    return bool(re.match(IDENT, kind))


class PlayTestFile(Strict):
    scenario: str | None = Field(default=None, description="The scenario file, relative to this file (default: the same name without `.test`).")
    test: list[PlayTest] = Field(min_length=1, max_length=500, description="The tests, one [[test]] table each.")


# ---------------------------------------------------------------- what `[test.expect]` can read


@dataclass(frozen=True)
class Source:
    """Names a test can expect values for: which exist in a scenario, and their values in a session."""

    names: Callable[[LoadedScenario], Iterable[str]]
    read: Callable[[Session], Mapping[str, float | bool]]


def _market_names(loaded: LoadedScenario) -> list[str]:
    return Market(loaded.scenario.market).observable_names() + [f"var.{v}" for v in loaded.scenario.variables] + list(loaded.nego_names)


SOURCES: list[Source] = [Source(_market_names, lambda session: session.observe())]


def register_source(source: Source) -> None:
    """Add names that tests can expect (e.g. the scorer's `score.total`)."""
    if source not in SOURCES:
        SOURCES.append(source)


def _known_names(loaded: LoadedScenario) -> set[str]:
    return {n for s in SOURCES for n in s.names(loaded)}


def _read_values(session: Session) -> dict[str, float | bool]:
    values: dict[str, float | bool] = {}
    for s in SOURCES:
        values.update(s.read(session))
    return values


# ---------------------------------------------------------------- loading


@dataclass
class LoadedTests:
    path: Path
    label: str
    file: PlayTestFile | None
    scenario: LoadedScenario | None
    positions: dict
    diagnostics: list[Diagnostic]

    @property
    def ok(self) -> bool:
        return self.file is not None and self.scenario is not None and not has_errors(self.diagnostics)

    def pos(self, loc: Loc) -> tuple[int, int]:
        from simulator.toml_positions import locate

        line, col = locate(self.positions, loc)
        return (line, col) if line else (1, 1)

    def diag(self, code: str, loc: Loc, message: str, hint: str = "") -> Diagnostic:
        line, col = self.pos(loc)
        return Diagnostic.make(code, message, hint, file=self.label, line=line, col=col)


def _for_tests(d: Diagnostic) -> Diagnostic:
    return replace(d, hint=d.hint.replace("docs/FORMAT.md", DOC))


def scenario_path_for(test_path: Path, declared: str | None) -> Path:
    if declared:
        return test_path.parent / declared
    return test_path.with_name(test_path.name.removesuffix(SUFFIX) + ".toml")


def load_tests(path: str | Path, principles: Collection[str] | None = None) -> LoadedTests:
    """Read and check a test file and the scenario it plays; problems come back as diagnostics."""
    path = Path(path)
    label = str(path)
    empty = LoadedTests(path, label, None, None, {}, [])
    try:
        raw = path.read_bytes()
    except OSError as err:
        empty.diagnostics = [Diagnostic.make("DS0001", f"cannot read the file: {err.strerror or err}", "check the path and that the file exists", file=label)]
        return empty
    if len(raw) > MAX_BYTES:
        empty.diagnostics = [Diagnostic.make("DS0005", f"file is {len(raw):,} bytes; the limit is {MAX_BYTES:,}", "split the tests over several files", file=label)]
        return empty
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        empty.diagnostics = [Diagnostic.make("DS0002", f"byte 0x{raw[err.start]:02x} is not UTF-8", "save the file as UTF-8", file=label, line=line)]
        return empty
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        empty.diagnostics = _toml_error(err, label, text).diagnostics
        return empty
    positions = key_positions(text)
    loaded = LoadedTests(path, label, None, None, positions, [])
    try:
        loaded.file = PlayTestFile.model_validate(data)
    except ValidationError as err:
        ctx = _Ctx(label, positions, text.splitlines(), data, root=PlayTestFile)
        loaded.diagnostics = sorted((_for_tests(d) for d in _schema_diagnostics(err, ctx)), key=sort_key)
        return loaded
    scenario_path = scenario_path_for(path, loaded.file.scenario)
    if not scenario_path.is_file():
        where: Loc = ("scenario",) if loaded.file.scenario else ()
        loaded.diagnostics = [loaded.diag("DS0703", where, f"no scenario at {scenario_path} for these tests", f"put the tests next to the scenario as <name>{SUFFIX}, or write `scenario = \"<file>.toml\"` at the top")]
        return loaded
    result = load_scenario(scenario_path, principles)
    if not result.ok:
        first = next(d for d in result.diagnostics if d.severity == "error")
        loaded.diagnostics = [loaded.diag("DS0703", ("scenario",) if loaded.file.scenario else (), f"the scenario {scenario_path} does not load ({first.code} at line {first.line}: {first.message})", f"run `dealersim check {scenario_path}` and fix it first")]
        return loaded
    loaded.scenario = result.loaded
    loaded.diagnostics = _check_names(loaded)
    return loaded


def _check_names(t: LoadedTests) -> list[Diagnostic]:
    """DS0702: steps, endings, choices and value names the scenario does not have."""
    assert t.file is not None and t.scenario is not None
    sc = t.scenario.scenario
    steps = {s.id: s for s in sc.steps}
    endings = [s.id for s in sc.steps if isinstance(s, EndingStep)]
    choice_ids = {c.id for s in sc.steps if isinstance(s, DecisionStep) for c in s.choices}
    if any(isinstance(s, NegotiationStep) for s in sc.steps):
        choice_ids |= set(MOVE_KINDS)
    known = _known_names(t.scenario)
    bools = {f"var.{v}" for v, value in sc.variables.items() if isinstance(value, bool)} | {n for n, kind in t.scenario.nego_names.items() if kind == "bool"}
    out: list[Diagnostic] = []
    for i, test in enumerate(t.file.test):
        base: Loc = ("test", i)
        if test.reach is not None and test.reach not in steps:
            out.append(t.diag("DS0702", base + ("reach",), f"test '{test.name}': no step '{test.reach}' in {sc.id}{did_you_mean(test.reach, steps)}", "name a step id of the scenario"))
        if test.ending is not None and test.ending not in endings:
            what = f"'{test.ending}' is a {steps[test.ending].kind} step, not an ending" if test.ending in steps else f"no ending '{test.ending}' in {sc.id}{did_you_mean(test.ending, endings)}"
            out.append(t.diag("DS0702", base + ("ending",), f"test '{test.name}': {what}", f"endings: {', '.join(endings)}"))
        for k, choice in enumerate(test.choices):
            name = parse_choice(choice)[0] if isinstance(choice, str) and not choice.startswith("~") else choice
            if isinstance(choice, str) and choice.startswith("~") and not any(isinstance(s, NegotiationStep) for s in sc.steps):
                out.append(t.diag("DS0702", base + ("choices", k), f"test '{test.name}': '{choice}' plays a negotiation, and {sc.id} has none", "use a choice id, or the option's number"))
            elif isinstance(name, str) and not name.startswith("~") and name not in choice_ids:
                out.append(t.diag("DS0702", base + ("choices", k), f"test '{test.name}': no choice '{name}' in {sc.id}{did_you_mean(name, choice_ids)}", "use a choice id, or the option's number"))
        for name, want in test.expect.items():
            loc = base + ("expect", name)
            if name not in known:
                out.append(t.diag("DS0702", loc, f"test '{test.name}': '{name}' is not a value of {sc.id}{did_you_mean(name, known)}", "use a name a condition can read: dealer.<id>.<field>, market.<field>, var.<name> (docs/CONDITIONS.md)"))
            elif (name in bools) != isinstance(want, bool):
                kind = "true/false" if name in bools else "a number"
                out.append(t.diag("DS0103", loc, f"test '{test.name}': '{name}' is {kind}; the test expects {_describe(want)}", "expect true/false for true/false variables, a number or [low, high] otherwise"))
    return out


# ---------------------------------------------------------------- running


@dataclass
class CaseResult:
    """One test on one seed."""

    file: str
    name: str
    seed: int | str
    failures: list[Diagnostic] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def _fmt(value: float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:.4g}"


def _holds(value: float | bool, want: Expected) -> bool:
    if isinstance(want, bool) or isinstance(value, bool):
        return value is want
    if isinstance(want, list):
        return want[0] <= value <= want[1]
    return abs(value - want) <= 1e-9 * max(1.0, abs(want))


def run_case(t: LoadedTests, index: int, seed: int | str) -> CaseResult:
    assert t.file is not None and t.scenario is not None
    test = t.file.test[index]
    result = CaseResult(t.label, test.name, seed)
    base: Loc = ("test", index)
    scenario_file = t.scenario.path
    taken: list[str] = []

    def fail(loc: Loc, message: str) -> None:
        replay = f"dealersim play {scenario_file} --seed {seed}" + (f" --choices {shlex.quote(','.join(taken))}" if taken else "")
        result.failures.append(t.diag("DS0701", loc, f"test '{test.name}' (seed {seed}): {message}", f"to see it: {replay}"))

    session = Session(t.scenario, seed, test.lang)
    for k, choice in enumerate(test.choices):
        option = str(choice)
        if session.finished:
            fail(base + ("choices", k), f"the story ended at '{session.step_id}' before choice {k + 1} ('{option}')")
            return result
        if option.startswith("~"):  # the rest of this negotiation, by a headless strategy
            if not session.negotiating:
                fail(base + ("choices", k), f"choice {k + 1} ('{option}') plays a negotiation, but step '{session.step_id}' is not one")
                return result
            for move in play_moves(session, option[1:]):
                session.choose(move)
                taken.append(move)
            continue
        try:
            session.choose(option)
        except DiagnosticError as err:
            if err.diagnostics[0].code != "DS0601":
                fail(base + ("choices", k), f"choice {k + 1} ('{option}'): {err.diagnostics[0].message}")
                return result
            offered = ", ".join(f"{o.number} {o.id}" for o in session.options()) or "nothing"
            fail(base + ("choices", k), f"choice {k + 1} ('{option}') is not on offer at step '{session.step_id}'; on offer: {offered}")
            return result
        last = next(e["data"] for e in reversed(session.events) if e["kind"] == "choice")
        taken.append(format_choice(last["choice"], last.get("params")))
    path = [e["data"]["step"] for e in session.events if e["kind"] == "step"]
    where = f"ended at '{session.step_id}' ({session.ending.outcome})" if session.ending else f"stopped at step '{session.step_id}' after {len(taken)} choice(s)"
    if test.reach is not None and test.reach not in path:
        fail(base + ("reach",), f"never reached step '{test.reach}'; the story went {' → '.join(path)}")
    if test.ending is not None and (session.ending is None or session.ending.id != test.ending):
        fail(base + ("ending",), f"expected ending '{test.ending}', but the story {where}")
    if test.outcome is not None and (session.ending is None or session.ending.outcome != test.outcome):
        fail(base + ("outcome",), f"expected a {test.outcome} outcome, but the story {where}")
    if test.expect:
        values = _read_values(session)
        for name, want in test.expect.items():
            got = values.get(name)
            if got is None or not _holds(got, want):
                shown = f"[{want[0]:g}, {want[1]:g}]" if isinstance(want, list) else _fmt(want)
                fail(base + ("expect", name), f"{name} is {_fmt(got) if got is not None else 'missing'}, expected {shown} (week {session.state.week}, {where})")
    return result


def run_tests(t: LoadedTests) -> list[CaseResult]:
    """Every test of a loaded file on each of its seeds (nothing when the file did not load)."""
    if not t.ok:
        return []
    assert t.file is not None
    return [run_case(t, i, seed) for i, test in enumerate(t.file.test) for seed in test.seed_list]


def test_files(paths: Iterable[str | Path]) -> list[Path]:
    """`*.test.toml` files named, found under folders, or next to the scenario files named."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found += sorted(p.rglob(f"*{SUFFIX}"))
        elif p.name.endswith(SUFFIX):
            found.append(p)
        elif p.suffix == ".toml":
            found.append(p.with_name(p.stem + SUFFIX))
        else:
            found.append(p)
    return found


test_files.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, whatever its name
run_tests.__test__ = False  # type: ignore[attr-defined]

__all__ = ["PlayTest", "PlayTestFile", "LoadedTests", "CaseResult", "Source", "SOURCES", "register_source", "load_tests", "run_case", "run_tests", "test_files", "SUFFIX"]

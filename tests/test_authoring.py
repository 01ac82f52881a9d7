"""docs/AUTHORING.md: the field reference names every field of the models, and the tutorial's scenario works.

To print a fresh reference for a new model or field (then edit the wording by hand):

    .venv/bin/python -m tests.test_authoring
"""

from __future__ import annotations

import re
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pytest
from pydantic import BaseModel

from simulator.playtest import PlayTestFile
from simulator.schema import IDENT, LocalText, Scenario

from .conftest import ROOT

DOC = ROOT / "docs" / "AUTHORING.md"
MARK = "## Field reference"


def models_in(annotation: Any, found: list[type[BaseModel]] | None = None) -> list[type[BaseModel]]:
    """Every model reachable from an annotation, in the order first met."""
    found = [] if found is None else found
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation not in found:
            found.append(annotation)
            for f in annotation.model_fields.values():
                models_in(f.annotation, found)
        return found
    for arg in get_args(annotation):
        models_in(arg, found)
    return found


MODELS = models_in(Scenario) + models_in(PlayTestFile)


def reference_text() -> str:
    text = DOC.read_text("utf-8")
    assert MARK in text, f"docs/AUTHORING.md has no '{MARK}' section"
    return text[text.index(MARK) :]


def section(model: type[BaseModel]) -> str:
    ref = reference_text()
    m = re.search(rf"^#### {model.__name__}\b.*?(?=^#### |^## |\Z)", ref, flags=re.M | re.S)
    assert m, f"docs/AUTHORING.md's field reference has no '#### {model.__name__}' section"
    return m.group(0)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_reference_lists_every_field_of_every_model(model):
    text = section(model)
    for name, f in model.model_fields.items():
        key = f.alias or name
        assert f"| `{key}` |" in text, f"docs/AUTHORING.md: field `{key}` of {model.__name__} is missing from the field reference (python -m tests.test_authoring prints a row)"


def test_reference_has_no_section_for_a_model_that_is_gone():
    names = {m.__name__ for m in MODELS}
    documented = set(re.findall(r"^#### (\w+)", reference_text(), flags=re.M))
    assert documented - names == set()


def _tutorial_block(title: str, lang: str = "toml") -> str:
    text = DOC.read_text("utf-8")
    start = text.index(title)
    m = re.compile(rf"```{lang}\n(.*?)```", re.S).search(text, start)
    assert m
    return m.group(1)


def test_the_tutorial_scenario_passes_strict_check_plays_to_an_ending_and_its_tests_pass(tmp_path, principle_ids):
    from simulator.engine import play
    from simulator.loader import load_scenario
    from simulator.playtest import load_tests, run_tests

    folder = tmp_path / "my_scenarios"
    folder.mkdir()
    scenario = folder / "first_order.toml"
    scenario.write_text(_tutorial_block("### The whole file"), "utf-8")
    (folder / "first_order.test.toml").write_text(_tutorial_block("### The whole test file"), "utf-8")
    result = load_scenario(scenario, principle_ids)
    assert result.ok and result.diagnostics == [], [d.render() for d in result.diagnostics]
    assert play(result.loaded, 1, ["ask_sales", "safety"]).finished
    results = run_tests(load_tests(folder / "first_order.test.toml", principle_ids))
    assert results and all(r.passed for r in results), [d.render() for r in results for d in r.failures]


def _part(number: int) -> str:
    text = DOC.read_text("utf-8")
    start = text.index(f"\n## {number}. ")
    return text[start : text.index("\n## ", start + 1)]


def _blocks(part: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", part, flags=re.S)


def test_following_the_tutorial_check_says_what_the_guide_shows(tmp_path, monkeypatch):
    """Build the file stage by stage as the guide says; at each stage `dealersim check` prints what the guide shows."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my_scenarios").mkdir()
    path = tmp_path / "my_scenarios" / "first_order.toml"
    path.write_text("", "utf-8")

    def check(*flags: str) -> str:
        from click.testing import CliRunner

        from simulator.cli import cli

        return CliRunner().invoke(cli, ["check", *flags, "my_scenarios/first_order.toml"]).output

    assert check() == _blocks(_part(1), "text")[0]
    for stage in (2, 3, 4, 5):
        with path.open("a", encoding="utf-8") as fh:
            fh.write(_blocks(_part(stage), "toml")[0])
        assert check() == _blocks(_part(stage), "text")[0], f"part {stage} of the guide"
    # part 6: the typo corrected, then the `when` added under the choice's id
    text = path.read_text("utf-8").replace("simulate_week = 4", "simulate_weeks = 4")
    path.write_text(text, "utf-8")
    shown = _blocks(_part(6), "text")
    assert check() == shown[0]
    added = _blocks(_part(6), "toml")[0].splitlines()
    assert added[1] == '  id = "safety"' and added[2].startswith("  when = ")
    path.write_text(text.replace(added[1] + "\n", added[1] + "\n" + added[2] + "\n"), "utf-8")
    assert check("--strict") == shown[1]
    # and that is the whole file the guide shows (with the editor line of part 10 on top)
    whole = _tutorial_block("### The whole file")
    assert whole == "#:schema ../docs/scenario.schema.json\n" + path.read_text("utf-8")


def test_codes_shown_in_the_tutorial_are_registered():
    from simulator.diagnostics import codes

    shown = set(re.findall(r"\bDS\d{4}\b", DOC.read_text("utf-8")))
    assert shown and shown <= set(codes())


# ---------------------------------------------------------------- printing a reference (not a test)


def _type(ann: Any) -> str:
    origin = get_origin(ann)
    if origin is Annotated:
        inner, *meta = get_args(ann)
        for m in meta:
            if getattr(m, "pattern", None) == IDENT:
                return "id"
        return _type(inner)
    if ann is type(None):
        return ""
    if origin in (Union, types.UnionType):
        members = [a for a in get_args(ann) if a is not type(None)]
        if set(members) == {str, LocalText}:
            return "text"
        return " or ".join(filter(None, (_type(a) for a in members)))
    if origin is Literal:
        return " \\| ".join(f'`"{v}"`' if isinstance(v, str) else f"`{v}`" for v in get_args(ann))
    if origin is list:
        return f"list of {_type(get_args(ann)[0])}"
    if origin is dict:
        return f"table of {_type(get_args(ann)[1])}"
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return f"[{ann.__name__}](#{ann.__name__.lower()})"
    return {str: "text", float: "number", int: "whole number", bool: "true/false"}.get(ann, getattr(ann, "__name__", str(ann)))


def _limits(f) -> str:
    parts = []
    for m in f.metadata:
        for attr, word in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<"), ("min_length", "items ≥"), ("max_length", "items ≤")):
            if getattr(m, attr, None) is not None:
                parts.append(f"{word} {getattr(m, attr):g}" if isinstance(getattr(m, attr), float) else f"{word} {getattr(m, attr)}")
    return ", ".join(parts)


def print_reference() -> None:
    from pydantic_core import PydanticUndefined

    for model in MODELS:
        print(f"#### {model.__name__}\n")
        if model.__doc__ and not model.__doc__.startswith(("Usage docs", "A base class")):
            print(model.__doc__.strip().splitlines()[0] + "\n")
        print("| field | type | default | description |\n|---|---|---|---|")
        for name, f in model.model_fields.items():
            if f.is_required():
                default = "required"
            elif f.default_factory is not None:
                default = "empty"
            elif f.default is None or f.default is PydanticUndefined:
                default = "—"
            else:
                default = f'`"{f.default}"`' if isinstance(f.default, str) else f"`{str(f.default).lower() if isinstance(f.default, bool) else f.default}`"
            limits = _limits(f)
            kind = _type(f.annotation)
            if any(getattr(m, "pattern", None) == IDENT for m in f.metadata):
                kind = "id"
            if kind == "text" and limits == "items ≥ 1":
                kind, limits = "text, not empty", ""
            kind += f" ({limits})" if limits else ""
            description = (f.description or "").replace("|", "\\|")
            print(f"| `{f.alias or name}` | {kind} | {default} | {description} |")
        print()


if __name__ == "__main__":
    print_reference()

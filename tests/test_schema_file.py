"""The committed JSON Schema (docs/scenario.schema.json): in step with the models, described, and useful to editors."""

from __future__ import annotations

import copy
import json
import tomllib

import pytest

jsonschema = pytest.importorskip("jsonschema", reason="the dev extra installs jsonschema")

from simulator.jsonschema import scenario_json_schema

from .conftest import MINI, ROOT

SCHEMA_FILE = ROOT / "docs" / "scenario.schema.json"
SHIPPED = sorted(p for p in (ROOT / "scenarios").rglob("*.toml") if not p.name.endswith(".test.toml"))
DIRECTIVE = "#:schema ../../docs/scenario.schema.json"


def committed() -> dict:
    return json.loads(SCHEMA_FILE.read_text("utf-8"))


def validator():
    return jsonschema.Draft202012Validator(committed())


def test_committed_schema_matches_the_models():
    assert committed() == scenario_json_schema(), "the scenario models changed: run `dealersim schema > docs/scenario.schema.json`"


def _properties(schema: dict):
    for name, definition in schema.get("$defs", {}).items():
        for prop, spec in definition.get("properties", {}).items():
            yield f"{name}.{prop}", spec
    for prop, spec in schema["properties"].items():
        yield f"Scenario.{prop}", spec


def test_every_field_has_a_description_for_editors():
    missing = [name for name, spec in _properties(scenario_json_schema()) if not spec.get("description")]
    assert missing == [], "add description= to these fields in simulator/schema.py"


def test_schema_is_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(committed())


def test_shipped_scenarios_exist():
    assert SHIPPED, "no shipped scenarios found"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_schema_accepts_shipped_scenario_and_it_points_at_the_schema(path):
    data = tomllib.loads(path.read_text("utf-8"))
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator().iter_errors(data)]
    assert errors == []
    first = path.read_text("utf-8").splitlines()[0]
    assert first == DIRECTIVE, f"{path.name}: the first line should be `{DIRECTIVE}` so TOML editors find the schema"
    assert (path.parent / first.removeprefix("#:schema ")).resolve() == SCHEMA_FILE.resolve()


@pytest.mark.parametrize(
    "where, wrong",
    [
        (lambda d: d["steps"][0]["choices"][0], ("effects", "efects")),
        (lambda d: d["market"]["dealers"][0], ("stock", "stok")),
        (lambda d: d, ("difficulty", "dificulty")),
    ],
)
def test_schema_rejects_a_misspelled_field(where, wrong):
    data = tomllib.loads(MINI.read_text("utf-8"))
    assert not list(validator().iter_errors(data))
    bad = copy.deepcopy(data)
    table = where(bad)
    good_key, bad_key = wrong
    table[bad_key] = table.pop(good_key)
    assert list(validator().iter_errors(bad)), f"the schema accepted '{bad_key}'"


def test_schema_rejects_a_value_out_of_range():
    data = tomllib.loads(MINI.read_text("utf-8"))
    data["difficulty"] = 4
    assert list(validator().iter_errors(data))

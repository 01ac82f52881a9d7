"""The JSON Schema of scenario files, generated from the models (committed as docs/scenario.schema.json)."""

from __future__ import annotations

from typing import Any

from simulator.schema import Scenario

SCHEMA_URI = "https://json-schema.org/draft/2020-12/schema"


def scenario_json_schema() -> dict[str, Any]:
    schema = Scenario.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": SCHEMA_URI, "title": "dealersim scenario", **{k: v for k, v in schema.items() if k != "title"}}

"""A batch evaluates a condition for all its rows at once (simulator/engine.py, `_vector`, and the
shared value of conditions that read no row): what each row is offered, and which route it takes,
must be exactly what that row's own session gets (docs/PERFORMANCE.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulator.engine import VECTOR_ROWS, Session, _Context, _vector
from simulator.loader import load_scenario
from simulator.policy import make_policy

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted(p for p in (ROOT / "scenarios").glob("*/*.toml") if not p.name.endswith(".test.toml"))
ROWS = 24


def _loaded(path: Path):
    result = load_scenario(path)
    assert result.ok, result.diagnostics
    return result.loaded


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: f"{p.parent.name}.{p.stem}")
def test_every_condition_in_a_batch_is_what_each_row_reads(path):
    """Along the first option's path, every condition of the scenario, for every row of a batch of
    seeds: the whole-batch value equals the row-by-row one (market observables differ by row)."""
    assert ROWS >= VECTOR_ROWS
    loaded = _loaded(path)
    batch = Session.of_seeds(loaded, list(range(ROWS)))
    compared = 0
    for _ in range(12):
        if batch.finished or batch.split is not None or batch.negotiating:
            break
        for source, cond in loaded.conditions.items():
            if cond.type != "bool":
                continue
            rows = _vector(cond, batch)
            if rows is None:
                continue  # a form evaluated row by row anyway
            assert rows.tolist() == [cond.evaluate(_Context(batch, r)) is True for r in range(ROWS)], source
            compared += 1
        options = batch.options()
        if not options:
            break
        batch.choose(options[0].id)
    assert compared > 0


@pytest.mark.parametrize("name", ["stock_push/quarter_end", "diversion/brand_vs_oem", "cross/portfolio_tiers"])
def test_a_batch_offers_each_row_what_its_own_session_offers(name):
    """Random play row by row in a batch of seeds; at each decision every row is offered the options
    its own single session offers, and single sessions play the same picks to the same steps."""
    loaded = _loaded(ROOT / "scenarios" / f"{name}.toml")
    seeds = list(range(100, 100 + ROWS))
    batch = Session.of_seeds(loaded, seeds)
    solos = [Session(loaded, s) for s in seeds]
    policy = make_policy("random", 7)
    checked = 0
    for _ in range(10):
        if batch.finished or batch.split is not None or batch.negotiating:
            break
        per_row = [[o.id for o in batch.options_at(r)] for r in range(ROWS)]
        assert per_row == [[o.id for o in s.options()] for s in solos]
        checked += 1
        pick = policy(batch, 0)
        if any(pick not in ids for ids in per_row):
            break
        batch.choose(pick)
        for s in solos:
            s.choose(pick)
        if batch.split is None and not batch.finished:
            assert all(s.step_id == batch.step_id for s in solos)
    assert checked > 0

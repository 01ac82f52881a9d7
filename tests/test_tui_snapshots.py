"""Snapshots of the main screens at 120×40 and 80×24 (pytest-textual-snapshot).

Deterministic: the scenario is tests/data/mini.toml alone (no shipped scenarios), the seed is fixed,
settings and sessions live in a temporary folder, the log has a fixed relative name, and nothing
on screen shows the time. The play and end screens show market figures, so a change to the market
model changes them: look at the new SVGs, then update with `pytest --snapshot-update`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scoring.catalogue import load_catalogue
from simulator.loader import load_scenario

from .test_tui_app import env, make_app, press, settle  # noqa: F401 — env is a fixture

SIZES = [(120, 40), (80, 24)]
IDS = ["120x40", "80x24"]


def mini_app(env, lang: str = "en", **options):
    loaded = load_scenario(env.scenarios / "mini.toml", load_catalogue().ids).loaded
    return make_app(env, lang=lang, seed=3, start=loaded, log=Path("run.jsonl"), **options)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_home(env, snap_compare, size):
    assert snap_compare(make_app(env), terminal_size=size, run_before=settle)


def test_home_in_chinese(env, snap_compare):
    assert snap_compare(make_app(env, lang="zh"), terminal_size=(80, 24), run_before=settle)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_briefing(env, snap_compare, size):
    assert snap_compare(mini_app(env, lang="zh"), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_play_after_a_decision_in_coaching_mode(env, snap_compare, size):
    async def run_before(pilot):
        await settle(pilot)
        await press(pilot, "enter", "1")

    assert snap_compare(mini_app(env, mode="coaching"), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_play_in_chinese(env, snap_compare, size):
    async def run_before(pilot):
        await settle(pilot)
        await press(pilot, "enter", "1")

    assert snap_compare(mini_app(env, lang="zh", mode="coaching"), terminal_size=size, run_before=run_before)


def test_play_small_terminal_with_the_market_open(env, snap_compare):
    async def run_before(pilot):
        await settle(pilot)
        await press(pilot, "enter", "1", "d")

    assert snap_compare(mini_app(env), terminal_size=(80, 24), run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_end(env, snap_compare, size):
    async def run_before(pilot):
        await settle(pilot)
        await press(pilot, "enter", "1", "2", "enter")

    assert snap_compare(mini_app(env, mode="exam"), terminal_size=size, run_before=run_before)


def test_leaving_mid_scenario(env, snap_compare):
    async def run_before(pilot):
        await settle(pilot)
        await press(pilot, "enter", "1", "q")

    assert snap_compare(mini_app(env), terminal_size=(80, 24), run_before=run_before)


# ---------------------------------------------------------------- the negotiation table


def nego_app(env, lang: str = "zh", **options):
    import shutil

    from .conftest import DATA

    shutil.copy(DATA / "nego_mini.toml", env.scenarios / "nego_mini.toml")
    loaded = load_scenario(env.scenarios / "nego_mini.toml", load_catalogue().ids).loaded
    return make_app(env, lang=lang, seed=3, start=loaded, log=Path("nego.jsonl"), **options)


async def _to_second_round(pilot):
    """Say no, ask about the rebate, build a package (target +3 steps, rebate −4), make it, start the next."""
    await settle(pilot)
    await press(pilot, "enter", "1", "n", "k", "2", "right", "right", "right", "down", *["left"] * 4, "p", "down", "right")


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_negotiation_table_in_chinese(env, snap_compare, size):
    assert snap_compare(nego_app(env, lang="zh"), terminal_size=size, run_before=_to_second_round)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_negotiation_table_in_english(env, snap_compare, size):
    assert snap_compare(nego_app(env, lang="en"), terminal_size=size, run_before=_to_second_round)

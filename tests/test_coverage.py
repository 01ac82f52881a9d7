"""The scenario library as the course needs it: every family covered at rising difficulty, most
of the catalogue taught, and docs/SCENARIOS.md the true catalogue of what ships."""

from __future__ import annotations

from collections import defaultdict

import pytest

from scoring.catalogue import load_catalogue
from scoring.coverage import render, shipped_rows, taught_by

from .conftest import ROOT


@pytest.fixture(scope="module")
def rows():
    return shipped_rows()


def test_docs_scenarios_md_is_the_generated_catalogue(rows):
    committed = (ROOT / "docs" / "SCENARIOS.md").read_text("utf-8")
    assert committed == render(rows), "docs/SCENARIOS.md is out of date: run `python -m scoring.coverage > docs/SCENARIOS.md`"


def test_every_family_has_three_scenarios_of_rising_difficulty(rows):
    by_family = defaultdict(list)
    for r in rows:
        by_family[r.family].append(r.difficulty)
    for family in ("first_visit", "stock_push", "diversion", "negotiation"):
        assert len(by_family[family]) >= 3, family
        assert {1, 2, 3} <= set(by_family[family]), (family, by_family[family])
    assert len(by_family["cross"]) >= 2


def test_most_of_the_catalogue_is_taught(rows):
    cat = load_catalogue()
    taught = taught_by(rows)
    assert sum(p in taught for p in cat.ids) >= 0.7 * len(cat.ids)


def test_the_course_path_takes_8_to_20_decisions(rows):
    for r in rows:
        assert 8 <= r.course_decisions <= 20, (r.id, r.course_decisions)


def test_the_game_lists_each_family_easiest_first(tmp_path):
    from simulator.tui.game import load_library

    groups = load_library((), tmp_path).by_family()
    assert [fam for fam, _ in groups] == ["first_visit", "stock_push", "diversion", "negotiation", "cross"]
    for fam, items in groups:
        levels = [s.loaded.scenario.difficulty for s in items]
        assert levels == sorted(levels), (fam, levels)

"""Per-decision analysis: it finds the best option where it is known, labels by the thresholds, and
judges decisions rather than luck."""

from __future__ import annotations

import numpy as np
import pytest

from scoring import session_observers
from scoring.analysis import analyse_choices, analyse_log
from scoring.analysis_types import SessionAnalysis, label_for
from simulator.engine import Session
from simulator.loader import load_scenario
from simulator.recorded import RecordedSession

from .conftest import DATA, ROOT

QUARTER_END = ROOT / "scenarios" / "stock_push" / "quarter_end.toml"


@pytest.fixture(scope="module")
def known_best():
    return load_scenario(DATA / "known_best.toml").loaded


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_analysis_finds_the_best_option_known_by_construction(known_best, seed):
    analysis = analyse_choices(known_best, seed, "en", ["flood", "review"], rollouts=16)
    first = analysis.decisions[0]
    assert first.best == "top_up"
    values = {o.option: o.expected_total for o in first.options}
    assert values["top_up"] > values["nothing"] and values["top_up"] > values["flood"]
    assert first.label in ("mistake", "blunder")
    assert analysis.decisions[1].label == "best"


def test_labels_follow_the_thresholds():
    assert label_for(0.0, True) == "best"
    assert label_for(4.99, False) == "good"
    assert label_for(5.0, False) == "inaccuracy"
    assert label_for(9.99, False) == "inaccuracy"
    assert label_for(10.0, False) == "mistake"
    assert label_for(14.99, False) == "mistake"
    assert label_for(15.0, False) == "blunder"


def test_every_label_matches_its_loss(known_best):
    analysis = analyse_choices(known_best, 5, "en", ["nothing", "skip"], rollouts=8)
    for d in analysis.decisions:
        assert d.label == label_for(d.loss, d.chosen == d.best)
        best = max(o.expected_total for o in d.options)
        assert d.loss == pytest.approx(best - d.option(d.chosen).expected_total, abs=0.02)


def test_analysis_of_a_log_is_deterministic_and_round_trips(tmp_path, known_best):
    log = tmp_path / "a.jsonl"
    recorded = RecordedSession.start(known_best, 7, "en", log, observers=session_observers)
    for c in ["flood", "skip"]:
        recorded.choose(c)
    a = analyse_log(log, rollouts=8)
    b = analyse_log(log, rollouts=8)
    assert a.to_json() == b.to_json()
    assert SessionAnalysis.from_json(a.to_json()).to_json() == a.to_json()
    assert [d.chosen for d in a.decisions] == ["flood", "skip"]


def test_unlucky_course_follower_beats_lucky_rule_breaker_on_process_and_accuracy():
    loaded = load_scenario(QUARTER_END).loaded
    course = ["look_first", "walk_warehouse", "promo_sized", "sell_through_rebate", "promo_joint", "report_keep", "joint_review", "joint_plan"]
    breaker = ["yes_boss", "lead_with_rebate", "full_1200", "cliff_confirm", "no_support", "last_push", "fine_wang", "company_number"]

    def run(choices, seed):
        s = Session(loaded, seed, "en", observers=session_observers(loaded))
        for c in choices:
            if s.finished:
                break
            if c not in {o.id for o in s.options()}:
                c = s.options()[0].id
            s.choose(c)
        return s

    course_runs = {seed: run(course, seed) for seed in range(30)}
    breaker_runs = {seed: run(breaker, seed) for seed in range(30)}
    unlucky = min(course_runs, key=lambda s: course_runs[s].observers[0].card["results"])
    lucky = max(breaker_runs, key=lambda s: breaker_runs[s].observers[0].card["results"])
    u, l = course_runs[unlucky].observers[0].card, breaker_runs[lucky].observers[0].card
    assert u["process"] > l["process"] + 30
    chosen_u = [c["data"]["choice"] for c in course_runs[unlucky].events if c["kind"] == "choice"]
    chosen_l = [c["data"]["choice"] for c in breaker_runs[lucky].events if c["kind"] == "choice"]
    acc_u = analyse_choices(loaded, unlucky, "en", chosen_u, rollouts=6).accuracy
    acc_l = analyse_choices(loaded, lucky, "en", chosen_l, rollouts=6).accuracy
    assert acc_u > acc_l + 20


def test_batch_rollouts_equal_single_forks_bit_for_bit():
    """Each row of the batched rollouts scores exactly like a single session forked into that world."""
    from scoring.analysis import _outcomes, play_out_batch
    from simulator.policy import course_choice

    loaded = load_scenario(QUARTER_END).loaded
    session = Session(loaded, 3, "en", observers=session_observers(loaded))
    session.choose("yes_boss")
    worlds = list(range(1, 13))
    for option in [o.id for o in session.options()]:
        batch = session.fork_batch(worlds)
        batch.choose(option)
        batched = _outcomes(play_out_batch(batch))
        for world in worlds:
            single = session.fork(world)
            single.choose(option)
            while not single.finished:
                single.choose(course_choice(single))
            scorer = single.observers[0]
            assert batched[world][0] == float(scorer.totals(single)[0])
            assert batched[world][3] == single.ending.id


def test_analysis_of_a_log_that_no_longer_replays_is_a_diagnostic(known_best):
    from simulator.diagnostics import DiagnosticError

    with pytest.raises(DiagnosticError) as err:
        analyse_choices(known_best, 1, "en", ["top_up", "no_such_choice"], rollouts=4)
    assert err.value.diagnostics[0].code == "DS0507"
    assert "decision 2" in err.value.diagnostics[0].message

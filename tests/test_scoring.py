"""Scores name principles; totals follow the rules; short-term tricks do not pay."""

from __future__ import annotations

import numpy as np
import pytest

from scoring import session_observers
from scoring.report import scorecard_from_events
from scoring.rubric import Scorer, grade
from simulator.engine import Session, play
from simulator.loader import load_scenario
from simulator.policy import course_choice

from .conftest import DATA, ROOT


def card_of(session: Session) -> dict:
    card, _ = scorecard_from_events(session.events)
    assert card is not None
    return card


def scored(loaded, seed, choices, lang="en") -> Session:
    session = Session(loaded, seed, lang, observers=session_observers(loaded))
    for c in choices:
        session.choose(c)
    return session


def test_every_score_item_names_a_catalogue_principle_and_a_reason(mini, principle_ids):
    session = scored(mini, 3, ["skip", "push"])
    items = [i for e in session.events if e["kind"] == "score" for i in e["data"]["items"]]
    assert items
    for item in items:
        assert item["principle"] in principle_ids
        assert item["reason_zh"] and item["reason_en"]
        assert 0 <= item["earned"] <= item["possible"]


def test_following_the_course_scores_full_process_and_breaking_it_none(mini):
    good = card_of(scored(mini, 3, ["check", "safe"]))
    bad = card_of(scored(mini, 3, ["skip", "push"]))
    assert good["process"] == 100
    assert bad["process"] == 0
    assert good["total"] > bad["total"] + 40
    assert good["grade"] in ("A", "B") and bad["grade"] == "F"


def test_the_cover_rule_scores_the_order_against_the_band(mini):
    session = scored(mini, 3, ["skip", "push"])
    cover = [i for e in session.events if e["kind"] == "score" for i in e["data"]["items"] if i["source"] == "cover_after_order"]
    assert cover and cover[0]["earned"] == 0
    assert "1.5" in cover[0]["reason_en"]


def test_stuffing_at_the_last_decision_does_not_pay():
    """A push with no weeks left to sell through loses points at once and hurts stock health."""
    loaded = load_scenario(DATA / "known_best.toml").loaded
    honest = [card_of(scored(loaded, s, ["top_up", "review"]))["total"] for s in range(10)]
    text = (DATA / "known_best.toml").read_text("utf-8").replace(
        'principles = { "stock.safety_stock_1_5x" = 1 }\n  then = { goto = "end", simulate_weeks = 3 }',
        'principles = { "stock.safety_stock_1_5x" = 1 }\n  effects = [ { order = { dealer = "wang", units = 2000 } } ]\n  then = { goto = "end", simulate_weeks = 0 }',
    )
    from simulator.loader import load_text

    stuffed_loaded = load_text(text, "stuffed.toml").loaded
    stuffed = [card_of(scored(stuffed_loaded, s, ["top_up", "review"]))["total"] for s in range(10)]
    assert np.mean(stuffed) < np.mean(honest) - 15


def test_grades_follow_the_thresholds():
    assert [grade(x) for x in (95, 85, 84.9, 70, 55, 40, 39.9)] == ["A", "A", "B", "B", "C", "D", "F"]


def test_process_weight_from_the_scenario(mini):
    session = scored(mini, 3, ["check", "safe"])
    card = card_of(session)
    assert card["total"] == pytest.approx(0.6 * card["process"] + 0.4 * card["results"], abs=0.02)


def test_live_score_equals_replayed_score(tmp_path, mini):
    from simulator.record import read_log
    from simulator.recorded import RecordedSession, verify_log

    log = tmp_path / "s.jsonl"
    recorded = RecordedSession.start(mini, 8, "zh", log, observers=session_observers)
    for c in ["skip", "safe"]:
        recorded.choose(c)
    live, _ = scorecard_from_events(recorded.events)
    records = read_log(log).records
    stored, _ = scorecard_from_events([{"kind": r.kind, "data": r.data} for r in records])
    assert live == stored
    assert verify_log(log, observers=session_observers).ok


def test_batch_scorer_matches_single_rollout(mini):
    """The scorer's arrays: a fork scores exactly like a fresh session in the same world."""
    session = Session(mini, 4, "en", observers=[Scorer(mini)])
    fork = session.fork(0)
    for c in ["check", "safe"]:
        session.choose(c)
        fork.choose(c)
    assert fork.observers[0].card["total"] == session.observers[0].card["total"]


def test_course_policy_picks_the_best_tagged_option(mini):
    session = Session(mini, 1)
    assert course_choice(session) == "check"


@pytest.fixture(scope="module")
def diversion_rules():
    return load_scenario(DATA / "diversion_rules.toml").loaded


def items_of(session: Session) -> list[dict]:
    return [i for e in session.events if e["kind"] == "score" for i in e["data"]["items"]]


def test_a_penalty_without_proven_cases_breaks_due_process(diversion_rules):
    session = scored(diversion_rules, 3, ["fine_now", "fine"])
    first = [i for i in items_of(session) if i["turn"] == 1]
    assert {(i["source"], i["earned"]) for i in first} == {("penalty_fair_fast", 0.0), ("penalty_with_evidence", 0.0)}
    assert "no proven" in first[0]["reason_en"] or "before the facts" in first[0]["reason_en"]


def test_a_penalty_on_proven_cases_is_fair_and_slowness_costs_the_speed_point(diversion_rules):
    session = scored(diversion_rules, 3, ["watch", "fine"])
    fair = next(i for i in items_of(session) if i["source"] == "penalty_fair_fast")
    assert fair["earned"] == 2.0 and fair["possible"] == 3.0  # evidence, but six weeks late
    assert next(i for i in items_of(session) if i["source"] == "penalty_with_evidence")["earned"] == 2.0


def test_unhandled_cases_at_the_end_cost_points(diversion_rules):
    session = scored(diversion_rules, 3, ["watch", "tighten"])
    left = [i for i in items_of(session) if i["source"] == "cases_left_open"]
    assert left and left[0]["earned"] == 0 and "still unhandled" in left[0]["reason_en"]


def test_shipping_more_to_a_dealer_with_warning_signs_is_scored_against_the_course(diversion_rules):
    ship = next(i for i in items_of(scored(diversion_rules, 3, ["watch", "ship_more"])) if i["source"] == "warning_signs_heeded")
    heed = next(i for i in items_of(scored(diversion_rules, 3, ["watch", "tighten"])) if i["source"] == "warning_signs_heeded")
    assert ship["earned"] == 0 and heed["earned"] == heed["possible"] == 2
    assert ship["principle"] == "credit.warning_signals"

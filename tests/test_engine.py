"""The engine: options, choices, routes, and determinism (same scenario + seed + choices = same events)."""

from __future__ import annotations

import pytest

from simulator.diagnostics import DiagnosticError
from simulator.engine import Session, play
from simulator.record import digest


def event_digest(session: Session) -> str:
    return digest((e["kind"], e["data"]) for e in session.events)


def test_options_are_numbered_and_localised(mini):
    zh = Session(mini, 1, "zh").options()
    en = Session(mini, 1, "en").options()
    assert [o.number for o in en] == [1, 2]
    assert [o.id for o in zh] == [o.id for o in en] == ["check", "skip"]
    assert zh[0].text == "先看库存" and en[0].text == "Check stock"


def test_choice_by_number_equals_choice_by_id(mini):
    assert event_digest(play(mini, 3, ["1", "1"])) == event_digest(play(mini, 3, ["check", "safe"]))


def test_unknown_choice_is_a_diagnostic_with_suggestion(mini):
    session = Session(mini, 1)
    with pytest.raises(DiagnosticError) as err:
        session.choose("chek")
    diag = err.value.diagnostics[0]
    assert diag.code == "DS0601"
    assert "did you mean 'check'" in diag.message
    assert "check, skip" in diag.hint
    assert session.turn == 0  # nothing happened


def test_choosing_after_the_end_is_refused(mini):
    session = play(mini, 1, ["check", "safe"])
    assert session.finished
    with pytest.raises(DiagnosticError) as err:
        session.choose("check")
    assert err.value.diagnostics[0].code == "DS0508"


def test_same_seed_same_events_different_seed_different_market(mini):
    a = play(mini, 11, ["skip", "push"])
    b = play(mini, 11, ["skip", "push"])
    c = play(mini, 12, ["skip", "push"])
    assert event_digest(a) == event_digest(b)
    assert event_digest(a) != event_digest(c)


def test_workshop_code_seeds_are_stable(mini):
    assert event_digest(play(mini, "WS-2026-A", ["check", "safe"])) == event_digest(play(mini, "WS-2026-A", ["check", "safe"]))
    assert event_digest(play(mini, "WS-2026-A", ["check", "safe"])) != event_digest(play(mini, "WS-2026-B", ["check", "safe"]))


def test_a_market_week_does_not_depend_on_earlier_choices(mini):
    """Counter-based noise: week 1's demand is the same draw whichever option led there."""
    weeks_safe = [e for e in play(mini, 5, ["check", "safe"]).events if e["kind"] == "week"]
    weeks_push = [e for e in play(mini, 5, ["skip", "push"]).events if e["kind"] == "week"]
    assert [w["data"]["dealers"]["wang"]["demand"] for w in weeks_safe] == [w["data"]["dealers"]["wang"]["demand"] for w in weeks_push]


def test_branch_routes_on_market_state(mini):
    """Pushing 1,000 units on a 100/week dealer overstocks it; topping up to 1.5 cycles does not."""
    endings_push = {play(mini, s, ["skip", "push"]).ending.id for s in range(20)}
    endings_safe = {play(mini, s, ["check", "safe"]).ending.id for s in range(20)}
    assert endings_push == {"bad_end"}
    assert endings_safe == {"good_end"}


def test_events_record_the_sampled_market(mini):
    session = play(mini, 2, ["check", "safe"])
    weeks = [e["data"] for e in session.events if e["kind"] == "week"]
    assert [w["week"] for w in weeks] == [1, 2, 3, 4]
    for w in weeks:
        v = w["dealers"]["wang"]
        assert v["sales"] + v["lost"] == v["demand"]
        assert v["stock"] >= 0


def test_effects_are_reported_with_their_outcome(mini):
    session = play(mini, 2, ["check", "safe"])
    order = next(e["data"] for e in session.events if e["kind"] == "effect" and e["data"]["effect"] == "order")
    assert order["cover_cycles"] == pytest.approx(1.5, abs=0.01)
    assert session.variables["checked"] is True


def test_condition_hides_option(mini):
    from simulator.loader import load_text

    text = open(mini.path, encoding="utf-8").read().replace('when = "var.checked or market.week >= 0"', 'when = "var.checked"')
    loaded = load_text(text, "cond.toml").loaded
    skipped = Session(loaded, 1)
    skipped.choose("skip")
    assert [o.id for o in skipped.options()] == ["safe"]
    checked = Session(loaded, 1)
    checked.choose("check")
    assert [o.id for o in checked.options()] == ["safe", "push"]

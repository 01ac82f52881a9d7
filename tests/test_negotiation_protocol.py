"""The mechanism: alternating offers, each trainee move's documented effect, events, errors, the result."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pytest

from simulator.negotiation import MOVES, TALK_MOVES, CoursePolicy, Move, MoveError, Negotiation, run
from simulator.negotiation.examples import annual_plan, father_and_son
from simulator.negotiation.lines import LINES, MOVE_LABELS, transcript
from simulator.negotiation.params import DEFAULT_PARAMS, params_table
from simulator.negotiation.score import PRINCIPLES, score_items
from tests.test_negotiation_utility import counterpart_rng

ROOT = Path(__file__).resolve().parents[1]
P = DEFAULT_PARAMS
IDEAL = {"target_growth": 25, "rebate": 1.0, "payment_days": 30, "marketing_support": "none"}  # the company's best


def new(seed: int = 1, spec=None) -> Negotiation:
    return Negotiation(spec or annual_plan(), counterpart_rng(seed))


def kinds(events) -> list[str]:
    return [e["kind"] for e in events]


def test_the_counterpart_opens_with_its_first_demand():
    neg = new()
    assert kinds(neg.events) == ["nego_bid"]
    bid = neg.events[0]["data"]
    assert bid["first"] and bid["line"] == "opening" and bid["round"] == 0
    assert neg.cp.utility(neg.standing) >= neg.cp.profile.anchor - 1e-9
    assert "theirs" not in json.dumps(neg.events)  # trainee-facing events never show its utility


def test_same_seed_same_moves_same_events():
    a = run(annual_plan(), counterpart_rng(9), CoursePolicy())
    b = run(annual_plan(), counterpart_rng(9), CoursePolicy())
    assert a.events == b.events
    c = run(annual_plan(), counterpart_rng(10), CoursePolicy())
    assert a.events != c.events


def test_the_counterparts_draws_do_not_depend_on_the_trainees_moves():
    a, b = new(3), new(3)
    a.play(Move("ask", issue="rebate"))
    a.play(Move("offer", values={"rebate": 1}))
    assert a.cp.profile == b.cp.profile and a.cp.luck == b.cp.luck


def test_accepting_ends_with_a_deal_at_the_standing_bid():
    neg = new(2)
    neg.play(Move("offer", values=IDEAL))
    assert not neg.done
    standing = neg.standing
    events = neg.play(Move("accept"))
    end = next(e["data"] for e in events if e["kind"] == "nego_end")
    assert end["deal"] and end["reason"] == "accepted_by_trainee"
    assert neg.result().outcome == neg.domain.decode(standing)
    assert kinds(events)[-1] == "nego_result"
    assert neg.available() == ()
    with pytest.raises(MoveError, match="ended"):
        neg.play(Move("accept"))


def test_walking_away_gives_the_reservation_values_and_no_joint_gain():
    neg = new()
    neg.play(Move("walk_away"))
    r = neg.result()
    assert not r.deal and r.reason == "trainee_walked"
    assert r.own_utility == r.own_reservation and r.their_utility == r.their_reservation and r.joint_gain == 0.0


def test_an_offer_it_likes_is_accepted_at_once():
    neg = new(4)
    best_for_them = neg.domain.decode(neg.space.outcome(int(np.argmax(neg.space.theirs))))
    events = neg.play(Move("offer", values=best_for_them))
    end = next(e["data"] for e in events if e["kind"] == "nego_end")
    assert end["reason"] == "accepted_by_counterpart"


def test_the_deadline_ends_without_a_deal_when_the_last_offer_is_below_its_reservation():
    spec = dataclasses.replace(annual_plan(), rounds=3)
    neg = Negotiation(spec, counterpart_rng(5))
    while not neg.done:
        neg.play(Move("offer", values=IDEAL))
    assert neg.result().reason in ("deadline", "counterpart_walked")
    assert not neg.result().deal


def test_rounds_are_limited():
    spec = annual_plan()
    for seed in range(5):
        neg = run(spec, counterpart_rng(seed), CoursePolicy())
        assert 1 <= neg.result().rounds <= spec.rounds


# ---------------------------------------------------------------- the effect of each move (the parameters table)


def test_ask_reveals_a_noisy_reading_and_listening_sharpens_it():
    neg = new(6)
    events = neg.play(Move("ask", issue="payment_days"))
    reply = events[-1]["data"]
    w = neg.cp.profile.weights[2]
    z = neg.cp.luck.ask[2][0]
    assert reply["reading"] == pytest.approx(min(1, max(0, w + P.ask_noise * z)), abs=1e-4)
    assert reply["level"] in ("low", "medium", "high") and reply["line"] == f"reveal_{reply['level']}"
    calm = new(6)
    calm.play(Move("listen"))
    reading = calm.play(Move("ask", issue="payment_days"))[-1]["data"]["reading"]
    assert reading == pytest.approx(min(1, max(0, w + P.ask_noise / 2 * z)), abs=1e-4)
    neg.play(Move("ask", issue="payment_days"))
    assert "ask" in neg.available() and len(neg.readings[2]) == P.asks_per_issue
    with pytest.raises(MoveError, match="asked about"):
        neg.play(Move("ask", issue="payment_days"))


@pytest.mark.parametrize(
    "moves, pressure",
    [
        (["flinch"], P.flinch_pressure),
        (["flinch", "flinch"], P.flinch_pressure),  # once per bid
        (["reluctant"], P.reluctance_pressure),
        (["say_no"], P.say_no_pressure),
        (["authority"], P.authority_pressure),
        (["say_no", "reluctant", "flinch", "authority"], P.say_no_pressure + P.reluctance_pressure + P.flinch_pressure + P.authority_pressure),
    ],
)
def test_pressure_tactics_lower_its_opening_level_a_little(moves, pressure):
    neg = new(7)
    before = neg.cp.u_hi
    for m in moves:
        neg.play(Move(m))
    assert neg.cp.u_hi == pytest.approx(before - min(pressure, P.max_pressure))
    assert neg.cp.u_hi >= neg.cp.reservation


def test_saying_no_and_reluctance_only_work_at_the_opening():
    neg = new(8)
    neg.play(Move("offer", values=IDEAL))
    assert not neg.done
    before = neg.cp.pressure
    assert neg.play(Move("say_no"))[-1]["data"]["line"] == "say_no_later"
    assert neg.play(Move("reluctant"))[-1]["data"]["line"] == "reluctant_late"
    assert neg.cp.pressure == before


def test_overused_tactics_irritate():
    neg = new(9)
    for _ in range(P.authority_max):
        neg.play(Move("authority"))
    assert neg.cp.irritation == 0
    neg.play(Move("authority"))
    assert neg.cp.irritation == 1
    neg.play(Move("name_tactic"))  # no good cop / bad cop is being played
    assert neg.cp.irritation == 2 and neg.n["tactic_misnamed"] == 1


def test_talk_is_limited_per_round():
    neg = new(10)
    for _ in range(P.talk_per_round):
        neg.play(Move("listen"))
    assert not set(TALK_MOVES) & set(neg.available())
    with pytest.raises(MoveError, match="not allowed now") as err:
        neg.play(Move("listen"))
    assert "offer" in err.value.hint


def test_accepting_the_first_demand_invites_a_follow_on_demand():
    nibbled = [s for s in range(40) if new(s).cp.luck.nibble < P.nibble_prob]
    assert nibbled
    neg = new(nibbled[0])
    first = neg.standing
    events = neg.play(Move("accept"))
    bid = events[-1]["data"]
    assert bid["line"] == "nibble" and "request" in bid and not neg.done
    assert neg.cp.utility(neg.standing) > neg.cp.utility(first)
    neg.play(Move("accept"))
    r = neg.result()
    assert r.accepted_first and r.nibbled
    assert next(i for i in score_items(r) if i["principle"] == "nego.open_no_to_first_condition")["points"] == -2


def test_restating_locks_agreed_items_into_its_later_bids():
    neg = new(12)
    standing = neg.domain.decode(neg.standing)
    offer = {"target_growth": 25, "rebate": 1.0, "payment_days": 30, "marketing_support": standing["marketing_support"]}
    neg.play(Move("offer", values=offer))
    assert not neg.done
    if neg.standing[3] != neg.my_offers[-1][3]:
        pytest.skip("no agreement to lock with this seed")
    reply = neg.play(Move("restate"))[-1]["data"]
    assert reply["effect"] == "lock" and "marketing_support" in reply["locked"]
    assert neg.cp.locked[3] == neg.standing[3]


def test_deadlock_freezes_its_bids_until_broken_and_adding_an_issue_widens_the_table():
    spec = father_and_son()
    neg = Negotiation(spec, counterpart_rng(13))
    ideal = {"discount": 0, "min_purchase": 300, "marketing_support": "none"}
    events = []
    for _ in range(1 + P.deadlock_after):
        events += neg.play(Move("offer", values=ideal))
        if neg.done:
            pytest.skip("walked away")
    assert "nego_deadlock" in kinds(events) and neg.cp.deadlock
    frozen = neg.standing
    size = len(neg.space.idx)
    reply = neg.play(Move("break_deadlock", how="add_issue"))[-1]["data"]
    assert reply["line"] == "issue_added" and reply["issue"] == "exclusivity"
    assert not neg.cp.deadlock and len(neg.space.idx) == 3 * size
    assert neg.standing == frozen
    neg.play(Move("offer", values={"exclusivity": "region"}))
    if not neg.done:
        assert neg.domain.decode(neg.standing)["exclusivity"] in ("none", "region", "country")


def test_good_cop_bad_cop_and_naming_it():
    spec = father_and_son()
    for seed in range(30):
        neg = Negotiation(spec, counterpart_rng(seed))
        policy = CoursePolicy(name_tactic=False)
        while not neg.done and neg.good_cop is None:
            neg.play(policy(neg.view()))
        if neg.good_cop is not None:
            break
    assert neg.good_cop is not None
    voices = [e["data"]["voice"] for e in neg.events if e["kind"] == "nego_bid"][-2:]
    assert voices == ["bad_cop", "good_cop"]
    bundle, real = neg.standing, neg.real_bid
    assert neg.cp.utility(bundle) > neg.cp.utility(real)  # the good cop's "favour" costs the trainee
    named = Negotiation(spec, counterpart_rng(seed))
    named_policy = CoursePolicy(name_tactic=False)
    while named.good_cop is None:
        named.play(named_policy(named.view()))
    events = named.play(Move("name_tactic"))
    assert events[-1]["data"]["line"] == "tactic_named" and named.standing == real and named.good_cop is None
    neg.play(Move("accept"))  # taking the good cop's bundle
    r = neg.result()
    assert r.good_cop_played and r.good_cop_conceded == 1
    assert next(i for i in score_items(r) if i["principle"] == "nego.close_good_cop_bad_cop")["points"] == -2


@pytest.mark.parametrize(
    "move, fragment",
    [
        (Move("bribe"), "unknown move"),
        (Move("ask"), "needs an issue"),
        (Move("ask", issue="colour"), "unknown issue"),
        (Move("offer", values={"rebate": 99}), "outside"),
        (Move("listen", values={"rebate": 1}), "takes no values"),
        (Move("flinch", issue="rebate"), "takes no issue"),
        (Move("break_deadlock", how="shout"), "unknown way"),
        (Move("break_deadlock", how="add_issue", issue="rebate"), "already on the table"),
    ],
)
def test_bad_moves_are_clear_errors_and_change_nothing(move, fragment):
    neg = new(14)
    before = list(neg.events)
    with pytest.raises(MoveError, match=fragment) as err:
        neg.play(move)
    assert err.value.hint or fragment == "needs an issue"
    assert neg.events == before


# ---------------------------------------------------------------- result, score items, text


def test_result_and_score_items_are_plain_data_with_known_principles(principle_ids):
    neg = run(father_and_son(), counterpart_rng(15), CoursePolicy())
    result_event = neg.events[-1]
    assert result_event["kind"] == "nego_result"
    json.dumps(neg.events, allow_nan=False, ensure_ascii=False)
    data = result_event["data"]
    for key in ("deal", "own_utility", "their_utility", "joint_gain", "pareto_distance", "nash_distance", "rounds", "concession", "trace"):
        assert key in data
    for item in data["score"]:
        assert set(item) == {"principle", "points", "reason_zh", "reason_en"}
        assert item["principle"] in principle_ids and item["principle"] in PRINCIPLES
        assert -2 <= item["points"] <= 2 and item["reason_zh"] and item["reason_en"]
    assert set(PRINCIPLES) <= set(principle_ids)


def test_every_line_and_move_label_is_bilingual_and_every_used_line_exists():
    for table in (LINES, MOVE_LABELS):
        for key, text in table.items():
            assert set(text) == {"zh", "en"} and text["zh"] and text["en"], key
    assert set(MOVE_LABELS) == set(MOVES)
    source = "".join(p.read_text("utf-8") for p in (ROOT / "simulator" / "negotiation").glob("*.py"))
    used = set(re.findall(r'line="([a-z_]+)"', source)) | set(re.findall(r'_reply\("[a-z_]+", "([a-z_]+)"', source))
    assert used <= set(LINES), used - set(LINES)
    neg = run(father_and_son(), counterpart_rng(16), CoursePolicy())
    for lang in ("zh", "en"):
        assert transcript(neg.events, lang)


def test_the_docs_list_every_parameter_with_its_default():
    doc = (ROOT / "docs" / "NEGOTIATION.md").read_text("utf-8")
    for name, default in params_table():
        row = re.search(rf"^\| `{name}` \| ([^|]+) \|", doc, re.M)
        assert row, f"docs/NEGOTIATION.md does not list {name}"
        assert row.group(1).strip() == f"{default}", (name, row.group(1))


def test_the_core_is_pure():
    for path in (ROOT / "simulator" / "negotiation").glob("*.py"):
        text = path.read_text("utf-8")
        for banned in ("import random", "from random", "import time", "datetime", "textual", "open(", "print("):
            assert banned not in text, (path.name, banned)
        assert not re.search(r"np\.random\.(?!Generator\b)[a-z_]+\(", text), path.name


def test_fork_replays_identically_or_meets_the_same_counterpart_with_new_luck():
    neg = new(17)
    policy = CoursePolicy()
    for _ in range(8):
        neg.play(policy(neg.view()))
    same = neg.fork()
    other = neg.fork(counterpart_rng(99))
    assert same.events == neg.events and same.cp.profile == neg.cp.profile
    assert other.cp.profile == neg.cp.profile and other.cp.luck != neg.cp.luck
    rest = [policy(neg.view())]
    while not neg.done:
        neg.play(rest[-1])
        if not neg.done:
            rest.append(policy(neg.view()))
    for move in rest:
        same.play(move)
    assert same.events == neg.events
    assert len(other.events) < len(neg.events)  # playing the parent did not touch the fork

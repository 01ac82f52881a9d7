"""The counterpart agent alone: its concession curve, its bids, its acceptance, its reservation value."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.negotiation import (
    CounterpartSpec,
    CoursePolicy,
    GreedyPolicy,
    NegotiationSpec,
    NumericIssue,
    OptionIssue,
    RandomPolicy,
    run,
    target_utility,
)
from simulator.negotiation.examples import annual_plan
from simulator.negotiation.strategy import make_counterpart
from simulator.negotiation.utility import Domain, OutcomeSpace, company_utility
from tests.test_negotiation_utility import counterpart_rng


def with_style(spec: NegotiationSpec, e: float) -> NegotiationSpec:
    return dataclasses.replace(spec, counterpart=dataclasses.replace(spec.counterpart, concession=(e, e)))


def bid_curve(spec: NegotiationSpec, seed: int) -> list[float]:
    """Its own utility of the bid it would make at each round, with nobody pushing it."""
    cp = make_counterpart(spec, counterpart_rng(seed))
    space = OutcomeSpace.build(Domain(spec), tuple(i.in_play for i in spec.issues), company_utility(spec), cp.utility)
    return [cp.utility(cp.choose_bid(space, cp.target(k))) for k in range(spec.rounds)]


def test_target_curve_shapes():
    for e in (0.2, 1.0, 5.0):
        assert target_utility(0.0, 0.9, 0.4, e) == pytest.approx(0.9)
        assert target_utility(1.0, 0.9, 0.4, e) == pytest.approx(0.4)
    assert target_utility(0.5, 0.9, 0.4, 1.0) == pytest.approx(0.65)  # linear
    for t in (0.1, 0.3, 0.5, 0.7, 0.9):
        boulware, linear, conceder = (target_utility(t, 0.9, 0.4, e) for e in (0.2, 1.0, 5.0))
        assert boulware > linear > conceder


@pytest.mark.parametrize("seed", range(20))
def test_boulware_concedes_less_early_than_conceder(seed):
    spec = annual_plan()
    boulware = bid_curve(with_style(spec, 0.2), seed)
    conceder = bid_curve(with_style(spec, 5.0), seed)
    early = spec.rounds // 2
    assert boulware[0] == pytest.approx(conceder[0], abs=spec.params.bid_band + 1e-9)  # same anchor
    for k in range(1, early):
        assert boulware[k] > conceder[k]
    # both end at (about) the reservation value, which the same seed makes the same
    assert boulware[-1] == pytest.approx(conceder[-1], abs=spec.params.bid_band + 1e-9)


def test_bids_never_fall_below_the_target_or_the_reservation():
    spec = annual_plan()
    for seed in range(30):
        cp = make_counterpart(spec, counterpart_rng(seed))
        space = OutcomeSpace.build(Domain(spec), (True,) * 4, company_utility(spec), cp.utility)
        for k in range(spec.rounds):
            tau = cp.target(k)
            u = cp.utility(cp.choose_bid(space, tau))
            assert u >= tau - 1e-12 and u >= cp.reservation - 1e-12


def test_ac_next_and_the_deadline_rule():
    spec = annual_plan()
    cp = make_counterpart(spec, counterpart_rng(4))
    space = OutcomeSpace.build(Domain(spec), (True,) * 4, company_utility(spec), cp.utility)
    tau = cp.target(3)
    above = space.outcome(int(np.argmin(np.where(space.theirs >= tau, space.theirs, np.inf))))
    below_tau = space.outcome(int(np.argmax(np.where(space.theirs < tau - 0.01, space.theirs, -np.inf))))
    assert cp.accepts(above, tau)
    assert not cp.accepts(below_tau, tau)
    assert cp.accepts(below_tau, None) == (cp.utility(below_tau) >= cp.reservation)  # at the deadline: r decides
    under_r = space.outcome(int(np.argmax(np.where(space.theirs < cp.reservation, space.theirs, -np.inf))))
    cp.bonus = 1.0  # even a huge closing bonus never takes it below its reservation value
    assert not cp.accepts(under_r, 0.0)


def test_the_opponent_model_starts_mirrored_and_learns_what_the_trainee_holds():
    spec = annual_plan()
    cp = make_counterpart(spec, counterpart_rng(5))
    mirrored = cp.model().weights
    assert np.argmax(mirrored) == np.argmax(cp.profile.weights)  # fixed-pie bias
    held = (4, 0, 0, 0)
    cp.perceive(held, package=False)
    for k in range(1, 4):
        cp.perceive((4, k, k, k % 4), package=False)  # keeps target_growth, moves the rest
    assert cp.model().weights[0] > mirrored[0]


# ---------------------------------------------------------------- never below the reservation value


@st.composite
def specs(draw) -> NegotiationSpec:
    n = draw(st.integers(1, 4))
    issues = []
    for k in range(n):
        if draw(st.booleans()):
            points = draw(st.integers(2, 6))
            step = draw(st.sampled_from([0.5, 1, 5]))
            lo = draw(st.integers(0, 10))
            issues.append(NumericIssue(f"i{k}", lo, lo + step * (points - 1), step, draw(st.sampled_from(["high", "low"])),
                                       counterpart_prefers=draw(st.sampled_from([None, "high", "low"]))))
        else:
            m = draw(st.integers(2, 4))
            vals = st.lists(st.integers(0, 10).map(lambda x: x / 10), min_size=m, max_size=m)
            issues.append(OptionIssue(f"i{k}", tuple(f"o{j}" for j in range(m)), tuple(draw(vals)), tuple(draw(vals))))
    off = draw(st.integers(0, n - 1)) if n > 1 and draw(st.booleans()) else None
    if off is not None:
        issues[off] = dataclasses.replace(issues[off], in_play=False)
    lo = draw(st.integers(0, 70)) / 100
    hi = lo + draw(st.integers(0, 20)) / 100
    elo = draw(st.sampled_from([0.1, 0.3, 1.0, 2.0]))
    counterpart = CounterpartSpec(
        weight_alpha=tuple(draw(st.sampled_from([0.3, 1.0, 3.0])) for _ in range(n)),
        reservation=(lo, hi),
        concession=(elo, elo * draw(st.sampled_from([1, 2, 10]))),
        anchor=min(1.0, hi + 0.05 + draw(st.integers(0, 30)) / 100),
        good_cop_bad_cop=draw(st.booleans()),
        good_cop_at=draw(st.sampled_from([0.0, 0.3, 0.6])),
    )
    return NegotiationSpec(
        issues=tuple(issues),
        company_weights=tuple(draw(st.integers(1, 9)) / 10 for _ in range(n)),
        company_reservation=draw(st.integers(0, 60)) / 100,
        counterpart=counterpart,
        rounds=draw(st.integers(2, 10)),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs(), seed=st.integers(0, 2**32 - 1), policy=st.sampled_from(["random", "course", "greedy", "accept_first"]))
def test_no_deal_and_no_bid_is_ever_below_the_counterparts_reservation_value(spec, seed, policy):
    make = {
        "random": lambda: RandomPolicy(np.random.Generator(np.random.PCG64(seed + 1))),
        "course": CoursePolicy,
        "greedy": GreedyPolicy,
        "accept_first": lambda: CoursePolicy(accept_first=True),
    }[policy]
    neg = run(spec, counterpart_rng(seed), make())
    result = neg.result()
    r = result.their_reservation
    for entry in result.trace:
        if entry["by"] == "counterpart":
            assert entry["theirs"] >= r - 1e-6, entry
    if result.deal:
        assert result.their_utility >= r - 1e-9
    if policy == "course":
        assert result.own_rational  # the course never settles below the company's reservation value
    json.dumps(neg.events, allow_nan=False, ensure_ascii=False)  # events are plain JSON

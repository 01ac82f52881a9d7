"""Negotiation pieces that stand alone: specs, utilities, the outcome space, the counterpart draw."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.market import stream_key
from simulator.negotiation import CounterpartSpec, NegotiationSpec, NumericIssue, OfferError, OptionIssue, SpecError
from simulator.negotiation.examples import annual_plan, father_and_son
from simulator.negotiation.strategy import draw_profile, make_counterpart
from simulator.negotiation.utility import Domain, OutcomeSpace, company_utility, counterpart_utility, value_table


def counterpart_rng(seed: int, step: int = 0) -> np.random.Generator:
    """The generator the engine hands a negotiation step (its 'counterpart' stream)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(stream_key("counterpart"), step))))


def test_numeric_value_tables_follow_each_sides_direction():
    rebate = NumericIssue("rebate", 1, 4, 0.5, company_prefers="low")
    assert rebate.grid == (1, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0)
    assert value_table(rebate, "company").tolist() == pytest.approx([1, 5 / 6, 4 / 6, 3 / 6, 2 / 6, 1 / 6, 0])
    assert value_table(rebate, "counterpart").tolist() == pytest.approx([0, 1 / 6, 2 / 6, 3 / 6, 4 / 6, 5 / 6, 1])
    shared = NumericIssue("volume", 0, 10, 5, company_prefers="high", counterpart_prefers="high")
    assert value_table(shared, "counterpart").tolist() == [0, 0.5, 1]


def test_linear_additive_utility_by_hand():
    spec = annual_plan()
    u = company_utility(spec)
    dom = Domain(spec)
    o = dom.encode({"target_growth": 15, "rebate": 2.5, "payment_days": 60, "marketing_support": "promoter"}, dom.defaults, (True,) * 4)
    expected = 0.4 * 0.5 + 0.25 * 0.5 + 0.2 * 0.5 + 0.15 * 0.45
    assert u(o) == pytest.approx(expected)
    assert u.batch(np.array([o]))[0] == pytest.approx(expected)
    # every issue at the company's best is worth 1, at the worst 0
    best = dom.encode({"target_growth": 25, "rebate": 1, "payment_days": 30, "marketing_support": "none"}, dom.defaults, (True,) * 4)
    worst = dom.encode({"target_growth": 5, "rebate": 4, "payment_days": 90, "marketing_support": "full_campaign"}, dom.defaults, (True,) * 4)
    assert u(best) == pytest.approx(1.0) and u(worst) == pytest.approx(0.0)


def test_encode_snaps_to_the_grid_and_keeps_the_base_elsewhere():
    spec = annual_plan()
    dom = Domain(spec)
    base = (1, 2, 3, 1)
    o = dom.encode({"rebate": 2.6}, base, (True,) * 4)
    assert o == (1, 3, 3, 1)
    assert dom.decode(o)["rebate"] == 2.5


@pytest.mark.parametrize(
    "values, fragment",
    [
        ({"rebate": 9}, "outside"),
        ({"rebate": float("nan")}, "outside"),
        ({"rebate": "high"}, "takes a number"),
        ({"marketing_support": "tv"}, "not an option"),
        ({"discount": 3}, "unknown issue"),
    ],
)
def test_bad_offers_are_clear_errors(values, fragment):
    dom = Domain(annual_plan())
    with pytest.raises(OfferError, match=fragment) as err:
        dom.encode(values, dom.defaults, (True,) * 4)
    assert err.value.hint


def test_an_issue_off_the_table_cannot_be_offered_and_sits_at_its_default():
    spec = father_and_son()
    dom = Domain(spec)
    in_play = tuple(i.in_play for i in spec.issues)
    with pytest.raises(OfferError, match="not on the table"):
        dom.encode({"exclusivity": "region"}, dom.defaults, in_play)
    idx = dom.enumerate(in_play)
    assert set(idx[:, 3].tolist()) == {0}  # exclusivity = "none" everywhere
    assert len(idx) == 11 * 9 * 4
    assert len(dom.enumerate((True,) * 4)) == 11 * 9 * 4 * 3


def test_outcome_space_precomputes_both_utilities():
    spec = annual_plan()
    cp = make_counterpart(spec, counterpart_rng(3))
    dom = Domain(spec)
    space = OutcomeSpace.build(dom, (True,) * 4, company_utility(spec), cp.utility)
    row = 123
    o = space.outcome(row)
    assert space.row(o) == row
    assert space.own[row] == pytest.approx(company_utility(spec)(o))
    assert space.theirs[row] == pytest.approx(cp.utility(o))


@pytest.mark.parametrize(
    "make, fragment",
    [
        (lambda: NumericIssue("x", 0, 10, 3, company_prefers="high"), "not a whole number"),
        (lambda: NumericIssue("x", 5, 5, 1, company_prefers="high"), "lo < hi"),
        (lambda: NumericIssue("x", 0, 100, 1, company_prefers="high"), "grid points"),
        (lambda: OptionIssue("x", ("a",), (1.0,), (0.0,)), "two options"),
        (lambda: OptionIssue("x", ("a", "b"), (1.0, 2.0), (0.0, 1.0)), "0..1"),
        (lambda: CounterpartSpec(weight_alpha=(1.0, 0.0)), "positive"),
        (lambda: CounterpartSpec(weight_alpha=(1.0,), reservation=(0.5, 0.4)), "reservation"),
        (lambda: CounterpartSpec(weight_alpha=(1.0,), reservation=(0.3, 0.6), anchor=0.5), "anchor"),
        (lambda: NegotiationSpec((NumericIssue("x", 0, 1, 1, "high"),), (1.0, 1.0), 0.3, CounterpartSpec((1.0,))), "one value per issue"),
        (lambda: NegotiationSpec((NumericIssue("x", 0, 1, 1, "high", in_play=False),), (1.0,), 0.3, CounterpartSpec((1.0,))), "in play"),
    ],
)
def test_unplayable_specs_are_rejected(make, fragment):
    with pytest.raises(SpecError, match=fragment):
        make()


def test_same_seed_same_counterpart_and_different_seeds_differ():
    spec = annual_plan()
    a = draw_profile(spec, counterpart_rng(11))
    b = draw_profile(spec, counterpart_rng(11))
    c = draw_profile(spec, counterpart_rng(12))
    assert a == b
    assert a != c
    assert sum(a.weights) == pytest.approx(1.0)
    lo, hi = spec.counterpart.reservation
    assert lo <= a.reservation <= hi
    elo, ehi = spec.counterpart.concession
    assert elo <= a.exponent <= ehi
    # another negotiation step of the same session draws another counterpart
    assert draw_profile(spec, counterpart_rng(11, step=1)) != a


def test_hidden_weights_follow_the_dirichlet():
    # the mean of Dirichlet(alpha) is alpha / sum(alpha)
    spec = father_and_son()
    alpha = np.asarray(spec.counterpart.weight_alpha)
    draws = np.array([draw_profile(spec, counterpart_rng(s)).weights for s in range(400)])
    assert np.allclose(draws.mean(axis=0), alpha / alpha.sum(), atol=0.03)


def test_counterpart_utility_uses_its_weights_and_public_value_functions():
    spec = annual_plan()
    u = counterpart_utility(spec, (1.0, 0.0, 0.0, 0.0))
    dom = Domain(spec)
    low_target = dom.encode({"target_growth": 5}, dom.defaults, (True,) * 4)
    assert u(low_target) == pytest.approx(1.0)  # the dealer prefers a low target

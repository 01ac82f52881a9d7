"""Pareto frontier, Nash point and the concession pattern, checked against brute force written here."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.negotiation.metrics import SpaceStats, concession_pattern, distance_to_front, nash_point, pareto_front


# ---------------------------------------------------------------- independent brute force


def brute_front(a: list[float], b: list[float]) -> set[int]:
    """O(N²): i is on the frontier when no j is ≥ on both and > on one."""
    n = len(a)
    out = set()
    for i in range(n):
        dominated = any(a[j] >= a[i] and b[j] >= b[i] and (a[j] > a[i] or b[j] > b[i]) for j in range(n))
        if not dominated:
            out.add(i)
    return out


def brute_nash_value(a: list[float], b: list[float], ra: float, rb: float) -> float | None:
    """Max of (a−ra)(b−rb) over every outcome rational for both (not only the frontier)."""
    vals = [(x - ra) * (y - rb) for x, y in zip(a, b) if x >= ra and y >= rb]
    return max(vals) if vals else None


def small_domain(weights_a, weights_b, sizes):
    """Enumerate a small additive domain: issue k has sizes[k] levels, opposed directions."""
    rows = list(itertools.product(*[range(s) for s in sizes]))
    a = [sum(w * (lvl / (s - 1)) for w, lvl, s in zip(weights_a, row, sizes)) for row in rows]
    b = [sum(w * (1 - lvl / (s - 1)) for w, lvl, s in zip(weights_b, row, sizes)) for row in rows]
    return a, b


utilities = st.lists(st.tuples(st.integers(0, 10), st.integers(0, 10)), min_size=1, max_size=60)


@settings(max_examples=300, deadline=None)
@given(points=utilities)
def test_pareto_front_matches_brute_force_with_ties(points):
    # values on a coarse grid: many ties and duplicates
    a = [p[0] / 10 for p in points]
    b = [p[1] / 10 for p in points]
    assert set(pareto_front(np.array(a), np.array(b)).tolist()) == brute_front(a, b)


@settings(max_examples=300, deadline=None)
@given(points=utilities, ra=st.integers(0, 10), rb=st.integers(0, 10))
def test_nash_point_matches_brute_force(points, ra, rb):
    a = np.array([p[0] / 10 for p in points])
    b = np.array([p[1] / 10 for p in points])
    ra, rb = ra / 10, rb / 10
    row = nash_point(a, b, ra, rb)
    best = brute_nash_value(a.tolist(), b.tolist(), ra, rb)
    if best is None:
        assert row is None
    else:
        assert row is not None
        assert (a[row] - ra) * (b[row] - rb) == pytest.approx(best)
        assert row in brute_front(a.tolist(), b.tolist())


@pytest.mark.parametrize("seed", range(10))
def test_front_and_nash_on_small_additive_domains(seed):
    rng = np.random.default_rng(seed)  # test data only; the core never makes its own generator
    sizes = tuple(int(s) for s in rng.integers(2, 5, size=3))
    wa, wb = rng.dirichlet([1, 1, 1]), rng.dirichlet([1, 1, 1])
    a, b = small_domain(wa, wb, sizes)
    a_arr, b_arr = np.array(a), np.array(b)
    assert set(pareto_front(a_arr, b_arr).tolist()) == brute_front(a, b)
    ra, rb = 0.2, 0.3
    row = nash_point(a_arr, b_arr, ra, rb)
    assert (a[row] - ra) * (b[row] - rb) == pytest.approx(brute_nash_value(a, b, ra, rb))
    stats = SpaceStats.of(a_arr, b_arr, ra, rb)
    gains = [(x - ra) + (y - rb) for x, y in zip(a, b) if x >= ra and y >= rb]
    assert stats.max_joint_gain == pytest.approx(max(gains))


def test_distance_to_front_is_zero_on_it_and_positive_inside():
    a, b = small_domain([0.6, 0.4], [0.3, 0.7], (3, 3))
    a_arr, b_arr = np.array(a), np.array(b)
    front = pareto_front(a_arr, b_arr)
    for i in front:
        assert distance_to_front((a[i], b[i]), a_arr[front], b_arr[front]) == 0.0
    inside = [i for i in range(len(a)) if i not in set(front.tolist())]
    assert inside
    for i in inside:
        brute = min(np.hypot(a[j] - a[i], b[j] - b[i]) for j in front)
        assert distance_to_front((a[i], b[i]), a_arr[front], b_arr[front]) == pytest.approx(brute) and brute > 0


def test_no_zone_of_agreement_gives_no_nash_point():
    a, b = np.array([0.9, 0.5, 0.1]), np.array([0.1, 0.5, 0.9])
    assert nash_point(a, b, 0.6, 0.6) is None
    assert SpaceStats.of(a, b, 0.6, 0.6).max_joint_gain == 0.0


def test_concession_pattern_rewards_shrinking_and_flags_equal_large_steps():
    shrinking = concession_pattern([0.92, 0.80, 0.74, 0.71, 0.70])
    equal = concession_pattern([1.0, 0.88, 0.76, 0.64, 0.52])
    growing = concession_pattern([0.9, 0.88, 0.84, 0.76])
    assert shrinking.index > 0.3 and shrinking.equal_large == 0
    assert equal.index == pytest.approx(0.0, abs=1e-9) and equal.equal_large == 3
    assert growing.index < 0
    assert shrinking.steps == pytest.approx((0.12, 0.06, 0.03, 0.01))
    assert concession_pattern([0.9]).index == 0.0
    # a take-back (a rise) is not a concession
    assert concession_pattern([0.9, 0.8, 0.85, 0.8]).steps == pytest.approx((0.1, 0.05))

"""The course's techniques pay off, on average over many seeded counterparts (the issue's "done means").

Each claim compares two headless trainees on the same seeds (common random numbers: the same
counterparts, the same luck), so the difference is the behaviour, not the draw. The thresholds ask
for a clear effect: the mean paired difference above zero by at least two standard errors.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from simulator.negotiation import CoursePolicy, GreedyPolicy, RandomPolicy, make_policy, run
from simulator.negotiation.examples import annual_plan, father_and_son
from tests.test_negotiation_utility import counterpart_rng

SEEDS = range(200)
SPECS = {"annual_plan": annual_plan, "father_and_son": father_and_son}
VARIANTS = {
    "course": CoursePolicy,
    "accept_first": lambda: CoursePolicy(accept_first=True),
    "no_questions": lambda: CoursePolicy(ask=False),
    "equal_steps": lambda: CoursePolicy(equal_step=0.12),
    "greedy": GreedyPolicy,
}


@cache
def outcomes(spec_name: str, variant: str) -> dict[str, np.ndarray]:
    spec = SPECS[spec_name]()
    results = [run(spec, counterpart_rng(seed), VARIANTS[variant]()).result() for seed in SEEDS]
    return {
        "own_utility": np.array([r.own_utility for r in results]),
        "joint_gain": np.array([r.joint_gain for r in results]),
        "deal": np.array([r.deal for r in results]),
    }


def clearly_better(spec: str, better: str, worse: str, metric: str) -> tuple[float, float]:
    d = outcomes(spec, better)[metric] - outcomes(spec, worse)[metric]
    mean, se = float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d)))
    assert mean > 2 * se, f"{spec}: {better} vs {worse} on {metric}: mean difference {mean:.4f}, standard error {se:.4f}"
    return mean, se


@pytest.mark.parametrize("spec", SPECS)
def test_saying_no_to_the_first_demand_beats_accepting_it(spec):
    clearly_better(spec, "course", "accept_first", "own_utility")


@pytest.mark.parametrize("spec", SPECS)
def test_asking_about_interests_raises_joint_gain(spec):
    clearly_better(spec, "course", "no_questions", "joint_gain")


@pytest.mark.parametrize("spec", SPECS)
def test_shrinking_concessions_beat_equal_large_ones(spec):
    clearly_better(spec, "course", "equal_steps", "own_utility")


@pytest.mark.parametrize("spec", SPECS)
def test_the_course_beats_the_naive_trainee_on_own_utility(spec):
    clearly_better(spec, "course", "greedy", "own_utility")


def test_the_course_beats_the_naive_trainee_on_joint_gain():
    # Pooled over both specs. In the annual plan the margin is thin (about +0.02): the naïve
    # trainee takes the dealer's own bids, which the dealer already aims at what it believes the
    # company wants; the course's gain there is mostly its own share, not a bigger pie.
    pooled = []
    for spec in SPECS:
        d = outcomes(spec, "course")["joint_gain"] - outcomes(spec, "greedy")["joint_gain"]
        assert d.mean() > 0, spec
        pooled.append(d)
    d = np.concatenate(pooled)
    assert d.mean() > 2 * d.std(ddof=1) / np.sqrt(len(d))


def test_the_course_reaches_deals():
    for spec in SPECS:
        assert outcomes(spec, "course")["deal"].mean() >= 0.95


def test_random_play_always_finishes_and_is_reproducible():
    spec = father_and_son()
    for seed in range(40):
        a = run(spec, counterpart_rng(seed), RandomPolicy(np.random.Generator(np.random.PCG64(seed))))
        b = run(spec, counterpart_rng(seed), RandomPolicy(np.random.Generator(np.random.PCG64(seed))))
        assert a.done and a.events == b.events


def test_make_policy():
    rng = np.random.Generator(np.random.PCG64(1))
    assert isinstance(make_policy("course"), CoursePolicy)
    assert isinstance(make_policy("greedy"), GreedyPolicy)
    assert isinstance(make_policy("random", rng), RandomPolicy)
    with pytest.raises(ValueError, match="policies"):
        make_policy("smart")

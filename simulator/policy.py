"""Automatic players for headless play, exploration and balance: each picks an option id.

A policy is `policy(session, row=0) -> str`: it reads only the session (what the trainee could see)
and, in a batch of rollouts, rollout `row`'s state. The balance report (scoring/balance.py) plays:

    random    any option on offer, uniformly (its own "policy" stream, so `play --policy random`
              replays the same run)
    course    the options' principle tags added up, highest first (course_pick)
    greedy    the naive trainee who takes whatever promises the most sell-in right now: the option
              whose `order` effects add up to the most units (units, or cover_cycles × the dealer's
              current forecast for one cycle); ties go to the lowest principle-tag sum, then to the
              first. At a negotiation step: the negotiation core's greedy trainee.
    fixed:k   always option k (the k-th on offer, as numbered for the trainee), else the last one on
              offer; `first`, `second`, … are fixed:1, fixed:2, …
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from simulator.diagnostics import Diagnostic, DiagnosticError, did_you_mean
from simulator.engine import Session
from simulator.market import stream_key
from simulator.negotiation.play import negotiation_choice
from simulator.schema import Choice, effect_kind, effect_params

Policy = Callable[..., str]  # policy(session, row=0) -> an option id, or a negotiation move as text
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth")
POLICIES = ("first", "random", "course", "greedy") + ORDINALS[1:5]


def offered(session: Session, row: int = 0) -> list:
    """The options on offer in rollout `row` (row 0's are cached by the session)."""
    return session.options_at(row) if row else session.options()


def course_pick(step, options) -> str:
    """The course-following pick among `options`: the one whose principle tags add up highest (first on ties)."""
    weights = {c.id: sum(c.principles.values()) for c in step.choices}
    return max(options, key=lambda o: (weights[o.id], -o.number)).id


def course_choice(session: Session, row: int = 0) -> str:
    """The course's pick; at a negotiation step the course's next move (negotiation.policies.CoursePolicy) as text."""
    if session.negotiating:
        return negotiation_choice(session, "course", row)
    return course_pick(session.step, session.options_at(row) if row else session.options())


def order_units(session: Session, choice: Choice, row: int = 0) -> float:
    """The units a choice's `order` effects promise now: `units`, or `cover_cycles` × the dealer's
    current forecast for one sales cycle (what a trainee reads as "that many cycles of his sales")."""
    total = 0.0
    for effect in choice.effects:
        if effect_kind(effect) == "order":
            p = effect_params(effect)
            if p.units is not None:
                total += p.units
            elif p.cover_cycles is not None:
                j = session.scenario.dealer_index(p.dealer)
                total += p.cover_cycles * session.market.cycle_weeks * float(session.state.forecast[row, j])
    return total


def greedy_choice(session: Session, row: int = 0) -> str:
    """The naive trainee: the most units ordered now; ties to the lowest principle-tag sum, then the first."""
    if session.negotiating:
        return negotiation_choice(session, "greedy", row)
    choices = {c.id: c for c in session.step.choices}
    return max(
        offered(session, row),
        key=lambda o: (order_units(session, choices[o.id], row), -sum(choices[o.id].principles.values()), -o.number),
    ).id


def fixed_choice(k: int) -> Policy:
    """Always option k (1-based, as numbered on screen) when there are at least k, else the last one."""

    def pick(session: Session, row: int = 0) -> str:
        options = offered(session, row)
        return options[min(k, len(options)) - 1].id  # at a negotiation step: the move with its defaults

    return pick


def fixed_number(name: str) -> int | None:
    """k for `fixed:k`, `first`, `second`, …; None for any other name."""
    if name in ORDINALS:
        return ORDINALS.index(name) + 1
    if name.startswith("fixed:") and name[6:].isdigit() and int(name[6:]) >= 1:
        return int(name[6:])
    return None


def make_policy(name: str, entropy: int) -> Policy:
    """A policy returns an option id, or at a negotiation step a move as text (`package:rebate=2.5`)."""
    k = fixed_number(name)
    if k is not None:
        return fixed_choice(k)
    if name == "course":
        return course_choice
    if name == "greedy":
        return greedy_choice
    if name == "random":
        # its own stream: a policy's draws never shift the market's
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy, spawn_key=(stream_key("policy"),))))

        def pick(session: Session, row: int = 0) -> str:
            if session.negotiating:
                return negotiation_choice(session, "random", row, rng=rng)
            options = offered(session, row)
            return options[int(rng.integers(len(options)))].id

        return pick
    raise DiagnosticError(Diagnostic.make("DS0603", f"unknown policy '{name}'{did_you_mean(name, POLICIES)}", f"policies: {', '.join(POLICIES)}, or fixed:K (always option K)"))

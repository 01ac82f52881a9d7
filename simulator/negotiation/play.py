"""Headless trainees at a session's negotiation step: the core's policies as the session's moves.

    choice = negotiation_choice(session, "course")        # the next move as text, e.g. "package:rebate=2.5"
    for text in play_moves(session, "course"):             # every move until this negotiation ends
        session.choose(text)                               # (the caller plays each before the next is asked)

Strategies (the explorer plays each one at a negotiation step; `~name` in --choices and playthrough
tests plays the rest of the negotiation with it):

    course        the course's way (CoursePolicy)
    hardball      no questions, no packages, equal large concessions (positional haggling)
    greedy        the naïve trainee: takes anything above the company's walk-away level (GreedyPolicy)
    accept_first  takes the counterpart's first demand at once
    walk_away     walks away at once
    random        any allowed move with random parameters (needs a generator)

A policy sees only what the trainee sees (the core's View). Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from simulator.negotiation.policies import CoursePolicy, GreedyPolicy, RandomPolicy
from simulator.negotiation.protocol import Move, View
from simulator.negotiation.step import format_choice, move_params

STRATEGIES = ("course", "hardball", "greedy", "accept_first", "walk_away", "random")
EXPLORE_STRATEGIES = ("course", "hardball", "greedy", "accept_first", "walk_away")  # deterministic ones
MAX_MOVES = 500  # a policy that never finishes a negotiation is a bug


def _first_available(kind: str) -> Callable[[View], Move]:
    def policy(view: View) -> Move:
        return Move(kind if kind in view.available else view.available[0])

    return policy


def strategy(name: str, rng: np.random.Generator | None = None) -> Callable[[View], Move]:
    """A fresh headless trainee (policies cache per negotiation: make one per negotiation)."""
    if name == "course":
        return CoursePolicy()
    if name == "hardball":
        return CoursePolicy(ask=False, listen=False, say_no=False, reluctant=False, restate=False, summarise=False, empathise=False,
                            packages=False, explore=False, name_tactic=False, equal_step=0.12)
    if name == "greedy":
        return GreedyPolicy()
    if name == "accept_first":
        return _first_available("accept")
    if name == "walk_away":
        return _first_available("walk_away")
    if name == "random":
        if rng is None:
            raise ValueError("the random strategy needs a generator")
        return RandomPolicy(rng)
    raise ValueError(f"unknown negotiation strategy '{name}'; strategies: {', '.join(STRATEGIES)}")


def move_choice(move: Move) -> tuple[str, dict[str, Any]]:
    """A core Move as (option id, params) for `Session.choose`."""
    return move.kind, move_params(move)


def negotiation_choice(session: Any, policy: Callable[[View], Move] | str, row: int = 0, rng: np.random.Generator | None = None) -> str:
    """The policy's next move in rollout `row` of a session at a negotiation step, as choice text."""
    if isinstance(policy, str):
        policy = strategy(policy, rng)
    move = policy(session.negs[row].view())
    return format_choice(*move_choice(move))


def play_moves(session: Any, name: str, rng: np.random.Generator | None = None) -> Iterator[str]:
    """The strategy's moves, one at a time, until the current negotiation ends. The caller plays each
    move (`session.choose(text)`, or a recorded session's) before asking for the next."""
    policy = strategy(name, rng)
    step_id = session.step_id
    visit = session.visits.get(step_id)
    for _ in range(MAX_MOVES):
        if not session.negotiating or session.step_id != step_id or session.visits.get(step_id) != visit:
            return
        yield negotiation_choice(session, policy)
    raise RuntimeError(f"the '{name}' strategy did not finish the negotiation at '{step_id}'")


__all__ = ["EXPLORE_STRATEGIES", "STRATEGIES", "move_choice", "negotiation_choice", "play_moves", "strategy"]

"""Automatic players for headless play, exploration and balance: each picks an option id."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from simulator.diagnostics import Diagnostic, DiagnosticError, did_you_mean
from simulator.engine import Session
from simulator.market import stream_key

Policy = Callable[[Session], str]
POLICIES = ("first", "random", "course")


def course_pick(step, options) -> str:
    """The course-following pick among `options`: the one whose principle tags add up highest (first on ties)."""
    weights = {c.id: sum(c.principles.values()) for c in step.choices}
    return max(options, key=lambda o: (weights[o.id], -o.number)).id


def course_choice(session: Session) -> str:
    return course_pick(session.step, session.options())


def make_policy(name: str, entropy: int) -> Policy:
    if name == "first":
        return lambda session: session.options()[0].id
    if name == "course":
        return course_choice
    if name == "random":
        # its own stream: a policy's draws never shift the market's
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy, spawn_key=(stream_key("policy"),))))
        return lambda session: session.options()[int(rng.integers(len(session.options())))].id
    raise DiagnosticError(Diagnostic.make("DS0603", f"unknown policy '{name}'{did_you_mean(name, POLICIES)}", f"policies: {', '.join(POLICIES)}"))

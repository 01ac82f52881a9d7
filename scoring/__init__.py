"""The course's principles as data, and the scorers that judge a session against them."""

from __future__ import annotations


def session_observers(loaded) -> list:
    """What every recorded session is watched by: the scorer (used to start, resume and verify)."""
    from scoring.rubric import Scorer

    return [Scorer(loaded)]

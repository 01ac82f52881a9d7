"""Multi-issue negotiation: the counterpart agent, the course's tactics, and deal quality.

Small pieces, each testable alone (after NegMAS's separation of utility, strategy and mechanism):

    spec       NegotiationSpec, NumericIssue, OptionIssue, CounterpartSpec   what a negotiation is
    params     TacticParams: every effect of a trainee move (ours, documented)
    utility    linear additive utilities, the Dirichlet draw, the discretised outcome space
    strategy   the counterpart: time-dependent concession, opponent model, AC_next, good cop / bad cop
    protocol   Negotiation: alternating offers, the trainee's moves, events, the result
    metrics    Pareto frontier, Nash point, distances, joint gain, concession pattern
    score      score items per course principle
    policies   headless trainees: course, greedy, random
    lines      what the counterpart says (zh/en), move labels

Pure and deterministic: randomness only from the numpy Generator passed in; no clock, no I/O.
See docs/NEGOTIATION.md.
"""

from simulator.negotiation.metrics import ConcessionPattern, Result, concession_pattern, deal_quality, nash_point, pareto_front
from simulator.negotiation.params import DEFAULT_PARAMS, TacticParams
from simulator.negotiation.policies import POLICIES, CoursePolicy, GreedyPolicy, RandomPolicy, make_policy
from simulator.negotiation.protocol import MOVES, OFFER_MOVES, TALK_MOVES, Move, MoveError, Negotiation, View, run
from simulator.negotiation.score import score_items
from simulator.negotiation.spec import CounterpartSpec, NegotiationSpec, NumericIssue, OptionIssue, SpecError
from simulator.negotiation.strategy import target_utility
from simulator.negotiation.utility import OfferError

__all__ = [
    "ConcessionPattern", "CounterpartSpec", "CoursePolicy", "DEFAULT_PARAMS", "GreedyPolicy", "MOVES", "Move", "MoveError",
    "Negotiation", "NegotiationSpec", "NumericIssue", "OFFER_MOVES", "OfferError", "OptionIssue", "POLICIES", "RandomPolicy",
    "Result", "SpecError", "TALK_MOVES", "TacticParams", "View", "concession_pattern", "deal_quality", "make_policy", "nash_point",
    "pareto_front", "run", "score_items", "target_utility",
]

"""Outcome metrics: the Pareto frontier, the Nash point, distances, joint gain, the concession pattern.

Pure functions over utility arrays (brute force over the discretised outcome space, as NegMAS does
for its scenario statistics): `own` is the company's utility per outcome, `theirs` the
counterpart's. Distances are Euclidean in the (own, theirs) utility plane.

    front = pareto_front(own, theirs)                     # row indices of the non-dominated outcomes
    nash = nash_point(own, theirs, r_own, r_theirs)       # row index maximising (own−r)(theirs−r), or None
    distance_to_front((u, v), own[front], theirs[front])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

EPS = 1e-12
# Our thresholds for the trainee's concession pattern (proposed, not in the course): measured in
# the trainee's own utility, 0..1.
LARGE_OWN_STEP = 0.08  # a concession of at least this much of the company's utility is "large"
SHRINK_RATIO = 0.8  # a step smaller than this × the previous one is "shrinking"


def pareto_front(own: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    """Row indices (ascending) of the outcomes no other outcome weakly dominates.

    b dominates a when own[b] ≥ own[a] and theirs[b] ≥ theirs[a], one of them strictly; equal
    utility pairs do not dominate each other, so duplicates on the frontier are all kept.
    """
    a = np.round(np.asarray(own, dtype=float), 12)
    b = np.round(np.asarray(theirs, dtype=float), 12)
    if a.size == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((-b, -a))  # own descending, then theirs descending
    a_s, b_s = a[order], b[order]
    new_group = np.empty(a_s.size, dtype=bool)
    new_group[0] = True
    new_group[1:] = a_s[1:] != a_s[:-1]
    group_id = np.cumsum(new_group) - 1
    group_start = np.flatnonzero(new_group)
    group_max_b = b_s[group_start]  # sorted by theirs descending inside a group
    # best theirs among outcomes with strictly larger own: running max over the groups before
    prev_best = np.full(group_start.size, -np.inf)
    if group_start.size > 1:
        prev_best[1:] = np.maximum.accumulate(group_max_b)[:-1]
    keep = (b_s == group_max_b[group_id]) & (b_s > prev_best[group_id])
    return np.sort(order[keep])


def nash_point(own: np.ndarray, theirs: np.ndarray, r_own: float, r_theirs: float, front: np.ndarray | None = None) -> int | None:
    """The Nash bargaining point: the rational outcome maximising (own − r_own)(theirs − r_theirs).

    Searched on the Pareto frontier (as NegMAS does); ties go to the lowest row index. None when no
    outcome is rational for both sides (no zone of agreement).
    """
    own = np.asarray(own, dtype=float)
    theirs = np.asarray(theirs, dtype=float)
    rows = pareto_front(own, theirs) if front is None else np.asarray(front)
    ok = rows[(own[rows] >= r_own - EPS) & (theirs[rows] >= r_theirs - EPS)]
    if ok.size == 0:
        return None
    product = (own[ok] - r_own) * (theirs[ok] - r_theirs)
    best = product.max()
    return int(ok[product >= best - EPS].min())


def distance_to_front(point: tuple[float, float], front_own: np.ndarray, front_theirs: np.ndarray) -> float:
    """Euclidean distance from a (own, theirs) utility pair to the nearest frontier point."""
    d = np.hypot(np.asarray(front_own) - point[0], np.asarray(front_theirs) - point[1])
    return float(d.min()) if d.size else float("nan")


def distance(p: tuple[float, float], q: tuple[float, float]) -> float:
    return float(np.hypot(p[0] - q[0], p[1] - q[1]))


def joint_gain(own: float, theirs: float, r_own: float, r_theirs: float) -> float:
    """The sum of both sides' gains over their reservation values (0 for no deal)."""
    return (own - r_own) + (theirs - r_theirs)


@dataclass(frozen=True)
class ConcessionPattern:
    """The trainee's concessions, in its own utility, in the order made.

    index ∈ [−1, 1]: for each pair of consecutive concessions (s, t), d = (s − t) / max(s, t)
    (+1 the step vanished, 0 equal, −1 the step grew), averaged with weight max(s, t) so that
    big steps count more; 0 with fewer than two concessions. Shrinking steps score > 0.
    equal_large: pairs where both steps are large and the second is not clearly smaller (the
    pattern that teaches the counterpart to keep pushing).
    """

    steps: tuple[float, ...]
    index: float
    equal_large: int
    first: float
    total: float


def concession_pattern(own_offers: Sequence[float]) -> ConcessionPattern:
    """From the company utilities of the trainee's successive offers (rises — take-backs — are skipped)."""
    steps = [own_offers[k - 1] - own_offers[k] for k in range(1, len(own_offers))]
    steps = [s for s in steps if s > 1e-9]
    pairs = list(zip(steps, steps[1:]))
    weights = [max(s, t) for s, t in pairs]
    diffs = [(s - t) / max(s, t) for s, t in pairs]
    index = sum(w * d for w, d in zip(weights, diffs)) / sum(weights) if pairs else 0.0
    equal_large = sum(1 for s, t in pairs if t >= SHRINK_RATIO * s and s >= LARGE_OWN_STEP and t >= LARGE_OWN_STEP)
    return ConcessionPattern(tuple(round(s, 6) for s in steps), float(index), equal_large, steps[0] if steps else 0.0, float(sum(steps)))


@dataclass(frozen=True)
class SpaceStats:
    """What the discretised outcome space allows: the frontier, the Nash point, the best joint gain."""

    front: np.ndarray
    front_own: np.ndarray
    front_theirs: np.ndarray
    nash_row: int | None
    nash: tuple[float, float] | None
    max_joint_gain: float

    @classmethod
    def of(cls, own: np.ndarray, theirs: np.ndarray, r_own: float, r_theirs: float) -> "SpaceStats":
        front = pareto_front(own, theirs)
        nash_row = nash_point(own, theirs, r_own, r_theirs, front)
        nash = None if nash_row is None else (float(own[nash_row]), float(theirs[nash_row]))
        gains = (own[front] - r_own) + (theirs[front] - r_theirs)
        rational = (own[front] >= r_own - EPS) & (theirs[front] >= r_theirs - EPS)
        max_gain = float(gains[rational].max()) if rational.any() else 0.0
        return cls(front, own[front], theirs[front], nash_row, nash, max_gain)


@dataclass(frozen=True)
class Result:
    """A finished negotiation, measured. Plain data; `as_dict()` is JSON-ready.

    For no deal, own/their utility are the reservation values (each side keeps its alternative),
    joint gain is 0 and the distances are measured from that disagreement point.
    """

    deal: bool
    reason: str  # accepted_by_trainee | accepted_by_counterpart | trainee_walked | counterpart_walked | deadline
    outcome: dict | None
    own_utility: float
    their_utility: float
    own_reservation: float
    their_reservation: float
    own_rational: bool  # the trainee did not settle below the company's reservation value
    pareto_distance: float
    nash_distance: float
    nash_utilities: tuple[float, float] | None
    nash_outcome: dict | None
    joint_gain: float
    max_joint_gain: float
    joint_gain_ratio: float
    rounds: int  # bids the counterpart made (its opening is round 1)
    concession: ConcessionPattern
    offers: int
    unconditional_concessions: int
    trades: int  # offers that give on some issues and take on others
    multi_issue_offers: int
    offers_in_their_zone: float  # share of the trainee's offers worth ≥ the counterpart's reservation value
    asks: int
    asks_before_first_offer: int
    listens: int
    restates: int  # restatements that confirmed at least one agreed item
    reopened: int  # agreed items the counterpart later reopened
    reluctant_early: bool
    said_no_first: bool
    accepted_first: bool
    nibbled: bool
    flinches: int
    authority_uses: int
    deadlocks: int
    deadlocks_broken: int
    stubborn_offers: int
    summarised_before_close: bool
    empathised: bool
    good_cop_played: bool
    good_cop_conceded: int
    tactic_named: bool
    tactic_misnamed: int
    issues_added: tuple[str, ...]
    satisfaction: float  # the counterpart's satisfaction with the outcome, 0..1 (a condition name: nego.<step>.satisfaction)
    counterpart: dict  # its hidden profile, for the debrief
    trace: tuple[dict, ...]  # every offer and bid with both utilities, for the debrief
    max_own_utility: float = 1.0  # the company's best utility among the outcomes worth ≥ its reservation value to the counterpart

    def as_dict(self) -> dict:
        from dataclasses import asdict

        d = asdict(self)
        d["concession"] = asdict(self.concession)
        d["concession"]["steps"] = list(self.concession.steps)
        d["nash_utilities"] = list(self.nash_utilities) if self.nash_utilities else None
        d["issues_added"] = list(self.issues_added)
        d["trace"] = [dict(t) for t in self.trace]
        return d


def deal_quality(r: Result) -> float:
    """The deal's quality, 0–100 (ours): half how much of the room the company had it took, half the joint gain.

    deal:    100 × (½ · clip((own − r_own) / (max_own − r_own), 0, 1) + ½ · clip(joint_gain_ratio, 0, 1)),
             max_own = the company's best utility among outcomes the counterpart could accept;
    no deal: 0 when a deal both sides could accept existed, 100 when none did (walking away was right).
    """
    if not r.deal:
        return 0.0 if r.max_joint_gain > 1e-9 else 100.0
    room = r.max_own_utility - r.own_reservation
    own = min(1.0, max(0.0, (r.own_utility - r.own_reservation) / room)) if room > 1e-9 else 0.0
    return round(100.0 * (0.5 * own + 0.5 * min(1.0, max(0.0, r.joint_gain_ratio))), 4)

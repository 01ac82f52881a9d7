"""The counterpart agent: a time-dependent negotiator with a frequency model of the trainee.

    target(t) = u_hi − (u_hi − r) · t^(1/e)          t = k / (rounds − 1) for its k-th bid

u_hi is its opening level (the anchor, lowered by the trainee's pressure tactics, never below r),
r its reservation value, e its concession exponent: e < 1 Boulware (holds out, concedes late),
e = 1 linear, e > 1 Conceder (concedes early). It bids the outcome within `bid_band` above the
target that its model of the trainee likes best (so its concessions are aimed where they cost it
least and please the trainee most), accepts an offer worth at least its own next bid (AC_next;
at the deadline: at least r), never accepts or bids below r, and walks away when the deadline
passes without such an offer, or — rarely — earlier, when irritated.

All randomness is drawn up front from the generator it is given (`draw_profile`, then
`draw_luck`) and keyed by situation, so the same seed gives the same counterpart whatever the
trainee does, and a rollout with other choices meets the same luck.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from simulator.negotiation.params import TacticParams
from simulator.negotiation.spec import NegotiationSpec, NumericIssue
from simulator.negotiation.utility import LinearUtility, Outcome, OutcomeSpace, counterpart_utility, draw_weights, value_table


def target_utility(t: float, u_hi: float, reservation: float, exponent: float) -> float:
    """u(t) = u_hi − (u_hi − reservation) · t^(1/e), t clipped to 0..1."""
    t = min(1.0, max(0.0, t))
    return u_hi - (u_hi - reservation) * t ** (1.0 / exponent)


@dataclass(frozen=True)
class Profile:
    """One counterpart, drawn from the spec's distributions."""

    weights: tuple[float, ...]
    reservation: float
    exponent: float
    anchor: float


@dataclass(frozen=True)
class Luck:
    """Play-time randomness drawn up front, one number per situation (common random numbers)."""

    walk: tuple[float, ...]  # uniform for the walk-away check after the trainee's offer at bid k
    nibble: float  # uniform for the follow-on demand after the first demand is accepted
    ask: tuple[tuple[float, ...], ...]  # standard normals: [issue][n-th ask]


def draw_profile(spec: NegotiationSpec, rng: np.random.Generator) -> Profile:
    """Weights ~ Dirichlet(alpha); reservation ~ U(lo, hi); e log-uniform on (lo, hi). Fixed draw order."""
    c = spec.counterpart
    weights = draw_weights(c.weight_alpha, rng)
    lo, hi = c.reservation
    reservation = lo + (hi - lo) * float(rng.random())
    elo, ehi = c.concession
    exponent = math.exp(math.log(elo) + (math.log(ehi) - math.log(elo)) * float(rng.random()))
    return Profile(tuple(float(w) for w in weights), float(reservation), float(exponent), float(c.anchor))


def draw_luck(spec: NegotiationSpec, rng: np.random.Generator) -> Luck:
    walk = rng.random(spec.rounds + 1)
    nibble = float(rng.random())
    ask = rng.standard_normal((len(spec.issues), spec.params.asks_per_issue))
    return Luck(tuple(float(x) for x in walk), nibble, tuple(tuple(float(x) for x in row) for row in ask))


@dataclass
class Perception:
    """How the counterpart read one offer of the trainee."""

    utility: float  # the offer's worth to the counterpart
    step: float  # what the trainee conceded since its previous offer, by the counterpart's model of it
    stubborn: bool
    reaction: str  # "none" | "push_on" | "limit_signal"
    deadlock_started: bool


@dataclass
class Counterpart:
    spec: NegotiationSpec
    profile: Profile
    luck: Luck
    trainee_tables: tuple[np.ndarray, ...]  # the company's value functions (public)
    utility: LinearUtility = field(init=False)
    pressure: float = 0.0
    e_mult: float = 1.0
    irritation: int = 0
    openness: int = 0
    bonus: float = 0.0  # lowers the next acceptance threshold (summary, empathy); reset after use
    deadlock: bool = False
    stubborn_run: int = 0
    locked: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.utility = counterpart_utility(self.spec, self.profile.weights)
        self.params: TacticParams = self.spec.params
        n = len(self.spec.issues)
        # fixed-pie bias: it first assumes the trainee cares about what it cares about
        self.counts = 1.0 + self.params.mirror_prior * n * np.asarray(self.profile.weights)
        self.offers: list[Outcome] = []
        self.offer_utils: list[float] = []
        self.prev_step: float | None = None
        self.bids: list[Outcome] = []
        self.their_tables = self.utility.tables
        self._in_play: tuple[bool, ...] = tuple(i.in_play for i in self.spec.issues)

    def set_in_play(self, in_play: tuple[bool, ...]) -> None:
        self._in_play = in_play

    # ---------------------------------------------------------------- its curve

    @property
    def reservation(self) -> float:
        return self.profile.reservation

    @property
    def u_hi(self) -> float:
        return max(self.reservation, self.profile.anchor - self.pressure)

    @property
    def exponent(self) -> float:
        return min(50.0, max(0.02, self.profile.exponent * self.e_mult))

    def target(self, k: int) -> float:
        return target_utility(k / (self.spec.rounds - 1), self.u_hi, self.reservation, self.exponent)

    def add_pressure(self, amount: float) -> None:
        self.pressure = min(self.params.max_pressure, self.pressure + amount)

    def irritate(self, points: int = 1) -> None:
        self.irritation = max(0, min(self.params.max_irritation, self.irritation + points))

    # ---------------------------------------------------------------- its model of the trainee

    def model(self) -> LinearUtility:
        """Estimated trainee utility: frequency weights (issues the trainee keeps fixed matter to it)."""
        return LinearUtility(self.counts / self.counts.sum(), self.trainee_tables)

    # ---------------------------------------------------------------- bidding

    def choose_bid(self, space: OutcomeSpace, tau: float) -> Outcome:
        """The outcome worth ≥ tau to it (within the band) that its model of the trainee likes best."""
        theirs = space.theirs
        ok = theirs >= tau - 1e-12
        if not ok.any():  # tau above what the space allows: its best outcome
            ok = theirs >= theirs.max() - 1e-12
        if self.locked:  # confirmed items stay as agreed while any bid at its target allows it
            keep = ok.copy()
            for i, v in self.locked.items():
                keep &= space.idx[:, i] == v
            if keep.any():
                ok = keep
        lowest = theirs[ok].min()
        cand = ok & (theirs <= max(tau, lowest) + self.params.bid_band + 1e-12)
        est = self.model().batch(space.idx)
        score = np.where(cand, est + 1e-6 * theirs, -np.inf)
        bid = space.outcome(int(np.argmax(score)))
        # the trainee's best earlier offer, if it already meets the target, is the better bid
        if self.offers:
            best = int(np.argmax(self.offer_utils))
            if self.offer_utils[best] >= tau - 1e-12 and self.offer_utils[best] > self.utility(bid) - self.params.bid_band:
                candidate = self.offers[best]
                if space.row(candidate) is not None:
                    bid = candidate
        return bid

    def push(self, outcome: Outcome, steps: int) -> tuple[Outcome, int] | None:
        """`outcome` moved `steps` grid steps its way on its most valued issue that still has room.

        Used for the good cop's request and for the follow-on demand. Returns (new outcome, issue
        index), or None when every issue in play is already at its best.
        """
        order = np.argsort(-np.asarray(self.profile.weights), kind="stable")
        for i in order:
            i = int(i)
            if not self._in_play[i]:
                continue
            table = self.their_tables[i]
            k = outcome[i]
            better = [j for j in range(len(table)) if table[j] > table[k] + 1e-12]
            if not better:
                continue
            issue = self.spec.issues[i]
            if isinstance(issue, NumericIssue):
                direction = 1 if issue.their_direction == "high" else -1
                j = min(len(table) - 1, max(0, k + direction * steps))
            else:
                j = max(better, key=lambda b: (table[b], -b))
            moved = list(outcome)
            moved[i] = j
            return tuple(moved), i
        return None

    # ---------------------------------------------------------------- reading the trainee's offers

    def perceive(self, outcome: Outcome, package: bool) -> Perception:
        """Read one offer: does it give it anything (else: stubborn), and how big a concession was it?

        The size of a concession is what the trainee gave up by its model of the trainee's utility,
        the gain for itself decides stubbornness.
        """
        p = self.params
        u = self.utility(outcome)
        first = not self.offers
        best_before = max(self.offer_utils) if self.offer_utils else -1.0
        stubborn = (not first) and u <= best_before + p.stubborn_eps
        reaction = "none"
        deadlock_started = False
        if stubborn:
            self.stubborn_run += 1
            self.irritate()
            if self.stubborn_run >= p.deadlock_after and not self.deadlock:
                self.deadlock = True
                deadlock_started = True
        else:
            self.stubborn_run = 0
        step = 0.0
        if not first:
            model = self.model()
            step = model(self.offers[-1]) - model(outcome)  # what the trainee gave up, as it sees it
        if step > 1e-9:
            if self.prev_step is None:
                if step >= p.large_first:
                    self.e_mult *= p.push_on_factor
                    reaction = "push_on"
            elif step >= p.large_step and step >= p.equal_ratio * self.prev_step:
                self.e_mult *= p.push_on_factor
                reaction = "push_on"
            elif step < 0.5 * self.prev_step:
                self.e_mult *= p.limit_signal_factor
                reaction = "limit_signal"
            self.prev_step = step
        if self.offers:
            last = self.offers[-1]
            inc = p.package_learning if package else p.model_learning
            for i, (a, b) in enumerate(zip(outcome, last)):
                if a == b and self._in_play[i]:
                    self.counts[i] += inc
        self.offers.append(outcome)
        self.offer_utils.append(u)
        return Perception(u, step, stubborn, reaction, deadlock_started)

    def accepts(self, outcome: Outcome, tau_next: float | None) -> bool:
        """AC_next: accept when the offer is worth at least its own next bid; at the deadline, at least r."""
        threshold = self.reservation if tau_next is None else max(self.reservation, tau_next - self.bonus)
        self.bonus = 0.0
        return self.utility(outcome) >= threshold - 1e-12

    def walks_after(self, k: int) -> bool:
        """Walk away after rejecting the trainee's offer at bid k (irritation only; never when calm)."""
        hazard = self.params.walk_hazard * self.irritation
        return hazard > 0 and self.luck.walk[k] < hazard

    def reading(self, issue_index: int, nth: int) -> float:
        """A noisy reading of its weight on an issue (what it lets slip when asked)."""
        sd = self.params.ask_noise / (1 + self.openness)
        value = self.profile.weights[issue_index] + sd * self.luck.ask[issue_index][nth]
        return float(min(1.0, max(0.0, value)))


def make_counterpart(spec: NegotiationSpec, rng: np.random.Generator) -> Counterpart:
    """Draw a counterpart (profile first, then the play-time luck) from the counterpart stream."""
    profile = draw_profile(spec, rng)
    luck = draw_luck(spec, rng)
    tables = tuple(value_table(i, "company") for i in spec.issues)
    return Counterpart(spec, profile, luck, tables)

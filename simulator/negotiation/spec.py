"""What a negotiation is made of, as plain frozen data: issues, the company's utility, the counterpart.

These are the core's own types. The scenario schema (simulator/schema.py) validates what an instructor writes
and converts it to a `NegotiationSpec`; tests build specs directly. `SpecError` is raised for a spec
that cannot be played (the loader turns it into a diagnostic with a place).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, Union

from simulator.negotiation.params import DEFAULT_PARAMS, TacticParams

Direction = Literal["high", "low"]
MAX_GRID = 21  # points per numeric issue: keeps the outcome space small enough to enumerate
MAX_OUTCOMES = 50_000


class SpecError(ValueError):
    """A negotiation spec that cannot be played; `hint` says how to fix it."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class NumericIssue:
    """A number negotiated on a grid lo, lo+step, …, hi (e.g. rebate 1–4 % in steps of 0.5)."""

    id: str
    lo: float
    hi: float
    step: float
    company_prefers: Direction
    counterpart_prefers: Direction | None = None  # None: the opposite of the company (a distributive issue)
    unit: str = ""
    in_play: bool = True  # False: fixed at `default` until someone adds it to the table (break deadlock)
    default: float | None = None  # the status quo while not in play; None = the company's preferred end

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lo) and math.isfinite(self.hi) and math.isfinite(self.step)):
            raise SpecError(f"issue '{self.id}': lo, hi and step must be finite numbers")
        if self.hi <= self.lo or self.step <= 0:
            raise SpecError(f"issue '{self.id}': needs lo < hi and step > 0", "e.g. lo = 1, hi = 4, step = 0.5")
        n = (self.hi - self.lo) / self.step
        if not math.isfinite(n) or n > 1e6:
            raise SpecError(f"issue '{self.id}': {n:g} grid points, at most {MAX_GRID}", "use a larger step or a narrower range")
        if abs(n - round(n)) > 1e-6:
            raise SpecError(f"issue '{self.id}': the range {self.lo:g}–{self.hi:g} is {n:g} steps of {self.step:g}, not a whole number", "pick a step that divides the range")
        if round(n) + 1 > MAX_GRID:
            raise SpecError(f"issue '{self.id}': {round(n) + 1} grid points, at most {MAX_GRID}", "use a larger step")
        if self.default is not None and not (self.lo - 1e-9 <= self.default <= self.hi + 1e-9):
            raise SpecError(f"issue '{self.id}': default {self.default:g} is outside {self.lo:g}–{self.hi:g}")

    @property
    def grid(self) -> tuple[float, ...]:
        n = round((self.hi - self.lo) / self.step)
        return tuple(round(self.lo + k * self.step, 10) for k in range(n + 1))

    @property
    def their_direction(self) -> Direction:
        if self.counterpart_prefers is not None:
            return self.counterpart_prefers
        return "low" if self.company_prefers == "high" else "high"

    def default_index(self) -> int:
        grid = self.grid
        if self.default is None:
            return len(grid) - 1 if self.company_prefers == "high" else 0
        return min(range(len(grid)), key=lambda k: abs(grid[k] - self.default))


@dataclass(frozen=True)
class OptionIssue:
    """A choice among named options (e.g. marketing support: none / POS material / co-funded promoter)."""

    id: str
    options: tuple[str, ...]
    company_values: tuple[float, ...]  # 0..1 per option: how good it is for the company
    counterpart_values: tuple[float, ...]  # 0..1 per option: how good it is for the counterpart (public)
    in_play: bool = True
    default: str | None = None  # None = the option best for the company

    def __post_init__(self) -> None:
        if len(self.options) < 2:
            raise SpecError(f"issue '{self.id}': needs at least two options")
        if len(set(self.options)) != len(self.options):
            raise SpecError(f"issue '{self.id}': option names repeat")
        if len(self.options) > MAX_GRID:
            raise SpecError(f"issue '{self.id}': at most {MAX_GRID} options")
        for name, values in (("company_values", self.company_values), ("counterpart_values", self.counterpart_values)):
            if len(values) != len(self.options):
                raise SpecError(f"issue '{self.id}': {name} needs one value per option ({len(self.options)})")
            if any(not (0.0 <= v <= 1.0) for v in values):
                raise SpecError(f"issue '{self.id}': {name} must lie in 0..1")
        if self.default is not None and self.default not in self.options:
            raise SpecError(f"issue '{self.id}': default '{self.default}' is not one of its options")

    @property
    def grid(self) -> tuple[str, ...]:
        return self.options

    def default_index(self) -> int:
        if self.default is not None:
            return self.options.index(self.default)
        return max(range(len(self.options)), key=lambda k: self.company_values[k])


Issue = Union[NumericIssue, OptionIssue]


@dataclass(frozen=True)
class CounterpartSpec:
    """The counterpart's hidden parameters as distributions; one seed draws one counterpart.

    weight_alpha   Dirichlet concentration per issue (same order as the issues); larger = less spread
    reservation    (lo, hi): its reservation value, drawn uniformly, on its 0..1 utility scale
    concession     (lo, hi): the concession exponent e, drawn log-uniformly. e < 1 Boulware (holds out),
                   e = 1 linear, e > 1 Conceder (gives early)
    anchor         its opening demand's utility (how extreme the first demand is)
    good_cop_bad_cop  whether it plays good cop / bad cop, at the first bid with t ≥ good_cop_at
    """

    weight_alpha: tuple[float, ...]
    reservation: tuple[float, float] = (0.3, 0.45)
    concession: tuple[float, float] = (0.5, 2.0)
    anchor: float = 0.95
    good_cop_bad_cop: bool = False
    good_cop_at: float = 0.5

    def __post_init__(self) -> None:
        if any(not (a > 0 and math.isfinite(a)) for a in self.weight_alpha):
            raise SpecError("counterpart weight_alpha values must be positive numbers")
        lo, hi = self.reservation
        if not (0.0 <= lo <= hi < 1.0):
            raise SpecError("counterpart reservation must be (lo, hi) with 0 ≤ lo ≤ hi < 1")
        elo, ehi = self.concession
        if not (0.01 <= elo <= ehi <= 100):
            raise SpecError("counterpart concession exponent must be (lo, hi) with 0.01 ≤ lo ≤ hi ≤ 100")
        if not (hi < self.anchor <= 1.0):
            raise SpecError("counterpart anchor must lie above its highest reservation value and ≤ 1")
        if not (0.0 <= self.good_cop_at <= 1.0):
            raise SpecError("good_cop_at must lie in 0..1 (a share of the rounds)")


@dataclass(frozen=True)
class NegotiationSpec:
    issues: tuple[Issue, ...]
    company_weights: tuple[float, ...]  # same order as issues; normalised to sum 1
    company_reservation: float  # the company's walk-away utility (its BATNA), 0..1
    counterpart: CounterpartSpec
    rounds: int = 8  # counterpart bids, its opening included; after its last bid the trainee has one last answer
    params: TacticParams = field(default=DEFAULT_PARAMS)
    moves: tuple[str, ...] | None = None  # the trainee's allowed move kinds (None: all of them)

    def __post_init__(self) -> None:
        ids = [i.id for i in self.issues]
        if not ids:
            raise SpecError("a negotiation needs at least one issue")
        if len(set(ids)) != len(ids):
            raise SpecError("issue ids repeat")
        if not any(i.in_play for i in self.issues):
            raise SpecError("at least one issue must be in play at the start")
        n = len(ids)
        if len(self.company_weights) != n or len(self.counterpart.weight_alpha) != n:
            raise SpecError(f"company_weights and weight_alpha need one value per issue ({n})")
        if any(w < 0 or not math.isfinite(w) for w in self.company_weights) or sum(self.company_weights) <= 0:
            raise SpecError("company_weights must be ≥ 0 and not all 0")
        if not (0.0 <= self.company_reservation < 1.0):
            raise SpecError("company_reservation must lie in 0..1")
        if not (2 <= self.rounds <= 30):
            raise SpecError("rounds must lie in 2..30")
        if self.moves is not None and not set(self.moves) & {"offer", "package", "accept", "walk_away"}:
            raise SpecError("the trainee's moves must include at least one of offer, package, accept, walk_away", "otherwise the negotiation can never end")
        size = 1
        for issue in self.issues:
            size *= len(issue.grid)
        if size > MAX_OUTCOMES:
            raise SpecError(f"{size} possible outcomes, at most {MAX_OUTCOMES}", "use coarser steps or fewer issues")

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.issues)

    def issue(self, issue_id: str) -> Issue:
        for i in self.issues:
            if i.id == issue_id:
                return i
        raise KeyError(issue_id)

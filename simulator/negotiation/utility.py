"""Linear additive utility over the issues, and the discretised outcome space.

An outcome is a tuple of grid indices, one per issue (every issue, in play or not: an issue not in
play sits at its default). Each side values issue i's grid point k at v_i[k] in 0..1 (numeric
issues: normalised position on the range in the side's preferred direction; option issues: the
values given per option), and weighs issues by w (sum 1):

    U(o) = Σ_i w_i · v_i[o_i]        so U ranges over 0..1 (1 = every issue at that side's best)

The company's weights are known to the trainee; the counterpart's are drawn from a seeded
Dirichlet and hidden. Value functions (directions, option values) are public.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from simulator.negotiation.spec import Issue, NegotiationSpec, NumericIssue

Outcome = tuple[int, ...]
Value = float | str


class OfferError(ValueError):
    """An offer that names an unknown issue, an unknown option or a value outside the range."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint


def value_table(issue: Issue, side: str) -> np.ndarray:
    """v[k] for each grid point k of `issue`, for side 'company' or 'counterpart'."""
    if isinstance(issue, NumericIssue):
        n = len(issue.grid)
        up = np.linspace(0.0, 1.0, n)
        direction = issue.company_prefers if side == "company" else issue.their_direction
        return up if direction == "high" else up[::-1].copy()
    values = issue.company_values if side == "company" else issue.counterpart_values
    return np.asarray(values, dtype=float)


def normalised(weights) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return w / w.sum()


@dataclass(frozen=True, eq=False)
class LinearUtility:
    """U(o) = Σ w_i v_i[o_i]; `batch` evaluates many outcomes (an (N, n) index array) at once."""

    weights: np.ndarray
    tables: tuple[np.ndarray, ...]

    def __call__(self, outcome: Outcome) -> float:
        return float(sum(w * t[k] for w, t, k in zip(self.weights, self.tables, outcome)))

    def batch(self, idx: np.ndarray) -> np.ndarray:
        total = np.zeros(idx.shape[0])
        for i, (w, t) in enumerate(zip(self.weights, self.tables)):
            total += w * t[idx[:, i]]
        return total

    def with_weights(self, weights) -> "LinearUtility":
        return LinearUtility(normalised(weights), self.tables)


def company_utility(spec: NegotiationSpec) -> LinearUtility:
    return LinearUtility(normalised(spec.company_weights), tuple(value_table(i, "company") for i in spec.issues))


def counterpart_utility(spec: NegotiationSpec, weights) -> LinearUtility:
    return LinearUtility(normalised(weights), tuple(value_table(i, "counterpart") for i in spec.issues))


def draw_weights(alpha, rng: np.random.Generator) -> np.ndarray:
    """Hidden issue weights from a Dirichlet(alpha): one draw from the counterpart's stream."""
    return rng.dirichlet(np.asarray(alpha, dtype=float))


class Domain:
    """The issues' grids: turns offers {issue: value} into outcomes and back, and enumerates outcomes."""

    def __init__(self, spec: NegotiationSpec):
        self.spec = spec
        self.issues = spec.issues
        self.ids = spec.ids
        self.sizes = tuple(len(i.grid) for i in spec.issues)
        self.defaults: Outcome = tuple(i.default_index() for i in spec.issues)

    def index_of(self, issue_id: str) -> int:
        try:
            return self.ids.index(issue_id)
        except ValueError:
            raise OfferError(f"unknown issue '{issue_id}'", f"issues: {', '.join(self.ids)}") from None

    def encode(self, values: Mapping[str, Value], base: Outcome, in_play: tuple[bool, ...]) -> Outcome:
        """An offer as an outcome: values given per issue, the rest taken from `base`.

        Numbers snap to the nearest grid point; a number outside the range or an unknown option is
        an error, and so is a value for an issue that is not in play.
        """
        out = list(base)
        for issue_id, value in values.items():
            i = self.index_of(issue_id)
            issue = self.issues[i]
            if not in_play[i]:
                raise OfferError(f"issue '{issue_id}' is not on the table yet", "add it first (break the deadlock by adding an issue)")
            if isinstance(issue, NumericIssue):
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise OfferError(f"issue '{issue_id}' takes a number, not {value!r}", f"a number from {issue.lo:g} to {issue.hi:g}")
                if not (issue.lo - 1e-9 <= float(value) <= issue.hi + 1e-9):
                    raise OfferError(f"{issue_id} = {value:g} is outside {issue.lo:g}–{issue.hi:g}", f"a number from {issue.lo:g} to {issue.hi:g}")
                grid = issue.grid
                out[i] = min(range(len(grid)), key=lambda k: (abs(grid[k] - float(value)), k))
            else:
                if value not in issue.options:
                    raise OfferError(f"'{value}' is not an option of {issue_id}", f"options: {', '.join(issue.options)}")
                out[i] = issue.options.index(value)
        return tuple(out)

    def decode(self, outcome: Outcome) -> dict[str, Value]:
        return {issue.id: issue.grid[k] for issue, k in zip(self.issues, outcome)}

    def enumerate(self, in_play: tuple[bool, ...]) -> np.ndarray:
        """All outcomes over the issues in play (the others at their defaults), as an (N, n) int array."""
        axes = [np.arange(s) if p else np.array([d]) for s, p, d in zip(self.sizes, in_play, self.defaults)]
        mesh = np.meshgrid(*axes, indexing="ij")
        return np.stack([m.ravel() for m in mesh], axis=1).astype(np.int64)


@dataclass(eq=False)
class OutcomeSpace:
    """The outcomes over the issues in play, with both sides' utilities precomputed."""

    idx: np.ndarray  # (N, n)
    own: np.ndarray  # company utility per outcome
    theirs: np.ndarray  # counterpart utility per outcome

    @classmethod
    def build(cls, domain: Domain, in_play: tuple[bool, ...], own: LinearUtility, theirs: LinearUtility) -> "OutcomeSpace":
        idx = domain.enumerate(in_play)
        return cls(idx, own.batch(idx), theirs.batch(idx))

    @cached_property
    def _row(self) -> dict[Outcome, int]:
        return {tuple(int(v) for v in row): r for r, row in enumerate(self.idx)}

    def outcome(self, row: int) -> Outcome:
        return tuple(int(v) for v in self.idx[row])

    def row(self, outcome: Outcome) -> int | None:
        return self._row.get(outcome)

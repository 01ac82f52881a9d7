"""Headless trainees for negotiation steps: `policy(view) -> Move`.

    course   follows the course: listens, says no to the first demand, acts reluctant, asks about
             each issue before proposing, names good cop / bad cop, breaks deadlocks by adding an
             issue, restates agreed points, makes packages that give on what it values little and
             they value much, concedes in shrinking steps, empathises and summarises the benefits
             before closing, and accepts a bid worth at least its own next offer.
    greedy   the naïve trainee: takes any proposal at or above the company's reservation value (the
             first demand included) and otherwise concedes in big equal steps, without asking.
    random   any allowed move with random parameters (path exploration).

A policy sees only the `View` (what a trainee sees), never the counterpart's hidden state. Its
randomness, if any, comes from the generator it is given.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from simulator.negotiation.protocol import Move, View

Policy = Callable[[View], Move]
POLICIES = ("course", "greedy", "random")


class _Planner:
    """Shared arithmetic: the outcome space over the issues in play, own and estimated-their utility."""

    def __init__(self) -> None:
        self._cache: dict[tuple[bool, ...], tuple[np.ndarray, np.ndarray]] = {}

    def space(self, view: View) -> tuple[np.ndarray, np.ndarray]:
        if view.in_play not in self._cache:
            idx = view.domain.enumerate(view.in_play)
            self._cache[view.in_play] = (idx, view.own.batch(idx))
        return self._cache[view.in_play]

    @staticmethod
    def their_weights(view: View, use_readings: bool) -> np.ndarray:
        """Estimated counterpart weights: the mean reading per asked issue; the rest shared equally."""
        n = len(view.spec.issues)
        if not use_readings or not view.readings:
            return np.full(n, 1.0 / n)
        w = np.full(n, np.nan)
        for issue_id, readings in view.readings.items():
            w[view.domain.index_of(issue_id)] = float(np.mean(readings))
        unknown = np.isnan(w)
        if unknown.any():
            rest = max(0.05 * unknown.sum(), 1.0 - np.nansum(w))
            w[unknown] = rest / unknown.sum()
        w = np.clip(w, 1e-3, None)
        return w / w.sum()

    def offer(self, view: View, target: float, use_readings: bool, band: float = 0.04, below: tuple[int, ...] | None = None) -> tuple[int, ...]:
        """The outcome worth ≥ target to the company that the estimated counterpart likes best.

        With `below` (the previous offer) it concedes without taking anything back: only outcomes
        at least as good for the counterpart on every issue and worth less to the company. When no
        such outcome reaches the target it makes the smallest such concession; when there is none
        at all (it is at its floor) it repeats the previous offer.
        """
        idx, own = self.space(view)
        w = self.their_weights(view, use_readings)
        est = np.zeros(idx.shape[0])
        for i, table in enumerate(view.their_tables):
            est += w[i] * table[idx[:, i]]
        if below is None:
            ok = own >= target - 1e-9
            if not ok.any():
                ok = own >= own.max() - 1e-9
            lowest = own[ok].min()
            cand = ok & (own <= max(target, lowest) + band)
            return self._best(idx, cand, est, own)
        floor = view.spec.company_reservation
        prev_own = view.own(below)
        monotone = np.ones(idx.shape[0], dtype=bool)
        for i, table in enumerate(view.their_tables):
            monotone &= table[idx[:, i]] >= table[below[i]] - 1e-12
        moves = monotone & (own < prev_own - 1e-9) & (own >= floor - 1e-9)
        if not moves.any():
            return below
        reach = moves & (own >= target - 1e-9)
        if reach.any():
            lowest = own[reach].min()
            return self._best(idx, reach & (own <= max(target, lowest) + band), est, own)
        smallest = own[moves].max()
        return self._best(idx, moves & (own >= smallest - 1e-9), est, own)

    @staticmethod
    def _best(idx: np.ndarray, cand: np.ndarray, est: np.ndarray, own: np.ndarray) -> tuple[int, ...]:
        row = int(np.argmax(np.where(cand, est + 1e-6 * own, -np.inf)))
        return tuple(int(v) for v in idx[row])

    @staticmethod
    def values(view: View, outcome: tuple[int, ...]) -> dict:
        decoded = view.domain.decode(outcome)
        return {issue.id: decoded[issue.id] for issue, p in zip(view.spec.issues, view.in_play) if p}


def _allowed_offer(kind: str, can: set[str]) -> str:
    """`kind` if the scenario allows it, else the other way of making an offer (a step may allow only one)."""
    if kind in can:
        return kind
    other = "offer" if kind == "package" else "package"
    return other if other in can else kind


class CoursePolicy:
    """The course's way, with switches so tests can take one habit away at a time."""

    def __init__(
        self,
        *,
        ask: bool = True,
        listen: bool = True,
        say_no: bool = True,
        reluctant: bool = True,
        restate: bool = True,
        summarise: bool = True,
        empathise: bool = True,
        name_tactic: bool = True,
        break_deadlock: bool = True,
        packages: bool = True,
        explore: bool = True,
        final_offer: bool = True,
        accept_first: bool = False,
        open_at: float = 0.92,
        first_step: float = 0.12,
        taper: float = 0.55,
        equal_step: float | None = None,  # set: concede this much every offer instead of shrinking steps
        floor_margin: float = 0.02,
    ):
        self.ask, self.listen, self.say_no, self.reluctant = ask, listen, say_no, reluctant
        self.restate, self.summarise, self.empathise = restate, summarise, empathise
        self.name_tactic, self.break_deadlock, self.packages = name_tactic, break_deadlock, packages
        self.explore, self.final_offer = explore, final_offer
        self.accept_first = accept_first
        self.open_at, self.first_step, self.taper, self.equal_step = open_at, first_step, taper, equal_step
        self.floor_margin = floor_margin
        self.plan = _Planner()

    def target(self, view: View, j: int) -> float:
        """Own utility aimed at with the j-th offer (0-based)."""
        if self.equal_step is not None:
            t = self.open_at - self.equal_step * j
        else:
            t = self.open_at - self.first_step * (1 - self.taper**j) / (1 - self.taper)
        return max(t, view.spec.company_reservation + self.floor_margin)

    def __call__(self, view: View) -> Move:
        can = set(view.available)
        this_round = view.moves_this_round
        r_own = view.spec.company_reservation
        if self.accept_first and view.standing_is_first and not view.my_offers:
            return Move("accept")
        if not view.my_offers:
            if self.say_no and "say_no" in can and view.standing_is_first and "say_no" not in view.my_moves:
                return Move("say_no")
            if self.listen and "listen" in can and "listen" not in view.my_moves:
                return Move("listen")
            if self.ask and "ask" in can:
                for issue in view.spec.issues:
                    if issue.id not in view.readings:
                        return Move("ask", issue=issue.id)
            if self.explore and "break_deadlock" in can:
                off = [i.id for i, p in zip(view.spec.issues, view.in_play) if not p]
                if off:  # more issues on the table, more room to trade (win-win)
                    return Move("break_deadlock", how="add_issue", issue=off[0])
            if self.reluctant and "reluctant" in can and "reluctant" not in view.my_moves:
                return Move("reluctant")
        if view.good_cop_request and self.name_tactic and "name_tactic" in can:
            return Move("name_tactic")
        if view.deadlock and self.break_deadlock and "break_deadlock" in can:
            off = [i.id for i, p in zip(view.spec.issues, view.in_play) if not p]
            if off:
                if self.ask and "ask" in can and off[0] not in view.readings:
                    return Move("ask", issue=off[0])
                return Move("break_deadlock", how="add_issue", issue=off[0])
            return Move("break_deadlock", how="pause")
        if self.restate and view.my_offers and "restate" in can and "restate" not in this_round:
            last = view.my_offers[-1]
            agreed = {i.id: i.grid[a] for i, p, a, b in zip(view.spec.issues, view.in_play, last, view.standing) if p and a == b}
            if any(view.confirmed.get(k) != v for k, v in agreed.items()):  # something agreed that is not confirmed yet
                return Move("restate")
        target = self.target(view, len(view.my_offers))
        standing = view.standing_own
        if standing >= r_own and (standing >= target - 1e-9 or view.last_round):
            closing = self._closing(view, can)
            return closing or Move("accept")
        if view.last_round and self.final_offer:  # its last answer: a final offer down to the floor beats no deal
            target = view.spec.company_reservation + self.floor_margin
        outcome = self.plan.offer(view, target, use_readings=self.ask, below=view.my_offers[-1] if view.my_offers else None)
        if view.own(outcome) < r_own - 1e-12:  # nothing on the table is worth the company's while
            return Move("walk_away")
        if view.my_offers and standing >= r_own and standing >= view.own(outcome) - 1e-9:  # their bid beats our own next offer
            closing = self._closing(view, can)
            return closing or Move("accept")
        closing_phase = view.round >= view.rounds // 2 or view.own(outcome) - standing <= 0.25
        if closing_phase:
            closing = self._closing(view, can)
            if closing:
                return closing
        # after the first offer every move is conditional: "if you …, then we …"
        kind = "package" if self.packages and view.my_offers else "offer"
        return Move(_allowed_offer(kind, can), values=self.plan.values(view, outcome))

    def _closing(self, view: View, can: set[str]) -> Move | None:
        if self.empathise and "empathise" in can and "empathise" not in view.my_moves:
            return Move("empathise")
        if self.summarise and "summarise" in can and "summarise" not in view.moves_this_round:
            return Move("summarise")
        return None


class GreedyPolicy:
    """The naïve trainee: takes whatever clears the company's reservation value; big equal steps otherwise."""

    def __init__(self, step: float = 0.12):
        self.step = step
        self.plan = _Planner()

    def __call__(self, view: View) -> Move:
        r_own = view.spec.company_reservation
        if view.standing_own >= r_own:
            return Move("accept")
        target = max(r_own, 1.0 - self.step * len(view.my_offers))
        outcome = self.plan.offer(view, target, use_readings=False)
        return Move(_allowed_offer("offer", set(view.available)), values=self.plan.values(view, outcome))


class RandomPolicy:
    """Any allowed move, uniformly, with random parameters."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    def __call__(self, view: View) -> Move:
        kind = view.available[int(self.rng.integers(len(view.available)))]
        if kind in ("offer", "package"):
            values = {}
            for issue, p in zip(view.spec.issues, view.in_play):
                if p:
                    values[issue.id] = issue.grid[int(self.rng.integers(len(issue.grid)))]
            return Move(kind, values=values)
        if kind == "ask":
            limit = view.spec.params.asks_per_issue
            askable = [i.id for i in view.spec.issues if len(view.readings.get(i.id, ())) < limit]
            return Move("ask", issue=askable[int(self.rng.integers(len(askable)))])
        if kind == "break_deadlock":
            off = [i.id for i, p in zip(view.spec.issues, view.in_play) if not p]
            if off and self.rng.random() < 0.5:
                return Move("break_deadlock", how="add_issue", issue=off[int(self.rng.integers(len(off)))])
            return Move("break_deadlock", how="pause")
        return Move(kind)


def make_policy(name: str, rng: np.random.Generator | None = None) -> Policy:
    if name == "course":
        return CoursePolicy()
    if name == "greedy":
        return GreedyPolicy()
    if name == "random":
        if rng is None:
            raise ValueError("the random policy needs a generator (the engine's 'policy' stream)")
        return RandomPolicy(rng)
    raise ValueError(f"unknown negotiation policy '{name}'; policies: {', '.join(POLICIES)}")

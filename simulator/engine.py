"""The deterministic game: `Session(scenario, seed, lang)`, `options()`, `choose(option_id)`.

Pure: no clock, no I/O, no global random state. The same scenario, seed and choices give the same
events, bit for bit. Events are plain JSON-ready dicts (`{"kind": ..., "data": {...}}`) so the
front ends can record them as they are.

Event kinds: start, step, choice, effect, week, route, ending (docs/RECORD.md).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from simulator.diagnostics import Diagnostic, DiagnosticError, did_you_mean
from simulator.loader import LoadedScenario
from simulator.market import Market, MarketState, Noise, NoiseBatch, stream_key
from simulator.schema import (
    MARKET_EFFECT_KINDS,
    BranchStep,
    Choice,
    DecisionStep,
    EndingStep,
    Lang,
    effect_kind,
    effect_params,
    text_in,
)

STREAMS = ("market", "events", "counterpart")
NEVER = 1e9
MAX_PASS_THROUGH = 100  # branch steps chained without a decision; the loader rejects cycles, this is a backstop

Event = dict[str, Any]


def seed_entropy(seed: int | str) -> int:
    """A seed typed by a person (a number or a workshop code) as SeedSequence entropy."""
    if isinstance(seed, int):
        if seed < 0:
            raise DiagnosticError(Diagnostic.make("DS0603", f"seed {seed} is negative", "use a whole number ≥ 0 or a workshop code"))
        return seed
    text = str(seed).strip()
    if text.isdigit():
        return int(text)
    import hashlib

    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


@dataclass(frozen=True)
class Option:
    id: str
    text: str
    number: int  # 1-based, what the trainee presses


class _Context:
    """What conditions can read in rollout `row`: the market's observables, variables and the story so far."""

    def __init__(self, session: "Session", row: int = 0):
        self.session = session
        self.row = row

    def value(self, name: str) -> float | bool:
        if name.startswith("var."):
            return self.session.variables[name[4:]]
        return float(self.session.observe_all()[name][self.row])  # the market is observed only when a condition reads it

    def visited(self, step: str) -> bool:
        return step in self.session.last_entered

    def turns_since(self, step: str) -> float:
        last = self.session.last_entered.get(step)
        return NEVER if last is None else float(self.session.turn - last)

    def chose(self, choice: str) -> bool:
        return choice in self.session.chosen


class Observer(Protocol):
    """Watches a session without the engine knowing what it is (the scorer is one)."""

    def before_choice(self, session: "Session", choice: Choice) -> None: ...
    def on_effect(self, session: "Session", kind: str, params: Any, result: dict[str, Any]) -> None: ...
    def on_choice(self, session: "Session", choice: Choice, options: list[str]) -> None: ...
    def on_week(self, session: "Session", outcome: dict[str, np.ndarray]) -> None: ...
    def on_end(self, session: "Session") -> None: ...
    def drain(self) -> list[Event]: ...
    def fork(self, rollouts: int | None = None) -> "Observer": ...
    def take(self, rows: Sequence[int]) -> "Observer": ...


class Session:
    def __init__(
        self,
        loaded: LoadedScenario,
        seed: int | str = 0,
        lang: Lang = "en",
        *,
        world: int = 0,
        observers: Sequence[Observer] = (),
    ):
        self.loaded = loaded
        self.scenario = loaded.scenario
        self.lang: Lang = lang
        self.seed = seed
        self.entropy = seed_entropy(seed)
        self.market = Market(self.scenario.market)
        self.noise = Noise(self.entropy, self.market.n, world)
        self.state: MarketState = self.market.initial(1)
        self.variables: dict[str, float | bool] = dict(self.scenario.variables)
        self.turn = 0  # decisions taken so far
        self.last_entered: dict[str, int] = {}
        self.chosen: list[str] = []  # "step.choice" in order
        self.notebook: list[str] = []
        self.step_id = ""
        self.ending: EndingStep | None = None
        self.events: list[Event] = []
        self.quiet = False  # forks for the analysis's rollouts record no events
        self._observed: dict[str, np.ndarray] | None = None
        self._options: list[Option] | None = None
        self.split: dict[str, list[int]] | None = None  # a batch whose rollouts took different routes (see take)
        self._emit("start", scenario=self.scenario.id, seed=str(seed), entropy=str(self.entropy), lang=lang)
        self.observers = list(observers)
        self._enter(self.scenario.first_step)
        self._drain()

    # ------------------------------------------------------------ queries

    @property
    def finished(self) -> bool:
        return self.ending is not None

    @property
    def step(self) -> DecisionStep | BranchStep | EndingStep:
        return self.scenario.step(self.step_id)

    def stream_keys(self) -> dict[str, list[int]]:
        return {name: [stream_key(name)] for name in STREAMS}

    def observe(self, row: int = 0) -> dict[str, float | bool]:
        """Every state path a condition can read, as of now, for one rollout."""
        values: dict[str, float | bool] = {name: float(v[row]) for name, v in self.observe_all().items()}
        for name, value in self.variables.items():
            values[f"var.{name}"] = value
        return values

    def observe_all(self) -> dict[str, np.ndarray]:
        """The market's observables for every rollout (cached until the state changes)."""
        if self._observed is None:
            self._observed = self.market.observe_all(self.state)
        return self._observed

    def _changed(self) -> None:
        self._observed = None
        self._options = None

    @property
    def rollouts(self) -> int:
        return self.state.rollouts

    def options(self) -> list[Option]:
        """What the trainee can do now (in a batch: what rollout 0 can do; see `options_at`)."""
        if self._options is None:
            self._options = self.options_at(0)
        return list(self._options)

    def options_at(self, row: int) -> list[Option]:
        step = self.step
        if not isinstance(step, DecisionStep) or self.finished:
            return []
        ctx = _Context(self, row)
        available = [c for c in step.choices if c.when is None or self.loaded.condition(c.when).evaluate(ctx) is True]
        return [Option(c.id, text_in(c.text, self.lang), i + 1) for i, c in enumerate(available)]

    # ------------------------------------------------------------ the one way to change the game

    def choose(self, option_id: str) -> list[Event]:
        if self.finished:
            raise DiagnosticError(
                Diagnostic.make("DS0508", f"the scenario has already ended at '{self.step_id}'", "start a new session to play again")
            )
        options = self.options()
        by_id = {o.id: o for o in options}
        if option_id not in by_id and option_id.isdigit() and 1 <= int(option_id) <= len(options):
            option_id = options[int(option_id) - 1].id
        if option_id not in by_id:
            valid = ", ".join(o.id for o in options)
            raise DiagnosticError(
                Diagnostic.make(
                    "DS0601",
                    f"'{option_id}' is not an option at step '{self.step_id}'{did_you_mean(option_id, by_id)}",
                    f"choose one of: {valid}",
                )
            )
        choice = next(c for c in self.step.choices if c.id == option_id)
        start = len(self.events)
        self.turn += 1
        self.chosen.append(f"{self.step_id}.{choice.id}")
        self._emit(
            "choice",
            step=self.step_id,
            choice=choice.id,
            turn=self.turn,
            text=text_in(choice.text, self.lang),
            reply=text_in(choice.reply, self.lang),
            feedback=text_in(choice.feedback, self.lang),
            principles=dict(choice.principles),
            options=[o.id for o in options],  # what was on offer: the scorer judges against these
        )
        for observer in self.observers:
            observer.before_choice(self, choice)
        for effect in choice.effects:
            self._apply(effect)
        for observer in self.observers:
            observer.on_choice(self, choice, [o.id for o in options])
        self._simulate(choice.then.simulate_weeks)
        self._enter(choice.then.goto)
        self._drain()
        return self.events[start:]

    def _drain(self) -> None:
        """Observers' events (e.g. score items) follow the engine's events of the same choice."""
        for observer in self.observers:
            self.events.extend(observer.drain())

    # ------------------------------------------------------------ internals

    def _emit(self, kind: str, **data: Any) -> None:
        if not self.quiet:
            self.events.append({"kind": kind, "data": data})

    def fork(self, world: int) -> "Session":
        """This session with the same past and another world's luck for the weeks to come (quiet: no events)."""
        return self._copy(self.state.copy(), Noise(self.entropy, self.market.n, world), [o.fork() for o in self.observers])

    def fork_batch(self, worlds: Sequence[int]) -> "Session":
        """A batch of forks, one rollout per world, run together on the market's batch path.

        Row k agrees bit for bit with `fork(worlds[k])` while the rollouts take the same story path;
        where they part (a branch routes them differently), `split` says so and `take` separates them."""
        assert self.rollouts == 1, "fork a single session"
        n = len(worlds)
        return self._copy(self.state.repeat(n), NoiseBatch(self.entropy, self.market.n, worlds), [o.fork(rollouts=n) for o in self.observers])

    def take(self, rows: Sequence[int]) -> "Session":
        """The given rollouts of a batch as a batch of their own."""
        noise = self.noise
        worlds = noise.worlds if isinstance(noise, NoiseBatch) else [noise.world]
        return self._copy(self.state.take(rows), NoiseBatch(self.entropy, self.market.n, [worlds[r] for r in rows]), [o.take(rows) for o in self.observers])

    def _copy(self, state: MarketState, noise, observers: list) -> "Session":
        other = copy.copy(self)
        other.noise = noise
        other.state = state
        other.variables = dict(self.variables)
        other.last_entered = dict(self.last_entered)
        other.chosen = list(self.chosen)
        other.notebook = list(self.notebook)
        other.events = []
        other.quiet = True
        other.observers = observers
        other.split = None
        other._changed()
        return other

    def resume_split(self) -> list["Session"]:
        """After a batch split at a branch: one batch per route, each continued to its next decision or ending."""
        assert self.split is not None
        parts = []
        for goto, rows in self.split.items():
            part = self.take(rows)
            part._enter(goto)
            parts.append(part)
        return parts

    def _apply(self, effect) -> None:
        self._changed()
        kind = effect_kind(effect)
        p = effect_params(effect)
        if kind in MARKET_EFFECT_KINDS:
            # the market carries out every lever (simulator/market.py); the event records what it did
            raw = self.market.apply(self.state, kind, p)
            for observer in self.observers:
                observer.on_effect(self, kind, p, raw)
            result = Market.outcome(raw)
            dealer = {"dealer": p.dealer} if hasattr(p, "dealer") else {}
            self._emit("effect", effect=kind, **dealer, **result)
        elif kind == "set":
            self.variables[p.var] = p.value
            self._emit("effect", effect="set", var=p.var, value=p.value)
        elif kind == "add":
            current = self.variables[p.var]
            self.variables[p.var] = float(current) + p.value
            self._emit("effect", effect="add", var=p.var, value=self.variables[p.var])
        elif kind == "note":
            line = text_in(p, self.lang)
            self.notebook.append(line)
            self._emit("effect", effect="note", text=line)

    def _simulate(self, weeks: int) -> None:
        market, ids = self.market, self.market.ids
        for _ in range(weeks):
            week = self.state.week
            z = self.noise.week(week)
            out = market.advance(self.state, z if z.ndim == 3 else z[None, :, :])
            self._changed()
            for observer in self.observers:
                observer.on_week(self, out)
            if self.quiet:  # the analysis's forks record nothing: skip building the event
                continue
            s = self.state
            cover = market.weeks_of_cover(s)[0]
            dso = market.dso(s)[0]
            warnings = sum(market.warnings(s).values())[0]
            dealers = {}
            for j, dealer in enumerate(ids):
                dealers[dealer] = {
                    "demand": float(out["demand"][0, j]),
                    "sales": float(out["sales"][0, j]),
                    "lost": float(out["lost"][0, j]),
                    "reorder": float(out["reorder"][0, j]),
                    "stock": float(s.stock[0, j]),
                    "weeks_of_cover": float(cover[j]),
                    "price_index": float(s.price_index[0, j]),
                    "trust": float(s.trust[0, j]),
                    "receivables": float(s.receivables[0, j]),
                    "overdue": float(s.due[0, j]),
                    "dso": float(dso[j]),
                    "warnings": int(warnings[j]),
                    "competitor_share": float(s.competitor_share[0, j]),
                    "grey_sales": float(out["grey_sales"][0, j]),
                    "diverted": float(out["diverted"][0, j]),
                }
            diversions = [
                {
                    "from": dealer,
                    "to": ids[int(out["victim"][0, j])],
                    "units": float(out["diverted"][0, j]),
                    "detected": bool(out["detected"][0, j] > 0),
                }
                for j, dealer in enumerate(ids)
                if out["victim"][0, j] >= 0
            ]
            self._emit("week", week=week + 1, dealers=dealers, diversions=diversions)

    def _route(self, step: BranchStep, row: int):
        ctx = _Context(self, row)
        return next(r for r in step.routes if r.when is None or self.loaded.condition(r.when).evaluate(ctx) is True)

    def _enter(self, step_id: str) -> None:
        for _ in range(MAX_PASS_THROUGH):
            self.step_id = step_id
            self._options = None
            self.last_entered[step_id] = self.turn
            step = self.scenario.step(step_id)
            self._emit("step", step=step_id, step_kind=step.kind, title=text_in(step.title, self.lang), text=text_in(step.text, self.lang))
            if isinstance(step, EndingStep):
                self.ending = step
                self._emit("ending", step=step_id, outcome=step.outcome)
                for observer in self.observers:
                    observer.on_end(self)
                return
            if isinstance(step, DecisionStep):
                return
            routes = [self._route(step, row) for row in range(self.rollouts)]
            if any(r is not routes[0] for r in routes):
                self.split = {}
                for row, r in enumerate(routes):
                    self.split.setdefault(r.goto, []).append(row)
                return
            route = routes[0]
            self._emit("route", step=step_id, to=route.goto, when=route.when or "")
            step_id = route.goto
        raise DiagnosticError(
            Diagnostic.make("DS0206", f"branch steps loop without a decision at '{step_id}'", "make one of the routes lead to a decision or an ending")
        )


def play(loaded: LoadedScenario, seed: int | str, choices: list[str], lang: Lang = "en") -> Session:
    """Headless play of a list of choices (the Python API the tests and tools use)."""
    session = Session(loaded, seed, lang)
    for option in choices:
        session.choose(option)
    return session


def choice_of(session: Session, option_id: str) -> Choice:
    return next(c for c in session.step.choices if c.id == option_id)

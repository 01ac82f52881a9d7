"""The deterministic game: `Session(scenario, seed, lang)`, `options()`, `choose(option_id)`.

Pure: no clock, no I/O, no global random state. The same scenario, seed and choices give the same
events, bit for bit. Events are plain JSON-ready dicts (`{"kind": ..., "data": {...}}`) so the
front ends can record them as they are.

Event kinds: start, step, choice, effect, week, route, ending (docs/RECORD.md), and at a negotiation
step nego_bid, nego_move, nego_reply, nego_deadlock, nego_end, nego_result (docs/NEGOTIATION.md).

A negotiation step is played move by move: `options()` lists the trainee's moves (with what a front
end needs to build them in `Option.params`), `choose(move, **params)` plays one — e.g.
`choose("package", values={"rebate": 2.5})`, `choose("ask", issue="rebate")`, or the text form
`choose("package:rebate=2.5;payment_days=45")`. The counterpart is drawn from the "counterpart"
stream, keyed by world, step and visit. When the negotiation ends, its routes are taken like a
branch step's. In a batch of rollouts each row negotiates with its own counterpart; rows whose
negotiations end differently are separated by `split`/`resume_split`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from simulator.diagnostics import Diagnostic, DiagnosticError, did_you_mean
from simulator.loader import LoadedScenario
from simulator.market import Market, MarketState, Noise, NoiseBatch, SeedsNoise, stream_key
from simulator.negotiation.lines import MOVE_LABELS
from simulator.negotiation.protocol import MoveError, Negotiation
from simulator.negotiation.step import (
    ChoiceSyntaxError,
    NegoOutcome,
    ParamError,
    default_value,
    event_extras,
    format_choice,
    move_of,
    move_text,
    option_params,
    outcome_of,
    parse_choice,
)
from simulator.schema import (
    MARKET_EFFECT_KINDS,
    MOVE_KINDS,
    BranchStep,
    Choice,
    DecisionStep,
    EndingStep,
    Lang,
    NegotiationStep,
    effect_kind,
    effect_params,
    text_in,
)

STREAMS = ("market", "events", "counterpart")
NEVER = 1e9
VECTOR_ROWS = 8  # from this many rows, a batch evaluates a condition on the market for all rows at once (numpy's per-call cost)
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
    number: int  # 1-based, what the trainee presses (a negotiation step can have more than 9)
    params: dict[str, Any] | None = None  # negotiation moves only: what the move takes (docs/NEGOTIATION.md#in-a-scenario)


class _Context:
    """What conditions can read in rollout `row`: the market's observables, variables and the story so far."""

    def __init__(self, session: "Session", row: int = 0):
        self.session = session
        self.row = row

    def value(self, name: str) -> float | bool:
        if name.startswith("var."):
            return self.session.variables[name[4:]]
        if name.startswith("nego."):
            return self.session.nego_value(name, self.row)
        return float(self.session.observe_all()[name][self.row])  # the market is observed only when a condition reads it

    def visited(self, step: str) -> bool:
        return step in self.session.last_entered

    def turns_since(self, step: str) -> float:
        last = self.session.last_entered.get(step)
        return NEVER if last is None else float(self.session.turn - last)

    def chose(self, choice: str) -> bool:
        return choice in self.session.chosen


_ROW_FREE: dict[str, bool] = {}


def _row_free(cond) -> bool:
    """A condition that reads no market observable and no negotiation outcome: its value is the same in every row."""
    free = _ROW_FREE.get(cond.source)
    if free is None:
        free = _ROW_FREE[cond.source] = all(name.startswith("var.") for name in cond.names)
    return free


_CMP_OPS = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal, "==": np.equal, "!=": np.not_equal}
_VECTOR_FNS: dict[tuple, Any] = {}


def _vector(cond, session: "Session") -> np.ndarray | None:
    """`cond` in every row of a batch as a bool array, the same values as `cond.evaluate` row by row;
    None for a form this does not cover (arithmetic, negotiation outcomes, …): those go row by row.
    Covered: market observables, variables, chose()/visited()/turns_since(), comparisons, not/and/or —
    where the row-by-row evaluation cannot raise, so the short-circuits of and/or change nothing."""
    key = (cond.source, cond.name_types)  # (a name's type can differ between scenarios)
    fn = _VECTOR_FNS.get(key, False)
    if fn is False:
        fn = _VECTOR_FNS[key] = _vector_fn(cond)
    if fn is None:
        return None
    kind, value = fn(_Context(session), session.observe_all(), session.rollouts)
    if kind != "b":
        return None
    return np.broadcast_to(np.asarray(value, dtype=bool), (session.rollouts,))


def _vector_fn(cond):
    from simulator.expr import syntax_tree  # the compiled form keeps only a closure

    types = dict(cond.name_types)
    try:
        tree = syntax_tree(cond.source)
    except Exception:
        return None

    def gen(node):  # -> fn(ctx, observed, rows) -> ("b" | "n", array or scalar)
        kind = node.kind
        if kind in ("num", "bool"):
            const = ("n", float(node.value)) if kind == "num" else ("b", bool(node.value))
            return lambda ctx, obs, n: const
        if kind == "name":
            path, typ = node.value, types.get(node.value)
            if path.startswith("nego.") or typ not in ("bool", "number"):
                return None
            if path.startswith("var."):
                if typ == "bool":
                    return lambda ctx, obs, n: ("b", bool(ctx.value(path)))
                return lambda ctx, obs, n: ("n", _as_number(ctx.value(path)))

            def read(ctx, obs, n):
                raw = np.asarray(obs[path], dtype=np.float64)  # what float(value[row]) reads
                if raw.shape != (n,):
                    raise _NotVector
                if typ == "bool":
                    return "b", raw != 0.0
                return "n", np.where(np.isfinite(raw), raw, 0.0)

            return read
        if kind == "call" and node.value in ("chose", "visited", "turns_since"):
            arg = node.items[0].value
            if node.value == "chose":
                return lambda ctx, obs, n: ("b", bool(ctx.chose(arg)))
            if node.value == "visited":
                return lambda ctx, obs, n: ("b", bool(ctx.visited(arg)))
            return lambda ctx, obs, n: ("n", _as_number(ctx.turns_since(arg)))
        parts = [gen(item) for item in node.items]
        if any(p is None for p in parts):
            return None
        if kind == "not":
            (f,) = parts

            def not_(ctx, obs, n):
                k, v = f(ctx, obs, n)
                if k != "b":
                    raise _NotVector
                return "b", np.logical_not(v)

            return not_
        if kind in ("and", "or"):
            join = np.logical_and if kind == "and" else np.logical_or

            def both(ctx, obs, n):
                acc = None
                for f in parts:
                    k, v = f(ctx, obs, n)
                    if k != "b":
                        raise _NotVector
                    acc = v if acc is None else join(acc, v)
                return "b", acc

            return both
        if kind == "cmp":
            ops = [_CMP_OPS[op.text] for op in node.ops]

            def compare(ctx, obs, n):
                values = []
                for f in parts:
                    k, v = f(ctx, obs, n)
                    if k != "n":
                        raise _NotVector
                    values.append(v)
                acc = None
                for op, a, b in zip(ops, values, values[1:]):
                    r = op(a, b)
                    acc = r if acc is None else np.logical_and(acc, r)
                return "b", acc

            return compare
        return None

    fn = gen(tree)
    if fn is None:
        return None

    def run(ctx, obs, n):
        try:
            return fn(ctx, obs, n)
        except _NotVector:
            return "?", None

    return run


class _NotVector(Exception):
    pass


def _as_number(v: Any) -> float:
    x = float(v)
    return x if np.isfinite(x) else 0.0


class Observer(Protocol):
    """Watches a session without the engine knowing what it is (the scorer is one)."""

    def before_choice(self, session: "Session", choice: Choice) -> None: ...
    def on_effect(self, session: "Session", kind: str, params: Any, result: dict[str, Any]) -> None: ...
    def on_choice(self, session: "Session", choice: Choice, options: list[str]) -> None: ...
    def on_week(self, session: "Session", outcome: dict[str, np.ndarray]) -> None: ...
    def on_end(self, session: "Session") -> None: ...
    # optional: a negotiation step ended in every row (one outcome per row)
    # def on_negotiation(self, session: "Session", step: NegotiationStep, outcomes: list[NegoOutcome]) -> None: ...
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
        seeds: Sequence[int | str] | None = None,
    ):
        """One session of `seed` (in `world`: 0 is the live game); or, with `seeds`, see `of_seeds`."""
        self.loaded = loaded
        self.scenario = loaded.scenario
        self.lang: Lang = lang
        self.seed = seed
        self.entropy = seed_entropy(seed)
        self.market = Market(self.scenario.market)
        self.noise: Noise | NoiseBatch = Noise(self.entropy, self.market.n, world)
        self.state: MarketState = self.market.initial(1)
        if seeds is not None:
            self.noise = SeedsNoise([seed_entropy(s) for s in seeds], self.market.n)
            self.state = self.market.initial(len(seeds))
        self.variables: dict[str, float | bool] = dict(self.scenario.variables)
        self.turn = 0  # decisions taken so far
        self.last_entered: dict[str, int] = {}
        self.chosen: list[str] = []  # "step.choice" in order
        self.notebook: list[str] = []
        self.step_id = ""
        self.ending: EndingStep | None = None
        self.events: list[Event] = []
        self.quiet = False  # forks for the analysis's rollouts record no events
        self._observed: Mapping[str, np.ndarray] | None = None
        self._options: list[Option] | None = None
        self._row_options: dict[int, tuple[Option, ...]] = {}  # options_at by rollout, until the next change
        self._option_lists: dict[tuple[str, tuple[str, ...]], tuple[Option, ...]] = {}  # see options_at
        self._shared_at = (0, 0)
        self._by_row: dict[str, np.ndarray | None] = {}  # a batch's conditions on the market, one value per row (see _vector)
        self._shared: dict[str, bool] = {}  # conditions that read no row's state (var.*, chose(), …): one value for every row, until the next change
        self._steps = {s.id: s for s in self.scenario.steps}  # (the schema's own index is a pydantic private attribute: slow to read)
        self.split: dict[str, list[int]] | None = None  # a batch whose rollouts took different routes (see take)
        self._split_plan: list[tuple[str, Any, list[int]]] = []  # (action, argument, rows) for resume_split
        self.visits: dict[str, int] = {}  # times each step was entered (keys a negotiation's counterpart)
        self.negs: list[Negotiation] | None = None  # the negotiation in progress, one per rollout
        self.nego_outcomes: dict[str, list[NegoOutcome]] = {}  # finished negotiations: step id -> one outcome per rollout
        self._emit("start", scenario=self.scenario.id, seed=str(seed), entropy=str(self.entropy), lang=lang)
        self.observers = list(observers)
        if seeds is not None:
            self.quiet = True
            self.observers = [o.fork(rollouts=len(seeds)) for o in observers]
        self._enter(self.scenario.first_step)
        self._drain()

    @classmethod
    def of_seeds(cls, loaded: LoadedScenario, seeds: Sequence[int | str], lang: Lang = "en", *, observers: Sequence[Observer] = ()) -> "Session":
        """A quiet batch whose rollout r is the session of `seeds[r]` (world 0: what `play --seed`
        plays), all run together on the market's batch path. Row r agrees bit for bit with
        `Session(loaded, seeds[r])` while the rows take the same story path; where they part,
        `split` says so and `take` separates them. `observers` are single-session observers: the
        batch gets their batch forks."""
        return cls(loaded, seeds[0], lang, observers=observers, seeds=seeds)

    # ------------------------------------------------------------ queries

    @property
    def finished(self) -> bool:
        return self.ending is not None

    @property
    def step(self) -> DecisionStep | BranchStep | EndingStep | NegotiationStep:
        return self._steps[self.step_id]

    @property
    def negotiating(self) -> bool:
        """A negotiation step is in progress (its moves are the options)."""
        return self.negs is not None and not self.finished

    def stream_keys(self) -> dict[str, list[int]]:
        return {name: [stream_key(name)] for name in STREAMS}

    def observe(self, row: int = 0) -> dict[str, float | bool]:
        """Every state path a condition can read, as of now, for one rollout."""
        values: dict[str, float | bool] = {name: float(v[row]) for name, v in self.observe_all().items()}
        for name, value in self.variables.items():
            values[f"var.{name}"] = value
        for name in self.loaded.nego_names:
            values[name] = self.nego_value(name, row)
        return values

    def nego_value(self, name: str, row: int = 0) -> float | bool:
        """A `nego.<step>.*` name: the outcome of that negotiation in rollout `row` (false/0 before it ends)."""
        step_id = name.split(".")[1]
        outcomes = self.nego_outcomes.get(step_id)
        if outcomes is None:
            return default_value(self.loaded.nego_names[name])
        return outcomes[row].values[name]

    def observe_all(self) -> Mapping[str, np.ndarray]:
        """The market's observables for every rollout, each computed when first read and kept until
        the state changes (a condition reads one or two of some hundred)."""
        if self._observed is None:
            self._observed = self.market.observed(self.state)
        return self._observed

    def _changed(self) -> None:
        self._observed = None
        self._options = None
        self._row_options = {}
        self._shared = {}
        self._by_row = {}

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
        if isinstance(step, NegotiationStep):
            if not self.negotiating:
                return []
            neg = self.negs[row]  # type: ignore[index]
            return [
                Option(m, MOVE_LABELS[m][self.lang], i + 1, option_params(step, neg, m, self.lang))
                for i, m in enumerate(neg.available())
            ]
        if not isinstance(step, DecisionStep) or self.finished:
            return []
        cached = self._row_options.get(row)
        if cached is not None:
            return list(cached)
        if self.rollouts >= VECTOR_ROWS and self._fill_row_options(step):
            return list(self._row_options[row])
        ctx = _Context(self, row)
        available = tuple(c.id for c in step.choices if c.when is None or self._holds(c.when, ctx))
        key = (self.step_id, available)
        options = self._option_lists.get(key)
        if options is None:  # Options are immutable: built once per step and set on offer, shared by forks
            texts = {c.id: text_in(c.text, self.lang) for c in step.choices}
            options = self._option_lists[key] = tuple(Option(c, texts[c], i + 1) for i, c in enumerate(available))
        self._row_options[row] = options
        return list(options)

    # ------------------------------------------------------------ the one way to change the game

    def choose(self, option_id: str, **params: Any) -> list[Event]:
        """Take an option (its id, or its number as typed). At a negotiation step: a move, with its
        params as keywords (`values=`, `issue=`, `how=`) or in the text form `package:rebate=2.5`."""
        if self.finished:
            raise DiagnosticError(
                Diagnostic.make("DS0508", f"the scenario has already ended at '{self.step_id}'", "start a new session to play again")
            )
        if self.negotiating:
            return self._negotiate(option_id, params)
        if params:
            raise DiagnosticError(Diagnostic.make("DS0601", f"options at step '{self.step_id}' take no parameters ({', '.join(params)})", "parameters go with the moves of a negotiation step"))
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
        offered = [o.id for o in options]  # what was on offer: the scorer judges against these
        if not self.quiet:  # (a quiet fork's events are dropped: skip building them)
            self._emit(
                "choice",
                step=self.step_id,
                choice=choice.id,
                turn=self.turn,
                text=text_in(choice.text, self.lang),
                reply=text_in(choice.reply, self.lang),
                feedback=text_in(choice.feedback, self.lang),
                principles=dict(choice.principles),
                options=offered,
            )
        for observer in self.observers:
            observer.before_choice(self, choice)
        for effect in choice.effects:
            self._apply(effect)
        for observer in self.observers:
            observer.on_choice(self, choice, list(offered))
        self._simulate(choice.then.simulate_weeks)
        self._enter(choice.then.goto)
        self._drain()
        return self.events[start:]

    # ------------------------------------------------------------ negotiation steps

    def _negotiate(self, text: str, params: dict[str, Any]) -> list[Event]:
        step = self.step
        assert isinstance(step, NegotiationStep) and self.negs is not None
        assert self.split is None, "a split batch goes on through resume_split()"
        options = self.options()
        kind = text.strip()
        if not params and (":" in kind or "=" in kind):
            try:
                kind, params = parse_choice(kind)
            except ChoiceSyntaxError as err:
                raise DiagnosticError(Diagnostic.make("DS0601", f"'{text}': {err}", err.hint)) from None
        by_id = {o.id: o for o in options}
        if kind not in by_id and kind.isdigit() and 1 <= int(kind) <= len(options):
            kind = options[int(kind) - 1].id
        allowed = step.moves or MOVE_KINDS
        if kind not in by_id:
            if kind in allowed:  # a move of this negotiation that is not allowed right now: the core says why
                try:
                    self.negs[0].play(move_of(step, self.negs[0], kind, {})[0])
                except (MoveError, ParamError) as err:
                    raise DiagnosticError(Diagnostic.make("DS0605", f"'{kind}' at step '{self.step_id}': {err}", err.hint)) from None
            raise DiagnosticError(
                Diagnostic.make(
                    "DS0601",
                    f"'{kind}' is not a move at step '{self.step_id}'{did_you_mean(kind, list(by_id) or list(allowed))}",
                    f"moves now: {', '.join(by_id)}",
                )
            )
        try:
            move, recorded = move_of(step, self.negs[0], kind, params)
        except ParamError as err:
            raise DiagnosticError(Diagnostic.make("DS0601", f"{err} (step '{self.step_id}')", err.hint)) from None
        round_ = self.negs[0].k
        try:
            first = self.negs[0].play(move)  # the core checks everything before it changes anything
        except MoveError as err:
            raise DiagnosticError(Diagnostic.make("DS0605", f"'{format_choice(kind, recorded)}' at step '{self.step_id}': {err}", err.hint)) from None
        for neg in self.negs[1:]:
            neg.play(move)
        self._changed()
        start = len(self.events)
        self.turn += 1
        self._emit(
            "choice",
            step=self.step_id,
            choice=kind,
            turn=self.turn,
            text=move_text(step, kind, recorded, self.lang),
            reply="",
            feedback="",
            principles={},
            options=[o.id for o in options],
            params=recorded,
            round=round_,
        )
        self._nego_events(step, first)
        ended = [r for r, neg in enumerate(self.negs) if neg.done]
        if ended and len(ended) < len(self.negs):
            going = [r for r in range(len(self.negs)) if r not in ended]
            self.split = {f"{self.step_id}:negotiating": going, f"{self.step_id}:ended": ended}
            self._split_plan = [("negotiate", None, going), ("conclude", None, ended)]
        elif ended:
            goto = self._conclude(step)
            if goto is not None:
                self._enter(goto)
        self._drain()
        return self.events[start:]

    def _nego_events(self, step: NegotiationStep, events: list[Event]) -> None:
        if self.quiet:
            return
        for e in events:
            data = dict(e["data"])
            data.update(event_extras(step, e["kind"], data, self.lang))
            self._emit(e["kind"], **data)

    def _counterpart_rng(self, world: int, step_id: str, visit: int, entropy: int | None = None) -> np.random.Generator:
        """SeedSequence(entropy, spawn_key=(stream_key("counterpart"), world, step index, visit))."""
        index = [s.id for s in self.scenario.steps].index(step_id)
        seq = np.random.SeedSequence(self.entropy if entropy is None else entropy, spawn_key=(stream_key("counterpart"), world, index, visit))
        return np.random.Generator(np.random.PCG64(seq))

    def _worlds(self) -> list[int]:
        noise = self.noise
        return list(noise.worlds) if isinstance(noise, NoiseBatch) else [noise.world]

    def _rows(self) -> list[tuple[int, int]]:
        """(seed entropy, world) of each rollout."""
        noise = self.noise
        if isinstance(noise, SeedsNoise):
            return [(e, 0) for e in noise.entropies]
        return [(self.entropy, w) for w in self._worlds()]

    def _begin_negotiation(self, step: NegotiationStep) -> None:
        spec = self.loaded.negotiations[step.id]
        visit = self.visits[step.id] - 1
        self.negs = [Negotiation(spec, self._counterpart_rng(w, step.id, visit, e)) for e, w in self._rows()]
        self._nego_events(step, self.negs[0].events)

    def _conclude(self, step: NegotiationStep) -> str | None:
        """Every row's negotiation has ended: record the outcomes, tell the observers, take the routes.
        Returns the step to enter, or None when the rows take different routes (see `split`)."""
        assert self.negs is not None
        self.nego_outcomes[step.id] = [outcome_of(step, neg.result()) for neg in self.negs]
        self.negs = None
        self._changed()
        for observer in self.observers:
            hook = getattr(observer, "on_negotiation", None)
            if hook is not None:
                hook(self, step, self.nego_outcomes[step.id])
        picks = [self._route_index(step, row) for row in range(self.rollouts)]
        if any(p != picks[0] for p in picks):
            by_route: dict[int, list[int]] = {}
            for row, p in enumerate(picks):
                by_route.setdefault(p, []).append(row)
            gotos = [step.routes[p].goto for p in by_route]  # two routes can lead to the same step: keep their rows apart
            self.split = {(g if gotos.count(g) == 1 else f"{g}#{p}"): rows for g, (p, rows) in zip(gotos, by_route.items())}
            self._split_plan = [("route", p, rows) for p, rows in by_route.items()]
            return None
        return self._take_route(step, picks[0])

    def _take_route(self, step: NegotiationStep, index: int) -> str:
        route = step.routes[index]
        self._emit("route", step=step.id, to=route.goto, when=route.when or "")
        for effect in route.effects:
            self._apply(effect)
        self._simulate(route.simulate_weeks)
        return route.goto

    def _route_index(self, step, row: int) -> int:
        ctx = _Context(self, row)
        return next(i for i, r in enumerate(step.routes) if r.when is None or self._holds(r.when, ctx))

    def _fill_row_options(self, step: DecisionStep) -> bool:
        """options_at for every row of a batch at once, if each condition on offer is one value for
        all rows or of a form _vector knows; False (nothing done) otherwise."""
        self._fresh()
        n = self.rollouts
        ctx = _Context(self, 0)
        columns = []
        for c in step.choices:
            if c.when is None:
                columns.append(True)
                continue
            cond = self.loaded.condition(c.when)
            if _row_free(cond):
                columns.append(self._holds(c.when, ctx))
                continue
            rows = self._by_row.get(c.when, False)
            if rows is False:
                rows = self._by_row[c.when] = _vector(cond, self)
            if rows is None:
                return False
            columns.append(rows)
        if len(columns) > 62:
            return False
        code = np.zeros(n, dtype=np.int64)
        for k, col in enumerate(columns):
            code |= np.asarray(col, dtype=np.int64) << k  # one bit per choice on offer
        codes = code.tolist()
        for value in set(codes):
            available = tuple(c.id for k, c in enumerate(step.choices) if value >> k & 1)
            key = (self.step_id, available)
            options = self._option_lists.get(key)
            if options is None:
                texts = {c.id: text_in(c.text, self.lang) for c in step.choices}
                options = self._option_lists[key] = tuple(Option(c, texts[c], i + 1) for i, c in enumerate(available))
            self._row_options.update((r, options) for r, v in enumerate(codes) if v == value)
        return True

    def _route_indices(self, step) -> list[int]:
        """_route_index for every row: in a batch, each route's condition once for all rows when it is
        one value for every row (or, in a big batch, of a form _vector knows); else row by row."""
        n = self.rollouts
        if n > 1:
            self._fresh()
            ctx = _Context(self, 0)
            index = np.full(n, -1)
            for i, route in enumerate(step.routes):
                if route.when is None:
                    holds = True
                else:
                    cond = self.loaded.condition(route.when)
                    if _row_free(cond):
                        holds = self._holds(route.when, ctx)
                    elif n >= VECTOR_ROWS:
                        holds = self._by_row.get(route.when, False)
                        if holds is False:
                            holds = self._by_row[route.when] = _vector(cond, self)
                        if holds is None:
                            break
                    else:
                        break
                index[(index < 0) & holds] = i  # the first route that holds, as next() picks it
                if index.min() >= 0:
                    return index.tolist()
        return [self._route_index(step, row) for row in range(n)]

    def _fresh(self) -> None:
        if self._shared_at != (self.turn, len(self.chosen)):  # turns_since()/chose() have moved on
            self._shared = {}
            self._by_row = {}
            self._shared_at = (self.turn, len(self.chosen))

    def _holds(self, source: str, ctx: _Context) -> bool:
        """Condition `source` in rollout `ctx.row`; one that reads only variables and the story so far
        (the same in every row) is evaluated once per state for the whole batch."""
        self._fresh()
        value = self._shared.get(source)
        if value is not None:
            return value
        cond = self.loaded.condition(source)
        if _row_free(cond):
            value = self._shared[source] = cond.evaluate(ctx) is True
            return value
        if self.rollouts >= VECTOR_ROWS:  # a batch: the condition for every row at once, if it is of a form _vector knows
            rows = self._by_row.get(source, False)
            if rows is False:
                rows = self._by_row[source] = _vector(cond, self)
            if rows is not None:
                return bool(rows[ctx.row])
        return cond.evaluate(ctx) is True

    def preview_offer(self, values: dict[str, Any], row: int = 0) -> dict[str, Any]:
        """What an offer would be (snapped to the grid, the rest from the standing bid) and its worth to
        the company, without making it: for a front end's offer editor. Raises DS0605 for a bad value."""
        if not self.negotiating:
            raise DiagnosticError(Diagnostic.make("DS0605", f"there is no negotiation in progress at step '{self.step_id}'", "offers are made at a negotiation step"))
        neg = self.negs[row]  # type: ignore[index]
        from simulator.negotiation.utility import OfferError

        try:
            outcome = neg.domain.encode(values, neg.standing, neg.in_play)
        except OfferError as err:
            raise DiagnosticError(Diagnostic.make("DS0605", str(err), err.hint)) from None
        return {"offer": neg.domain.decode(outcome), "own_utility": round(neg.own(outcome), 6)}

    def _drain(self) -> None:
        """Observers' events (e.g. score items) follow the engine's events of the same choice."""
        for observer in self.observers:
            self.events.extend(observer.drain())

    # ------------------------------------------------------------ internals

    def _emit(self, kind: str, **data: Any) -> None:
        if not self.quiet:
            self.events.append({"kind": kind, "data": data})

    def fork(self, world: int) -> "Session":
        """This session with the same past and another world's luck for the weeks to come (quiet: no events).

        A negotiation in progress goes on with the counterpart already met; only its luck from here
        on (walking away, what slips out when asked) is redrawn for `world`."""
        assert self.rollouts == 1, "fork a single session"
        negs = None if self.negs is None else [self._fork_neg(0, world)]
        outcomes = {k: list(v) for k, v in self.nego_outcomes.items()}
        entropy = self._rows()[0][0]  # a row taken from a batch of seeds: its own seed
        other = self._copy(self.state.copy(), Noise(entropy, self.market.n, world), [o.fork() for o in self.observers], negs, outcomes)
        other.entropy = entropy
        return other

    def fork_batch(self, worlds: Sequence[int]) -> "Session":
        """A batch of forks, one rollout per world, run together on the market's batch path.

        Row k agrees bit for bit with `fork(worlds[k])` while the rollouts take the same story path;
        where they part (a branch routes them differently, a negotiation ends differently), `split`
        says so and `take` separates them."""
        assert self.rollouts == 1, "fork a single session"
        n = len(worlds)
        negs = None if self.negs is None else [self._fork_neg(0, w) for w in worlds]
        outcomes = {k: v * n for k, v in self.nego_outcomes.items()}
        entropy = self._rows()[0][0]
        other = self._copy(self.state.repeat(n), NoiseBatch(entropy, self.market.n, worlds), [o.fork(rollouts=n) for o in self.observers], negs, outcomes)
        other.entropy = entropy
        return other

    def take(self, rows: Sequence[int]) -> "Session":
        """The given rollouts of a batch as a batch of their own."""
        negs = None if self.negs is None else [self.negs[r].fork() for r in rows]
        outcomes = {k: [v[r] for r in rows] for k, v in self.nego_outcomes.items()}
        noise = self.noise
        if isinstance(noise, NoiseBatch):
            part = noise.take(rows)  # the weeks already drawn are sliced, not drawn again
        else:
            part = NoiseBatch(self.entropy, self.market.n, [noise.world for _ in rows])
        return self._copy(self.state.take(rows), part, [o.take(rows) for o in self.observers], negs, outcomes)

    def _fork_neg(self, row: int, world: int) -> Negotiation:
        neg = self.negs[row]  # type: ignore[index]
        entropy, own = self._rows()[row]
        if world == own:
            return neg.fork()
        return neg.fork(self._counterpart_rng(world, self.step_id, self.visits[self.step_id] - 1, entropy))

    def _copy(self, state: MarketState, noise, observers: list, negs: list[Negotiation] | None, outcomes: dict[str, list[NegoOutcome]]) -> "Session":
        other = copy.copy(self)
        other.noise = noise
        other.state = state
        other.variables = dict(self.variables)
        other.last_entered = dict(self.last_entered)
        other.visits = dict(self.visits)
        other.chosen = list(self.chosen)
        other.notebook = list(self.notebook)
        other.events = []
        other.quiet = True
        other.observers = observers
        other.negs = negs
        other.nego_outcomes = outcomes
        other.split = None
        other._split_plan = []
        other._changed()
        return other

    def resume_split(self) -> list["Session"]:
        """After a batch split: one batch per way the rollouts went, each continued to its next decision
        or ending (a branch's routes; at a negotiation, the rows still negotiating and those that ended)."""
        assert self.split is not None
        parts = []
        step = self.step
        for action, arg, rows in self._split_plan:
            part = self.take(rows)
            if action == "enter":
                part._enter(arg)
            elif action == "route":
                part._enter(part._take_route(step, arg))  # type: ignore[arg-type]
            elif action == "conclude":
                goto = part._conclude(step)  # type: ignore[arg-type]
                if goto is not None:
                    part._enter(goto)
            parts.append(part)  # "negotiate": the rows go on negotiating
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
            if not self.quiet:
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

    def _enter(self, step_id: str) -> None:
        for _ in range(MAX_PASS_THROUGH):
            self.step_id = step_id
            self._options = None
            self._row_options = {}
            self.last_entered[step_id] = self.turn
            self._shared = {}  # visited()/turns_since() have changed
            self._by_row = {}
            self.visits[step_id] = self.visits.get(step_id, 0) + 1
            step = self._steps[step_id]
            if not self.quiet:
                self._emit("step", step=step_id, step_kind=step.kind, title=text_in(step.title, self.lang), text=text_in(step.text, self.lang))
            if isinstance(step, EndingStep):
                self.ending = step
                self._emit("ending", step=step_id, outcome=step.outcome)
                for observer in self.observers:
                    observer.on_end(self)
                return
            if isinstance(step, DecisionStep):
                return
            if isinstance(step, NegotiationStep):
                self._begin_negotiation(step)
                assert self.negs is not None
                ended = [r for r, neg in enumerate(self.negs) if neg.done]
                if not ended:
                    return
                if len(ended) < len(self.negs):  # the counterpart walked out at once in some rows only
                    going = [r for r in range(len(self.negs)) if r not in ended]
                    self.split = {f"{step_id}:negotiating": going, f"{step_id}:ended": ended}
                    self._split_plan = [("negotiate", None, going), ("conclude", None, ended)]
                    return
                goto = self._conclude(step)
                if goto is None:
                    return
                step_id = goto
                continue
            routes = [step.routes[i] for i in self._route_indices(step)]
            if any(r is not routes[0] for r in routes):
                self.split = {}
                for row, r in enumerate(routes):
                    self.split.setdefault(r.goto, []).append(row)
                self._split_plan = [("enter", goto, rows) for goto, rows in self.split.items()]
                return
            route = routes[0]
            self._emit("route", step=step_id, to=route.goto, when=route.when or "")
            step_id = route.goto
        raise DiagnosticError(
            Diagnostic.make("DS0206", f"branch steps loop without a decision at '{step_id}'", "make one of the routes lead to a decision or an ending")
        )


def play(loaded: LoadedScenario, seed: int | str, choices: list[str], lang: Lang = "en") -> Session:
    """Headless play of a list of choices (the Python API the tests and tools use); negotiation moves
    in their text form (`ask=rebate`, `package:rebate=2.5;payment_days=45`)."""
    session = Session(loaded, seed, lang)
    for option in choices:
        session.choose(option)
    return session


def choice_of(session: Session, option_id: str) -> Choice:
    return next(c for c in session.step.choices if c.id == option_id)

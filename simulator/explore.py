"""The path explorer: play every path through a scenario (or a seeded sample) and report coverage.

Routes and `when` conditions read the market, so which options exist depends on the seed: paths
are found by *playing* them with the engine, depth-first over the options on offer, for one seed
or several. When a seed has more than `max_paths` paths, a seeded sample of random playthroughs
is taken instead.

Pure: no I/O, no clock; the same scenario, seeds and limits give the same report. The pieces are
public so that the balance report can reuse the enumeration with its own sessions (scorers as
observers) and policies:

    for p in dfs_paths(loaded, seed, new_session=...):   # every path, lazily, depth-first
    for p in random_paths(loaded, seed, 10_000):          # seeded random playthroughs
    walk = playthroughs(loaded, seed, max_paths=1000)    # all of them, or a sample if too many
    report = explore(loaded, seeds=[7, 8], max_paths=1000, positions=key_positions(text))
    mermaid(loaded.scenario)                              # the static branch graph
"""

from __future__ import annotations

import copy
import shlex
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Literal

import numpy as np

from simulator.diagnostics import Diagnostic, DiagnosticError, sort_key
from simulator.engine import Session, seed_entropy
from simulator.loader import LoadedScenario
from simulator.market import stream_key
from simulator.negotiation.play import EXPLORE_STRATEGIES, play_moves
from simulator.schema import BranchStep, DecisionStep, EndingStep, Lang, NegotiationStep, Scenario, text_in
from simulator.toml_positions import locate

# Errors in the story graph that the explorer can still play through, to show where a trainee
# gets stuck: dead ends (DS0206) and decisions that may offer no choice (DS0216).
PLAYABLE_ERRORS = ("DS0206", "DS0216")
MAX_DECISIONS = 100  # a path longer than this is taken to loop forever
DEFAULT_MAX_PATHS = 1000

NewSession = Callable[[LoadedScenario, "int | str"], Session]


@dataclass
class Playthrough:
    """One path played to its end (an ending, or the place where it got stuck)."""

    seed: int | str
    choices: tuple[str, ...]  # option ids, in order: `dealersim play --seed S --choices a,b,c` replays it
    steps: tuple[str, ...]  # every step entered, in order, branch steps and the ending included
    offered: tuple[str, ...]  # "step.choice" of every option that was on offer at some decision
    ending: str | None = None
    outcome: str | None = None
    stuck: str | None = None  # why it stopped without an ending
    session: Session | None = field(default=None, repr=False)  # the final session, if asked for
    decisions: tuple[str, ...] = ()  # "step.choice" of every choice made at a decision step, in order

    @property
    def finished(self) -> bool:
        return self.ending is not None


# ---------------------------------------------------------------- playing


def fork(session: Session) -> Session:
    """An independent copy of a session, sharing only what never changes (scenario, market rules, noise)."""
    keep = (session.loaded, session.scenario, session.market, session.noise)
    return copy.deepcopy(session, {id(x): x for x in keep})


def _default_session(loaded: LoadedScenario, seed: int | str) -> Session:
    return Session(loaded, seed)


class _Path:
    """A session being played, with what the report needs to know about its way so far."""

    def __init__(self, session: Session | None, choices: tuple[str, ...], stuck: str | None, offered: frozenset[str], doomed: frozenset[str] = frozenset()):
        self.doomed = doomed  # steps from which no ending can be reached at all: stop there at once
        self.session = session
        self.choices = choices
        self.stuck = stuck
        self.offered = offered
        self._options: list[str] | None = None

    def options(self) -> list[str]:
        """The options on offer; at a negotiation step, one per headless strategy (`~course`, …), each
        of which plays the whole negotiation."""
        if self._options is None:  # cached: conditions read the whole market, and a path asks several times
            done = self.session is None or self.session.finished or self.stuck
            if not done and self.session.negotiating:  # type: ignore[union-attr]
                self._options = [f"~{name}" for name in EXPLORE_STRATEGIES]
            else:
                self._options = [] if done else [o.id for o in self.session.options()]  # type: ignore[union-attr]
        return self._options

    def choose(self, option: str, copy_first: bool) -> "_Path":
        """Play one option; `copy_first` plays it on a copy and leaves this path as it was."""
        assert self.session is not None
        session = fork(self.session) if copy_first else self.session
        step = session.step_id
        if option.startswith("~"):  # a negotiation, played to its end by a headless strategy
            moves: tuple[str, ...] = ()
            try:
                for move in play_moves(session, option[1:]):
                    session.choose(move)
                    moves += (move,)
            except DiagnosticError as err:
                return _Path(session, self.choices + moves, err.diagnostics[0].message, self.offered, self.doomed)
            return _Path(session, self.choices + moves, None, self.offered, self.doomed)
        offered = self.offered | {f"{step}.{o}" for o in self.options()}
        try:
            session.choose(option)
        except DiagnosticError as err:  # e.g. branch steps that loop without a decision
            return _Path(session, self.choices + (option,), err.diagnostics[0].message, offered, self.doomed)
        return _Path(session, self.choices + (option,), None, offered, self.doomed)

    def expand(self) -> list["_Path"]:
        """One path per option on offer; the last one reuses this path's session (copies are made first)."""
        options = self.options()
        children = [self.choose(o, True) for o in options[:-1]]
        children.append(self.choose(options[-1], False))
        return children

    def done(self, seed: int | str, max_decisions: int, keep_session: bool) -> Playthrough | None:
        """The finished playthrough, or None if the path goes on."""
        s = self.session
        if self.stuck is None and s is not None and not s.finished and s.step_id in self.doomed:
            self.offered = self.offered | {f"{s.step_id}.{o}" for o in self.options()}
            self.stuck = "no ending can be reached from here: every way on leads back"
        if self.stuck is None and s is not None and not s.finished:
            options = self.options()
            if options and len(self.choices) < max_decisions:
                return None
            if not options:
                self.stuck = "no option is available and no ending was reached"
            else:
                self.stuck = f"no ending within {max_decisions} decisions"
        steps: tuple[str, ...] = ()
        decisions: tuple[str, ...] = ()
        offered = set(self.offered)
        if s is not None:
            steps = tuple(e["data"]["step"] for e in s.events if e["kind"] == "step")
            decisions = tuple(
                f"{e['data']['step']}.{e['data']['choice']}" for e in s.events
                if e["kind"] == "choice" and isinstance(s.scenario.step(e["data"]["step"]), DecisionStep)
            )
            if not s.finished and s.step_id and isinstance(s.step, DecisionStep):
                offered |= {f"{s.step_id}.{o}" for o in self.options()}
        ending = s.ending.id if s is not None and s.ending is not None else None
        return Playthrough(
            seed=seed,
            choices=self.choices,
            steps=steps,
            offered=tuple(sorted(offered)),
            ending=ending,
            outcome=s.ending.outcome if ending and s is not None and s.ending is not None else None,
            stuck=None if ending else self.stuck,
            session=s if keep_session else None,
            decisions=decisions,
        )


def _start(loaded: LoadedScenario, seed: int | str, new_session: NewSession) -> _Path:
    doomed = frozenset(s.id for s in loaded.scenario.steps) - can_finish(loaded.scenario)
    try:
        return _Path(new_session(loaded, seed), (), None, frozenset(), doomed)
    except DiagnosticError as err:  # the story loops through branch steps from the start
        return _Path(None, (), err.diagnostics[0].message, frozenset(), doomed)


def dfs_paths(
    loaded: LoadedScenario,
    seed: int | str,
    *,
    max_decisions: int = MAX_DECISIONS,
    new_session: NewSession = _default_session,
    keep_sessions: bool = False,
) -> Iterator[Playthrough]:
    """Every path for this seed, depth-first in the order options are listed. Lazy: take what you need."""
    stack = [_start(loaded, seed, new_session)]
    while stack:
        path = stack.pop()
        finished = path.done(seed, max_decisions, keep_sessions)
        if finished is not None:
            yield finished
            continue
        stack.extend(reversed(path.expand()))  # the first option is played first


def random_paths(
    loaded: LoadedScenario,
    seed: int | str,
    n: int,
    *,
    max_decisions: int = MAX_DECISIONS,
    new_session: NewSession = _default_session,
    keep_sessions: bool = False,
    stream: str = "explore",
) -> Iterator[Playthrough]:
    """`n` playthroughs, each picking uniformly among the options on offer; reproducible from the seed.

    Playthrough i draws its picks from its own random stream (`stream`, i), so the picks never shift
    the market's draws and do not depend on the other playthroughs. The n playthroughs are played
    together as a tree: a decision that several of them reach by the same way is played once.
    """
    root = np.random.SeedSequence(seed_entropy(seed), spawn_key=(stream_key(stream),))
    rngs = [np.random.Generator(np.random.PCG64(s)) for s in root.spawn(n)]
    results: list[Playthrough | None] = [None] * n
    stack = [(_start(loaded, seed, new_session), list(range(n)))]
    while stack:
        path, walkers = stack.pop()
        finished = path.done(seed, max_decisions, keep_sessions)
        if finished is not None:
            for i in walkers:
                results[i] = finished
            continue
        options = path.options()
        groups: dict[int, list[int]] = {}
        for i in walkers:
            groups.setdefault(int(rngs[i].integers(len(options))), []).append(i)
        picks = sorted(groups)
        # copies first; the last pick reuses this path's session
        children = [path.choose(options[k], copy_first=j < len(picks) - 1) for j, k in enumerate(picks)]
        stack.extend(zip(children, (groups[k] for k in picks)))
    for result in results:
        assert result is not None
        yield result


@dataclass
class Walk:
    seed: int | str
    mode: Literal["all", "sample"]
    paths: list[Playthrough]
    more_than: int = 0  # in sample mode: there are more than this many paths


def playthroughs(
    loaded: LoadedScenario,
    seed: int | str,
    *,
    max_paths: int = DEFAULT_MAX_PATHS,
    max_decisions: int = MAX_DECISIONS,
    new_session: NewSession = _default_session,
    keep_sessions: bool = False,
    try_all: bool = True,
) -> Walk:
    """Every path for `seed` if there are at most `max_paths`, else `max_paths` random playthroughs.

    `try_all=False` goes straight to the sample (when another seed already had too many paths).
    """
    if not try_all:
        sample = list(random_paths(loaded, seed, max_paths, max_decisions=max_decisions, new_session=new_session, keep_sessions=keep_sessions))
        return Walk(seed, "sample", sample)
    found = list(islice(dfs_paths(loaded, seed, max_decisions=max_decisions, new_session=new_session, keep_sessions=keep_sessions), max_paths + 1))
    if len(found) <= max_paths:
        return Walk(seed, "all", found)
    del found
    sample = list(random_paths(loaded, seed, max_paths, max_decisions=max_decisions, new_session=new_session, keep_sessions=keep_sessions))
    return Walk(seed, "sample", sample, more_than=max_paths)


# ---------------------------------------------------------------- the report


@dataclass
class DeadEnd:
    step: str
    reason: str
    seed: int | str
    choices: tuple[str, ...]  # one way to get there
    count: int = 1  # playthroughs that got stuck here for this reason


@dataclass
class Report:
    scenario_id: str
    file: str
    walks: list[Walk]
    steps: list[str]  # every step id, in file order
    choices: list[str]  # every "step.choice", in file order
    endings: dict[str, str]  # ending step id -> outcome
    step_counts: Counter  # playthroughs that entered each step
    choice_counts: Counter  # times each "step.choice" was taken
    offered: set[str]
    ending_counts: Counter
    dead_ends: list[DeadEnd]
    diagnostics: list[Diagnostic]

    @property
    def playthroughs(self) -> int:
        return sum(len(w.paths) for w in self.walks)

    @property
    def steps_reached(self) -> list[str]:
        return [s for s in self.steps if self.step_counts[s]]

    @property
    def choices_taken(self) -> list[str]:
        return [c for c in self.choices if self.choice_counts[c]]

    @property
    def unreached(self) -> list[str]:
        return [s for s in self.steps if not self.step_counts[s]]

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)

    def to_json(self) -> dict[str, Any]:
        n = self.playthroughs
        return {
            "scenario": self.scenario_id,
            "file": self.file,
            "seeds": [
                {"seed": w.seed, "mode": w.mode, "playthroughs": len(w.paths), "more_than": w.more_than or None}
                for w in self.walks
            ],
            "playthroughs": n,
            "steps": {"total": len(self.steps), "reached": len(self.steps_reached), "counts": {s: self.step_counts[s] for s in self.steps}},
            "choices": {
                "total": len(self.choices),
                "taken": len(self.choices_taken),
                "counts": {c: self.choice_counts[c] for c in self.choices},
                "never_offered": [c for c in self.choices if c not in self.offered],
            },
            "unreached_steps": self.unreached,
            "endings": {
                e: {"outcome": o, "count": self.ending_counts[e], "share": self.ending_counts[e] / n if n else 0.0}
                for e, o in self.endings.items()
            },
            "dead_ends": [
                {"step": d.step, "reason": d.reason, "count": d.count, "seed": d.seed, "choices": list(d.choices)} for d in self.dead_ends
            ],
            "diagnostics": [d.to_json() for d in self.diagnostics],
        }


def explore(
    loaded: LoadedScenario,
    seeds: Sequence[int | str] = (0,),
    *,
    max_paths: int = DEFAULT_MAX_PATHS,
    max_decisions: int = MAX_DECISIONS,
    positions: dict | None = None,
) -> Report:
    """Play the scenario for each seed and report coverage, unreached steps, dead ends and endings.

    `positions` (from `toml_positions.key_positions` of the file's text) puts lines on the findings.
    """
    sc = loaded.scenario
    walks: list[Walk] = []
    for seed in seeds:
        # once one seed has too many paths, the others are sampled at once (conditions only prune)
        try_all = all(w.mode == "all" for w in walks)
        walks.append(playthroughs(loaded, seed, max_paths=max_paths, max_decisions=max_decisions, try_all=try_all))
    all_paths = [p for w in walks for p in w.paths]
    step_counts: Counter = Counter()
    choice_counts: Counter = Counter()
    ending_counts: Counter = Counter()
    offered: set[str] = set()
    stuck: dict[tuple[str, str], DeadEnd] = {}
    for p in all_paths:
        step_counts.update(set(p.steps))
        offered.update(p.offered)
        choice_counts.update(p.decisions)  # the choice taken at each decision (a negotiation's moves are not counted)
        if p.ending:
            ending_counts[p.ending] += 1
        else:
            where = p.steps[-1] if p.steps else sc.first_step
            key = (where, p.stuck or "")
            if key in stuck:
                stuck[key].count += 1
            else:
                stuck[key] = DeadEnd(where, p.stuck or "", p.seed, p.choices)
    steps = [s.id for s in sc.steps]
    choices = [f"{s.id}.{c.id}" for s in sc.steps if isinstance(s, DecisionStep) for c in s.choices]
    endings = {s.id: s.outcome for s in sc.steps if isinstance(s, EndingStep)}
    report = Report(
        scenario_id=sc.id,
        file=loaded.path,
        walks=walks,
        steps=steps,
        choices=choices,
        endings=endings,
        step_counts=step_counts,
        choice_counts=choice_counts,
        offered=offered,
        ending_counts=ending_counts,
        dead_ends=list(stuck.values()),
        diagnostics=[],
    )
    report.diagnostics = _findings(report, sc, loaded.path, positions or {})
    return report


def _seeds_text(walks: list[Walk]) -> str:
    seeds = [w.seed for w in walks]
    if len(seeds) == 1:
        return f"seed {seeds[0]}"
    if len(seeds) > 4 and all(isinstance(x, int) for x in seeds) and seeds == list(range(seeds[0], seeds[0] + len(seeds))):  # type: ignore[arg-type]
        return f"seeds {seeds[0]}–{seeds[-1]}"
    return f"seeds {', '.join(map(str, seeds[:6]))}" + (f" and {len(seeds) - 6} more" if len(seeds) > 6 else "")


def _findings(report: Report, sc: Scenario, file: str, positions: dict) -> list[Diagnostic]:
    index = {s.id: i for i, s in enumerate(sc.steps)}
    static = static_reach(sc)
    n = report.playthroughs
    seeds = _seeds_text(report.walks)

    def at(code: str, loc: tuple, message: str, hint: str) -> Diagnostic:
        line, col = locate(positions, loc) if positions else (0, 0)
        return Diagnostic.make(code, message, hint, file=file, line=line, col=col)

    out: list[Diagnostic] = []
    for sid in report.unreached:
        loc = ("steps", index[sid], "id")
        if sid not in static:
            out.append(at("DS0205", loc, f"step '{sid}' can never be reached: no choice or route leads to it", "add a goto to it, or remove it"))
        else:
            sampled = any(w.mode == "sample" for w in report.walks)
            why = "random playthroughs can miss a rare path (raise --max-paths), or the conditions on the way never hold for these seeds" if sampled else "the conditions on the way never hold for these seeds"
            out.append(at("DS0711", loc, f"step '{sid}' was never reached in {n} playthrough(s) ({seeds})", f"{why}: try more seeds (--seeds 20), or check the `when` conditions that lead here"))
    for i, step in enumerate(sc.steps):
        if not isinstance(step, DecisionStep) or not report.step_counts[step.id]:
            continue
        for c_i, choice in enumerate(step.choices):
            key = f"{step.id}.{choice.id}"
            if choice.when is not None and key not in report.offered:
                out.append(at("DS0713", ("steps", i, "choices", c_i, "when"), f"choice '{choice.id}' of step '{step.id}' was never offered: its condition never held when the step was reached ({seeds})", f"check the condition `{choice.when}`, or try more seeds (--seeds 20)"))
    for d in report.dead_ends:
        replay = f"dealersim play {file} --seed {d.seed} --choices {shlex.quote(','.join(d.choices))}" if d.choices else f"dealersim play {file} --seed {d.seed}"
        fix = "give at least one choice no `when`, or make the conditions cover every case" if "no option" in d.reason else "make a choice or route lead on towards an ending"
        out.append(at("DS0712", ("steps", index[d.step], "id") if d.step in index else (), f"dead end at step '{d.step}': {d.reason} ({d.count} playthrough(s))", f"{fix}; to see it: {replay}"))
    return sorted(out, key=sort_key)


def _edges(sc: Scenario) -> dict[str, list[str]]:
    ids = {s.id for s in sc.steps}
    out: dict[str, list[str]] = {}
    for step in sc.steps:
        targets = [c.then.goto for c in step.choices] if isinstance(step, DecisionStep) else [r.goto for r in step.routes] if isinstance(step, (BranchStep, NegotiationStep)) else []
        out[step.id] = [t for t in targets if t in ids]
    return out


def can_finish(sc: Scenario) -> set[str]:
    """Steps from which some chain of gotos leads to an ending, whatever the conditions say."""
    reverse: dict[str, list[str]] = {s.id: [] for s in sc.steps}
    for src, targets in _edges(sc).items():
        for t in targets:
            reverse[t].append(src)
    seen = {s.id for s in sc.steps if isinstance(s, EndingStep)}
    stack = list(seen)
    while stack:
        for prev in reverse[stack.pop()]:
            if prev not in seen:
                seen.add(prev)
                stack.append(prev)
    return seen


def static_reach(sc: Scenario) -> set[str]:
    """Steps some chain of gotos leads to from the start, whatever the conditions say."""
    edges = _edges(sc)
    start = sc.first_step if sc.first_step in edges else sc.steps[0].id
    seen, stack = {start}, [start]
    while stack:
        for t in edges[stack.pop()]:
            if t not in seen:
                seen.add(t)
                stack.append(t)
    return seen


# ---------------------------------------------------------------- text rendering


def render_text(report: Report) -> list[str]:
    n = report.playthroughs
    lines = [f"{report.scenario_id} ({report.file})"]
    for w in report.walks:
        if w.mode == "all":
            lines.append(f"  seed {w.seed}: all {len(w.paths)} path(s) played")
        elif w.more_than:
            lines.append(f"  seed {w.seed}: more than {w.more_than} paths, so {len(w.paths)} random playthroughs (reproducible from the seed)")
        else:
            lines.append(f"  seed {w.seed}: {len(w.paths)} random playthroughs, as for the seed before")
    if len(report.walks) > 1:
        lines.append(f"  {n} playthroughs in all")
    pct = lambda a, b: f"{100 * a / b:.0f}%" if b else "-"  # noqa: E731
    lines.append(f"  steps reached:  {len(report.steps_reached)}/{len(report.steps)} ({pct(len(report.steps_reached), len(report.steps))})")
    lines.append(f"  choices taken:  {len(report.choices_taken)}/{len(report.choices)} ({pct(len(report.choices_taken), len(report.choices))})")
    lines.append("  endings:")
    width = max([len(e) for e in report.endings] + [8])
    for e, outcome in report.endings.items():
        count = report.ending_counts[e]
        lines.append(f"    {e:<{width}}  {outcome:<5}  {count:>6}  {pct(count, n):>4}" + ("" if count else "  never reached"))
    stuck = sum(d.count for d in report.dead_ends)
    if stuck:
        lines.append(f"    {'(stuck)':<{width}}  {'':<5}  {stuck:>6}  {pct(stuck, n):>4}")
    not_taken = [c for c in report.choices if not report.choice_counts[c] and c in report.offered]
    if not_taken:
        lines.append("  offered but never taken in the sample: " + ", ".join(not_taken))
    if report.dead_ends:
        lines.append(f"  dead ends: {len(report.dead_ends)} (below)")
    else:
        lines.append("  dead ends: none")
    return lines


# ---------------------------------------------------------------- the branch graph


def _label(text: str) -> str:
    """Text safe inside a quoted Mermaid label."""
    for a, b in (("&", "#amp;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("\n", " ")):
        text = text.replace(a, b)
    return text


def mermaid(sc: Scenario, lang: Lang = "en") -> str:
    """The static branch graph as a Mermaid flowchart: steps as nodes, choices and routes as
    labelled edges (dotted when they have a condition), endings coloured by outcome."""
    node = lambda sid: f"s_{sid}"  # noqa: E731 — a prefix keeps ids like `end` from clashing with Mermaid keywords
    lines = ["flowchart TD", f"  start((start)) --> {node(sc.first_step)}"]
    for step in sc.steps:
        title = text_in(step.title, lang)
        label = _label(f"{step.id}: {title}" if title else step.id)
        if isinstance(step, DecisionStep):
            lines.append(f'  {node(step.id)}["{label}"]')
        elif isinstance(step, BranchStep):
            lines.append(f'  {node(step.id)}{{"{label}"}}')
        elif isinstance(step, NegotiationStep):
            lines.append(f'  {node(step.id)}{{{{"{label}"}}}}')
        else:
            lines.append(f'  {node(step.id)}(["{label} ({step.outcome})"])')
    ids = {s.id for s in sc.steps}
    for step in sc.steps:
        if isinstance(step, DecisionStep):
            for c in step.choices:
                weeks = f" +{c.then.simulate_weeks}w" if c.then.simulate_weeks else ""
                arrow = "-.->" if c.when else "-->"
                if c.then.goto in ids:
                    lines.append(f'  {node(step.id)} {arrow}|"{_label(c.id + weeks)}"| {node(c.then.goto)}')
        elif isinstance(step, (BranchStep, NegotiationStep)):
            for r in step.routes:
                if r.goto in ids:
                    arrow = "-.->" if r.when else "-->"
                    lines.append(f'  {node(step.id)} {arrow}|"{_label(r.when or "otherwise")}"| {node(r.goto)}')
    lines += [
        "  classDef good fill:#d8f3dc,stroke:#2d6a4f",
        "  classDef mixed fill:#fff3bf,stroke:#b08900",
        "  classDef bad fill:#ffe3e3,stroke:#c92a2a",
    ]
    for outcome in ("good", "mixed", "bad"):
        members = [node(s.id) for s in sc.steps if isinstance(s, EndingStep) and s.outcome == outcome]
        if members:
            lines.append(f"  class {','.join(members)} {outcome}")
    return "\n".join(lines) + "\n"


__all__ = [
    "PLAYABLE_ERRORS",
    "Playthrough",
    "Walk",
    "Report",
    "DeadEnd",
    "fork",
    "dfs_paths",
    "random_paths",
    "playthroughs",
    "explore",
    "static_reach",
    "render_text",
    "mermaid",
]

"""The balance report: is a scenario fair to the course? Play it n times per policy and compare.

    report = balance(loaded, n=10_000, policies=("random", "course", "greedy"), seed=0, jobs=2)
    report.to_json()                 # everything, machine-readable
    render_text(report, lang="en")   # the instructor's table

Run i of every policy plays the market of seed `run_seed(seed, i)` (seed + i; a workshop code
CODE gives CODE-0, CODE-1, …), so the policies meet the same markets (common random numbers) and
every run is reproducible on its own: `dealersim play SCENARIO --seed X --choices a,b,c`.

Policies (simulator/policy.py): random, course, greedy, and fixed:k (`first`, `second`, …). The
fixed-option checks (fixed:1 … fixed:K, K = the most options any decision has) always run, on the
first `fixed_n` seeds, for the "one fixed option wins everywhere" flag.

How runs are played. A policy is a function of the session, so each run could be a session of its
own; that costs a few milliseconds a run. Instead the runs of a chunk are played as one batch on
the engine's rollout machinery (`fork_batch`/`take`/`split`), row r being run r's own seed (world
0 of that seed, exactly what `play --seed X` plays): rows stay together while their policy picks
the same option, and are taken apart where the picks or the branches differ. Deterministic
policies therefore cost a handful of batched steps per chunk (thousands of runs a second); random
runs share the first steps and then part, so deeper down each costs about what a single session
does (a few hundred runs a second). Chunks are cut by run index (chunk_size depends on n only,
never on the number of worker processes); a big random chunk is shared out between two tasks by
subtree instead (_Lanes), so its common top is played once per task rather than once per 5,000
runs. The report is the same for any --jobs — and, rows being exact, for any chunking; the tests
replay every reported run as a single session.

Blunders: across the random runs (all runs when random is not played), for each decision step and
option, the mean total of the runs that took it against the mean total of the runs that reached
the same step and took another option. A crude estimate (what came before and after the choice is
mixed in), but a choice that is followed by a much lower total again and again is worth a look.

Pure apart from the worker processes: no clock, no I/O; the same scenario, n, policies and seed
give the same report.
"""

from __future__ import annotations

import math
import multiprocessing
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from shlex import quote
from typing import Any

import numpy as np

from scoring import session_observers
from scoring.rubric import Scorer, grade, rules
from simulator.diagnostics import Diagnostic, DiagnosticError, did_you_mean
from simulator.engine import Session, seed_entropy
from simulator.explore import can_finish
from simulator.loader import LoadedScenario
from simulator.negotiation.step import move_of, parse_choice
from simulator.policy import ORDINALS, fixed_number, make_policy, offered
from simulator.schema import DecisionStep, EndingStep, Lang, effect_kind, effect_params, text_in

DEFAULT_POLICIES = ("random", "course", "greedy")
BASE_POLICIES = ("random", "course", "greedy")
CHUNK_RUNS = 5000  # most runs per task (bigger batches share more steps); see chunk_size
MIN_CHUNK = 250
LANES = 2  # a random chunk of LANE_MIN runs or more is shared out between this many tasks (tasks_for)
LANE_MIN = 2000
MAX_TURNS = 1000  # choices and negotiation moves in one run; beyond this it is taken to loop forever
MAX_FIXED = 9  # fixed:1 … fixed:9 at most
DEFAULT_FIXED_N = 1000

# flags
COURSE_MARGIN = 20.0  # the course must beat random's mean by this many points…
BEST_FLOOR = 85.0  # …and some path must reach this total (grade A)
BLUNDER_GAP = 5.0  # a choice is listed when its runs average at least this many points lower
MAX_BLUNDERS = 8
SHOWN_PATHS = 3  # best and worst paths listed


def run_seed(seed: int | str, i: int) -> int | str:
    """The market seed of run i: seed + i, or CODE-i for a workshop code."""
    if isinstance(seed, int):
        return seed + i
    text = str(seed).strip()
    return int(text) + i if text.isdigit() else f"{text}-{i}"


def canonical_policy(name: str) -> str:
    """`first`, `second`, … and `fixed:k` become `fixed:k`; random, course, greedy stay; else DS0603."""
    name = name.strip()
    k = fixed_number(name)
    if k is not None:
        return f"fixed:{k}"
    if name in BASE_POLICIES:
        return name
    known = BASE_POLICIES + ORDINALS
    raise DiagnosticError(Diagnostic.make("DS0603", f"unknown policy '{name}'{did_you_mean(name, known)}", f"policies: {', '.join(BASE_POLICIES)}, first, second, … or fixed:K (always option K)"))


def parse_policies(text: str | Sequence[str]) -> list[str]:
    names = [p for p in (text.split(",") if isinstance(text, str) else text) if p.strip()]
    if not names:
        raise DiagnosticError(Diagnostic.make("DS0603", "no policy given", f"e.g. --policies {','.join(DEFAULT_POLICIES)}"))
    out: list[str] = []
    for name in names:
        c = canonical_policy(name)
        if c not in out:
            out.append(c)
    return out


def describe_policy(name: str) -> str:
    k = fixed_number(name)
    if k is not None:
        return f"always option {k}"
    return {"random": "any option at random", "course": "highest tag sum", "greedy": "biggest order now"}[name]


def fixed_options(loaded: LoadedScenario) -> int:
    """K: the most options any decision step lists (the fixed-option checks play fixed:1 … fixed:K)."""
    widths = [len(s.choices) for s in loaded.scenario.steps if isinstance(s, DecisionStep)]
    return min(max(widths, default=1), MAX_FIXED)


# ---------------------------------------------------------------- one run


@dataclass(frozen=True)
class Run:
    policy: str
    index: int  # run i: its seed is run_seed(seed, i)
    seed: int | str
    choices: tuple[str, ...]  # every option id and negotiation move, as `--choices` takes them
    decisions: tuple[str, ...]  # "step.choice" at the decision steps (negotiation moves left out)
    total: float | None  # None when the run got stuck before an ending
    process: float | None = None
    results: float | None = None
    grade: str | None = None
    ending: str | None = None
    outcome: str | None = None
    stuck: str | None = None  # why it stopped without an ending
    where: str | None = None  # the step it got stuck at

    @property
    def finished(self) -> bool:
        return self.total is not None

    def command(self, file: str) -> str:
        cmd = f"dealersim play {quote(file)} --seed {quote(str(self.seed))}"
        return cmd + (f" --choices {quote(','.join(self.choices))}" if self.choices else "")

    def to_json(self, file: str) -> dict[str, Any]:
        return {**asdict(self), "choices": list(self.choices), "decisions": list(self.decisions), "command": self.command(file)}


def _observers(loaded: LoadedScenario) -> list:
    observers = session_observers(loaded)
    for o in observers:
        if isinstance(o, Scorer):
            o.keep_items = False  # the items are for debriefs; the totals are the same without them
    return observers


def _scorer(session: Session) -> Scorer:
    return next(o for o in session.observers if isinstance(o, Scorer))


def _resolved(session: Session, row: int, text: str) -> str:
    """A negotiation move as the core will play it in rollout `row` (defaults filled in from that row's
    negotiation), so rows are kept together only when the batch plays exactly their own move."""
    kind, params = text.strip(), {}
    if ":" in kind or "=" in kind:
        kind, params = parse_choice(kind)
    move, _ = move_of(session.step, session.negs[row], kind, params)  # type: ignore[arg-type, index]
    return repr(move)


def _policies_for(name: str, seeds: Sequence[int | str]) -> Callable[[int], Callable]:
    """run (index in the chunk) -> its policy. Random runs each have their own stream, from their seed."""
    if name == "random":
        each = [make_policy(name, seed_entropy(s)) for s in seeds]
        return each.__getitem__
    one = make_policy(name, 0)
    return lambda run: one


def _same_for_every_row(name: str, session: Session) -> bool:
    """Whether the policy's pick at this decision is the same in every rollout of a batch: no
    condition on the options, and nothing the policy reads from the market."""
    step = session.step
    if session.negotiating or not isinstance(step, DecisionStep) or any(c.when is not None for c in step.choices):
        return False
    if name == "course" or name.startswith("fixed:"):
        return True
    if name == "greedy":  # reads the market only for orders by cover (cover_cycles × the forecast)
        return not any(
            effect_kind(e) == "order" and effect_params(e).cover_cycles is not None for c in step.choices for e in c.effects
        )
    return False


class _Stuck(Exception):
    pass


_NO_OPTION = "no option is available and no ending was reached"


def _stuck_reason(session: Session, doomed: frozenset[str], turns: int, has_options: bool) -> str | None:
    if session.step_id in doomed:
        return "no ending can be reached from here: every way on leads back"
    if not has_options:
        return _NO_OPTION
    if turns >= MAX_TURNS:
        return f"no ending within {MAX_TURNS} choices and moves"
    return None


def _finished_runs(session: Session, name: str, indices: list[int], seeds: Sequence[int | str], choices: list[list[str]], first: int) -> list[Run]:
    scorer = _scorer(session)
    ending = session.ending
    assert ending is not None
    decisions = tuple(session.chosen)
    if session.rollouts == 1 and scorer.card is not None:  # the scorecard the ending already made
        card = scorer.card
        i = indices[0]
        return [Run(name, first + i, seeds[i], tuple(choices[i]), decisions, card["total"], card["process"], card["results"], card["grade"], ending.id, ending.outcome)]
    totals, process, (results, _) = scorer.totals(session), scorer.process(), scorer.results(session)
    return [
        Run(
            policy=name,
            index=first + i,
            seed=seeds[i],
            choices=tuple(choices[i]),
            decisions=decisions,
            total=round(float(totals[r]), 2),
            process=round(float(process[r]), 2),
            results=round(float(results[r]), 2),
            grade=grade(float(totals[r])),
            ending=ending.id,
            outcome=ending.outcome,
        )
        for r, i in enumerate(indices)
    ]


def _stuck_runs(session: Session | None, name: str, indices: list[int], seeds: Sequence[int | str], choices: list[list[str]], first: int, reason: str, where: str) -> list[Run]:
    decisions = tuple(session.chosen) if session is not None else ()
    return [Run(name, first + i, seeds[i], tuple(choices[i]), decisions, None, stuck=reason, where=where) for i in indices]


# ---------------------------------------------------------------- a batch of seeds


def _new_batch(loaded: LoadedScenario, seeds: Sequence[int | str]) -> Session:
    """Every seed's session as one batch (the engine's `Session.of_seeds`: row r is world 0 of
    seed r, exactly what `dealersim play --seed X` plays)."""
    return Session.of_seeds(loaded, seeds, observers=_observers(loaded))


class _Lanes:
    """Which rows of a batch this task plays, when a chunk is shared out between `lanes` tasks.

    Every task of the chunk plays its top (the first decisions, where the rows are still together)
    alike; when a shared group splits, each part that is small enough (at most 1/(8·lanes) of the
    chunk: small parts share out evenly) goes to the lane with the fewest rows so far, the bigger
    ones stay shared and split again further down. Every task makes the same splits in the same order, so they agree on the
    lanes without talking; each run is reported by exactly one task (shared rows by lane 0)."""

    def __init__(self, lane: int, lanes: int, rows: int):
        self.lane, self.lanes = lane, lanes
        self.load = [0] * lanes
        self.limit = rows / (8 * lanes)

    def mine(self, owner: int | None) -> bool:
        return owner == self.lane if owner is not None else self.lane == 0

    def share(self, owner: int | None, sizes: list[int]) -> list[int | None]:
        """The owner of each part of a group of `owner` that split into parts of `sizes` rows."""
        if owner is not None or self.lanes == 1:
            return [owner] * len(sizes)
        out: list[int | None] = [None] * len(sizes)
        for k in sorted(range(len(sizes)), key=lambda k: (-sizes[k], k)):
            if sizes[k] <= self.limit:
                target = min(range(self.lanes), key=lambda j: (self.load[j], j))
                self.load[target] += sizes[k]
                out[k] = target
        return out


def play_batch(loaded: LoadedScenario, name: str, seeds: Sequence[int | str], first: int = 0, on_done: Callable[[int], None] | None = None, lane: int = 0, lanes: int = 1) -> list[Run]:
    """Runs first, first+1, … of policy `name` on `seeds`, played as one batch (see the module doc).
    `on_done(k)` is told each time k more runs have ended (for a progress bar). With `lanes` > 1,
    only this task's share of the runs (see _Lanes): the `lanes` tasks together play them all."""
    try:
        batch = _new_batch(loaded, seeds)
    except DiagnosticError:  # the story loops before its first decision: each run reports it
        return play_solo(loaded, name, seeds, first, on_done) if lane == 0 else []
    doomed = frozenset(s.id for s in loaded.scenario.steps) - can_finish(loaded.scenario)
    policy_of = _policies_for(name, seeds)
    choices: list[list[str]] = [[] for _ in seeds]
    out = _Counted(on_done)
    share = _Lanes(lane, lanes, len(seeds))
    todo: list[tuple[Session, list[int], int | None]] = [(batch, list(range(len(seeds))), None)]
    while todo:
        group, runs, owner = todo.pop()
        if group.split is not None:
            rows_of = list(group.split.values())
            try:
                parts = group.resume_split()
            except DiagnosticError as err:
                if share.mine(owner):
                    out += _stuck_runs(group, name, runs, seeds, choices, first, err.diagnostics[0].message, group.step_id)
                continue
            owners = share.share(owner, [len(rows) for rows in rows_of])
            todo += [(part, [runs[r] for r in rows], o) for part, rows, o in zip(parts, rows_of, owners) if o is None or o == lane]
            continue
        if group.finished:
            if share.mine(owner):
                out += _finished_runs(group, name, runs, seeds, choices, first)
            continue
        # what each row's policy picks (rows whose picks agree stay together)
        picks: dict[Any, tuple[str, list[int]]] = {}
        stuck: dict[str, list[int]] = {}
        reason = _stuck_reason(group, doomed, group.turn, True)
        if reason:
            stuck[reason] = list(range(len(runs)))
        elif _same_for_every_row(name, group):
            if group.options():
                text = policy_of(runs[0])(group, 0)
                picks[text] = (text, list(range(len(runs))))
            else:
                stuck[_NO_OPTION] = list(range(len(runs)))
        else:
            for r, run in enumerate(runs):
                try:
                    text = policy_of(run)(group, r)
                except (ValueError, IndexError):  # a policy has nothing to pick from
                    if offered(group, r):
                        raise
                    stuck.setdefault(_NO_OPTION, []).append(r)
                    continue
                # rows stay together only if the batch plays exactly their move, from the same options
                # on offer (the scorer judges a choice against what was offered)
                key = (text, _resolved(group, r, text)) if group.negotiating else (text, tuple(o.id for o in offered(group, r)))
                picks.setdefault(key, (text, []))[1].append(r)
        whole = len(picks) == 1 and not stuck
        # the owner of each part: the stuck rows (by reason), then the picks
        owners = share.share(owner, [len(rows) for rows in stuck.values()] + [len(rows) for _, rows in picks.values()])
        for k, (reason, rows) in enumerate(stuck.items()):
            if share.mine(owners[k]):
                out += _stuck_runs(group, name, [runs[r] for r in rows], seeds, choices, first, reason, group.step_id)
        for k, (text, rows) in enumerate(picks.values()):
            part_owner = owner if whole else owners[len(stuck) + k]
            if part_owner is not None and part_owner != lane:
                continue  # another lane plays these
            part = group if whole else group.take(rows)
            ids = [runs[r] for r in rows]
            for i in ids:
                choices[i].append(text)
            try:
                part.choose(text)
            except DiagnosticError as err:
                if share.mine(part_owner):
                    out += _stuck_runs(part, name, ids, seeds, choices, first, err.diagnostics[0].message, part.step_id)
                continue
            todo.append((part, ids, part_owner))
    return sorted(out, key=lambda r: r.index)


class _Counted(list):
    """The runs that have ended, telling `on_done` how many more each time some are added."""

    def __init__(self, on_done: Callable[[int], None] | None):
        super().__init__()
        self.on_done = on_done

    def __iadd__(self, runs):  # type: ignore[override]
        self.extend(runs)
        if self.on_done and runs:
            self.on_done(len(runs))
        return self


def play_solo(loaded: LoadedScenario, name: str, seeds: Sequence[int | str], first: int = 0, on_done: Callable[[int], None] | None = None) -> list[Run]:
    """The same runs, each a single session of its own (the reference the batch is tested against)."""
    doomed = frozenset(s.id for s in loaded.scenario.steps) - can_finish(loaded.scenario)
    out = _Counted(on_done)
    for i, seed in enumerate(seeds):
        choices: list[str] = []
        session: Session | None = None
        try:
            session = Session(loaded, seed, observers=_observers(loaded))
            session.quiet = True
            policy = make_policy(name, session.entropy)
            while not session.finished:
                reason = _stuck_reason(session, doomed, session.turn, bool(session.options()))
                if reason:
                    raise _Stuck(reason)
                text = policy(session)
                choices.append(text)
                session.choose(text)
        except (DiagnosticError, _Stuck) as err:
            reason = err.diagnostics[0].message if isinstance(err, DiagnosticError) else str(err)
            out += _stuck_runs(session, name, [0], [seed], [choices], first + i, reason, session.step_id if session else "")
            continue
        out += _finished_runs(session, name, [0], [seed], [choices], first + i)
    return list(out)


# ---------------------------------------------------------------- chunks and worker processes


@dataclass(frozen=True)
class Task:
    policy: str
    start: int
    stop: int
    lane: int = 0  # this task plays lane `lane` of `lanes` of the chunk (see _Lanes)
    lanes: int = 1


def chunk_size(n: int) -> int:
    """Runs per task for a policy played n times: half of them (two tasks to share out), within
    MIN_CHUNK…CHUNK_RUNS. It depends on n only, never on the number of workers."""
    return min(CHUNK_RUNS, max(MIN_CHUNK, -(-n // 2)))


def tasks_for(plan: dict[str, int]) -> list[Task]:
    """Chunks of runs, by run index, for each policy and its number of runs. Random runs share
    little beyond the first decisions, so a big random chunk is not cut in two by run index but
    shared out by lanes (each task plays the common top and half of the tree below it): fewer
    batches of one run. Like chunk_size, it depends on n only."""
    tasks = []
    for name, n in plan.items():
        size = chunk_size(n)
        if name == "random" and n >= LANES * LANE_MIN:
            size = min(LANES * CHUNK_RUNS, n)
            tasks += [Task(name, start, min(start + size, n), lane, LANES) for start in range(0, n, size) for lane in range(LANES)]
        else:
            tasks += [Task(name, start, min(start + size, n)) for start in range(0, n, size)]
    return tasks


def run_task(loaded: LoadedScenario, seed: int | str, task: Task, on_done: Callable[[int], None] | None = None) -> list[Run]:
    seeds = [run_seed(seed, i) for i in range(task.start, task.stop)]
    return play_batch(loaded, task.policy, seeds, task.start, on_done, task.lane, task.lanes)


_WORKER: dict[str, Any] = {}


def _init_worker(path: str, sha256: str, seed: int | str, counter: Any) -> None:
    """Each worker loads the scenario once (the catalogue is cached by load_catalogue) and counts
    the runs it finishes in `counter`, shared with the parent for the progress bar."""
    from scoring.catalogue import load_catalogue
    from simulator.loader import load_scenario

    result = load_scenario(path, load_catalogue().ids)
    if not result.ok or result.loaded.sha256 != sha256:
        raise RuntimeError(f"{path} changed while the balance report was running")
    _WORKER.update(loaded=result.loaded, seed=seed, counter=counter)


def _count(k: int) -> None:
    counter = _WORKER["counter"]
    with counter.get_lock():
        counter.value += k


def _worker_task(task: Task) -> list[Run]:
    return run_task(_WORKER["loaded"], _WORKER["seed"], task, _count)


def play_all(loaded: LoadedScenario, plan: dict[str, int], seed: int | str, jobs: int = 1, progress: Callable[[int, int], None] | None = None) -> dict[str, list[Run]]:
    """Every policy's runs, in run order. `jobs` > 1 plays chunks in that many worker processes."""
    tasks = tasks_for(plan)
    total = sum(plan.values())
    results: dict[Task, list[Run]] = {}
    if progress:
        progress(0, total)
    if jobs > 1 and len(tasks) > 1 and Path(loaded.path).is_file():
        context = multiprocessing.get_context()
        counter = context.Value("q", 0)
        shown = 0
        with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=context, initializer=_init_worker, initargs=(loaded.path, loaded.sha256, seed, counter)) as pool:
            pending = {pool.submit(_worker_task, t): t for t in tasks}
            try:
                while pending:
                    finished, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                    for future in finished:
                        results[pending.pop(future)] = future.result()
                    if progress and counter.value != shown:
                        shown = counter.value
                        progress(shown, total)
            except BaseException:
                for future in pending:
                    future.cancel()
                raise
    else:
        done = 0

        def count(k: int) -> None:
            nonlocal done
            done += k
            if progress:
                progress(done, total)

        for task in tasks:
            results[task] = run_task(loaded, seed, task, count)
    return {name: sorted((r for t in tasks if t.policy == name for r in results[t]), key=lambda r: r.index) for name in plan}


# ---------------------------------------------------------------- the report


def grade_letters() -> list[str]:
    return [g for g, _ in sorted(rules()["grades"].items(), key=lambda kv: -kv[1])]


@dataclass
class PolicyStats:
    policy: str
    runs: int
    finished: int
    mean: float | None
    p10: float | None
    p50: float | None
    p90: float | None
    min: float | None
    max: float | None
    process_mean: float | None
    results_mean: float | None
    grades: dict[str, float]  # share of finished runs per grade
    endings: dict[str, int]  # ending id -> runs
    stuck: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def policy_stats(name: str, runs: list[Run], endings: Sequence[str]) -> PolicyStats:
    done = [r for r in runs if r.finished]
    totals = np.array([r.total for r in done], dtype=float)

    def r2(x: float) -> float:
        return round(float(x), 2)

    has = len(done) > 0
    grades = Counter(r.grade for r in done)
    reached = Counter(r.ending for r in done)
    return PolicyStats(
        policy=name,
        runs=len(runs),
        finished=len(done),
        mean=r2(totals.mean()) if has else None,
        p10=r2(np.percentile(totals, 10)) if has else None,
        p50=r2(np.percentile(totals, 50)) if has else None,
        p90=r2(np.percentile(totals, 90)) if has else None,
        min=r2(totals.min()) if has else None,
        max=r2(totals.max()) if has else None,
        process_mean=r2(np.mean([r.process for r in done])) if has else None,
        results_mean=r2(np.mean([r.results for r in done])) if has else None,
        grades={g: round(grades[g] / len(done), 4) if has else 0.0 for g in grade_letters()},
        endings={e: reached[e] for e in endings},
        stuck=len(runs) - len(done),
    )


@dataclass
class Blunder:
    step: str
    choice: str
    text: str  # the choice's text in the report's language
    principles: dict[str, int]
    took_runs: int
    took_mean: float
    other_runs: int
    other_mean: float

    @property
    def gap(self) -> float:
        return round(self.took_mean - self.other_mean, 2)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "gap": self.gap}


def blunders(loaded: LoadedScenario, runs: list[Run], lang: Lang = "en") -> list[Blunder]:
    """Per (step, choice): the mean total of the runs that took it against those that reached the
    step and took another option; the worst gaps first (at least BLUNDER_GAP points)."""
    done = [r for r in runs if r.finished]
    support = max(10, len(done) // 200)
    reached: dict[str, list[float]] = {}
    took: dict[str, list[float]] = {}
    for r in done:
        steps, picks = set(), set()
        for d in r.decisions:
            steps.add(d.split(".", 1)[0])
            picks.add(d)
        for s in steps:
            reached.setdefault(s, []).append(r.total)  # type: ignore[arg-type]
        for d in picks:
            took.setdefault(d, []).append(r.total)  # type: ignore[arg-type]
    out = []
    sc = loaded.scenario
    for key, values in took.items():
        step_id, choice_id = key.split(".", 1)
        all_at_step = reached[step_id]
        n_other = len(all_at_step) - len(values)
        if len(values) < support or n_other < support:
            continue
        took_mean = sum(values) / len(values)
        other_mean = (sum(all_at_step) - sum(values)) / n_other
        if took_mean - other_mean > -BLUNDER_GAP:
            continue
        step = sc.step(step_id)
        choice = next(c for c in step.choices if c.id == choice_id)  # type: ignore[union-attr]
        out.append(Blunder(step_id, choice_id, text_in(choice.text, lang), dict(choice.principles), len(values), round(took_mean, 2), n_other, round(other_mean, 2)))
    return sorted(out, key=lambda b: (b.gap, b.step, b.choice))[:MAX_BLUNDERS]


@dataclass
class Flag:
    id: str
    fired: bool
    message: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BalanceReport:
    scenario_id: str
    file: str
    seed: int | str
    n: int
    fixed_n: int
    lang: Lang
    policies: list[str]  # asked for, in order
    fixed: list[str]  # the fixed-option checks played (fixed:1 … fixed:K)
    stats: dict[str, PolicyStats]
    endings: dict[str, str]  # ending id -> outcome, in file order
    best: list[Run]
    worst: list[Run]
    blunders: list[Blunder]
    blunder_source: str  # "random" or "all"
    flags: list[Flag]
    fixed_vs_course: dict[str, dict[str, float]]  # fixed:k -> {runs, fixed, course}: means on the same seeds
    runs: dict[str, list[Run]] = field(default_factory=dict, repr=False)

    @property
    def fired(self) -> list[Flag]:
        return [f for f in self.flags if f.fired]

    def to_json(self, runs: bool = False) -> dict[str, Any]:
        """Everything in the report; with `runs`, every run as well (with its command)."""
        first = run_seed(self.seed, 0)
        out = {
            "scenario": self.scenario_id,
            "file": self.file,
            "seed": self.seed,
            "run_seed": "seed + i" if isinstance(first, int) else "seed-i",
            "n": self.n,
            "fixed_n": self.fixed_n,
            "lang": self.lang,
            "policies": self.policies,
            "fixed_checks": self.fixed,
            "stats": {name: s.to_json() for name, s in self.stats.items()},
            "endings": self.endings,
            "best": [r.to_json(self.file) for r in self.best],
            "worst": [r.to_json(self.file) for r in self.worst],
            "blunders": {"source": self.blunder_source, "items": [b.to_json() for b in self.blunders]},
            "fixed_vs_course": self.fixed_vs_course,
            "flags": [f.to_json() for f in self.flags],
            "fired": [f.id for f in self.fired],
        }
        if runs:
            out["runs"] = {name: [r.to_json(self.file) for r in rs] for name, rs in self.runs.items()}
        return out


def _distinct_paths(runs: list[Run], best_first: bool) -> list[Run]:
    """The best (or worst) runs, one per distinct path (the same choices on another seed is not news)."""
    ordered = sorted(runs, key=lambda r: ((-r.total if best_first else r.total), r.policy, r.index))  # type: ignore[operator]
    seen: set[tuple[str, ...]] = set()
    out = []
    for r in ordered:
        if r.choices in seen:
            continue
        seen.add(r.choices)
        out.append(r)
        if len(out) == SHOWN_PATHS:
            break
    return out


def _flags(stats: dict[str, PolicyStats], paired: dict[str, dict[str, float]], best: list[Run]) -> list[Flag]:
    flags = []
    course, random = stats.get("course"), stats.get("random")
    if course is None or random is None or course.mean is None or random.mean is None:
        flags.append(Flag("course_not_better", False, "not checked: needs the random and course policies"))
    else:
        gap = course.mean - random.mean
        why = []
        if gap < COURSE_MARGIN:
            why.append(f"its mean {course.mean:.1f} is only {gap:+.1f} against random's {random.mean:.1f} (needs +{COURSE_MARGIN:.0f})")
        if course.p10 < random.p50:  # type: ignore[operator]
            why.append(f"its p10 {course.p10:.1f} is below random's median {random.p50:.1f}")
        if why:
            flags.append(Flag("course_not_better", True, "the course-following policy is not clearly better than random: " + "; ".join(why)))
        else:
            flags.append(Flag("course_not_better", False, f"the course is clearly better than random: mean {course.mean:.1f} vs {random.mean:.1f} ({gap:+.1f}), its p10 {course.p10:.1f} ≥ random's median {random.p50:.1f}"))
    if not paired:
        flags.append(Flag("fixed_option_wins", False, "not checked: needs the course policy and the fixed-option checks"))
    else:
        winners = [(name, v) for name, v in paired.items() if v["fixed"] >= v["course"]]
        if winners:
            text = "; ".join(f"{name} ({describe_policy(name)}) mean {v['fixed']:.1f} ≥ the course's {v['course']:.1f} on the same seeds" for name, v in winners)
            flags.append(Flag("fixed_option_wins", True, f"one fixed option wins everywhere: {text}"))
        else:
            top, v = max(paired.items(), key=lambda kv: kv[1]["fixed"])
            flags.append(Flag("fixed_option_wins", False, f"no fixed option matches the course: the best, {top}, averages {v['fixed']:.1f} against {v['course']:.1f}"))
    if not best:
        flags.append(Flag("best_below_85", True, "no run reached an ending"))
    elif best[0].total < BEST_FLOOR:  # type: ignore[operator]
        flags.append(Flag("best_below_85", True, f"the best path found scores {best[0].total:.1f}, below {BEST_FLOOR:.0f}: no run earned an A"))
    else:
        flags.append(Flag("best_below_85", False, f"the best path found scores {best[0].total:.1f}"))
    stuck = sum(s.stuck for s in stats.values())
    if stuck:
        flags.append(Flag("runs_stuck", True, f"{stuck} run(s) stopped without an ending: run `dealersim explore` for the dead ends"))
    return flags


def balance(
    loaded: LoadedScenario,
    *,
    n: int = 10_000,
    policies: Sequence[str] = DEFAULT_POLICIES,
    seed: int | str = 0,
    jobs: int = 1,
    fixed_n: int | None = None,
    lang: Lang = "en",
    progress: Callable[[int, int], None] | None = None,
) -> BalanceReport:
    asked = parse_policies(list(policies))
    fixed_n = min(n, DEFAULT_FIXED_N) if fixed_n is None else fixed_n
    checks = [f"fixed:{k}" for k in range(1, fixed_options(loaded) + 1)] if fixed_n > 0 else []
    plan = {name: n for name in asked}
    for name in checks:
        plan.setdefault(name, fixed_n)
    fixed = [name for name in plan if name.startswith("fixed:")]  # the checks, and any asked for
    runs = play_all(loaded, plan, seed, jobs, progress)
    sc = loaded.scenario
    endings = {s.id: s.outcome for s in sc.steps if isinstance(s, EndingStep)}
    stats = {name: policy_stats(name, runs[name], list(endings)) for name in plan}
    everything = [r for name in plan for r in runs[name] if r.finished]
    best = _distinct_paths(everything, True)
    worst = _distinct_paths(everything, False)
    source = "random" if "random" in runs else "all"
    found = blunders(loaded, runs["random"] if source == "random" else [r for name in plan for r in runs[name]], lang)
    paired = {}  # each fixed option against the course on the same seeds (the runs both played)
    if "course" in runs:
        for name in fixed:
            m = min(len(runs[name]), len(runs["course"]))
            mine = [r.total for r in runs[name][:m] if r.finished]
            course = [r.total for r in runs["course"][:m] if r.finished]
            if mine and course:
                paired[name] = {"runs": m, "fixed": round(float(np.mean(mine)), 2), "course": round(float(np.mean(course)), 2)}
    return BalanceReport(
        scenario_id=sc.id,
        file=loaded.path,
        seed=seed,
        n=n,
        fixed_n=fixed_n,
        lang=lang,
        policies=asked,
        fixed=fixed,
        stats=stats,
        endings=endings,
        best=best,
        worst=worst,
        blunders=found,
        blunder_source=source,
        flags=_flags(stats, paired, best),
        fixed_vs_course=paired,
        runs=runs,
    )


# ---------------------------------------------------------------- text


def _num(x: float | None, width: int = 6) -> str:
    return f"{x:>{width}.1f}" if x is not None else f"{'-':>{width}}"


def _pct(x: float) -> str:
    return f"{100 * x:>3.0f}%"


def _share(count: int, runs: int) -> str:
    """A share of runs: "-" for none at all, "<1%" for a few."""
    if not count or not runs:
        return "-"
    return "<1%" if count / runs < 0.005 else _pct(count / runs).strip()


def _short(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def render_text(report: BalanceReport) -> list[str]:
    lines = [f"Balance of {report.scenario_id} ({report.file})"]
    first, last = run_seed(report.seed, 0), run_seed(report.seed, report.n - 1)
    rule = f"{first} + i" if isinstance(first, int) else f"{report.seed}-i"
    lines.append(f"  {report.n:,} run(s) per policy: run i plays seed {rule} (seeds {first} … {last}), the same seeds for every policy")
    if report.fixed:
        m = min(report.stats[name].runs for name in report.fixed)
        lines.append(f"  fixed-option checks ({', '.join(report.fixed)}): at least {m:,} run(s) each, on the first seeds")
    lines.append("")
    letters = grade_letters()
    head = f"  {'policy':<10} {'plays':<20} {'runs':>6} {'mean':>6} {'p10':>6} {'p50':>6} {'p90':>6} {'min':>6} {'max':>6}  " + " ".join(f"{g:>4}" for g in letters) + "  stuck"
    lines.append("Scores (total 0–100; grade shares of the runs that ended)")
    lines.append(head)
    for name, s in report.stats.items():
        row = f"  {name:<10} {describe_policy(name):<20} {s.runs:>6,} {_num(s.mean)} {_num(s.p10)} {_num(s.p50)} {_num(s.p90)} {_num(s.min)} {_num(s.max)}  "
        row += " ".join(_pct(s.grades[g]) for g in letters) + f"  {s.stuck:>5}"
        lines.append(row)
    unequal = [(name, v) for name, v in report.fixed_vs_course.items() if v["runs"] != report.stats["course"].runs]
    if unequal:
        course = {v["course"] for _, v in unequal}
        lines.append(f"  (the course on the fixed-option checks' seeds: mean {', '.join(f'{c:.1f}' for c in sorted(course))})")
    lines.append("")
    lines.append("Endings reached (share of each policy's runs; - never)")
    names = list(report.stats)
    width = max([len(e) for e in report.endings] + [10])
    lines.append(f"  {'ending':<{width}} {'outcome':<7} " + " ".join(f"{name:>8}" for name in names))
    for e, outcome in report.endings.items():
        cells = " ".join(f"{_share(report.stats[name].endings[e], report.stats[name].runs):>8}" for name in names)
        lines.append(f"  {e:<{width}} {outcome:<7} {cells}")
    if any(s.stuck for s in report.stats.values()):
        cells = " ".join(f"{_share(s.stuck, s.runs):>8}" for s in report.stats.values())
        lines.append(f"  {'(stuck)':<{width}} {'':<7} {cells}")
    # one row per distinct path: with few paths the best list reaches bad ones and the worst list good ones
    for title, paths in (("Best paths found (each path once, at its best run)", report.best),
                         ("Worst paths found (each path once, at its worst run)", report.worst)):
        lines.append("")
        lines.append(title)
        for r in paths:
            lines.append(f"  {r.total:>5.1f} {r.grade}  {r.policy}, run {r.index}, ending {r.ending} ({r.outcome})")
            lines.append(f"        {r.command(report.file)}")
    lines.append("")
    source = "random runs" if report.blunder_source == "random" else "all runs"
    lines.append(f"Most common blunders ({source}: mean total after taking the choice vs after another option at the same step)")
    if not report.blunders:
        lines.append(f"  none: no choice is followed by a total {BLUNDER_GAP:.0f}+ points lower than the alternatives")
    else:
        lines.append(f"  {'gap':>6}  {'took it':>15}  {'other options':>15}  step.choice")
        for b in report.blunders:
            tags = ", ".join(f"{p} {w:+d}" for p, w in b.principles.items()) or "no principle tags"
            lines.append(f"  {b.gap:>6.1f}  {b.took_runs:>6,} × {b.took_mean:>5.1f}  {b.other_runs:>6,} × {b.other_mean:>5.1f}  {b.step}.{b.choice}")
            lines.append(f"  {'':>6}  “{_short(b.text)}”  [{tags}]")
    lines.append("")
    lines.append("Flags")
    for f in report.flags:
        mark = "FLAG" if f.fired else " ok "
        lines.append(f"  [{mark}] {f.id}: {f.message}")
    return lines


__all__ = [
    "DEFAULT_POLICIES",
    "CHUNK_RUNS",
    "Run",
    "Task",
    "BalanceReport",
    "PolicyStats",
    "Blunder",
    "Flag",
    "run_seed",
    "parse_policies",
    "play_batch",
    "play_solo",
    "play_all",
    "tasks_for",
    "balance",
    "render_text",
]

"""What the debrief viewer shows, as plain data: no Textual (simulator/tui/screens/debrief.py draws it).

A session log becomes a `LogView`: one `Row` per decision, each with the market as it was just
before the decision (the log's choices replayed on the scenario — the engine is deterministic)
and, once `analyse_view` has run, the per-decision analysis (scoring/analysis.py): the mark, the
best alternative and where each option would have led. `compare` grades a retried decision
against the same analysis (simulator/retry.py builds the retry itself).

The log's own data (texts, principles, feedback, the final scorecard) comes from
`scoring.report.load_debrief`, the same reading the Markdown/HTML debrief uses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from scoring.analysis import DEFAULT_ROLLOUTS, analyse_decision
from scoring.analysis_types import MARKS, DecisionAnalysis, Label, label_for
from scoring.catalogue import Catalogue
from scoring.report import load_debrief
from scoring.rubric import Scorer
from simulator.diagnostics import DiagnosticError
from simulator.engine import Session
from simulator.record import read_log
from simulator.recorded import LogSummary, session_logs
from simulator.retry import RecordedChoice, recorded_choices
from simulator.schema import Lang, text_in

FLAGGED: frozenset[Label] = frozenset({"inaccuracy", "mistake", "blunder"})
Progress = Callable[[int, int], None]


@dataclass
class DealerSnapshot:
    id: str
    name: str
    values: dict[str, float | bool]  # every observable field of the dealer, by field name
    sales: list[float]  # weekly sell-through up to this moment


@dataclass
class Moment:
    """The market as the trainee saw it just before a decision."""

    week: int
    dealers: list[DealerSnapshot]
    notebook: list[str]
    options: list[tuple[str, str]]  # (id, text) of what was on offer


@dataclass
class Row:
    """One decision on the timeline."""

    turn: int
    step: str
    step_title: str
    step_text: str
    choice: str
    text: str  # the option chosen, in the session's language
    principles: dict[str, int]
    feedback: str
    week: int
    moment: Moment | None = None  # None when the scenario cannot be replayed
    analysis: DecisionAnalysis | None = None

    @property
    def label(self) -> Label | None:
        return self.analysis.label if self.analysis else None

    @property
    def mark(self) -> str:
        return MARKS[self.analysis.label] if self.analysis else ""

    @property
    def flagged(self) -> bool:
        return self.label in FLAGGED

    @property
    def retryable(self) -> bool:
        """A retry is graded against the analysis, so only analysed decisions can be retried."""
        return self.analysis is not None


@dataclass
class LogView:
    path: Path
    header: dict
    status: str  # finished, unfinished, damaged
    rows: list[Row]
    choices: list[RecordedChoice]
    loaded: object | None  # LoadedScenario when the scenario is the one played (same sha256)
    scenario_state: str  # same, changed, missing
    problem: str = ""  # why the market cannot be replayed (technical detail, for a log file or a bug report)
    market: str = "ok"  # ok, or why the market is not shown: missing, changed (the scenario), damaged (the log), diverged
    card: dict | None = None
    ending: dict | None = None
    analysed: bool = False

    @property
    def lang(self) -> Lang:
        lang = self.header.get("lang")
        return lang if lang in ("zh", "en") else "en"

    @property
    def trainee(self) -> str:
        return str(self.header.get("trainee", ""))

    @property
    def seed(self) -> str:
        return str(self.header.get("seed", "0"))

    @property
    def retry_of(self) -> dict | None:
        value = self.header.get("retry_of")
        return value if isinstance(value, dict) else None

    @property
    def replayable(self) -> bool:
        return self.loaded is not None and self.scenario_state == "same" and self.status != "damaged"

    def title(self, lang: Lang) -> str:
        if self.loaded is not None:
            return text_in(self.loaded.scenario.title, lang)
        return str(self.header.get("scenario_id", "?"))

    def option_text(self, row: Row, option: str, lang: Lang) -> str:
        """An option's text in `lang` (from the analysis, else the scenario, else its id)."""
        if row.analysis is not None:
            value = next((o for o in row.analysis.options if o.option == option), None)
            if value is not None:
                return value.text_zh if lang == "zh" else value.text_en
        choice = self.step_choice(row.step, option)
        return text_in(choice.text, lang) if choice is not None else option

    def step_texts(self, row: Row, lang: Lang) -> tuple[str, str]:
        """(title, text) of the decision's step in `lang` when the scenario is at hand, else as logged."""
        if self.loaded is not None:
            try:
                s = self.loaded.scenario.step(row.step)
            except KeyError:
                return row.step_title, row.step_text
            return text_in(getattr(s, "title", None), lang), text_in(getattr(s, "text", None), lang)
        return row.step_title, row.step_text

    def step_choice(self, step: str, option: str):
        if self.loaded is None:
            return None
        try:
            s = self.loaded.scenario.step(step)
        except KeyError:
            return None
        return next((c for c in getattr(s, "choices", []) if c.id == option), None)

    def principles_of(self, row: Row, option: str) -> dict[str, int]:
        if option == row.choice:
            return dict(row.principles)
        choice = self.step_choice(row.step, option)
        return dict(choice.principles) if choice is not None else {}

    def ending_name(self, ending_id: str, lang: Lang) -> str:
        if self.loaded is not None:
            try:
                s = self.loaded.scenario.step(ending_id)
            except KeyError:
                return ending_id
            return text_in(getattr(s, "title", None), lang) or _first_sentence(text_in(getattr(s, "text", None), lang)) or ending_id
        return ending_id

    def ending_outcome(self, ending_id: str) -> str:
        if self.loaded is None:
            return ""
        try:
            return str(getattr(self.loaded.scenario.step(ending_id), "outcome", "") or "")
        except KeyError:
            return ""

    def set_analysis(self, analyses: list[DecisionAnalysis]) -> None:
        by_turn = {a.turn: a for a in analyses}
        for row in self.rows:
            row.analysis = by_turn.get(row.turn)
        self.analysed = True


def _first_sentence(text: str, limit: int = 40) -> str:
    for stop in ("。", ". ", "！", "？", "\n"):
        if stop in text:
            text = text.split(stop)[0]
    return text[:limit]


def load_view(path: Path, *, lang: Lang | None = None, catalogue: Catalogue | None = None) -> LogView:
    """Read a session log for the viewer (dealer names in `lang`, default the session's). Raises
    DiagnosticError only when it is not a session log at all; a damaged log keeps its good
    decisions, a changed or missing scenario keeps the rows without the market (`problem` says why)."""
    debrief = load_debrief(Path(path), rollouts=0, catalogue=catalogue)
    contents = read_log(Path(path))
    choices = recorded_choices(contents)
    rows = [
        Row(
            turn=d.turn, step=d.step, step_title=d.step_title, step_text=d.step_text, choice=d.choice, text=d.text,
            principles=dict(d.principles), feedback=d.feedback, week=d.week,
        )
        for d in debrief.decisions
    ]
    view = LogView(
        path=Path(path), header=debrief.header, status=debrief.status, rows=rows, choices=choices,
        loaded=debrief.loaded, scenario_state=debrief.scenario_state, problem=debrief.scenario_problem,
        card=debrief.card, ending=debrief.ending,
    )
    if view.replayable:
        try:
            for row, moment in zip(rows, moments(view, lang or view.lang)):
                row.moment = moment
        except DiagnosticError as err:  # a move the scenario no longer offers: keep what was replayed
            view.market, view.problem = "diverged", "; ".join(d.render() for d in err.diagnostics)
    elif view.status == "damaged":
        view.market = "damaged"
        view.problem = "; ".join(d.render() for d in contents.diagnostics if d.severity == "error")
    elif view.scenario_state == "changed":
        view.market, view.problem = "changed", f"the scenario file {view.loaded.path} has changed since this session was played"
    else:
        view.market = "missing"
    return view


def moments(view: LogView, lang: Lang) -> list[Moment]:
    """The market just before each decision, by replaying the log's choices (stops at the first that fails)."""
    loaded = view.loaded
    assert loaded is not None
    session = Session(loaded, view.seed, view.lang)
    names = {d.id: text_in(d.name, lang) for d in loaded.scenario.market.dealers}
    sales: dict[str, list[float]] = {d: [] for d in names}

    def take_weeks(events) -> None:
        for e in events:
            if e["kind"] == "week":
                for dealer_id, data in e["data"].get("dealers", {}).items():
                    if dealer_id in sales:
                        sales[dealer_id].append(float(data["sales"]))

    take_weeks(session.events)
    out = []
    for c in view.choices:
        if session.finished:
            break
        out.append(snapshot(session, names, sales))
        take_weeks(session.choose(c.choice, **c.params))
    return out


def snapshot(session: Session, names: dict[str, str], sales: dict[str, list[float]]) -> Moment:
    values = session.observe()
    dealers = []
    for dealer_id, name in names.items():
        prefix = f"dealer.{dealer_id}."
        fields = {k[len(prefix):]: v for k, v in values.items() if k.startswith(prefix)}
        dealers.append(DealerSnapshot(dealer_id, name, fields, list(sales[dealer_id])))
    return Moment(
        week=session.state.week,
        dealers=dealers,
        notebook=list(session.notebook),
        options=[(o.id, o.text) for o in session.options()],
    )


def analyse_view(view: LogView, rollouts: int = DEFAULT_ROLLOUTS, progress: Progress | None = None) -> list[DecisionAnalysis]:
    """The per-decision analysis of the view's session (as `scoring.analysis.analyse_log` computes
    it), reporting `progress(done, total)` after each decision. Negotiation moves are played, not
    analysed; a choice the scenario no longer offers ends the analysis there."""
    if not view.replayable:
        return []
    loaded = view.loaded
    session = Session(loaded, view.seed, view.lang, observers=[Scorer(loaded)])
    total = len(view.choices)
    out: list[DecisionAnalysis] = []
    for done, c in enumerate(view.choices, start=1):
        if session.finished:
            break
        if not session.negotiating:
            if c.choice not in {o.id for o in session.options()}:
                break
            out.append(analyse_decision(session, c.choice, rollouts))
        session.choose(c.choice, **c.params)
        if progress is not None:
            progress(done, total)
    return out


# ---------------------------------------------------------------- a retried decision


@dataclass
class Verdict:
    """How a retried decision compares with the best option (values from the original analysis)."""

    turn: int
    chosen: str
    best: str
    chosen_total: float
    best_total: float
    loss: float
    label: Label
    original: str  # what was chosen the first time
    original_total: float
    principles_chosen: dict[str, int] = field(default_factory=dict)
    principles_best: dict[str, int] = field(default_factory=dict)

    @property
    def mark(self) -> str:
        return MARKS[self.label]

    @property
    def improved(self) -> float:
        """Expected points gained against the first attempt (negative: lost)."""
        return round(self.chosen_total - self.original_total, 2)


def compare(analysis: DecisionAnalysis, chosen: str, principles: Callable[[str], dict[str, int]] | None = None) -> Verdict:
    """Grade `chosen` at the analysed decision as `analyse_decision` grades the original choice.

    The state before the decision is the same as in the original session (the same seed and the
    same earlier choices), so the analysis's option values apply unchanged."""
    values = {o.option: o for o in analysis.options}
    best = values[analysis.best]
    mine = values.get(chosen)
    if mine is None:
        raise KeyError(f"option {chosen!r} was not on offer at decision {analysis.turn}")
    loss = max(best.expected_total - mine.expected_total, 0.0)
    tags = principles or (lambda option: {})
    return Verdict(
        turn=analysis.turn,
        chosen=chosen,
        best=best.option,
        chosen_total=mine.expected_total,
        best_total=best.expected_total,
        loss=round(loss, 2),
        label=label_for(loss, mine.expected_total >= best.expected_total),
        original=analysis.chosen,
        original_total=values[analysis.chosen].expected_total,
        principles_chosen=tags(chosen),
        principles_best=tags(best.option),
    )


# ---------------------------------------------------------------- the logs to open


LogEntry = LogSummary  # the viewer's picker lists logs as the game's resume list does


def find_logs(folder: Path, limit: int = 100) -> list[LogEntry]:
    """Session logs under `folder` (finished or not), newest first by file name (it starts with the time)."""
    return session_logs(folder, limit=limit)

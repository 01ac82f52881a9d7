"""What the screens show, computed from the engine and the log: no Textual here.

The widgets receive these plain values ("attributes down"); every change to the game goes through
`Game.decide`, i.e. `RecordedSession.choose`, so a decision is in the log before the screen moves
on. Heavy imports (numpy, pydantic, the engine) happen when this module is first imported, which
the app does in a worker thread after the first screen is up.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from scoring import session_observers
from scoring.catalogue import Catalogue, load_catalogue
from simulator.diagnostics import Diagnostic, DiagnosticError
from simulator.engine import Event
from simulator.i18n import all_keys, t
from simulator.library import shipped_dir
from simulator.loader import LoadedScenario, load_scenario, scenario_files
from simulator.market import Market
from simulator.recorded import LogNotice, LogSummary, RecordedSession, default_log_path, fallback_folder, session_logs
from simulator.schema import FAMILIES, Lang, text_in
from simulator.transcript import describe, goods_unit

SAFETY_CYCLES = 1.5  # the course's target: stock ≈ 1.5 × one sales cycle (seed 001, 4.1)
DEFAULT_BAND = (1.2, 1.8)  # PRINCIPLES.md's proposed acceptable band; the scorer's rules.toml is preferred
# what the events feed shows; steps and choices are the story. A negotiation's events show too, but
# never `nego_result`: the counterpart's hidden profile is for the debrief.
FEED_KINDS = ("effect", "week", "ending", "nego_bid", "nego_move", "nego_reply", "nego_deadlock", "nego_end")


def cover_band() -> tuple[float, float]:
    """The acceptable band of cover (in sales cycles) around the 1.5-cycle target, as the scorer uses it."""
    try:
        from scoring.rubric import rules

        lo, hi = rules()["rules"]["cover_after_order"]["band"]
        return float(lo), float(hi)
    except (ImportError, KeyError, TypeError, ValueError):
        return DEFAULT_BAND


def catalogue() -> Catalogue:
    return load_catalogue()


# ---------------------------------------------------------------- the scenario library


@dataclass
class ScenarioInfo:
    path: Path
    loaded: LoadedScenario | None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.loaded is not None

    @property
    def errors(self) -> int:
        """How many of its diagnostics are errors (a file with any does not load)."""
        return sum(1 for d in self.diagnostics if d.severity == "error")

    @property
    def id(self) -> str:
        return self.loaded.scenario.id if self.loaded else str(self.path)

    @property
    def family(self) -> str:
        return self.loaded.scenario.family if self.loaded else ""

    def title(self, lang: Lang) -> str:
        return text_in(self.loaded.scenario.title, lang) if self.loaded else self.path.name

    def summary(self, lang: Lang) -> str:
        return text_in(self.loaded.scenario.summary, lang) if self.loaded else ""

    def principle_names(self, lang: Lang) -> list[tuple[str, str]]:
        if not self.loaded:
            return []
        cat = catalogue()
        return [(pid, cat.get(pid).text("name", lang) if pid in cat else pid) for pid in self.loaded.scenario.principles]


UnfinishedSession = LogSummary  # a resumable log, as the home screen lists it


@dataclass
class Library:
    scenarios: list[ScenarioInfo]
    unfinished: list[UnfinishedSession]

    def by_family(self) -> list[tuple[str, list[ScenarioInfo]]]:
        # within a family, easiest first: the order a trainee should meet them in
        groups = [(fam, sorted((s for s in self.scenarios if s.ok and s.family == fam), key=lambda s: (s.loaded.scenario.difficulty, s.id)))
                  for fam in FAMILIES]
        return [(fam, items) for fam, items in groups if items]

    @property
    def broken(self) -> list[ScenarioInfo]:
        return [s for s in self.scenarios if not s.ok]

    def find(self, scenario_id: str) -> ScenarioInfo | None:
        return next((s for s in self.scenarios if s.ok and s.id == scenario_id), None)


def load_library(extra_dirs: Sequence[str | Path], sessions: Path | None, shipped: bool = True) -> Library:
    principles = catalogue().ids
    folders: list[str | Path] = [shipped_dir()] if shipped else []
    folders += list(extra_dirs)
    scenarios = []
    seen: set[Path] = set()
    for path in scenario_files(folders):
        key = path.resolve()
        if key in seen:
            continue
        seen.add(key)
        result = load_scenario(path, principles)
        scenarios.append(ScenarioInfo(path, result.loaded if result.ok else None, result.diagnostics))
    return Library(scenarios, find_unfinished(sessions) if sessions else [])


def find_unfinished(folder: Path, limit: int = 50) -> list[UnfinishedSession]:
    """Session logs in `folder` that can be resumed, newest first (by file name: it starts with the time)."""
    return session_logs(folder, limit=limit, keep=lambda log: log.ok and not log.finished)


def fresh_seed() -> int:
    """A seed for a trainee who gave no workshop code (the time of day, like the plain front end)."""
    return int(datetime.now().strftime("%H%M%S"))


def seed_from(code: str) -> int | str:
    code = code.strip()
    if not code:
        return fresh_seed()
    return int(code) if code.isdigit() else code


def start_session(
    loaded: LoadedScenario, seed: int | str, lang: Lang, trainee: str, sessions: Path, log: Path | None = None
) -> RecordedSession:
    trainee = trainee.encode("utf-8", "replace").decode("utf-8")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = log or default_log_path(sessions, loaded.scenario.id, trainee, seed, stamp)
    return RecordedSession.start(
        loaded, seed, lang, path, trainee=trainee, catalogue_version=catalogue().version, observers=session_observers,
        fallback=fallback_folder(),  # a read-only or full folder moves the log; the app tells the trainee
    )


def resume_session(path: Path) -> RecordedSession:
    return RecordedSession.resume(path, principles=catalogue().ids, observers=session_observers, fallback=fallback_folder())


# ---------------------------------------------------------------- what the play screen shows


@dataclass
class DealerView:
    id: str
    name: str
    values: dict[str, float | bool]  # every observable field of this dealer, by field name
    sales: list[float]  # weekly sell-through recorded so far

    def get(self, name: str) -> float | None:
        value = self.values.get(name)
        return None if value is None or isinstance(value, bool) else float(value)


@dataclass
class PrincipleTag:
    id: str
    weight: int
    name: str
    citation: str


@dataclass
class Decision:
    turn: int
    step_title: str
    text: str
    reply: str
    feedback: str
    tags: list[PrincipleTag]


@dataclass
class StoryBlock:
    kind: str  # "step", "choice", "ending"
    title: str = ""
    text: str = ""
    decision: Decision | None = None
    outcome: str = ""


class Game:
    """One live session as the screens see it."""

    def __init__(self, recorded: RecordedSession, mode: str = "coaching"):
        self.recorded = recorded
        self.mode = mode
        self.session = recorded.session
        self.scenario = self.session.scenario
        self.lang: Lang = self.session.lang
        self.names = {d.id: text_in(d.name, self.lang) for d in self.scenario.market.dealers}
        self.unit = goods_unit(self.scenario.market.unit, self.lang)  # 箱, 台, … as the story counts the goods
        self.closed = False
        # the app's way to hear that the log moved or waits in memory (called from the decision's thread)
        self.on_log_notice: Callable[[LogNotice], None] | None = None

    # -------------------------------------------------------- state

    @property
    def path(self) -> Path:
        return self.recorded.path

    @property
    def finished(self) -> bool:
        return self.session.finished

    @property
    def events(self) -> list[Event]:
        return self.recorded.events

    @property
    def title(self) -> str:
        return text_in(self.scenario.title, self.lang)

    @property
    def briefing(self) -> str:
        return text_in(self.scenario.briefing, self.lang)

    @property
    def week(self) -> int:
        return self.session.state.week

    @property
    def turn(self) -> int:
        return self.session.turn

    def options(self):
        return self.session.options()

    def decide(self, option_id: str, **params) -> list[Event]:
        """The one way the screens change the game: recorded before it returns. `params` go with a
        negotiation move (`values=`, `issue=`, `how=`), as `Session.choose` takes them."""
        events = self.recorded.choose(option_id, **params)
        if self.on_log_notice is not None:
            for notice in self.recorded.take_notices():
                self.on_log_notice(notice)
        return events

    def preview_offer(self, values: dict) -> dict:
        """An offer as it would be made and its worth to the company, without making it (the table's builder)."""
        return self.session.preview_offer(values)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.recorded.close()

    # -------------------------------------------------------- views

    def dealers(self) -> list[DealerView]:
        values = self.session.observe()
        out = []
        for dealer_id, name in self.names.items():
            prefix = f"dealer.{dealer_id}."
            fields = {k[len(prefix):]: v for k, v in values.items() if k.startswith(prefix)}
            out.append(DealerView(dealer_id, name, fields, self.sales_history(dealer_id)))
        return out

    def sales_history(self, dealer_id: str) -> list[float]:
        return [
            float(e["data"]["dealers"][dealer_id]["sales"])
            for e in self.events
            if e["kind"] == "week" and dealer_id in e["data"].get("dealers", {})
        ]

    def market_values(self) -> dict[str, float | bool]:
        return {k[len("market."):]: v for k, v in self.session.observe().items() if k.startswith("market.")}

    def feed_lines(self, events: Sequence[Event]) -> list[str]:
        lines: list[str] = []
        for event in events:
            if event["kind"] in FEED_KINDS:
                lines += describe(event, self.lang, self.names, unit=self.unit)
        return lines

    def last_feed(self) -> list[str]:
        """What happened after the last decision (for a resumed session)."""
        start = max((i for i, e in enumerate(self.events) if e["kind"] == "choice"), default=len(self.events))
        return self.feed_lines(self.events[start:])

    def weeks_in(self, events: Sequence[Event]) -> list[int]:
        return [int(e["data"]["week"]) for e in events if e["kind"] == "week"]

    def tags(self, principles: dict[str, int]) -> list[PrincipleTag]:
        cat = catalogue()
        tags = []
        for pid, weight in principles.items():
            if pid in cat:
                p = cat.get(pid)
                tags.append(PrincipleTag(pid, int(weight), p.text("name", self.lang), f"{p.citation.seed} · {p.citation.section}"))
            else:
                tags.append(PrincipleTag(pid, int(weight), pid, ""))
        return tags

    def story(self, events: Sequence[Event]) -> list[StoryBlock]:
        """The narrative blocks for some events: the steps entered and the decisions taken."""
        blocks: list[StoryBlock] = []
        titles = self._step_titles()
        for event in events:
            kind, d = event["kind"], event["data"]
            if kind == "step" and (d.get("title") or d.get("text")):
                blocks.append(StoryBlock("step", d.get("title", ""), d.get("text", "")))
            elif kind == "choice":
                blocks.append(StoryBlock("choice", decision=self._decision(d, titles)))
            elif kind == "ending":
                blocks.append(StoryBlock("ending", outcome=str(d.get("outcome", ""))))
        return blocks

    def decisions(self) -> list[Decision]:
        titles = self._step_titles()
        return [self._decision(e["data"], titles) for e in self.events if e["kind"] == "choice"]

    def _step_titles(self) -> dict[str, str]:
        return {e["data"]["step"]: e["data"].get("title", "") for e in self.events if e["kind"] == "step"}

    def _decision(self, d: dict, titles: dict[str, str]) -> Decision:
        feedback = d.get("feedback")
        if feedback is None:  # logs written before choice events carried the feedback
            feedback = self._feedback_from_scenario(d.get("step", ""), d.get("choice", ""))
        return Decision(
            turn=int(d.get("turn", 0)),
            step_title=titles.get(d.get("step", ""), ""),
            text=d.get("text", d.get("choice", "")),
            reply=d.get("reply", ""),
            feedback=feedback,
            tags=self.tags(d.get("principles", {})),
        )

    def _feedback_from_scenario(self, step_id: str, choice_id: str) -> str:
        try:
            step = self.scenario.step(step_id)
        except KeyError:
            return ""
        choice = next((c for c in getattr(step, "choices", []) if c.id == choice_id), None)
        return text_in(choice.feedback, self.lang) if choice else ""

    def ending(self) -> tuple[str, str, str]:
        """(outcome, title, text) of the ending reached."""
        ending = self.session.ending
        if ending is None:
            return "", "", ""
        return ending.outcome, text_in(ending.title, self.lang), text_in(ending.text, self.lang)

    def scorecard_lines(self) -> list[str]:
        """The scorecard as the scorer reports it now (text lines); empty when there is none."""
        from scoring.report import scorecard_from_events, scorecard_lines

        card, items = scorecard_from_events(self.events)
        if card is None:
            return []
        return scorecard_lines(card, items, self.lang)


def known_field(name: str) -> bool:
    return name in Market.DEALER_FIELDS


def field_label(name: str, lang: Lang) -> str:
    """A dealer field's label: a UI string when there is one, else the field name made readable."""
    key = f"tui_field_{name}"
    return t(key, lang) if key in _keys() else name.replace("_", " ")


_KEYS: set[str] | None = None


def _keys() -> set[str]:
    global _KEYS
    if _KEYS is None:
        _KEYS = set(all_keys())
    return _KEYS


def render_diagnostics(err: DiagnosticError) -> str:
    return "\n".join(d.render() for d in err.diagnostics)


def sessions_folder() -> Path:
    return Path(os.environ.get("DEALERSIM_SESSIONS", "sessions"))

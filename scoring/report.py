"""Presenting scores: the text scorecard (headless play, plain mode) and the debrief report.

The debrief report (`dealersim debrief LOG`) is an after-action review of one session log, in
Markdown and as ONE self-contained HTML file with the charts inline (scoring/charts.py):

1. what was meant to happen — scenario, briefing, the principles at stake, the instructor's goals
2. what happened — ending, scorecard, market summary (and the market charts in HTML)
3. why — the principle breakdown with the reasons behind every point
4. what to keep — decisions the analysis labels best or good
5. what to change — inaccuracies, mistakes and blunders, with the best alternative and where it led
6. every decision — what the trainee knew, the choice, its mark, the best alternative, the market's draw
7. for the discussion — the instructor's questions and the common mistakes

It is built in three steps: `load_debrief` reads the log (never raises for anything a file can
contain: a damaged log keeps its good records and its diagnostics; an unfinished one is reported
as such), `build_document` lays the review out in one language as a small document model, and
`render_markdown` / `render_html` write that model. Both formats carry the same content; only
the HTML has the charts. How an instructor reads it: docs/DEBRIEF.md.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any, Literal, Union

from scoring.analysis_types import GOOD_RESULT, MARKS, DecisionAnalysis, SessionAnalysis
from scoring.catalogue import Catalogue, load_catalogue
from scoring.reasons import annotate, loss_lines, why_lost
from scoring.rubric import ScoreItem, breakdown, rules
from simulator.diagnostics import Diagnostic, DiagnosticError
from simulator.i18n import all_keys, t
from simulator.schema import Lang, text_in
from simulator.transcript import goods_unit

# ---------------------------------------------------------------------------------------------
# the text scorecard (headless play, plain mode)


def scorecard_lines(card: dict, items: list[dict], lang: Lang) -> list[str]:
    weight = round(100 * card["process_weight"])
    lines = [
        f"== {t('scorecard', lang)} ==",
        t("score_total", lang, total=f"{card['total']:.0f}", grade=card["grade"]),
        t("score_process", lang, process=f"{card['process']:.0f}", weight=weight),
        t("score_results", lang, results=f"{card['results']:.0f}", weight=100 - weight),
        t("score_by_principle", lang),
    ]
    cat = load_catalogue()
    fields = set(ScoreItem.__dataclass_fields__)
    principles = breakdown(card, [{k: v for k, v in i.items() if k in fields} for i in items], lang, cat)
    # what cost the points, never a choice's praise, each cause explained once (scoring/reasons.py)
    losses = loss_lines([line.principle for line in principles], items, lang)
    for line in principles:
        mark = _share_mark(line.share)
        ours = f" {t('score_ours', lang)}" if line.ours else ""
        lines.append(f"  {mark} {line.name} [{line.principle}] {_points(line.earned)}/{_points(line.possible)}{ours}")
        lines += [f"      - {row}" for row in losses[line.principle]]
    names = rules()["results"]["names"]
    lines.append(t("score_results_parts", lang))
    for key, value in card["results_parts"].items():
        lines.append(f"  {names[key][lang]}: {value:.0f}")
    return lines


def _points(x: float) -> str:
    """Points as a trainee reads them: 19.6, not 19.5714 (state rules award fractions)."""
    return f"{round(x, 1):g}"


def scorecard_from_events(events: list[dict]) -> tuple[dict | None, list[dict]]:
    """The final scorecard and every score item recorded in a session's events; each item from a
    decision or a negotiation is a copy that also names where it came from (`reasons.annotate`)."""
    card = next((e["data"] for e in reversed(events) if e["kind"] == "scorecard"), None)
    items = [i for e in events if e["kind"] == "score" for i in e["data"]["items"]]
    return card, annotate(items, events)


def _share_mark(share: float) -> str:
    return "✓" if share >= 0.75 else "!" if share >= 0.4 else "✗"


# ---------------------------------------------------------------------------------------------
# reading a session for the debrief

Status = Literal["finished", "unfinished", "damaged"]
Analyse = Callable[..., SessionAnalysis]

# week fields the engine records (docs/RECORD.md); others the market adds later are shown generically
FLOW_FIELDS = ("demand", "sales", "lost", "reorder")
LEVEL_FIELDS = ("stock", "weeks_of_cover", "price_index", "trust", "receivables")
# observables shown for "what the trainee knew", in this order (the rest follow, by name)
KNOWN_ORDER = ("stock", "cover_cycles", "sell_through_4w", "lost_sales_4w", "orders_4w", "price_index", "trust", "receivables")


@dataclass
class Decision:
    """One decision as the log recorded it, with the market weeks that followed it."""

    turn: int
    step: str
    choice: str
    text: str  # the option's text, in the session's language
    principles: dict[str, int]
    options: list[str]
    feedback: str
    step_title: str
    step_text: str
    week: int  # market weeks simulated before the decision
    weeks_after: list[dict] = field(default_factory=list)  # `week` event data until the next decision
    effects: list[dict] = field(default_factory=list)
    last_week: dict | None = None  # the last `week` event before the decision
    seconds: float | None = None  # from the step being shown to the choice


@dataclass
class Debrief:
    """Everything the report needs about one session (see `load_debrief`)."""

    path: Path
    status: Status
    header: dict
    diagnostics: list[Diagnostic]  # from reading the log (errors make it `damaged`)
    records: int  # good event records read
    decisions: list[Decision]
    weeks: list[dict]  # every `week` event's data, in order
    ending: dict | None
    ending_text: str
    card: dict | None
    items: list[dict]
    started: datetime | None = None
    last: datetime | None = None
    loaded: Any = None  # LoadedScenario, when the scenario file could be found
    scenario_state: Literal["same", "changed", "missing"] = "missing"
    scenario_problem: str = ""
    analysis: SessionAnalysis | None = None
    analysis_state: Literal["done", "skipped", "failed", "damaged", "none"] = "none"
    analysis_problem: list[Diagnostic] = field(default_factory=list)
    rollouts: int = 0

    @property
    def lang(self) -> Lang:
        lang = self.header.get("lang")
        return lang if lang in ("zh", "en") else "en"

    @property
    def scenario(self):
        return self.loaded.scenario if self.loaded is not None else None

    def decision_analysis(self, turn: int) -> DecisionAnalysis | None:
        if self.analysis is None:
            return None
        return next((d for d in self.analysis.decisions if d.turn == turn), None)


_MARKUP = re.compile("[\ue000-\ue006]")


def _clean(value: Any) -> str:
    """Text from the log, without the private-use characters the report uses as inline markup."""
    return _MARKUP.sub("", str(value))


def _time(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    except (TypeError, ValueError):
        return None


def find_scenario(header: dict, scenario_path: Path | None, principles: Sequence[str]):
    """(loaded or None, 'same'|'changed'|'missing', problem): the scenario the session was played
    with — the given file, else the header's path, else a shipped scenario with the same id."""
    from simulator.loader import load_scenario

    def candidates() -> Iterable[Path]:
        if scenario_path is not None:
            yield Path(scenario_path)
            return
        if header.get("scenario_path"):
            yield Path(header["scenario_path"])
        try:
            from simulator.library import discover

            yield from (e.path for e in discover((), principles) if e.ok and e.result.loaded.scenario.id == header.get("scenario_id"))
        except DiagnosticError:
            return

    changed = None
    problem = ""
    for path in candidates():
        result = load_scenario(path, principles)
        if not result.ok:
            problem = problem or next((d.render() for d in result.diagnostics if d.severity == "error"), f"cannot load {path}")
            continue
        if result.loaded.sha256 == header.get("scenario_sha256"):
            return result.loaded, "same", ""
        changed = changed or result.loaded
    if changed is not None:
        return changed, "changed", ""
    return None, "missing", problem or f"no scenario file found for '{header.get('scenario_id', '?')}'"


def load_debrief(
    path: Path,
    *,
    rollouts: int = 32,
    scenario_path: Path | None = None,
    analyse: Analyse | None = None,
    catalogue: Catalogue | None = None,
) -> Debrief:
    """Read a session log for the debrief. Raises DiagnosticError only when there is nothing to
    report on (no readable header); a damaged log keeps the records before the damage.

    `analyse(path, rollouts=, scenario_path=)` computes the per-decision analysis (the CLI passes
    `scoring.analysis.analyse_log`); it is skipped when `rollouts` is 0, `analyse` is None or the
    log is damaged, and a DiagnosticError from it becomes a note in the report."""
    from simulator.record import read_log

    contents = read_log(Path(path))
    if contents.header is None:
        raise DiagnosticError(contents.diagnostics or [Diagnostic.make("DS0502", f"{path} is not a session log")])
    header = {k: (_clean(v) if isinstance(v, str) else v) for k, v in contents.header.items()}
    status: Status = "damaged" if not contents.ok else "finished" if contents.finished else "unfinished"

    decisions: list[Decision] = []
    weeks: list[dict] = []
    ending, ending_text = None, ""
    events = [{"kind": r.kind, "data": r.data} for r in contents.records]
    step_shown: dict[str, str] = {}
    last_step: dict = {}
    for record in contents.records:
        kind, data = record.kind, record.data
        if not isinstance(data, dict):
            continue
        if kind == "step":
            last_step = data
            step_shown[str(data.get("step", ""))] = record.t
        elif kind == "choice":
            shown, chosen = _time(step_shown.get(str(data.get("step", "")), "")), _time(record.t)
            decisions.append(Decision(
                turn=int(data.get("turn", len(decisions) + 1)),
                step=_clean(data.get("step", "")),
                choice=_clean(data.get("choice", "")),
                text=_clean(data.get("text", data.get("choice", ""))),
                principles={str(k): v for k, v in dict(data.get("principles") or {}).items() if isinstance(v, (int, float))},
                options=[str(o) for o in data.get("options") or []],
                feedback=_clean(data.get("feedback") or ""),
                step_title=_clean(last_step.get("title") or "") if last_step.get("step") == data.get("step") else "",
                step_text=_clean(last_step.get("text") or "") if last_step.get("step") == data.get("step") else "",
                week=len(weeks),
                last_week=weeks[-1] if weeks else None,
                seconds=(chosen - shown).total_seconds() if shown and chosen else None,
            ))
        elif kind == "week" and isinstance(data.get("dealers"), dict):
            weeks.append(data)
            if decisions:
                decisions[-1].weeks_after.append(data)
        elif kind == "effect" and decisions:
            decisions[-1].effects.append(data)
        elif kind == "ending":
            ending = data
            ending_text = _clean(last_step.get("text") or "") if last_step.get("step") == data.get("step") else ""
    card, items = _scorecard_and_items(events)

    cat = catalogue or load_catalogue()
    loaded, scenario_state, scenario_problem = find_scenario(header, scenario_path, cat.ids)
    times = [_time(r.t) for r in ([contents.header_record] if contents.header_record else []) + contents.records]
    times = [x for x in times if x is not None]
    debrief = Debrief(
        path=Path(path), status=status, header=header, diagnostics=list(contents.diagnostics), records=len(contents.records),
        decisions=decisions, weeks=weeks, ending=ending, ending_text=ending_text, card=card, items=items,
        started=times[0] if times else None, last=times[-1] if times else None,
        loaded=loaded, scenario_state=scenario_state, scenario_problem=scenario_problem, rollouts=rollouts,
    )

    if status == "damaged":
        debrief.analysis_state = "damaged"
    elif rollouts <= 0 or analyse is None or not decisions:
        debrief.analysis_state = "skipped" if rollouts <= 0 else "none"
    else:
        try:
            found = Path(loaded.path) if loaded is not None and scenario_state == "same" else scenario_path
            debrief.analysis = analyse(Path(path), rollouts=rollouts, scenario_path=found)
            debrief.analysis_state = "done"
        except DiagnosticError as err:
            debrief.analysis_state = "failed"
            debrief.analysis_problem = err.diagnostics
    return debrief


def _scorecard_and_items(events: list[dict]) -> tuple[dict | None, list[dict]]:
    """Like `scorecard_from_events`, tolerant of what a damaged log may hold."""
    card = next((e["data"] for e in reversed(events) if e["kind"] == "scorecard" and isinstance(e["data"].get("by_principle"), dict)), None)
    items = []
    for e in events:
        if e["kind"] == "score":
            for item in e["data"].get("items") or []:
                if isinstance(item, dict) and {"principle", "earned", "possible"} <= set(item):
                    items.append(item)
    return card, items


# ---------------------------------------------------------------------------------------------
# the document model: what both renderers draw

# Inline markup inside texts: private-use characters no scenario text contains.
_C0, _C1 = "\ue000", "\ue001"  # code
_B0, _B1 = "\ue002", "\ue003"  # strong
_T0, _T1, _T2 = "\ue004", "\ue005", "\ue006"  # tagged span: _T0 css-class _T1 text _T2


def code(text: str) -> str:
    return f"{_C0}{text}{_C1}"


def strong(text: str) -> str:
    return f"{_B0}{text}{_B1}"


def tag(cls: str, text: str) -> str:
    return f"{_T0}{cls}{_T1}{text}{_T2}"


@dataclass
class P:
    text: str
    cls: str = ""


@dataclass
class H:
    text: str


@dataclass
class Quote:
    text: str


@dataclass
class Bullets:
    items: list[Union[str, tuple[str, list[str]]]]
    ordered: bool = False


@dataclass
class Cell:
    text: str
    details: list[tuple[str, str]] = field(default_factory=list)  # (summary, body), folded away in HTML only


@dataclass
class Table:
    head: list[str]
    rows: list[list[Union[str, Cell]]]
    row_classes: list[str] = field(default_factory=list)
    cls: str = ""
    caption: str = ""


@dataclass
class Chart:
    title: str
    caption: str
    svg: str
    legend: list[tuple[str, str, str]] = field(default_factory=list)  # (css colour, line style, text)


@dataclass
class Charts:
    charts: list[Chart]


Block = Union[P, H, Quote, Bullets, Table, Charts]


@dataclass
class Section:
    id: str
    title: str
    blocks: list[Block]


@dataclass
class Document:
    lang: Lang
    title: str
    meta: list[tuple[str, str]]
    banners: list[tuple[str, str]]  # (css class, text)
    sections: list[Section]
    # Markdown only: the situation at each decision, listed after the decisions table (in HTML it
    # folds out of the table row)
    situations: tuple[str, list[tuple[str, list[str]]]] | None = None


# ---------------------------------------------------------------------------------------------
# building the review


def _n(x: float | None, digits: int = 0) -> str:
    if x is None:
        return "—"
    return f"{x:,.{digits}f}"


def _signed(x: float) -> str:
    return f"+{x:g}" if x > 0 else f"{x:g}".replace("-", "−")


def _duration(seconds: float | None, lang: Lang) -> str:
    if seconds is None or seconds < 0:
        return ""
    s = int(round(seconds))
    if s < 60:
        return t("report_secs", lang, s=s)
    if s < 3600:
        return t("report_mins", lang, m=s // 60, s=s % 60)
    return t("report_hours", lang, h=s // 3600, m=(s % 3600) // 60)


class _Builder:
    def __init__(self, d: Debrief, lang: Lang, *, charts: bool, catalogue: Catalogue | None = None):
        self.d = d
        self.lang = lang
        self.charts = charts
        self.cat = catalogue or load_catalogue()
        sc = d.scenario
        self.dealer_ids: list[str] = [x.id for x in sc.market.dealers] if sc else sorted({k for w in d.weeks for k in w["dealers"]})
        for w in d.weeks:  # a dealer the current file lacks still shows
            for k in w["dealers"]:
                if k not in self.dealer_ids:
                    self.dealer_ids.append(k)
        self.wpc: int | None = sc.market.weeks_per_cycle if sc else None
        # what the goods are counted in (箱 / cases); a log alone does not say, so 件 / units without the file
        self.unit = goods_unit(sc.market.unit if sc else None, lang)
        self.keys = set(all_keys())
        self.situations: list[tuple[str, list[str]]] = []
        self.out_of_reach = self._out_of_reach()

    # -- small helpers

    def tr(self, key: str, **values: Any) -> str:
        return t(key, self.lang, **values)

    @property
    def colon(self) -> str:
        return "：" if self.lang == "zh" else ": "

    def paren(self, text: str) -> str:
        """' (text)' in English, '（text）' in Chinese."""
        return f"（{text}）" if self.lang == "zh" else f" ({text})"

    def dealer(self, dealer_id: str) -> str:
        sc = self.d.scenario
        if sc:
            for x in sc.market.dealers:
                if x.id == dealer_id:
                    return text_in(x.name, self.lang)
        return dealer_id

    def principle(self, pid: str, *, with_id: bool = True) -> str:
        name = self.cat.get(pid).text("name", self.lang) if pid in self.cat else self.tr("report_unknown_principle")
        return f"{name} {code(pid)}" if with_id else name

    def label(self, label: str) -> str:
        mark = MARKS.get(label, "")  # type: ignore[arg-type]
        name = self.tr(f"report_label_{label}")
        return tag(f"label-{label}", f"{mark} {name}".strip() if mark else name)

    def step_choice(self, step: str, choice: str):
        sc = self.d.scenario
        if sc is None:
            return None
        try:
            s = sc.step(step)
        except KeyError:
            return None
        return next((c for c in getattr(s, "choices", []) if c.id == choice), None)

    def choice_text(self, dec: Decision, choice: str | None = None) -> str:
        choice = choice or dec.choice
        c = self.step_choice(dec.step, choice)
        if c is not None:
            return text_in(c.text, self.lang)
        da = self.d.decision_analysis(dec.turn)
        if da is not None:
            for o in da.options:
                if o.option == choice:
                    return o.text_zh if self.lang == "zh" else o.text_en
        return dec.text if choice == dec.choice else choice

    def step_texts(self, dec: Decision) -> tuple[str, str]:
        sc = self.d.scenario
        if sc is not None:
            try:
                s = sc.step(dec.step)
                return text_in(s.title, self.lang), text_in(s.text, self.lang)
            except KeyError:
                pass
        return dec.step_title, dec.step_text

    def ending_name(self, ending_id: str, *, outcome: bool = True) -> str:
        """An ending's title (or its first sentence) and, unless told not to, how it is judged."""
        sc = self.d.scenario
        if sc is not None:
            try:
                s = sc.step(ending_id)
            except KeyError:
                s = None
            if s is not None and getattr(s, "kind", "") == "ending":
                title = text_in(s.title, self.lang) or _first_sentence(text_in(s.text, self.lang))
                if not outcome:
                    return title
                return title + self.paren(self.tr("outcome_" + s.outcome))
        return ending_id

    def turn_name(self, turn: int) -> str:
        return f"D{turn}"

    # -- the document

    def build(self) -> Document:
        d, lang = self.d, self.lang
        sc = d.scenario
        title = text_in(sc.title, lang) if sc else d.header.get("scenario_id", "?")
        meta = [
            (self.tr("report_meta_scenario"), (f"{title} · " if sc else "") + code(str(d.header.get("scenario_id", "?")))),
            (self.tr("report_meta_trainee"), d.header.get("trainee") or self.tr("report_anonymous")),
            (self.tr("report_meta_seed"), code(str(d.header.get("seed", d.header.get("seed_entropy", "?"))))),
            (self.tr("report_meta_played"), self.played()),
            (self.tr("report_meta_log"), code(d.path.name)),
            (self.tr("report_meta_status"), self.tr(f"report_status_{d.status}")),
        ]
        if d.analysis is not None:
            meta.append((self.tr("report_meta_analysis"), self.tr("report_analysis_method", rollouts=d.analysis.rollouts)))
        sections = [
            self.section_intent(),
            self.section_happened(),
            self.section_why(),
            self.section_keep(),
            self.section_change(),
            self.section_decisions(),
            self.section_discussion(),
        ]
        return Document(lang, self.tr("report_title", title=title), meta, self.banners(), sections)

    def played(self) -> str:
        d = self.d
        if d.started is None:
            return "—"
        when = d.started.strftime("%Y-%m-%d %H:%M") + " UTC"
        seconds = (d.last - d.started).total_seconds() if d.last else 0.0
        took = _duration(seconds, self.lang) if seconds >= 1 else ""
        return self.tr("report_played", when=when, took=took) if took else when

    def banners(self) -> list[tuple[str, str]]:
        d, out = self.d, []
        if d.status == "unfinished":
            out.append(("warn", self.tr("report_banner_unfinished", turns=len(d.decisions), log=d.path.name)))
        if d.status == "damaged":
            problem = next((x for x in d.diagnostics if x.severity == "error"), None)
            out.append(("bad", self.tr("report_banner_damaged", records=d.records, problem=problem.render() if problem else "")))
        for x in d.diagnostics:
            if x.severity == "warning":
                out.append(("warn", self.tr("report_banner_warning", problem=x.render())))
        if d.scenario_state == "changed":
            out.append(("warn", self.tr("report_banner_scenario_changed")))
        elif d.scenario_state == "missing":
            out.append(("warn", self.tr("report_banner_scenario_missing", problem=d.scenario_problem)))
        if d.analysis_state == "failed" and d.scenario_state != "missing":  # the missing scenario says it already
            problem = "; ".join(x.render() for x in d.analysis_problem)
            out.append(("warn", self.tr("report_banner_analysis_failed", problem=problem)))
        elif d.analysis_state == "skipped":
            out.append(("note", self.tr("report_banner_analysis_skipped")))
        elif d.analysis_state == "damaged":
            out.append(("note", self.tr("report_banner_analysis_damaged")))
        return out

    # 1 ---------------------------------------------------------------------------------------

    def principles_at_stake(self) -> list[str]:
        seen: list[str] = []
        sc = self.d.scenario
        sources: list[Iterable[str]] = [sc.principles if sc else []]
        sources += [dec.principles for dec in self.d.decisions]
        sources.append((self.d.card or {}).get("by_principle", {}))
        sources.append([i["principle"] for i in self.d.items])
        for source in sources:
            for pid in source:
                if pid not in seen:
                    seen.append(pid)
        return seen

    def section_intent(self) -> Section:
        d, sc, blocks = self.d, self.d.scenario, []
        if sc is not None:
            if sc.summary is not None:
                blocks.append(P(text_in(sc.summary, self.lang)))
            blocks.append(H(self.tr("report_briefing")))
            blocks.append(Quote(text_in(sc.briefing, self.lang).strip()))
        else:
            blocks.append(P(self.tr("report_no_scenario_text"), "muted"))
        blocks.append(H(self.tr("report_principles_at_stake")))
        items: list[Union[str, tuple[str, list[str]]]] = []
        for pid in self.principles_at_stake():
            if pid in self.cat:
                p = self.cat.get(pid)
                head = f"{strong(p.text('name', self.lang))} {code(pid)}"
                if p.ours:
                    head += " " + tag("ours", self.tr("report_ours"))
                sub = [p.text("explain", self.lang), self.tr("report_source", seed=p.citation.seed, section=p.citation.section)]
                items.append((head, sub))
            else:
                items.append(f"{code(pid)} {self.tr('report_unknown_principle')}")
        blocks.append(Bullets(items))
        instructor = sc.instructor if sc else None
        if instructor is not None and instructor.course_section is not None:
            blocks.append(H(self.tr("report_course_section")))
            blocks.append(P(text_in(instructor.course_section, self.lang)))
        if instructor is not None and instructor.goals:
            blocks.append(H(self.tr("report_goals")))
            blocks.append(Bullets([text_in(g, self.lang) for g in instructor.goals]))
        return Section("intent", self.tr("report_s1"), blocks)

    # 2 ---------------------------------------------------------------------------------------

    def section_happened(self) -> Section:
        d, blocks = self.d, []
        blocks.append(H(self.tr("report_ending")))
        if d.ending is not None:
            outcome = str(d.ending.get("outcome", ""))
            blocks.append(P(f"{strong(self.ending_name(str(d.ending.get('step', '')), outcome=False))} — "
                            + tag(f"outcome-{outcome}", self.tr(f"outcome_{outcome}") if f"outcome_{outcome}" in self.keys else outcome)))
            text = self.ending_story()
            if text:
                blocks.append(Quote(text))
        else:
            key = "report_no_ending_damaged" if d.status == "damaged" else "report_no_ending"
            blocks.append(P(self.tr(key, turns=len(d.decisions)), "muted"))

        blocks.append(H(self.tr("report_scorecard")))
        card = d.card
        if card is not None:
            w = round(100 * float(card.get("process_weight", 0.6)))
            rows = [
                [strong(self.tr("report_total")), strong(f"{card['total']:.0f}"), strong(self.tr("report_grade", grade=card["grade"]))],
                [self.tr("report_process"), f"{card['process']:.0f}", self.tr("report_weight", weight=w)],
                [self.tr("report_results"), f"{card['results']:.0f}", self.tr("report_weight", weight=100 - w)],
            ]
            if d.analysis is not None:
                rows.append([self.tr("report_accuracy"), f"{d.analysis.accuracy:.0f}", self.tr("report_accuracy_note")])
            blocks.append(Table([self.tr("report_col_part"), self.tr("report_col_score"), self.tr("report_col_note")], rows, cls="scorecard"))
            names = rules()["results"]["names"]
            parts = card.get("results_parts") or {}
            if parts:
                blocks.append(P(self.tr("report_results_parts"), "small-head"))
                blocks.append(Table([self.tr("report_col_result"), self.tr("report_col_score")],
                                    [[names[k][self.lang] if k in names else code(k), f"{v:.0f}"] for k, v in parts.items()], cls="parts"))
        else:
            blocks.append(P(self.tr("report_no_scorecard_damaged" if d.status == "damaged" else "report_no_scorecard"), "muted"))
            if d.analysis is not None and d.analysis.decisions:
                blocks.append(P(self.tr("report_accuracy_so_far", accuracy=f"{d.analysis.accuracy:.0f}")))

        blocks.append(H(self.tr("report_market")))
        if d.weeks:
            blocks.extend(self.market_tables())
            if self.charts:
                blocks.append(Charts(self.market_charts()))
            else:
                blocks.append(P(self.tr("report_charts_in_html"), "muted"))
        else:
            blocks.append(P(self.tr("report_no_weeks"), "muted"))
        return Section("happened", self.tr("report_s2"), blocks)

    def ending_story(self) -> str:
        d, sc = self.d, self.d.scenario
        if d.ending is None:
            return ""
        if sc is not None:
            try:
                return text_in(sc.step(str(d.ending.get("step", ""))).text, self.lang).strip()
            except KeyError:
                pass
        return d.ending_text.strip()

    def start_values(self, dealer_id: str) -> dict[str, float]:
        sc = self.d.scenario
        if sc is None:
            return {}
        for x in sc.market.dealers:
            if x.id == dealer_id:
                return {"stock": x.stock, "weeks_of_cover": x.stock / x.demand.mean, "price_index": x.price_index,
                        "trust": x.trust, "receivables": x.receivables}
        return {}

    def cover_text(self, weeks: float | None) -> str:
        if weeks is None:
            return "—"
        if self.wpc:
            return _n(weeks / self.wpc, 1)
        return _n(weeks, 1)

    def market_tables(self) -> list[Table]:
        """Per dealer: start → end of the levels, totals of the flows; then any other numeric
        field the weeks record (the market gains fields over time), at the last week."""
        d = self.d
        last = d.weeks[-1]["dealers"]
        extra = sorted({k for w in d.weeks for v in w["dealers"].values() for k, x in v.items()
                        if k not in FLOW_FIELDS + LEVEL_FIELDS and isinstance(x, (int, float)) and not isinstance(x, bool)})
        head = [self.tr("report_col_dealer"), self.tr("report_col_stock", unit=self.unit),
                self.tr("report_col_cover_cycles") if self.wpc else self.tr("report_col_cover_weeks"),
                self.tr("report_col_price"), self.tr("report_col_trust"), self.tr("report_col_receivables"),
                self.tr("report_col_demand"), self.tr("report_col_sold"), self.tr("report_col_lost"),
                self.tr("report_col_reordered"), self.tr("report_col_pushed")]
        rows = []
        pushed: Counter[str] = Counter()
        for dec in d.decisions:
            for e in dec.effects:
                if e.get("effect") == "order" and isinstance(e.get("units"), (int, float)):
                    pushed[str(e.get("dealer"))] += e["units"]
        for j in self.dealer_ids:
            start = self.start_values(j)
            end = last.get(j, {})

            def span(key: str, digits: int = 0, fmt: Callable[[float | None], str] | None = None) -> str:
                f = fmt or (lambda x: _n(x, digits))
                a, b = start.get(key), end.get(key)
                return f"{f(a)} → {f(b)}" if a is not None else f(b)

            def total(key: str) -> str:
                values = [w["dealers"].get(j, {}).get(key) for w in d.weeks]
                values = [v for v in values if isinstance(v, (int, float))]
                return _n(sum(values)) if values else "—"

            rows.append([f"{self.dealer(j)} {code(j)}", span("stock"), span("weeks_of_cover", fmt=self.cover_text), span("price_index", 2),
                         span("trust"), span("receivables"), total("demand"), total("sales"), total("lost"), total("reorder"),
                         _n(pushed.get(j, 0))])
        weeks = f"{d.weeks[0].get('week', 1)}–{d.weeks[-1].get('week', len(d.weeks))}"
        tables = [Table(head, rows, cls="market", caption=self.tr("report_market_caption", weeks=weeks, n=len(d.weeks)))]
        if extra:
            tables.append(Table([self.tr("report_col_field")] + [f"{self.dealer(j)} {code(j)}" for j in self.dealer_ids],
                                [[self.obs_name(k)] + [self.obs_value(k, last.get(j, {}).get(k)) for j in self.dealer_ids] for k in extra],
                                cls="market", caption=self.tr("report_market_extra_caption")))
        return tables

    # charts ------------------------------------------------------------------------------------

    def markers(self):
        from scoring.charts import FLAGGED, Marker

        groups: dict[int, list[Decision]] = {}
        for dec in self.d.decisions:
            groups.setdefault(dec.week, []).append(dec)
        out = []
        rank = {"": 0, "best": 1, "good": 2, "inaccuracy": 3, "mistake": 4, "blunder": 5}
        for week, decs in groups.items():
            turns = [x.turn for x in decs]
            name = f"D{turns[0]}" if len(turns) == 1 else f"D{turns[0]}-{turns[-1]}"
            labels = [(x.turn, (self.d.decision_analysis(x.turn).label if self.d.decision_analysis(x.turn) else "")) for x in decs]
            worst = max((lab for _, lab in labels), key=lambda lab: rank.get(lab, 0), default="")
            flagged = [f"D{tn}{MARKS[lab]}" for tn, lab in labels if lab in FLAGGED]
            if len(turns) == 1 and flagged:
                name = flagged[0]
            elif flagged:
                name += ": " + " ".join(flagged)
            out.append(Marker(week + 0.5, name, worst))
        return out

    def legend(self) -> list[tuple[str, str, str]]:
        from scoring.charts import palette

        colours = palette(self.dealer_ids)
        return [(colours[j], "solid", f"{self.dealer(j)} {code(j)}") for j in self.dealer_ids]

    def market_charts(self) -> list[Chart]:
        from scoring.charts import BAND_COLOUR, LABEL_COLOURS, palette, series_chart

        d = self.d
        weeks = [int(w.get("week", i + 1)) for i, w in enumerate(d.weeks)]
        colours = palette(self.dealer_ids)
        markers = self.markers()

        def field_series(key: str, start: bool = True) -> tuple[list[int], dict[str, list[float]]]:
            """Each dealer's `key` week by week; levels start at week 0 (the scenario's start)
            when every dealer's start is known, so a decision before week 1 shows its jump."""
            out = {}
            firsts = {j: self.start_values(j).get(key) for j in self.dealer_ids}
            with_start = start and all(v is not None for v in firsts.values())
            for j in self.dealer_ids:
                values = [w["dealers"].get(j, {}).get(key) for w in d.weeks]
                if all(isinstance(v, (int, float)) for v in values):
                    out[j] = ([float(firsts[j])] if with_start else []) + [float(v) for v in values]
            return ([0] if with_start else []) + weeks, out

        decision_legend = [("#6e7781", "dotted", self.tr("report_legend_decision"))]
        if any(m.kind in ("inaccuracy", "mistake", "blunder") for m in markers):
            decision_legend.append((LABEL_COLOURS["blunder"], "solid", self.tr("report_legend_flagged")))
        charts = []
        cover_weeks, cover = field_series("weeks_of_cover")
        if cover:
            band = target = None
            legend = self.legend()
            if self.wpc:
                lo, hi = rules()["rules"]["cover_after_order"]["band"]
                band, target = (lo * self.wpc, hi * self.wpc), 1.5 * self.wpc
                legend += [(BAND_COLOUR, "band", self.tr("report_legend_band", lo=lo, hi=hi, a=_n(lo * self.wpc, 1), b=_n(hi * self.wpc, 1))),
                           (BAND_COLOUR, "dashed", self.tr("report_legend_target", weeks=_n(target, 1)))]
            charts.append(Chart(self.tr("report_chart_cover"), self.tr("report_chart_cover_caption"),
                                series_chart("cover", cover_weeks, cover, colours, markers=markers, band=band, target=target, label=self.tr("report_chart_cover")),
                                legend + decision_legend))
        price_weeks, price = field_series("price_index")
        if price:
            charts.append(Chart(self.tr("report_chart_price"), self.tr("report_chart_price_caption"),
                                series_chart("price", price_weeks, price, colours, markers=markers, target=1.0,
                                             ylim=(min(0.7, min(min(v) for v in price.values()) - 0.03), max(1.1, max(max(v) for v in price.values()) + 0.03)),
                                             label=self.tr("report_chart_price")),
                                self.legend() + [(BAND_COLOUR, "dashed", self.tr("report_legend_list_price"))] + decision_legend))
        trust_weeks, trust = field_series("trust")
        if trust:
            charts.append(Chart(self.tr("report_chart_trust"), self.tr("report_chart_trust_caption"),
                                series_chart("trust", trust_weeks, trust, colours, markers=markers, ylim=(0, 100), label=self.tr("report_chart_trust")),
                                self.legend() + decision_legend))
        _, sales = field_series("sales", start=False)
        if sales:
            _, demand = field_series("demand", start=False)
            charts.append(Chart(self.tr("report_chart_sales", unit=self.unit), self.tr("report_chart_sales_caption", unit=self.unit),
                                series_chart("sales", weeks, sales, colours, markers=markers, dashed=demand, label=self.tr("report_chart_sales", unit=self.unit)),
                                self.legend() + [("#57606a", "dotted", self.tr("report_legend_demand"))] + decision_legend))
        return charts

    def expected_chart(self) -> Chart | None:
        from scoring.charts import BAND_COLOUR, LABEL_COLOURS, expected_chart

        a = self.d.analysis
        if a is None or len(a.expected_curve) < 2:
            return None
        final = a.final_total if self.d.card is not None else None
        svg = expected_chart("expected", a.expected_curve, [x.label for x in a.decisions], final=final, good=GOOD_RESULT,
                             label=self.tr("report_chart_expected"))
        legend = [("#57606a", "solid", self.tr("report_legend_expected")),
                  (BAND_COLOUR, "dashed", self.tr("report_legend_good", good=_n(GOOD_RESULT)))]
        if final is not None:
            legend.append(("#57606a", "dotted", self.tr("report_legend_final", total=_n(final))))
        legend += [(LABEL_COLOURS[k], "dot", self.tr(f"report_label_{k}")) for k in ("best", "good", "inaccuracy", "mistake", "blunder")]
        return Chart(self.tr("report_chart_expected"), self.tr("report_chart_expected_caption"), svg, legend)

    # 3 ---------------------------------------------------------------------------------------

    def section_why(self) -> Section:
        d = self.d
        card = d.card if d.card is not None else _card_from_items(d.items)
        blocks: list[Block] = []
        if d.card is None:
            blocks.append(P(self.tr("report_why_so_far_damaged" if d.status == "damaged" else "report_why_so_far"), "muted"))
        lines = [] if not card["by_principle"] else _breakdown(card, d.items, self.lang, self.cat)
        if not lines:
            blocks.append(P(self.tr("report_no_items"), "muted"))
        items: list[Union[str, tuple[str, list[str]]]] = []
        chosen = {dec.turn: dec for dec in d.decisions}
        for line in lines:
            share = line.share
            cls = "ok" if share >= 0.75 else "part" if share >= 0.4 else "miss"
            head = f"{tag('share-' + cls, _share_mark(share))} {strong(line.name)} {code(line.principle)} — {line.earned:g}/{line.possible:g}"
            if line.ours:
                head += " " + tag("ours", self.tr("report_ours"))
            reasons, seen = [], set()
            for item in line.items:
                reason = item.reason_zh if self.lang == "zh" else item.reason_en
                if item.earned < item.possible:  # a loss: what cost the points, never a choice's praise
                    dec = chosen.get(item.turn) if item.source == "choice" else None
                    weight = dec.principles.get(item.principle, 0) if dec else None
                    reason = why_lost(item.source, item.earned, item.possible, reason if dec is None or dec.feedback else "", weight, self.lang)
                key = (item.turn, reason)
                if not reason or key in seen:
                    continue
                seen.add(key)
                mark = "✓" if item.earned >= item.possible else "✗" if item.earned <= 0 else "½"
                where = self.turn_name(item.turn) if item.source == "choice" else self.tr("report_after_turn", turn=self.turn_name(item.turn)) if item.turn else ""
                reasons.append(f"{mark} {where}{self.paren(f'{item.earned:g}/{item.possible:g}')}{'' if self.lang == 'zh' else ' '}{reason}")
            items.append((head, reasons))
        if items:
            blocks.append(Bullets(items))
        return Section("why", self.tr("report_s3"), blocks)

    # 4, 5 ------------------------------------------------------------------------------------

    def where_led(self, da: DecisionAnalysis, option: str, *, short: bool = False) -> str:
        o = da.option(option)
        return self.tr("report_led_short" if short else "report_led", total=_n(o.expected_total), p10=_n(o.p10), p90=_n(o.p90),
                       ending=self.ending_name(o.ending), share=_n(100 * o.ending_share))

    def tags_text(self, principles: Mapping[str, int]) -> str:
        return ("；" if self.lang == "zh" else "; ").join(f"{self.principle(pid, with_id=False)} {code(pid)} {_signed(w)}" for pid, w in principles.items()) or "—"

    def section_keep(self) -> Section:
        d, items = self.d, []
        for dec in d.decisions:
            da = d.decision_analysis(dec.turn)
            if da is not None:
                if da.label not in ("best", "good"):
                    continue
                head = f"{strong(self.turn_name(dec.turn))} · {self.choice_text(dec)} — {self.label(da.label)}"
                if da.label == "good" and da.loss > 0:
                    head += ", " + self.tr("report_loss", loss=_n(da.loss, 1))
                sub = [self.tr("report_yours", led=self.where_led(da, da.chosen))]
                if dec.turn in self.out_of_reach:
                    sub.append(tag("flag", self.tr("report_out_of_reach", good=_n(GOOD_RESULT))))
            else:
                share = self.tag_share(dec)
                if share is None or share < 0.999:
                    continue
                head = f"{strong(self.turn_name(dec.turn))} · {self.choice_text(dec)}"
                sub = []
            items.append((head, sub + self.tags_and_feedback(dec)))
        return self.keep_or_change("keep", "report_s4", items, "report_nothing_to_keep")

    def feedback(self, dec: Decision) -> str:
        c = self.step_choice(dec.step, dec.choice)
        text = text_in(c.feedback, self.lang) if c is not None and c.feedback is not None else dec.feedback
        return self.tr("report_feedback", text=text)

    def tag_share(self, dec: Decision) -> float | None:
        mine = [i for i in self.d.items if i.get("turn") == dec.turn and i.get("source") == "choice"]
        possible = sum(float(i["possible"]) for i in mine)
        if not possible:
            return None
        return sum(float(i["earned"]) for i in mine) / possible

    def best_by_tags(self, dec: Decision) -> str | None:
        sc = self.d.scenario
        if sc is None:
            return None
        try:
            step = sc.step(dec.step)
        except KeyError:
            return None
        offered = [c for c in getattr(step, "choices", []) if not dec.options or c.id in dec.options]
        if not offered:
            return None
        return max(offered, key=lambda c: sum(c.principles.values())).id

    def _out_of_reach(self) -> set[int]:
        """Turns after which a good result stopped being expected (it was expected just before)."""
        a = self.d.analysis
        if a is None:
            return set()
        out, before = set(), bool(a.expected_curve) and a.expected_curve[0] >= GOOD_RESULT
        for da in a.decisions:
            if before and not da.good_result_reachable_after:
                out.add(da.turn)
            before = da.good_result_reachable_after
        return out

    def section_change(self) -> Section:
        d, items = self.d, []
        for dec in d.decisions:
            da = d.decision_analysis(dec.turn)
            sub: list[str] = []
            if da is not None:
                if da.label in ("best", "good"):
                    continue
                head = (f"{strong(self.turn_name(dec.turn))} · {self.choice_text(dec)} — {self.label(da.label)}, "
                        + self.tr("report_loss", loss=_n(da.loss, 1)))
                if da.best != da.chosen:
                    sub.append(self.tr("report_better", choice=strong(self.choice_text(dec, da.best)), led=self.where_led(da, da.best)))
                sub.append(self.tr("report_yours", led=self.where_led(da, da.chosen)))
                if dec.turn in self.out_of_reach:
                    sub.append(tag("flag", self.tr("report_out_of_reach", good=_n(GOOD_RESULT))))
                best = self.step_choice(dec.step, da.best)
                if best is not None and best.principles and da.best != da.chosen:
                    sub.append(self.tr("report_best_tags", tags=self.tags_text(best.principles)))
            else:
                share = self.tag_share(dec)
                if share is None or share >= 0.999:
                    continue
                head = f"{strong(self.turn_name(dec.turn))} · {self.choice_text(dec)} — " + self.tr("report_tag_share", share=_n(100 * share))
                best = self.best_by_tags(dec)
                if best and best != dec.choice:
                    sub.append(self.tr("report_better_by_tags", choice=self.choice_text(dec, best)))
            items.append((head, sub + self.tags_and_feedback(dec)))
        return self.keep_or_change("change", "report_s5", items, "report_nothing_to_change")

    def tags_and_feedback(self, dec: Decision) -> list[str]:
        """The lines under a decision in both "keep" and "change": its principle tags, its feedback."""
        lines = []
        if dec.principles:
            lines.append(self.tr("report_principles_tagged", tags=self.tags_text(dec.principles)))
        if dec.feedback:
            lines.append(self.feedback(dec))
        return lines

    def keep_or_change(self, section: str, title: str, items: list, nothing: str) -> Section:
        blocks: list[Block] = []
        if self.d.analysis is None and self.d.decisions:
            blocks.append(P(self.tr("report_keep_change_by_tags"), "muted"))
        blocks.append(Bullets(items) if items else P(self.tr(nothing), "muted"))
        return Section(section, self.tr(title), blocks)

    # 6 ---------------------------------------------------------------------------------------

    def known(self, dec: Decision) -> dict[str, float]:
        da = self.d.decision_analysis(dec.turn)
        return dict(da.known) if da is not None and da.known else self.known_from_log(dec)

    def known_text(self, dec: Decision, previous: Mapping[str, float] | None) -> tuple[str, str]:
        """(the short view, every observable): the core observables per dealer, warning signs
        that are on, and any other observable that changed since the previous decision (the
        market keeps gaining observables; the short view stays readable)."""
        known = self.known(dec)

        def split(values: Mapping[str, float]) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
            per_dealer: dict[str, dict[str, float]] = {}
            general: dict[str, float] = {}
            for key, value in values.items():
                parts = key.split(".")
                if parts[0] == "dealer" and len(parts) >= 3:
                    per_dealer.setdefault(parts[1], {})[".".join(parts[2:])] = value
                elif key != "market.week":
                    general[key] = value
            return per_dealer, general

        per_dealer, general = split(known)
        before_dealer, before_general = split(previous or {})
        dealers = [x for x in self.dealer_ids if x in per_dealer] + [x for x in per_dealer if x not in self.dealer_ids]
        short, full = [], []
        for j in dealers:
            values, before = per_dealer[j], before_dealer.get(j, {})
            core = [f for f in KNOWN_ORDER if f in values]
            if "cover_cycles" not in values and "weeks_of_cover" in values:
                core.insert(1, "weeks_of_cover")
            rest = sorted(f for f in values if f not in core and f != "weeks_of_cover" and f != "warnings")
            warnings = [f for f in rest if f.startswith("warning_") and values[f] > 0]
            changed = [f for f in rest if not f.startswith("warning_") and f in before and abs(values[f] - before[f]) > 1e-9]
            parts = [f"{self.obs_name(f)} {self.obs_value(f, values[f])}" for f in core + changed]
            parts += [tag("flag", "⚠ " + self.obs_name(f)) for f in warnings]
            short.append(strong(self.dealer(j)) + self.colon + " · ".join(parts))
            full.append(self.dealer(j) + self.colon + " · ".join(f"{self.obs_name(f)} {self.obs_value(f, values[f])}" for f in core + rest))
        # market-wide measures that moved (event counters repeat them, so they stay in the full view)
        changed_general = [k for k in sorted(general) if not k.startswith("events.")
                           and k in before_general and abs(general[k] - before_general[k]) > 1e-9]
        if changed_general:
            short.append(" · ".join(f"{self.general_name(k)} {_smart(general[k])}" for k in changed_general))
        if general:
            full.append(" · ".join(f"{self.general_name(k)} {_smart(general[k])}" for k in sorted(general)))
        return "\n".join(short), "\n".join(full)

    def general_name(self, key: str) -> str:
        if key.startswith("market.") and f"report_obs_{key[7:]}" in self.keys:
            return self.tr(f"report_obs_{key[7:]}")
        if key.startswith("events.") and f"report_obs_events_{key[7:]}" in self.keys:
            return self.tr(f"report_obs_events_{key[7:]}")
        return code(key)

    def known_from_log(self, dec: Decision) -> dict[str, float]:
        if dec.last_week is not None:
            source = dec.last_week["dealers"]
        else:
            source = {j: self.start_values(j) for j in self.dealer_ids}
        out = {}
        for j, values in source.items():
            for k, v in values.items():
                if k in FLOW_FIELDS or not isinstance(v, (int, float)) or isinstance(v, bool):
                    continue
                if k == "weeks_of_cover" and self.wpc:
                    out[f"dealer.{j}.cover_cycles"] = v / self.wpc
                else:
                    out[f"dealer.{j}.{k}"] = v
        return out

    def obs_name(self, f: str) -> str:
        key = f"report_obs_{f}"
        return self.tr(key) if key in self.keys else code(f)

    def obs_value(self, f: str, v: float | None) -> str:
        if v is None or isinstance(v, bool) or not isinstance(v, (int, float)):
            return "—"
        if f in ("cover_cycles", "weeks_of_cover"):
            return _n(v, 1)
        if f in ("price_index", "competitor_share"):
            return _n(v, 2)
        return _smart(v)

    def market_after(self, dec: Decision) -> str:
        if not dec.weeks_after:
            return self.tr("report_no_weeks_after")
        sc = self.d.scenario
        first, last = dec.weeks_after[0].get("week", "?"), dec.weeks_after[-1].get("week", "?")
        span = self.tr("report_weeks_span", a=first, b=last) if first != last else self.tr("report_week_one", a=first)
        lines = [span]
        expected = self.expected_demand(dec) if sc is not None else {}
        for j in self.dealer_ids:
            demand = [w["dealers"].get(j, {}).get("demand") for w in dec.weeks_after]
            demand = [x for x in demand if isinstance(x, (int, float))]
            if not demand:
                continue
            drawn = sum(demand)
            lost = sum(w["dealers"].get(j, {}).get("lost", 0) or 0 for w in dec.weeks_after)
            if j in expected and expected[j] > 0:
                diff = 100 * (drawn / expected[j] - 1)
                luck = "luck-up" if diff >= 10 else "luck-down" if diff <= -10 else "luck-even"
                text = self.tr("report_drawn_vs", dealer=self.dealer(j), drawn=_n(drawn), expected=_n(expected[j]), unit=self.unit,
                               diff=tag(luck, f"{'+' if diff >= 0 else '−'}{abs(diff):.0f}%"))
            else:
                text = self.tr("report_drawn", dealer=self.dealer(j), drawn=_n(drawn), unit=self.unit)
            if lost > 0:
                text += " · " + self.tr("report_lost_units", lost=_n(lost), unit=self.unit)
            lines.append(text)
        return "\n".join(lines)

    def expected_demand(self, dec: Decision) -> dict[str, float]:
        """The dealers' mean demand (× the scenario's season, if any) over the weeks after `dec`.
        What the market drew differs from it by luck and by the market's reactions (promotions,
        price, diversion), which is what the column lets the instructor see."""
        sc = self.d.scenario
        out = {}
        for x in sc.market.dealers:
            season = list(x.demand.season)
            season_len = max([len(y.demand.season) for y in sc.market.dealers] + [1])
            total = 0.0
            for w in dec.weeks_after:
                week0 = int(w.get("week", 1)) - 1
                total += x.demand.mean * (season[(week0 % season_len) % len(season)] if season else 1.0)  # as market.py's np.resize
            out[x.id] = total
        return out

    def section_decisions(self) -> Section:
        d, blocks = self.d, []
        if self.charts:
            chart = self.expected_chart()
            if chart is not None:
                blocks.append(Charts([chart]))
        if not d.decisions:
            blocks.append(P(self.tr("report_no_decisions"), "muted"))
            return Section("decisions", self.tr("report_s6"), blocks)
        head = [self.tr("report_col_decision"), self.tr("report_col_knew"), self.tr("report_col_choice"),
                self.tr("report_col_verdict"), self.tr("report_col_best"), self.tr("report_col_after")]
        rows, classes = [], []
        previous: dict[str, float] | None = None
        for dec in d.decisions:
            da = d.decision_analysis(dec.turn)
            title, text = self.step_texts(dec)
            first = f"{strong(self.turn_name(dec.turn))}\n{code(dec.step)}\n" + self.tr("report_week_n", week=dec.week)
            if dec.seconds is not None and dec.seconds >= 1:
                first += "\n" + self.tr("report_took", took=_duration(dec.seconds, self.lang))
            short, full = self.known_text(dec, previous)
            previous = self.known(dec)
            details = []
            if text.strip():
                details.append((self.tr("report_situation"), text.strip()))
            if full and full != short:
                details.append((self.tr("report_all_observables"), full))
            knew_cell = Cell((f"{strong(title)}\n" if title else "") + short, details)
            choice = f"{self.choice_text(dec)}\n{code(dec.choice)}"
            if da is not None:
                verdict = self.label(da.label)
                if da.label != "best":
                    verdict += "\n" + self.tr("report_loss", loss=_n(da.loss, 1))
                if dec.turn in self.out_of_reach:
                    verdict += "\n" + tag("flag", self.tr("report_flag_out_of_reach", good=_n(GOOD_RESULT)))
            else:
                share = self.tag_share(dec)
                verdict = self.tr("report_not_analysed") + ("" if share is None else "\n" + self.tr("report_tag_share", share=_n(100 * share)))
            if dec.principles:
                verdict += "\n" + self.tags_text(dec.principles)
            if da is not None:
                if da.best == dec.choice or da.label == "best":
                    best = self.tr("report_was_best") + "\n→ " + self.where_led(da, da.chosen, short=True)
                else:
                    best = (f"{strong(self.choice_text(dec, da.best))} {code(da.best)}\n→ " + self.where_led(da, da.best, short=True)
                            + "\n" + self.tr("report_yours_short", led=self.where_led(da, da.chosen, short=True)))
            else:
                by_tags = self.best_by_tags(dec)
                best = (self.tr("report_better_by_tags", choice=self.choice_text(dec, by_tags)) if by_tags and by_tags != dec.choice else "—")
            rows.append([first, knew_cell, choice, verdict, best, self.market_after(dec)])
            classes.append(f"row-{da.label}" if da is not None else "")
            if text.strip():
                self.situations.append((f"{strong(self.turn_name(dec.turn))} {title}".strip(), [text.strip()]))
        blocks.append(Table(head, rows, classes, cls="decisions"))
        return Section("decisions", self.tr("report_s6"), blocks)

    # 7 ---------------------------------------------------------------------------------------

    def section_discussion(self) -> Section:
        sc = self.d.scenario
        instructor = sc.instructor if sc else None
        blocks: list[Block] = []
        if instructor is None or not (instructor.discussion or instructor.mistakes):
            blocks.append(P(self.tr("report_no_instructor_notes"), "muted"))
        else:
            if instructor.discussion:
                blocks.append(H(self.tr("report_questions")))
                blocks.append(Bullets([text_in(q, self.lang) for q in instructor.discussion], ordered=True))
            if instructor.mistakes:
                blocks.append(H(self.tr("report_mistakes")))
                blocks.append(Bullets([text_in(m, self.lang) for m in instructor.mistakes]))
        return Section("discussion", self.tr("report_s7"), blocks)


def _first_sentence(text: str, limit: int = 40) -> str:
    text = text.strip().splitlines()[0] if text.strip() else ""
    m = re.match(r"(.+?[。！？.!?])(\s|$)", text)
    text = m.group(1) if m else text
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _smart(v: Any) -> str:
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        return "—" if v is None else str(v)
    return _n(v, 2) if abs(v) < 10 and v != int(v) else _n(v)


def _card_from_items(items: list[dict]) -> dict:
    """Per-principle totals from the score items so far (an unfinished session has no scorecard)."""
    by: dict[str, dict[str, float]] = {}
    for i in items:
        slot = by.setdefault(i["principle"], {"earned": 0.0, "possible": 0.0})
        slot["earned"] += float(i["earned"])
        slot["possible"] += float(i["possible"])
    return {"by_principle": {k: {"earned": round(v["earned"], 4), "possible": round(v["possible"], 4)} for k, v in sorted(by.items())}}


def _breakdown(card: dict, items: list[dict], lang: Lang, cat: Catalogue):
    """`rubric.breakdown`, tolerating ids the catalogue no longer has (an old log)."""
    known = {k: v for k, v in card["by_principle"].items() if k in cat}
    fields = set(ScoreItem.__dataclass_fields__)
    clean = [{k: v for k, v in i.items() if k in fields} for i in items if i.get("principle") in known]
    lines = breakdown({"by_principle": known}, clean, lang, cat)
    from scoring.rubric import PrincipleLine

    for pid, v in card["by_principle"].items():
        if pid not in cat:
            lines.append(PrincipleLine(pid, pid, v["earned"], v["possible"], "", False, []))
    return lines


def build_document(debrief: Debrief, lang: Lang | None = None, *, charts: bool = False, catalogue: Catalogue | None = None) -> Document:
    """The review of `debrief` in `lang` (default: the session's language); `charts` adds the SVG charts."""
    builder = _Builder(debrief, lang or debrief.lang, charts=charts, catalogue=catalogue)
    doc = builder.build()
    if builder.situations:
        doc.situations = (builder.tr("report_situations"), builder.situations)
    return doc


# ---------------------------------------------------------------------------------------------
# Markdown

# Markdown's special characters, escaped only where they could mean something: `_` between
# letters never starts emphasis, `<` only starts a tag before a letter, `/`, `!` or `?`.
_MD_SPECIAL = re.compile(r"([\\`*\[\]|]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])|<(?=[A-Za-z/!?])|^[#>])", re.M)


def _md_inline(text: str, *, table: bool = False) -> str:
    out = []
    for i, part in enumerate(re.split(f"{_C0}(.*?){_C1}", text, flags=re.S)):
        if i % 2:
            out.append(f"`{part}`")
        else:
            part = _MD_SPECIAL.sub(r"\\\1", part)
            part = part.replace(_B0, "**").replace(_B1, "**")
            part = re.sub(f"{_T0}[^{_T1}]*{_T1}", "", part).replace(_T2, "")
            out.append(part)
    s = "".join(out)
    if table:
        s = s.replace("\n", "<br>")
    return s


def render_markdown(doc: Document) -> str:
    lines = [f"# {_md_inline(doc.title)}", ""]
    colon = "：" if doc.lang == "zh" else ": "
    for k, v in doc.meta:
        lines.append(f"- **{_md_inline(k)}**{colon}{_md_inline(v)}")
    lines.append("")
    for cls, text in doc.banners:
        body = _md_inline(text).replace("\n", "\n> ")
        lines += [f"> **{'⚠' if cls in ('warn', 'bad') else 'ℹ'}** {body}", ""]
    for section in doc.sections:
        lines += [f"## {_md_inline(section.title)}", ""]
        for block in section.blocks:
            lines += _md_block(block, doc)
        if section.id == "decisions" and doc.situations:
            title, items = doc.situations
            lines += [f"### {_md_inline(title)}", ""] + _md_block(Bullets(list(items)), doc)
    return "\n".join(lines).rstrip() + "\n"


def _md_block(block: Block, doc: Document) -> list[str]:
    if isinstance(block, H):
        return [f"### {_md_inline(block.text)}", ""]
    if isinstance(block, P):
        text = _md_inline(block.text)
        return [f"*{text}*" if block.cls == "muted" else text, ""]
    if isinstance(block, Quote):
        return ["\n".join("> " + _md_inline(line) if line.strip() else ">" for line in block.text.splitlines()), ""]
    if isinstance(block, Bullets):
        out = []
        for n, item in enumerate(block.items, 1):
            bullet = f"{n}." if block.ordered else "-"
            head, sub = (item, []) if isinstance(item, str) else item
            out.append(f"{bullet} " + _md_inline(head).replace("\n", "\n   "))
            for s in sub:
                out.append("   - " + _md_inline(s).replace("\n", "\n     "))
        return out + [""]
    if isinstance(block, Table):
        out = []
        if block.caption:
            out += [f"*{_md_inline(block.caption)}*", ""]
        out.append("| " + " | ".join(_md_inline(h, table=True) for h in block.head) + " |")
        out.append("|" + "|".join("---" for _ in block.head) + "|")
        for row in block.rows:
            out.append("| " + " | ".join(_md_inline(c.text if isinstance(c, Cell) else c, table=True) for c in row) + " |")
        return out + [""]
    if isinstance(block, Charts):
        return [f"*{_md_inline(t('report_charts_in_html', doc.lang))}*", ""]
    return []


# ---------------------------------------------------------------------------------------------
# HTML: one self-contained file (inline CSS and SVG; no scripts, fonts or links)


def _html_inline(text: str) -> str:
    s = html.escape(text, quote=False)
    s = s.replace(_C0, "<code>").replace(_C1, "</code>").replace(_B0, "<strong>").replace(_B1, "</strong>")
    s = re.sub(f"{_T0}([^{_T1}]*){_T1}", lambda m: f'<span class="{html.escape(m.group(1))}">', s).replace(_T2, "</span>")
    return s.replace("\n", "<br>")


def _html_paras(text: str) -> str:
    paras = [p.strip() for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "".join(f"<p>{_html_inline(p)}</p>" for p in paras)


def _html_block(block: Block) -> str:
    if isinstance(block, H):
        return f"<h3>{_html_inline(block.text)}</h3>"
    if isinstance(block, P):
        cls = f' class="{block.cls}"' if block.cls else ""
        return f"<p{cls}>{_html_inline(block.text)}</p>"
    if isinstance(block, Quote):
        return f"<blockquote>{_html_paras(block.text)}</blockquote>"
    if isinstance(block, Bullets):
        tag_ = "ol" if block.ordered else "ul"
        out = []
        for item in block.items:
            head, sub = (item, []) if isinstance(item, str) else item
            inner = "".join(f"<li>{_html_inline(s)}</li>" for s in sub)
            out.append(f"<li>{_html_inline(head)}" + (f"<ul class=\"sub\">{inner}</ul>" if inner else "") + "</li>")
        return f"<{tag_}>{''.join(out)}</{tag_}>"
    if isinstance(block, Table):
        caption = block.caption
        head = "".join(f"<th>{_html_inline(h)}</th>" for h in block.head)
        rows = []
        for i, row in enumerate(block.rows):
            cls = block.row_classes[i] if i < len(block.row_classes) else ""
            cells = []
            for c in row:
                if isinstance(c, Cell):
                    inner = _html_inline(c.text)
                    for summary, body in c.details:
                        inner += f"<details><summary>{_html_inline(summary)}</summary>{_html_paras(body)}</details>"
                    cells.append(f"<td>{inner}</td>")
                else:
                    cells.append(f"<td>{_html_inline(c)}</td>")
            attr = f' class="{cls}"' if cls else ""
            rows.append(f"<tr{attr}>{''.join(cells)}</tr>")
        cap = f'<p class="caption">{_html_inline(caption)}</p>' if caption else ""
        return f'{cap}<div class="table-wrap"><table class="{block.cls.strip()}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
    if isinstance(block, Charts):
        figs = []
        for chart in block.charts:
            legend = "".join(
                f'<span class="key"><span class="swatch {style}" style="--c:{colour}"></span>{_html_inline(text)}</span>'
                for colour, style, text in chart.legend
            )
            figs.append(
                f'<figure class="chart-box"><figcaption><strong>{_html_inline(chart.title)}</strong> '
                f'<span class="cap">{_html_inline(chart.caption)}</span></figcaption>{chart.svg}'
                f'<div class="legend">{legend}</div></figure>'
            )
        return f'<div class="charts">{"".join(figs)}</div>'
    return ""


def render_html(doc: Document) -> str:
    template = Template(resources.files("scoring").joinpath("templates", "debrief.html").read_text("utf-8"))
    meta = "".join(f"<dt>{_html_inline(k)}</dt><dd>{_html_inline(v)}</dd>" for k, v in doc.meta)
    banners = "".join(f'<div class="banner {cls}">{_html_inline(text)}</div>' for cls, text in doc.banners)
    nav = "".join(f'<a href="#{s.id}">{_html_inline(s.title)}</a>' for s in doc.sections)
    body = "".join(
        f'<section id="{s.id}"><h2>{_html_inline(s.title)}</h2>{"".join(_html_block(b) for b in s.blocks)}</section>'
        for s in doc.sections
    )
    return template.substitute(
        lang="zh-CN" if doc.lang == "zh" else "en",
        title=html.escape(re.sub(f"[{_C0}{_C1}{_B0}{_B1}{_T0}{_T1}{_T2}]", "", doc.title)),
        heading=_html_inline(doc.title),
        meta=meta,
        banners=banners,
        nav=nav,
        body=body,
        footer=_html_inline(t("report_footer", doc.lang)),
    )


# ---------------------------------------------------------------------------------------------
# convenience for the CLI and tests


def debrief_markdown(debrief: Debrief, lang: Lang | None = None) -> str:
    return render_markdown(build_document(debrief, lang, charts=False))


def debrief_html(debrief: Debrief, lang: Lang | None = None) -> str:
    return render_html(build_document(debrief, lang, charts=True))


def write_report(path: Path, text: str, log_path: Path) -> None:
    """Write a report file (replacing an older report); never a session log (DS0604)."""
    path = Path(path)
    try:
        same = path.exists() and path.resolve() == Path(log_path).resolve()
    except OSError:
        same = False
    if same or path.suffix == ".jsonl":
        raise DiagnosticError(Diagnostic.make(
            "DS0604", f"will not write the report over {path}: it is (or looks like) a session log",
            "give the report a .md or .html file name"))
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, "utf-8")
        tmp.replace(path)
    except OSError as e:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise DiagnosticError(Diagnostic.make(
            "DS0603", f"cannot write the report to {path}: {e.strerror or e}", "choose a file in a folder you can write to")) from None

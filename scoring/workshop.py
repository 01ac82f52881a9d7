"""A class's sessions side by side: what the instructor projects after a workshop round.

Sessions are compared only with sessions of the same scenario version (its sha256) and seed:
the same market draws, so differences are the trainees' choices. Anything else is listed in its
own group. Trainees appear under pseudonyms (T01, T02, … — ASCII so the charts can draw them)
unless the instructor asks for names; the leaderboard is off unless asked for.

A decision "went wrong" when the chosen option's principle tags add up to less than zero: the
course's own judgement of the choice, whatever the market's luck did afterwards.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from scoring.catalogue import Catalogue, load_catalogue
from simulator.diagnostics import Diagnostic, DiagnosticError
from simulator.i18n import t
from simulator.schema import Lang, text_in

WRONG_SHARE = 0.5  # a decision is a class problem when at least this share of those who met it went wrong
CURVES = ("cover", "sales", "trust")  # weekly outcome curves, each over all dealers of the scenario


@dataclass
class Move:
    turn: int
    step: str
    choice: str
    text: str  # as the trainee saw it (the session's language)
    tags: dict[str, float]

    @property
    def points(self) -> float:
        return float(sum(self.tags.values()))

    @property
    def wrong(self) -> bool:
        return self.points < 0


@dataclass
class SessionRow:
    path: Path
    trainee: str
    alias: str
    scenario_id: str
    version: str  # the scenario file's sha256
    seed: str
    lang: str
    started: str
    status: str  # finished | unfinished | damaged
    moves: list[Move]
    card: dict | None
    ending: dict | None
    weeks: list[dict]
    problem: str = ""

    def label(self, names: bool) -> str:
        return self.trainee if names and self.trainee else self.alias

    @property
    def total(self) -> float | None:
        return float(self.card["total"]) if self.card and isinstance(self.card.get("total"), (int, float)) else None

    def curve(self, name: str, weeks_per_cycle: float | None = None) -> list[float]:
        """One value per simulated week, over all the scenario's dealers. Cover is in sales cycles
        when the cycle length is known (the scenario file was found), in weeks otherwise."""
        out = []
        for week in self.weeks:
            dealers = [d for d in week.get("dealers", {}).values() if isinstance(d, dict)]
            if not dealers:
                continue
            if name == "sales":
                out.append(sum(float(d.get("sales", 0.0)) for d in dealers))
            elif name == "trust":
                out.append(statistics.fmean(float(d.get("trust", 0.0)) for d in dealers))
            else:
                cover = statistics.fmean(min(float(d.get("weeks_of_cover", 0.0)), 52.0) for d in dealers)
                out.append(cover / weeks_per_cycle if weeks_per_cycle else cover)
        return out


@dataclass
class Trouble:
    """One decision situation (a step) and how the class handled it."""

    step: str
    title: str
    reached: int
    wrong: int
    common_wrong: str  # the wrong option most chosen (its text)
    common_wrong_n: int
    course: str  # the option the course favours (highest tags among those on offer), its text
    principles: list[str]  # ids the wrong choices broke

    @property
    def share(self) -> float:
        return self.wrong / self.reached if self.reached else 0.0


@dataclass
class Group:
    scenario_id: str
    version: str
    seed: str
    sessions: list[SessionRow]
    title: dict[str, str] = field(default_factory=dict)  # lang -> scenario title, when the file was found
    scenario: object | None = None  # the loaded Scenario, when the file with this version was found

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.scenario_id, self.version, self.seed)

    @property
    def turns(self) -> int:
        return max((len(s.moves) for s in self.sessions), default=0)

    def name(self, lang: Lang) -> str:
        return self.title.get(lang) or self.scenario_id

    def step_title(self, step: str, lang: Lang) -> str:
        found = self._step(step)
        if found is None:
            return step
        return text_in(getattr(found, "title", None), lang) or step

    def option_text(self, step: str, choice: str, lang: Lang) -> str:
        found = self._step(step)
        for option in getattr(found, "choices", None) or []:
            if option.id == choice:
                return text_in(option.text, lang)
        # not in the file (a negotiation move, or the file is missing): what the trainee saw
        for s in self.sessions:
            for m in s.moves:
                if m.step == step and m.choice == choice and s.lang == lang:
                    return m.text
        return choice

    def course_choice(self, step: str) -> str | None:
        found = self._step(step)
        options = getattr(found, "choices", None) or []
        if not options:
            return None
        best = max(options, key=lambda o: sum(o.principles.values()))
        return best.id if sum(best.principles.values()) > 0 else None

    @property
    def weeks_per_cycle(self) -> float | None:
        return float(self.scenario.market.weeks_per_cycle) if self.scenario is not None else None

    def curve(self, session: SessionRow, name: str) -> list[float]:
        return session.curve(name, self.weeks_per_cycle)

    def curve_title(self, name: str) -> str:
        """The strings key of a curve's title (cover without a known cycle length is in weeks)."""
        return "ws_curve_cover_weeks" if name == "cover" and self.weeks_per_cycle is None else f"ws_curve_{name}"

    def _step(self, step: str):
        if self.scenario is None:
            return None
        return next((s for s in self.scenario.steps if s.id == step), None)

    def troubles(self, lang: Lang) -> list[Trouble]:
        """Every decision situation the class met, the most-missed first."""
        met: dict[str, list[Move]] = defaultdict(list)
        first_turn: dict[str, float] = {}
        for s in self.sessions:
            for m in s.moves:
                met[m.step].append(m)
                first_turn[m.step] = min(first_turn.get(m.step, m.turn), m.turn)
        out = []
        for step, moves in met.items():
            wrongs = [m for m in moves if m.wrong]
            common, n = (Counter(m.choice for m in wrongs).most_common(1) or [("", 0)])[0]
            broken = sorted({p for m in wrongs for p, v in m.tags.items() if v < 0})
            course = self.course_choice(step)
            out.append(Trouble(
                step=step, title=self.step_title(step, lang), reached=len(moves), wrong=len(wrongs),
                common_wrong=self.option_text(step, common, lang) if common else "", common_wrong_n=n,
                course=self.option_text(step, course, lang) if course else "", principles=broken,
            ))
        return sorted(out, key=lambda x: (-x.share, -x.wrong, first_turn[x.step]))

    def problems(self, lang: Lang) -> list[Trouble]:
        """The decisions where most of the class went wrong."""
        return [x for x in self.troubles(lang) if x.wrong and x.share >= WRONG_SHARE]

    def principle_ids(self, catalogue: Catalogue) -> list[str]:
        seen = {p for s in self.sessions if s.card for p in (s.card.get("by_principle") or {})}
        order = {pid: i for i, pid in enumerate(catalogue.ids)}
        return sorted(seen, key=lambda p: (order.get(p, len(order)), p))

    def heat(self, pid: str, session: SessionRow) -> float | None:
        """Share of the points on offer for principle `pid` that `session` earned (0..1)."""
        entry = (session.card or {}).get("by_principle", {}).get(pid)
        if not isinstance(entry, dict) or not entry.get("possible"):
            return None
        return max(0.0, min(1.0, float(entry.get("earned", 0.0)) / float(entry["possible"])))

    def ranking(self) -> list[SessionRow]:
        done = [s for s in self.sessions if s.total is not None]
        return sorted(done, key=lambda s: (-(s.total or 0.0), s.alias))


@dataclass
class Workshop:
    folder: Path
    groups: list[Group]
    unreadable: list[tuple[Path, list[Diagnostic]]]

    @property
    def sessions(self) -> list[SessionRow]:
        return [s for g in self.groups for s in g.sessions]


def _session(path: Path) -> SessionRow | list[Diagnostic]:
    from simulator.record import read_log

    contents = read_log(path)
    if contents.header is None:
        return contents.diagnostics or [Diagnostic.make("DS0502", f"{path} is not a session log")]
    header = contents.header
    moves: list[Move] = []
    weeks: list[dict] = []
    card = ending = None
    for record in contents.records:
        data = record.data if isinstance(record.data, dict) else {}
        if record.kind == "choice":
            tags = {str(k): float(v) for k, v in dict(data.get("principles") or {}).items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
            moves.append(Move(
                turn=int(data.get("turn", len(moves) + 1)) if isinstance(data.get("turn"), int) else len(moves) + 1,
                step=str(data.get("step", "")), choice=str(data.get("choice", "")),
                text=str(data.get("text", data.get("choice", ""))), tags=tags,
            ))
        elif record.kind == "week" and isinstance(data.get("dealers"), dict):
            weeks.append(data)
        elif record.kind == "scorecard" and isinstance(data.get("by_principle"), dict):
            card = data
        elif record.kind == "ending":
            ending = data
    status = "damaged" if not contents.ok else "finished" if contents.finished else "unfinished"
    problem = next((d.render() for d in contents.diagnostics), "") if status == "damaged" else ""
    return SessionRow(
        path=path, trainee=str(header.get("trainee") or "").strip(), alias="",
        scenario_id=str(header.get("scenario_id", "?")), version=str(header.get("scenario_sha256", "")),
        seed=str(header.get("seed", header.get("seed_entropy", ""))), lang=str(header.get("lang", "en")),
        started=contents.header_record.t if contents.header_record else "", status=status,
        moves=moves, card=card, ending=ending, weeks=weeks, problem=problem,
    )


def load_workshop(folder: str | Path, *, scenario_dirs: Sequence[str | Path] = ()) -> Workshop:
    """Every session log under `folder` (searched recursively), grouped by scenario version and seed.

    A file that is not a readable session log is listed in `unreadable` with its diagnostics; a
    damaged log keeps what came before the damage. Raises DiagnosticError only when `folder` is
    not a folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DiagnosticError(Diagnostic.make(
            "DS0602", f"no folder at {folder}", "give the folder the class's session logs are in (the sessions folder, or a copy of it)"))
    sessions, unreadable = [], []
    for path in sorted(folder.rglob("*.jsonl")):
        if not path.is_file():
            continue
        got = _session(path)
        if isinstance(got, list):
            unreadable.append((path, got))
        else:
            sessions.append(got)
    _assign_aliases(sessions)
    by_key: dict[tuple[str, str, str], list[SessionRow]] = defaultdict(list)
    for s in sessions:
        by_key[(s.scenario_id, s.version, s.seed)].append(s)
    groups = [Group(*key, sessions=sorted(rows, key=lambda s: s.alias)) for key, rows in by_key.items()]
    groups.sort(key=lambda g: (-len(g.sessions), g.scenario_id, g.seed, g.version))
    _attach_scenarios(groups, scenario_dirs)
    return Workshop(folder=folder, groups=groups, unreadable=unreadable)


def _assign_aliases(sessions: list[SessionRow]) -> None:
    """T01, T02, … in the order trainees first started a session; one alias per name, so the same
    trainee keeps it across groups. Unnamed sessions get one each."""
    aliases: dict[str, str] = {}
    for s in sorted(sessions, key=lambda s: (s.started, str(s.path))):
        key = s.trainee or f"\0{s.path}"
        if key not in aliases:
            aliases[key] = f"T{len(aliases) + 1:02d}"
        s.alias = aliases[key]


def _attach_scenarios(groups: list[Group], scenario_dirs: Sequence[str | Path]) -> None:
    """Titles and option texts from the scenario file — only when it is the version played."""
    from simulator.library import discover
    from simulator.loader import load_scenario

    cat = load_catalogue()
    found = {}
    try:
        entries = discover(scenario_dirs, cat.ids)
    except DiagnosticError:
        entries = []
    for e in entries:
        if e.ok:
            found[e.result.loaded.sha256] = e.result.loaded
    for g in groups:
        loaded = found.get(g.version)
        if loaded is None:
            for s in g.sessions:  # the file the header names, if it is still there and unchanged
                from simulator.record import read_log

                header = read_log(s.path).header or {}
                path = header.get("scenario_path")
                if path and Path(path).is_file():
                    result = load_scenario(Path(path), cat.ids)
                    if result.ok and result.loaded.sha256 == g.version:
                        loaded = result.loaded
                break
        if loaded is not None:
            g.scenario = loaded.scenario
            g.title = {lang: text_in(loaded.scenario.title, lang) for lang in ("zh", "en")}


# ---------------------------------------------------------------------------------------------
# the report: a Document drawn by the debrief's Markdown and HTML renderers


def heat_class(share: float | None) -> str:
    if share is None:
        return "heat-na"
    return f"heat-{min(4, int(share * 5))}"


def heat_text(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.0f}%"


def build_document(ws: Workshop, lang: Lang, *, names: bool = False, leaderboard: bool = False, charts: bool = False):
    from scoring.report import Bullets, Cell, Chart, Charts, Document, P, Section, Table, code, strong, tag

    cat = load_catalogue()
    sections: list[Section] = []
    total = len(ws.sessions)
    overview = [P(t("ws_intro", lang, sessions=total, groups=len(ws.groups), folder=str(ws.folder)))]
    if ws.groups:
        rows = [[str(i + 1), g.name(lang), code(g.version[:12] or "?"), code(g.seed), str(len(g.sessions)),
                 str(sum(s.status == "finished" for s in g.sessions))] for i, g in enumerate(ws.groups)]
        overview.append(Table([t("ws_col_group", lang), t("ws_col_scenario", lang), t("ws_col_version", lang), t("ws_col_seed", lang),
                               t("ws_col_sessions", lang), t("ws_col_finished", lang)], rows, cls="groups"))
        if len(ws.groups) > 1:
            overview.append(P(t("ws_apart", lang)))
    if not names:
        overview.append(P(t("ws_pseudonyms", lang), cls="muted"))
    sections.append(Section("overview", t("ws_overview", lang), overview))

    for gi, g in enumerate(ws.groups, 1):
        prefix = f"g{gi}"
        heading = t("ws_group_heading", lang, n=gi, title=g.name(lang), seed=g.seed)
        totals = [s.total for s in g.sessions if s.total is not None]
        intro = [P(t("ws_group_summary", lang, sessions=len(g.sessions), finished=len(totals),
                     mean=f"{statistics.fmean(totals):.1f}" if totals else "—",
                     median=f"{statistics.median(totals):.1f}" if totals else "—"))]
        if g.scenario is None:
            intro.append(P(t("ws_no_scenario", lang), cls="muted"))
        others = [s for s in g.sessions if s.status != "finished"]
        if others:
            # the log's file name holds the trainee's name: shown only with names
            intro.append(Bullets([t(f"ws_status_{s.status}", lang, who=s.label(names), log=str(s.path) if names else "…") for s in others]))
        sections.append(Section(prefix, heading, intro))

        problems = g.problems(lang)
        blocks = []
        if problems:
            rows = []
            for x in problems:
                rows.append([
                    Cell(strong(x.title) + ("\n" + code(x.step) if x.title != x.step else "")),
                    f"{x.wrong}/{x.reached} ({x.share * 100:.0f}%)",
                    f"{x.common_wrong} ×{x.common_wrong_n}",
                    x.course or "—",
                    ", ".join(f"{cat.get(p).text('name', lang)} {code(p)}" if p in cat else code(p) for p in x.principles),
                ])
            blocks.append(Table([t("ws_col_decision", lang), t("ws_col_wrong", lang), t("ws_col_common_wrong", lang),
                                 t("ws_col_course", lang), t("ws_col_broken", lang)], rows, cls="problems"))
        else:
            blocks.append(P(t("ws_no_problems", lang)))
        sections.append(Section(f"{prefix}-wrong", t("ws_where_wrong", lang, n=gi), blocks))

        # side by side, aligned by decision number
        head = [t("ws_col_turn", lang)] + [s.label(names) for s in g.sessions]
        rows = []
        for turn in range(1, g.turns + 1):
            row: list = [f"D{turn}"]
            for s in g.sessions:
                m = s.moves[turn - 1] if turn <= len(s.moves) else None
                if m is None:
                    row.append("")
                else:
                    mark = tag("share-miss", "✗") if m.wrong else tag("share-ok", "✓") if m.points > 0 else "·"
                    row.append(f"{mark} {code(m.choice)}")
            rows.append(row)
        legend = P(t("ws_side_legend", lang), cls="caption")
        sections.append(Section(f"{prefix}-side", t("ws_side_by_side", lang, n=gi), [legend, Table(head, rows, cls="side")]))

        # principle x trainee
        pids = g.principle_ids(cat)
        if pids:
            head = [t("ws_col_principle", lang)] + [s.label(names) for s in g.sessions]
            rows = []
            for pid in pids:
                name = cat.get(pid).text("name", lang) if pid in cat else pid
                cells = [f"{name}\n{code(pid)}"]
                for s in g.sessions:
                    share = g.heat(pid, s)
                    cells.append(tag(f"heat {heat_class(share)}", heat_text(share)))
                rows.append(cells)
            heat = [P(t("ws_heat_legend", lang), cls="caption"), Table(head, rows, cls="heat")]
        else:
            heat = [P(t("ws_heat_empty", lang))]
        sections.append(Section(f"{prefix}-heat", t("ws_heat", lang, n=gi), heat))

        if charts:
            sections.append(Section(f"{prefix}-curves", t("ws_curves", lang, n=gi), [Charts(_curve_charts(g, prefix, lang))]))
        if leaderboard:
            rows = [[str(i + 1), s.label(names), f"{s.total:.1f}", str(s.card.get("grade", "")),
                     f"{float(s.card.get('process', 0)):.0f}", f"{float(s.card.get('results', 0)):.0f}",
                     _outcome(s, lang)]
                    for i, s in enumerate(g.ranking())]
            sections.append(Section(f"{prefix}-board", t("ws_board", lang, n=gi), [Table(
                [t("ws_col_rank", lang), t("ws_col_trainee", lang), t("ws_col_total", lang), t("ws_col_grade", lang),
                 t("ws_col_process", lang), t("ws_col_results", lang), t("ws_col_ending", lang)], rows, cls="board")]))

    if ws.unreadable:
        sections.append(Section("unreadable", t("ws_unreadable", lang), [Bullets(
            [f"{code(str(p))}: {(d[0].message if d else '')}" if names else f"{code(d[0].code if d else '?')} {t('ws_unreadable_hidden', lang)}"
             for p, d in ws.unreadable])]))
    meta = [(t("ws_meta_folder", lang), str(ws.folder)), (t("ws_meta_sessions", lang), str(total))]
    return Document(lang=lang, title=t("ws_title", lang), meta=meta, banners=[], sections=sections)


def _curve_charts(g: Group, prefix: str, lang: Lang):
    from scoring.charts import PALETTE, series_chart
    from scoring.report import Chart

    charts = []
    rows = [s for s in g.sessions if s.weeks]
    for name in CURVES:
        values = {s.alias: g.curve(s, name) for s in rows}
        values = {k: v for k, v in values.items() if v}
        if not values:
            continue
        weeks = max(len(v) for v in values.values())
        # sessions that ended earlier (or are unfinished) stop where their log stops
        padded = {k: v + [float("nan")] * (weeks - len(v)) for k, v in values.items()}
        colours = {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(padded)}
        band = (1.2, 1.8) if name == "cover" and g.weeks_per_cycle else None
        title = g.curve_title(name)
        svg = series_chart(f"{prefix}-{name}", list(range(1, weeks + 1)), padded, colours, band=band, label=t(title, lang))
        charts.append(Chart(t(title, lang), t(f"{title}_cap", lang), svg,
                            legend=[(colours[k], "", k) for k in padded]))
    return charts


def workshop_markdown(ws: Workshop, lang: Lang, *, names: bool = False, leaderboard: bool = False) -> str:
    from scoring.report import render_markdown

    return render_markdown(build_document(ws, lang, names=names, leaderboard=leaderboard))


def workshop_html(ws: Workshop, lang: Lang, *, names: bool = False, leaderboard: bool = False) -> str:
    from scoring.report import render_html

    return render_html(build_document(ws, lang, names=names, leaderboard=leaderboard, charts=True))


def workshop_csv(ws: Workshop, *, names: bool = False) -> str:
    """One row per session: who (alias or name), which group, the scorecard, every choice, and the
    share earned per principle — for a spreadsheet."""
    cat = load_catalogue()
    turns = max((g.turns for g in ws.groups), default=0)
    pids = sorted({p for g in ws.groups for p in g.principle_ids(cat)}, key=lambda p: (cat.ids.index(p) if p in cat else 999, p))
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["group", "trainee", "scenario", "version", "seed", "status", "total", "grade", "process", "results", "ending", "outcome"] + (["log"] if names else [])
               + [f"D{i}" for i in range(1, turns + 1)] + pids)
    for gi, g in enumerate(ws.groups, 1):
        for s in g.sessions:
            card = s.card or {}
            w.writerow([gi, s.label(names), s.scenario_id, s.version[:12], s.seed, s.status,
                        "" if s.total is None else f"{s.total:.2f}", card.get("grade", ""),
                        _num(card.get("process")), _num(card.get("results")),
                        (s.ending or {}).get("ending", (s.ending or {}).get("step", "")), (s.ending or {}).get("outcome", "")] + ([str(s.path)] if names else [])
                       + [f"{s.moves[i].step}:{s.moves[i].choice}" if i < len(s.moves) else "" for i in range(turns)]
                       + ["" if g.heat(p, s) is None else f"{g.heat(p, s):.2f}" for p in pids])
    return out.getvalue()


def _outcome(s: SessionRow, lang: Lang) -> str:
    outcome = str((s.ending or {}).get("outcome", ""))
    return t(f"outcome_{outcome}", lang) if outcome in ("good", "mixed", "bad") else outcome


def _num(value) -> str:
    return f"{float(value):.2f}" if isinstance(value, (int, float)) and not isinstance(value, bool) else ""

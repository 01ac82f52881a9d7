"""What the negotiation table shows, in the trainee's language (plain values: no Textual here).

Built from the session's events (`simulator.negotiation.history`) and what the engine offers now
(`Session.options()` with their params). Nothing hidden about the counterpart is used: its bids,
its lines, the answers to questions and the company's own utility are all the trainee sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.i18n import t
from simulator.negotiation.history import TableOffer, table_state
from simulator.negotiation.step import render_terms, render_value
from simulator.schema import NegotiationStep, text_in

# the key for each move (the table lists them with their letters; the screen binds them)
MOVE_KEYS: dict[str, str] = {
    "offer": "o", "package": "p", "accept": "a", "walk_away": "w",
    "ask": "k", "listen": "l", "restate": "r", "reluctant": "u", "flinch": "f", "say_no": "n",
    "authority": "m", "break_deadlock": "b", "summarise": "s", "empathise": "e", "name_tactic": "c",
}
KEY_MOVES = {key: move for move, key in MOVE_KEYS.items()}


@dataclass(frozen=True)
class IssueEditor:
    """One issue of the offer being built: the values it can take, rendered, and where it starts."""

    id: str
    name: str
    kind: str  # number | options | off (not on the table: shown, not edited)
    values: tuple[Any, ...] = ()  # grid points or option ids
    labels: tuple[str, ...] = ()
    start: int = 0
    their: str = ""  # the counterpart's standing value, rendered
    reading: str = ""  # what a question revealed about it, if asked


@dataclass(frozen=True)
class Tactic:
    key: str
    move: str
    label: str


@dataclass(frozen=True)
class Pick:
    """One entry of a move's small dialog: the text shown and the params the move takes."""

    label: str
    params: dict[str, Any]


@dataclass
class TableView:
    step: str
    status: str
    warning: str
    said: list[str]
    terms: str
    request: str  # the good cop's aside: one more step on an issue (while the act is on)
    columns: list[str]  # the history's header: round, who, one per issue on the table, worth
    rows: list[tuple[list[str], str]]  # cells and the row's tone: them | good_cop | bad_cop | us
    issues: list[IssueEditor]
    floor: float
    their_worth: float
    tactics: list[Tactic]
    ask: list[Pick] = field(default_factory=list)
    deadlock: list[Pick] = field(default_factory=list)
    accept_terms: str = ""
    key: tuple = ()  # changes when the builder should start afresh (a new bid, an issue added)


def _index(values: tuple[Any, ...], value: Any) -> int:
    if value in values:
        return values.index(value)
    if isinstance(value, (int, float)) and values and all(isinstance(v, (int, float)) for v in values):
        return min(range(len(values)), key=lambda i: abs(float(values[i]) - float(value)))
    return 0


def _cells(offer: TableOffer, ids: list[str], step: NegotiationStep, lang) -> list[str]:
    return [render_value(step, i, offer.offer.get(i), lang) if i in offer.offer else "" for i in ids]


def table_view(game) -> TableView | None:
    """The table for the negotiation in progress, or None when the current step is not one."""
    session = game.session
    step = session.step
    if not isinstance(step, NegotiationStep) or not session.negotiating:
        return None
    lang = game.lang
    neg = session.negs[0]
    view = neg.view()
    state = table_state(game.events, step.id)
    options = {o.id: o for o in session.options()}
    name = text_in(step.counterpart.name, lang)
    standing = state.standing

    # the status line: the round, the rounds left, the talk left
    talk = neg.talk_left
    fmt = dict(round=view.round + 1, rounds=view.rounds, left=view.rounds - view.round - 1, talk=max(talk, 0))
    status = t("table_status_last" if view.last_round else "table_status", lang, **fmt)
    warning = t("table_deadlock", lang) if view.deadlock else ""

    # what was said since the trainee's last move (else the counterpart's bid line), and the terms
    # (the last two: after an offer that is his reaction and his new bid, or the two voices of good
    # cop / bad cop; the feed and the log keep everything)
    said = [_said(s.speaker or name, s.text, lang) for s in state.latest if s.kind != "nego_end"][-2:]
    terms = ""
    their_worth = 0.0
    if standing is not None:
        shown = {k: v for k, v in standing.offer.items() if k in {i.id for i, p in zip(step.issues, neg.in_play) if p}}
        terms = t("table_their_terms", lang, who=standing.speaker or name, terms=render_terms(step, shown, lang), own=f"{standing.own_utility:.2f}")
        their_worth = standing.own_utility
    request = ""
    if standing is not None and standing.how == "good_cop" and standing.request:
        request = t("table_good_cop", lang, who=standing.speaker or name, issue=_name(step, standing.request, lang))

    # the history, one row per offer, with a column per issue on the table
    on_table = [i.id for i, p in zip(step.issues, neg.in_play) if p]
    columns = [t("table_col_round", lang), t("table_col_who", lang), *[_name(step, i, lang) for i in on_table], t("table_col_worth", lang)]
    rows = []
    for offer in state.offers:
        if offer.side == "us":
            who, tone = t("table_you_package" if offer.how == "package" else "table_you", lang), "us"
        else:
            who, tone = (offer.speaker or name), ("them" if offer.how == "dealer" else offer.how)
        rows.append(([str(offer.round + 1), who, *_cells(offer, on_table, step, lang), f"{offer.own_utility:.2f}"], tone))

    # the builder: one editor per issue on the table, prefilled with the trainee's last offer (else their bid)
    build = options.get("package") or options.get("offer")
    issues: list[IssueEditor] = []
    if build is not None and build.params:
        for entry in build.params["issues"]:
            if entry["kind"] == "number":
                values = tuple(float(v) for v in entry["grid"])
                labels = tuple(render_value(step, entry["id"], v, lang) for v in values)
            else:
                values = tuple(o["id"] for o in entry["options"])
                labels = tuple(o["name"] for o in entry["options"])
            start = _index(values, entry.get("your_last", entry["standing"]))
            issues.append(IssueEditor(entry["id"], entry["name"], entry["kind"], values, labels, start,
                                      t("table_they_want", lang, value=render_value(step, entry["id"], entry["standing"], lang)),
                                      _reading(state.readings.get(entry["id"]), lang)))
    for issue, in_play in zip(step.issues, neg.in_play):
        if not in_play:
            issues.append(IssueEditor(issue.id, text_in(issue.name, lang), "off", reading=_reading(state.readings.get(issue.id), lang)))

    # the moves on keys: whatever the step allows now
    tactics = [Tactic(MOVE_KEYS[m], m, t(f"table_move_{m}", lang)) for m in options if m in MOVE_KEYS]
    ask = []
    if "ask" in options and options["ask"].params:
        for entry in options["ask"].params["issues"]:
            label = t("table_pick_asked", lang, issue=entry["name"], n=entry["asked"]) if entry["asked"] else entry["name"]
            ask.append(Pick(label, {"issue": entry["id"]}))
    deadlock = []
    if "break_deadlock" in options and options["break_deadlock"].params:
        params = options["break_deadlock"].params
        if "add_issue" in params["how"]:
            deadlock += [Pick(t("table_pick_add_issue", lang, issue=e["name"]), {"how": "add_issue", "issue": e["id"]}) for e in params["issues"]]
        if "pause" in params["how"]:
            deadlock.append(Pick(t("table_pick_pause", lang), {"how": "pause"}))
    accept_terms = render_terms(step, {k: v for k, v in standing.offer.items() if k in on_table}, lang) if standing is not None else ""
    key = (step.id, session.visits.get(step.id), sum(o.side == "them" for o in state.offers), tuple(on_table))
    return TableView(
        step=step.id, status=status, warning=warning, said=said, terms=terms, request=request, columns=columns, rows=rows, issues=issues,
        floor=float(step.walk_away_below), their_worth=their_worth, tactics=tactics, ask=ask, deadlock=deadlock,
        accept_terms=accept_terms, key=key,
    )


def _said(who: str, text: str, lang) -> str:
    """A line in quotes; a stage direction ("(He talks at length…)") as it is."""
    return text if text[:1] in "(（" else t("table_said", lang, who=who, text=text)


def _name(step: NegotiationStep, issue_id: str, lang) -> str:
    issue = next((i for i in step.issues if i.id == issue_id), None)
    return text_in(issue.name, lang) if issue is not None else issue_id


def _reading(answers: list[tuple[str, float]] | None, lang) -> str:
    if not answers:
        return ""
    level = answers[-1][0]
    return t(f"table_reading_{level}", lang)


def offer_values(issues: list[IssueEditor], picked: dict[str, int]) -> dict[str, Any]:
    """The values of the offer being built (every issue on the table), as `choose(..., values=)` takes them."""
    out: dict[str, Any] = {}
    for issue in issues:
        if issue.kind == "off" or not issue.values:
            continue
        index = picked.get(issue.id, issue.start)
        out[issue.id] = issue.values[max(0, min(index, len(issue.values) - 1))]
    return out


__all__ = ["IssueEditor", "KEY_MOVES", "MOVE_KEYS", "Pick", "Tactic", "TableView", "offer_values", "table_view"]

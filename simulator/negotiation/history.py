"""The negotiation so far as a front end's table shows it, folded from a session's events.

    state = table_state(session.events, "plan")
    state.offers       # both sides' offers in order: the counterpart's bids and the trainee's offers
    state.standing     # the counterpart's bid on the table now
    state.latest       # what the other side said since the trainee's last move
    state.readings     # issue -> the answers to the trainee's questions (level, reading)

Only what the trainee saw: the counterpart's utility is never in these events, and `nego_result`
(the hidden profile, for the debrief) is skipped on purpose. Pure: no I/O, no Textual.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SAID_KINDS = ("nego_bid", "nego_reply", "nego_deadlock", "nego_end")


@dataclass(frozen=True)
class TableOffer:
    round: int  # 0-based, the counterpart's bid index at the time
    side: str  # "them" | "us"
    how: str  # them: dealer | bad_cop | good_cop; us: offer | package
    offer: Mapping[str, Any]
    own_utility: float  # its worth to the company (public: the company's utility is known)
    speaker: str = ""
    request: str = ""  # the good cop's ask: the issue she wants one more step on


@dataclass(frozen=True)
class Said:
    speaker: str
    text: str
    kind: str  # nego_bid | nego_reply | nego_deadlock | nego_end
    issue: str = ""
    level: str = ""  # an answer to a question: high | medium | low


@dataclass
class TableState:
    step: str
    offers: list[TableOffer] = field(default_factory=list)
    latest: list[Said] = field(default_factory=list)
    readings: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    moves: int = 0  # the trainee's moves so far in this negotiation
    end: Mapping[str, Any] | None = None  # the nego_end event's data once it has ended

    @property
    def standing(self) -> TableOffer | None:
        return next((o for o in reversed(self.offers) if o.side == "them"), None)

    @property
    def last_ours(self) -> TableOffer | None:
        return next((o for o in reversed(self.offers) if o.side == "us"), None)


def _start(events: Sequence[Mapping[str, Any]], step_id: str) -> int:
    """Index just after the last time the story entered the step (a step can be visited again)."""
    for i in range(len(events) - 1, -1, -1):
        e = events[i]
        if e["kind"] == "step" and e["data"].get("step") == step_id:
            return i + 1
    return len(events)


def table_state(events: Sequence[Mapping[str, Any]], step_id: str) -> TableState:
    """The current (or last) visit of negotiation step `step_id`, from the session's events."""
    state = TableState(step_id)
    for e in events[_start(events, step_id):]:
        kind, d = e["kind"], e["data"]
        if kind == "step":
            break  # the story has moved on
        if kind == "choice" and d.get("step") == step_id:
            state.moves += 1
            state.latest = []
            continue
        if kind == "nego_bid":
            state.offers.append(TableOffer(int(d["round"]), "them", str(d.get("voice", "dealer")), dict(d["offer"]),
                                           float(d["own_utility"]), str(d.get("speaker", "")), str(d.get("request", ""))))
        elif kind == "nego_move" and "offer" in d:
            state.offers.append(TableOffer(int(d["round"]), "us", str(d["move"]), dict(d["offer"]), float(d["own_utility"])))
        elif kind == "nego_reply" and d.get("level") and d.get("issue"):
            state.readings.setdefault(str(d["issue"]), []).append((str(d["level"]), float(d.get("reading", 0.0))))
        elif kind == "nego_end":
            state.end = dict(d)
        if kind in SAID_KINDS and d.get("text"):
            state.latest.append(Said(str(d.get("speaker", "")), str(d["text"]), kind, str(d.get("issue", "")), str(d.get("level", ""))))
    return state


__all__ = ["Said", "TableOffer", "TableState", "table_state"]

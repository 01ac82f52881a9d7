"""The mechanism: alternating offers with a round limit, the trainee's moves, events and the result.

    neg = Negotiation(spec, rng)          # the counterpart opens with its first demand (neg.events)
    neg.available()                       # the move kinds allowed now
    events = neg.play(Move("ask", issue="payment_days"))
    events = neg.play(Move("package", values={"rebate": 2.5, "payment_days": 45}))
    neg.done, neg.result()                # metrics and score items once it has ended

Rounds: the counterpart bids at rounds k = 0 … rounds−1 (t = k / (rounds−1)); after each bid the
trainee may talk (at most `talk_per_round` talk moves) and then accept, walk away, or make an
offer, which the counterpart accepts (AC_next), answers with its next bid, or — when irritated —
walks away from. After its last bid the trainee has one last answer: an offer worth less than the
counterpart's reservation value then ends the negotiation without a deal (the deadline).

Events are plain JSON-ready dicts `{"kind": ..., "data": {...}}`, like the engine's. Trainee-facing
events never carry the counterpart's hidden utility; the final `nego_result` event does (debrief).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulator.negotiation.metrics import Result, SpaceStats, concession_pattern, deal_quality, distance, distance_to_front
from simulator.negotiation.score import score_items
from simulator.negotiation.spec import NegotiationSpec
from simulator.negotiation.strategy import Counterpart, draw_luck, make_counterpart
from simulator.negotiation.utility import Domain, LinearUtility, OfferError, Outcome, OutcomeSpace, Value, company_utility, value_table

Event = dict[str, Any]

OFFER_MOVES = ("offer", "package")
END_MOVES = ("accept", "walk_away")
TALK_MOVES = (
    "ask", "listen", "restate", "reluctant", "flinch", "say_no", "authority",
    "break_deadlock", "summarise", "empathise", "name_tactic",
)
MOVES = OFFER_MOVES + END_MOVES + TALK_MOVES
DEADLOCK_WAYS = ("add_issue", "pause")


class MoveError(ValueError):
    """A move that is not allowed now, or malformed; `hint` says what is allowed."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class Move:
    kind: str
    values: Mapping[str, Value] = field(default_factory=dict)  # offer / package: values per issue (the rest from the standing bid)
    issue: str | None = None  # ask: which issue; break_deadlock with how="add_issue": which issue (default: the first off the table)
    how: str | None = None  # break_deadlock: "add_issue" or "pause"


@dataclass(frozen=True)
class View:
    """What the trainee (or a headless policy) can see: nothing hidden about the counterpart."""

    spec: NegotiationSpec
    domain: Domain
    own: LinearUtility  # the company's utility (known)
    their_tables: tuple[np.ndarray, ...]  # the counterpart's value per grid point (public; its weights are not)
    round: int  # index of the counterpart's standing bid, 0-based
    rounds: int
    last_round: bool  # the standing bid is its last one
    standing: Outcome
    standing_is_first: bool  # the standing bid is its opening demand
    voice: str  # "dealer" | "good_cop"
    good_cop_request: str | None  # the issue the good cop asks for, while the act is on
    deadlock: bool
    in_play: tuple[bool, ...]
    my_offers: tuple[Outcome, ...]
    my_moves: tuple[str, ...]
    moves_this_round: tuple[str, ...]
    readings: Mapping[str, tuple[float, ...]]
    available: tuple[str, ...]
    confirmed: Mapping[str, Value] = field(default_factory=dict)  # items restated and confirmed: issue -> agreed value

    @property
    def standing_own(self) -> float:
        return self.own(self.standing)

    def said(self, kind: str) -> bool:
        return kind in self.my_moves


class Negotiation:
    def __init__(self, spec: NegotiationSpec, rng: np.random.Generator):
        self.spec = spec
        self.params = spec.params
        self.domain = Domain(spec)
        self.own = company_utility(spec)
        self.cp: Counterpart = make_counterpart(spec, rng)
        self.in_play: tuple[bool, ...] = tuple(i.in_play for i in spec.issues)
        self.space = self._space()
        self._their_tables = tuple(value_table(i, "counterpart") for i in spec.issues)
        self.k = 0
        self.voice = "dealer"
        self.standing: Outcome = self.domain.defaults
        self.real_bid: Outcome | None = None  # the counterpart's real bid while good cop / bad cop is played
        self.good_cop: int | None = None  # issue index the good cop asks for
        self.first_standing = True
        self.my_offers: list[Outcome] = []
        self.moves: list[str] = []
        self.round_moves: list[str] = []
        self.readings: dict[int, list[float]] = {}
        self.agreed: dict[int, int] = {}
        self.trace: list[dict] = []
        self.events: list[Event] = []
        self.ended: tuple[str, Outcome | None] | None = None
        self.n = dict(
            asks_before_offer=0, listens=0, restates=0, reopened=0, flinches=0, flinch_effective=0,
            deadlocks=0, deadlocks_broken=0, stubborn=0, good_cop_conceded=0, tactic_misnamed=0,
            unconditional=0, trades=0, multi_issue=0,
        )
        self.flags = dict(
            reluctant_early=False, said_no_first=False, accepted_first=False, nibbled=False,
            summarised_before_close=False, empathised=False, good_cop_played=False, tactic_named=False,
        )
        self.issues_added: list[str] = []
        self._result: Result | None = None
        self._room_for_a_deal()
        opening = self.cp.choose_bid(self.space, self.cp.target(0))
        if self.cp.utility(opening) < self.cp.reservation - 1e-12:  # nothing on the table is worth its while
            self._end("counterpart_walked", None, "they_walk")
        else:
            self._bid(opening, line="opening")

    # ------------------------------------------------------------ queries

    @property
    def done(self) -> bool:
        return self.ended is not None

    @property
    def talk_left(self) -> int:
        return self.params.talk_per_round - sum(1 for m in self.round_moves if m in TALK_MOVES)

    def available(self) -> tuple[str, ...]:
        if self.done:
            return ()
        moves = list(OFFER_MOVES + END_MOVES)
        if self.talk_left > 0:
            for m in TALK_MOVES:
                if m == "ask" and not self._askable():
                    continue
                moves.append(m)
        allowed = self.spec.moves
        return tuple(m for m in moves if allowed is None or m in allowed)

    def view(self) -> View:
        return View(
            spec=self.spec,
            domain=self.domain,
            own=self.own,
            their_tables=self._their_tables,
            round=self.k,
            rounds=self.spec.rounds,
            last_round=self.k == self.spec.rounds - 1,
            standing=self.standing,
            standing_is_first=self.first_standing,
            voice=self.voice,
            good_cop_request=None if self.good_cop is None else self.spec.issues[self.good_cop].id,
            deadlock=self.cp.deadlock,
            in_play=self.in_play,
            my_offers=tuple(self.my_offers),
            my_moves=tuple(self.moves),
            moves_this_round=tuple(self.round_moves),
            readings={self.spec.issues[i].id: tuple(r) for i, r in self.readings.items()},
            available=self.available(),
            confirmed={self.spec.issues[i].id: self.spec.issues[i].grid[k] for i, k in sorted(self.cp.locked.items())},
        )

    # ------------------------------------------------------------ the one way to change it

    def play(self, move: Move) -> list[Event]:
        if self.done:
            raise MoveError("the negotiation has ended", "start a new one")
        if move.kind not in MOVES:
            raise MoveError(f"unknown move '{move.kind}'", f"moves: {', '.join(MOVES)}")
        if move.kind not in self.available():
            hint = "make an offer, accept, or walk away" if move.kind in TALK_MOVES else f"allowed now: {', '.join(self.available())}"
            raise MoveError(f"'{move.kind}' is not allowed now", hint)
        if move.values and move.kind not in OFFER_MOVES:
            raise MoveError(f"'{move.kind}' takes no values", "values go with an offer or a package")
        if move.issue is not None and move.kind not in ("ask", "break_deadlock"):
            raise MoveError(f"'{move.kind}' takes no issue", "an issue goes with ask or break_deadlock")
        if move.how is not None and move.kind != "break_deadlock":
            raise MoveError(f"'{move.kind}' takes no 'how'", "'how' goes with break_deadlock")
        start = len(self.events)
        data: dict[str, Any] = {"round": self.k, "move": move.kind}
        if move.kind in OFFER_MOVES:
            try:
                outcome = self.domain.encode(move.values, self.standing, self.in_play)
            except OfferError as err:
                raise MoveError(str(err), err.hint) from None
            data["offer"] = self.domain.decode(outcome)
            data["own_utility"] = round(self.own(outcome), 6)
        if move.issue is not None:
            data["issue"] = move.issue
        if move.how is not None:
            data["how"] = move.how
        if move.kind == "ask":
            self._check_ask(move)
        if move.kind == "break_deadlock":
            self._check_break(move)
        self._emit("nego_move", **data)
        self.moves.append(move.kind)
        self.round_moves.append(move.kind)
        if move.kind in OFFER_MOVES:
            self._do_offer(move, outcome)
        else:
            getattr(self, f"_do_{move.kind}")(move)
        return self.events[start:]

    def fork(self, rng: np.random.Generator | None = None) -> "Negotiation":
        """This negotiation with the same past (for the analysis's rollouts).

        Without `rng` the future luck is the same too; with it, the counterpart stays the one
        already met (its profile is part of the past) but its luck from here on is redrawn.
        """
        shared = {id(x): x for x in (self.spec, self.domain, self.own, self.space, self._their_tables, self.cp.profile, self.cp.utility)}
        other = copy.deepcopy(self, shared)
        if rng is not None:
            other.cp.luck = draw_luck(self.spec, rng)
        return other

    def result(self) -> Result:
        if self.ended is None:
            raise MoveError("the negotiation has not ended yet")
        if self._result is None:
            self._result = self._measure()
        return self._result

    # ------------------------------------------------------------ moves that end or offer

    def _do_accept(self, move: Move) -> None:
        if self.first_standing and not self.my_offers:
            self.flags["accepted_first"] = True
            pushed = self.cp.push(self.standing, 1)
            if self.cp.luck.nibble < self.params.nibble_prob and pushed is not None:
                self.flags["nibbled"] = True
                self.first_standing = False
                self._bid(pushed[0], line="nibble", request=self.spec.issues[pushed[1]].id, advance=False)
                return
        if self.good_cop is not None:
            self.n["good_cop_conceded"] += 1
        self._end("accepted_by_trainee", self.standing, "deal")

    def _do_walk_away(self, move: Move) -> None:
        self._end("trainee_walked", None, "you_walk")

    def _do_offer(self, move: Move, outcome: Outcome) -> None:
        package = move.kind == "package"
        self._classify_offer(outcome, package)
        if self.good_cop is not None:
            i = self.good_cop
            table = self.cp.their_tables[i]
            prev = self.my_offers[-1][i] if self.my_offers else None
            gives = table[outcome[i]] >= table[self.standing[i]] - 1e-12
            moved = prev is None or table[outcome[i]] > table[prev] + 1e-12
            if gives and moved and not package:
                self.n["good_cop_conceded"] += 1
            self._end_act()
        self.my_offers.append(outcome)
        self._note_agreement()
        p = self.cp.perceive(outcome, package)
        self.trace.append(self._trace("trainee", move.kind, outcome))
        if p.stubborn:
            self.n["stubborn"] += 1
        if p.reaction != "none":
            self._emit("nego_reply", round=self.k, move=move.kind, line=p.reaction, effect=p.reaction)
        if p.deadlock_started:
            self.n["deadlocks"] += 1
            self._emit("nego_deadlock", round=self.k, line="deadlock")
        last = self.k == self.spec.rounds - 1
        if last:
            if self.cp.accepts(outcome, None):
                self._end("accepted_by_counterpart", outcome, "they_accept")
            else:
                self._end("deadline", None, "deadline")
            return
        tau = self.cp.target(self.k + 1)
        if self.cp.accepts(outcome, tau):
            self._end("accepted_by_counterpart", outcome, "they_accept")
            return
        if self.cp.walks_after(self.k):
            self._end("counterpart_walked", None, "they_walk")
            return
        if self.cp.deadlock and self.cp.bids:
            self._bid(self.cp.bids[-1], line="bid_deadlock")
            return
        bid = self.cp.choose_bid(self.space, tau)
        if self.cp.utility(bid) < self.cp.reservation - 1e-12:  # cannot happen while the space allows its target
            self._end("counterpart_walked", None, "they_walk")
            return
        final = self.k + 1 == self.spec.rounds - 1
        self._bid(bid, line="bid_final" if final else "bid")
        self._maybe_good_cop()

    # ------------------------------------------------------------ talk moves

    def _askable(self) -> list[int]:
        return [i for i in range(len(self.spec.issues)) if len(self.readings.get(i, [])) < self.params.asks_per_issue]

    def _check_ask(self, move: Move) -> None:
        if move.issue is None:
            raise MoveError("ask needs an issue", f"issues: {', '.join(self.spec.ids)}")
        try:
            i = self.domain.index_of(move.issue)
        except OfferError as err:
            raise MoveError(str(err), err.hint) from None
        if i not in self._askable():
            raise MoveError(f"you have asked about '{move.issue}' {self.params.asks_per_issue} times already", "ask about another issue")

    def _do_ask(self, move: Move) -> None:
        i = self.domain.index_of(move.issue or "")
        if not self.my_offers:
            self.n["asks_before_offer"] += 1
        readings = self.readings.setdefault(i, [])
        value = self.cp.reading(i, len(readings))
        readings.append(value)
        n = len(self.spec.issues)
        level = "high" if value >= 1.3 / n else "low" if value <= 0.7 / n else "medium"
        self._emit("nego_reply", round=self.k, move="ask", issue=move.issue, reading=round(value, 4), level=level,
                   line=f"reveal_{level}", effect="reveal")

    def _do_listen(self, move: Move) -> None:
        first_this_round = self.round_moves.count("listen") == 1
        if first_this_round:
            self.n["listens"] += 1
            self.cp.openness = min(self.params.max_openness, self.cp.openness + 1)
        self._reply("listen", "listen" if first_this_round else "listen_again", "openness" if first_this_round else "none")

    def _do_restate(self, move: Move) -> None:
        if not self.my_offers:
            self._reply("restate", "restate_nothing", "none")
            return
        last = self.my_offers[-1]
        agreed = {i: last[i] for i in range(len(last)) if self.in_play[i] and last[i] == self.standing[i]}
        if not agreed:
            self._reply("restate", "restate_nothing", "none")
            return
        self.cp.locked.update(agreed)
        self.n["restates"] += 1
        self._reply("restate", "restate_confirmed", "lock", n=len(agreed), locked=[self.spec.issues[i].id for i in sorted(agreed)])

    def _do_reluctant(self, move: Move) -> None:
        if not self.my_offers and self.moves.count("reluctant") == 1:
            self.flags["reluctant_early"] = True
            self.cp.add_pressure(self.params.reluctance_pressure)
            self._reply("reluctant", "reluctant", "pressure")
        else:
            self._reply("reluctant", "reluctant_late", "none")

    def _do_flinch(self, move: Move) -> None:
        self.n["flinches"] += 1
        if self.round_moves.count("flinch") > 1:
            self._reply("flinch", "flinch_again", "none")
        elif self.n["flinch_effective"] < self.params.flinch_max:
            self.n["flinch_effective"] += 1
            self.cp.add_pressure(self.params.flinch_pressure)
            self._reply("flinch", "flinch", "pressure")
        else:
            self.cp.irritate()
            self._reply("flinch", "flinch_overdone", "irritation")

    def _do_say_no(self, move: Move) -> None:
        if self.first_standing and not self.my_offers and not self.flags["said_no_first"]:
            self.flags["said_no_first"] = True
            self.cp.add_pressure(self.params.say_no_pressure)
            self._reply("say_no", "say_no_first", "pressure")
        else:
            self._reply("say_no", "say_no_later", "none")

    def _do_authority(self, move: Move) -> None:
        uses = self.moves.count("authority")
        if uses == 1:
            self.cp.add_pressure(self.params.authority_pressure)
            self._reply("authority", "authority", "pressure")
        elif uses <= self.params.authority_max:
            self._reply("authority", "authority_again", "none")
        else:
            self.cp.irritate()
            self._reply("authority", "authority_overused", "irritation")

    def _check_break(self, move: Move) -> None:
        how = move.how or "add_issue"
        if how not in DEADLOCK_WAYS:
            raise MoveError(f"unknown way to break a deadlock: '{how}'", f"ways: {', '.join(DEADLOCK_WAYS)}")
        if move.issue is not None:
            try:
                i = self.domain.index_of(move.issue)
            except OfferError as err:
                raise MoveError(str(err), err.hint) from None
            if self.in_play[i]:
                raise MoveError(f"'{move.issue}' is already on the table", "name an issue that is not in play yet")

    def _do_break_deadlock(self, move: Move) -> None:
        how = move.how or "add_issue"
        was_deadlock = self.cp.deadlock
        if how == "add_issue":
            off = [i for i, p in enumerate(self.in_play) if not p]
            i = self.domain.index_of(move.issue) if move.issue is not None else (off[0] if off else None)
            if i is None:
                self._reply("break_deadlock", "no_issue_to_add", "none")
                return
            self._add_issue(i)
            self.issues_added.append(self.spec.issues[i].id)
            self._clear_deadlock(was_deadlock)
            self._reply("break_deadlock", "issue_added", "issue_added", issue=self.spec.issues[i].id)
            return
        if was_deadlock:
            self._clear_deadlock(True)
            self.cp.irritate(-1)
            self._reply("break_deadlock", "pause", "deadlock_broken")
        else:
            self._reply("break_deadlock", "pause_no_deadlock", "none")

    def _do_summarise(self, move: Move) -> None:
        if self.round_moves.count("summarise") == 1:
            self.cp.bonus = max(self.cp.bonus, 0.0) + self.params.summary_bonus
            self._reply("summarise", "summarise", "acceptance")
        else:
            self._reply("summarise", "summarise_again", "none")

    def _do_empathise(self, move: Move) -> None:
        if self.round_moves.count("empathise") == 1:
            self.flags["empathised"] = True
            self.cp.irritate(-1)
            self.cp.bonus += self.params.empathy_bonus
            self._reply("empathise", "empathise", "acceptance")
        else:
            self._reply("empathise", "empathise_again", "none")

    def _do_name_tactic(self, move: Move) -> None:
        if self.good_cop is not None:
            self.flags["tactic_named"] = True
            self.cp.add_pressure(self.params.name_tactic_pressure)
            real = self.real_bid
            self._end_act()
            assert real is not None
            self._bid(real, line="tactic_named", advance=False)
        else:
            self.n["tactic_misnamed"] += 1
            self.cp.irritate()
            self._reply("name_tactic", "tactic_misnamed", "irritation")

    # ------------------------------------------------------------ internals

    def _room_for_a_deal(self) -> None:
        """If nothing on the table reaches its reservation value, it puts its most valued missing issue on it."""
        order = np.argsort(-np.asarray(self.cp.profile.weights), kind="stable")
        for i in order:
            if self.space.theirs.max() >= self.cp.reservation - 1e-12:
                return
            if not self.in_play[int(i)]:
                self._add_issue(int(i))
                self._emit("nego_reply", round=self.k, move="", line="they_add_issue", effect="issue_added", by="counterpart",
                           issue=self.spec.issues[int(i)].id)

    def _add_issue(self, i: int) -> None:
        self.in_play = tuple(p or j == i for j, p in enumerate(self.in_play))
        self.cp.set_in_play(self.in_play)
        self.space = self._space()

    def _space(self) -> OutcomeSpace:
        return OutcomeSpace.build(self.domain, self.in_play, self.own, self.cp.utility)

    def _emit(self, kind: str, **data: Any) -> None:
        self.events.append({"kind": kind, "data": data})

    def _reply(self, move: str, line: str, effect: str, **extra: Any) -> None:
        self._emit("nego_reply", round=self.k, move=move, line=line, effect=effect, **extra)

    def _trace(self, by: str, kind: str, outcome: Outcome) -> dict:
        return {
            "round": self.k, "by": by, "kind": kind, "offer": self.domain.decode(outcome),
            "own": round(self.own(outcome), 6), "theirs": round(self.cp.utility(outcome), 6),
        }

    def _bid(self, outcome: Outcome, line: str, *, voice: str = "dealer", request: str | None = None, advance: bool = True, standing: bool = True) -> None:
        if advance and self.cp.bids:
            self.k += 1
            self.round_moves = []
            self.first_standing = False
        if standing:
            self.standing = outcome
            self.voice = voice
            if voice == "dealer":
                self.cp.bids.append(outcome)
                self._check_reopened(outcome)
        data: dict[str, Any] = {
            "round": self.k, "voice": voice, "offer": self.domain.decode(outcome), "own_utility": round(self.own(outcome), 6),
            "standing": standing, "first": self.first_standing and voice == "dealer", "final": self.k == self.spec.rounds - 1, "line": line,
        }
        if request is not None:
            data["request"] = request
        self._emit("nego_bid", **data)
        self.trace.append(self._trace("counterpart", voice, outcome))

    def _maybe_good_cop(self) -> None:
        c = self.spec.counterpart
        rounds = self.spec.rounds
        if not c.good_cop_bad_cop or self.flags["good_cop_played"] or self.cp.deadlock:
            return
        if self.k / (rounds - 1) < c.good_cop_at or self.k >= rounds - 1:
            return
        real = self.standing
        pushed = self.cp.push(real, self.params.good_cop_steps)
        if pushed is None:
            return
        self.flags["good_cop_played"] = True
        bad = self.cp.choose_bid(self.space, self.cp.u_hi)
        self.real_bid = real
        self.good_cop = pushed[1]
        self._bid(bad, line="bad_cop", voice="bad_cop", advance=False, standing=False)
        self._bid(pushed[0], line="good_cop", voice="good_cop", request=self.spec.issues[pushed[1]].id, advance=False)

    def _end_act(self) -> None:
        self.good_cop = None
        self.real_bid = None
        self.voice = "dealer"

    def _clear_deadlock(self, was: bool) -> None:
        if was:
            self.n["deadlocks_broken"] += 1
        self.cp.deadlock = False
        self.cp.stubborn_run = 0

    def _classify_offer(self, outcome: Outcome, package: bool) -> None:
        base = self.my_offers[-1] if self.my_offers else None
        ref = base if base is not None else self.standing
        changed = [i for i in range(len(outcome)) if outcome[i] != ref[i]]
        if len(changed) >= 2:
            self.n["multi_issue"] += 1
        if base is None:
            return
        tables = self.own.tables
        up = [i for i in changed if tables[i][outcome[i]] > tables[i][base[i]] + 1e-12]
        down = [i for i in changed if tables[i][outcome[i]] < tables[i][base[i]] - 1e-12]
        if up and down:
            self.n["trades"] += 1
        elif down and not up and not package:
            self.n["unconditional"] += 1

    def _note_agreement(self) -> None:
        last = self.my_offers[-1]
        for i in range(len(last)):
            if self.in_play[i] and last[i] == self.standing[i]:
                self.agreed[i] = last[i]

    def _check_reopened(self, bid: Outcome) -> None:
        if not self.my_offers:
            return
        last = self.my_offers[-1]
        for i, v in list(self.agreed.items()):
            if bid[i] != v and last[i] == v:
                self.n["reopened"] += 1
                del self.agreed[i]
            elif last[i] != v:
                del self.agreed[i]  # the trainee moved it: no longer agreed
        for i in range(len(bid)):
            if self.in_play[i] and bid[i] == last[i]:
                self.agreed[i] = bid[i]

    def _end(self, reason: str, outcome: Outcome | None, line: str) -> None:
        if outcome is not None:
            self.flags["summarised_before_close"] = "summarise" in self.round_moves
        self.ended = (reason, outcome)
        data: dict[str, Any] = {"round": self.k, "deal": outcome is not None, "reason": reason, "line": line, "rounds": self.k + 1}
        if outcome is not None:
            data["offer"] = self.domain.decode(outcome)
            data["own_utility"] = round(self.own(outcome), 6)
        self._emit("nego_end", **data)
        result = self.result()
        self._emit("nego_result", **result.as_dict(), deal_quality=deal_quality(result), score=score_items(result))

    def _measure(self) -> Result:
        reason, outcome = self.ended  # type: ignore[misc]
        spec = self.spec
        r_own, r_theirs = spec.company_reservation, self.cp.reservation
        full = OutcomeSpace.build(self.domain, tuple(True for _ in spec.issues), self.own, self.cp.utility)
        stats = SpaceStats.of(full.own, full.theirs, r_own, r_theirs)
        deal = outcome is not None
        own_u = self.own(outcome) if deal else r_own
        their_u = self.cp.utility(outcome) if deal else r_theirs
        point = (own_u, their_u)
        gain = (own_u - r_own) + (their_u - r_theirs) if deal else 0.0
        own_offers = [self.own(o) for o in self.my_offers]
        in_zone = [self.cp.utility(o) >= r_theirs - 1e-12 for o in self.my_offers]
        span = max(1e-9, self.cp.profile.anchor - r_theirs)
        satisfaction = 0.0
        if deal:
            satisfaction = min(1.0, max(0.0, (their_u - r_theirs) / span + (0.1 if self.flags["empathised"] else 0.0) - 0.05 * self.cp.irritation))
        nash = stats.nash if stats.nash is not None else (r_own, r_theirs)  # no zone of agreement: the disagreement point
        acceptable = full.theirs >= r_theirs - 1e-12
        max_own = float(full.own[acceptable].max()) if acceptable.any() else float(r_own)
        return Result(
            deal=deal,
            reason=reason,
            outcome=self.domain.decode(outcome) if deal else None,
            own_utility=float(own_u),
            their_utility=float(their_u),
            own_reservation=float(r_own),
            their_reservation=float(r_theirs),
            own_rational=(not deal) or own_u >= r_own - 1e-12,
            pareto_distance=distance_to_front(point, stats.front_own, stats.front_theirs),
            nash_distance=distance(point, nash),
            nash_utilities=stats.nash,
            nash_outcome=None if stats.nash_row is None else self.domain.decode(full.outcome(stats.nash_row)),
            joint_gain=float(gain),
            max_joint_gain=stats.max_joint_gain,
            joint_gain_ratio=float(gain / stats.max_joint_gain) if stats.max_joint_gain > 1e-9 else 0.0,
            rounds=self.k + 1,
            concession=concession_pattern(own_offers),
            offers=len(self.my_offers),
            unconditional_concessions=self.n["unconditional"],
            trades=self.n["trades"],
            multi_issue_offers=self.n["multi_issue"],
            offers_in_their_zone=float(np.mean(in_zone)) if in_zone else 0.0,
            asks=sum(len(r) for r in self.readings.values()),
            asks_before_first_offer=self.n["asks_before_offer"],
            listens=self.n["listens"],
            restates=self.n["restates"],
            reopened=self.n["reopened"],
            reluctant_early=self.flags["reluctant_early"],
            said_no_first=self.flags["said_no_first"],
            accepted_first=self.flags["accepted_first"],
            nibbled=self.flags["nibbled"],
            flinches=self.n["flinches"],
            authority_uses=self.moves.count("authority"),
            deadlocks=self.n["deadlocks"],
            deadlocks_broken=self.n["deadlocks_broken"],
            stubborn_offers=self.n["stubborn"],
            summarised_before_close=self.flags["summarised_before_close"],
            empathised=self.flags["empathised"],
            good_cop_played=self.flags["good_cop_played"],
            good_cop_conceded=self.n["good_cop_conceded"],
            tactic_named=self.flags["tactic_named"],
            tactic_misnamed=self.n["tactic_misnamed"],
            issues_added=tuple(self.issues_added),
            satisfaction=float(satisfaction),
            counterpart={
                "weights": {i.id: round(w, 6) for i, w in zip(spec.issues, self.cp.profile.weights)},
                "reservation": round(r_theirs, 6),
                "exponent": round(self.cp.profile.exponent, 6),
                "anchor": self.cp.profile.anchor,
            },
            trace=tuple(self.trace),
            max_own_utility=max_own,
        )


def run(spec: NegotiationSpec, rng: np.random.Generator, policy, max_moves: int = 500) -> Negotiation:
    """Headless play: `policy(view) -> Move` until the negotiation ends."""
    neg = Negotiation(spec, rng)
    for _ in range(max_moves):
        if neg.done:
            return neg
        neg.play(policy(neg.view()))
    raise RuntimeError("policy did not finish the negotiation")  # a bug in a policy, not user input

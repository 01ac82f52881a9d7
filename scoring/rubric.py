"""Scores against the course: every point names a principle, a reason and its citation.

A `Scorer` watches a session (the engine calls it after each choice's effects, after each market
week and at the ending) and keeps, per principle, the points earned and the points that were
possible. It works on (rollouts,) arrays so one implementation serves the live session (1 rollout)
and the analysis's batched rollouts.

- Choice tags: at each decision, for each principle tagged by any option on offer, earned =
  weight(chosen) − min(weight over options), possible = max − min.
- State rules (`rules.toml`): what the market shows, e.g. cover after each order against the
  1.5-cycle band; active only for principles the scenario teaches.
- Process score = 100 × Σ earned / Σ possible. Results score = weighted market outcomes at the end
  (0–100). Total = process_weight × process + (1 − process_weight) × results; a grade.

Stuffing the channel before the end does not pay: sell-in is never rewarded, an order above the
band loses process points at once, and the results judge stock health and price at the end.
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from scoring.catalogue import Catalogue, load_catalogue
from simulator.loader import LoadedScenario
from simulator.schema import Choice, effect_kind, effect_params, text_in

RESULT_KEYS = ("sell_through", "stock_health", "dealer_margin", "trust", "channel_price", "receivables", "deal_quality")
NEGO_POSSIBLE = 2.0  # possible points per negotiation score item; earned = (points + 2) / 2 for points −2…+2


@cache
def rules() -> dict[str, Any]:
    return tomllib.loads(resources.files("scoring").joinpath("rules.toml").read_text("utf-8"))


@dataclass
class ScoreItem:
    principle: str
    earned: float
    possible: float
    turn: int
    source: str  # "choice" or a rule id
    reason_zh: str = ""
    reason_en: str = ""

    def to_json(self) -> dict:
        return {
            "principle": self.principle,
            "earned": round(self.earned, 4),
            "possible": round(self.possible, 4),
            "turn": self.turn,
            "source": self.source,
            "reason_zh": self.reason_zh,
            "reason_en": self.reason_en,
        }


def _fmt(template: dict[str, str], **values: Any) -> tuple[str, str]:
    return template["zh"].format(**values), template["en"].format(**values)


def _choice_reason(choice: Choice) -> tuple[str, str]:
    if choice.feedback is not None:
        return text_in(choice.feedback, "zh"), text_in(choice.feedback, "en")
    return "选择：" + text_in(choice.text, "zh"), "Chose: " + text_in(choice.text, "en")


def grade(total: float) -> str:
    for letter, floor in sorted(rules()["grades"].items(), key=lambda kv: -kv[1]):
        if total >= floor:
            return letter
    return "F"


class Scorer:
    """Observes one session (or a batch of rollouts) and scores it."""

    def __init__(self, loaded: LoadedScenario, catalogue: Catalogue | None = None, rollouts: int = 1, *, keep_items: bool = True):
        self.loaded = loaded
        self.scenario = loaded.scenario
        self.catalogue = catalogue or load_catalogue()
        self.rollouts = rollouts
        self.keep_items = keep_items and rollouts == 1
        self.taught = set(self.scenario.principles)
        self.earned: dict[str, np.ndarray] = {}
        self.possible: dict[str, np.ndarray] = {}
        self.items: list[ScoreItem] = []
        self._pending: list[dict] = []
        self._new_items: list[ScoreItem] = []
        self._push_checks: list[tuple[int, int, np.ndarray, int]] = []  # (due week, dealer, mask of rollouts, turn)
        self._stockout_weeks = np.zeros((rollouts, len(self.scenario.market.dealers)))
        self._weeks = 0
        self.card: dict | None = None

    # ------------------------------------------------------------ bookkeeping

    def _add(self, principle: str, earned: np.ndarray | float, possible: float, turn: int, source: str, reason: tuple[str, str] = ("", "")) -> None:
        earned_arr = np.broadcast_to(np.asarray(earned, dtype=float), (self.rollouts,))
        # (the sums start from zeros, as they always did: 0.0 + -0.0 is 0.0, and the report prints these bits)
        before = self.earned.get(principle)
        self.earned[principle] = (np.zeros(self.rollouts) if before is None else before) + earned_arr
        before = self.possible.get(principle)
        self.possible[principle] = (np.zeros(self.rollouts) if before is None else before) + float(possible)
        if self.keep_items:
            item = ScoreItem(principle, float(earned_arr[0]), float(possible), turn, source, *reason)
            self.items.append(item)
            self._new_items.append(item)

    def _add_masked(self, principle: str, earned: np.ndarray, possible: float, mask: np.ndarray, turn: int, source: str, reason: tuple[str, str]) -> None:
        """A rule that applies only to some rollouts (e.g. those where the order overshot)."""
        if not mask.any():
            return
        self.earned[principle] = self.earned.get(principle, np.zeros(self.rollouts)) + np.where(mask, earned, 0.0)
        self.possible[principle] = self.possible.get(principle, np.zeros(self.rollouts)) + np.where(mask, possible, 0.0)
        if self.keep_items:
            item = ScoreItem(principle, float(earned[0]), float(possible), turn, source, *reason)
            self.items.append(item)
            self._new_items.append(item)

    def _rule(self, rule_id: str) -> dict | None:
        rule = rules()["rules"][rule_id]
        return rule if rule["principle"] in self.taught else None

    def _name(self, j: int) -> dict[str, str]:
        name = self.scenario.market.dealers[j].name
        return {"zh": text_in(name, "zh"), "en": text_in(name, "en")}

    # ------------------------------------------------------------ engine hooks

    def before_choice(self, session, choice: Choice) -> None:
        """Warning signs as the trainee saw them when deciding (before the choice's effects)."""
        rule = self._rule("warning_signs_heeded")
        if not rule:
            return
        flags = sum(session.market.warnings(session.state).values())  # (rollouts, dealers)
        touched: dict[int, set[str]] = {}
        for effect in choice.effects:
            params = effect_params(effect)
            if hasattr(params, "dealer"):
                touched.setdefault(session.scenario.dealer_index(params.dealer), set()).add(effect_kind(effect))
        for j, kinds in touched.items():
            flagged = flags[:, j] >= rule["min_signs"]
            if not flagged.any():
                continue
            heeded = bool(kinds & set(rule["heed"]))
            if not heeded and "order" not in kinds:
                continue
            earned = np.where(heeded, rule["points"], 0.0) * np.ones(self.rollouts)
            reason = self._reason(rule["good" if heeded else "bad"], j, signs=int(flags[0, j]))
            self._add_masked(rule["principle"], earned, rule["points"], flagged, session.turn + 1, "warning_signs_heeded", reason)

    def on_effect(self, session, kind: str, params, result: dict) -> None:
        if kind not in ("fine", "warning", "terminate"):
            return
        j = session.scenario.dealer_index(params.dealer)
        evidence = np.asarray(result["evidence"], dtype=bool)
        fast = np.asarray(result["fast"], dtype=bool)
        age = np.asarray(result["case_age_weeks"], dtype=float)
        turn = session.turn
        fair = self._rule("penalty_fair_fast")
        if fair:
            earned = 2.0 * evidence + 1.0 * fast
            key = "unfair" if not evidence[0] else "good" if fast[0] else "slow"
            self._add(fair["principle"], earned, fair["points"], turn, "penalty_fair_fast", self._reason(fair[key], j, weeks=f"{age[0]:.0f}"))
        due = self._rule("penalty_with_evidence")
        if due:
            self._add(due["principle"], np.where(evidence, due["points"], 0.0), due["points"], turn, "penalty_with_evidence", self._reason(due["good" if evidence[0] else "bad"], j))

    def on_choice(self, session, choice: Choice, options: list[str]) -> None:
        step = session.scenario.step(session.chosen[-1].split(".")[0])
        offered = [c for c in step.choices if c.id in options] or [choice]
        tagged = sorted({p for c in offered for p in c.principles})
        for pid in tagged:
            weights = [c.principles.get(pid, 0) for c in offered]
            low, high = min(weights), max(weights)
            mine = choice.principles.get(pid, 0)
            if high > low:
                self._add(pid, mine - low, high - low, session.turn, "choice", _choice_reason(choice) if self.keep_items else ("", ""))
        for effect in choice.effects:
            if effect_kind(effect) == "order":
                self._order_rules(session, session.scenario.dealer_index(effect_params(effect).dealer))
        self._pending.append({"kind": "score", "data": {"turn": session.turn, "items": [i.to_json() for i in self._new_items]}})
        self._new_items = []

    def _order_rules(self, session, j: int) -> None:
        market, state = session.market, session.state
        cover = market.weeks_of_cover(state)[:, j] / market.cycle_weeks
        rule = self._rule("cover_after_order")
        if rule:
            lo, hi = rule["band"]
            earned = np.where(
                cover > hi,
                rule["points"] * np.clip((rule["zero_above"] - cover) / (rule["zero_above"] - hi), 0, 1),
                np.where(cover < lo, rule["points"] * np.clip((cover - rule["zero_below"]) / (lo - rule["zero_below"]), 0, 1), rule["points"]),
            )
            key = "over" if cover[0] > hi else "under" if cover[0] < lo else "good"
            self._add(rule["principle"], earned, rule["points"], session.turn, "cover_after_order", self._reason(rule[key], j, cover=f"{cover[0]:.1f}"))
        push = self._rule("push_sells_through")
        if push:
            lo, hi = rules()["rules"]["cover_after_order"]["band"]
            mask = cover > hi
            if mask.any():
                due = state.week + int(round(push["within_cycles"] * market.cycle_weeks))
                self._push_checks.append((due, j, mask, session.turn))

    def _reason(self, template: dict[str, str], j: int, **values: Any) -> tuple[str, str]:
        if not self.keep_items:  # a batch keeps no items: nobody reads the reason
            return "", ""
        name = self._name(j)
        return template["zh"].format(dealer=name["zh"], **values), template["en"].format(dealer=name["en"], **values)

    def on_week(self, session, outcome: dict[str, np.ndarray]) -> None:
        self._weeks += 1
        self._stockout_weeks += outcome["lost"] > 0
        market, state = session.market, session.state
        remaining = []
        for due, j, mask, turn in self._push_checks:
            if state.week < due:
                remaining.append((due, j, mask, turn))
                continue
            rule = rules()["rules"]["push_sells_through"]
            cover = market.weeks_of_cover(state)[:, j] / market.cycle_weeks
            ok = cover <= rule["target"]
            earned = np.where(ok, rule["points"], 0.0)
            key = "good" if ok[0] else "bad"
            self._add_masked(rule["principle"], earned, rule["points"], mask, turn, "push_sells_through", self._reason(rule[key], j, cover=f"{cover[0]:.1f}"))
        self._push_checks = remaining

    def on_end(self, session) -> None:
        rule = self._rule("no_stockout_weeks")
        if rule and self._weeks:
            lost_total = session.state.lost_total
            for j in range(self._stockout_weeks.shape[1]):
                share = self._stockout_weeks[:, j] / self._weeks
                earned = rule["points"] * (1.0 - np.clip(share * 4, 0, 1))  # ours: a quarter of weeks out = nothing earned
                key = "good" if self._stockout_weeks[0, j] == 0 else "bad"
                reason = self._reason(rule[key], j, weeks=int(self._stockout_weeks[0, j]), lost=f"{lost_total[0, j]:,.0f}")
                self._add(rule["principle"], earned, rule["points"], session.turn, "no_stockout_weeks", reason)
        open_rule = self._rule("cases_left_open")
        if open_rule:
            per_diverter = session.state.cases.sum(axis=0)  # cases are (victim, rollout, diverter)
            for j in range(per_diverter.shape[1]):
                left = per_diverter[:, j] > 0
                reason = self._reason(open_rule["bad"], j, cases=int(per_diverter[0, j]))
                self._add_masked(open_rule["principle"], np.zeros(self.rollouts), open_rule["points"], left, session.turn, "cases_left_open", reason)
        if self._new_items:
            self._pending.append({"kind": "score", "data": {"turn": session.turn, "items": [i.to_json() for i in self._new_items]}})
            self._new_items = []
        card = self.scorecard(session)
        self.card = card
        self._pending.append({"kind": "scorecard", "data": card})

    def on_negotiation(self, session, step, outcomes) -> None:
        """A negotiation step ended: its score items (one list per rollout) join the principle scores.

        An item's points −2…+2 count as earned = (points + 2) / 2 out of possible = 2 (docs/SCORING.md),
        for the principles the scenario teaches."""
        turn = session.turn
        principles = sorted({item["principle"] for o in outcomes for item in o.score if item["principle"] in self.taught})
        for pid in principles:
            found = [next((i for i in o.score if i["principle"] == pid), None) for o in outcomes]
            mask = np.array([i is not None for i in found])
            earned = np.array([(i["points"] + 2) / 2 if i is not None else 0.0 for i in found])
            self.earned[pid] = self.earned.get(pid, np.zeros(self.rollouts)) + earned
            self.possible[pid] = self.possible.get(pid, np.zeros(self.rollouts)) + np.where(mask, NEGO_POSSIBLE, 0.0)
            if self.keep_items and found[0] is not None:
                item = ScoreItem(pid, float(earned[0]), NEGO_POSSIBLE, turn, f"negotiation:{step.id}", found[0]["reason_zh"], found[0]["reason_en"])
                self.items.append(item)
                self._new_items.append(item)
        if self._new_items:
            self._pending.append({"kind": "score", "data": {"turn": turn, "items": [i.to_json() for i in self._new_items]}})
            self._new_items = []

    def fork(self, rollouts: int | None = None) -> "Scorer":
        """A copy for rollouts (keeps no items); with `rollouts`, a single session's scores repeated for a batch."""
        rows = [0] * rollouts if rollouts is not None else range(self.rollouts)
        return self.take(rows)

    def take(self, rows) -> "Scorer":
        rows = list(rows)
        other = copy.copy(self)
        other.rollouts = len(rows)
        other.earned = {k: v[rows] for k, v in self.earned.items()}
        other.possible = {k: v[rows] for k, v in self.possible.items()}
        other.items = []
        other.keep_items = False
        other._pending = []
        other._new_items = []
        other._push_checks = [(due, j, mask[rows], turn) for due, j, mask, turn in self._push_checks]
        other._stockout_weeks = self._stockout_weeks[rows]
        return other

    def drain(self) -> list[dict]:
        out, self._pending = self._pending, []
        return out

    # ------------------------------------------------------------ totals

    def process(self) -> np.ndarray:
        earned = sum(self.earned.values(), np.zeros(self.rollouts))
        possible = sum(self.possible.values(), np.zeros(self.rollouts))
        return np.where(possible > 0, 100.0 * earned / np.maximum(possible, 1e-9), 100.0)

    def results(self, session) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        parts = result_parts(session, self._weeks)
        weights = {**rules()["results"]["weights"], **self.scenario.scoring.results}
        used = {k: w for k, w in weights.items() if k in parts and w > 0}
        # a part can be missing for some rollouts only (NaN: e.g. a path without a negotiation): renormalise per rollout
        total_w = sum((np.where(np.isnan(parts[k]), 0.0, w) for k, w in used.items()), np.zeros(self.rollouts))
        total = sum((np.nan_to_num(parts[k]) * w for k, w in used.items()), np.zeros(self.rollouts))
        return np.where(total_w > 0, total / np.maximum(total_w, 1e-12), 100.0), parts

    def totals(self, session) -> np.ndarray:
        w = self.scenario.scoring.process_weight
        results, _ = self.results(session)
        return w * self.process() + (1 - w) * results

    def scorecard(self, session, r: int = 0) -> dict:
        process = float(self.process()[r])
        results, parts = self.results(session)
        w = self.scenario.scoring.process_weight
        total = w * process + (1 - w) * float(results[r])
        by_principle = {
            pid: {"earned": round(float(self.earned[pid][r]), 4), "possible": round(float(self.possible[pid][r]), 4)}
            for pid in sorted(self.earned)
        }
        return {
            "process": round(process, 2),
            "results": round(float(results[r]), 2),
            "total": round(total, 2),
            "grade": grade(total),
            "process_weight": w,
            "results_parts": {k: round(float(v[r]), 2) for k, v in parts.items() if np.isfinite(v[r])},
            "by_principle": by_principle,
        }


def result_parts(session, weeks: int) -> dict[str, np.ndarray]:
    """Market results 0–100 per rollout at the end of a session (docs/SCORING.md)."""
    market, s = session.market, session.state
    weight = market.mean / market.mean.sum()  # bigger dealers count more

    def avg(values: np.ndarray) -> np.ndarray:
        return (values * weight).sum(axis=1)

    parts: dict[str, np.ndarray] = {}
    demand = s.sales_total + s.lost_total
    if weeks:
        service = np.where(demand > 0, s.sales_total / np.maximum(demand, 1e-9), 1.0)
        parts["sell_through"] = 100 * avg(service)
    cover = market.weeks_of_cover(s) / market.cycle_weeks
    lo, hi = rules()["rules"]["cover_after_order"]["band"]
    distance = np.maximum(lo - cover, 0) + np.maximum(cover - hi, 0)
    parts["stock_health"] = 100 * avg(np.clip(1 - distance / 1.5, 0, 1))
    margin = np.array([d.margin_pct for d in session.scenario.market.dealers], dtype=float)
    effective = margin - 100 * (1 - s.price_index)
    parts["dealer_margin"] = 100 * avg(np.clip(effective / np.maximum(margin, 1e-9), 0, 1))
    parts["trust"] = avg(s.trust)
    parts["channel_price"] = 100 * np.clip((s.price_index.min(axis=1) - 0.8) / 0.2, 0, 1)
    weekly_sales = np.maximum(s.forecast * s.price_index, 1e-9)
    weeks_owed = s.receivables / weekly_sales
    parts["receivables"] = 100 * avg(np.clip(1 - (weeks_owed - 2) / 6, 0, 1))
    outcomes = getattr(session, "nego_outcomes", {})
    if outcomes:  # the mean deal quality of the negotiations played (simulator/negotiation/metrics.py, deal_quality)
        parts["deal_quality"] = np.mean([[o.deal_quality for o in per_row] for per_row in outcomes.values()], axis=0)
    return parts


@dataclass
class PrincipleLine:
    principle: str
    name: str
    earned: float
    possible: float
    citation: str
    ours: bool
    items: list[ScoreItem] = field(default_factory=list)

    @property
    def share(self) -> float:
        return self.earned / self.possible if self.possible else 1.0


def breakdown(card: dict, items: list[ScoreItem] | list[dict], lang: str, catalogue: Catalogue | None = None) -> list[PrincipleLine]:
    """The scorecard's per-principle lines in `lang`, worst first, with the items behind each."""
    cat = catalogue or load_catalogue()
    as_items = [i if isinstance(i, ScoreItem) else ScoreItem(**i) for i in items]
    lines = []
    for pid, v in card["by_principle"].items():
        p = cat.get(pid)
        cite = f"{p.citation.seed} {p.citation.section}"
        lines.append(PrincipleLine(pid, p.text("name", lang), v["earned"], v["possible"], cite, p.ours, [i for i in as_items if i.principle == pid]))
    return sorted(lines, key=lambda line: (line.share, line.principle))

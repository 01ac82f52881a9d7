"""A scenario's negotiation step, for the loader and the engine (the bridge between the file and the core).

    spec_from_step(step)            the core's NegotiationSpec (raises SpecError with a hint)
    condition_names(step)           {"nego.<step>.deal": "bool", ...} for the loader's condition scope
    outcome_of(step, result)        what the finished negotiation leaves behind: condition values,
                                    deal quality and score items (NegoOutcome)
    parse_choice / format_choice    the text form of a move: `package:rebate=2.5;payment_days=45`
    move_of(step, neg, kind, params)  a validated, normalised Move and the params to record
    option_params(step, neg, kind)  what a front end needs to build the move (ranges, options, …)
    render_*                        lines, terms and move texts in the session's language

The core (`simulator.negotiation`) knows nothing of scenario files; this module knows both.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from simulator.negotiation.lines import LINES, MOVE_LABELS
from simulator.negotiation.metrics import Result, deal_quality
from simulator.negotiation.params import DEFAULT_PARAMS, TacticParams
from simulator.negotiation.protocol import OFFER_MOVES, Move, Negotiation
from simulator.negotiation.score import score_items
from simulator.negotiation.spec import CounterpartSpec, NegotiationSpec, NumericIssue, OptionIssue, SpecError
from simulator.schema import STYLES, Lang, NegotiationStep, NumberIssue, OptionsIssue, text_in

# ---------------------------------------------------------------- the spec

INT_PARAMS = {f.name for f in fields(TacticParams) if isinstance(f.default, int) and not isinstance(f.default, bool)}
PROBABILITIES = {"nibble_prob", "walk_hazard", "equal_ratio"}
PARAM_NAMES = tuple(f.name for f in fields(TacticParams))


def tactic_params(overrides: Mapping[str, float]) -> TacticParams:
    """The defaults with a step's `tactics` applied (unknown names are the loader's business: skipped here)."""
    values: dict[str, Any] = {}
    for name, value in overrides.items():
        if name not in PARAM_NAMES:
            continue
        if not math.isfinite(value) or value < 0:
            raise SpecError(f"tactics.{name} = {value:g}: tactic parameters are numbers ≥ 0", f"the default is {getattr(DEFAULT_PARAMS, name)}")
        if name in INT_PARAMS:
            if value != int(value):
                raise SpecError(f"tactics.{name} = {value:g} must be a whole number", f"e.g. {getattr(DEFAULT_PARAMS, name)}")
            value = int(value)
        if name in PROBABILITIES and value > 1:
            raise SpecError(f"tactics.{name} = {value:g} is a probability or a ratio: at most 1", f"the default is {getattr(DEFAULT_PARAMS, name)}")
        values[name] = value
    return TacticParams(**{**{f.name: getattr(DEFAULT_PARAMS, f.name) for f in fields(TacticParams)}, **values})


def _pair(value: float | list[float], what: str) -> tuple[float, float]:
    if isinstance(value, (int, float)):
        return float(value), float(value)
    if len(value) != 2:
        raise SpecError(f"counterpart {what} is a number or [low, high]", f"e.g. {what} = [0.3, 0.45]")
    lo, hi = float(value[0]), float(value[1])
    if lo > hi:
        raise SpecError(f"counterpart {what} [{lo:g}, {hi:g}]: write the low end first", f"{what} = [{hi:g}, {lo:g}]")
    return lo, hi


def core_issue(issue: NumberIssue | OptionsIssue) -> NumericIssue | OptionIssue:
    """One issue of a step as the core's issue (SpecError if it cannot be played)."""
    if isinstance(issue, NumberIssue):
        lo, hi = issue.range
        return NumericIssue(
            issue.id, float(lo), float(hi), float(issue.step), company_prefers=issue.we_prefer, counterpart_prefers=issue.they_prefer,
            unit=text_in(issue.unit, "en"), in_play=issue.on_table, default=issue.default,
        )
    return OptionIssue(
        issue.id, tuple(o.id for o in issue.options), tuple(o.ours for o in issue.options), tuple(o.theirs for o in issue.options),
        in_play=issue.on_table, default=issue.default,
    )


def counterpart_spec(step: NegotiationStep) -> CounterpartSpec:
    """The step's counterpart as the core's distributions (SpecError if inconsistent)."""
    c = step.counterpart
    concession = STYLES[c.style] if isinstance(c.style, str) else _pair(c.style, "style")
    return CounterpartSpec(
        weight_alpha=tuple(float(i.their_alpha) for i in step.issues),
        reservation=_pair(c.reservation, "reservation"),
        concession=concession,
        anchor=float(c.anchor),
        good_cop_bad_cop=c.good_cop_bad_cop,
        good_cop_at=float(c.good_cop_at),
    )


def spec_from_step(step: NegotiationStep) -> NegotiationSpec:
    """The core's spec for a scenario's negotiation step; SpecError (with a hint) if it cannot be played."""
    return NegotiationSpec(
        issues=tuple(core_issue(i) for i in step.issues),
        company_weights=tuple(float(i.weight) for i in step.issues),
        company_reservation=float(step.walk_away_below),
        counterpart=counterpart_spec(step),
        rounds=step.rounds,
        params=tactic_params(step.tactics),
        moves=tuple(step.moves) if step.moves is not None else None,
    )


# ---------------------------------------------------------------- condition names and values

# name -> type of the fixed names every negotiation step declares (docs/CONDITIONS.md)
FIXED_NAMES: dict[str, str] = {
    "done": "bool", "deal": "bool", "walked": "bool", "they_walked": "bool", "deadline": "bool", "accepted_first": "bool",
    "own_utility": "number", "their_utility": "number", "joint_gain": "number", "joint_gain_ratio": "number",
    "pareto_distance": "number", "nash_distance": "number", "deal_quality": "number", "rounds": "number",
    "concession_index": "number", "satisfaction": "number", "asks": "number", "good_cop_conceded": "number",
}


def condition_names(step: NegotiationStep) -> dict[str, str]:
    """Every `nego.<step>.*` name a condition can read, with its type ("bool" or "number")."""
    prefix = f"nego.{step.id}."
    names = {prefix + k: t for k, t in FIXED_NAMES.items()}
    for issue in step.issues:
        names[prefix + issue.id] = "number"
        if isinstance(issue, OptionsIssue):
            for option in issue.options:
                names[f"{prefix}{issue.id}.{option.id}"] = "bool"
    return names


def default_value(kind: str) -> float | bool:
    """A name's value before its negotiation has ended: false / 0."""
    return False if kind == "bool" else 0.0


@dataclass(frozen=True)
class NegoOutcome:
    """What a finished negotiation leaves behind for conditions, scoring and the results."""

    values: Mapping[str, float | bool]  # condition name -> value
    deal_quality: float  # 0–100 (metrics.deal_quality)
    score: tuple[dict, ...]  # score items {principle, points, reason_zh, reason_en}


def outcome_of(step: NegotiationStep, result: Result) -> NegoOutcome:
    prefix = f"nego.{step.id}."
    quality = deal_quality(result)
    v: dict[str, float | bool] = {
        "done": True,
        "deal": result.deal,
        "walked": result.reason == "trainee_walked",
        "they_walked": result.reason == "counterpart_walked",
        "deadline": result.reason == "deadline",
        "accepted_first": result.accepted_first,
        "own_utility": result.own_utility,
        "their_utility": result.their_utility,
        "joint_gain": result.joint_gain,
        "joint_gain_ratio": result.joint_gain_ratio,
        "pareto_distance": result.pareto_distance,
        "nash_distance": result.nash_distance,
        "deal_quality": quality,
        "rounds": float(result.rounds),
        "concession_index": result.concession.index,
        "satisfaction": result.satisfaction,
        "asks": float(result.asks),
        "good_cop_conceded": float(result.good_cop_conceded),
    }
    terms = result.outcome or {}
    for issue in step.issues:
        value = terms.get(issue.id)
        if isinstance(issue, OptionsIssue):
            ids = [o.id for o in issue.options]
            v[issue.id] = float(ids.index(value)) if value in ids else 0.0
            for option in issue.options:
                v[f"{issue.id}.{option.id}"] = value == option.id
        else:
            v[issue.id] = float(value) if value is not None else 0.0
    values = {prefix + k: (float(x) if not isinstance(x, bool) else x) for k, x in v.items()}
    return NegoOutcome(values, quality, tuple(score_items(result)))


# ---------------------------------------------------------------- moves as text: `package:rebate=2.5;payment_days=45`


class ChoiceSyntaxError(ValueError):
    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint


SYNTAX_HINT = "e.g. ask=rebate, package:rebate=2.5;payment_days=45, break_deadlock=pause (docs/NEGOTIATION.md#moves-as-text)"


def _value(text: str) -> float | str:
    try:
        number = float(text)
    except ValueError:
        return text
    if not math.isfinite(number):
        raise ChoiceSyntaxError(f"'{text}' is not a usable number", SYNTAX_HINT)
    return number


def parse_choice(text: str) -> tuple[str, dict[str, Any]]:
    """`move`, `move=value` (ask, break_deadlock) or `move:key=value;key=value` → (move, params)."""
    text = text.strip()
    if ":" in text:
        kind, _, rest = text.partition(":")
        kind = kind.strip()
        pairs: dict[str, float | str] = {}
        for part in rest.split(";"):
            if not part.strip():
                continue
            key, eq, value = part.partition("=")
            key, value = key.strip(), value.strip()
            if not eq or not key or not value:
                raise ChoiceSyntaxError(f"'{part.strip()}' in '{text}' is not key=value", SYNTAX_HINT)
            if key in pairs:
                raise ChoiceSyntaxError(f"'{key}' is given twice in '{text}'", SYNTAX_HINT)
            pairs[key] = _value(value)
        if kind in OFFER_MOVES:
            return kind, {"values": pairs}
        return kind, {k: (v if isinstance(v, str) else f"{v:g}") for k, v in pairs.items()}
    if "=" in text:
        kind, _, value = text.partition("=")
        kind, value = kind.strip(), value.strip()
        if not value:
            raise ChoiceSyntaxError(f"'{text}' gives no value after '='", SYNTAX_HINT)
        if kind == "ask":
            return kind, {"issue": value}
        if kind == "break_deadlock":
            return kind, {"how": value} if value in ("pause", "add_issue") else {"how": "add_issue", "issue": value}
        if kind in OFFER_MOVES:
            raise ChoiceSyntaxError(f"'{text}': an offer gives values per issue after ':'", "e.g. package:rebate=2.5;payment_days=45")
        return kind, {"value": value}  # rejected with a clear message by move_of
    return text, {}


def _fmt(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def format_choice(kind: str, params: Mapping[str, Any] | None) -> str:
    """The text form of a move with its params; parse_choice(format_choice(k, p)) gives them back."""
    params = params or {}
    if not params:
        return kind
    if "values" in params:
        return f"{kind}:" + ";".join(f"{k}={_fmt(v)}" for k, v in params["values"].items())
    if kind == "ask" and set(params) == {"issue"}:
        return f"ask={params['issue']}"
    if kind == "break_deadlock" and set(params) <= {"how", "issue"}:
        if params.get("how") == "add_issue" and "issue" in params:
            return f"break_deadlock={params['issue']}"
        if "issue" not in params:
            return f"break_deadlock={params.get('how', 'add_issue')}"
    return f"{kind}:" + ";".join(f"{k}={_fmt(v)}" for k, v in params.items())


# ---------------------------------------------------------------- validating a move against the negotiation


class ParamError(ValueError):
    """Params a move does not take (DS0601); MoveError from the core covers the rest (DS0605)."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint


PARAMS_OF = {"offer": {"values"}, "package": {"values"}, "ask": {"issue"}, "break_deadlock": {"how", "issue"}}


def move_of(step: NegotiationStep, neg: Negotiation, kind: str, params: Mapping[str, Any]) -> tuple[Move, dict[str, Any]]:
    """The core's Move for `kind` with `params`, defaults filled in, and the params as recorded (plain JSON).

    Defaults: an offer without values offers the standing bid back; `ask` without an issue asks about
    the first issue that can still be asked about; `break_deadlock` adds the first issue off the table
    (or pauses when there is none).
    """
    allowed = PARAMS_OF.get(kind, set())
    unknown = sorted(set(params) - allowed)
    if unknown:
        takes = f"takes {' and '.join(f'`{p}`' for p in sorted(allowed))}" if allowed else "takes no parameters"
        raise ParamError(f"'{kind}' {takes}, not {', '.join(f'`{u}`' for u in unknown)}", SYNTAX_HINT)
    if kind in OFFER_MOVES:
        raw = params.get("values", {}) or {}
        if not isinstance(raw, Mapping):
            raise ParamError(f"'{kind}' takes `values` as a table of issue = value", "e.g. values = { rebate = 2.5 }")
        values: dict[str, float | str] = {}
        for key, value in raw.items():
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise ParamError(f"{key} = {value!r}: an issue's value is a number or an option id", SYNTAX_HINT)
            values[str(key)] = float(value) if isinstance(value, (int, float)) else value
        order = {issue_id: k for k, issue_id in enumerate(neg.spec.ids)}
        values = dict(sorted(values.items(), key=lambda kv: order.get(kv[0], len(order))))  # the step's order, however given
        return Move(kind, values=values), {"values": values}
    if kind == "ask":
        issue = params.get("issue")
        if issue is None:
            askable = [i.id for i in neg.spec.issues if len(neg.readings.get(neg.domain.index_of(i.id), [])) < neg.params.asks_per_issue]
            issue = askable[0] if askable else neg.spec.issues[0].id
        if not isinstance(issue, str):
            raise ParamError(f"ask: `issue` is an issue id, not {issue!r}", f"issues: {', '.join(neg.spec.ids)}")
        return Move("ask", issue=issue), {"issue": issue}
    if kind == "break_deadlock":
        off = [i.id for i, p in zip(neg.spec.issues, neg.in_play) if not p]
        issue = params.get("issue")
        how = params.get("how", "add_issue" if off or issue is not None else "pause")
        if not isinstance(how, str) or (issue is not None and not isinstance(issue, str)):
            raise ParamError("break_deadlock: `how` and `issue` are words", "e.g. break_deadlock=pause or break_deadlock=exclusivity")
        if how == "add_issue" and issue is None and off:
            issue = off[0]
        recorded = {"how": how, **({"issue": issue} if issue is not None else {})}
        return Move("break_deadlock", how=how, issue=issue), recorded
    return Move(kind), {}


def move_params(move: Move) -> dict[str, Any]:
    """A core Move (e.g. from a headless policy) as the params `Session.choose` takes."""
    if move.kind in OFFER_MOVES:
        return {"values": {k: (float(v) if isinstance(v, (int, float)) else v) for k, v in move.values.items()}}
    params: dict[str, Any] = {}
    if move.how is not None:
        params["how"] = move.how
    if move.issue is not None:
        params["issue"] = move.issue
    return params


# ---------------------------------------------------------------- rendering (the session's language)


def _issue(step: NegotiationStep, issue_id: str):
    return next((i for i in step.issues if i.id == issue_id), None)


def issue_name(step: NegotiationStep, issue_id: str, lang: Lang) -> str:
    issue = _issue(step, issue_id)
    return text_in(issue.name, lang) if issue is not None else issue_id


def render_value(step: NegotiationStep, issue_id: str, value: Any, lang: Lang) -> str:
    issue = _issue(step, issue_id)
    if isinstance(issue, OptionsIssue):
        option = next((o for o in issue.options if o.id == value), None)
        return text_in(option.name, lang) if option is not None else str(value)
    shown = f"{value:g}" if isinstance(value, (int, float)) else str(value)
    unit = text_in(issue.unit, lang) if issue is not None and issue.unit is not None else ""
    if not unit:
        return shown
    return shown + unit if lang == "zh" or unit.startswith("%") else f"{shown} {unit}"


def render_terms(step: NegotiationStep, offer: Mapping[str, Any], lang: Lang) -> str:
    """`目标增长 15%，返利 2.5%，…` / `target growth 15%, rebate 2.5%, …`"""
    sep, colon = ("，", " ") if lang == "zh" else (", ", " ")
    order = {issue.id: k for k, issue in enumerate(step.issues)}
    items = sorted(offer.items(), key=lambda kv: order.get(kv[0], len(order)))
    return sep.join(f"{issue_name(step, k, lang)}{colon}{render_value(step, k, v, lang)}" for k, v in items)


def render_line(step: NegotiationStep, key: str, lang: Lang, **fmt: Any) -> str:
    """What the counterpart says in a situation: the step's own line if it has one, else the default."""
    override = step.lines.get(key)
    template = getattr(override, lang) if override is not None else LINES[key][lang]
    try:
        text = template.format(**fmt)
    except (KeyError, IndexError, ValueError):  # a scenario's line with an unknown {placeholder}: shown as written
        text = template
    if lang == "en" and text[:1].islower():  # "{issue} is critical for us." with a lower-case issue name
        text = text[:1].upper() + text[1:]
    return text


def speaker(step: NegotiationStep, voice: str, lang: Lang) -> str:
    c = step.counterpart
    if voice == "good_cop" and c.partner is not None:
        return text_in(c.partner, lang)
    return text_in(c.name, lang)


MOVE_TEXTS = {  # a move with its parameters, as the trainee made it
    "offer": {"zh": "提出方案：{terms}", "en": "Offer: {terms}"},
    "package": {"zh": "提出交换方案（“如果你们……我们就……”）：{terms}", "en": "Propose a package (“if you…, then we…”): {terms}"},
    "ask": {"zh": "问问{issue}对他们有多重要", "en": "Ask how much {issue} matters to them"},
    "add_issue": {"zh": "把{issue}也拿上桌谈", "en": "Bring {issue} to the table"},
    "pause": {"zh": "先休息一下，打破僵局", "en": "Take a break to ease the deadlock"},
}


def move_text(step: NegotiationStep, kind: str, params: Mapping[str, Any], lang: Lang) -> str:
    """The move as the trainee made it, e.g. `Ask how much rebate matters to them`."""
    if kind in OFFER_MOVES and params.get("values"):
        return MOVE_TEXTS[kind][lang].format(terms=render_terms(step, params["values"], lang))
    if kind == "ask" and params.get("issue"):
        return MOVE_TEXTS["ask"][lang].format(issue=issue_name(step, params["issue"], lang))
    if kind == "break_deadlock":
        if params.get("how") == "pause":
            return MOVE_TEXTS["pause"][lang]
        if params.get("issue"):
            return MOVE_TEXTS["add_issue"][lang].format(issue=issue_name(step, params["issue"], lang))
    return MOVE_LABELS[kind][lang]


def event_extras(step: NegotiationStep, kind: str, data: Mapping[str, Any], lang: Lang) -> dict[str, Any]:
    """What the engine adds to a core event: the step, the rendered line, the speaker and the terms."""
    extra: dict[str, Any] = {"step": step.id}
    issue = data.get("issue") or data.get("request") or ""
    fmt = {"issue": issue_name(step, issue, lang) if issue else "", "n": data.get("n", "")}
    if kind in ("nego_bid", "nego_reply", "nego_deadlock", "nego_end") and data.get("line"):
        extra["text"] = render_line(step, data["line"], lang, **fmt)
    elif kind == "nego_deadlock":
        extra["text"] = render_line(step, "deadlock", lang)
    if kind in ("nego_bid", "nego_reply", "nego_deadlock", "nego_end"):
        extra["speaker"] = speaker(step, data.get("voice", "dealer"), lang)
    if kind == "nego_bid" and data.get("voice") == "bad_cop":
        extra["speaker"] = text_in(step.counterpart.name, lang)
    if data.get("offer"):
        extra["terms"] = render_terms(step, data["offer"], lang)
    if issue:
        extra["issue_name"] = fmt["issue"]
    return extra


def option_params(step: NegotiationStep, neg: Negotiation, kind: str, lang: Lang) -> dict[str, Any] | None:
    """What a front end needs to build the move: per-issue ranges or options with the standing bid's
    value (offer, package), the issues that can be asked about (ask), the ways and the issues off the
    table (break_deadlock). None for moves without parameters."""
    if kind in OFFER_MOVES:
        standing = neg.domain.decode(neg.standing)
        last = neg.domain.decode(neg.my_offers[-1]) if neg.my_offers else None
        issues = []
        for model, core, in_play in zip(step.issues, neg.spec.issues, neg.in_play):
            if not in_play:
                continue
            entry: dict[str, Any] = {"id": model.id, "name": text_in(model.name, lang)}
            if isinstance(core, NumericIssue):
                entry.update(kind="number", unit=text_in(model.unit, lang) if isinstance(model, NumberIssue) and model.unit is not None else "",
                             min=core.lo, max=core.hi, step=core.step, grid=list(core.grid), we_prefer=core.company_prefers)
            else:
                assert isinstance(model, OptionsIssue)
                entry.update(kind="options", options=[{"id": o.id, "name": text_in(o.name, lang), "ours": o.ours} for o in model.options])
            entry["standing"] = standing[model.id]
            if last is not None:
                entry["your_last"] = last[model.id]
            issues.append(entry)
        return {"issues": issues}
    if kind == "ask":
        limit = neg.params.asks_per_issue
        return {"issues": [
            {"id": i.id, "name": issue_name(step, i.id, lang), "asked": len(neg.readings.get(k, []))}
            for k, i in enumerate(neg.spec.issues) if len(neg.readings.get(k, [])) < limit
        ]}
    if kind == "break_deadlock":
        off = [{"id": i.id, "name": issue_name(step, i.id, lang)} for i, p in zip(neg.spec.issues, neg.in_play) if not p]
        return {"how": ["add_issue", "pause"] if off else ["pause"], "issues": off}
    return None


__all__ = [
    "ChoiceSyntaxError", "FIXED_NAMES", "NegoOutcome", "PARAM_NAMES", "ParamError", "condition_names", "core_issue", "counterpart_spec", "default_value",
    "event_extras", "format_choice", "move_of", "move_params", "move_text", "option_params", "outcome_of", "parse_choice",
    "render_line", "render_terms", "spec_from_step", "tactic_params",
]

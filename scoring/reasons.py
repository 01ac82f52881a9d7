"""Why points were lost, as the scorecard says it (plain mode, the CLI, the TUI's end screen).

A recorded score item keeps a reason. For a state rule (and a negotiation item that earned no
more than neutral) that reason is the shortfall itself: the outcome the rule measured. For a
decision it is the chosen option's coaching feedback, the same text for every principle the option
touched, and where the option followed a principle (or was silent on it) that text is praise even
though another option on offer served the principle better. So a loss names the decision that cost
the points (number and step title) and how the chosen option stood on that principle: against it
(then the coach's critique follows, once per decision), silent on it, or only part of the way.
Under a later principle the same decision for the same reason is a short "… too" line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from simulator.i18n import t
from simulator.schema import Lang

EPS = 1e-9  # earned below possible by less than this is full points (sums of floats)


def points(x: float) -> str:
    """Points as a trainee reads them: 19.6, not 19.5714 (state rules award fractions)."""
    return f"{round(x, 1):g}"


def decision_context(events: Iterable[Mapping[str, Any]]) -> tuple[dict[int, dict], dict[str, str]]:
    """From a session's events: per decision turn its step title and the chosen option's
    principle weights, and per step id its title (for negotiation items, which name their step)."""
    titles: dict[str, str] = {}
    turns: dict[int, dict] = {}
    for e in events:
        data = e.get("data")
        if not isinstance(data, Mapping):
            continue
        if e.get("kind") == "step" and isinstance(data.get("step"), str):
            titles[data["step"]] = data.get("title") or ""
        elif e.get("kind") == "choice" and isinstance(data.get("turn"), int):
            weights = data.get("principles")
            turns[data["turn"]] = {"title": titles.get(data.get("step"), ""), "principles": dict(weights) if isinstance(weights, Mapping) else {},
                                   "feedback": bool(data.get("feedback"))}
    return turns, titles


def annotate(items: Iterable[Mapping[str, Any]], events: Iterable[Mapping[str, Any]]) -> list[dict]:
    """Copies of `items`, each from a decision or a negotiation with `decision`: where it came from
    as the trainee saw it (title, and for a decision the chosen option's weight on the principle).
    The log is not changed; `scoring.rubric.breakdown` takes the copies without that key."""
    turns, titles = decision_context(events)
    out = []
    for item in items:
        item = dict(item)
        source = str(item.get("source", ""))
        if source == "choice" and item.get("turn") in turns:
            seen = turns[item["turn"]]
            # feedback: whether the item's reason is the option's feedback (else it is "Chose: …")
            item["decision"] = {"title": seen["title"], "weight": int(seen["principles"].get(item.get("principle"), 0)), "feedback": seen["feedback"]}
        elif source.startswith("negotiation:"):
            item["decision"] = {"title": titles.get(source.split(":", 1)[1], "")}
        out.append(item)
    return out


def _why_key(source: str, earned: float, possible: float, reason: str, weight: int | None) -> str | None:
    """The string key that says why a decision or negotiation item fell short; None: its recorded reason does."""
    if source == "choice":
        if weight is None:
            return "scr_choice_lower"
        return "scr_choice_against" if weight < 0 else "scr_choice_aside" if weight == 0 else "scr_choice_part"
    if source.startswith("negotiation:") and (earned > possible / 2 + EPS or not reason):
        return "scr_nego_part"  # points above neutral: the recorded reason is what went right
    return None


def why_lost(source: str, earned: float, possible: float, reason: str, weight: int | None, lang: Lang) -> str:
    """Why an item fell short of full points, in `lang`, as a sentence of its own (the debrief).

    `weight` is the chosen option's weight on the item's principle (None when the log has no record
    of the choice); `reason` is the item's recorded reason, kept where it states the shortfall: a
    rule's outcome, a negotiation item at or below neutral, the feedback on an option that went
    against the principle. Never the praise of an option that followed it."""
    key = _why_key(source, earned, possible, reason, weight)
    if not key or key == "scr_choice_against" and reason:
        return reason
    text = t(key, lang)
    return text[:1].upper() + text[1:]


def _where(item: Mapping[str, Any], lang: Lang) -> str:
    """The decision or negotiation a loss came from; empty for a state rule (its reason names the outcome)."""
    source = str(item.get("source", ""))
    title = (item.get("decision") or {}).get("title") or ""
    if source == "choice":
        return t("scr_decision", lang, n=item.get("turn"), title=title) if title else t("scr_decision_untitled", lang, n=item.get("turn"))
    if source.startswith("negotiation:"):
        return t("scr_negotiation", lang, title=title) if title else t("scr_negotiation_untitled", lang)
    return ""


def loss_lines(order: Sequence[str], items: Iterable[Mapping[str, Any]], lang: Lang) -> dict[str, list[str]]:
    """Per principle (in display `order`), one line per thing that cost it points, in turn order.

    `items` are score items as recorded, ideally `annotate`d. An item at full points gives no line.
    Losses from the same cause under one principle are added up into one line."""
    losses: dict[str, list[Mapping[str, Any]]] = {pid: [] for pid in order}
    for item in sorted(items, key=lambda i: i.get("turn") or 0):
        if item.get("principle") in losses and float(item["possible"]) - float(item["earned"]) > EPS:
            losses[item["principle"]].append(item)
    explained: set[tuple] = set()  # (cause, why key) already said under a principle listed before
    critiqued: set[tuple] = set()  # decisions whose feedback has been shown
    feedback: dict[tuple, bool] = {}
    out: dict[str, list[str]] = {}
    for pid in order:
        merged: dict[tuple, list] = {}  # cause → [where, why key or None, text, lost, possible]
        for item in losses[pid]:
            source = str(item.get("source", ""))
            reason = str(item.get(f"reason_{lang}") or "")
            key = _why_key(source, float(item["earned"]), float(item["possible"]), reason, (item.get("decision") or {}).get("weight"))
            if key is None and not reason:
                continue  # a rule item without text (never in a live log): nothing to say
            where = _where(item, lang)
            cause = ("choice", item.get("turn")) if source == "choice" else (source,) if where else (source, reason)
            slot = merged.setdefault(cause, [where, key, reason, 0.0, 0.0])
            feedback[cause] = bool((item.get("decision") or {}).get("feedback"))
            slot[3] += float(item["possible"]) - float(item["earned"])
            slot[4] += float(item["possible"])
        rows = []
        for cause, (where, key, reason, lost, possible) in merged.items():
            one = "_one" if possible == 1 else ""
            amount = {"lost": points(lost), "possible": points(possible)}
            if not where:
                rows.append(t("scr_outcome" + one, lang, why=reason.rstrip("。. "), **amount))
                continue
            if key is None:
                why = reason
            elif (cause, key) in explained:  # the same decision, for the same reason, under an earlier principle
                why = t(key + "_too", lang)
            else:
                why = t(key, lang)
                if key == "scr_choice_against" and cause not in critiqued and reason and feedback[cause]:
                    why += ("" if lang == "zh" else " ") + reason  # the coach's critique of the option, once
                    critiqued.add(cause)
            if key is not None:
                explained.add((cause, key))
            rows.append(t("scr_line" + one, lang, where=where, why=why, **amount))
        out[pid] = rows
    return out

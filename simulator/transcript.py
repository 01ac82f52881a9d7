"""Events as lines of text for the plain front end and for `replay` (works from the log alone)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulator.i18n import t
from simulator.schema import Lang, LocalText, text_in


def goods_unit(unit: str | LocalText | None, lang: Lang) -> str:
    """What goods are counted in: the scenario's `[market] unit`, else 件 / units."""
    return text_in(unit, lang) or t("unit_default", lang)


def _num(x: float, digits: int = 0) -> str:
    return f"{x:,.{digits}f}"


def describe(
    event: Mapping[str, Any], lang: Lang, names: Mapping[str, str] | None = None, *, weeks: bool = True, unit: str | None = None
) -> list[str]:
    """Readable lines for one event; `names` maps dealer ids to display names, `unit` is what goods
    are counted in (`goods_unit`; a log alone does not say, so the default is 件 / units)."""
    kind, d = event["kind"], event["data"]
    names = names or {}
    unit = unit or t("unit_default", lang)

    def who(dealer: str) -> str:
        return names.get(dealer, dealer)

    if kind == "step":
        lines = []
        if d.get("title"):
            lines.append(f"== {d['title']} ==")
        if d.get("text"):
            lines.append(d["text"])
        return lines
    if kind.startswith("nego_"):
        return _nego_lines(kind, d, lang)
    if kind == "choice" and "params" in d and "round" in d:
        return [t("nego_you", lang, round=d["round"] + 1, text=d.get("text", d.get("choice", "")))]
    if kind == "choice":
        lines = [t("you_chose", lang, text=d.get("text", d.get("choice", "")))]
        if d.get("reply"):
            lines.append(d["reply"])
        return lines
    if kind == "effect":
        effect = d.get("effect")
        if effect == "order":
            return [t("effect_order", lang, dealer=who(d["dealer"]), units=_num(d["units"]), unit=unit, cover=_num(d["cover_cycles"], 1))]
        if effect == "rebate":
            if not d["pct"]:  # a rebate set to zero is a rebate withdrawn, not "a 0.0% rebate"
                return [t("effect_rebate_none", lang, dealer=who(d["dealer"]))]
            return [t("effect_rebate", lang, dealer=who(d["dealer"]), pct=d["pct"], basis=t(f"basis_{d['basis']}", lang))]
        if effect == "promotion":
            return [t("effect_promotion", lang, dealer=who(d["dealer"]), lift=_num(d["lift_pct"]), weeks=d["weeks"])]
        if effect == "trust":
            change = d["change"]
            key = "effect_trust_up" if change >= 0 else "effect_trust_down"
            return [t(key, lang, dealer=who(d["dealer"]), change=_num(change))]
        if effect == "note":
            return [f"✎ {d['text']}"]
        return _market_effect(effect, d, lang, who, unit)
    if kind == "week" and weeks:
        return _week_lines(d, lang, who, unit) + [
            t(
                "week_line",
                lang,
                week=d["week"],
                dealer=who(dealer),
                demand=_num(v["demand"]),
                sales=_num(v["sales"]),
                lost=_num(v["lost"]),
                reorder=_num(v["reorder"]),
                stock=_num(v["stock"]),
                cover=_num(v["weeks_of_cover"], 1),
            )
            for dealer, v in d["dealers"].items()
        ]
    if kind == "ending":
        return [t("ending", lang, title=t(f"outcome_{d['outcome']}", lang))]
    return []


def _pct(x: float) -> str:
    return f"{x:g}"


def _market_effect(effect: str | None, d: Mapping[str, Any], lang: Lang, who, unit: str) -> list[str]:
    """Lines for the market's levers (simulator/market.py); unknown effects show nothing."""
    dealer = who(d["dealer"]) if "dealer" in d else ""
    if effect == "price_support":
        return [t("effect_price_support", lang, dealer=dealer, pct=_pct(d["pct"]), weeks=d["weeks"], unit=unit)]
    if effect == "buy_back":
        if d.get("source") == "market":
            return [t("effect_buy_back_market", lang, dealer=dealer, units=_num(d["units"]), unit=unit)]
        return [t("effect_buy_back_warehouse", lang, dealer=dealer, units=_num(d["units"]), unit=unit, cover=_num(d["cover_cycles"], 1))]
    if effect == "visit":
        return [t("effect_visit", lang, dealer=dealer, stock=_num(d["stock"]), unit=unit, cover=_num(d["cover_cycles"], 1))]
    if effect == "training":
        return [t("effect_training", lang, dealer=dealer, lift=_pct(d["lift_pct"]))]
    if effect == "credit_terms":
        parts = []
        if "payment_days" in d:
            parts.append(t("credit_terms_days", lang, days=d["payment_days"]))
        if "credit_limit" in d:
            parts.append(t("credit_terms_limit", lang, limit=_num(d["credit_limit"]), unit=unit))
        if "early_payment_discount_pct" in d:
            parts.append(t("credit_terms_discount", lang, pct=_pct(d["early_payment_discount_pct"])))
        return [t("effect_credit_terms", lang, dealer=dealer, terms=_sep(lang).join(parts))]
    if effect in ("fine", "warning"):
        if not d.get("evidence"):
            lines = [t(f"effect_{effect}_no_evidence", lang, dealer=dealer)]
        elif effect == "fine":
            lines = [t("effect_fine", lang, dealer=dealer, amount=_num(d["amount"]), cases=_num(d["cases"]))]
        else:
            lines = [t("effect_warning", lang, dealer=dealer, cases=_num(d["cases"]))]
        if d.get("rebate_clawback"):
            lines.append(t("effect_rebate_clawback", lang, dealer=dealer, amount=_num(d["rebate_clawback"])))
        return lines
    if effect == "terminate":
        return [t("effect_terminate", lang, dealer=dealer, units=_num(d["stock_returned"]), unit=unit)]
    if effect == "territory_change":
        return [t("effect_territory_change", lang, dealer=dealer, territory=d["territory"])]
    if effect == "compensate":
        return [t("effect_compensate", lang, dealer=dealer, amount=_num(d["amount"]))]
    if effect == "promise":
        return [t("effect_promise_kept" if d["kept"] else "effect_promise_broken", lang, dealer=dealer)]
    if effect == "channel_policy":
        changes = [t(f"policy_{k}", lang, pct=_pct(round(100 * d[k], 1)), unit=unit) for k in ("detection", "enforcement", "fine", "target_pressure") if k in d]
        return [t("effect_channel_policy", lang, changes=_sep(lang).join(changes))]
    return []


def _week_lines(d: Mapping[str, Any], lang: Lang, who, unit: str) -> list[str]:
    """Diversion incidents of a market week: the source only when batch codes traced it."""
    lines = []
    for inc in d.get("diversions", []):
        key = "week_diversion_traced" if inc["detected"] else "week_diversion_untraced"
        lines.append(t(key, lang, week=d["week"], source=who(inc["from"]), victim=who(inc["to"]), units=_num(inc["units"]), unit=unit))
    return lines


def _sep(lang: Lang) -> str:
    return "，" if lang == "zh" else ", "


def _nego_lines(kind: str, d: Mapping[str, Any], lang: Lang) -> list[str]:
    """A negotiation step's events (docs/NEGOTIATION.md#events): what is said and the terms on the table."""
    who = d.get("speaker", "")
    if kind == "nego_bid":
        lines = [t("nego_bid", lang, round=d["round"] + 1, who=who, say=d.get("text", ""))]
        if d.get("terms"):
            lines.append(t("nego_bid_terms", lang, terms=d["terms"], own=f"{d['own_utility']:.2f}"))
        if d.get("request"):
            lines.append(t("nego_good_cop_asks", lang, issue=d.get("issue_name", d["request"])))
        return lines
    if kind == "nego_move":
        if d.get("terms"):
            return [t("nego_you_terms", lang, terms=d["terms"], own=f"{d['own_utility']:.2f}")]
        return []
    if kind == "nego_reply":
        lines = [t("nego_reply", lang, who=who, say=d.get("text", ""))]
        if "reading" in d:
            lines.append(t("nego_reading", lang, issue=d.get("issue_name", d.get("issue", "")), pct=f"{100 * d['reading']:.0f}%"))
        return lines
    if kind == "nego_deadlock":
        return [t("nego_deadlock", lang, who=who, say=d.get("text", ""))]
    if kind == "nego_end":
        reason = t(f"nego_reason_{d.get('reason')}", lang)
        if d.get("deal"):
            line = t("nego_deal", lang, reason=reason, rounds=d.get("rounds", ""), terms=d.get("terms", ""), own=f"{d.get('own_utility', 0):.2f}")
        else:
            line = t("nego_no_deal", lang, reason=reason, rounds=d.get("rounds", ""))
        return [line, f"    {who}: “{d.get('text', '')}”" if lang == "en" else f"    {who}：“{d.get('text', '')}”"]
    if kind == "nego_result":
        return [t("nego_result", lang, quality=f"{d.get('deal_quality', 0):.0f}", joint=f"{100 * d.get('joint_gain_ratio', 0):.0f}%", nash=f"{d.get('nash_distance', 0):.2f}")]
    return []

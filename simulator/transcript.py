"""Events as lines of text for the plain front end and for `replay` (works from the log alone)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulator.i18n import t
from simulator.schema import Lang


def _num(x: float, digits: int = 0) -> str:
    return f"{x:,.{digits}f}"


def describe(event: Mapping[str, Any], lang: Lang, names: Mapping[str, str] | None = None, *, weeks: bool = True) -> list[str]:
    """Readable lines for one event; `names` maps dealer ids to display names."""
    kind, d = event["kind"], event["data"]
    names = names or {}

    def who(dealer: str) -> str:
        return names.get(dealer, dealer)

    if kind == "step":
        lines = []
        if d.get("title"):
            lines.append(f"== {d['title']} ==")
        if d.get("text"):
            lines.append(d["text"])
        return lines
    if kind == "choice":
        lines = [t("you_chose", lang, text=d.get("text", d.get("choice", "")))]
        if d.get("reply"):
            lines.append(d["reply"])
        return lines
    if kind == "effect":
        effect = d.get("effect")
        if effect == "order":
            return [t("effect_order", lang, dealer=who(d["dealer"]), units=_num(d["units"]), cover=_num(d["cover_cycles"], 1))]
        if effect == "rebate":
            return [t("effect_rebate", lang, dealer=who(d["dealer"]), pct=d["pct"], basis=t(f"basis_{d['basis']}", lang))]
        if effect == "promotion":
            return [t("effect_promotion", lang, dealer=who(d["dealer"]), lift=_num(d["lift_pct"]), weeks=d["weeks"])]
        if effect == "trust":
            change = d["change"]
            key = "effect_trust_up" if change >= 0 else "effect_trust_down"
            return [t(key, lang, dealer=who(d["dealer"]), change=_num(change))]
        if effect == "note":
            return [f"✎ {d['text']}"]
        return []
    if kind == "week" and weeks:
        return [
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

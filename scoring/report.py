"""Presenting scores: the text scorecard (headless play, plain mode)."""

from __future__ import annotations

from scoring.catalogue import load_catalogue
from scoring.rubric import breakdown, rules
from simulator.i18n import t
from simulator.schema import Lang


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
    for line in breakdown(card, items, lang, cat):
        mark = "✓" if line.share >= 0.75 else "!" if line.share >= 0.4 else "✗"
        ours = f" {t('score_ours', lang)}" if line.ours else ""
        lines.append(f"  {mark} {line.name} [{line.principle}] {line.earned:g}/{line.possible:g}{ours}")
        for item in line.items:
            reason = item.reason_zh if lang == "zh" else item.reason_en
            if reason and item.earned < item.possible:
                lines.append(f"      - {reason}")
    names = rules()["results"]["names"]
    lines.append(t("score_results_parts", lang))
    for key, value in card["results_parts"].items():
        lines.append(f"  {names[key][lang]}: {value:.0f}")
    return lines


def scorecard_from_events(events: list[dict]) -> tuple[dict | None, list[dict]]:
    """The final scorecard and every score item recorded in a session's events."""
    card = next((e["data"] for e in reversed(events) if e["kind"] == "scorecard"), None)
    items = [i for e in events if e["kind"] == "score" for i in e["data"]["items"]]
    return card, items

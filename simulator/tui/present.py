"""Game views as widget data in the trainee's language (formatting only: no Textual widgets, no state)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.content import Content

from simulator.i18n import t
from simulator.schema import Lang
from simulator.tui.game import Decision, DealerView, Game, PrincipleTag, StoryBlock, field_label
from simulator.tui.table import TableView, table_view
from simulator.tui.widgets.dashboard import DealerCardData
from simulator.tui.widgets.choices import Item
from simulator.tui.widgets.story import Block, Part

# Shown in the card's own rows; every other field the market exposes goes to the details line
# (when not zero) or, for `warning_*` flags, to the warnings.
SHOWN_ELSEWHERE = {"stock", "weeks_of_cover", "cover_cycles", "sell_through_4w", "price_index", "trust", "receivables", "lost_sales_4w"}
NOT_SHOWN = {"warnings", "active"}  # the count of the warning_* flags; whether the dealer still trades with us


def _num(x: float | None, digits: int = 0) -> str:
    return "—" if x is None else f"{x:,.{digits}f}"


def _figure(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 10 else f"{x:.3g}"


def _sentence(label: str, lang: Lang) -> str:
    """English labels in sentence case, as the card's own ("Stock", "Trust"); field labels are
    written lower-case for use mid-sentence."""
    return label[:1].upper() + label[1:] if lang == "en" else label


def _before_play(view: DealerView, lang: Lang) -> list[str]:
    """Before the first market week every 4-week figure is the dealer's business before the game:
    said as such, so it is not read as something this game's decisions did."""
    names = ["sell_through_4w"] + [n for n, v in view.values.items() if n.endswith("_4w") and n != "sell_through_4w" and v and not isinstance(v, bool)]
    items = []
    for name in names:
        try:
            label = t(f"card_before_{name}", lang)
        except KeyError:  # a field added to the market since: its own label says "4 weeks"
            label = field_label(name, lang)
        items.append(f"{label} {_figure(float(view.values.get(name, 0)))}")
    # split again on the separator so that the card wraps between figures, not inside one
    return t("card_before_play", lang, items=" · ".join(items)).split(" · ")


def dealer_card(view: DealerView, lang: Lang, band: tuple[float, float], unit: str | None = None) -> DealerCardData:
    """One dealer's card; `unit` is what goods are counted in (Game.unit; default 件 / units)."""
    cover = view.get("cover_cycles")
    weeks = view.get("weeks_of_cover")
    before = not view.sales  # no market week has passed yet
    unit = unit or t("unit_default", lang)
    stats = (
        [
            f"{t('col_stock', lang)} {_num(view.get('stock'))}",
            f"{t('col_price', lang)} {_num(view.get('price_index'), 2)}",
            f"{t('col_trust', lang)} {_num(view.get('trust'))}",
            f"{t('col_receivables', lang)} {_num(view.get('receivables'))}",
        ]
    )
    warnings: list[str] = []
    if view.values.get("active", 1) == 0:
        warnings.append("⚠ " + t("tui_inactive", lang))
    if cover is not None and cover > band[1]:
        warnings.append("⚠ " + t("tui_warn_over", lang, cover=_num(cover, 1)))
    elif cover is not None and cover < band[0]:
        warnings.append("⚠ " + t("tui_warn_under", lang, cover=_num(cover, 1)))
    lost = view.get("lost_sales_4w")
    if lost and not before:
        warnings.append("⚠ " + t("card_warn_lost", lang, units=_num(lost), unit=unit))
    details: list[str] = []
    for name, value in view.values.items():
        if name in SHOWN_ELSEWHERE or name in NOT_SHOWN or not value or (before and name.endswith("_4w")):
            continue
        label = _sentence(field_label(name, lang), lang)
        if name.startswith("warning_") or isinstance(value, bool):
            warnings.append(f"⚠ {label}")
        else:
            details.append(f"{label} {_figure(float(value))}")
    if before:
        details += _before_play(view, lang)
    return DealerCardData(
        id=view.id,
        name=view.name,
        cover_cycles=cover,
        cover_label=t("tui_cover_value", lang, cycles=_num(cover, 1), weeks=_num(weeks, 1)),
        sales=view.sales,
        sales_label=t("card_sales_none", lang) if before else t("tui_sales_4w", lang, units=_num(view.get("sell_through_4w"))),
        stats=stats,
        details=details,
        warnings=warnings,
        band=band,
    )


def tag_line(tag: PrincipleTag) -> Content:
    sign = f"+{tag.weight}" if tag.weight > 0 else f"−{abs(tag.weight)}" if tag.weight < 0 else "±0"
    style = "bold $success" if tag.weight > 0 else "bold $error" if tag.weight < 0 else "bold"
    return Content.assemble((sign, style), " ", tag.name)


def tags_inline(tags: list[PrincipleTag]) -> Content:
    return Content("   ").join(tag_line(tag) for tag in tags)


def coaching_parts(decision: Decision, lang: Lang) -> tuple[Part, ...]:
    parts = [Part(t("tui_coach", lang), "coach-title")]
    if decision.feedback:
        parts.append(Part(decision.feedback, "coach-feedback"))
    for tag in decision.tags:
        parts.append(Part(tag_line(tag), "coach-tag"))
        if tag.citation:
            parts.append(Part(t("tui_citation", lang, citation=tag.citation), "coach-citation"))
    return tuple(parts)


def story_blocks(blocks: list[StoryBlock], lang: Lang, coaching: bool) -> list[Block]:
    out: list[Block] = []
    for block in blocks:
        if block.kind == "step":
            parts = []
            if block.title:
                parts.append(Part(block.title, "step-title"))
            if block.text:
                parts.append(Part(block.text, "step-text"))
            out.append(Block("step", tuple(parts)))
        elif block.kind == "choice" and block.decision is not None:
            d = block.decision
            parts = [Part(t("you_chose", lang, text=d.text), "choice-text")]
            if d.reply:
                parts.append(Part(d.reply, "choice-reply"))
            out.append(Block("choice", tuple(parts)))
            if coaching and (d.feedback or d.tags):
                out.append(Block("coaching", coaching_parts(d, lang)))
        elif block.kind == "ending":
            out.append(Block("ending", (Part(t("ending", lang, title=t(f"outcome_{block.outcome}", lang))),), tone=block.outcome))
    return out


@dataclass
class StepView:
    """Everything the play screen shows after a decision, computed off the UI thread."""

    blocks: list[Block]
    topbar: str
    market_title: str
    cards: list[DealerCardData]
    feed_title: str
    feed: list[str]
    notes: list[str]
    new_notes: int
    items: list[Item]
    finished: bool
    reveal: int = 0  # which of the blocks to scroll to (a resumed session: the last decision)
    table: TableView | None = None  # the negotiation table, while a negotiation step is being played


def step_view(game: Game, events: list[dict], *, coaching: bool, band: tuple[float, float], opening: bool = False, resumed: bool = False) -> StepView:
    """The play screen's content after `events` (after a decision, or all of them when it opens)."""
    lang = game.lang
    blocks = story_blocks(game.story(events), lang, coaching)
    if opening:
        briefing = Block("briefing", (Part(t("briefing", lang), "step-title"), Part(game.briefing.strip(), "step-text")))
        blocks = [briefing, *blocks]
        # a resumed session's feed: what followed the last decision (Game.last_feed), titled by it
        last = max((i for i, e in enumerate(game.events) if e["kind"] == "choice"), default=len(game.events))
        recent = game.events[last:] if resumed else []
        feed = game.feed_lines(recent)
        new_notes = 0
    else:
        recent = events
        feed = game.feed_lines(events)
        new_notes = sum(1 for e in events if e["kind"] == "effect" and e["data"].get("effect") == "note")
    weeks = game.weeks_in(recent)
    table = None if game.finished else table_view(game)
    if weeks:
        feed_title = t("tui_weeks_range", lang, first=min(weeks), last=max(weeks)) if len(weeks) > 1 else t("week", lang, n=weeks[0])
    elif table is not None or any(e["kind"].startswith("nego_") for e in recent):
        feed_title = t("feed_title_negotiation", lang)  # rounds of talk: no market week passes between them
    else:
        feed_title = t("tui_this_week", lang)
    reveal = 0
    if opening and resumed:
        reveal = max((i for i, b in enumerate(blocks) if b.kind == "choice"), default=0)
        # said in the story rather than a toast: Textual drops wide characters of an overlay where
        # it crosses the edge of a widget below it
        blocks.append(Block("notice", (Part(t("resumed", lang, turn=game.turn), "notice"),)))
    return StepView(
        reveal=reveal,
        blocks=blocks,
        topbar=" · ".join([game.title, t("week", lang, n=game.week), t("tui_decision_count", lang, n=game.turn)]),
        market_title=t("market_header", lang, week=game.week),
        cards=[dealer_card(view, lang, band, game.unit) for view in game.dealers()],
        feed_title=feed_title,
        feed=feed,
        notes=list(game.session.notebook),
        new_notes=new_notes,
        items=[] if game.finished else [Item(o.id, o.number, o.text) for o in game.options()],
        finished=game.finished,
        table=table,
    )

"""Pydantic models of a scenario file.

Everything an instructor writes by hand is strict and closed (`extra="forbid"`): a misspelled key
is an error, never silently ignored. Step kinds and effect kinds are discriminated unions; the
discriminator is inferred so files stay short (a step with `choices` is a decision, a table
`{ order = {...} }` is an order effect). The JSON Schema in `docs/scenario.schema.json` is
generated from these models (`dealersim schema`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union, get_args

from pydantic import BaseModel, ConfigDict, Discriminator, Field, PrivateAttr, Tag, field_validator

from simulator.negotiation.lines import LINES
from simulator.negotiation.params import params_table

SCHEMA_VERSION = 1
FAMILIES = ("first_visit", "stock_push", "diversion", "negotiation", "cross")
Family = Literal["first_visit", "stock_push", "diversion", "negotiation", "cross"]
Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")

# Ids appear in conditions (`dealer.wang.stock`, `visited("call")`), so they are plain identifiers.
IDENT = r"^[a-z][a-z0-9_]{0,39}$"
Ident = Annotated[str, Field(pattern=IDENT)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class LocalText(Strict):
    """Text in both course languages."""

    zh: str = Field(min_length=1, description="Chinese text, as a Chinese trainer would write it.")
    en: str = Field(min_length=1, description="English text.")


Text = Annotated[
    Union[str, LocalText],
    Field(description='Text shown to the trainee: a plain string, or a table `{ zh = "…", en = "…" }`.'),
]


def text_in(text: str | LocalText | None, lang: Lang) -> str:
    """The text in `lang`; a plain string is the same in both languages."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    return getattr(text, lang)


# ---------------------------------------------------------------- market parameters
# How the market uses each number, with its equation and anchor: docs/MODEL.md.


class Demand(Strict):
    mean: float = Field(gt=0, le=1_000_000, description="Expected sell-through per week, in units, at the dealer's normal price and the competitor's starting share.")
    cv: float = Field(default=0.25, ge=0, le=2, description="Coefficient of variation of weekly demand (lognormal noise).")
    season: list[Annotated[float, Field(gt=0, le=10)]] = Field(
        default_factory=list,
        max_length=52,
        description="Optional multipliers on the mean, one per week, repeated cyclically (e.g. a peak season).",
    )


class Dealer(Strict):
    id: Ident = Field(description="Short id used in effects and conditions, e.g. `wang` → `dealer.wang.stock`.")
    name: Text = Field(description="The dealer's name as the trainee sees it.")
    territory: Ident = Field(description="Territory id; dealers in different territories can divert stock between them.")
    demand: Demand = Field(description="The dealer's weekly end-customer demand.")
    stock: float = Field(ge=0, le=10_000_000, description="Units in the dealer's warehouse at the start.")
    trust: float = Field(default=50, ge=0, le=100, description="The dealer's trust in us and our rep, 0–100.")
    price_index: float = Field(
        default=1.0, ge=0.2, le=3,
        description="The dealer's normal selling price relative to the list price (1.0 = list); its price returns here when stock is healthy.",
    )
    margin_pct: float = Field(default=15, ge=0, le=80, description="The dealer's gross margin at list price, in percent; its cost is list × (1 − margin).")
    credit_limit: float | None = Field(
        default=None, ge=0, le=1e9,
        description="Credit limit in units' worth of goods: the dealer's own reorders are held to what fits under it. Leave it out for no limit.",
    )
    receivables: float = Field(default=0, ge=0, le=1e9, description="What the dealer owes us at the start, in units' worth (one unit's worth = our price for one unit).")
    payment_days: int = Field(default=30, ge=0, le=90, description="Payment terms in days: each delivery falls due this long after it is invoiced (rounded to whole weeks).")
    adjust_weeks: float = Field(
        default=2.0, ge=0.5, le=26,
        description="Stock adjustment time of the dealer's own reorder rule (Sterman's anchoring and adjustment): smaller reacts faster.",
    )
    target_cover_cycles: float = Field(
        default=1.5, ge=0.25, le=10,
        description="The stock the dealer's own reorders aim for, in sales cycles of its forecast (1.5 = the course's safety stock).",
    )
    competitor_share: float = Field(
        default=0.2, ge=0, le=0.9,
        description="The competitor's share of this territory's demand at the start; stock-outs hand it more, and it drifts back slowly.",
    )
    target_pressure: float | None = Field(
        default=None, ge=0, le=1,
        description="How hard this dealer is pressed to hit purchase targets, 0–1 (drives diversion); leave it out to use the market's `target_pressure`.",
    )
    rebate_pct: float = Field(default=0, ge=0, le=30, description="A rebate the dealer already has at the start, in percent (see `rebate_basis`).")
    rebate_basis: Literal["volume", "sell_through"] = Field(
        default="volume", description="Basis of the starting rebate: `volume` (on purchases) or `sell_through` (on sales to end customers)."
    )


class TransportCost(Strict):
    between: list[Ident] = Field(min_length=2, max_length=2, description="Two territory ids; the cost applies in both directions.")
    cost: float = Field(ge=0, le=1, description="Cost of moving one unit between them, as a share of the list price (0.05 = 5% of list).")


class Market(Strict):
    unit: Text | None = Field(
        default=None,
        description='What one unit of goods is called in the story, as the events feed counts it: { zh = "箱", en = "cases" }. Chinese takes the measure word, English the plural. Leave it out for 件 / units.',
    )
    weeks_per_cycle: int = Field(default=2, ge=1, le=13, description="Length of one sales (replenishment) cycle in weeks; safety stock is 1.5 cycles.")
    dealers: list[Dealer] = Field(min_length=1, max_length=12, description="The dealers in this scenario.")
    transport_cost: float = Field(
        default=0.05, ge=0, le=1,
        description="Cost of moving one unit from one territory to another, as a share of the list price, for pairs not listed in `transport`.",
    )
    transport: list[TransportCost] = Field(
        default_factory=list, max_length=66, description="Transport costs for particular pairs of territories (both directions)."
    )
    detection: float = Field(
        default=0.3, ge=0, le=1,
        description="Chance that a diversion incident is traced to its source (coded products, inspectors), 0–1.",
    )
    enforcement: float = Field(
        default=0.5, ge=0, le=1,
        description="How credibly the company penalises proven diversion at the start, 0–1; it rises when you penalise proven cases and falls while they stay open.",
    )
    fine: float = Field(
        default=0.1, ge=0, le=2,
        description="The contract's fine per diverted unit, as a share of the list price; dealers weigh it by the chance of being caught and penalised.",
    )
    target_pressure: float = Field(
        default=0.3, ge=0, le=1,
        description="How hard dealers are pressed to hit purchase targets, 0 (none) to 1 (quarter-end squeeze); raises diversion.",
    )
    price_floor: float = Field(
        default=0.95, ge=0.5, le=1.5,
        description="The channel's minimum resale price relative to list; a dealer selling below it lights the price warning sign.",
    )
    dso_warning_days: float = Field(
        default=45, ge=7, le=365, description="Days sales outstanding above which a dealer lights the DSO warning sign."
    )
    price_elasticity: float = Field(
        default=0.0, ge=0, le=4,
        description="How strongly end-customer demand answers the dealer's price: demand × (price ÷ normal price)^−elasticity. 0 (the default): demand does not depend on price, so a week's demand is the same whatever the trainee chose.",
    )


# ---------------------------------------------------------------- effects


class OrderParams(Strict):
    dealer: Ident = Field(description="Which dealer takes the order.")
    units: float | None = Field(default=None, ge=0, le=10_000_000, description="Order this many units…")
    cover_cycles: float | None = Field(
        default=None, ge=0, le=20,
        description="…or order up to this many sales cycles of cover (1.5 = the course's safety stock).",
    )


class RebateParams(Strict):
    dealer: Ident = Field(description="Which dealer gets the rebate.")
    pct: float = Field(ge=0, le=30, description="Rebate in percent of the order value; 0 withdraws a rebate on this basis.")
    basis: Literal["volume", "sell_through"] = Field(
        default="volume", description="`volume`: paid on what the dealer buys (lowers its break-even price, feeds diversion); `sell_through`: paid on what it sells to end customers in its own territory."
    )
    weeks: int = Field(default=13, ge=1, le=52, description="How many weeks the rebate runs (13 = a quarter).")


class PriceSupportParams(Strict):
    dealer: Ident = Field(description="Which dealer gets the support.")
    pct: float = Field(gt=0, le=30, description="Credit per unit the dealer sells, in percent of the list price, so it can hold its price.")
    weeks: int = Field(ge=1, le=26, description="How many weeks the support runs.")


class PromotionParams(Strict):
    dealer: Ident = Field(description="Whose end customers the promotion reaches.")
    lift_pct: float = Field(ge=0, le=200, description="Extra end-customer demand while it runs, in percent.")
    weeks: int = Field(ge=1, le=26, description="How many weeks the promotion runs.")


class BuyBackParams(Strict):
    dealer: Ident = Field(description="From whose warehouse (or, with `source = \"market\"`, from whose territory) we buy goods back.")
    source: Literal["warehouse", "market"] = Field(
        default="warehouse",
        description="`warehouse`: take back the dealer's own stock; `market`: buy up diverted goods found in the dealer's territory (stops the spread).",
    )
    units: float | None = Field(default=None, ge=0, le=10_000_000, description="Buy back this many units (at most what is there)…")
    cover_cycles: float | None = Field(
        default=None, ge=0, le=20, description="…or (warehouse only) buy back down to this many sales cycles of cover. With neither, a market buy-back takes all diverted goods.",
    )


class VisitParams(Strict):
    dealer: Ident = Field(description="The dealer you visit (a service contact: builds trust, more after a long gap).")


class TrainingParams(Strict):
    dealer: Ident = Field(description="The dealer whose sales team you train.")
    lift_pct: float = Field(default=5, ge=0, le=30, description="Lasting rise in the dealer's sell-through, in percent (capability; capped at +50% in all).")


class CreditTermsParams(Strict):
    dealer: Ident = Field(description="The dealer whose terms change.")
    payment_days: int | None = Field(default=None, ge=0, le=90, description="New payment terms in days (future deliveries).")
    credit_limit: float | None = Field(default=None, ge=0, le=1e9, description="New credit limit in units' worth (the dealer's own reorders stay under it).")
    early_payment_discount_pct: float | None = Field(
        default=None, ge=0, le=10, description="Cash discount for paying before the due date, in percent; 0 withdraws it.",
    )


class FineParams(Strict):
    dealer: Ident = Field(description="The dealer penalised for diversion.")
    per_unit: float | None = Field(
        default=None, ge=0, le=2,
        description="Fine per diverted unit on record against the dealer, as a share of list price; leave it out for the market's `fine`.",
    )
    forfeit_rebate: bool = Field(default=False, description="Also deduct the rebate: cancel the dealer's rebates and claw back what it has earned so far.")


class WarningParams(Strict):
    dealer: Ident = Field(description="The dealer who receives a formal written warning (rectification memo).")


class TerminateParams(Strict):
    dealer: Ident = Field(description="The dealer whose contract ends: we take back its stock and the competitor takes its territory.")


class TerritoryParams(Strict):
    dealer: Ident = Field(description="The dealer whose territory is redrawn.")
    territory: Ident = Field(description="Its new territory: one named by a dealer or in `market.transport`.")


class CompensateParams(Strict):
    dealer: Ident = Field(description="The dealer compensated (usually the victim of diversion).")
    amount: float = Field(ge=0, le=1e7, description="Credit in units' worth of goods.")


class PromiseParams(Strict):
    dealer: Ident = Field(description="The dealer to whom a promise was made.")
    kept: bool = Field(description="true: the promise was kept on time; false: it was broken (costs about three times what keeping one earns).")


class ChannelPolicyParams(Strict):
    detection: float | None = Field(default=None, ge=0, le=1, description="New chance of tracing a diversion to its source (e.g. after coding products).")
    enforcement: float | None = Field(default=None, ge=0, le=1, description="New enforcement credibility, 0–1 (e.g. after announcing penalties channel-wide).")
    fine: float | None = Field(default=None, ge=0, le=2, description="New contract fine per diverted unit, as a share of list price.")
    target_pressure: float | None = Field(default=None, ge=0, le=1, description="New target pressure on every dealer, 0–1 (e.g. after setting realistic targets).")


class SetParams(Strict):
    var: Ident = Field(description="A variable declared in `[variables]`.")
    value: float | bool = Field(description="The new value.")


class AddParams(Strict):
    var: Ident = Field(description="A numeric variable declared in `[variables]`.")
    value: float = Field(description="Added to the variable's current value.")


class TrustParams(Strict):
    dealer: Ident = Field(description="Whose trust changes.")
    change: float = Field(ge=-100, le=100, description="Points of trust gained (positive) or lost (negative), applied as written.")


class OrderEffect(Strict):
    order: OrderParams = Field(description="The dealer buys stock from us (sell-in).")


class RebateEffect(Strict):
    rebate: RebateParams = Field(description="A rebate for the dealer, on volume or on sell-through.")


class PriceSupportEffect(Strict):
    price_support: PriceSupportParams = Field(description="A per-unit credit that lets the dealer hold its price while it clears stock.")


class PromotionEffect(Strict):
    promotion: PromotionParams = Field(description="A consumer promotion that lifts the dealer's sell-through.")


class BuyBackEffect(Strict):
    buy_back: BuyBackParams = Field(description="We buy goods back: the dealer's overstock, or diverted goods in its territory.")


class VisitEffect(Strict):
    visit: VisitParams = Field(description="A visit to the dealer.")


class TrainingEffect(Strict):
    training: TrainingParams = Field(description="Training for the dealer's sales team (teach to fish).")


class CreditTermsEffect(Strict):
    credit_terms: CreditTermsParams = Field(description="New payment terms, credit limit or early-payment discount for the dealer.")


class FineEffect(Strict):
    fine: FineParams = Field(description="Fine a dealer for diversion (and optionally deduct its rebate).")


class WarningEffect(Strict):
    warning: WarningParams = Field(description="A formal written warning for diversion.")


class TerminateEffect(Strict):
    terminate: TerminateParams = Field(description="End the dealer's contract.")


class TerritoryEffect(Strict):
    territory_change: TerritoryParams = Field(description="Redraw a dealer's territory: move it to another territory.")


class CompensateEffect(Strict):
    compensate: CompensateParams = Field(description="Compensate a dealer, e.g. the victim of diversion.")


class PromiseEffect(Strict):
    promise: PromiseParams = Field(description="A promise to the dealer was kept or broken.")


class ChannelPolicyEffect(Strict):
    channel_policy: ChannelPolicyParams = Field(description="Change a channel-wide policy: detection, enforcement, fine or target pressure.")


class TrustEffect(Strict):
    trust: TrustParams = Field(description="A direct change in the dealer's trust.")


class SetEffect(Strict):
    set: SetParams = Field(description="Set a scenario variable.")


class AddEffect(Strict):
    add: AddParams = Field(description="Add to a numeric scenario variable.")


class NoteEffect(Strict):
    note: Text = Field(description="A line added to the trainee's notebook (what they have learned).")


EFFECT_KINDS = (
    "order", "rebate", "price_support", "promotion", "buy_back", "visit", "training", "credit_terms",
    "fine", "warning", "terminate", "territory_change", "compensate", "promise", "channel_policy",
    "trust", "set", "add", "note",
)
MARKET_EFFECT_KINDS = EFFECT_KINDS[:-3]  # the ones `simulator.market.Market.apply` carries out


def _effect_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        keys = list(value)
    elif isinstance(value, BaseModel):
        keys = [k for k in type(value).model_fields]
    else:
        return None
    if len(keys) == 1 and keys[0] in EFFECT_KINDS:
        return keys[0]
    return None


Effect = Annotated[
    Union[
        Annotated[OrderEffect, Tag("order")],
        Annotated[RebateEffect, Tag("rebate")],
        Annotated[PriceSupportEffect, Tag("price_support")],
        Annotated[PromotionEffect, Tag("promotion")],
        Annotated[BuyBackEffect, Tag("buy_back")],
        Annotated[VisitEffect, Tag("visit")],
        Annotated[TrainingEffect, Tag("training")],
        Annotated[CreditTermsEffect, Tag("credit_terms")],
        Annotated[FineEffect, Tag("fine")],
        Annotated[WarningEffect, Tag("warning")],
        Annotated[TerminateEffect, Tag("terminate")],
        Annotated[TerritoryEffect, Tag("territory_change")],
        Annotated[CompensateEffect, Tag("compensate")],
        Annotated[PromiseEffect, Tag("promise")],
        Annotated[ChannelPolicyEffect, Tag("channel_policy")],
        Annotated[TrustEffect, Tag("trust")],
        Annotated[SetEffect, Tag("set")],
        Annotated[AddEffect, Tag("add")],
        Annotated[NoteEffect, Tag("note")],
    ],
    Discriminator(_effect_kind),
]


def effect_kind(effect: BaseModel) -> str:
    kind = _effect_kind(effect)
    assert kind is not None
    return kind


def effect_params(effect: BaseModel) -> Any:
    return getattr(effect, effect_kind(effect))


# ---------------------------------------------------------------- steps


class Then(Strict):
    goto: Ident = Field(description="The step that comes next.")
    simulate_weeks: int = Field(default=0, ge=0, le=52, description="Market weeks that pass before the next step.")


class Choice(Strict):
    id: Ident = Field(description="Unique within its step; `chose(\"step.choice\")` refers to it.")
    text: Text = Field(description="What the trainee can do, as shown in the list of options.")
    when: str | None = Field(default=None, description="Condition under which this option is offered (see docs/CONDITIONS.md).")
    effects: list[Effect] = Field(default_factory=list, max_length=20, description="What the choice does, in order.")
    principles: dict[str, Annotated[int, Field(ge=-5, le=5)]] = Field(
        default_factory=dict,
        description="Course principles this choice follows (positive) or breaks (negative), weight −5…5.",
    )
    feedback: Text | None = Field(default=None, description="Coaching feedback shown after the choice (coaching mode).")
    reply: Text | None = Field(default=None, description="What happens or what the dealer says right after the choice.")
    then: Then = Field(description="Where the story goes next.")


class Route(Strict):
    when: str | None = Field(default=None, description="Condition; the first route whose condition holds is taken. Leave it out for the default route.")
    goto: Ident = Field(description="The step to go to.")


class DecisionStep(Strict):
    kind: Literal["decision"] = Field(default="decision", description="Optional: a step with `choices` is a decision step.")
    id: Ident = Field(description="Unique step id.")
    title: Text | None = Field(default=None, description="Short heading for the step.")
    text: Text = Field(description="The situation the trainee faces.")
    choices: list[Choice] = Field(min_length=1, max_length=9, description="The options (1–9; keys 1–9 pick them).")


class BranchStep(Strict):
    kind: Literal["branch"] = Field(default="branch", description="Optional: a step with `routes` is a branch step.")
    id: Ident = Field(description="Unique step id.")
    title: Text | None = Field(default=None, description="Short heading, shown if the step has a text.")
    text: Text | None = Field(default=None, description="Optional narration shown when the step is passed through.")
    routes: list[Route] = Field(min_length=1, max_length=20, description="Routes tried in order; the last one should have no `when`.")


class EndingStep(Strict):
    kind: Literal["ending"] = Field(default="ending", description="Optional: a step with `outcome` is an ending.")
    id: Ident = Field(description="Unique step id.")
    title: Text | None = Field(default=None, description="Short heading for the ending.")
    text: Text = Field(description="How the story ends.")
    outcome: Literal["good", "mixed", "bad"] = Field(description="How the ending is judged in the debrief.")


# ---------------------------------------------------------------- negotiation steps
# A step with `issues` is a negotiation (docs/NEGOTIATION.md, docs/FORMAT.md#negotiation-steps).
# The loader converts it to the core's NegotiationSpec (simulator/negotiation/step.py); the
# negotiation's numbers are ours (proposed), not the course's.

MoveKind = Literal[
    "offer", "package", "accept", "walk_away", "ask", "listen", "restate", "reluctant", "flinch", "say_no",
    "authority", "break_deadlock", "summarise", "empathise", "name_tactic",
]
MOVE_KINDS: tuple[str, ...] = get_args(MoveKind)
STYLES = {"boulware": (0.2, 0.5), "linear": (0.8, 1.25), "conceder": (2.0, 5.0)}  # concession exponent e, drawn log-uniformly


class IssueOption(Strict):
    id: Ident = Field(description="Option id, used in offers (`marketing_support = \"promoter\"`) and conditions (`nego.<step>.marketing_support.promoter`).")
    name: Text = Field(description="The option as the trainee sees it.")
    ours: float = Field(ge=0, le=1, description="How good this option is for the company, 0 (worst) to 1 (best).")
    theirs: float = Field(ge=0, le=1, description="How good it is for the counterpart, 0–1 (public: what anyone in the trade would expect).")


class NumberIssue(Strict):
    id: Ident = Field(description="Issue id, used in offers (`rebate = 2.5`) and conditions (`nego.<step>.rebate`).")
    name: Text = Field(description="The issue as the trainee sees it, e.g. 返利 / rebate.")
    unit: Text | None = Field(default=None, description="Unit shown after the number, e.g. `%` or { zh = \"天\", en = \"days\" }.")
    range: list[float] = Field(min_length=2, max_length=2, description="[lowest, highest] value that can be negotiated.")
    step: float = Field(gt=0, description="Grid step: offers snap to lowest, lowest + step, …, highest (at most 21 points).")
    we_prefer: Literal["high", "low"] = Field(description="Which end of the range the company prefers.")
    they_prefer: Literal["high", "low"] | None = Field(
        default=None, description="Which end the counterpart prefers; leave it out for the opposite of the company (a distributive issue).",
    )
    weight: float = Field(ge=0, le=100, description="How much this issue matters to the company, relative to the other issues (normalised to sum 1).")
    their_alpha: float = Field(
        default=1.0, gt=0, le=100,
        description="The counterpart's hidden weight on this issue is drawn from a Dirichlet distribution: its expected share is their_alpha ÷ the sum over the issues; larger values everywhere make the draw less spread.",
    )
    on_table: bool = Field(default=True, description="false: fixed at `default` until someone adds it to the table (breaking a deadlock).")
    default: float | None = Field(default=None, description="The status quo while the issue is off the table (default: the company's preferred end).")


class OptionsIssue(Strict):
    id: Ident = Field(description="Issue id, used in offers (`marketing_support = \"promoter\"`) and conditions.")
    name: Text = Field(description="The issue as the trainee sees it, e.g. 市场支持 / marketing support.")
    options: list[IssueOption] = Field(min_length=2, max_length=21, description="The options (2–21), each valued by both sides.")
    weight: float = Field(ge=0, le=100, description="How much this issue matters to the company, relative to the other issues (normalised to sum 1).")
    their_alpha: float = Field(
        default=1.0, gt=0, le=100,
        description="Dirichlet concentration of the counterpart's hidden weight on this issue (expected share = their_alpha ÷ the sum over the issues).",
    )
    on_table: bool = Field(default=True, description="false: fixed at `default` until someone adds it to the table (breaking a deadlock).")
    default: Ident | None = Field(default=None, description="The option that holds while the issue is off the table (default: the company's best).")


def _issue_kind(value: Any) -> str:
    if isinstance(value, BaseModel):
        return "options_issue" if isinstance(value, OptionsIssue) else "number_issue"
    return "options_issue" if isinstance(value, dict) and "options" in value else "number_issue"


NegIssue = Annotated[
    Union[Annotated[NumberIssue, Tag("number_issue")], Annotated[OptionsIssue, Tag("options_issue")]],
    Discriminator(_issue_kind),
]


class Counterpart(Strict):
    name: Text = Field(description="Who the trainee negotiates with, as shown next to what they say.")
    partner: Text | None = Field(default=None, description="The second person on their side, who plays the good cop when `good_cop_bad_cop` is on (e.g. the son).")
    reservation: float | list[float] = Field(
        default_factory=lambda: [0.3, 0.45],
        description="Its walk-away level on its own 0–1 utility scale: a number, or [low, high] to draw it per seed.",
    )
    style: Literal["boulware", "linear", "conceder"] | list[float] = Field(
        default="linear",
        description="How it concedes over the rounds: `boulware` (holds out, concedes late), `linear`, `conceder` (gives early), or [low, high] of the concession exponent e.",
    )
    anchor: float = Field(default=0.95, gt=0, le=1, description="How extreme its opening demand is: the utility (0–1, its own scale) of its first bid; above its reservation.")
    good_cop_bad_cop: bool = Field(default=False, description="Whether it plays good cop / bad cop (with `partner` as the good cop).")
    good_cop_at: float = Field(default=0.5, ge=0, le=1, description="When the act starts: at its first bid after this share of the rounds.")


class NegotiationRoute(Strict):
    when: str | None = Field(default=None, description="Condition, usually on `nego.<step>.*`; the first route whose condition holds is taken. Leave it out for the default route.")
    goto: Ident = Field(description="The step to go to when the negotiation has ended.")
    effects: list[Effect] = Field(default_factory=list, max_length=20, description="What the outcome does to the market, in order (e.g. the first order under the new contract).")
    simulate_weeks: int = Field(default=0, ge=0, le=52, description="Market weeks that pass before the next step.")


class NegotiationStep(Strict):
    kind: Literal["negotiation"] = Field(default="negotiation", description="Optional: a step with `issues` is a negotiation step.")
    id: Ident = Field(description="Unique step id; conditions read the outcome as `nego.<id>.*`.")
    title: Text | None = Field(default=None, description="Short heading for the step.")
    text: Text = Field(description="The situation at the start of the negotiation.")
    issues: list[NegIssue] = Field(min_length=1, max_length=6, description="What is negotiated (1–6 issues): numbers on a range, or options.")
    walk_away_below: float = Field(ge=0, lt=1, description="The company's reservation value: a deal worth less than this (0–1, the company's utility) is worse than no deal.")
    rounds: int = Field(default=8, ge=2, le=30, description="The counterpart's bids, its opening included; after its last bid the trainee has one last answer.")
    counterpart: Counterpart = Field(description="Who sits across the table, and how they negotiate (drawn per seed).")
    moves: list[MoveKind] | None = Field(default=None, min_length=1, description="The moves the trainee may make (default: all fifteen).")
    lines: dict[str, LocalText] = Field(
        default_factory=dict,
        description="What the counterpart says, by situation (e.g. `opening`, `bid`, `reveal_high`), replacing the default lines (docs/NEGOTIATION.md#lines).",
        json_schema_extra={"propertyNames": {"enum": sorted(LINES)}},
    )
    tactics: dict[str, float] = Field(
        default_factory=dict, description="Overrides of the tactic parameters (docs/NEGOTIATION.md#parameters-tacticparams-all-ours), e.g. `{ nibble_prob = 0.5 }`.",
        json_schema_extra={"propertyNames": {"enum": [name for name, _ in params_table()]}},
    )
    routes: list[NegotiationRoute] = Field(min_length=1, max_length=20, description="Where the story goes when the negotiation ends; the last route should have no `when`.")


STEP_KINDS = ("decision", "branch", "ending", "negotiation")


def _step_kind(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return getattr(value, "kind", None)
    if not isinstance(value, dict):
        return None
    kind = value.get("kind")
    if kind is not None:
        return kind if kind in STEP_KINDS else None
    if "choices" in value:
        return "decision"
    if "issues" in value:  # before `routes`: a negotiation has routes too
        return "negotiation"
    if "routes" in value:
        return "branch"
    if "outcome" in value:
        return "ending"
    return None


Step = Annotated[
    Union[
        Annotated[DecisionStep, Tag("decision")],
        Annotated[BranchStep, Tag("branch")],
        Annotated[EndingStep, Tag("ending")],
        Annotated[NegotiationStep, Tag("negotiation")],
    ],
    Discriminator(_step_kind),
]


# ---------------------------------------------------------------- scenario


class Instructor(Strict):
    goals: list[Text] = Field(default_factory=list, description="Learning goals.")
    course_section: Text | None = Field(default=None, description="The course section this scenario follows.")
    discussion: list[Text] = Field(default_factory=list, description="Questions for the debrief.")
    mistakes: list[Text] = Field(default_factory=list, description="Common mistakes to look for.")


class Scoring(Strict):
    process_weight: float = Field(default=0.6, ge=0, le=1, description="Share of the session score that comes from following the course's principles; the rest comes from market results.")
    results: dict[Literal["sell_through", "stock_health", "dealer_margin", "trust", "channel_price", "receivables", "deal_quality"], Annotated[float, Field(ge=0, le=10)]] = Field(
        default_factory=dict,
        description="Relative weights of the market results in the results score (defaults: docs/SCORING.md).",
    )


class Scenario(Strict):
    schema_version: Literal[1] = Field(alias="schema", description="Scenario format version; this is version 1.")
    id: str = Field(pattern=r"^[a-z_]+\.[a-z0-9_]+$", description="`family.name`, unique across all scenarios.")
    family: Family = Field(description="Scenario family.")
    title: Text = Field(description="Title shown in the scenario list.")
    summary: Text | None = Field(default=None, description="One or two sentences for the scenario list.")
    briefing: Text = Field(description="What the trainee reads before the first decision.")
    difficulty: int = Field(ge=1, le=3, description="1 (introductory) to 3 (hard).")
    minutes: int = Field(default=15, ge=1, le=240, description="Expected playing time in minutes.")
    principles: list[str] = Field(min_length=1, description="Ids of the course principles this scenario teaches.")
    start: Ident | None = Field(default=None, description="First step; defaults to the first step in the file.")
    variables: dict[str, float | bool] = Field(
        default_factory=dict, description="Scenario variables and their starting values; read them in conditions as `var.<name>`."
    )
    market: Market = Field(description="The market the scenario plays in.")
    steps: list[Step] = Field(min_length=1, max_length=200, description="The steps of the story.")
    scoring: Scoring = Field(default_factory=Scoring, description="How the session score is weighted.")
    instructor: Instructor | None = Field(default=None, description="Notes for the instructor, shown in the debrief.")

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)
    _step_index: dict[str, Any] = PrivateAttr(default_factory=dict)

    @field_validator("variables")
    @classmethod
    def _variable_names(cls, value: dict[str, float | bool]) -> dict[str, float | bool]:
        import re

        for name in value:
            if not re.match(IDENT, name):
                raise ValueError(f"variable name '{name}' must be lower-case letters, digits and _")
        return value

    @property
    def first_step(self) -> str:
        return self.start or self.steps[0].id

    def model_post_init(self, context: Any) -> None:
        self._step_index = {s.id: s for s in self.steps}

    def step(self, step_id: str) -> DecisionStep | BranchStep | EndingStep | NegotiationStep:
        return self._step_index[step_id]

    def dealer_index(self, dealer_id: str) -> int:
        return [d.id for d in self.market.dealers].index(dealer_id)

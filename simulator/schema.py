"""Pydantic models of a scenario file.

Everything an instructor writes by hand is strict and closed (`extra="forbid"`): a misspelled key
is an error, never silently ignored. Step kinds and effect kinds are discriminated unions; the
discriminator is inferred so files stay short (a step with `choices` is a decision, a table
`{ order = {...} }` is an order effect). The JSON Schema in `docs/scenario.schema.json` is
generated from these models (`dealersim schema`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, PrivateAttr, Tag, field_validator

SCHEMA_VERSION = 1
FAMILIES = ("first_visit", "stock_push", "diversion", "negotiation")
Family = Literal["first_visit", "stock_push", "diversion", "negotiation"]
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


class Demand(Strict):
    mean: float = Field(gt=0, le=1_000_000, description="Expected sell-through per week, in units.")
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
    price_index: float = Field(default=1.0, gt=0, le=3, description="The dealer's selling price relative to the list price (1.0 = list).")
    margin_pct: float = Field(default=15, ge=0, le=80, description="The dealer's gross margin at list price, in percent.")
    credit_limit: float = Field(default=0, ge=0, le=1e9, description="Credit limit in units' worth of goods (0 = cash only).")
    receivables: float = Field(default=0, ge=0, le=1e9, description="What the dealer owes us at the start, in units' worth.")
    adjust_weeks: float = Field(
        default=2.0, ge=0.5, le=26,
        description="Stock adjustment time of the dealer's own reorder rule (Sterman's anchoring and adjustment): smaller reacts faster.",
    )


class Market(Strict):
    weeks_per_cycle: int = Field(default=2, ge=1, le=13, description="Length of one sales (replenishment) cycle in weeks; safety stock is 1.5 cycles.")
    dealers: list[Dealer] = Field(min_length=1, max_length=12, description="The dealers in this scenario.")


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
    pct: float = Field(ge=0, le=30, description="Rebate in percent of the order value.")
    basis: Literal["volume", "sell_through"] = Field(
        default="volume", description="`volume`: paid on what the dealer buys; `sell_through`: paid on what it sells to end customers."
    )


class PromotionParams(Strict):
    dealer: Ident = Field(description="Whose end customers the promotion reaches.")
    lift_pct: float = Field(ge=0, le=200, description="Extra end-customer demand while it runs, in percent.")
    weeks: int = Field(ge=1, le=26, description="How many weeks the promotion runs.")


class TrustParams(Strict):
    dealer: Ident = Field(description="Whose trust changes.")
    change: float = Field(ge=-100, le=100, description="Points of trust gained (positive) or lost (negative).")


class SetParams(Strict):
    var: Ident = Field(description="A variable declared in `[variables]`.")
    value: float | bool = Field(description="The new value.")


class AddParams(Strict):
    var: Ident = Field(description="A numeric variable declared in `[variables]`.")
    value: float = Field(description="Added to the variable's current value.")


class OrderEffect(Strict):
    order: OrderParams = Field(description="The dealer buys stock from us (sell-in).")


class RebateEffect(Strict):
    rebate: RebateParams = Field(description="A rebate for the dealer.")


class PromotionEffect(Strict):
    promotion: PromotionParams = Field(description="A consumer promotion that lifts the dealer's sell-through.")


class TrustEffect(Strict):
    trust: TrustParams = Field(description="A direct change in the dealer's trust.")


class SetEffect(Strict):
    set: SetParams = Field(description="Set a scenario variable.")


class AddEffect(Strict):
    add: AddParams = Field(description="Add to a numeric scenario variable.")


class NoteEffect(Strict):
    note: Text = Field(description="A line added to the trainee's notebook (what they have learned).")


EFFECT_KINDS = ("order", "rebate", "promotion", "trust", "set", "add", "note")


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
        Annotated[PromotionEffect, Tag("promotion")],
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


STEP_KINDS = ("decision", "branch", "ending")


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

    def step(self, step_id: str) -> DecisionStep | BranchStep | EndingStep:
        return self._step_index[step_id]

    def dealer_index(self, dealer_id: str) -> int:
        return [d.id for d in self.market.dealers].index(dealer_id)

"""The seeded stochastic dealer market.

State is held in arrays with a rollout axis, so that one session (rollouts = 1) and a batch of
analysis rollouts run the same code and give bit-identical results for the same random streams.
A week's randomness is a block drawn per week from a counter-based stream (`Noise`,
`NoiseBatch`): week w of world k always gets the same draws whatever happened before, which gives
common random numbers across alternative choices.

Weekly, per dealer: deliveries arrive; end-customer demand (lognormal, seasonal, price-elastic,
shared with a competitor) is served first by diverted goods on the territory's market, then from
the dealer's stock; stock-outs lose sales, trust and share; a dealer may divert (窜货) stock into
another territory when the net arbitrage margin is positive (logistic propensity); it reorders by
Sterman's anchoring-and-adjustment rule; its price follows a stock-adjustment rule; it pays what
has fallen due out of its sales. Equations, parameters and anchors: docs/MODEL.md.

Levers (the scenario's effects) are `Market.apply(state, kind, params)`: they act on every rollout
of a state at once and return what they did, per rollout.

Batch API for the analysis (common random numbers over worlds 1..K):

    market = Market(scenario.market)
    batch = session.state.repeat(K)                   # or market.initial(K)
    noise = NoiseBatch(session.entropy, market.n, worlds_for(K))
    market.apply(batch, "order", params)              # the option's effects, on every rollout
    market.run(batch, noise, weeks)                   # rollout k == a Session in world k+1
"""

from __future__ import annotations

import copy
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np

from simulator.schema import Market as MarketSpec

SAFETY_CYCLES = 1.5  # the course: stock ≈ 1.5 × one sales cycle (seed 001, 4.1)
CHUNK_WEEKS = 26

# ------------------------------------------------------------------ the weekly noise block
# Per dealer-week: NOISE_NORMALS standard normals, then NOISE_UNIFORMS draws from uniforms on
# [0, 1) — the first as its logit (a standard logistic draw, compared with a logit directly).
# Fixed so that adding a use never shifts the others: take a reserved slot.
Z_DEMAND, Z_PRICE, Z_DIVERT_UNITS, Z_RESERVED = 0, 1, 2, 3
L_DIVERT, U_VICTIM, U_DETECT, U_RESERVED = 4, 5, 6, 7
NOISE_NORMALS = 4
NOISE_UNIFORMS = 4
NOISE_COMPONENTS = NOISE_NORMALS + NOISE_UNIFORMS

# ------------------------------------------------------------------ our coefficients
# Tunable defaults, tested for direction (tests/test_market*.py), not taken from the course.
# docs/MODEL.md gives each one's equation and reason.
FORECAST_ALPHA = 0.3  # exponential smoothing of the dealer's demand forecast
PRICE_EROSION = 0.06  # k_p: weekly price cut per unit of overstock index above the band
PRICE_BAND = 0.1  # the price holds while the overstock index is ≤ 1.1 (1.65 cycles: inside the catalogue's proposed band)
PRICE_RECOVERY = 0.10  # share of the gap to the normal price closed each week (error correction)
PRICE_NOISE = 0.004  # sd of weekly price noise
PRICE_MIN = 0.1  # no dealer sells below a tenth of list
PRICE_MAX = 3.0
PRICE_OVERSTOCK_CAP = 1.5  # the price answers overstock up to this much above the band (9% a week at most)
# so a week's erosion is at most PRICE_EROSION × PRICE_OVERSTOCK_CAP + GREY_PRICE × GREY_PRICE_CAP = 13%
OVERSTOCK_CAP = 5.0  # the overstock index's excess counts up to this
SUPPORT_FULL = 0.05  # price support of 5% of list fully offsets overstock erosion; less offsets pro rata
GREY_TAKE = 0.5  # diverted goods on a territory's market take up to half its demand
GREY_PRICE = 0.02  # weekly price cut per week-of-demand of diverted goods on the market
GREY_PRICE_CAP = 2.0  # …counting at most two weeks of demand (4% a week)
SELL_THROUGH_LIFT = 1.0  # a sell-through rebate of x% lifts sell-through by x% (the dealer sells harder)
REBATE_STOCK = 0.05  # each point of volume rebate raises the dealer's own stock target by 5%
CAPABILITY_MAX = 1.5  # training lifts sell-through by at most 50% in all
COMPETITOR_GAIN = 0.10  # a week of full stock-out hands the competitor 10% of what it does not hold
COMPETITOR_BACK = 0.02  # each week the competitor's extra share shrinks by 2%
COMPETITOR_MAX = 0.95
# diversion (窜货): logistic propensity per ordered pair of territories
DIV_INTERCEPT = -5.8
DIV_MARGIN = 10.0  # per unit of list price of net arbitrage margin
DIV_OVERSTOCK = 3.0  # per unit of overstock index above 1
DIV_PRESSURE = 2.0  # × target pressure (0–1)
DIV_VOLUME_REBATE = 0.15  # per point of volume rebate
DIV_TRUST = 3.0  # × (0.5 − trust/100): low trust raises it
DIV_ENFORCEMENT = 3.0  # × detection × enforcement credibility
DIV_BASE_WEEKS = 0.25  # an incident moves a quarter of a week's forecast…
DIV_EXCESS = 0.5  # …plus half the stock above 1.5 cycles…
DIV_VICTIM_WEEKS = 1.0  # …but no more than a week of the victim's demand (what its market absorbs)
DIV_UNITS_SD = 0.25  # lognormal noise on the units moved
# trust: one unit of a trust event is TRUST_UNIT points when it builds, TRUST_ASYMMETRY × that when it erodes
TRUST_UNIT = 3.0
TRUST_ASYMMETRY = 3.0  # trust erodes about 3× faster than it builds (rel.visits_and_promises)
TRUST_STOCKOUT = 0.4  # units lost per week of full stock-out (3.6 points)
TRUST_COMPLAINT = 0.1  # units lost per week a victim's diversion complaints stay unresolved (0.9 points)
TRUST_NEGLECT = 0.05  # units lost per week beyond VISIT_GAP weeks without a visit (0.45 points)
VISIT_GAP = 4
TRUST_PUSH = 0.25  # units lost per sales cycle an order pushes cover above 1.5 cycles (2.25 points)
CASE_GRACE = 2  # weeks a proven case may stay open before the channel reads it as weak enforcement
CREDIBILITY_DECAY = 0.02  # share of enforcement credibility lost per week with stale open cases
# cash and receivables
PAY_BASE = 0.5  # share of its cash a dealer puts towards what is due: min(1, 0.5 + trust/100) —
PAY_TRUST = 1.0  # all of it from trust 50 up, less as trust falls (a dealer who distrusts us pays others first)
CASH_CYCLES = 1.0  # a dealer keeps at most one cycle of purchases in cash; the rest is drawn out as profit
OVERDUE_SIGNAL = 0.25  # overdue counts as a warning sign above a quarter of a normal cycle's purchases
AGE_WEEKS = 14  # invoice ring: payment terms up to 13 weeks (90 days)
SELL_IN_WEEKS = 13  # our sales to the dealer kept for DSO: a quarter
DSO_FLOOR = 0.25  # DSO's denominator never falls below a quarter of normal weekly purchases
CLOCK_PROMO, CLOCK_SUPPORT, CLOCK_REBATE = 0, 1, 2
WARNING_NAMES = (
    "dso_high",
    "overdue_growing",
    "over_credit_limit",
    "orders_below_sales",
    "price_below_floor",
    "diversion_detected",
)


def stream_key(name: str) -> int:
    """Stable numeric key of a named random stream (recorded in the session header)."""
    return zlib.crc32(name.encode("ascii"))


# ------------------------------------------------------------------ noise


def _set_philox(bits: np.random.BitGenerator, key: np.ndarray, counter: tuple[int, int, int, int]) -> None:
    bits.state = {
        "bit_generator": "Philox",
        "state": {"counter": np.array(counter, dtype=np.uint64), "key": key},
        "buffer": np.zeros(4, dtype=np.uint64),
        "buffer_pos": 4,
        "has_uint32": 0,
        "uinteger": 0,
    }


@lru_cache(maxsize=4096)
def _world_key(entropy: int, world: int) -> tuple[int, int]:
    words = np.random.SeedSequence(entropy, spawn_key=(stream_key("market"), world)).generate_state(2, np.uint64)
    return int(words[0]), int(words[1])


def world_key(entropy: int, world: int) -> np.ndarray:
    """The 128-bit Philox key of one world's market stream:
    SeedSequence(entropy, spawn_key=(crc32("market"), world)). Cached: the analysis asks for the
    same worlds of the same session for every option it compares."""
    return np.array(_world_key(entropy, world), dtype=np.uint64)


def _draw_chunk(gen: np.random.Generator, key: np.ndarray, dealers: int, chunk: int, out: np.ndarray) -> None:
    """One chunk of one world into `out` (CHUNK_WEEKS, dealers, NOISE_COMPONENTS), which may be a view.

    Counter-based: the world's key and the chunk number in the counter's third word pick the
    draws, so a chunk is drawn directly, without drawing the ones before it."""
    _set_philox(gen.bit_generator, key, (0, 0, chunk, 0))
    out[..., :NOISE_NORMALS] = gen.standard_normal((CHUNK_WEEKS, dealers, NOISE_NORMALS))
    out[..., NOISE_NORMALS:] = gen.random((CHUNK_WEEKS, dealers, NOISE_UNIFORMS))


def _logits(block: np.ndarray) -> np.ndarray:
    """L_DIVERT's uniform as its logit (u < σ(x) ⇔ logit(u) < x), for a chunk or a stack of chunks:
    elementwise, so a stack transforms exactly as each chunk alone."""
    u = np.maximum(block[..., L_DIVERT], 1e-300)
    block[..., L_DIVERT] = np.log(u) - np.log1p(-u)
    return block


@dataclass
class Noise:
    """One world's draws for (week, dealer, component), generated in chunks of CHUNK_WEEKS weeks.

    World 0 is the live session; analysis rollouts use worlds 1..K. A chunk depends only on the
    session's seed entropy, the stream key, the world and the chunk number — never on a global
    state or on what was drawn before — so week w's draws are the same whatever happened earlier.
    Components: NOISE_NORMALS standard normals, then a standard logistic draw and uniforms on [0, 1).
    """

    entropy: int
    dealers: int
    world: int = 0
    _chunks: dict[int, np.ndarray] = field(default_factory=dict)
    _key: np.ndarray | None = None
    _gen: np.random.Generator | None = None

    def week(self, w: int) -> np.ndarray:
        """Shape (dealers, NOISE_COMPONENTS); the single-session path passes `week(w)[None]`."""
        chunk, offset = divmod(w, CHUNK_WEEKS)
        block = self._chunks.get(chunk)
        if block is None:
            if self._gen is None:
                self._key = world_key(self.entropy, self.world)
                self._gen = np.random.Generator(np.random.Philox(key=self._key))
            block = self._chunks[chunk] = np.empty((CHUNK_WEEKS, self.dealers, NOISE_COMPONENTS))
            _draw_chunk(self._gen, self._key, self.dealers, chunk, block)
            _logits(block)
        return block[offset]


@dataclass
class NoiseBatch:
    """The draws of several worlds stacked along the rollout axis: row k is exactly
    `Noise(entropy, dealers, worlds[k])`, so a batch rollout and the single session in that world
    agree bit for bit. For the analysis: common random numbers across the options it compares,
    because every option is run in the same worlds."""

    entropy: int
    dealers: int
    worlds: Sequence[int]
    _chunk: int = -1
    _block: np.ndarray | None = None
    _keys: list[np.ndarray] = field(default_factory=list)
    _gen: np.random.Generator | None = None

    def __post_init__(self) -> None:
        self.worlds = list(self.worlds)
        self._keys = [world_key(self.entropy, k) for k in self.worlds]
        self._gen = np.random.Generator(np.random.Philox(0))

    def week(self, w: int) -> np.ndarray:
        """Shape (len(worlds), dealers, NOISE_COMPONENTS)."""
        chunk, offset = divmod(w, CHUNK_WEEKS)
        if chunk != self._chunk or self._block is None:
            block = np.empty((CHUNK_WEEKS, len(self.worlds), self.dealers, NOISE_COMPONENTS))
            for k, key in enumerate(self._keys):
                _draw_chunk(self._gen, key, self.dealers, chunk, block[:, k])
            self._block, self._chunk = _logits(block), chunk  # one chunk at a time: memory stays small
        return self._block[offset]

    def take(self, rows: Sequence[int]) -> "NoiseBatch":
        """The given rows as a batch of their own: the chunk already drawn is sliced, not drawn again."""
        rows = list(rows)
        other = copy.copy(self)
        other.worlds = [self.worlds[r] for r in rows]
        other._keys = [self._keys[r] for r in rows]
        other._block = None if self._block is None else self._block[:, rows]
        return other


class SeedsNoise(NoiseBatch):
    """The draws of a batch whose row r is world 0 of its own seed: row r is exactly
    `Noise(entropies[r], dealers, 0)`, what a session of that seed sees (the balance report plays
    one run per seed this way)."""

    def __init__(self, entropies: Sequence[int], dealers: int):
        self.entropies = list(entropies)
        super().__init__(self.entropies[0], dealers, [0] * len(self.entropies))
        self._keys = [world_key(e, 0) for e in self.entropies]

    def take(self, rows: Sequence[int]) -> "SeedsNoise":
        other = super().take(rows)
        other.entropies = [self.entropies[r] for r in rows]
        return other  # type: ignore[return-value]


# ------------------------------------------------------------------ state


@dataclass(slots=True)
class MarketState:
    """All market state.

    Shapes (R = rollouts, n = dealers): dealer arrays (R, n); channel-wide values (R,); rings of
    recent weeks (k, R, n), slot = week % k; clocks (3, R, n); proven cases (n, R, n) indexed
    [victim, rollout, diverter]; the pair geometry (n, n, R) indexed [victim, diverter, rollout].
    The layouts keep numpy's inner loops long and its reductions on the leading axis (small arrays
    are dominated by per-call cost). `week` is shared by the batch."""

    ROLLOUT_AXIS_1: ClassVar[frozenset[str]] = frozenset(
        {"clocks", "sales_hist", "lost_hist", "orders_hist", "diverted_hist", "detected_hist", "overdue_hist",
         "sell_in_hist", "purchases", "cases", "case_units"}
    )
    ROLLOUT_AXIS_2: ClassVar[frozenset[str]] = frozenset({"transport", "cross", "reach_cost"})

    week: int
    # stock and orders
    stock: np.ndarray
    supply_line: np.ndarray  # the dealer's own reorders placed, arriving next week
    forecast: np.ndarray
    capability: np.ndarray  # demand multiplier from training (1 = none; 0 after termination)
    competitor_share: np.ndarray
    grey_stock: np.ndarray  # diverted goods sitting on this dealer's territory's market
    active: np.ndarray  # 1 while the dealer holds a contract, 0 after termination
    territory: np.ndarray  # territory index (int)
    # relationship, price and incentives
    trust: np.ndarray
    price_index: np.ndarray
    weeks_since_visit: np.ndarray
    promo_lift: np.ndarray
    support_pct: np.ndarray  # price support, share of list per unit sold
    rebate_volume: np.ndarray  # rebate rates as shares (0.03 = 3%)
    rebate_sell: np.ndarray
    rebate_earned: np.ndarray  # rebate credited since the rebates were set
    target_pressure: np.ndarray
    incentive_logit: np.ndarray  # derived: target pressure and volume-rebate terms of the diversion logit
    enforcement_logit: np.ndarray  # derived (R,): constant and enforcement terms of the diversion logit
    expected_fine: np.ndarray  # derived (R,): detection × enforcement × fine, a share of list per unit
    cost_after_rebate: np.ndarray  # derived: the dealer's cost after volume rebates, as a share of list
    # money (units' worth: one unit at our price to the dealer)
    receivables: np.ndarray
    due: np.ndarray  # the part of receivables past its due date, unpaid (overdue)
    not_due: np.ndarray  # invoices that have not yet reached their due date
    cash: np.ndarray
    pay_weeks: np.ndarray  # payment terms in weeks (int)
    credit_limit: np.ndarray  # inf = none
    discount: np.ndarray  # early-payment discount, share
    company_spend: np.ndarray  # rebates, support, compensation and buy-backs paid to the dealer
    # diversion and conflict
    complaints_open: np.ndarray  # victim: unresolved diversion incidents into its territory
    case_age: np.ndarray  # diverter: weeks its oldest proven, unpenalised case has been open
    open_cases: np.ndarray  # diverter: proven incidents not yet penalised
    # cumulative counters
    sell_in: np.ndarray
    sales_total: np.ndarray
    lost_total: np.ndarray
    stockout_weeks: np.ndarray
    diverted_total: np.ndarray  # units this dealer diverted
    diversion_count: np.ndarray  # incidents by this dealer
    detected_count: np.ndarray
    complaints_total: np.ndarray  # incidents into this dealer's territory
    # channel-wide (R,)
    detection: np.ndarray
    enforcement: np.ndarray
    fine: np.ndarray
    # clocks (3, R, n): weeks left of the promotion, price support and rebates (CLOCK_*)
    clocks: np.ndarray
    # rings (k, R, n)
    sales_hist: np.ndarray  # sell-through, 4 weeks
    lost_hist: np.ndarray  # 4 weeks
    orders_hist: np.ndarray  # the dealer's own reorders, 4 weeks
    diverted_hist: np.ndarray  # units diverted by the dealer, 4 weeks
    detected_hist: np.ndarray  # proven incidents by the dealer, 4 weeks
    overdue_hist: np.ndarray  # overdue at the end of each week, 5 weeks
    sell_in_hist: np.ndarray  # our sales to the dealer (its reorders and our orders), SELL_IN_WEEKS weeks
    purchases: np.ndarray  # invoices by week, AGE_WEEKS weeks (for the due dates)
    # pair geometry (n, n, R): [victim j, diverter i, rollout]
    transport: np.ndarray  # share of list price per unit moved i → j
    cross: np.ndarray  # 1 where i may divert into j's territory (another territory, both active)
    reach_cost: np.ndarray  # transport, plus 4 (no margin can survive it) where i may not divert into j
    # proven cases (n, R, n): [victim j, rollout, diverter i]
    cases: np.ndarray  # proven incidents i → j not yet penalised
    case_units: np.ndarray  # units diverted in those incidents

    def arrays(self) -> Iterable[tuple[str, np.ndarray]]:
        for name, _ in _AXES:
            yield name, getattr(self, name)

    def _axis(self, name: str) -> int:
        return 2 if name in self.ROLLOUT_AXIS_2 else 1 if name in self.ROLLOUT_AXIS_1 else 0

    def copy(self) -> "MarketState":
        other = object.__new__(MarketState)
        other.week = self.week
        for name, _ in _AXES:
            setattr(other, name, getattr(self, name).copy())
        return other

    def repeat(self, n: int) -> "MarketState":
        """Each rollout of this state repeated n times along the rollout axis (a batch from one state)."""
        return MarketState(week=self.week, **{k: np.repeat(v, n, axis=self._axis(k)) for k, v in self.arrays()})

    def rollout(self, r: int) -> "MarketState":
        """Rollout r alone, as a one-rollout state."""
        return self.take([r])

    def take(self, rows: Sequence[int]) -> "MarketState":
        """The given rollouts, in that order, as a new batch."""
        index = np.asarray(rows, dtype=np.intp)
        other = object.__new__(MarketState)
        other.week = self.week
        for name, axis in _AXES:  # ndarray.take is np.take without its wrapper: the same copy, in C order
            setattr(other, name, getattr(self, name).take(index, axis))
        return other

    @staticmethod
    def stack(states: Sequence["MarketState"]) -> "MarketState":
        """Several states of the same week as one batch, in order."""
        first = states[0]
        assert all(s.week == first.week for s in states), "states to stack must be at the same week"
        return MarketState(
            week=first.week, **{k: np.concatenate([getattr(s, k) for s in states], axis=first._axis(k)) for k, _ in first.arrays()}
        )

    @property
    def rollouts(self) -> int:
        return self.stock.shape[0]


_AXES: tuple[tuple[str, int], ...] = tuple(  # every array field of MarketState and its rollout axis
    (f.name, MarketState._axis(MarketState, f.name)) for f in fields(MarketState) if f.name != "week"
)


class Market:
    """Parameters of one scenario's market, the weekly update rule, the levers and the observables."""

    def __init__(self, spec: MarketSpec):
        self.spec = spec
        dealers = spec.dealers
        self.ids = [d.id for d in dealers]
        self.index = {d: j for j, d in enumerate(self.ids)}
        self.n = len(self.ids)
        self.cycle_weeks = spec.weeks_per_cycle
        self.safety_weeks = SAFETY_CYCLES * self.cycle_weeks

        def vec(values) -> np.ndarray:
            return np.array(list(values), dtype=float)

        self.mean = vec(d.demand.mean for d in dealers)
        cv = vec(d.demand.cv for d in dealers)
        self.sigma = np.sqrt(np.log1p(cv**2))
        self.half_var = 0.5 * self.sigma**2
        self.adjust = vec(d.adjust_weeks for d in dealers)
        self.target_weeks = vec(d.target_cover_cycles for d in dealers) * self.cycle_weeks
        self.price0 = vec(d.price_index for d in dealers)
        self.cost = 1.0 - vec(d.margin_pct for d in dealers) / 100.0  # the dealer's cost as a share of list
        self.list_value = 1.0 / np.maximum(self.cost, 0.2)  # list price in units' worth (our price = 1)
        self.share0 = vec(d.competitor_share for d in dealers)
        self.elasticity = spec.price_elasticity
        season_len = max([len(d.demand.season) for d in dealers] + [1])
        season = np.ones((season_len, self.n))
        for j, d in enumerate(dealers):
            if d.demand.season:
                season[:, j] = np.resize(np.array(d.demand.season, dtype=float), season_len)
        self.season = season
        self.season_len = season_len
        # precomputed for the weekly update (fewer numpy calls per week)
        self.base = self.mean * season / (1.0 - self.share0)  # demand at full share, per week of the season
        self.inv_safety = 1.0 / self.safety_weeks
        self.adjust_share = np.minimum(self.cycle_weeks / self.adjust, 1.0)  # share of the stock gap closed per review
        self.cash_cap = CASH_CYCLES * self.cycle_weeks
        self.count_back = [[(w - k) % SELL_IN_WEEKS for k in range(1, SELL_IN_WEEKS)] for w in range(SELL_IN_WEEKS)]
        self.overdue_signal = OVERDUE_SIGNAL * self.cycle_weeks * self.mean
        self.inv_price0 = 1.0 / self.price0
        self.price_near_max = bool(self.price0.max() > 0.8 * PRICE_MAX)  # otherwise P stays far below PRICE_MAX
        self.neg_elasticity = -self.elasticity
        self.div_const = DIV_INTERCEPT + 0.5 * DIV_TRUST
        self.victims = np.arange(self.n)[:, None, None]
        slots = np.arange(AGE_WEEKS)
        self.ages = ((slots[:, None] - slots[None, :]) % AGE_WEEKS)[:, :, None, None]  # [week % AGE][slot]: age
        names = territories(spec)
        self.territories = names
        self.territory_index = {t: k for k, t in enumerate(names)}
        cost = np.full((len(names), len(names)), float(spec.transport_cost))
        for pair in spec.transport:
            a, b = (self.territory_index[t] for t in pair.between)
            cost[a, b] = cost[b, a] = pair.cost
        np.fill_diagonal(cost, 0.0)
        self.transport_table = cost
        self._starts: dict[int, MarketState] = {}  # the starting state by number of rollouts, built once

    # ------------------------------------------------------------ state

    def initial(self, rollouts: int = 1) -> MarketState:
        """The scenario's starting state, the same in each of `rollouts` rollouts."""
        start = self._starts.get(rollouts)
        if start is None:
            one = self._starts.get(1) or self._build_initial(1)
            start = self._starts.setdefault(rollouts, one if rollouts == 1 else one.repeat(rollouts))
        return start.copy()

    def _build_initial(self, rollouts: int) -> MarketState:
        n, spec = self.n, self.spec
        dealers = spec.dealers
        R = rollouts

        def arr(values) -> np.ndarray:
            return np.tile(np.asarray(list(values), dtype=float), (R, 1))

        def zeros() -> np.ndarray:
            return np.zeros((R, n))

        def ring(k: int, value: np.ndarray | float = 0.0) -> np.ndarray:
            return np.tile(np.broadcast_to(np.asarray(value, dtype=float), (R, n)), (k, 1, 1))

        mean = arr(self.mean)
        pay_weeks = np.tile(np.array([min(round(d.payment_days / 7), AGE_WEEKS - 1) for d in dealers]), (R, 1))
        receivables = arr(d.receivables for d in dealers)
        # the opening balance: invoices spread over the last `terms` weeks, falling due one by one
        purchases = np.zeros((AGE_WEEKS, R, n))
        due = zeros()
        for j in range(n):
            terms = int(pay_weeks[0, j])
            if terms == 0:
                due[:, j] = receivables[:, j]
            for k in range(terms):
                purchases[(-k) % AGE_WEEKS, :, j] = receivables[:, j] / terms
        sell_in_hist = ring(SELL_IN_WEEKS, mean)
        sell_in_hist[0] = 0.0  # week 0's purchases accumulate here
        vr = arr(d.rebate_pct / 100.0 if d.rebate_basis == "volume" else 0.0 for d in dealers)
        sr = arr(d.rebate_pct / 100.0 if d.rebate_basis == "sell_through" else 0.0 for d in dealers)
        s = MarketState(
            week=0,
            stock=arr(d.stock for d in dealers),
            supply_line=zeros(),
            forecast=mean.copy(),
            capability=np.ones((R, n)),
            competitor_share=arr(self.share0),
            grey_stock=zeros(),
            active=np.ones((R, n)),
            territory=np.tile(np.array([self.territory_index[d.territory] for d in dealers]), (R, 1)),
            trust=arr(d.trust for d in dealers),
            price_index=arr(self.price0),
            weeks_since_visit=zeros(),
            promo_lift=zeros(),
            support_pct=zeros(),
            rebate_volume=vr,
            rebate_sell=sr,
            rebate_earned=zeros(),
            target_pressure=arr(spec.target_pressure if d.target_pressure is None else d.target_pressure for d in dealers),
            incentive_logit=zeros(),
            enforcement_logit=np.zeros(R),
            expected_fine=np.zeros(R),
            cost_after_rebate=zeros(),
            receivables=receivables,
            due=due,
            not_due=zeros(),
            cash=mean.copy(),  # a week of purchases in hand
            pay_weeks=pay_weeks,
            credit_limit=arr(np.inf if d.credit_limit is None else d.credit_limit for d in dealers),
            discount=zeros(),
            company_spend=zeros(),
            complaints_open=zeros(),
            case_age=zeros(),
            open_cases=zeros(),
            sell_in=zeros(),
            sales_total=zeros(),
            lost_total=zeros(),
            stockout_weeks=zeros(),
            diverted_total=zeros(),
            diversion_count=zeros(),
            detected_count=zeros(),
            complaints_total=zeros(),
            detection=np.full(R, float(spec.detection)),
            enforcement=np.full(R, float(spec.enforcement)),
            fine=np.full(R, float(spec.fine)),
            clocks=np.stack([zeros(), zeros(), np.where((vr + sr) > 0, 13.0, 0.0)]),
            sales_hist=ring(4, mean),
            lost_hist=ring(4),
            orders_hist=ring(4, mean),
            diverted_hist=ring(4),
            detected_hist=ring(4),
            overdue_hist=ring(5),
            sell_in_hist=sell_in_hist,
            purchases=purchases,
            transport=np.zeros((n, n, R)),
            cross=np.zeros((n, n, R)),
            reach_cost=np.zeros((n, n, R)),
            cases=np.zeros((n, R, n)),
            case_units=np.zeros((n, R, n)),
        )
        self._update_pairs(s)
        self._update_incentives(s)
        self._update_enforcement(s)
        s.not_due = self._not_due(s)
        return s

    def _not_due(self, s: MarketState) -> np.ndarray:
        """Invoices that have not yet fallen due, between weeks: an invoice of week w₀ falls due at the
        end of week w₀ + terms, so at week W it is still open while W − w₀ ≤ terms."""
        return np.add.reduce(np.where(self.ages[s.week % AGE_WEEKS] <= s.pay_weeks, s.purchases, 0.0), axis=0)

    def _update_enforcement(self, s: MarketState) -> None:
        """The parts of the diversion logit and floor that change only with detection, enforcement and the fine."""
        strength = s.detection * s.enforcement  # the chance a diversion is caught and penalised
        s.enforcement_logit = self.div_const - DIV_ENFORCEMENT * strength
        s.expected_fine = strength * s.fine

    def _update_incentives(self, s: MarketState) -> None:
        """The parts of the diversion logit and floor that change only with rebates and target pressure."""
        s.incentive_logit = s.target_pressure * DIV_PRESSURE + s.rebate_volume * (100.0 * DIV_VOLUME_REBATE)
        s.cost_after_rebate = self.cost * (1.0 - s.rebate_volume)

    def _update_pairs(self, s: MarketState) -> None:
        """Transport costs and which ordered pairs can divert, from territories and contracts."""
        t = np.ascontiguousarray(s.territory.T)  # (n, R)
        victim, diverter = t[:, None, :], t[None, :, :]  # [victim, diverter, r]
        s.transport = np.ascontiguousarray(self.transport_table[victim, diverter])
        active = np.ascontiguousarray(s.active.T) > 0
        s.cross = np.ascontiguousarray(((victim != diverter) & active[:, None, :] & active[None, :, :]).astype(float))
        s.reach_cost = s.transport + (1.0 - s.cross) * 4.0

    def target_stock(self, s: MarketState) -> np.ndarray:
        """The course's safety stock: 1.5 cycles of the dealer's forecast."""
        return self.safety_weeks * s.forecast

    def weeks_of_cover(self, s: MarketState) -> np.ndarray:
        return s.stock / np.maximum(s.forecast, 1e-9)

    # ------------------------------------------------------------ levers

    def units_for_cover(self, s: MarketState, j: int, cycles: float) -> np.ndarray:
        """Units that bring stock up to `cycles` sales cycles of forecast cover (never negative)."""
        return np.maximum(cycles * self.cycle_weeks * s.forecast[:, j] - s.stock[:, j], 0.0)

    def trust_event(self, s: MarketState, j: int, units: float | np.ndarray) -> None:
        """A trust event of `units`: positive builds TRUST_UNIT points per unit, negative erodes
        TRUST_ASYMMETRY times as many (rel.visits_and_promises: trust is slow to build, quick to lose)."""
        units = np.asarray(units, dtype=float)
        points = np.where(units >= 0, TRUST_UNIT * units, TRUST_ASYMMETRY * TRUST_UNIT * units)
        s.trust[:, j] = np.clip(s.trust[:, j] + points, 0.0, 100.0)

    def _book_purchase(self, s: MarketState, j: int, units: np.ndarray) -> None:
        s.receivables[:, j] += units
        s.not_due[:, j] += units
        s.purchases[s.week % AGE_WEEKS, :, j] += units
        s.sell_in_hist[s.week % SELL_IN_WEEKS, :, j] += units
        s.sell_in[:, j] += units

    def order(self, s: MarketState, j: int, units: np.ndarray | float) -> np.ndarray:
        """We sell `units` to dealer j now. Taking cover above 1.5 cycles is a push: the pressure costs trust."""
        units = np.maximum(np.round(np.broadcast_to(np.asarray(units, dtype=float), (s.rollouts,))), 0.0) * s.active[:, j]
        before = np.maximum(self.weeks_of_cover(s)[:, j] / self.cycle_weeks, SAFETY_CYCLES)
        s.stock[:, j] += units
        self._book_purchase(s, j, units)
        after = self.weeks_of_cover(s)[:, j] / self.cycle_weeks
        self.trust_event(s, j, -TRUST_PUSH * np.minimum(np.maximum(after - before, 0.0), 20.0))
        return units

    def promotion(self, s: MarketState, j: int, lift_pct: float, weeks: int) -> None:
        s.promo_lift[:, j] = lift_pct / 100.0
        s.clocks[CLOCK_PROMO, :, j] = weeks

    def change_trust(self, s: MarketState, j: int, change: float) -> None:
        s.trust[:, j] = np.clip(s.trust[:, j] + change, 0.0, 100.0)

    def apply(self, s: MarketState, kind: str, p: Any) -> dict[str, Any]:
        """Carry out one market effect (`schema.MARKET_EFFECT_KINDS`) on every rollout of `s`.

        Returns what happened: values are (rollouts,) arrays or plain values; `Market.outcome`
        turns one rollout of it into plain JSON values for the record."""
        j = self.index[p.dealer] if hasattr(p, "dealer") else -1
        return getattr(self, f"_do_{kind}")(s, j, p)

    @staticmethod
    def outcome(result: dict[str, Any], r: int = 0) -> dict[str, Any]:
        """One rollout of `apply`'s result as plain JSON values (no numpy scalars)."""
        out: dict[str, Any] = {}
        for k, v in result.items():
            if isinstance(v, np.ndarray):
                v = v[r].item()
            elif isinstance(v, np.generic):
                v = v.item()
            out[k] = v
        return out

    def _cover_cycles(self, s: MarketState, j: int) -> np.ndarray:
        return self.weeks_of_cover(s)[:, j] / self.cycle_weeks

    def _do_order(self, s, j, p) -> dict[str, Any]:
        units = p.units if p.units is not None else self.units_for_cover(s, j, p.cover_cycles)
        done = self.order(s, j, units)
        return {"units": done, "cover_cycles": self._cover_cycles(s, j), "trust": s.trust[:, j].copy()}

    def _do_rebate(self, s, j, p) -> dict[str, Any]:
        rate = p.pct / 100.0 * s.active[:, j]
        if p.basis == "volume":
            s.rebate_volume[:, j] = rate
        else:
            s.rebate_sell[:, j] = rate
        s.clocks[CLOCK_REBATE, :, j] = p.weeks
        self._update_incentives(s)
        return {"pct": p.pct, "basis": p.basis, "weeks": p.weeks}

    def _do_price_support(self, s, j, p) -> dict[str, Any]:
        s.support_pct[:, j] = p.pct / 100.0
        s.clocks[CLOCK_SUPPORT, :, j] = p.weeks
        self.trust_event(s, j, 0.5)
        return {"pct": p.pct, "weeks": p.weeks, "trust": s.trust[:, j].copy()}

    def _do_promotion(self, s, j, p) -> dict[str, Any]:
        self.promotion(s, j, p.lift_pct, p.weeks)
        return {"lift_pct": p.lift_pct, "weeks": p.weeks}

    def _do_buy_back(self, s, j, p) -> dict[str, Any]:
        if p.source == "market":
            want = s.grey_stock[:, j] if p.units is None else np.full(s.rollouts, float(p.units))
            units = np.minimum(np.round(want), s.grey_stock[:, j])
            s.grey_stock[:, j] -= units
            resolved = s.complaints_open[:, j].copy()
            s.complaints_open[:, j] = 0.0
            s.company_spend[:, j] += units * self.list_value[j] * s.price_index[:, j]  # bought at the street price
            self.trust_event(s, j, np.where(resolved > 0, 1.0, 0.0))
            return {"source": "market", "units": units, "complaints_resolved": resolved, "trust": s.trust[:, j].copy()}
        if p.units is not None:
            want = np.full(s.rollouts, float(p.units))
        elif p.cover_cycles is not None:
            want = s.stock[:, j] - p.cover_cycles * self.cycle_weeks * s.forecast[:, j]
        else:
            want = s.stock[:, j] - self.target_stock(s)[:, j]
        units = np.clip(np.round(want), 0.0, s.stock[:, j])
        s.stock[:, j] -= units
        credit = np.minimum(units, s.receivables[:, j])  # credited against what it owes, the rest paid out
        s.receivables[:, j] -= credit
        s.due[:, j] = np.minimum(s.due[:, j], s.receivables[:, j])
        s.cash[:, j] += units - credit
        s.company_spend[:, j] += units
        self.trust_event(s, j, np.where(units > 0, 0.5, 0.0))
        return {"source": "warehouse", "units": units, "cover_cycles": self._cover_cycles(s, j), "trust": s.trust[:, j].copy()}

    def _do_visit(self, s, j, p) -> dict[str, Any]:
        gain = 0.5 * np.minimum(s.weeks_since_visit[:, j], VISIT_GAP) / VISIT_GAP + 0.1  # more after a long gap
        s.weeks_since_visit[:, j] = 0.0
        self.trust_event(s, j, gain)
        return {"trust": s.trust[:, j].copy(), "stock": s.stock[:, j].copy(), "cover_cycles": self._cover_cycles(s, j)}

    def _do_training(self, s, j, p) -> dict[str, Any]:
        s.capability[:, j] = np.minimum(s.capability[:, j] * (1.0 + p.lift_pct / 100.0), CAPABILITY_MAX)
        s.weeks_since_visit[:, j] = 0.0
        self.trust_event(s, j, 1.0)
        return {"lift_pct": p.lift_pct, "capability": s.capability[:, j].copy(), "trust": s.trust[:, j].copy()}

    def _do_credit_terms(self, s, j, p) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if p.payment_days is not None:
            s.pay_weeks[:, j] = min(round(p.payment_days / 7), AGE_WEEKS - 1)
            s.not_due = self._not_due(s)
            out["payment_days"] = p.payment_days
        if p.credit_limit is not None:
            s.credit_limit[:, j] = p.credit_limit
            out["credit_limit"] = p.credit_limit
        if p.early_payment_discount_pct is not None:
            s.discount[:, j] = p.early_payment_discount_pct / 100.0
            out["early_payment_discount_pct"] = p.early_payment_discount_pct
        return out

    def _penalty(self, s: MarketState, j: int, *, fair: float, unfair: float, victim: float, credibility: float) -> dict[str, Any]:
        """Shared by fine, warning and termination: close dealer j's proven cases and move trust.

        Fair (there is evidence: proven cases against j): j loses a little trust (`fair`), each
        victim gains (`victim`, half a unit more when the case is handled within CASE_GRACE weeks),
        and enforcement credibility rises. Unfair (no evidence): j loses much more (`unfair`),
        every other dealer loses some, and credibility does not rise (diversion.due_process)."""
        cases = s.cases[:, :, j].T.copy()  # (R, victims): proven incidents j → victim
        units = s.case_units[:, :, j].sum(axis=0)
        evidence = cases.sum(axis=1) > 0
        age = s.case_age[:, j].copy()
        fast = evidence & (age <= CASE_GRACE)
        self.trust_event(s, j, np.where(evidence, fair, unfair))
        points = np.where(cases > 0, victim + np.where(fast, 0.5, 0.0)[:, None], 0.0)
        for v in range(self.n):
            if v != j:
                self.trust_event(s, v, np.where(evidence, points[:, v], -0.2))
        s.complaints_open -= np.minimum(cases, s.complaints_open)
        s.cases[:, :, j] = 0.0
        s.case_units[:, :, j] = 0.0
        s.case_age[:, j] = 0.0
        s.open_cases[:, j] = 0.0
        s.enforcement = np.where(evidence, s.enforcement + credibility * (1.0 - s.enforcement), s.enforcement)
        self._update_enforcement(s)
        return {"evidence": evidence, "cases": cases.sum(axis=1), "case_units": units, "case_age_weeks": age, "fast": fast}

    def _do_fine(self, s, j, p) -> dict[str, Any]:
        rate = s.fine if p.per_unit is None else np.full(s.rollouts, float(p.per_unit))
        out = self._penalty(s, j, fair=-0.3, unfair=-1.5, victim=1.0, credibility=0.15)
        amount = out["case_units"] * rate * self.list_value[j]  # units' worth
        clawback = np.zeros(s.rollouts)
        if p.forfeit_rebate:
            clawback = s.rebate_earned[:, j].copy()
            s.rebate_volume[:, j] = s.rebate_sell[:, j] = s.clocks[CLOCK_REBATE, :, j] = s.rebate_earned[:, j] = 0.0
            self._update_incentives(s)
        charge = amount + clawback
        s.receivables[:, j] += charge
        s.due[:, j] += charge  # a penalty is due at once
        return {**out, "amount": amount, "rebate_clawback": clawback, "trust": s.trust[:, j].copy()}

    def _do_warning(self, s, j, p) -> dict[str, Any]:
        out = self._penalty(s, j, fair=-0.1, unfair=-0.7, victim=0.5, credibility=0.05)
        return {**out, "trust": s.trust[:, j].copy()}

    def _do_terminate(self, s, j, p) -> dict[str, Any]:
        out = self._penalty(s, j, fair=-1.0, unfair=-2.0, victim=1.5, credibility=0.3)
        returned = s.stock[:, j].copy()
        s.stock[:, j] = 0.0
        s.supply_line[:, j] = 0.0
        credit = np.minimum(returned, s.receivables[:, j])
        s.receivables[:, j] -= credit
        s.due[:, j] = np.minimum(s.due[:, j], s.receivables[:, j])
        s.active[:, j] = 0.0
        s.capability[:, j] = 0.0  # no more sales of ours in its territory
        s.competitor_share[:, j] = COMPETITOR_MAX
        s.rebate_volume[:, j] = s.rebate_sell[:, j] = s.clocks[CLOCK_REBATE, :, j] = 0.0
        self._update_pairs(s)
        self._update_incentives(s)
        return {**out, "stock_returned": returned, "trust": s.trust[:, j].copy()}

    def _do_territory_change(self, s, j, p) -> dict[str, Any]:
        s.territory[:, j] = self.territory_index[p.territory]
        self._update_pairs(s)
        return {"territory": p.territory}

    def _do_compensate(self, s, j, p) -> dict[str, Any]:
        s.cash[:, j] += p.amount
        s.company_spend[:, j] += p.amount
        resolved = s.complaints_open[:, j].copy()
        s.complaints_open[:, j] = 0.0
        self.trust_event(s, j, np.where(resolved > 0, 1.0, 0.5))
        return {"amount": p.amount, "complaints_resolved": resolved, "trust": s.trust[:, j].copy()}

    def _do_promise(self, s, j, p) -> dict[str, Any]:
        self.trust_event(s, j, 1.0 if p.kept else -1.0)
        return {"kept": p.kept, "trust": s.trust[:, j].copy()}

    def _do_channel_policy(self, s, j, p) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in ("detection", "enforcement", "fine"):
            value = getattr(p, name)
            if value is not None:
                getattr(s, name)[:] = value
                out[name] = value
        self._update_enforcement(s)
        if p.target_pressure is not None:
            s.target_pressure[:] = p.target_pressure
            out["target_pressure"] = p.target_pressure
            self._update_incentives(s)
        return out

    def _do_trust(self, s, j, p) -> dict[str, Any]:
        self.change_trust(s, j, p.change)
        return {"change": p.change, "trust": s.trust[:, j].copy()}

    # ------------------------------------------------------------ one week

    def advance(self, s: MarketState, z: np.ndarray) -> dict[str, np.ndarray]:
        """Simulate one week in place. `z` has shape (rollouts, dealers, NOISE_COMPONENTS).

        Returns the week's sampled outcomes, each (rollouts, dealers), for the record: demand (the
        dealer's own: sales + lost), market_demand (its territory's, diverted goods' share
        included), sales, lost, reorder, grey_sales (diverted goods sold on its market), diverted
        (units the dealer diverted), victim (index of the dealer whose territory they went to, −1
        if none) and detected (1 if traced to the dealer). Treat them as read-only.

        Written for few numpy calls per week (a single session is dominated by per-call cost):
        blocks that would change nothing for any rollout of the batch are skipped, which keeps the
        single and batch paths bit-identical (a skipped block would only have added exactly 0.0).
        """
        z = np.ascontiguousarray(z)
        w = s.week
        incentives = np.count_nonzero(s.clocks) > 0  # a promotion, price support or rebate is running
        running = s.clocks > 0.0 if incentives else None  # (3, R, n)
        # 1. the dealer's own reorders placed last week arrive
        stock = s.stock
        stock += s.supply_line
        s.supply_line.fill(0.0)
        # 2. end-customer demand: seasonal, promoted, trained, price-elastic, shared with the competitor
        c = s.competitor_share
        mult = self.base[w % self.season_len] * s.capability * (1.0 - c)
        if incentives and (np.count_nonzero(running[CLOCK_PROMO]) or np.count_nonzero(s.rebate_sell)):
            mult *= 1.0 + np.where(running[CLOCK_PROMO], s.promo_lift, 0.0) + SELL_THROUGH_LIFT * s.rebate_sell
        if self.elasticity:
            mult *= (s.price_index * self.inv_price0) ** self.neg_elasticity
        demand = np.rint(mult * np.exp(self.sigma * z[..., Z_DEMAND] - self.half_var))
        # 3. diverted goods on the territory's market sell first (they are cheaper)
        grey = s.grey_stock
        zero = np.zeros(demand.shape)
        grey_sales = zero
        own = demand
        has_grey = np.count_nonzero(grey) > 0
        if has_grey:
            grey_sales = np.minimum(grey, np.rint(GREY_TAKE * demand))
            grey -= grey_sales
            own = demand - grey_sales
        sales = np.minimum(stock, own)
        lost = own - sales
        stock -= sales
        s.forecast += FORECAST_ALPHA * (own - s.forecast)
        fcast = np.maximum(s.forecast, 1e-6)
        # 4. stock-outs cost trust and hand share to the competitor, whose extra share drifts back
        stockouts = np.count_nonzero(lost)
        trust_units = 0.0  # this week's trust events, in units (all erode)
        lost_share = 0.0
        if stockouts:
            lost_share = lost / np.maximum(own, 1.0)
            trust_units = lost_share * -TRUST_STOCKOUT
        if stockouts or np.count_nonzero(c != self.share0):  # otherwise nothing moves (it would add exactly 0)
            gained = (c - self.share0) * (1.0 - COMPETITOR_BACK)
            s.competitor_share = np.minimum(self.share0 + gained + COMPETITOR_GAIN * lost_share * (1.0 - c), COMPETITOR_MAX)
        ratio = stock / fcast * self.inv_safety  # the overstock index (1 = 1.5 cycles of cover)
        # 5. diversion (窜货): ordered pairs i → j with a positive net arbitrage margin
        diverted = detected = zero
        victim = zero - 1.0
        if np.count_nonzero(s.cross):
            base = (
                np.minimum(np.maximum(ratio - 1.0, 0.0), OVERSTOCK_CAP) * DIV_OVERSTOCK
                + s.incentive_logit  # target pressure and volume rebates
                + s.trust * (-DIV_TRUST / 100.0)
                + s.enforcement_logit[:, None]  # the intercept, less detection × enforcement credibility
            )
            # the diverter's floor: its break-even price after volume rebates, plus the expected fine
            floor = s.cost_after_rebate + s.expected_fine[:, None]
            # [victim, diverter, r]: victim's price − transport (pairs that cannot divert: 4 lower still)
            reach = np.ascontiguousarray(s.price_index.T)[:, None, :] - s.reach_cost
            # the logit differs between victims only through the margin, so a diverter's best pair is
            # its widest margin: one incident a week at most, with that pair's probability
            best = np.ascontiguousarray(np.maximum.reduce(reach, axis=0).T) - floor
            event = (z[..., L_DIVERT] < base + DIV_MARGIN * best) & (best > 0.0)  # u < σ(logit), in logit space
            if np.count_nonzero(event):
                # incidents, one per (rollout, diverter) in row order; each draws its victim in
                # proportion to the pairs' probabilities (inverse CDF over victims, cumulative sums only)
                r, i = np.nonzero(event)
                margin = reach[:, i, r] - floor[r, i]  # (victims, incidents)
                p = (margin > 0.0) / (1.0 + np.exp(-(base[r, i] + DIV_MARGIN * margin)))  # bounded logit: no overflow
                csum = p.cumsum(axis=0)
                pick = np.minimum(np.add.reduce(csum <= z[r, i, U_VICTIM] * csum[-1], axis=0), self.n - 1)
                f = fcast[r, i]
                size = np.minimum(
                    DIV_BASE_WEEKS * f + DIV_EXCESS * np.maximum(stock[r, i] - self.safety_weeks * f, 0.0),
                    DIV_VICTIM_WEEKS * fcast[r, pick],
                ) * np.exp(DIV_UNITS_SD * z[r, i, Z_DIVERT_UNITS] - 0.5 * DIV_UNITS_SD**2)
                units = np.minimum(np.maximum(np.rint(size), 1.0), stock[r, i])
                keep = units > 0.0
                r, i, pick, units = r[keep], i[keep], pick[keep], units[keep]
                traced = (z[r, i, U_DETECT] < s.detection[r]).astype(float)
                # as whole (rollout, dealer) arrays: the diverter's side …
                diverted = zero.copy()
                diverted[r, i] = units
                detected = zero.copy()
                detected[r, i] = traced
                victim = zero - 1.0
                victim[r, i] = pick
                stock -= diverted
                s.diversion_count += np.minimum(diverted, 1.0)  # units are whole: 1 per incident
                s.detected_count += detected
                s.diverted_total += diverted
                street = s.price_index[r, pick] - s.transport[pick, i, r]  # what it gets on the victim's market
                s.cash[r, i] += units * np.maximum(street, 0.0) * self.list_value[i]
                # … and the victim's: goods and complaints summed per victim, in (rollout, diverter) order
                cell = r * self.n + pick
                grey += np.bincount(cell, weights=units, minlength=stock.size).reshape(stock.shape)
                incidents = np.bincount(cell, minlength=stock.size).reshape(stock.shape)
                s.complaints_open += incidents
                s.complaints_total += incidents
                has_grey = True
                if np.count_nonzero(traced):
                    s.cases[pick, r, i] += traced
                    s.case_units[pick, r, i] += traced * units
                    s.open_cases += detected
                ratio = stock / fcast * self.inv_safety
        # 6. conflict handling: unresolved complaints erode the victim's trust; stale proven cases, credibility
        if np.count_nonzero(s.complaints_open):
            trust_units = trust_units - TRUST_COMPLAINT * np.minimum(s.complaints_open, 1.0)  # counts: 1 if any
        if np.count_nonzero(s.open_cases):  # (with no open case every case age is already 0)
            s.case_age = np.where(s.open_cases > 0.0, s.case_age + 1.0, 0.0)
            stale = np.logical_or.reduce(s.case_age > CASE_GRACE, axis=1)
            if np.count_nonzero(stale):
                s.enforcement = np.where(stale, s.enforcement * (1.0 - CREDIBILITY_DECAY), s.enforcement)
                self._update_enforcement(s)
        # 7. the dealer's own reorder, once per sales cycle (the replenishment period), arriving next
        #    week: Sterman's anchoring and adjustment — expected sales over a cycle, plus a share of
        #    the gap between the stock it wants after delivery and the stock it has
        reorder = zero
        slot = w % AGE_WEEKS
        if (w + 1) % self.cycle_weeks == 0:
            wanted = self.target_weeks * s.forecast * (1.0 + REBATE_STOCK * 100.0 * s.rebate_volume)
            gap = wanted - s.forecast * self.cycle_weeks - stock  # desired minus projected stock at the next review
            reorder = np.rint(np.maximum(s.forecast * self.cycle_weeks + gap * self.adjust_share, 0.0)) * s.active
            reorder = np.minimum(reorder, np.floor(np.maximum(s.credit_limit - s.receivables, 0.0)))
            s.supply_line += reorder
            s.receivables += reorder
            s.not_due += reorder
            s.purchases[slot] += reorder
            s.sell_in_hist[w % SELL_IN_WEEKS] += reorder
            s.sell_in += reorder
        # 8. stock-adjustment pricing: overstock beyond the band and diverted goods erode the price;
        #    an error-correction term pulls it back towards the dealer's normal price
        price = s.price_index
        erosion = np.minimum(np.maximum(ratio - (1.0 + PRICE_BAND), 0.0), PRICE_OVERSTOCK_CAP) * PRICE_EROSION
        has_support = incentives and np.count_nonzero(running[CLOCK_SUPPORT]) > 0
        if has_support:
            supported = running[CLOCK_SUPPORT]
            support = np.where(supported, s.support_pct, 0.0)
            erosion *= np.maximum(1.0 - support * (1.0 / SUPPORT_FULL), 0.0)
        if has_grey:
            erosion += GREY_PRICE * np.minimum(grey / fcast, GREY_PRICE_CAP)
        new_price = price * (1.0 - erosion) + PRICE_RECOVERY * (self.price0 - price)
        s.price_index = np.maximum(new_price + PRICE_NOISE * z[..., Z_PRICE], PRICE_MIN)
        if self.price_near_max:  # recovery pulls towards a normal price near the top: keep the noise under it
            s.price_index = np.minimum(s.price_index, PRICE_MAX)
        # 9. money: paid at the week's price for what it sold, credited its rebates and support, it
        #    pays what has fallen due (invoices older than its terms), oldest first
        cash = s.cash + sales * price * self.list_value
        has_rebate = incentives and np.count_nonzero(running[CLOCK_REBATE]) > 0
        if has_rebate:
            credit = s.rebate_volume * s.purchases[slot] + s.rebate_sell * sales
            s.rebate_earned += credit
            s.company_spend += credit
            cash += credit
        if has_support:
            paid = support * sales * self.list_value
            s.company_spend += paid
            cash += paid
        turning = (w - s.pay_weeks) % AGE_WEEKS  # invoices reaching their due date this week (terms 0: this week's)
        s.not_due -= s.purchases.reshape(AGE_WEEKS, -1)[turning.ravel(), np.arange(turning.size)].reshape(turning.shape)
        due = np.maximum(s.receivables - s.not_due, 0.0)
        willing = np.minimum(PAY_BASE + PAY_TRUST / 100.0 * s.trust, 1.0)
        pay = np.minimum(due, cash * willing)
        s.receivables -= pay
        cash -= pay
        s.due = due - pay
        if np.count_nonzero(s.discount):
            early = np.minimum((s.receivables - s.due) * (1.0 - s.discount), cash * willing) * (s.discount > 0.0)
            cleared = np.minimum(early / (1.0 - s.discount), s.receivables - s.due)
            cash -= early
            s.receivables -= cleared
            s.company_spend += cleared - early
        s.cash = np.minimum(cash, self.cash_cap * s.forecast)
        s.purchases[(w + 1) % AGE_WEEKS] = 0.0
        s.sell_in_hist[(w + 1) % SELL_IN_WEEKS] = 0.0
        # 10. neglect, trust, clocks and history
        visit = s.weeks_since_visit
        visit += 1.0
        trust_units = trust_units - TRUST_NEGLECT * np.minimum(np.maximum(visit - VISIT_GAP, 0.0), 1.0)  # weeks are whole
        s.trust = np.maximum(s.trust + (TRUST_ASYMMETRY * TRUST_UNIT) * trust_units, 0.0)  # only losses here
        if incentives:
            s.clocks = np.maximum(s.clocks - 1.0, 0.0)
        if has_rebate and np.count_nonzero(running[CLOCK_REBATE] & (s.clocks[CLOCK_REBATE] == 0.0)):  # a rebate ended
            live = s.clocks[CLOCK_REBATE] > 0.0
            s.rebate_volume = s.rebate_volume * live
            s.rebate_sell = s.rebate_sell * live
            self._update_incentives(s)
        k4 = w % 4
        s.sales_hist[k4] = sales
        s.lost_hist[k4] = lost
        s.orders_hist[k4] = reorder
        s.diverted_hist[k4] = diverted
        s.detected_hist[k4] = detected
        s.overdue_hist[w % 5] = s.due
        s.sales_total += sales
        s.lost_total += lost
        if stockouts:
            s.stockout_weeks += np.minimum(lost, 1.0)  # lost is a whole number of units
        s.week = w + 1
        return {
            "demand": own,
            "market_demand": demand,
            "sales": sales,
            "lost": lost,
            "reorder": reorder,
            "grey_sales": grey_sales,
            "diverted": diverted,
            "victim": victim,
            "detected": detected,
        }

    def run(self, s: MarketState, noise: Noise | NoiseBatch, weeks: int) -> list[dict[str, np.ndarray]]:
        """`weeks` weeks in place with the given noise (`Noise` for one rollout, `NoiseBatch` for a batch)."""
        outs = []
        for _ in range(weeks):
            z = noise.week(s.week)
            outs.append(self.advance(s, z[None] if z.ndim == 2 else z))
        return outs

    # ------------------------------------------------------------ what conditions and dashboards see

    DEALER_FIELDS = (
        "stock",
        "weeks_of_cover",
        "cover_cycles",
        "sell_through_4w",
        "lost_sales_4w",
        "stockout_weeks_4w",
        "orders_4w",
        "sell_in_4w",
        "price_index",
        "trust",
        "receivables",
        "overdue",
        "dso",
        "credit_limit",
        "warnings",
        *(f"warning_{w}" for w in WARNING_NAMES),
        "competitor_share",
        "grey_stock",
        "complaints",
        "diverted_4w",
        "diversion_events",
        "open_cases",
        "case_age",
        "rebate_pct",
        "company_spend",
        "active",
    )
    MARKET_FIELDS = (
        "week",
        "stockouts_4w",
        "diversion_events",
        "diversion_4w",
        "diversion_detected",
        "complaints",
        "open_cases",
        "price_gap",
        "competitor_share",
        "detection",
        "enforcement",
        "target_pressure",
    )
    EVENT_FIELDS = ("diversion", "diversion_detected", "complaint", "stockout")

    def dso(self, s: MarketState) -> np.ndarray:
        """Days sales outstanding by the count-back method: what the dealer owes, less this week's
        invoices (0 days old), is matched against our sales to it week by week going back, each
        week counting 7 days; beyond the weeks on record (a quarter), at their average daily rate."""
        today = s.sell_in_hist[s.week % SELL_IN_WEEKS]
        past = s.sell_in_hist[self.count_back[s.week % SELL_IN_WEEKS]]  # completed weeks, newest first
        owed = np.maximum(s.receivables - today, 0.0)
        before = past.cumsum(axis=0) - past
        share = np.clip((owed - before) / np.maximum(past, 1e-9), 0.0, 1.0)  # of each week needed to reach `owed`
        beyond = np.maximum(owed - before[-1] - past[-1], 0.0)
        daily = np.maximum((before[-1] + past[-1] + today) / (7.0 * SELL_IN_WEEKS), DSO_FLOOR * self.mean / 7.0)
        return 7.0 * share.sum(axis=0) + beyond / daily

    def warnings(self, s: MarketState) -> dict[str, np.ndarray]:
        """The course's warning signs the model can show, each (rollouts, dealers) of 0/1.

        Ours: PRINCIPLES.md (credit.warning_signals) marks the contents of the twelve arrears
        signals as proposed; each flag here names the proposed signal it stands for (docs/MODEL.md)."""
        cover_cycles = self.weeks_of_cover(s) / self.cycle_weeks
        five_weeks_back = s.overdue_hist[s.week % 5]  # 0 before week 5
        flags = {
            "dso_high": self.dso(s) > self.spec.dso_warning_days,
            "overdue_growing": (s.due > self.overdue_signal) & (s.due > five_weeks_back),
            "over_credit_limit": s.receivables > s.credit_limit,
            "orders_below_sales": (s.orders_hist.sum(axis=0) < 0.75 * s.sales_hist.sum(axis=0)) & (cover_cycles > SAFETY_CYCLES),
            "price_below_floor": s.price_index < self.spec.price_floor,
            "diversion_detected": s.detected_hist.sum(axis=0) > 0,
        }
        return {k: v * s.active for k, v in flags.items()}

    def dealer_metrics(self, s: MarketState) -> dict[str, np.ndarray]:
        """Every dealer field, each (rollouts, dealers)."""
        cover = self.weeks_of_cover(s)
        flags = self.warnings(s)
        recent4 = [(s.week - k) % SELL_IN_WEEKS for k in range(4)]
        return {
            "stock": s.stock,
            "weeks_of_cover": cover,
            "cover_cycles": cover / self.cycle_weeks,
            "sell_through_4w": s.sales_hist.sum(axis=0),
            "lost_sales_4w": s.lost_hist.sum(axis=0),
            "stockout_weeks_4w": (s.lost_hist > 0).sum(axis=0).astype(float),
            "orders_4w": s.orders_hist.sum(axis=0),
            "sell_in_4w": s.sell_in_hist[recent4].sum(axis=0),
            "price_index": s.price_index,
            "trust": s.trust,
            "receivables": s.receivables,
            "overdue": s.due,
            "dso": self.dso(s),
            "credit_limit": np.where(np.isfinite(s.credit_limit), s.credit_limit, 0.0),
            "warnings": sum(flags.values()),
            **{f"warning_{k}": v for k, v in flags.items()},
            "competitor_share": np.maximum(s.competitor_share, 1.0 - s.active),  # all of it after termination
            "grey_stock": s.grey_stock,
            "complaints": s.complaints_open,
            "diverted_4w": s.diverted_hist.sum(axis=0),
            "diversion_events": s.diversion_count,
            "open_cases": s.open_cases,
            "case_age": s.case_age,
            "rebate_pct": 100.0 * (s.rebate_volume + s.rebate_sell),
            "company_spend": s.company_spend,
            "active": s.active,
        }

    def market_metrics(self, s: MarketState) -> dict[str, np.ndarray]:
        """Every market field and event count, each (rollouts,)."""
        active = s.active > 0
        price_hi = np.where(active, s.price_index, -np.inf).max(axis=1)
        price_lo = np.where(active, s.price_index, np.inf).min(axis=1)
        weight = self.mean / self.mean.sum()
        return {
            "market.week": np.full(s.rollouts, float(s.week)),
            "market.stockouts_4w": (s.lost_hist > 0).sum(axis=(0, 2)).astype(float),
            "market.diversion_events": s.diversion_count.sum(axis=1),
            "market.diversion_4w": (s.diverted_hist > 0).sum(axis=(0, 2)).astype(float),
            "market.diversion_detected": s.detected_count.sum(axis=1),
            "market.complaints": s.complaints_open.sum(axis=1),
            "market.open_cases": s.open_cases.sum(axis=1),
            "market.price_gap": np.where(active.any(axis=1), price_hi - price_lo, 0.0),
            "market.competitor_share": (np.maximum(s.competitor_share, 1.0 - s.active) * weight).sum(axis=1),
            "market.detection": s.detection.copy(),
            "market.enforcement": s.enforcement.copy(),
            "market.target_pressure": (s.target_pressure * weight).sum(axis=1),
            "events.diversion": s.diversion_count.sum(axis=1),
            "events.diversion_detected": s.detected_count.sum(axis=1),
            "events.complaint": s.complaints_total.sum(axis=1),
            "events.stockout": s.stockout_weeks.sum(axis=1),
        }

    def observe(self, s: MarketState, r: int = 0) -> dict[str, float]:
        """Every observable state path (`dealer.<id>.<field>`, `market.<field>`, `events.<kind>`) for rollout r."""
        return {name: float(v[r]) for name, v in self.observe_all(s).items()}

    def observe_all(self, s: MarketState) -> dict[str, np.ndarray]:
        """Every observable state path for all rollouts at once: path -> (rollouts,) array."""
        out = dict(self.market_metrics(s))
        for name, values in self.dealer_metrics(s).items():
            for j, dealer in enumerate(self.ids):
                out[f"dealer.{dealer}.{name}"] = values[:, j]
        return out

    def observable_names(self) -> list[str]:
        names = [f"market.{f}" for f in self.MARKET_FIELDS] + [f"events.{f}" for f in self.EVENT_FIELDS]
        for dealer in self.ids:
            names += [f"dealer.{dealer}.{f}" for f in self.DEALER_FIELDS]
        return names

    def observed(self, s: MarketState) -> "Observed":
        """The observables of `s`, each computed when first read (a condition reads one or two of them)."""
        return Observed(self, s)

    def _dealer_field(self, s: MarketState, name: str, view: "Observed") -> np.ndarray:
        """One dealer field, (rollouts, dealers): the same expression as in dealer_metrics, so the same bits."""
        if name == "weeks_of_cover":
            return view.cover()
        if name == "cover_cycles":
            return view.cover() / self.cycle_weeks
        if name == "warnings":
            return sum(view.flags().values())
        if name.startswith("warning_"):
            return view.flags()[name[8:]]
        return _DEALER_FIELDS[name](self, s)


_DEALER_FIELDS = {  # dealer_metrics' other fields, one by one (keep the two in step)
    "stock": lambda m, s: s.stock,
    "sell_through_4w": lambda m, s: s.sales_hist.sum(axis=0),
    "lost_sales_4w": lambda m, s: s.lost_hist.sum(axis=0),
    "stockout_weeks_4w": lambda m, s: (s.lost_hist > 0).sum(axis=0).astype(float),
    "orders_4w": lambda m, s: s.orders_hist.sum(axis=0),
    "sell_in_4w": lambda m, s: s.sell_in_hist[[(s.week - k) % SELL_IN_WEEKS for k in range(4)]].sum(axis=0),
    "price_index": lambda m, s: s.price_index,
    "trust": lambda m, s: s.trust,
    "receivables": lambda m, s: s.receivables,
    "overdue": lambda m, s: s.due,
    "dso": lambda m, s: m.dso(s),
    "credit_limit": lambda m, s: np.where(np.isfinite(s.credit_limit), s.credit_limit, 0.0),
    "competitor_share": lambda m, s: np.maximum(s.competitor_share, 1.0 - s.active),
    "grey_stock": lambda m, s: s.grey_stock,
    "complaints": lambda m, s: s.complaints_open,
    "diverted_4w": lambda m, s: s.diverted_hist.sum(axis=0),
    "diversion_events": lambda m, s: s.diversion_count,
    "open_cases": lambda m, s: s.open_cases,
    "case_age": lambda m, s: s.case_age,
    "rebate_pct": lambda m, s: 100.0 * (s.rebate_volume + s.rebate_sell),
    "company_spend": lambda m, s: s.company_spend,
    "active": lambda m, s: s.active,
}


class Observed(Mapping):
    """A lazy `observe_all`: path -> (rollouts,) array, computed on first read and kept.

    Valid while the state does not change (the session drops it on every change). Iterating it
    computes everything, in `observe_all`'s order."""

    def __init__(self, market: Market, s: MarketState):
        self.market, self.s = market, s
        self._values: dict[str, np.ndarray] = {}
        self._fields: dict[str, np.ndarray] = {}
        self._market: dict[str, np.ndarray] | None = None
        self._cover: np.ndarray | None = None
        self._flags: dict[str, np.ndarray] | None = None
        self._all: dict[str, np.ndarray] | None = None

    def cover(self) -> np.ndarray:
        if self._cover is None:
            self._cover = self.market.weeks_of_cover(self.s)
        return self._cover

    def flags(self) -> dict[str, np.ndarray]:
        if self._flags is None:
            self._flags = self.market.warnings(self.s)
        return self._flags

    def __getitem__(self, name: str) -> np.ndarray:
        value = self._values.get(name)
        if value is not None:
            return value
        if name.startswith("dealer."):
            _, dealer, field_name = name.split(".", 2)
            j = self.market.index[dealer]
            if field_name not in self.market.DEALER_FIELDS:
                raise KeyError(name)
            values = self._fields.get(field_name)
            if values is None:
                values = self._fields[field_name] = self.market._dealer_field(self.s, field_name, self)
            value = values[:, j]
        else:
            if self._market is None:
                self._market = self.market.market_metrics(self.s)
            value = self._market[name]
        self._values[name] = value
        return value

    def _everything(self) -> dict[str, np.ndarray]:
        if self._all is None:
            self._all = self.market.observe_all(self.s)
        return self._all

    def __iter__(self):
        return iter(self._everything())

    def __len__(self) -> int:
        return len(self._everything())

    def items(self):
        return self._everything().items()


def worlds_for(rollouts: int, first: int = 1) -> list[int]:
    """The analysis's worlds: 1..rollouts (world 0 is the live session)."""
    return list(range(first, first + rollouts))


__all__ = [
    "Market",
    "MarketState",
    "Noise",
    "NoiseBatch",
    "SeedsNoise",
    "NOISE_COMPONENTS",
    "SAFETY_CYCLES",
    "WARNING_NAMES",
    "stream_key",
    "world_key",
    "worlds_for",
]


# ------------------------------------------------------------------ load-time checks the schema cannot do


def territories(spec: MarketSpec) -> list[str]:
    """Every territory a market knows: those its dealers hold, then those only `transport` names."""
    names: list[str] = []
    for t in [d.territory for d in spec.dealers] + [t for pair in spec.transport for t in pair.between]:
        if t not in names:
            names.append(t)
    return names


def market_problems(spec: MarketSpec) -> list[tuple[tuple[str | int, ...], str, str, str]]:
    """Cross-field problems in `[market]` as (location, code, message, hint): DS0401 errors,
    DS0402 warnings. The loader turns them into positioned diagnostics."""
    out: list[tuple[tuple[str | int, ...], str, str, str]] = []
    seen: dict[frozenset[str], int] = {}
    for k, pair in enumerate(spec.transport):
        loc: tuple[str | int, ...] = ("market", "transport", k, "between")
        a, b = pair.between
        if a == b:
            out.append((loc, "DS0401", f"transport entry {k + 1} names territory '{a}' twice", "name two different territories; moving goods within a territory costs nothing here"))
            continue
        key = frozenset(pair.between)
        if key in seen:
            out.append((loc, "DS0402", f"the transport cost between '{a}' and '{b}' is given twice (entries {seen[key] + 1} and {k + 1}); the last one counts", "keep one entry per pair of territories"))
        seen[key] = k
    for i, d in enumerate(spec.dealers):
        if d.price_index < spec.price_floor:
            out.append((("market", "dealers", i, "price_index"), "DS0402", f"dealer '{d.id}' starts at price index {d.price_index:g}, below the channel's price floor {spec.price_floor:g}: its price warning sign is lit from the start", "raise price_index or lower market.price_floor, unless the scenario starts in a price war on purpose"))
    return out

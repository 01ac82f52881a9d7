"""The seeded stochastic dealer market.

State is held in arrays shaped (rollouts, dealers) so that one session (rollouts = 1) and a batch of
analysis rollouts run the same code. A week's randomness is a block of standard normals drawn per
week from a counter-based stream (`Noise`): week w always gets the same draws whatever happened
before, which gives common random numbers across alternative choices for free.

Equations and parameters: docs/MODEL.md.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from simulator.schema import Market as MarketSpec

SAFETY_CYCLES = 1.5  # the course: stock ≈ 1.5 × one sales cycle (seed 001, 4.1)
NOISE_COMPONENTS = 4  # per dealer-week: demand, price, reserved, reserved (fixed so adding a use never shifts others)
CHUNK_WEEKS = 26

# Our coefficients (docs/MODEL.md): tunable defaults, tested for direction, not taken from the course.
FORECAST_ALPHA = 0.3  # exponential smoothing of the dealer's demand forecast
PRICE_EROSION = 0.04  # k_p: price cut per unit of overstock ratio above 1, per week
PRICE_RECOVERY = 0.10  # share of the gap to list price recovered per week when not overstocked
PRICE_NOISE = 0.004  # sd of weekly price noise
PRICE_FLOOR = 0.5  # price index never falls below half of list
TRUST_STOCKOUT = 4.0  # trust points lost per week of full stockout (scaled by the lost share)
LEAD_WEEKS = 1  # the dealer's own reorders arrive the week after they are placed


def stream_key(name: str) -> int:
    """Stable numeric key of a named random stream (recorded in the session header)."""
    return zlib.crc32(name.encode("ascii"))


@dataclass
class Noise:
    """Standard normal draws for (week, dealer, component), generated in chunks of weeks.

    World 0 is the live session; analysis rollouts use worlds 1..K. Chunks are derived from the
    session's seed entropy and the stream key, never from a global state.
    """

    entropy: int
    dealers: int
    world: int = 0
    _chunks: dict[int, np.ndarray] = field(default_factory=dict)

    def week(self, w: int) -> np.ndarray:
        chunk, offset = divmod(w, CHUNK_WEEKS)
        block = self._chunks.get(chunk)
        if block is None:
            seq = np.random.SeedSequence(self.entropy, spawn_key=(stream_key("market"), self.world, chunk))
            block = np.random.Generator(np.random.PCG64(seq)).standard_normal((CHUNK_WEEKS, self.dealers, NOISE_COMPONENTS))
            self._chunks[chunk] = block
        return block[offset]


@dataclass
class MarketState:
    """All dealer state as (rollouts, dealers) float arrays; `week` is shared by the batch."""

    week: int
    stock: np.ndarray
    supply_line: np.ndarray  # the dealer's own reorders placed, arriving next week
    forecast: np.ndarray
    trust: np.ndarray
    price_index: np.ndarray
    receivables: np.ndarray
    promo_lift: np.ndarray
    promo_weeks: np.ndarray
    sales_hist: np.ndarray  # (rollouts, dealers, 4): last four weeks' sell-through, newest last
    lost_hist: np.ndarray
    orders_hist: np.ndarray  # the dealer's own reorders, last four weeks
    sell_in: np.ndarray  # cumulative units we sold to the dealer (our orders + its reorders)
    sales_total: np.ndarray
    lost_total: np.ndarray

    def copy(self) -> "MarketState":
        return MarketState(
            week=self.week, **{k: v.copy() for k, v in vars(self).items() if isinstance(v, np.ndarray)}
        )

    def repeat(self, n: int) -> "MarketState":
        """The same single state repeated n times along the rollout axis (for a batch)."""
        return MarketState(
            week=self.week,
            **{k: np.repeat(v, n, axis=0) for k, v in vars(self).items() if isinstance(v, np.ndarray)},
        )


class Market:
    """Parameters of one scenario's market and the weekly update rule."""

    def __init__(self, spec: MarketSpec):
        self.spec = spec
        self.ids = [d.id for d in spec.dealers]
        self.n = len(self.ids)
        self.cycle_weeks = spec.weeks_per_cycle
        self.mean = np.array([d.demand.mean for d in spec.dealers], dtype=float)
        cv = np.array([d.demand.cv for d in spec.dealers], dtype=float)
        self.sigma = np.sqrt(np.log1p(cv**2))
        self.adjust = np.array([d.adjust_weeks for d in spec.dealers], dtype=float)
        season_len = max([len(d.demand.season) for d in spec.dealers] + [1])
        self.season = np.ones((season_len, self.n))
        for j, d in enumerate(spec.dealers):
            if d.demand.season:
                self.season[:, j] = np.resize(np.array(d.demand.season, dtype=float), season_len)

    # ------------------------------------------------------------ state

    def initial(self, rollouts: int = 1) -> MarketState:
        def arr(values) -> np.ndarray:
            return np.tile(np.asarray(values, dtype=float), (rollouts, 1))

        zeros = arr(np.zeros(self.n))
        mean = arr(self.mean)
        return MarketState(
            week=0,
            stock=arr([d.stock for d in self.spec.dealers]),
            supply_line=zeros.copy(),
            forecast=mean.copy(),
            trust=arr([d.trust for d in self.spec.dealers]),
            price_index=arr([d.price_index for d in self.spec.dealers]),
            receivables=arr([d.receivables for d in self.spec.dealers]),
            promo_lift=zeros.copy(),
            promo_weeks=zeros.copy(),
            sales_hist=np.repeat(mean[:, :, None], 4, axis=2),
            lost_hist=np.zeros((rollouts, self.n, 4)),
            orders_hist=np.repeat(mean[:, :, None], 4, axis=2),
            sell_in=zeros.copy(),
            sales_total=zeros.copy(),
            lost_total=zeros.copy(),
        )

    def target_stock(self, s: MarketState) -> np.ndarray:
        return SAFETY_CYCLES * self.cycle_weeks * s.forecast

    def weeks_of_cover(self, s: MarketState) -> np.ndarray:
        return s.stock / np.maximum(s.forecast, 1e-9)

    # ------------------------------------------------------------ levers

    def order(self, s: MarketState, j: int, units: np.ndarray) -> np.ndarray:
        units = np.maximum(np.round(units), 0.0)
        s.stock[:, j] += units
        s.sell_in[:, j] += units
        s.receivables[:, j] += units * s.price_index[:, j]
        return units

    def units_for_cover(self, s: MarketState, j: int, cycles: float) -> np.ndarray:
        """Units that bring stock up to `cycles` sales cycles of forecast cover (never negative)."""
        return np.maximum(cycles * self.cycle_weeks * s.forecast[:, j] - s.stock[:, j], 0.0)

    def promotion(self, s: MarketState, j: int, lift_pct: float, weeks: int) -> None:
        s.promo_lift[:, j] = lift_pct / 100.0
        s.promo_weeks[:, j] = weeks

    def change_trust(self, s: MarketState, j: int, change: float) -> None:
        s.trust[:, j] = np.clip(s.trust[:, j] + change, 0.0, 100.0)

    # ------------------------------------------------------------ one week

    def advance(self, s: MarketState, z: np.ndarray) -> dict[str, np.ndarray]:
        """Simulate one week in place. `z` has shape (rollouts, dealers, NOISE_COMPONENTS).

        Returns the week's sampled outcomes (each (rollouts, dealers)) for the record.
        """
        season = self.season[s.week % len(self.season)]
        promo = np.where(s.promo_weeks > 0, 1.0 + s.promo_lift, 1.0)
        mu = self.mean * season * promo
        # the dealer's own reorders placed last week arrive first
        s.stock += s.supply_line
        s.supply_line[:] = 0.0
        demand = np.round(mu * np.exp(self.sigma * z[..., 0] - 0.5 * self.sigma**2))
        sales = np.minimum(s.stock, demand)
        lost = demand - sales
        s.stock -= sales
        s.forecast += FORECAST_ALPHA * (demand - s.forecast)
        # Sterman's anchoring-and-adjustment: expected sales plus a correction of the stock gap
        gap = self.target_stock(s) - s.stock - s.supply_line
        reorder = np.round(np.maximum(s.forecast + gap / self.adjust, 0.0))
        s.supply_line += reorder
        s.sell_in += reorder
        s.receivables += reorder * s.price_index
        # stock-adjustment pricing: overstock erodes the dealer's price, otherwise it recovers
        ratio = self.weeks_of_cover(s) / (SAFETY_CYCLES * self.cycle_weeks)
        erosion = PRICE_EROSION * np.maximum(ratio - 1.0, 0.0)
        recovery = np.where(ratio <= 1.0, PRICE_RECOVERY * (1.0 - s.price_index), 0.0)
        s.price_index = np.clip(s.price_index * (1.0 - erosion) + recovery + PRICE_NOISE * z[..., 1], PRICE_FLOOR, 3.0)
        # stockouts cost trust in proportion to the share of demand lost
        lost_share = np.where(demand > 0, lost / np.maximum(demand, 1.0), 0.0)
        s.trust = np.clip(s.trust - TRUST_STOCKOUT * lost_share, 0.0, 100.0)
        # the dealer pays for what it sells
        payment = np.minimum(s.receivables, sales * s.price_index)
        s.receivables -= payment
        s.promo_weeks = np.maximum(s.promo_weeks - 1, 0)
        for hist, value in ((s.sales_hist, sales), (s.lost_hist, lost), (s.orders_hist, reorder)):
            hist[..., :-1] = hist[..., 1:]
            hist[..., -1] = value
        s.sales_total += sales
        s.lost_total += lost
        s.week += 1
        return {"demand": demand, "sales": sales, "lost": lost, "reorder": reorder}

    # ------------------------------------------------------------ what conditions and dashboards see

    DEALER_FIELDS = (
        "stock",
        "weeks_of_cover",
        "cover_cycles",
        "sell_through_4w",
        "lost_sales_4w",
        "orders_4w",
        "price_index",
        "trust",
        "receivables",
    )
    MARKET_FIELDS = ("week", "stockouts_4w")

    def observe(self, s: MarketState, r: int = 0) -> dict[str, float]:
        """Every observable state path (`dealer.<id>.<field>`, `market.<field>`) for rollout r."""
        cover = self.weeks_of_cover(s)[r]
        out: dict[str, float] = {"market.week": float(s.week)}
        stockouts = 0.0
        for j, dealer in enumerate(self.ids):
            values = {
                "stock": s.stock[r, j],
                "weeks_of_cover": cover[j],
                "cover_cycles": cover[j] / self.cycle_weeks,
                "sell_through_4w": s.sales_hist[r, j].sum(),
                "lost_sales_4w": s.lost_hist[r, j].sum(),
                "orders_4w": s.orders_hist[r, j].sum(),
                "price_index": s.price_index[r, j],
                "trust": s.trust[r, j],
                "receivables": s.receivables[r, j],
            }
            stockouts += float((s.lost_hist[r, j] > 0).sum())
            for name, value in values.items():
                out[f"dealer.{dealer}.{name}"] = float(value)
        out["market.stockouts_4w"] = stockouts
        return out

    def observable_names(self) -> list[str]:
        names = [f"market.{f}" for f in self.MARKET_FIELDS]
        for dealer in self.ids:
            names += [f"dealer.{dealer}.{f}" for f in self.DEALER_FIELDS]
        return names

"""Market throughput: dealer-weeks per second for one rollout and for a batch of 64.

    .venv/bin/python benchmarks/market.py            # the table
    .venv/bin/python benchmarks/market.py --quick    # fewer repeats

The market is a typical "several dealers" scenario: 6 dealers in 3 territories with default
parameters, a push to 3 cycles on one dealer and a volume rebate on another (so diversion,
complaints and warning signs are live, not an idle market). Each run simulates 26-week episodes
from the scenario's start, noise generation included, in the way the analysis uses the market:
one session (one seed entropy), many worlds. The single path is what a Session does (one
`Noise(entropy, dealers, world)` per episode, `week(w)[None]`, one world per episode); the batch
path is one `NoiseBatch` over worlds 1..64 per episode. World keys are cached across episodes, as
they are when the analysis compares options in the same worlds. Both paths run in the same
process, each the best of several repeats (wall clock, so a busy machine reads slower; the
CPU-time column shows what the process itself spent). Targets (issue 3): ≥ 50,000 dealer-weeks/s
single; batch of 64 ≥ 20× the single-rollout throughput.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator.market import Market, Noise, NoiseBatch, worlds_for  # noqa: E402
from simulator.schema import Market as MarketSpec  # noqa: E402
from simulator.schema import OrderParams, RebateParams  # noqa: E402

WEEKS = 26
BATCH = 64
TARGET_SINGLE = 50_000
TARGET_RATIO = 20.0


def market_of(dealers: int) -> Market:
    territories = ["east", "west", "south"]
    return Market(
        MarketSpec.model_validate(
            {
                "weeks_per_cycle": 2,
                "dealers": [
                    {
                        "id": f"d{j}",
                        "name": f"Dealer {j}",
                        "territory": territories[j % len(territories)],
                        "demand": {"mean": 100 + 10 * j, "cv": 0.25},
                        "stock": 300 + 20 * j,
                        "price_index": 1.0 + 0.02 * (j % 3),
                        "trust": 50 + 3 * j,
                    }
                    for j in range(dealers)
                ],
            }
        )
    )


ENTROPY = 2026  # one session


def episode(market: Market, rollouts: int, world: int) -> None:
    """One 26-week episode from the start, with a push on dealer 0 and a volume rebate on dealer 1:
    in one world (rollouts = 1) or in worlds 1..rollouts."""
    state = market.initial(rollouts)
    noise = Noise(ENTROPY, market.n, world) if rollouts == 1 else NoiseBatch(ENTROPY, market.n, worlds_for(rollouts))
    market.apply(state, "order", OrderParams(dealer=market.ids[0], cover_cycles=3.0))
    if market.n > 1:
        market.apply(state, "rebate", RebateParams(dealer=market.ids[1], pct=3))
    single = rollouts == 1
    for _ in range(WEEKS):
        z = noise.week(state.week)
        market.advance(state, z[None] if single else z)


def throughput(market: Market, rollouts: int, episodes: int, repeats: int) -> tuple[float, float]:
    """Best (wall, cpu) dealer-weeks per second over `repeats` runs of `episodes` episodes."""
    best_wall = best_cpu = 0.0
    work = episodes * WEEKS * rollouts * market.n
    for r in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        for e in range(episodes):
            episode(market, rollouts, world=1 + e)
        best_wall = max(best_wall, work / (time.perf_counter() - wall))
        best_cpu = max(best_cpu, work / max(time.process_time() - cpu, 1e-9))
    return best_wall, best_cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    args = parser.parse_args()
    repeats = 2 if args.quick else 5
    episode(market_of(6), 1, 1)  # warm up imports
    print(f"market throughput, dealer-weeks per second ({WEEKS}-week episodes, best of {repeats}; wall clock, cpu time in brackets)")
    print(f"{'dealers':>7}  {'single rollout':>24}  {'batch of 64':>26}  {'batch ÷ single':>14}")
    verdict = None
    for dealers in (2, 6, 12):
        market = market_of(dealers)
        single, single_cpu = throughput(market, 1, episodes=20, repeats=repeats)
        batch, batch_cpu = throughput(market, BATCH, episodes=2, repeats=repeats)
        ratio = batch / single
        mark = "  ← target market" if dealers == 6 else ""
        print(f"{dealers:>7}  {single:>12,.0f} ({single_cpu:>9,.0f})  {batch:>13,.0f} ({batch_cpu:>10,.0f})  {ratio:>13.1f}×{mark}")
        if dealers == 6:
            verdict = (single, ratio)
    assert verdict is not None
    single, ratio = verdict
    ok_single, ok_ratio = single >= TARGET_SINGLE, ratio >= TARGET_RATIO
    print(
        f"targets (6 dealers): single ≥ {TARGET_SINGLE:,} — {'met' if ok_single else 'MISSED'} ({single:,.0f}); "
        f"batch ≥ {TARGET_RATIO:.0f}× single — {'met' if ok_ratio else 'MISSED'} ({ratio:.1f}×)"
    )
    figures = [
        {"name": "market dealer-weeks per second, single rollout (6 dealers)", "value": round(single), "unit": "/s", "target": f"≥ {TARGET_SINGLE:,}", "ok": ok_single},
        {"name": f"market dealer-weeks per second, batch of {BATCH} (6 dealers)", "value": round(single * ratio), "unit": "/s", "target": "", "ok": True},
        {"name": "market batch ÷ single", "value": round(ratio, 1), "unit": "×", "target": f"≥ {TARGET_RATIO:.0f}×", "ok": ok_ratio},
    ]
    print("BENCH " + json.dumps({"benchmark": "market", "figures": figures}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Per-decision analysis time: a session of ≥15 decisions, every option on offer, 32 rollouts each.

Target (issue 4): ≤ 2 s on one core. Also prints the single-path time for the same work (each
rollout a separate forked session) so the batch path's gain is a ratio from the same run.

    python benchmarks/analysis.py [--rollouts 32]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scoring import session_observers  # noqa: E402
from scoring.analysis import analyse_choices  # noqa: E402
from scoring.rubric import Scorer  # noqa: E402
from simulator.engine import Session  # noqa: E402
from simulator.loader import load_scenario  # noqa: E402
from simulator.policy import course_choice, make_policy  # noqa: E402

SCENARIO = ROOT / "scenarios" / "first_visit" / "biggest_trader.toml"


def longest_session(loaded, want: int = 15) -> tuple[int, list[str]]:
    """A seeded random playthrough with at least `want` decisions (the longest found otherwise)."""
    best: tuple[int, list[str]] = (0, [])
    for seed in range(200):
        session, policy, choices = Session(loaded, seed), make_policy("random", seed), []
        while not session.finished:
            choices.append(policy(session))
            session.choose(choices[-1])
        if len(choices) > len(best[1]):
            best = (seed, choices)
        if len(choices) >= want:
            break
    return best


def single_path_values(session: Session, rollouts: int) -> None:
    """The same rollouts without the batch path: one forked session per world."""
    for option in session.options():
        for world in range(1, rollouts + 1):
            fork = session.fork(world)
            fork.choose(option.id)
            while not fork.finished:
                fork.choose(course_choice(fork))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rollouts", type=int, default=32)
    parser.add_argument("--scenario", default=str(SCENARIO))
    args = parser.parse_args()
    loaded = load_scenario(args.scenario).loaded
    seed, choices = longest_session(loaded)
    Scorer(loaded)  # load the catalogue once, outside the timing
    start = time.perf_counter()
    analysis = analyse_choices(loaded, seed, "en", choices, args.rollouts)
    batch_s = time.perf_counter() - start
    options = sum(len(d.options) for d in analysis.decisions)

    session = Session(loaded, seed, "en", observers=session_observers(loaded))
    start = time.perf_counter()
    for choice in choices:
        single_path_values(session, args.rollouts)
        session.choose(choice)
    single_s = time.perf_counter() - start

    print(f"scenario: {loaded.scenario.id}, seed {seed}: {len(choices)} decisions, {options} options, {args.rollouts} rollouts each")
    print(f"{'path':14} {'seconds':>8} {'rollouts/s':>11}")
    print(f"{'batch':14} {batch_s:8.2f} {options * args.rollouts / batch_s:11.0f}")
    print(f"{'single':14} {single_s:8.2f} {options * args.rollouts / single_s:11.0f}")
    print(f"batch is {single_s / batch_s:.1f}x faster; target ≤ 2 s: {'met' if batch_s <= 2 else 'NOT met'}")
    figures = [
        {"name": f"analysis of a {len(choices)}-decision session, {args.rollouts} rollouts per option", "value": round(batch_s, 2), "unit": "s", "target": "≤ 2 s", "ok": batch_s <= 2},
        {"name": "analysis batch path ÷ single path", "value": round(single_s / batch_s, 1), "unit": "× faster", "target": "", "ok": True},
    ]
    print("BENCH " + json.dumps({"benchmark": "analysis", "figures": figures}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

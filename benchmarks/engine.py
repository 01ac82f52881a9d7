"""Engine decisions per second: a live session as the game plays it (events, scorer), one decision at a time.

    .venv/bin/python benchmarks/engine.py            # every shipped scenario, a few seconds each
    .venv/bin/python benchmarks/engine.py --quick    # fewer playthroughs

Each shipped scenario is played to its end many times, seed after seed, by the random policy (so
every branch is taken somewhere), each playthrough a fresh `Session` with the scorer attached and
its events recorded, exactly the work `Game.choose` asks of the engine per keypress (writing the
log is not included: benchmarks/tui.py measures the whole keypress). A decision is one `choose`
call (a negotiation move counts as one). Target: ≥ 200 decisions per second, i.e. the engine
takes at most 5 ms of the 50 ms keypress budget (issue 6). CPU time is shown next to wall time:
the machine is shared, so wall time reads slower when it is busy.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scoring import session_observers  # noqa: E402
from scoring.catalogue import load_catalogue  # noqa: E402
from simulator.engine import Session  # noqa: E402
from simulator.loader import load_scenario, scenario_files  # noqa: E402
from simulator.policy import make_policy  # noqa: E402

TARGET = 200.0  # decisions per second


def play_many(loaded, games: int) -> tuple[int, float, float]:
    """(decisions, wall seconds, cpu seconds) of `games` random playthroughs, seeds 0, 1, …"""
    decisions = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for seed in range(games):
        session = Session(loaded, seed, "en", observers=session_observers(loaded))
        policy = make_policy("random", session.entropy)
        while not session.finished and decisions < 10**7:
            session.choose(policy(session))
            decisions += 1
    return decisions, time.perf_counter() - wall, time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer playthroughs per scenario")
    args = parser.parse_args()
    games = 20 if args.quick else 100
    ids = load_catalogue().ids
    files = [f for f in scenario_files([str(ROOT / "scenarios")]) if not f.name.endswith(".test.toml")]
    print(f"engine decisions per second ({games} random playthroughs per shipped scenario; load average {os.getloadavg()[0]:.1f})")
    print(f"  {'scenario':36} {'decisions':>9} {'per s (wall)':>13} {'per s (cpu)':>12}")
    total_d = total_wall = total_cpu = 0.0
    for f in files:
        result = load_scenario(f, ids)
        if not result.ok:
            print(f"  {f.name:36} does not load: skipped")
            continue
        d, wall, cpu = play_many(result.loaded, games)
        total_d, total_wall, total_cpu = total_d + d, total_wall + wall, total_cpu + cpu
        print(f"  {result.loaded.scenario.id:36} {d:>9,} {d / wall:>13,.0f} {d / max(cpu, 1e-9):>12,.0f}")
    rate = total_d / total_wall
    ok = rate >= TARGET
    print(f"  {'all':36} {int(total_d):>9,} {rate:>13,.0f} {total_d / max(total_cpu, 1e-9):>12,.0f}   target ≥ {TARGET:.0f}/s: {'met' if ok else 'MISSED'}")
    figures = [{"name": "engine decisions per second (live session, scorer on)", "value": round(rate), "unit": "/s", "target": f"≥ {TARGET:.0f}", "ok": ok}]
    print("BENCH " + json.dumps({"benchmark": "engine", "figures": figures}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

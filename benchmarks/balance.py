"""The balance report's speed: the instructor-tool target of issue 7 (`dealersim check` is benchmarks/check.py).

    .venv/bin/python benchmarks/balance.py            # the full figures (about a minute)
    .venv/bin/python benchmarks/balance.py --quick    # -n 2000 instead of 10,000

1. Runs per second of each policy on scenarios/stock_push/quarter_end.toml, in this process: the
   batched player the report uses (scoring/balance.py, CHUNK_RUNS runs per batch) and, for scale,
   each run as a single quiet session (`play_solo`).
2. The wall time of `dealersim balance scenarios/stock_push/quarter_end.toml -n 10000 --jobs 2`,
   run as a user runs it (a fresh process; its workers' CPU time is shown too). -n is runs per
   policy: random, course and greedy at 10,000 each, plus the fixed-option checks (always option
   1 … K, 1,000 runs each). Target ≤ 10 s.

Wall clock, so a busy machine reads slower: the load average is printed with the figures, and the
CPU time shows what the work itself cost (on 2 CPUs, wall ≈ CPU ÷ 2 on an idle machine).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scoring.balance import CHUNK_RUNS, fixed_options, play_batch, play_solo, run_seed  # noqa: E402
from scoring.catalogue import load_catalogue  # noqa: E402
from simulator.loader import load_scenario  # noqa: E402

SCENARIO = "scenarios/stock_push/quarter_end.toml"
TARGET_BALANCE = 10.0


def dealersim(*args: str) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall time and children's CPU time of one `dealersim` command in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "simulator.cli", *args], cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        sys.exit(f"dealersim {' '.join(args)} failed:\n{done.stderr}")
    return wall, cpu, done


def throughput(runs: int) -> None:
    loaded = load_scenario(ROOT / SCENARIO, load_catalogue().ids).loaded
    print(f"runs per second on {SCENARIO} (this process; CPU time in brackets)")
    print(f"  {'policy':<8} {'batched':>18}   {'single sessions':>18}")
    for name in ("random", "course", "greedy", "fixed:1"):
        seeds = [run_seed(0, i) for i in range(runs)]
        rates = []
        for play, n in ((play_batch, runs), (play_solo, max(runs // 10, 50))):
            wall, cpu = time.perf_counter(), time.process_time()
            for start in range(0, n, CHUNK_RUNS):
                play(loaded, name, seeds[start : min(start + CHUNK_RUNS, n)], start)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            rates.append(f"{n / wall:>7,.0f} ({n / cpu:>6,.0f})")
        print(f"  {name:<8} {rates[0]:>18}   {rates[1]:>18}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="-n 2000 instead of 10,000")
    args = parser.parse_args()
    n = 2000 if args.quick else 10_000
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPU(s)")
    throughput(1000 if args.quick else 2000)

    loaded = load_scenario(ROOT / SCENARIO, load_catalogue().ids).loaded
    k = fixed_options(loaded)
    total = 3 * n + k * min(n, 1000)
    wall, cpu, _ = dealersim("balance", SCENARIO, "-n", str(n), "--jobs", "2")
    verdict = "" if args.quick else ("  (target ≤ 10 s: met)" if wall <= TARGET_BALANCE else "  (target ≤ 10 s: MISSED)")
    print(f"dealersim balance {SCENARIO} -n {n} --jobs 2")
    print(f"  {total:,} runs (random, course, greedy × {n:,}; fixed:1…{k} × {min(n, 1000):,}) in {wall:.1f} s wall, {cpu:.1f} s CPU: {total / wall:,.0f} runs/s{verdict}")

    load = os.getloadavg()[0]
    figures = [
        {"name": f"balance quarter_end -n {n} --jobs 2 (wall; load {load:.1f})", "value": round(wall, 1), "unit": "s", "target": f"≤ {TARGET_BALANCE:.0f} s", "ok": wall <= TARGET_BALANCE and not args.quick},
        {"name": "balance quarter_end: CPU time of its processes", "value": round(cpu, 1), "unit": "s CPU", "target": "", "ok": True},
    ]
    print("BENCH " + json.dumps({"benchmark": "balance", "figures": figures}, ensure_ascii=False))


if __name__ == "__main__":
    main()

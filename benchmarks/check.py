"""`dealersim check scenarios/` wall time: every shipped scenario checked, as an author runs it (issue 7).

    .venv/bin/python benchmarks/check.py

A fresh process each time (imports included: that is what an author waits for), best of five,
plus how the time splits between imports and the loading of each file (in this process). Target
≤ 1 s for all shipped scenarios.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.0


def main() -> int:
    runs, cpus = [], []
    for _ in range(5):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "simulator.cli", "check", "scenarios"], cwd=ROOT, capture_output=True, text=True)
        runs.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode != 0:
            print(done.stdout + done.stderr)
            sys.exit("dealersim check scenarios/ failed")
    summary = done.stdout.strip().splitlines()[-1]
    split = subprocess.run(
        [sys.executable, "-c",
         "import time; t = time.perf_counter()\n"
         "from simulator.loader import load_scenario, scenario_files\n"
         "from scoring.catalogue import load_catalogue\n"
         "i = time.perf_counter(); ids = load_catalogue().ids; files = scenario_files(['scenarios'])\n"
         "for f in files: load_scenario(f, ids)\n"
         "e = time.perf_counter(); print(f'{i - t:.3f} {e - i:.3f} {len(files)}')"],
        cwd=ROOT, capture_output=True, text=True,
    ).stdout.split()
    best = min(runs)
    ok = best <= TARGET
    print(f"dealersim check scenarios/ ({summary}; load average {os.getloadavg()[0]:.1f})")
    print(f"  best of {len(runs)}: {best:.2f} s, median {sorted(runs)[len(runs) // 2]:.2f} s (CPU {min(cpus):.2f} s)   target ≤ {TARGET:.0f} s: {'met' if ok else 'MISSED'}")
    if len(split) == 3:
        print(f"  in one process: imports {float(split[0]):.2f} s, catalogue and {split[2]} file(s) {float(split[1]):.2f} s ({1000 * float(split[1]) / max(int(split[2]), 1):.0f} ms a file)")
    figures = [
        {"name": f"check scenarios/ ({summary.split(' ')[0]} files, best of {len(runs)})", "value": round(best, 2), "unit": "s", "target": f"≤ {TARGET:.0f} s", "ok": ok},
        {"name": "check scenarios/: CPU time of the process", "value": round(min(cpus), 2), "unit": "s CPU", "target": "", "ok": True},
    ]
    print("BENCH " + json.dumps({"benchmark": "check", "figures": figures}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

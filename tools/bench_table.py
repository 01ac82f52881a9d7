"""`make bench`: run every script in benchmarks/, then print one table of all their figures.

    .venv/bin/python tools/bench_table.py                 # run them all (what `make bench` does)
    .venv/bin/python tools/bench_table.py tui engine      # only benchmarks/tui.py and engine.py
    .venv/bin/python tools/bench_table.py --from out.txt  # only the table, from saved output

The protocol: a benchmark script prints what it likes for people and, as its last line,

    BENCH {"benchmark": "<name>", "figures": [{"name": …, "value": …, "unit": …, "target": …, "ok": …}, …]}

(a bare JSON list of figures is accepted too). The scripts run with Python's bytecode cache on, as
for a user, even if this shell sets PYTHONDONTWRITEBYTECODE. Each script's output is shown as it runs; a script
that fails or prints no BENCH line gets a FAIL row of its own. The table ends with the machine
and its load average at the start and the end (the machine may be shared: wall times read slower
when it is busy). Exit status 1 if any figure missed its target or any script failed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = ""
    try:
        kib = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")))
        ram = f", {kib / 1024 / 1024:.1f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    return f"{cpu}, {os.cpu_count()} CPU(s){ram}, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def load() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def figures_in(text: str, script: str) -> list[dict]:
    """The figures of the last BENCH line in a script's output."""
    for line in reversed(text.splitlines()):
        if line.startswith("BENCH "):
            data = json.loads(line[len("BENCH "):])
            figures = data["figures"] if isinstance(data, dict) else data
            name = data.get("benchmark", script) if isinstance(data, dict) else script
            return [{**f, "benchmark": name} for f in figures]
    return []


def environment() -> dict[str, str]:
    """The benchmarks' environment: as a user's, with Python's bytecode cache on. (A shell that sets
    PYTHONDONTWRITEBYTECODE makes every start compile the project's modules from source again:
    some 200 ms that an installed dealersim never spends.)"""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run(script: Path) -> tuple[int, str, float]:
    """Run one benchmark, echoing its output as it comes; (exit status, output, seconds)."""
    print(f"== {script.relative_to(ROOT)}", flush=True)
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(script)], cwd=ROOT, env=environment(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        sys.stdout.write(line)
        lines.append(line)
    return proc.wait(), "".join(lines), time.perf_counter() - start


def value(f: dict) -> str:
    v = f["value"]
    text = f"{v:,}" if isinstance(v, int) else f"{v:,.2f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v)
    return f"{text} {f.get('unit', '')}".strip()


def table(rows: list[dict]) -> list[str]:
    w_name = max([len(r["name"]) for r in rows] + [6])
    w_value = max([len(value(r)) for r in rows] + [5])
    w_target = max([len(str(r.get("target") or "")) for r in rows] + [6])
    lines = [f"| {'benchmark':<9} | {'figure':<{w_name}} | {'value':>{w_value}} | {'target':<{w_target}} | ok   |",
             f"|{'-' * 11}|{'-' * (w_name + 2)}|{'-' * (w_value + 2)}|{'-' * (w_target + 2)}|------|"]
    for r in rows:
        target = str(r.get("target") or "")
        ok = ("pass" if r["ok"] else "FAIL") if target else ""
        lines.append(f"| {r['benchmark']:<9} | {r['name']:<{w_name}} | {value(r):>{w_value}} | {target:<{w_target}} | {ok:<4} |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="benchmark names (benchmarks/NAME.py); default: all")
    parser.add_argument("--from", dest="saved", nargs="+", type=Path, help="make the table from saved outputs instead of running")
    args = parser.parse_args()
    started = load()
    rows: list[dict] = []
    if args.saved:  # every BENCH line in them (a saved `make bench` holds one per script)
        for path in args.saved:
            for line in path.read_text("utf-8").splitlines():
                if line.startswith("BENCH "):
                    rows += figures_in(line, path.stem)
    else:
        scripts = sorted(p for p in (ROOT / "benchmarks").glob("*.py") if not p.name.startswith("_"))  # _x.py: shared code
        if args.only:
            scripts = [s for s in scripts if s.stem in args.only]
        for script in scripts:
            status, out, seconds = run(script)
            found = figures_in(out, script.stem)
            if status != 0 and not found:
                found = [{"benchmark": script.stem, "name": f"{script.name} exited with status {status}", "value": "-", "unit": "", "target": "runs", "ok": False}]
            elif not found:
                found = [{"benchmark": script.stem, "name": f"{script.name} printed no BENCH line", "value": "-", "unit": "", "target": "BENCH line", "ok": False}]
            rows += found
            print(f"== {script.name}: {seconds:.0f} s\n", flush=True)
    print()
    for line in table(rows):
        print(line)
    print(f"\nmachine: {machine()}")
    if args.saved:
        print("load average: as printed by each benchmark in the saved output")
    else:
        print(f"load average (1, 5, 15 min): {started} at the start, {load()} at the end")
    failed = [r for r in rows if r.get("target") and not r["ok"]]
    print(f"{len(rows) - len(failed)} of {len(rows)} figure(s) on target" if not failed else f"{len(failed)} figure(s) missed their target")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

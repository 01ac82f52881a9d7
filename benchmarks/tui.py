"""Benchmarks of the Textual game (issue 6). Run: `.venv/bin/python benchmarks/tui.py` (or `make bench`).

1. Time to first screen: `dealersim` started in a pseudo-terminal (120×40), until its first frame
   is on the terminal, against a bare Textual app (one Label) started the same way in the same run
   (interleaved runs, medians). Also: until the home screen is filled in, and for
   `python -m simulator.tui` (what `dealersim serve` starts per visitor). Target ≤ 1.3×.
2. Keypress → next step: `dealersim play` in a pseudo-terminal, from writing the number key to
   the terminal until the next step has been written to it (the decision recorded with fsync, the
   story, top bar, market panels and choices redrawn); and, for information, until the screen
   stops changing (frames after it: the story's scroll settling once the new layout is known, the
   scrollbars). Logs on the project's disk and in memory; a negotiation scenario as well.
   Target p95 ≤ 50 ms.
3. Peak RSS of `dealersim play` (real process in a pseudo-terminal) playing a scenario to the end.
   Target ≤ 150 MB.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._terminal import Pty, environment  # noqa: E402
from simulator.tui.screens.play import KEY_GUARD  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "7"))
SIZE = (120, 40)

BARE_KEYS_APP = """
from textual.app import App
from textual.widgets import Footer, Label

class Bare(App):
    BINDINGS = [("1", "next", "Next")]
    n = 0

    def compose(self):
        yield Label("0 decision(s)", id="count")
        yield Footer()

    def action_next(self):
        self.n += 1
        self.query_one("#count").update(f"{self.n} decision(s)")

Bare().run()
"""

BARE_APP = """
from textual.app import App
from textual.widgets import Label

class Bare(App):
    def compose(self):
        yield Label("bare textual app ready")

Bare().run()
"""


def first_screen(tmp: Path) -> list[dict]:
    env = environment(tmp)
    py = sys.executable
    cases = {
        "bare Textual app": ([py, "-c", BARE_APP], ["bare textual app ready"]),
        "dealersim": ([py, "-m", "simulator.cli"], ["dealersim", "Language"]),
        "python -m simulator.tui": ([py, "-m", "simulator.tui"], ["dealersim", "Language"]),
    }
    times: dict[str, list[list[float]]] = {name: [] for name in cases}
    for _ in range(RUNS):
        for name, (argv, markers) in cases.items():
            term = Pty(argv, env, ROOT)
            times[name].append([term.wait_for(m) for m in markers])
            term.finish()
    bare = statistics.median(t[0] for t in times["bare Textual app"])
    print(f"1. time to first screen (median of {RUNS} runs in a {SIZE[0]}×{SIZE[1]} pseudo-terminal; target ≤ 1.3× bare)")
    print(f"   bare Textual app          first frame {bare * 1000:6.0f} ms")
    figures = []
    for name in ("dealersim", "python -m simulator.tui"):
        first = statistics.median(t[0] for t in times[name])
        home = statistics.median(t[1] for t in times[name])
        verdict = "PASS" if first <= 1.3 * bare else "FAIL"
        print(
            f"   {name:25} first frame {first * 1000:6.0f} ms = {first / bare:.2f}× bare [{verdict}];"
            f" home screen filled in {home * 1000:.0f} ms = {home / bare:.2f}×"
        )
        if name == "dealersim":
            figures.append({"name": f"first screen: dealersim ÷ bare Textual app ({first * 1000:.0f} vs {bare * 1000:.0f} ms)", "value": round(first / bare, 2), "unit": "×", "target": "≤ 1.3×", "ok": first <= 1.3 * bare})
            figures.append({"name": "home screen filled in ÷ bare first frame", "value": round(home / bare, 2), "unit": "×", "target": "", "ok": True})
    return figures


def bare_latency(tmp: Path, presses: int = 40) -> None:
    """The same measurement on a bare Textual app whose key updates one label: the floor here."""
    term = Pty([sys.executable, "-c", BARE_KEYS_APP], environment(tmp), tmp)
    term.wait_for("0 decision(s)")
    samples = []
    for turn in range(presses):
        term.wait_for("", timeout=0.1)
        mark = len(term.raw)
        start = time.perf_counter()
        term.send("1")
        while f"{turn + 1} decision(s)" not in term.text(mark):
            term.pump(0.002)
        samples.append(time.perf_counter() - start)
    term.finish()
    samples.sort()
    print(f"   bare Textual app (one label)      p50 {statistics.median(samples) * 1000:5.1f} ms  p95 {samples[int(0.95 * (len(samples) - 1))] * 1000:5.1f} ms")


QUIET = 0.05  # seconds without output: the update is over (a frame takes a few ms to write)
NEGOTIATION_KEYS = "lo"  # at a negotiation: listen first, then offers (the builder's values) until it ends


def step_kind(log: Path) -> str:
    """The kind of the step the session is at (decision | negotiation), from its log."""
    from simulator.record import read_log

    kinds = [r.data.get("step_kind", "decision") for r in read_log(log).records if r.kind == "step"]
    return kinds[-1] if kinds else "decision"


def latency(tmp: Path, sessions: Path, where: str, games: int = 6, scenario_id: str = "stock_push/quarter_end", number: str = "") -> dict:
    """From sending a key to the pseudo-terminal until the next step is on it.

    `dealersim play` runs as a real process in a pseudo-terminal; the top bar says how many
    decisions have been taken, so the time until "N+1 decision(s)" is written is the time until
    the next step is on screen (decision recorded, story, dashboard and choices redrawn). At a
    decision the key is `number` (by default 1 or 2 by game); at a negotiation round a move's letter
    (NEGOTIATION_KEYS).
    `sessions` is where the logs go: the project's disk (fsync per event, as in class) or memory."""
    env = environment(tmp)
    shipped = ROOT / "scenarios" / f"{scenario_id}.toml"
    scenario = str(shipped if shipped.exists() else ROOT / "tests" / "data" / "mini.toml")
    sessions.mkdir(parents=True, exist_ok=True)
    samples: list[float] = []
    settled: list[float] = []  # until the last byte of the update (later frames: the story's scroll settling, scrollbars)
    try:
        for game in range(games):
            log = sessions / f"latency-{game}.jsonl"
            argv = [sys.executable, "-m", "simulator.cli", "play", scenario, "--seed", str(100 + game), "--lang", "en", "--log", str(log)]
            term = Pty(argv, env, ROOT)
            term.wait_for("Begin")
            term.send("\r")
            turn = moves = 0
            term.wait_for(f"{turn} decision(s)")
            while True:
                term.wait_for("", timeout=KEY_GUARD + 0.1)  # the trainee reads (a pick sooner is ignored)
                if "Press Enter for the results" in term.text():
                    break
                key = number or str(1 + game % 2)
                if step_kind(log) == "negotiation":
                    key = NEGOTIATION_KEYS[min(moves, len(NEGOTIATION_KEYS) - 1)]
                    moves += 1
                mark = len(term.raw)
                start = time.perf_counter()
                term.send(key)
                needles = (f"{turn + 1} decision(s)", "Press Enter for the results")  # the next step, or the end
                deadline = time.monotonic() + 30
                while not any(n in term.text(mark) for n in needles):
                    if time.monotonic() > deadline:
                        raise RuntimeError("the next step never appeared:\n" + term.text()[-2000:])
                    term.pump(0.002)
                samples.append(time.perf_counter() - start)
                settled.append(term.quiet_after(QUIET) - start)
                turn += 1
            term.finish()
    finally:
        shutil.rmtree(sessions, ignore_errors=True)

    def pct(q: float, values: list[float] = samples) -> float:
        values = sorted(values)
        return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] * 1000

    verdict = "PASS" if pct(0.95) <= 50 else "FAIL"
    where = f"{where} {scenario_id.split('/')[-1]}" if "negotiation" in scenario_id else where
    print(f"   log {where:28} p50 {pct(0.5):5.1f} ms  p95 {pct(0.95):5.1f} ms  max {pct(1):5.1f} ms  ({len(samples)} decisions) [{verdict}]")
    print(f"   {'':32} until the screen stops changing: p50 {pct(0.5, settled):5.1f} ms  p95 {pct(0.95, settled):5.1f} ms")
    return {"name": f"keypress → next step p95, log {where.rstrip(':')} (screen settled: p95 {pct(0.95, settled):.0f} ms)", "value": round(pct(0.95), 1), "unit": "ms", "target": "≤ 50 ms", "ok": pct(0.95) <= 50}


def peak_rss(tmp: Path) -> dict:
    from simulator.record import read_log

    env = environment(tmp)
    shipped = ROOT / "scenarios" / "stock_push" / "quarter_end.toml"
    scenario = str(shipped if shipped.exists() else ROOT / "tests" / "data" / "mini.toml")
    log = tmp / "rss.jsonl"
    term = Pty([sys.executable, "-m", "simulator.cli", "play", scenario, "--seed", "11", "--log", str(log)], env, ROOT)
    term.wait_for("Begin")  # the briefing's footer
    term.send("\r")
    term.wait_for("0 decision(s)")
    term.wait_for("", timeout=KEY_GUARD + 0.1)  # picks sooner after a step appears are ignored
    decisions = 0
    while True:
        deadline = time.monotonic() + 30
        while not log.exists() and time.monotonic() < deadline:
            term.wait_for("", timeout=0.05)
        contents = read_log(log)
        if contents.finished or decisions >= 40:
            break
        term.send("1")
        decisions += 1
        while sum(r.kind == "choice" for r in read_log(log).records) < decisions:  # the log says when it is recorded
            if time.monotonic() > deadline:
                raise RuntimeError("a decision was not recorded:\n" + term.text()[-2000:])
            term.wait_for("", timeout=0.05)
        term.wait_for("", timeout=KEY_GUARD + 0.1)  # let the screen catch up (a pick sooner is ignored)
    term.wait_for("Press Enter for the results")
    term.send("\r")
    term.wait_for("Your decisions")
    term.send("q")
    status, rss_kib = term.finish()
    mb = rss_kib / 1024
    verdict = "PASS" if mb <= 150 else "FAIL"
    print(f"3. peak RSS of `dealersim play` through {decisions} decisions to the end screen (target ≤ 150 MB)")
    print(f"   {mb:.0f} MB [{verdict}]")
    return {"name": "peak RSS of dealersim play (to the end screen)", "value": round(mb), "unit": "MB", "target": "≤ 150 MB", "ok": mb <= 150}


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"dealersim TUI benchmarks — Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load:.1f} at the start")
        figures = first_screen(tmp)
        shipped = (ROOT / "scenarios" / "stock_push" / "quarter_end.toml").exists()
        print(f"2. keypress → next step on screen (`dealersim play {'quarter_end' if shipped else 'mini'}` in a pseudo-terminal; target p95 ≤ 50 ms)")
        bare_latency(tmp)
        figures.append(latency(tmp, ROOT / ".bench-sessions", "on the project's disk:"))
        if Path("/dev/shm").is_dir():
            figures.append(latency(tmp, Path("/dev/shm") / f"dealersim-bench-{os.getpid()}", "in memory (/dev/shm):"))
        # a negotiation scenario too: entering and leaving the table, and its rounds, are steps as well
        figures.append(latency(tmp, ROOT / ".bench-sessions", "on disk,", games=3, scenario_id="negotiation/gold_dealer", number="2"))  # 2 leads to the table
        figures.append(peak_rss(tmp))
        print("BENCH " + json.dumps({"benchmark": "tui", "figures": figures}, ensure_ascii=False))


if __name__ == "__main__":
    main()

"""Crash safety (issue 9): SIGKILL a playing session at a random moment, then resume it.

Two kinds of trial, each a real `dealersim` process killed with SIGKILL:

- headless: `dealersim play SCENARIO --plain`, answering on stdin;
- Textual: `dealersim play SCENARIO` (the full-screen game) in a pseudo-terminal, pressing the
  number keys a trainee would press.

Each trial takes a random number of the course path's decisions, one at a time (the next key only
once the screen or prompt is back, so at most one decision is ever in flight), and kills the
process a random 0–60 ms after the last key (half the time within 10 ms): often while that
decision is being computed or written. Then it checks the issue's three properties:

1. the log reads (a torn last line is allowed: it is dropped with DS0510);
2. at most the decision in flight is lost (keys sent − decisions in the log ≤ 1, and the log's
   decisions are the path's first ones);
3. `resume` plus the remaining decisions reaches the same final digest as an uninterrupted run,
   and `replay --verify` passes. (Four trials in five resume and verify in-process, through
   `RecordedSession.resume` and `verify_log`, the code the commands run; every fifth runs the real
   `dealersim resume` and `dealersim replay --verify` commands.)

A kill inside the write itself is rare by chance, so a third kind of trial (`--cut`, in-process)
cuts the log at a random byte of a decision's write and checks the same three properties.

    python benchmarks/crash.py [-n 50] [--textual 50] [--cut 50] [--seed 1] [-j 2]

`-j` trials run at once (default: one per CPU); each is its own process, log and terminal.

Prints one table (a column per kind) and, as its last line, `BENCH {json}`: a list of figures
{name, value, unit, target, ok} for `make bench`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._terminal import Pty, environment  # noqa: E402
from simulator.record import read_log  # noqa: E402
from simulator.tui.screens.play import KEY_GUARD  # noqa: E402

SCENARIO = ROOT / "scenarios" / "stock_push" / "quarter_end.toml"
COURSE_PATH = ["look_first", "walk_warehouse", "promo_sized", "sell_through_rebate", "promo_joint", "report_keep", "joint_review", "joint_plan"]
SEED = "5"
KILL_WINDOW = 0.06  # seconds after the last key within which the kill lands


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simulator.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=180, env=env)


def final_digest(log: Path) -> str | None:
    contents = read_log(log)
    if not (contents.ok and contents.finished):
        return None
    return contents.records[-1].data["digest"]


def choices_in(log: Path) -> list[str]:
    if not log.exists():
        return []
    return [r.data["choice"] for r in read_log(log).records if r.kind == "choice"]


def option_numbers(scenario: Path, path: list[str]) -> list[str]:
    """The number key a trainee presses for each decision of `path` (as the game numbers the options)."""
    from simulator.loader import load_scenario
    from simulator.engine import Session

    loaded = load_scenario(scenario).loaded
    assert loaded is not None, f"{scenario} does not load"
    session = Session(loaded, int(SEED), "en")
    keys = []
    for option in path:
        number = next(o.number for o in session.options() if o.id == option)
        keys.append(str(number))
        session.choose(option)
    return keys


# ---------------------------------------------------------------- the two ways to play


def wait_until(predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out")
        time.sleep(0.005)


def headless_run(log: Path, sent: int, pause: float, kill_after: float, env: dict[str, str]) -> int:
    """`dealersim play --plain`: answer `sent` decisions one at a time, then SIGKILL. Returns the signal status."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator.cli", "play", str(SCENARIO), "--seed", SEED, "--lang", "en", "--plain", "--log", str(log)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True, env=env,
    )
    try:
        wait_until(lambda: log.exists() and read_log(log).records)
        for i, option in enumerate(COURSE_PATH[:sent]):
            if i:  # the previous decision is recorded before the next is typed: one in flight at most
                wait_until(lambda: len(choices_in(log)) >= i)
                time.sleep(pause)
            proc.stdin.write(option + "\n")
            proc.stdin.flush()
        time.sleep(kill_after)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    return proc.returncode


def textual_run(log: Path, sent: int, pause: float, kill_after: float, env: dict[str, str], keys: list[str]) -> int:
    """The full-screen game in a pseudo-terminal: press `sent` number keys, then SIGKILL."""
    term = Pty([sys.executable, "-m", "simulator.cli", "play", str(SCENARIO), "--seed", SEED, "--lang", "en", "--log", str(log)], env)
    try:
        term.wait_for("Begin")  # the briefing's footer
        term.send("\r")
        term.wait_for("0 decision(s)")
        for i, key in enumerate(keys[:sent]):
            if i:  # the next key only when the screen shows the previous decision (else the game ignores it)
                term.wait_for(f"{i} decision(s)", mark)
            time.sleep(KEY_GUARD + pause)  # and once the step has been on the screen for the guard (picks sooner are ignored)
            mark = len(term.raw)
            term.send(key)
        end = time.monotonic() + kill_after
        while time.monotonic() < end:
            term.pump(max(0.0, end - time.monotonic()))
    finally:
        os.kill(term.proc.pid, signal.SIGKILL)
        term.proc.wait()
        term.close()
    return term.proc.returncode


# ---------------------------------------------------------------- one trial, checked


@dataclass
class Tally:
    trials: int = 0
    killed: int = 0
    log_reads: int = 0
    lost_at_most_one: int = 0
    same_digest: int = 0
    verify_pass: int = 0
    torn: int = 0
    lost: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.trials > 0 and self.trials == self.killed == self.log_reads == self.lost_at_most_one == self.same_digest == self.verify_pass


def resume_in_process(log: Path, rest: list[str]) -> None:
    from scoring import session_observers
    from scoring.catalogue import load_catalogue
    from simulator.recorded import RecordedSession

    recorded = RecordedSession.resume(log, principles=load_catalogue().ids, observers=session_observers)
    try:
        for option in rest:
            recorded.choose(option)
    finally:
        recorded.close()


def verify_in_process(log: Path) -> bool:
    from scoring import session_observers
    from scoring.catalogue import load_catalogue
    from simulator.recorded import verify_log

    return verify_log(log, principles=load_catalogue().ids, observers=session_observers).ok


def check_trial(tally: Tally, log: Path, sent: int, status: int, want: str, *, via_cli: bool, env: dict[str, str], label: str) -> None:
    tally.trials += 1
    tally.killed += status == -signal.SIGKILL
    contents = read_log(log)
    if contents.header is None or not contents.ok:
        tally.failures.append(f"{label}: the log does not read: {[d.render() for d in contents.diagnostics]}")
        return
    tally.log_reads += 1
    tally.torn += contents.torn
    done = [r.data["choice"] for r in contents.records if r.kind == "choice"]
    lost = sent - len(done)
    tally.lost[lost] = tally.lost.get(lost, 0) + 1
    if done == COURSE_PATH[: len(done)] and 0 <= lost <= 1:
        tally.lost_at_most_one += 1
    else:
        tally.failures.append(f"{label}: sent {sent} decision(s), the log holds {done}")
    rest = COURSE_PATH[len(done):]
    try:
        if via_cli:
            resumed = cli("resume", str(log), "--choices", ",".join(rest), "--quiet", env=env)
            if resumed.returncode:
                raise RuntimeError(resumed.stderr)
        else:
            resume_in_process(log, rest)
    except Exception as exc:  # noqa: BLE001 — a failed resume is a failed trial, reported
        tally.failures.append(f"{label}: resume failed: {exc}")
        return
    if final_digest(log) == want:
        tally.same_digest += 1
    else:
        tally.failures.append(f"{label}: resumed to a different digest")
    ok = cli("replay", "--verify", str(log), env=env).returncode == 0 if via_cli else verify_in_process(log)
    tally.verify_pass += ok
    if not ok:
        tally.failures.append(f"{label}: replay --verify fails")


def cut_trials(n: int, rng: random.Random, folder: Path, want: str) -> Tally:
    """A kill inside the write itself is rare by chance (the write takes microseconds), so these
    trials make it happen: record a random number of decisions in-process, then cut the file at a
    random byte of the last decision's write (what the disk holds if the process dies there)."""
    from scoring import session_observers
    from scoring.catalogue import load_catalogue
    from simulator.loader import load_scenario
    from simulator.recorded import RecordedSession

    loaded = load_scenario(SCENARIO, load_catalogue().ids).loaded
    tally = Tally()
    for trial in range(n):
        log = folder / f"cut{trial}.jsonl"
        sent = rng.randint(1, len(COURSE_PATH) - 1)
        recorded = RecordedSession.start(loaded, int(SEED), "en", log, observers=session_observers)
        for option in COURSE_PATH[: sent - 1]:
            recorded.choose(option)
        before = log.stat().st_size
        recorded.choose(COURSE_PATH[sent - 1])
        recorded.close()
        data = log.read_bytes()
        cut = rng.randint(before, len(data) - 1)  # somewhere inside the decision's one write
        log.write_bytes(data[:cut])
        label = f"cut trial {trial} (decision {sent}, cut at byte {cut - before} of {len(data) - before})"
        check_trial(tally, log, sent, -signal.SIGKILL, want, via_cli=False, env={}, label=label)
    return tally


def reference_digest(folder: Path, env: dict[str, str]) -> str:
    reference = folder / "reference.jsonl"
    done = cli("play", str(SCENARIO), "--seed", SEED, "--lang", "en", "--choices", ",".join(COURSE_PATH), "--log", str(reference), "--quiet", env=env)
    want = final_digest(reference)
    if not want:
        raise RuntimeError(f"the uninterrupted reference run did not finish: {done.stderr}")
    return want


def run_trials(kind: str, n: int, rng: random.Random, folder: Path, want: str, *, cli_every: int = 5, jobs: int = 1) -> Tally:
    """`n` trials of one kind; `jobs` run at once (each trial is its own process and log)."""
    env = environment(folder)
    keys = option_numbers(SCENARIO, COURSE_PATH) if kind == "textual" else []
    plans = []
    for trial in range(n):  # drawn up front, so the trials are the same whatever `jobs` is
        sent = rng.randint(0, len(COURSE_PATH) - 1)
        pause = rng.uniform(0, 0.02)
        # half the kills within 10 ms of the key: while the decision is computed or written
        kill_after = rng.uniform(0, 0.01 if rng.random() < 0.5 else KILL_WINDOW)
        plans.append((trial, sent, pause, kill_after))

    def one(plan: tuple[int, int, float, float]) -> Tally:
        trial, sent, pause, kill_after = plan
        tally = Tally()
        log = folder / f"{kind}{trial}.jsonl"
        label = f"{kind} trial {trial} (sent {sent}, killed {kill_after * 1000:.0f} ms after the last key)"
        try:
            if kind == "textual":
                status = textual_run(log, sent, pause, kill_after, env, keys)
            else:
                status = headless_run(log, sent, pause, kill_after, env)
        except RuntimeError as exc:
            tally.trials += 1
            tally.failures.append(f"{label}: the game did not get that far: {exc}")
            return tally
        check_trial(tally, log, sent, status, want, via_cli=cli_every > 0 and trial % cli_every == 0, env=env, label=label)
        return tally

    if jobs > 1:
        with ThreadPoolExecutor(jobs) as pool:  # the work is in the child processes; threads only wait
            parts = list(pool.map(one, plans))
    else:
        parts = [one(plan) for plan in plans]
    total = Tally()
    for part in parts:
        for name in ("trials", "killed", "log_reads", "lost_at_most_one", "same_digest", "verify_pass", "torn"):
            setattr(total, name, getattr(total, name) + getattr(part, name))
        for lost, count in part.lost.items():
            total.lost[lost] = total.lost.get(lost, 0) + count
        total.failures += part.failures
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--headless", type=int, default=50, help="headless (line-mode) trials")
    parser.add_argument("--textual", type=int, default=50, help="full-screen (Textual, in a pseudo-terminal) trials")
    parser.add_argument("--cut", type=int, default=50, help="trials cutting the log inside a decision's write")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, help="trials at once")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    start = time.perf_counter()
    results: dict[str, Tally] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        want = reference_digest(folder, environment(folder))
        for kind, n in (("headless", args.headless), ("textual", args.textual)):
            if n:
                results[kind] = run_trials(kind, n, rng, folder, want, jobs=args.jobs)
        if args.cut:
            results["mid-write"] = cut_trials(args.cut, rng, folder, want)
    elapsed = time.perf_counter() - start
    print(f"crash safety: SIGKILL at a random moment, then resume ({elapsed:.0f} s)")
    print(f"{'check':34} " + " ".join(f"{k:>10}" for k in results))
    rows = [
        ("trials", "trials"),
        ("killed (SIGKILL, or cut mid-write)", "killed"),
        ("log reads", "log_reads"),
        ("lost at most the decision in flight", "lost_at_most_one"),
        ("resume reaches the same digest", "same_digest"),
        ("replay --verify passes", "verify_pass"),
        ("torn last line dropped (DS0510)", "torn"),
    ]
    for name, attr in rows:
        print(f"{name:34} " + " ".join(f"{getattr(t, attr):10d}" for t in results.values()))
    for kind, t in results.items():
        print(f"{kind}: decisions typed but not in the log at the kill: {dict(sorted(t.lost.items()))}")
        for failure in t.failures[:5]:
            print(f"  FAIL {failure}")
    figures = []
    for kind, t in results.items():
        passed = min(t.log_reads, t.lost_at_most_one, t.same_digest, t.verify_pass, t.killed)
        what = "log cut inside a decision's write" if kind == "mid-write" else f"{kind} SIGKILL"
        figures.append({"name": f"crash: {what} trials passing all checks", "value": passed, "unit": f"of {t.trials}",
                        "target": "all, ≥50", "ok": t.ok and t.trials >= 50})
    figures.append({"name": "crash: benchmark run time", "value": round(elapsed), "unit": "s", "target": "< 300", "ok": elapsed < 300})
    ok = all(t.ok for t in results.values())
    print("BENCH " + json.dumps({"benchmark": "crash", "figures": figures}, ensure_ascii=False))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

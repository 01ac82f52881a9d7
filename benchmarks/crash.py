"""Crash safety: SIGKILL a playing session at a random moment, then resume it.

Each trial starts `dealersim play SCENARIO --plain` (a real process, answering on stdin), sends
a random number of the path's choices with random pauses, and kills it with SIGKILL at a random
moment — often mid-decision. Then it checks that the log still reads, that at most the decision in
flight is lost, and that `dealersim resume LOG --choices <the rest>` reaches the same final
digest as an uninterrupted run. Prints one table.

    python benchmarks/crash.py [-n 50] [--scenario scenarios/stock_push/quarter_end.toml]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator.record import read_log  # noqa: E402

COURSE_PATH = ["look_first", "walk_warehouse", "promo_sized", "sell_through_rebate", "promo_joint", "report_keep", "joint_review", "joint_plan"]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simulator.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def final_digest(log: Path) -> str | None:
    contents = read_log(log)
    if not (contents.ok and contents.finished):
        return None
    return contents.records[-1].data["digest"]


def choices_in(log: Path) -> list[str]:
    if not log.exists():
        return []
    return [r.data["choice"] for r in read_log(log).records if r.kind == "choice"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=50)
    parser.add_argument("--scenario", default=str(ROOT / "scenarios/stock_push/quarter_end.toml"))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    path = COURSE_PATH
    tally = {"trials": 0, "log reads": 0, "lost ≤ 1 decision": 0, "resumed to same digest": 0, "verify PASS": 0}
    lost_hist: dict[int, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        reference = folder / "reference.jsonl"
        cli("play", args.scenario, "--seed", "5", "--choices", ",".join(path), "--log", str(reference), "--quiet")
        want = final_digest(reference)
        assert want, "the reference run did not finish"
        for trial in range(args.n):
            log = folder / f"trial{trial}.jsonl"
            proc = subprocess.Popen(
                [sys.executable, "-m", "simulator.cli", "play", args.scenario, "--seed", "5", "--plain", "--log", str(log)],
                cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
            )
            deadline = time.monotonic() + 60
            while not (log.exists() and read_log(log).records) and time.monotonic() < deadline:
                time.sleep(0.01)
            sent = rng.randint(0, len(path) - 1)
            for option in path[:sent]:
                proc.stdin.write(option + "\n")
                proc.stdin.flush()
                time.sleep(rng.uniform(0, 0.03))
            time.sleep(rng.uniform(0, 0.05))  # kill somewhere in the middle of the work
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            tally["trials"] += 1
            contents = read_log(log)
            if contents.header is None or not contents.ok:
                continue
            tally["log reads"] += 1
            done = choices_in(log)
            lost = sent - len(done)
            lost_hist[lost] = lost_hist.get(lost, 0) + 1
            if done == path[: len(done)] and lost <= 1:
                tally["lost ≤ 1 decision"] += 1
            rest = path[len(done):]
            resumed = cli("resume", str(log), "--choices", ",".join(rest), "--quiet")
            if resumed.returncode == 0 and final_digest(log) == want:
                tally["resumed to same digest"] += 1
            if cli("replay", "--verify", str(log)).returncode == 0:
                tally["verify PASS"] += 1
    print(f"{'check':28} {'passed':>7} / trials")
    for name, value in tally.items():
        if name != "trials":
            print(f"{name:28} {value:7d} / {tally['trials']}")
    print("decisions sent but not in the log at the kill:", dict(sorted(lost_hist.items())))
    return 0 if all(v == tally["trials"] for v in tally.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

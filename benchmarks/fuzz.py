"""Fuzz the three parsers that read what people write: scenarios, conditions and session logs.

Runs N generated cases against each (default 10,000) and prints one table: cases, diagnostics
returned, clean accepts, uncaught exceptions (must be 0), slowest case. Cases are generated from
seeds, so a failure can be reproduced with `--seed`.

    python benchmarks/fuzz.py [-n 10000] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator.expr import Scope, compile_condition  # noqa: E402
from simulator.loader import load_text  # noqa: E402
from simulator.record import LogWriter, read_log  # noqa: E402

MINI = (ROOT / "tests" / "data" / "mini.toml").read_text("utf-8")
SHIPPED = [p.read_text("utf-8") for p in sorted((ROOT / "scenarios").rglob("*.toml")) if not p.name.endswith(".test.toml")]
TOML_BITS = ["[", "]", "[[", "]]", "{", "}", "=", '"', "'", '"""', "'''", ",", "\n", "#", ".", "steps", "choices", "goto", "when", "id", "1e9", "-", "true", "中文", "\\", "\t", "\r\n"]
EXPR_BITS = ["dealer.wang.stock", "var.checked", "market.week", "and", "or", "not", "(", ")", ">", "<=", "==", "!=", "+", "-", "*", "/", "**", "%", "1", "0", "2.5", "1e400", 'visited("call")', "turns_since('order')", 'chose("call.check")', "min(", "max(", "abs(", ",", "__class__", ".", "lambda", "[", "]", "'", '"', "if", "else", " ", "&&", "!"]


def mutate(text: str, rng: random.Random, bits: list[str]) -> str:
    for _ in range(rng.randint(1, 6)):
        op = rng.random()
        i = rng.randrange(len(text) + 1)
        if op < 0.35:  # delete a span
            text = text[:i] + text[i + rng.randint(1, 30) :]
        elif op < 0.7:  # insert a fragment
            text = text[:i] + rng.choice(bits) + text[i:]
        elif op < 0.85:  # duplicate a span
            j = min(len(text), i + rng.randint(1, 80))
            text = text[:j] + text[i:j] + text[j:]
        else:  # replace a character with anything
            text = text[:i] + chr(rng.randint(0, 0x2FFFF) if rng.random() < 0.3 else rng.randint(32, 126)) + text[i + 1 :]
    return text


def scenario_case(rng: random.Random) -> str:
    base = rng.choice([MINI, *SHIPPED]) if rng.random() < 0.9 else "".join(rng.choice(TOML_BITS) for _ in range(rng.randint(0, 200)))
    return mutate(base, rng, TOML_BITS)


def run_scenario(case: str) -> bool:
    result = load_text(case, "fuzz.toml")
    assert all(d.code.startswith("DS") and d.message for d in result.diagnostics)
    assert result.ok or any(d.severity == "error" for d in result.diagnostics)
    return bool(result.diagnostics)


SCOPE = Scope(
    names={"dealer.wang.stock": "number", "var.checked": "bool", "market.week": "number"},
    steps=frozenset({"call", "order"}),
    choices=frozenset({"call.check"}),
)


class Ctx:
    def value(self, name: str):
        return {"dealer.wang.stock": 250.0, "var.checked": True, "market.week": 3.0}[name]

    def visited(self, step: str) -> bool:
        return step == "call"

    def turns_since(self, step: str) -> float:
        return 1.0

    def chose(self, choice: str) -> bool:
        return True


def expr_case(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return " ".join(rng.choice(EXPR_BITS) for _ in range(rng.randint(0, 25)))
    return mutate("dealer.wang.stock > 100 and (var.checked or visited('call'))", rng, EXPR_BITS)


def run_expr(case: str) -> bool:
    cond, diags = compile_condition(case, SCOPE, want=random.choice(["bool", "number"]))
    if cond is not None:
        value = cond.evaluate(Ctx())
        assert isinstance(value, (bool, float))
    else:
        assert diags and all(d.code.startswith("DS03") for d in diags)
    return bool(diags)


def make_valid_log(folder: Path) -> bytes:
    path = folder / "valid.jsonl"
    header = {"format": 1, "app_version": "fuzz", "scenario_id": "stock_push.mini", "scenario_sha256": "0" * 64, "scenario_path": "x.toml",
              "catalogue_version": "x", "seed_entropy": 1, "stream_keys": {"market": [1]}, "lang": "zh", "trainee": "测试", "numpy_version": "x", "python_version": "x"}
    with LogWriter.create(path, header) as writer:
        for i in range(12):
            writer.append("week", {"week": i, "dealers": {"wang": {"demand": 100.0 + i, "stock": 250.0 - i}}})
        writer.append("choice", {"step": "call", "choice": "check", "text": "先看库存"})
        writer.append("end", {"digest": "0" * 64})
    return path.read_bytes()


def log_case(rng: random.Random, valid: bytes) -> bytes:
    kind = rng.random()
    if kind < 0.2:
        return bytes(rng.randint(0, 255) for _ in range(rng.randint(0, 300)))
    data = bytearray(valid)
    if kind < 0.5:  # truncate anywhere
        return bytes(data[: rng.randrange(len(data) + 1)])
    for _ in range(rng.randint(1, 4)):  # flip, insert or delete bytes
        i = rng.randrange(len(data))
        op = rng.random()
        if op < 0.4:
            data[i] = rng.randint(0, 255)
        elif op < 0.7:
            data[i:i] = rng.choice([b"\n", b"{", b"}", b'"', b"\xff", b"0", json.dumps({"seq": 3}).encode()])
        else:
            del data[i : i + rng.randint(1, 20)]
    return bytes(data)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rows = []
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        valid = make_valid_log(folder)
        target = folder / "case.jsonl"

        def run_log(case: bytes) -> bool:
            target.write_bytes(case)
            contents = read_log(target)
            assert all(d.code.startswith("DS05") for d in contents.diagnostics)
            return bool(contents.diagnostics)

        suites: list[tuple[str, Callable[[random.Random], object], Callable[[object], bool]]] = [
            ("scenario loader", scenario_case, run_scenario),
            ("condition language", expr_case, run_expr),
            ("log reader", lambda rng: log_case(rng, valid), run_log),
        ]
        for name, make, run in suites:
            rng = random.Random(f"{args.seed}:{name}")
            diagnosed = accepted = crashed = 0
            slowest = 0.0
            for i in range(args.n):
                case = make(rng)
                start = time.perf_counter()
                try:
                    if run(case):
                        diagnosed += 1
                    else:
                        accepted += 1
                except Exception:  # noqa: BLE001 — counting uncaught exceptions is the point
                    crashed += 1
                    if len(failures) < 5:
                        failures.append(f"{name} case {i}: {case!r:.200}\n{traceback.format_exc()}")
                slowest = max(slowest, time.perf_counter() - start)
            rows.append((name, args.n, diagnosed, accepted, crashed, slowest))
    print(f"{'target':20} {'cases':>7} {'diagnosed':>10} {'accepted':>9} {'uncaught':>9} {'slowest':>9}")
    for name, n, diagnosed, accepted, crashed, slowest in rows:
        print(f"{name:20} {n:7d} {diagnosed:10d} {accepted:9d} {crashed:9d} {slowest * 1000:7.1f}ms")
    for f in failures:
        print("\n" + f)
    return 1 if any(r[4] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())

"""Fuzz the three parsers that read what people write: scenarios, conditions and session logs.

Runs N generated cases against each (default 10,000) and prints one table: cases, diagnostics
returned, clean accepts, uncaught exceptions (must be 0), slowest case; then, as its last line,
`BENCH {json}`. Cases come from seeded generators (one per unit of 500 cases), so a failure can
be reproduced with `--seed`; units run in parallel (`-j`, default: one process per CPU).

    python benchmarks/fuzz.py [-n 10000] [--seed 1] [-j 2]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
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
    pick = rng.random()  # half the cases from the small mini.toml: a full load of a big scenario costs ~50 ms
    if pick < 0.5:
        base = MINI
    elif pick < 0.9:
        base = rng.choice(SHIPPED)
    else:
        base = "".join(rng.choice(TOML_BITS) for _ in range(rng.randint(0, 200)))
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


NUMBERS = ["0", "1", "2.5", "100", "1e12", "999999999999", "0.000001", "8", "9", "-1"]


def number_expr(rng: random.Random, depth: int) -> str:
    """A well-formed numeric expression (so evaluation is exercised, not only the parser)."""
    if depth <= 0 or rng.random() < 0.3:
        return rng.choice(["dealer.wang.stock", "market.week", *NUMBERS, "turns_since('order')"])
    pick = rng.random()
    if pick < 0.5:
        op = rng.choice(["+", "-", "*", "/", "%", "**"])
        right = rng.choice(["0", "2", "8", "9", "-8", "0.5"]) if op == "**" else number_expr(rng, depth - 1)
        return f"({number_expr(rng, depth - 1)} {op} {right})"
    if pick < 0.75:
        return f"{rng.choice(['min', 'max'])}({', '.join(number_expr(rng, depth - 1) for _ in range(rng.randint(2, 4)))})"
    if pick < 0.9:
        return f"abs({number_expr(rng, depth - 1)})"
    return f"-{number_expr(rng, depth - 1)}"


def bool_expr(rng: random.Random, depth: int) -> str:
    if depth <= 0 or rng.random() < 0.25:
        return rng.choice(["var.checked", "true", "false", "visited('call')", 'chose("call.check")'])
    pick = rng.random()
    if pick < 0.4:
        return f"{number_expr(rng, depth - 1)} {rng.choice(['<', '<=', '>', '>=', '==', '!='])} {number_expr(rng, depth - 1)}"
    if pick < 0.8:
        return f"({bool_expr(rng, depth - 1)} {rng.choice(['and', 'or'])} {bool_expr(rng, depth - 1)})"
    return f"not {bool_expr(rng, depth - 1)}"


def expr_case(rng: random.Random) -> tuple[str, str]:
    want = rng.choice(["bool", "number"])
    kind = rng.random()
    if kind < 0.3:  # well-formed: compiles, then evaluates
        text = bool_expr(rng, rng.randint(0, 6)) if want == "bool" else number_expr(rng, rng.randint(0, 6))
    elif kind < 0.5:  # well-formed, then mutated
        text = mutate(bool_expr(rng, rng.randint(1, 5)), rng, EXPR_BITS)
    elif kind < 0.75:  # fragments in any order
        text = " ".join(rng.choice(EXPR_BITS) for _ in range(rng.randint(0, 25)))
    elif kind < 0.85:  # at and beyond the limits: nesting, length, exponents
        n = rng.choice([31, 32, 33, 200, 5000])
        text = rng.choice(["(" * n + "1" + ")" * n, "not " * n + "true", "-" * n + "1", "max(" * n + "1" + ",1)" * n,
                           "x" * (n * 10), "1+" * n + "1", f"2 ** {n}", "9 ** 9 ** 9"])
    else:
        text = mutate("dealer.wang.stock > 100 and (var.checked or visited('call'))", rng, EXPR_BITS)
    return text, want


def run_expr(case: tuple[str, str]) -> bool:
    text, want = case
    cond, diags = compile_condition(text, SCOPE, want=want)  # type: ignore[arg-type]
    if cond is not None:
        value = cond.evaluate(Ctx())
        assert isinstance(value, bool) if want == "bool" else (type(value) is float and math.isfinite(value)), value
    else:
        assert diags and all(d.code.startswith("DS03") and d.message for d in diags)
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


CHUNK = 500  # cases per work unit; a unit's cases come from its own seeded generator


def _run_log_case(case: bytes, target: Path) -> bool:
    target.write_bytes(case)
    contents = read_log(target)
    assert all(d.code.startswith("DS05") and d.message for d in contents.diagnostics)
    assert contents.ok or not contents.records or contents.diagnostics
    return bool(contents.diagnostics)


def run_chunk(name: str, seed: int, chunk: int, count: int) -> tuple[int, int, int, float, list[str]]:
    """(diagnosed, accepted, uncaught, slowest seconds, up to 3 failure reports) for one unit of work."""
    rng = random.Random(f"{seed}:{name}:{chunk}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if name == "log reader":
            valid = make_valid_log(folder)
            target = folder / "case.jsonl"
            make: Callable[[random.Random], object] = lambda r: log_case(r, valid)  # noqa: E731
            run: Callable[[object], bool] = lambda case: _run_log_case(case, target)  # type: ignore[arg-type]  # noqa: E731
        elif name == "scenario loader":
            make, run = scenario_case, run_scenario  # type: ignore[assignment]
        else:
            make, run = expr_case, run_expr  # type: ignore[assignment]
        diagnosed = accepted = crashed = 0
        slowest = 0.0
        failures: list[str] = []
        for i in range(count):
            case = make(rng)
            start = time.perf_counter()
            try:
                if run(case):
                    diagnosed += 1
                else:
                    accepted += 1
            except Exception:  # noqa: BLE001 — counting uncaught exceptions is the point
                crashed += 1
                if len(failures) < 3:
                    failures.append(f"{name} (--seed {seed}) unit {chunk} case {i}: {case!r:.300}\n{traceback.format_exc()}")
            slowest = max(slowest, time.perf_counter() - start)
    return diagnosed, accepted, crashed, slowest, failures


SUITES = ("scenario loader", "condition language", "log reader")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10_000, help="cases per target")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    args = parser.parse_args()
    started = time.perf_counter()
    units = [(name, args.seed, chunk, min(CHUNK, args.n - chunk * CHUNK)) for name in SUITES for chunk in range((args.n + CHUNK - 1) // CHUNK)]
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            results = list(pool.map(run_chunk, *zip(*units)))
    else:
        results = [run_chunk(*unit) for unit in units]
    rows = []
    failures: list[str] = []
    for name in SUITES:
        mine = [r for unit, r in zip(units, results) if unit[0] == name]
        failures += [f for r in mine for f in r[4]]
        rows.append((name, args.n, sum(r[0] for r in mine), sum(r[1] for r in mine), sum(r[2] for r in mine), max((r[3] for r in mine), default=0.0)))
    elapsed = time.perf_counter() - started
    print(f"fuzzing with seed {args.seed}, {args.jobs} process(es) ({elapsed:.0f} s)")
    print(f"{'target':20} {'cases':>7} {'diagnosed':>10} {'accepted':>9} {'uncaught':>9} {'slowest':>9}")
    for name, n, diagnosed, accepted, crashed, slowest in rows:
        print(f"{name:20} {n:7d} {diagnosed:10d} {accepted:9d} {crashed:9d} {slowest * 1000:7.1f}ms")
    for f in failures[:5]:
        print("\n" + f)
    figures = []
    for name, n, diagnosed, accepted, crashed, slowest in rows:
        figures.append({"name": f"fuzz: {name} cases", "value": n, "unit": "cases", "target": "≥ 10000", "ok": n >= 10_000})
        figures.append({"name": f"fuzz: {name} uncaught exceptions", "value": crashed, "unit": f"of {n}", "target": "0", "ok": crashed == 0})
        figures.append({"name": f"fuzz: {name} slowest case", "value": round(slowest * 1000, 1), "unit": "ms", "target": "< 2000", "ok": slowest < 2})
    figures.append({"name": "fuzz: run time", "value": round(elapsed), "unit": "s", "target": "< 300", "ok": elapsed < 300})
    print("BENCH " + json.dumps({"benchmark": "fuzz", "figures": figures}, ensure_ascii=False))
    return 1 if any(r[4] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())

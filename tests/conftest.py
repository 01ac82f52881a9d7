from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
MINI = DATA / "mini.toml"


@pytest.fixture(scope="session")
def principle_ids() -> list[str]:
    from scoring.catalogue import load_catalogue

    return load_catalogue().ids


@pytest.fixture(scope="session")
def mini(principle_ids):
    from simulator.loader import load_scenario

    result = load_scenario(MINI, principle_ids)
    assert result.ok, [d.render() for d in result.diagnostics]
    return result.loaded


def run_cli(*args: str, cwd: Path | None = None, input: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `dealersim` in a fresh process, as a user would."""
    full_env = {**os.environ, "PYTHONHASHSEED": "random", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "simulator.cli", *args],
        cwd=cwd or ROOT,
        input=input,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
    )


def wait_for(predicate, timeout: float = 60.0) -> None:
    """Poll until `predicate()` holds (for tests that watch another process); fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def choices_in(log: Path) -> int:
    """How many decisions a session log holds so far (0 before it exists)."""
    from simulator.record import read_log

    if not log.exists():
        return 0
    return sum(1 for r in read_log(log).records if r.kind == "choice")

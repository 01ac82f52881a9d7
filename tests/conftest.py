from __future__ import annotations

import os
import subprocess
import sys
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

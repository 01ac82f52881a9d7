"""The core never imports Textual: a scenario can be played, checked and scored without a UI."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = sorted(
    [p for p in (ROOT / "simulator").rglob("*.py") if "tui" not in p.relative_to(ROOT / "simulator").parts]
    + list((ROOT / "scoring").rglob("*.py"))
)


def test_no_textual_import_in_core_sources():
    offenders = [
        str(p.relative_to(ROOT))
        for p in CORE
        if any(line.lstrip().startswith(("import textual", "from textual")) for line in p.read_text("utf-8").splitlines())
    ]
    assert offenders == []


def test_importing_and_playing_the_core_loads_no_textual():
    modules = [".".join(p.relative_to(ROOT).with_suffix("").parts) for p in CORE if p.name != "__main__.py"]
    modules = [m.removesuffix(".__init__") for m in modules if m != "simulator.cli"]
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + "from simulator.loader import load_scenario\n"
        + "from simulator.engine import play\n"
        + f"play(load_scenario({str(ROOT / 'tests/data/mini.toml')!r}).loaded, 1, ['check', 'safe'])\n"
        + "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        + "assert not bad, bad\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr

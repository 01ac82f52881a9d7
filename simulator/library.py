"""Where scenarios are found: the shipped ones and any folders the user adds."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from simulator.diagnostics import Diagnostic, DiagnosticError, did_you_mean
from simulator.loader import LoadResult, load_scenario, scenario_files


def shipped_dir() -> Path:
    return Path(str(resources.files("scenarios")))


@dataclass
class Entry:
    path: Path
    result: LoadResult

    @property
    def ok(self) -> bool:
        return self.result.ok


def discover(extra: Collection[str | Path] = (), principles: Collection[str] | None = None) -> list[Entry]:
    folders = [shipped_dir(), *map(Path, extra)]
    return [Entry(p, load_scenario(p, principles)) for p in scenario_files(folders)]


def resolve(name: str, extra: Collection[str | Path] = (), principles: Collection[str] | None = None) -> Path:
    """A scenario file path from a path or a scenario id such as `stock_push.quarter_end`."""
    path = Path(name)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise DiagnosticError(Diagnostic.make("DS0602", f"no scenario file at {name}", "check the path, or use a scenario id (dealersim list)"))
        return path
    entries = discover(extra, principles)
    by_id = {e.result.loaded.scenario.id: e.path for e in entries if e.ok}
    if name in by_id:
        return by_id[name]
    raise DiagnosticError(
        Diagnostic.make("DS0602", f"no scenario with id '{name}'{did_you_mean(name, by_id)}", f"known scenarios: {', '.join(sorted(by_id)) or 'none'}")
    )

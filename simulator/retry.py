"""Retry from here: a new recorded session that replays a log's first N−1 decisions and stops at decision N.

The trainee then plays on from decision N as in any session. The new log is an ordinary session
log (resume and `replay --verify` work on it) whose header carries `retry_of` — which log and
which decision it retries (docs/RECORD.md). The engine is deterministic, so the replayed decisions
produce exactly the events the original log recorded for them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from simulator.diagnostics import DiagnosticError
from simulator.record import LogContents, read_log
from simulator.recorded import ObserversFor, RecordedSession, default_log_path, fallback_folder, scenario_for_log


@dataclass(frozen=True)
class RecordedChoice:
    """One decision as a log recorded it: the option (or negotiation move) and its params."""

    choice: str
    params: dict[str, Any]


def recorded_choices(contents: LogContents) -> list[RecordedChoice]:
    return [
        RecordedChoice(str(r.data.get("choice", "")), dict(r.data.get("params") or {}))
        for r in contents.records
        if r.kind == "choice"
    ]


def retry_log_path(sessions: Path, scenario_id: str, trainee: str, seed: str, decision: int, stamp: str | None = None) -> Path:
    """Next to the scenario's other sessions, named like them with `-retry<N>` added."""
    stamp = stamp or datetime.now().strftime("%Y%m%d-%H%M%S")
    base = default_log_path(sessions, scenario_id, trainee, seed, stamp)
    path = base.with_name(f"{base.stem}-retry{decision}.jsonl")
    n = 2
    while path.exists():  # two retries of the same decision in the same second
        path = base.with_name(f"{base.stem}-retry{decision}-{n}.jsonl")
        n += 1
    return path


def start_retry(
    log: Path,
    decision: int,
    sessions: Path,
    *,
    principles: Collection[str] | None = None,
    observers: ObserversFor | None = None,
    catalogue_version: str = "",
    path: Path | None = None,
) -> RecordedSession:
    """A new recorded session at decision `decision` (1-based) of `log`, with decisions 1..N−1 replayed.

    Raises DiagnosticError when the log cannot be read or its scenario has changed (DS0506), as
    `resume` does; ValueError when `decision` is not one of the log's decisions (a caller's bug)."""
    log = Path(log)
    contents = read_log(log)
    if contents.header is None or not contents.ok:
        raise DiagnosticError([d for d in contents.diagnostics if d.severity == "error"])
    choices = recorded_choices(contents)
    if not 1 <= decision <= len(choices):
        raise ValueError(f"decision {decision} is not in {log} (it has {len(choices)})")
    loaded = scenario_for_log(contents, None, principles)
    header = contents.header
    seed = str(header.get("seed", "0"))
    trainee = str(header.get("trainee", ""))
    retry_of = {
        "log": str(log.resolve()),
        "decision": decision,
        "header_hash": contents.header_record.hash if contents.header_record else "",
    }
    target = path or retry_log_path(sessions, loaded.scenario.id, trainee, seed, decision)
    recorded = RecordedSession.start(
        loaded, seed, header.get("lang", "en"), target, trainee=trainee,
        catalogue_version=catalogue_version or header.get("catalogue_version", ""), observers=observers, retry_of=retry_of,
        fallback=fallback_folder(),  # a read-only or full sessions folder moves the retry, as it does a new game
    )
    try:
        for c in choices[: decision - 1]:
            recorded.choose(c.choice, **c.params)
    except BaseException:
        recorded.close()
        raise
    return recorded

"""A session whose every event is in the log before the caller sees it: start, resume, verify.

This is the one place where the pure engine meets the session log. Front ends (CLI, TUI) play
through `RecordedSession` so that a crash loses at most the decision in flight.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from simulator.diagnostics import Diagnostic, DiagnosticError
from simulator.engine import Event, Observer, Session
from simulator.loader import LoadedScenario, load_scenario
from simulator.record import LogContents, LogWriter, canonical_json, digest, make_header, read_log
from simulator.schema import Lang

# Builds the observers (the scorer) for a session; the same factory is used to start, resume and verify.
ObserversFor = Callable[[LoadedScenario], list[Observer]]


def _observers(factory: ObserversFor | None, loaded: LoadedScenario) -> list[Observer]:
    return factory(loaded) if factory else []


def session_header(session: Session, trainee: str, catalogue_version: str) -> dict:
    loaded = session.loaded
    return make_header(
        scenario_id=session.scenario.id,
        scenario_sha256=loaded.sha256,
        scenario_path=str(Path(loaded.path).resolve()),
        catalogue_version=catalogue_version,
        seed_entropy=session.entropy,
        stream_keys=session.stream_keys(),
        lang=session.lang,
        trainee=trainee,
        seed=str(session.seed),
    )


class RecordedSession:
    def __init__(self, session: Session, writer: LogWriter):
        self.session = session
        self.writer = writer
        self.events: list[Event] = []  # everything recorded so far (engine and observer events), in order

    @property
    def path(self) -> Path:
        return self.writer.path

    @classmethod
    def start(
        cls,
        loaded: LoadedScenario,
        seed: int | str,
        lang: Lang,
        log_path: Path,
        *,
        trainee: str = "",
        catalogue_version: str = "",
        observers: ObserversFor | None = None,
    ) -> "RecordedSession":
        session = Session(loaded, seed, lang, observers=_observers(observers, loaded))
        writer = LogWriter.create(log_path, session_header(session, trainee, catalogue_version))
        recorded = cls(session, writer)
        recorded._write(session.events)
        return recorded

    def choose(self, option_id: str, **params) -> list[Event]:
        events = self.session.choose(option_id, **params)
        self._write(events)
        if self.session.finished:
            self._finish()
        return events

    def _write(self, events: list[Event]) -> None:
        for event in events:
            self.writer.append(event["kind"], event["data"])
            self.events.append(event)

    def _finish(self) -> None:
        self.writer.append("end", end_data(self.events, self.session.turn))
        self.writer.close()

    def close(self) -> None:
        self.writer.close()

    # ------------------------------------------------------------ resume

    @classmethod
    def resume(
        cls,
        log_path: Path,
        *,
        scenario_path: Path | None = None,
        principles: Collection[str] | None = None,
        observers: ObserversFor | None = None,
    ) -> "RecordedSession":
        writer, contents = LogWriter.append_to(log_path)
        try:
            session, expected = replay_choices(contents, scenario_path, principles, observers)
            recorded_events = [(r.kind, r.data) for r in contents.records]
            for i, (kind, data) in enumerate(recorded_events):
                if i >= len(expected) or _canon(expected[i]) != _canon({"kind": kind, "data": data}):
                    rec = contents.records[i]
                    raise DiagnosticError(
                        Diagnostic.make(
                            "DS0507",
                            f"record {rec.seq} does not match what the scenario produces now",
                            "the scenario or dealersim changed since this session was recorded; replay it instead of resuming",
                            file=str(log_path),
                            line=rec.line,
                        )
                    )
        except DiagnosticError:
            writer.close()
            raise
        recorded = cls(session, writer)
        recorded.events.extend(expected[: len(contents.records)])
        # what the interrupted run computed but did not write (the end record is written by _finish)
        recorded._write([e for e in expected[len(contents.records):] if e["kind"] != "end"])
        if session.finished:
            recorded._finish()
        return recorded


def _canon(event: Event) -> str:
    return canonical_json(event)


def scenario_for_log(contents: LogContents, scenario_path: Path | None, principles: Collection[str] | None) -> LoadedScenario:
    header = contents.header or {}
    path = scenario_path or Path(header.get("scenario_path", ""))
    result = load_scenario(path, principles)
    if not result.ok:
        raise DiagnosticError(
            [Diagnostic.make("DS0506", f"the session's scenario {path} cannot be loaded now", "pass the scenario file with --scenario", file=str(contents.path))]
            + result.diagnostics
        )
    loaded = result.loaded
    assert loaded is not None
    if loaded.sha256 != header.get("scenario_sha256"):
        raise DiagnosticError(
            Diagnostic.make(
                "DS0506",
                f"scenario {path} has changed since this session was recorded (sha256 {loaded.sha256[:12]}… ≠ {str(header.get('scenario_sha256'))[:12]}…)",
                "use the scenario version the session was played with (e.g. from version control), or replay without --verify",
                file=str(contents.path),
                line=1,
            )
        )
    return loaded


def replay_choices(
    contents: LogContents,
    scenario_path: Path | None,
    principles: Collection[str] | None,
    observers: ObserversFor | None,
) -> tuple[Session, list[Event]]:
    """Re-simulate a log's recorded choices; returns the session and every event it produces."""
    header = contents.header or {}
    loaded = scenario_for_log(contents, scenario_path, principles)
    session = Session(loaded, header.get("seed", "0"), header.get("lang", "en"), observers=_observers(observers, loaded))
    events: list[Event] = list(session.events)
    for record in contents.records:
        if record.kind != "choice" or session.finished:
            continue
        # a negotiation move carries its params (values, issue, how): the re-simulation makes the same move
        events.extend(session.choose(record.data.get("choice", ""), **(record.data.get("params") or {})))
    if session.finished:
        events.append({"kind": "end", "data": end_data(events, session.turn)})
    return session, events


def end_data(events: list[Event], turns: int) -> dict:
    return {"digest": digest((e["kind"], e["data"]) for e in events), "turns": turns}


@dataclass
class Verdict:
    ok: bool
    message: str
    diagnostics: list[Diagnostic]


def verify_log(
    log_path: Path,
    *,
    scenario_path: Path | None = None,
    principles: Collection[str] | None = None,
    observers: ObserversFor | None = None,
) -> Verdict:
    """PASS when the log is intact and re-simulating its choices gives exactly its events."""
    contents = read_log(log_path)
    if not contents.ok or contents.header is None:
        return Verdict(False, "the log is damaged", [d for d in contents.diagnostics if d.severity == "error"])
    try:
        _, expected = replay_choices(contents, scenario_path, principles, observers)
    except DiagnosticError as err:
        return Verdict(False, "cannot re-simulate", err.diagnostics)
    for i, record in enumerate(contents.records):
        if i >= len(expected) or _canon(expected[i]) != _canon({"kind": record.kind, "data": record.data}):
            want = expected[i]["kind"] if i < len(expected) else "nothing"
            return Verdict(
                False,
                f"diverges at record {record.seq}",
                [
                    Diagnostic.make(
                        "DS0507",
                        f"record {record.seq} ({record.kind}) differs from the re-simulation (expected {want})",
                        "the session was recorded with a different dealersim or numpy; compare app_version and numpy_version in the header",
                        file=str(log_path),
                        line=record.line,
                    )
                ],
            )
    if len(expected) > len(contents.records) and contents.finished:
        return Verdict(False, "the log ends early", [Diagnostic.make("DS0507", "the log ends before the re-simulation does", "", file=str(log_path))])
    status = "finished" if contents.finished else "unfinished (resumable)"
    return Verdict(True, f"PASS: {len(contents.records)} records re-simulated identically; session {status}", [])


def default_log_path(folder: Path, scenario_id: str, trainee: str, seed: int | str, stamp: str) -> Path:
    """sessions/<scenario>/<stamp>-<pseudonym>-s<seed>.jsonl, with every part made filename-safe."""
    safe = _safe_part(trainee) or "anon"
    tag = hashlib.sha256(f"{trainee}|{seed}|{stamp}".encode()).hexdigest()[:6]
    return folder / _safe_part(scenario_id) / f"{stamp}-{safe}-s{_safe_part(str(seed))}-{tag}.jsonl"


def _safe_part(text: str) -> str:
    """Letters (any script), digits, '-', '_' and '.' only — never a path separator or '..'."""
    cleaned = "".join(ch if (ch.isalnum() or ch in "-_.") else "_" for ch in text.strip())[:40]
    return cleaned.strip(".") or ""

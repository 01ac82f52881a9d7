"""A session whose every event is in the log before the caller sees it: start, resume, verify.

This is the one place where the pure engine meets the session log. Front ends (CLI, TUI) play
through `RecordedSession` so that a crash loses at most the decision in flight.
"""

from __future__ import annotations

import errno
import hashlib
import secrets
import tempfile
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from simulator.diagnostics import Diagnostic, DiagnosticError
from simulator.engine import Event, Observer, Session
from simulator.loader import LoadedScenario, load_scenario
from simulator.record import LogContents, LogWriter, canonical_json, digest, disk_refused, make_header, os_reason, read_log
from simulator.schema import Lang

# Builds the observers (the scorer) for a session; the same factory is used to start, resume and verify.
ObserversFor = Callable[[LoadedScenario], list[Observer]]


def _observers(factory: ObserversFor | None, loaded: LoadedScenario) -> list[Observer]:
    return factory(loaded) if factory else []


def session_header(session: Session, trainee: str, catalogue_version: str, retry_of: dict | None = None) -> dict:
    loaded = session.loaded
    # `retry_of` only on a retry (docs/RECORD.md): older readers ignore it, older logs lack it
    extra = {"retry_of": retry_of} if retry_of is not None else {}
    return make_header(
        **extra,
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


def fallback_folder() -> Path:
    """Where a session goes on when its folder refuses to take it (read-only, disk full): a
    folder in the system's temporary space, which every user can write to."""
    return Path(tempfile.gettempdir()) / "dealersim-sessions"


@dataclass(frozen=True)
class LogNotice:
    """Something a front end must tell the trainee about the log: it `moved` to another folder
    (DS0511), records are `unsaved` and wait in memory (DS0512), or they are `saved` again."""

    kind: str  # "moved", "unsaved", "saved"
    path: Path  # where the session's log is now
    diagnostic: Diagnostic | None = None
    waiting: int = 0  # decisions that wait in memory ("unsaved")


SESSIONS_HINT = "choose a folder you can write to: `dealersim --sessions FOLDER`, or set DEALERSIM_SESSIONS=FOLDER (`--log FILE` for one session)"


class RecordedSession:
    """A session whose events go to the log before `choose` returns: one write and one fsync per
    decision (its events and, at the end, the end record), so a crash loses at most the decision
    in flight.

    With `fallback` (a folder), a disk that refuses the log (full, read-only, removed) does not
    stop the game: the session moves to a new log in `fallback` (its records so far re-written
    there, DS0511), and when that fails too the records wait in memory and every later decision
    retries (DS0512). Front ends show `take_notices()` after each decision. Without `fallback`,
    the refusal is raised (DS0509), as for a library caller who wants to know at once."""

    def __init__(self, session: Session, writer: LogWriter | None, *, header: dict | None = None,
                 path: Path | None = None, fallback: Path | None = None):
        self.session = session
        self.writer = writer
        self.events: list[Event] = []  # everything recorded so far (engine and observer events), in order
        self.header = header if header is not None else {}
        self.fallback = fallback
        self.pending: list[tuple[str, dict]] = []  # computed, not yet in any log (the disk refused)
        self.notices: list[LogNotice] = []  # what happened to the log since the front end last looked
        self.moved_from: Path | None = None  # the log the session started in, when it had to move
        self._path = Path(path) if path is not None else (writer.path if writer else Path())
        self._saved = 0  # events (not the end record) safely in the log at self._path
        self._failed: DiagnosticError | None = None  # the refusal that start() met, handled by the first _flush
        self._unsaved = False  # records wait in memory (told with DS0512)

    @property
    def path(self) -> Path:
        return self.writer.path if self.writer is not None else self._path

    @property
    def saved(self) -> bool:
        """Every event so far is in the log on disk."""
        return not self.pending

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
        retry_of: dict | None = None,
        fallback: Path | None = None,
    ) -> "RecordedSession":
        session = Session(loaded, seed, lang, observers=_observers(observers, loaded))
        header = session_header(session, trainee, catalogue_version, retry_of)
        refused: DiagnosticError | None = None
        try:
            writer: LogWriter | None = LogWriter.create(log_path, header)
        except DiagnosticError as err:
            if fallback is None or disk_refused(err) is None:
                raise
            writer, refused = None, err  # the folder refuses: the first _flush moves to the fallback folder
        recorded = cls(session, writer, header=header, path=Path(log_path), fallback=fallback)
        recorded._failed = refused
        recorded._record(list(session.events))
        return recorded

    def choose(self, option_id: str, **params) -> list[Event]:
        events = self.session.choose(option_id, **params)
        batch = [(e["kind"], e["data"]) for e in events]
        self.events.extend(events)
        if self.session.finished:  # the end record goes with the last decision: one fsync
            batch.append(("end", end_data(self.events, self.session.turn)))
        self.pending.extend(batch)
        self._flush()
        if self.session.finished and not self.pending and self.writer is not None:
            self.writer.close()
        return events

    def retry_save(self) -> bool:
        """Try once more to write what waits in memory; True when everything is in the log."""
        self._flush()
        return not self.pending

    def take_notices(self) -> list[LogNotice]:
        """What happened to the log (moved, not saved, saved again) since the last call."""
        notices, self.notices = self.notices, []
        return notices

    def _record(self, events: list[Event]) -> None:
        self.events.extend(events)
        self.pending.extend((e["kind"], e["data"]) for e in events)
        self._flush()

    def close(self) -> None:
        """Close the log, trying once more to save what waits in memory."""
        if self.pending:
            self._flush()
        if self.writer is not None:
            self.writer.close()

    # ------------------------------------------------------------ when the disk refuses

    def _flush(self) -> None:
        if not self.pending and self._failed is None:
            return
        failed, self._failed = self._failed, None
        if failed is None:
            try:
                self._append_pending()
                if self._unsaved:
                    self._unsaved = False
                    self.notices.append(LogNotice("saved", self.path))
                return
            except DiagnosticError as err:
                if self.fallback is None or disk_refused(err) is None:
                    raise
                failed = err
        message = failed.diagnostics[0].message
        if not self._in_fallback():
            try:
                old = self.path
                self._move_to_fallback()
                self._append_pending()
                self.moved_from = self.moved_from or old
                self._unsaved = False
                self.notices.append(LogNotice("moved", self.path, Diagnostic.make(
                    "DS0511",
                    f"{message}; this session goes on in {self.path}, and nothing is lost",
                    SESSIONS_HINT, file=str(self.path))))
                return
            except DiagnosticError as err:
                refusal = disk_refused(err)
                if refusal is None:
                    raise
                message += f"; the fallback folder {self.fallback} refuses it too ({os_reason(refusal)})"
        self._unsaved = True
        count = sum(1 for kind, _ in self.pending if kind == "choice")
        self.notices.append(LogNotice("unsaved", self.path, Diagnostic.make(
            "DS0512",
            f"{message}; {len(self.pending)} record(s) of this session ({count} decision(s)) wait in memory "
            "and are written as soon as the disk takes them",
            "free some disk space and play on (every decision tries again; quitting now loses what waits in memory), "
            "or next time " + SESSIONS_HINT, file=str(self.path)), waiting=count))

    def _in_fallback(self) -> bool:
        return self.fallback is not None and self.writer is not None and self.path.parent == self.fallback

    def _append_pending(self) -> None:
        if self.writer is None or self.writer.broken or self.writer.closed:
            if self.writer is not None and not (self.writer.closed and self.session.finished):
                self.writer.close()
            self.writer = self._reopen()
        self.writer.append_many(self.pending)
        self._saved += sum(1 for kind, _ in self.pending if kind != "end")
        self.pending.clear()

    def _reopen(self) -> LogWriter:
        """A writer for self._path again: a new log when none was made, else the old one re-read
        (a torn tail is cut off); must hold exactly the events saved so far."""
        path = self._path
        try:
            if self.writer is None and not self._saved:  # the log was never made
                return LogWriter.create(path, self.header)
            writer, contents = LogWriter.append_to(path)
        except DiagnosticError as err:
            if disk_refused(err) is None:  # e.g. the file was replaced meanwhile: not ours to write to
                raise _refused(path, err.diagnostics[0].message) from None
            raise
        if len(contents.records) != self._saved:
            writer.close()
            raise _refused(path, "it no longer holds what this session wrote")
        return writer

    def _move_to_fallback(self) -> None:
        """A new log in the fallback folder with the header and every event saved so far (re-written
        from memory: the refused disk may not even be readable), then the pending ones follow."""
        assert self.fallback is not None
        name = self._path.name if self._path.suffix == ".jsonl" else self._path.name + ".jsonl"
        target = self.fallback / name
        n = 1
        while target.exists():
            n += 1
            target = self.fallback / f"{Path(name).stem}-{n}.jsonl"
        writer = LogWriter.create(target, self.header)
        try:
            saved = [(e["kind"], e["data"]) for e in self.events[: self._saved]]
            writer.append_many(saved)
        except BaseException:
            writer.close()
            raise
        if self.writer is not None:
            self.writer.close()
        self.writer = writer
        self._path = target

    # ------------------------------------------------------------ resume

    @classmethod
    def resume(
        cls,
        log_path: Path,
        *,
        scenario_path: Path | None = None,
        principles: Collection[str] | None = None,
        observers: ObserversFor | None = None,
        fallback: Path | None = None,
    ) -> "RecordedSession":
        refused: DiagnosticError | None = None
        writer: LogWriter | None
        try:
            writer, contents = LogWriter.append_to(log_path)
        except DiagnosticError as err:
            if fallback is None or disk_refused(err) is None:
                raise
            # the log cannot be opened for writing (read-only folder or file): read it, and go on in
            # the fallback folder from the records it holds
            contents = read_log(log_path)
            if not contents.ok or contents.header is None:
                raise DiagnosticError(contents.diagnostics or err.diagnostics) from None
            if contents.finished:
                raise DiagnosticError(Diagnostic.make(
                    "DS0508", f"the session in {log_path} already finished (record {contents.records[-1].seq} is its end)",
                    "start a new session; `dealersim replay LOG` shows this one", file=str(log_path),
                    line=contents.records[-1].line)) from None
            writer, refused = None, err
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
            if writer is not None:
                writer.close()
            raise
        recorded = cls(session, writer, header=dict(contents.header or {}), path=Path(log_path), fallback=fallback)
        recorded._failed = refused
        recorded.events.extend(expected[: len(contents.records)])
        recorded._saved = len(contents.records)
        # what the interrupted run computed but did not write (a decision cut short), in one write
        rest = [e for e in expected[len(contents.records):] if e["kind"] != "end"]
        recorded.events.extend(rest)
        recorded.pending.extend((e["kind"], e["data"]) for e in rest)
        if session.finished:
            recorded.pending.append(("end", end_data(recorded.events, session.turn)))
        recorded._flush()  # with `refused`, moves to the fallback folder now, even with nothing to write
        if session.finished and not recorded.pending and recorded.writer is not None:
            recorded.writer.close()
        return recorded


def _refused(path: Path, why: str) -> DiagnosticError:
    err = DiagnosticError(Diagnostic.make("DS0509", f"cannot write the session log {path}: {why}", SESSIONS_HINT, file=str(path)))
    err.os_error = OSError(errno.EIO, why)  # type: ignore[attr-defined]
    return err

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


@dataclass(frozen=True)
class LogSummary:
    """One session log as a list of logs shows it (the game's resume list, the debrief viewer's picker)."""

    path: Path
    scenario_id: str
    trainee: str
    seed: str
    lang: str
    decisions: int
    finished: bool
    ok: bool  # the log reads without error (a damaged one keeps its good prefix but cannot be resumed)
    retry_of: int | None  # the decision a retry started from


def session_logs(folder: Path, *, limit: int, keep: Callable[[LogSummary], bool] | None = None) -> list[LogSummary]:
    """Session logs under `folder`, newest first (by file name: it starts with the time), at most
    `limit` of those `keep` accepts; files that are not session logs are passed over."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found: list[LogSummary] = []
    for path in sorted(folder.rglob("*.jsonl"), key=lambda p: p.name, reverse=True):
        contents = read_log(path)
        h = contents.header
        if h is None:
            continue
        retry = h.get("retry_of")
        summary = LogSummary(
            path=path,
            scenario_id=str(h.get("scenario_id", "?")),
            trainee=str(h.get("trainee", "")),
            seed=str(h.get("seed", "")),
            lang=str(h.get("lang", "en")),
            decisions=sum(1 for r in contents.records if r.kind == "choice"),
            finished=contents.finished,
            ok=contents.ok,
            retry_of=int(retry["decision"]) if isinstance(retry, dict) and isinstance(retry.get("decision"), int) else None,
        )
        if keep is None or keep(summary):
            found.append(summary)
            if len(found) >= limit:
                break
    return found


def default_log_path(folder: Path, scenario_id: str, trainee: str, seed: int | str, stamp: str) -> Path:
    """sessions/<scenario>/<stamp>-<pseudonym>-s<seed>-<tag>.jsonl, with every part made filename-safe.

    The tag is random: in a classroom thirty anonymous trainees start the same workshop code in the
    same second, and each must get a log of their own (a clash would refuse to start the game)."""
    safe = _safe_part(trainee) or "anon"
    tag = secrets.token_hex(3)
    return folder / (_safe_part(scenario_id) or "scenario") / f"{stamp}-{safe}-s{_safe_part(str(seed))}-{tag}.jsonl"


SAFE_PART_BYTES = 60  # per part: a log's file name stays far below the usual 255-byte limit


def _safe_part(text: str) -> str:
    """Letters (any script), digits, '-', '_' and '.' only — never a path separator, NUL or '..' —
    and at most SAFE_PART_BYTES bytes of UTF-8 (a name in 4-byte characters is cut sooner)."""
    out: list[str] = []
    size = 0
    for ch in text.strip():
        ch = ch if (ch.isalnum() or ch in "-_.") else "_"
        size += len(ch.encode("utf-8", "replace"))
        if size > SAFE_PART_BYTES or len(out) >= 40:
            break
        out.append(ch)
    return "".join(out).strip(".") or ""

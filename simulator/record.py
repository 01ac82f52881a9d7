"""The append-only JSONL session log: every training session, recorded for the debrief.

One file per session. Line 1 is the header record; every later line is one event record. Each
record is one canonical JSON object carrying the SHA-256 of the record before it (`prev`) and of
itself (`hash`), so changing, removing or reordering any record breaks the chain where it happened.

This module is the I/O edge of the simulator: it owns the clock and the disk. Reading never raises
for anything a file can contain (problems become diagnostics); writing raises `DiagnosticError`
with DS0509 when the disk refuses, and never leaves half a line behind if it can help it.

The format is documented for maintainers and instructors in docs/RECORD.md.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import platform
import stat
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from .diagnostics import Diagnostic, DiagnosticError, has_errors

try:  # POSIX advisory lock so two dealersims never write one log at once; absent on Windows
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "FORMAT_VERSION",
    "ZERO_HASH",
    "HEADER_FIELDS",
    "Record",
    "LogContents",
    "LogWriter",
    "canonical_json",
    "record_hash",
    "make_header",
    "read_log",
    "digest",
    "disk_refused",
    "utc_now",
]

FORMAT_VERSION = 1
ZERO_HASH = "0" * 64
HEADER_KIND = "header"
END_KIND = "end"
RECORD_KEYS = frozenset({"seq", "t", "kind", "data", "prev", "hash"})

# Header fields and the JSON types a reader accepts for each. Unknown extra fields are ignored.
HEADER_FIELDS: dict[str, tuple[type, ...]] = {
    "format": (int,),
    "app_version": (str,),
    "scenario_id": (str,),
    "scenario_sha256": (str,),
    "scenario_path": (str,),
    "catalogue_version": (str, int),
    "seed_entropy": (int,),
    "stream_keys": (dict,),
    "lang": (str,),
    "trainee": (str,),
    "numpy_version": (str,),
    "python_version": (str,),
}

_O_BINARY = getattr(os, "O_BINARY", 0)  # Windows would otherwise turn "\n" into "\r\n"
_HEX = frozenset("0123456789abcdef")

_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_DECODER = json.JSONDecoder()


# ---------------------------------------------------------------------------------------------
# canonical form, hashes, digest


def canonical_json(obj: Any) -> str:
    """The one JSON text of `obj` that hashes are computed over: sorted keys, no spaces, UTF-8
    characters as themselves, NaN/Infinity refused (ValueError)."""
    return _ENCODER.encode(obj)


def record_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of a record without its `hash` key."""
    body = {k: v for k, v in fields.items() if k != "hash"}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def _normalized(data: Any) -> Any:
    """`data` exactly as a reader will see it after a round trip through the log
    (tuples become lists, non-string keys become strings)."""
    return _DECODER.decode(canonical_json(data))


def digest(records: Iterable["Record"] | Iterable[tuple[str, Mapping[str, Any]]]) -> str:
    """SHA-256 (hex) proving two runs produced the same events.

    It covers, in order, the kind and data of every event and nothing else (no times, sequence
    numbers or hashes; header records are skipped): the hash of the concatenation of
    `canonical_json([kind, data]) + "\\n"` for each event. Accepts `Record`s (as read back) or
    `(kind, data)` pairs (as the engine produced them); both give the same digest.
    """
    h = hashlib.sha256()
    for item in records:
        if isinstance(item, Record):
            kind, data = item.kind, item.data
        else:
            kind, data = item
            data = _normalized(data)
        if kind == HEADER_KIND:
            continue
        h.update(canonical_json([kind, data]).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def utc_now() -> str:
    """The default clock: current UTC time as ISO-8601 with microseconds and `Z`."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ---------------------------------------------------------------------------------------------
# the header


def _is_int(value: Any) -> bool:
    return type(value) is int  # bool is not a whole number here


def _type_name(value: Any) -> str:
    return {
        dict: "an object", list: "a list", str: "text", bool: "true/false", int: "a whole number",
        float: "a decimal number", type(None): "null",
    }.get(type(value), type(value).__name__)


def _header_problem(data: Mapping[str, Any]) -> tuple[str, str] | None:
    """(code, message) for the first problem with a header's `data`, or None when it is fine."""
    if "format" not in data:
        return "DS0502", "the header record has no 'format' field"
    fmt = data["format"]
    if not _is_int(fmt):
        return "DS0502", f"the header's 'format' must be a whole number, found {_type_name(fmt)}"
    if fmt > FORMAT_VERSION:
        return "DS0503", f"log recorded by a newer dealersim (format {fmt}); this is format {FORMAT_VERSION}"
    if fmt < 1:
        return "DS0502", f"the header names log format {fmt}, which never existed"
    missing = [name for name in HEADER_FIELDS if name not in data]
    if missing:
        return "DS0502", "the header record lacks " + ", ".join(f"'{m}'" for m in missing)
    for name, types in HEADER_FIELDS.items():
        value = data[name]
        if type(value) is bool or not isinstance(value, types):
            want = " or ".join(_type_name(t()) for t in types)
            return "DS0502", f"the header's '{name}' must be {want}, found {_type_name(value)}"
    if data["seed_entropy"] < 0:
        return "DS0502", "the header's 'seed_entropy' must not be negative"
    for key, value in data["stream_keys"].items():
        if not isinstance(value, list) or not all(_is_int(x) for x in value):
            return "DS0502", f"the header's stream key '{key}' must be a list of whole numbers"
    return None


def make_header(
    *,
    scenario_id: str,
    scenario_sha256: str,
    scenario_path: str | os.PathLike[str],
    catalogue_version: str | int,
    seed_entropy: int,
    stream_keys: Mapping[str, Iterable[int]],
    lang: str,
    trainee: str,
    app_version: str | None = None,
    numpy_version: str | None = None,
    python_version: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The `data` of a header record, with `format` and the version fields filled in.

    `stream_keys` values may be any iterables of integers (tuples, numpy arrays); they are stored
    as lists of Python ints. Raises ValueError for values a reader would refuse (a programming
    error, not a user's)."""
    if app_version is None:
        from . import __version__ as app_version
    if numpy_version is None:
        try:
            import numpy

            numpy_version = str(numpy.__version__)
        except ImportError:  # pragma: no cover - numpy is a dependency
            numpy_version = "none"
    if python_version is None:
        python_version = platform.python_version()
    try:
        keys = {str(name): [int(x.__index__()) for x in values] for name, values in stream_keys.items()}
        entropy = int(seed_entropy.__index__())
    except (AttributeError, TypeError) as e:
        raise ValueError(f"stream keys and seed entropy must be whole numbers: {e}") from None
    header = {
        **extra,
        "format": FORMAT_VERSION,
        "app_version": app_version,
        "scenario_id": scenario_id,
        "scenario_sha256": scenario_sha256,
        "scenario_path": os.fspath(scenario_path),
        "catalogue_version": catalogue_version,
        "seed_entropy": entropy,
        "stream_keys": keys,
        "lang": lang,
        "trainee": trainee,
        "numpy_version": numpy_version,
        "python_version": python_version,
    }
    problem = _header_problem(header)
    if problem:
        raise ValueError(problem[1])
    return header


# ---------------------------------------------------------------------------------------------
# reading


@dataclass(frozen=True)
class Record:
    seq: int
    t: str
    kind: str
    data: dict
    prev: str
    hash: str
    line: int  # 1-based line of the record in the file


@dataclass
class LogContents:
    path: Path
    header: dict | None  # the header record's `data` (format, scenario_id, seed_entropy, ...)
    records: list[Record]  # the event records of the good prefix, header excluded
    diagnostics: list[Diagnostic]
    torn: bool  # a torn last line was dropped (DS0510)
    header_record: Record | None = None  # the header as a Record (its time, hash, line 1)
    good_size: int = 0  # bytes of the file up to the end of the last good record line

    @property
    def finished(self) -> bool:
        return bool(self.records) and self.records[-1].kind == END_KIND

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)

    @property
    def last_seq(self) -> int:
        """Sequence number of the last good record (0 = header only, -1 = not even a header)."""
        if self.records:
            return self.records[-1].seq
        return 0 if self.header_record is not None else -1


_TAMPER_HINT = (
    "the log was changed or damaged after dealersim wrote it; use an untouched copy (a backup) — a "
    "changed log can be neither verified nor resumed"
)
_RECORD_PREFIX = b'{"data":'  # every canonical record line starts like this (sorted keys)


def _shape_problem(obj: Any) -> str | None:
    """What is wrong with the structure of one parsed line, or None."""
    if not isinstance(obj, dict):
        return f"it is {_type_name(obj)}, not a record object"
    keys = obj.keys()
    if keys != RECORD_KEYS:
        missing = sorted(RECORD_KEYS - keys)
        if missing:
            return "the record lacks " + ", ".join(f"'{k}'" for k in missing)
        return "the record has unexpected fields " + ", ".join(f"'{k}'" for k in sorted(keys - RECORD_KEYS))
    if not _is_int(obj["seq"]) or obj["seq"] < 0:
        return f"its 'seq' must be a whole number from 0 up, found {_type_name(obj['seq'])}"
    for name in ("t", "kind"):
        if not isinstance(obj[name], str) or not obj[name]:
            return f"its '{name}' must be non-empty text, found {_type_name(obj[name])}"
    if not isinstance(obj["data"], dict):
        return f"its 'data' must be an object, found {_type_name(obj['data'])}"
    for name in ("prev", "hash"):
        value = obj[name]
        if not isinstance(value, str) or len(value) != 64 or not _HEX.issuperset(value):
            return f"its '{name}' must be 64 lowercase hex digits"
    return None


def _no_nan(value: str) -> Any:
    raise ValueError(f"{value} is not allowed in a session log")


_STRICT_DECODER = json.JSONDecoder(parse_constant=_no_nan)


def _parse(chunk: bytes, first: bool) -> tuple[Any, str, int]:
    """(object, "", 0) or (None, why, column)."""
    try:
        text = chunk.decode("utf-8")
    except UnicodeDecodeError as e:
        return None, f"byte {e.start + 1} is not valid UTF-8", e.start + 1
    if first and text.startswith("\ufeff"):  # a byte-order mark some editors add
        text = text[1:]
    try:
        return _STRICT_DECODER.decode(text), "", 0
    except json.JSONDecodeError as e:
        return None, f"it is not valid JSON ({e.msg} at column {e.colno})", e.colno
    except (ValueError, RecursionError) as e:  # NaN, a 5000-digit number, nesting too deep
        return None, f"it is not valid JSON ({e})", 0


def read_log(path: str | os.PathLike[str]) -> LogContents:
    """Read and check a session log. Never raises for any file content: every problem becomes a
    diagnostic, and `records` holds the good prefix up to the first error."""
    p = Path(path)
    name = os.fspath(path)
    out = LogContents(path=p, header=None, records=[], diagnostics=[], torn=False)

    def problem(code: str, message: str, hint: str, line: int = 0, col: int = 0) -> LogContents:
        out.diagnostics.append(Diagnostic.make(code, message, hint, file=name, line=line, col=col))
        return out

    try:
        st = os.stat(p)
        if stat.S_ISDIR(st.st_mode):
            return problem("DS0501", f"{name} is a folder, not a session log", "give the path of a .jsonl log file")
        if not stat.S_ISREG(st.st_mode):
            return problem("DS0501", f"{name} is not a regular file", "give the path of a .jsonl log file")
        raw = p.read_bytes()
    except FileNotFoundError:
        return problem("DS0501", f"no session log at {name}", "check the path; dealersim prints the log's path when a session starts")
    except (OSError, ValueError) as e:
        return problem("DS0501", f"cannot read {name}: {_reason(e)}", "check the path and the file's permissions")

    if not raw:
        return problem(
            "DS0502", f"{name} is empty, so it is not a dealersim session log",
            "a session stopped before its first record leaves an empty file; start a new session",
        )

    parts = raw.split(b"\n")
    ends_with_newline = not parts[-1]
    if ends_with_newline:
        parts.pop()
    count = len(parts)
    prev_hash = ZERO_HASH
    offset = 0
    ended = False

    for index, chunk in enumerate(parts):
        lineno = index + 1
        seq = index  # the record this line should hold
        first = index == 0
        last = index == count - 1
        has_newline = not last or ends_with_newline
        where = f"line {lineno}" if first else f"line {lineno} (where record {seq} belongs)"

        def torn() -> None:
            out.torn = True
            problem(
                "DS0510",
                f"the last line (line {lineno}) was cut short while record {seq} was being written, and was dropped",
                "nothing is lost that resuming cannot redo: `dealersim resume LOG` continues from "
                f"record {seq - 1}" if seq else "the session stopped as it started; start a new session",
                lineno,
            )

        obj, why, col = _parse(chunk, first)
        if obj is None:
            if last and not (first and has_newline) and (not first or _RECORD_PREFIX.startswith(chunk[:8])):
                torn()
                break
            if first:
                problem("DS0502", f"{name} is not a dealersim session log: line 1 is not a record — {why}",
                        "give the path of a log written by dealersim (a .jsonl file)", 1, col)
            else:
                problem("DS0504", f"{where} is corrupt: {why}", _TAMPER_HINT, lineno, col)
            break

        if first and isinstance(obj, dict) and obj.get("kind") == HEADER_KIND and isinstance(obj.get("data"), dict):
            fmt = obj["data"].get("format")
            if _is_int(fmt) and fmt > FORMAT_VERSION:  # a newer format may differ in every other way
                problem("DS0503", f"log recorded by a newer dealersim (format {fmt}); this is format {FORMAT_VERSION}",
                        "upgrade dealersim to read it", 1)
                break

        shape = _shape_problem(obj)
        if shape and first:
            problem("DS0502", f"{name} is not a dealersim session log: line 1 is not a record — {shape}",
                    "give the path of a log written by dealersim (a .jsonl file)", 1)
            break
        if last and not has_newline:  # complete JSON, but the line was never finished
            torn()
            break
        if shape:
            problem("DS0504", f"{where} is corrupt: {shape}", _TAMPER_HINT, lineno)
            break

        if ended:
            problem("DS0504", f"record {obj['seq']} (line {lineno}) comes after the session's end record",
                    _TAMPER_HINT, lineno)
            break
        if obj["seq"] != seq:
            if first:
                message = f"line 1 holds record {obj['seq']}, not the header (record 0): the start of the log is missing"
            else:
                message = (f"line {lineno} holds record {obj['seq']} where record {seq} belongs: "
                           "records are missing, repeated or out of order")
            problem("DS0505", message, _TAMPER_HINT, lineno)
            break
        try:
            actual = record_hash(obj)
        except (ValueError, TypeError, RecursionError) as e:  # e.g. a lone surrogate "\ud800"
            problem("DS0504", f"record {seq} (line {lineno}) is corrupt: it holds a value dealersim never writes ({e})",
                    _TAMPER_HINT, lineno)
            break
        if actual != obj["hash"]:
            problem("DS0505", f"record {seq} (line {lineno}) was altered: its hash does not match its content",
                    _TAMPER_HINT, lineno)
            break
        if obj["prev"] != prev_hash:
            if first:
                message = "record 0 (line 1) does not start a hash chain: its 'prev' is not 64 zeros"
            else:
                message = (f"record {seq} (line {lineno}) does not follow record {seq - 1} (line {lineno - 1}): "
                           f"its 'prev' is not the hash of record {seq - 1}, so a record before it was altered, "
                           "removed or replaced")
            problem("DS0505", message, _TAMPER_HINT, lineno)
            break

        kind = obj["kind"]
        if first:
            if kind != HEADER_KIND:
                problem("DS0502", f"{name} does not start with a header record (record 0 is a '{kind}' record)",
                        "give the path of a log written by dealersim (a .jsonl file)", 1)
                break
            header_problem = _header_problem(obj["data"])
            if header_problem:
                problem(header_problem[0], header_problem[1],
                        "upgrade dealersim to read it" if header_problem[0] == "DS0503"
                        else "this file was not written by dealersim, or its header was edited", 1)
                break
        elif kind == HEADER_KIND:
            problem("DS0504", f"record {seq} (line {lineno}) is a second header record", _TAMPER_HINT, lineno)
            break

        record = Record(seq=seq, t=obj["t"], kind=kind, data=obj["data"], prev=prev_hash, hash=actual, line=lineno)
        if first:
            out.header_record = record
            out.header = record.data
        else:
            out.records.append(record)
        ended = kind == END_KIND
        prev_hash = actual
        offset += len(chunk) + 1
        out.good_size = offset

    if out.header_record is None and out.ok:
        problem("DS0502", f"{name} holds no complete header record: the session stopped as its log was created",
                "start a new session", 1)
    return out


# ---------------------------------------------------------------------------------------------
# writing


def _reason(e: BaseException) -> str:
    """An OS error in plain words."""
    if isinstance(e, ValueError):
        return "the path is not a valid file name"
    plain = {
        errno.ENOSPC: "the disk is full",
        errno.EROFS: "the disk is read-only",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.ENOENT: "a folder on the way does not exist",
        errno.ENOTDIR: "part of the path is a file, not a folder",
        errno.EISDIR: "it is a folder",
        errno.EIO: "input/output error (the disk may be failing or was removed)",
        errno.EFBIG: "the file is too large",
        errno.ENAMETOOLONG: "the file name is too long",
    }
    if hasattr(errno, "EDQUOT"):
        plain[errno.EDQUOT] = "your disk quota is used up"
    err = getattr(e, "errno", None)
    return plain.get(err) or getattr(e, "strerror", None) or str(e)


os_reason = _reason  # for the session layer, which words its own messages


def _hint_for(e: BaseException) -> str:
    err = getattr(e, "errno", None)
    if err in (errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR, errno.ENOENT):
        return "choose a folder you can write to with --log"
    return "free some disk space or choose another folder with --log"


def _cannot_write(path: Path, e: BaseException, hint: str | None = None) -> DiagnosticError:
    err = DiagnosticError(
        Diagnostic.make("DS0509", f"cannot write the session log {os.fspath(path)}: {_reason(e)}",
                        hint or _hint_for(e), file=os.fspath(path))
    )
    # the disk refused (full, read-only, ...): a front end may carry on in another folder. Refusals
    # that are decisions (a log that exists, a finished session) leave this None.
    err.os_error = e  # type: ignore[attr-defined]
    return err


def disk_refused(err: DiagnosticError) -> BaseException | None:
    """The OS error behind a DS0509 raised because the disk refused, else None."""
    return getattr(err, "os_error", None)


class _AppendFile:
    """The open log file: a plain object (so tests can replace `write` or `fsync`)."""

    def __init__(self, fd: int, size: int) -> None:
        self.fd = fd
        self.size = size  # bytes of complete lines in the file

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            if written <= 0:
                raise OSError(errno.EIO, "the disk accepted no bytes")
            view = view[written:]

    def fsync(self) -> None:
        os.fsync(self.fd)

    def truncate(self, size: int) -> None:
        os.ftruncate(self.fd, size)

    def lock(self) -> bool:
        """Take the advisory lock; False when another process holds it."""
        if fcntl is None:  # pragma: no cover - Windows
            return True
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        except OSError:  # file systems without locks: carry on unlocked
            return True
        return True

    def close(self) -> None:
        os.close(self.fd)


def _fsync_dir(folder: Path) -> None:
    """Make a new file's directory entry durable (best effort; not possible on every system)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class LogWriter:
    """Appends records to one session log: one line per record; each call (`append`, or
    `append_many` for a whole decision) is written and fsynced before it returns.

    Make one with `LogWriter.create` (new session) or `LogWriter.append_to` (resume)."""

    def __init__(self, path: Path, file: _AppendFile, last_seq: int, last_hash: str, *,
                 clock: Callable[[], str] | None = None, finished: bool = False) -> None:
        self.path = path
        self.last_seq = last_seq
        self._file: _AppendFile | None = file
        self._last_hash = last_hash
        self._clock = clock or utc_now
        self._finished = finished
        self._broken = False

    # -- making one

    @classmethod
    def create(cls, path: str | os.PathLike[str], header: Mapping[str, Any], *,
               clock: Callable[[], str] | None = None) -> "LogWriter":
        """Start a new log at `path` with `header` (see `make_header`) as record 0.

        Refuses to overwrite anything (DS0509); creates missing parent folders."""
        p = Path(path)
        problem = _header_problem(header) if isinstance(header, Mapping) else (None, "the header must be a dict")
        if problem:
            raise ValueError(f"invalid log header: {problem[1]}")
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | _O_BINARY, 0o644)
        except FileExistsError:
            raise DiagnosticError(Diagnostic.make(
                "DS0509", f"{os.fspath(p)} already exists; dealersim never overwrites a session log",
                "choose another file name with --log, or continue that session with `dealersim resume LOG`",
                file=os.fspath(p),
            )) from None
        except (OSError, ValueError) as e:
            raise _cannot_write(p, e) from None
        writer = cls(p, _AppendFile(fd, 0), -1, ZERO_HASH, clock=clock)
        try:
            writer._file.lock()  # type: ignore[union-attr]
            writer._write(HEADER_KIND, dict(header))
        except BaseException:
            writer.close()
            try:
                p.unlink()  # an empty file would only block the next attempt
            except OSError:
                pass
            raise
        _fsync_dir(p.parent)
        return writer

    @classmethod
    def append_to(cls, path: str | os.PathLike[str], *,
                  clock: Callable[[], str] | None = None) -> tuple["LogWriter", LogContents]:
        """Open an interrupted session's log to continue it.

        A torn last line is cut off (the file is truncated to the end of the last good line);
        a finished log (DS0508) or one with any error is refused with DiagnosticError. Returns
        the writer and what was read (with its DS0510 warning if a torn line was dropped)."""
        p = Path(path)
        try:
            fd = os.open(p, os.O_RDWR | os.O_APPEND | _O_BINARY)
        except (OSError, ValueError) as e:
            contents = read_log(p)
            if not contents.ok:  # not found, a folder, not a log, ...
                raise DiagnosticError(contents.diagnostics) from None
            hint = None
            if getattr(e, "errno", None) in (errno.EACCES, errno.EPERM, errno.EROFS):
                hint = "make the log writable (check its permissions), or copy it to a folder you can write to and resume the copy"
            raise _cannot_write(p, e, hint) from None
        file = _AppendFile(fd, 0)
        try:
            if not file.lock():
                raise DiagnosticError(Diagnostic.make(
                    "DS0509", f"another dealersim is writing to {os.fspath(p)} right now",
                    "finish or close the other session first", file=os.fspath(p),
                ))
            contents = read_log(p)
            if not contents.ok:
                raise DiagnosticError(contents.diagnostics)
            if contents.finished:
                end = contents.records[-1]
                raise DiagnosticError(Diagnostic.make(
                    "DS0508", f"the session in {os.fspath(p)} already finished (record {end.seq} is its end)",
                    "start a new session; `dealersim replay LOG` shows this one",
                    file=os.fspath(p), line=end.line,
                ))
            if contents.torn:
                file.truncate(contents.good_size)
                file.fsync()
            file.size = contents.good_size
        except OSError as e:
            file.close()
            raise _cannot_write(p, e) from None
        except BaseException:
            file.close()
            raise
        last = contents.records[-1] if contents.records else contents.header_record
        assert last is not None  # an ok log has a header
        return cls(p, file, last.seq, last.hash, clock=clock), contents

    # -- writing

    def append(self, kind: str, data: Mapping[str, Any]) -> Record:
        """Write one event record (one line, flushed and fsynced) and return it as a reader will
        see it. Raises DiagnosticError DS0509 when the disk refuses, DS0508 after an `end` record,
        ValueError/TypeError for data that is not plain JSON (a programming error)."""
        return self.append_many([(kind, data)])[0]

    def append_many(self, events: Iterable[tuple[str, Mapping[str, Any]]]) -> list[Record]:
        """Write several event records with one write and one fsync (one decision's events: a
        keypress waits for one disk flush, not one per event). All or nothing as far as the disk
        allows: on an error the file is cut back to where it was. A SIGKILL during the write can
        leave a prefix of the records and a torn line, which the reader drops (DS0510) and
        `resume` re-creates. Raises as `append` does; nothing is written if any item is invalid."""
        items = list(events)
        if self._file is None:
            raise ValueError("the session log writer is closed")
        for kind, data in items:
            if not isinstance(kind, str) or not kind:
                raise ValueError("an event kind must be non-empty text")
            if kind == HEADER_KIND:
                raise ValueError("the header record is written by LogWriter.create")
            if not isinstance(data, Mapping):
                raise TypeError(f"event data must be a dict, not {type(data).__name__}")
        if any(kind == END_KIND for kind, _ in items[:-1]):
            raise ValueError("the end record must be the last record")
        if not items:
            return []
        if self._finished:
            raise DiagnosticError(Diagnostic.make(
                "DS0508", f"the session in {os.fspath(self.path)} already finished; nothing can follow its end record",
                "start a new session", file=os.fspath(self.path),
            ))
        if self._broken:
            raise DiagnosticError(Diagnostic.make(
                "DS0509", f"the session log {os.fspath(self.path)} may end in an incomplete line after an earlier write error",
                "free some disk space, then continue with `dealersim resume LOG`", file=os.fspath(self.path),
            ))
        return self._write_many([(kind, dict(data)) for kind, data in items])

    def _write(self, kind: str, data: dict) -> Record:
        return self._write_many([(kind, data)])[0]

    def _write_many(self, items: list[tuple[str, dict]]) -> list[Record]:
        assert self._file is not None
        records: list[Record] = []
        lines: list[bytes] = []
        seq, prev = self.last_seq, self._last_hash
        for kind, data in items:
            try:
                data = _normalized(data)
            except (TypeError, ValueError) as e:
                raise type(e)(f"the data of a '{kind}' record cannot be written to the log: {e}") from None
            t = self._clock()
            if not isinstance(t, str) or not t:
                raise TypeError("the log clock must return an ISO-8601 time as text")
            seq += 1
            fields = {"seq": seq, "t": t, "kind": kind, "data": data, "prev": prev}
            hash_ = record_hash(fields)
            lines.append((canonical_json({**fields, "hash": hash_}) + "\n").encode("utf-8"))
            records.append(Record(seq=seq, t=t, kind=kind, data=data, prev=prev, hash=hash_, line=seq + 1))
            prev = hash_
        blob = b"".join(lines)

        file = self._file
        try:
            file.write(blob)
            file.fsync()
        except OSError as e:
            seq = self.last_seq + 1
            try:  # take back whatever part of the line reached the file
                file.truncate(file.size)
                file.fsync()
            except OSError:
                self._broken = True
            if seq == 0:
                hint = _hint_for(e)
            else:
                hint = (_hint_for(e) + f"; records up to {seq - 1} are safe in the log, and "
                        "`dealersim resume LOG` continues from there")
            raise _cannot_write(self.path, e, hint) from None
        file.size += len(blob)
        self.last_seq = records[-1].seq
        self._last_hash = records[-1].hash
        self._finished = records[-1].kind == END_KIND
        return records

    # -- closing

    @property
    def closed(self) -> bool:
        return self._file is None

    @property
    def last_hash(self) -> str:
        return self._last_hash

    @property
    def broken(self) -> bool:
        """An earlier write error could not be taken back: the file may end in a torn line."""
        return self._broken

    @property
    def committed_size(self) -> int:
        """Bytes of the file that hold complete, fsynced records (the header and everything since)."""
        return self._file.size if self._file is not None else 0

    def close(self) -> None:
        if self._file is not None:
            file, self._file = self._file, None
            file.close()

    def __enter__(self) -> "LogWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._file is None else f"last_seq={self.last_seq}"
        return f"LogWriter({os.fspath(self.path)!r}, {state})"

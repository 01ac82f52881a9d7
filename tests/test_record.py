"""The session log: what an instructor replaying a session, or a trainee resuming one, relies on."""

from __future__ import annotations

import errno
import hashlib
import itertools
import json
import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.diagnostics import DiagnosticError
from simulator.record import (
    FORMAT_VERSION,
    ZERO_HASH,
    LogContents,
    LogWriter,
    Record,
    canonical_json,
    digest,
    make_header,
    read_log,
    record_hash,
)

EVENTS: list[tuple[str, dict]] = [
    ("step", {"step": "intro", "text": "经销商来电 — the dealer calls", "n": 1}),
    ("choice", {"step": "intro", "choice": "listen", "ms": 5123}),
    ("effect", {"var": "trust", "delta": -0.25, "note": None, "tags": ["a", "b"]}),
    ("week", {"week": 1, "sales": [12, 7, 0], "stock": {"sedan": 40, "suv": 3}, "ok": True}),
    ("route", {"from": "intro", "to": "week-2"}),
    ("ending", {"id": "good", "title": {"en": "A good year", "zh": "好的一年"}}),
    ("score", {"total": 87.5, "by_principle": {"P1": 30, "P2": 57.5}}),
    ("end", {"reason": "ending"}),
]


def header(**over) -> dict:
    fields = dict(
        scenario_id="family/first-dealer",
        scenario_sha256=hashlib.sha256(b"scenario").hexdigest(),
        scenario_path="scenarios/family/first-dealer.toml",
        catalogue_version=2,
        seed_entropy=2**190 + 12345,  # bigger than any float can hold exactly
        stream_keys={"market": (0, 1), "dealer": [2]},
        lang="zh",
        trainee="李雷",
    )
    fields.update(over)
    return make_header(**fields)


def ticking_clock(start: int = 0):
    counter = itertools.count(start)
    return lambda: f"2026-11-23T10:00:{next(counter) % 60:02d}.{next(counter) % 1000000:06d}Z"


def write_log(path: Path, events=EVENTS, *, clock=None) -> list[Record]:
    with LogWriter.create(path, header(), clock=clock or ticking_clock()) as w:
        return [w.append(kind, data) for kind, data in events]


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def errors(contents: LogContents):
    return [d for d in contents.diagnostics if d.severity == "error"]


def codes(contents: LogContents) -> list[str]:
    return [d.code for d in contents.diagnostics]


# ---------------------------------------------------------------------------------------------
# writing and reading back


def test_round_trip_gives_back_exactly_what_was_written(tmp_path):
    path = tmp_path / "sessions" / "deep" / "s1.jsonl"  # missing folders are created
    written = write_log(path)

    got = read_log(path)
    assert got.ok and got.diagnostics == [] and not got.torn
    assert got.header == header()
    assert got.header["seed_entropy"] == 2**190 + 12345
    assert got.header["stream_keys"] == {"market": [0, 1], "dealer": [2]}
    assert got.records == written
    assert [(r.kind, r.data) for r in got.records] == [(k, json.loads(json.dumps(d))) for k, d in EVENTS]
    assert [r.seq for r in got.records] == list(range(1, len(EVENTS) + 1))
    assert [r.line for r in got.records] == list(range(2, len(EVENTS) + 2))
    assert got.finished
    assert len(lines_of(path)) == len(EVENTS) + 1


def test_every_line_is_canonical_json_with_a_checkable_hash_chain(tmp_path):
    path = tmp_path / "s.jsonl"
    write_log(path)
    prev = ZERO_HASH
    for number, raw in enumerate(lines_of(path)):
        assert raw.endswith(b"\n")
        record = json.loads(raw)
        assert raw.decode("utf-8") == canonical_json(record) + "\n"
        assert record["seq"] == number and record["prev"] == prev
        body = {k: v for k, v in record.items() if k != "hash"}
        assert record["hash"] == hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()
        assert record["hash"] == record_hash(record)
        prev = record["hash"]
    assert json.loads(lines_of(path)[0])["kind"] == "header"
    assert json.loads(lines_of(path)[0])["data"]["format"] == FORMAT_VERSION
    assert "李雷".encode("utf-8") in lines_of(path)[0]  # readable, not \\u-escaped


def test_unfinished_session_is_not_finished(tmp_path):
    path = tmp_path / "s.jsonl"
    write_log(path, EVENTS[:-1])
    got = read_log(path)
    assert got.ok and not got.finished and got.last_seq == len(EVENTS) - 1

    header_only = tmp_path / "h.jsonl"
    LogWriter.create(header_only, header()).close()
    got = read_log(header_only)
    assert got.ok and got.records == [] and not got.finished and got.header_record.seq == 0


def test_default_clock_is_utc_iso_with_microseconds(tmp_path):
    with LogWriter.create(tmp_path / "s.jsonl", header()) as w:
        record = w.append("step", {})
    assert len(record.t) == len("2026-11-23T10:00:00.123456Z") and record.t.endswith("Z") and record.t[10] == "T"


def test_digest_ignores_times_and_proves_identical_events(tmp_path):
    a = write_log(tmp_path / "a.jsonl", clock=ticking_clock(0))
    b = write_log(tmp_path / "b.jsonl", clock=lambda: "1999-01-01T00:00:00.000000Z")
    assert [r.t for r in a] != [r.t for r in b]
    assert [r.hash for r in a] != [r.hash for r in b]

    read_a, read_b = read_log(tmp_path / "a.jsonl").records, read_log(tmp_path / "b.jsonl").records
    assert digest(read_a) == digest(read_b) == digest(a) == digest(EVENTS)
    assert digest(read_a) == digest(read_a)  # stable
    # the header is not an event: including it changes nothing
    assert digest([read_log(tmp_path / "a.jsonl").header_record, *read_a]) == digest(read_a)
    # (kind, data) pairs as the engine holds them, tuples and all, digest the same as read back
    assert digest([("week", {"sales": (1, 2)})]) == digest([("week", {"sales": [1, 2]})])
    # documented definition, checkable by hand
    by_hand = hashlib.sha256(b"".join(canonical_json([k, d]).encode() + b"\n" for k, d in EVENTS)).hexdigest()
    assert digest(EVENTS) == by_hand
    # any change in the events shows
    changed = list(EVENTS)
    changed[3] = ("week", {**EVENTS[3][1], "week": 2})
    assert digest(changed) != digest(EVENTS)
    assert digest(EVENTS[:-1]) != digest(EVENTS)
    assert digest(list(reversed(EVENTS))) != digest(EVENTS)


def test_writer_refuses_data_that_is_not_plain_json(tmp_path):
    path = tmp_path / "s.jsonl"
    with LogWriter.create(path, header()) as w:
        with pytest.raises(ValueError):
            w.append("effect", {"x": float("nan")})
        with pytest.raises(TypeError):
            w.append("effect", {"x": object()})
        with pytest.raises(ValueError):
            w.append("header", {})
        w.append("step", {"ok": 1})
    got = read_log(path)  # the refused events left nothing behind
    assert got.ok and [r.data for r in got.records] == [{"ok": 1}]


def test_make_header_refuses_a_header_a_reader_would_refuse():
    with pytest.raises(ValueError):
        header(seed_entropy=-1)
    with pytest.raises(ValueError):
        header(stream_keys={"market": [1.5]})
    with pytest.raises(ValueError):
        LogWriter.create("/nonexistent-never-created/x.jsonl", {"format": 1})


# ---------------------------------------------------------------------------------------------
# torn last line (the session was killed mid-write)


def test_torn_last_line_is_dropped_with_a_warning_and_resume_repairs_it(tmp_path):
    path = tmp_path / "s.jsonl"
    written = write_log(path, EVENTS[:5])
    full = path.read_bytes()
    path.write_bytes(full[: len(full) - 30])  # record 5 cut mid-line

    got = read_log(path)
    assert got.ok and got.torn
    assert codes(got) == ["DS0510"]
    assert got.diagnostics[0].severity == "warning" and got.diagnostics[0].line == 6
    assert "line 6" in got.diagnostics[0].message and "record 5" in got.diagnostics[0].message
    assert got.records == written[:4]  # only the torn record is lost

    writer, seen = LogWriter.append_to(path, clock=ticking_clock(100))
    assert seen.torn and writer.last_seq == 4
    with writer:
        redone = [writer.append(kind, data) for kind, data in EVENTS[4:]]
    assert redone[0].seq == 5 and redone[0].line == 6 and redone[0].prev == written[3].hash

    again = read_log(path)
    assert again.ok and again.diagnostics == [] and not again.torn and again.finished
    assert [(r.kind, r.data) for r in again.records] == [(r.kind, r.data) for r in read_log_records(EVENTS)]
    assert digest(again.records) == digest(EVENTS)


def read_log_records(events):
    return [Record(0, "", k, json.loads(json.dumps(d)), "", "", 0) for k, d in events]


def test_complete_last_record_without_its_newline_counts_as_torn(tmp_path):
    path = tmp_path / "s.jsonl"
    written = write_log(path, EVENTS[:3])
    path.write_bytes(path.read_bytes()[:-1])
    got = read_log(path)
    assert got.torn and codes(got) == ["DS0510"] and got.records == written[:2]
    writer, _ = LogWriter.append_to(path)
    writer.close()
    assert path.read_bytes().count(b"\n") == 3 and path.read_bytes().endswith(b"\n")
    assert read_log(path).diagnostics == []


def test_garbage_last_line_counts_as_torn(tmp_path):
    path = tmp_path / "s.jsonl"
    written = write_log(path, EVENTS[:3])
    with open(path, "ab") as f:
        f.write(b"\x00\x00\x00\x00\n")  # what a crash can leave on some file systems
    got = read_log(path)
    assert got.ok and got.torn and got.records == written


def test_header_cut_short_is_not_a_usable_log(tmp_path):
    path = tmp_path / "s.jsonl"
    write_log(path)
    path.write_bytes(path.read_bytes()[:40])
    got = read_log(path)
    assert got.torn and not got.ok and got.header is None
    assert "DS0502" in codes(got)
    with pytest.raises(DiagnosticError) as e:
        LogWriter.append_to(path)
    assert "DS0502" in [d.code for d in e.value.diagnostics]


# ---------------------------------------------------------------------------------------------
# tampering


def test_one_changed_digit_names_the_record_and_its_line(tmp_path):
    path = tmp_path / "s.jsonl"
    write_log(path)
    lines = lines_of(path)
    k = 4  # the "week" record, on line 5
    assert b'"sales":[12,7,0]' in lines[k]
    lines[k] = lines[k].replace(b'"sales":[12,7,0]', b'"sales":[13,7,0]')
    path.write_bytes(b"".join(lines))

    got = read_log(path)
    assert codes(got) == ["DS0505"] and not got.ok
    d = got.diagnostics[0]
    assert d.line == 5 and d.file == str(path)
    assert "record 4 (line 5) was altered: its hash does not match its content" in d.message
    assert d.hint
    assert [r.seq for r in got.records] == [1, 2, 3]  # the good prefix


def test_recomputed_hash_still_breaks_the_link_to_the_next_record(tmp_path):
    path = tmp_path / "s.jsonl"
    write_log(path)
    lines = lines_of(path)
    record = json.loads(lines[3])
    record["data"]["var"] = "stock"
    record["hash"] = record_hash(record)  # a careful forger
    lines[3] = (canonical_json(record) + "\n").encode()
    path.write_bytes(b"".join(lines))

    got = read_log(path)
    assert codes(got) == ["DS0505"]
    assert got.diagnostics[0].line == 5
    assert "record 4 (line 5) does not follow record 3" in got.diagnostics[0].message


def test_deleted_line_is_reported_where_it_was(tmp_path):
    path = tmp_path / "s.jsonl"
    write_log(path)
    lines = lines_of(path)
    del lines[3]  # record 3
    path.write_bytes(b"".join(lines))
    got = read_log(path)
    assert codes(got) == ["DS0505"]
    assert got.diagnostics[0].line == 4 and "record 3" in got.diagnostics[0].message
    assert [r.seq for r in got.records] == [1, 2]


def test_deleted_header_is_reported(tmp_path):
    path = tmp_path / "s.jsonl"
    write_log(path)
    path.write_bytes(b"".join(lines_of(path)[1:]))
    got = read_log(path)
    assert not got.ok and got.header is None and got.diagnostics[0].line == 1


def test_swapped_lines_are_reported_where_the_order_breaks(tmp_path):
    path = tmp_path / "s.jsonl"
    write_log(path)
    lines = lines_of(path)
    lines[2], lines[5] = lines[5], lines[2]
    path.write_bytes(b"".join(lines))
    got = read_log(path)
    assert codes(got) == ["DS0505"]
    assert got.diagnostics[0].line == 3 and "record 2" in got.diagnostics[0].message
    assert [r.seq for r in got.records] == [1]


def test_corrupt_middle_line_is_an_error_not_a_torn_line(tmp_path):
    path = tmp_path / "s.jsonl"
    write_log(path)
    lines = lines_of(path)
    lines[2] = lines[2][:20] + b"\n"
    path.write_bytes(b"".join(lines))
    got = read_log(path)
    assert codes(got) == ["DS0504"] and not got.torn
    assert got.diagnostics[0].line == 3 and "record 2" in got.diagnostics[0].message
    with pytest.raises(DiagnosticError):
        LogWriter.append_to(path)


# ---------------------------------------------------------------------------------------------
# files that are not logs


@pytest.mark.parametrize(
    "content",
    [
        b"Dear diary, today the dealer called.\n",
        b"Dear diary, no newline",
        b"",
        b"[1, 2, 3]\n",
        b'{"hello": "world"}\n',
        b"\xff\xfe\x00garbage\n",
        b"\n\n\n",
    ],
    ids=["text", "text-no-newline", "empty", "json-array", "json-object", "binary", "blank-lines"],
)
def test_a_file_that_is_not_a_log_is_called_so(tmp_path, content):
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    got = read_log(path)
    assert not got.ok and got.header is None and got.records == []
    assert "DS0502" in codes(got)
    assert not got.torn
    with pytest.raises(DiagnosticError) as e:
        LogWriter.append_to(path)
    assert e.value.diagnostics[0].code == "DS0502"
    assert path.read_bytes() == content  # resume refused and touched nothing


def _rewrite_header(path: Path, **changes) -> None:
    lines = lines_of(path)
    record = json.loads(lines[0])
    record["data"].update(changes)
    record["hash"] = record_hash(record)
    lines[0] = (canonical_json(record) + "\n").encode()
    path.write_bytes(b"".join(lines))


def test_a_log_from_a_newer_dealersim_asks_for_an_upgrade(tmp_path):
    path = tmp_path / "s.jsonl"
    write_log(path)
    _rewrite_header(path, format=99)
    got = read_log(path)
    assert codes(got) == ["DS0503"]
    d = got.diagnostics[0]
    assert "format 99" in d.message and f"format {FORMAT_VERSION}" in d.message
    assert d.hint == "upgrade dealersim to read it" and d.line == 1


def test_a_newer_format_is_recognised_even_if_its_records_look_different(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps({"kind": "header", "data": {"format": 2}, "sig": "ed25519:..."}) + "\n")
    assert codes(read_log(path)) == ["DS0503"]


def test_a_header_missing_fields_is_not_a_log(tmp_path):
    path = tmp_path / "s.jsonl"
    write_log(path)
    lines = lines_of(path)
    record = json.loads(lines[0])
    del record["data"]["seed_entropy"], record["data"]["lang"]
    record["hash"] = record_hash(record)
    path.write_bytes((canonical_json(record) + "\n").encode())
    got = read_log(path)
    assert codes(got) == ["DS0502"]
    assert "'seed_entropy'" in got.diagnostics[0].message and "'lang'" in got.diagnostics[0].message


def test_a_missing_file_or_a_folder_is_reported_not_raised(tmp_path):
    got = read_log(tmp_path / "nope.jsonl")
    assert codes(got) == ["DS0501"] and "nope.jsonl" in got.diagnostics[0].message
    assert codes(read_log(tmp_path)) == ["DS0501"]
    with pytest.raises(DiagnosticError) as e:
        LogWriter.append_to(tmp_path / "nope.jsonl")
    assert e.value.diagnostics[0].code == "DS0501"


# ---------------------------------------------------------------------------------------------
# refusals


def test_create_never_overwrites(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text("precious")
    with pytest.raises(DiagnosticError) as e:
        LogWriter.create(path, header())
    d = e.value.diagnostics[0]
    assert d.code == "DS0509" and "already exists" in d.message and "--log" in d.hint
    assert path.read_text() == "precious"


def test_a_finished_session_cannot_be_resumed_or_continued(tmp_path):
    path = tmp_path / "s.jsonl"
    write_log(path)
    before = path.read_bytes()
    with pytest.raises(DiagnosticError) as e:
        LogWriter.append_to(path)
    assert e.value.diagnostics[0].code == "DS0508"
    assert path.read_bytes() == before

    with LogWriter.create(tmp_path / "t.jsonl", header()) as w:
        w.append("end", {})
        with pytest.raises(DiagnosticError) as e:
            w.append("step", {})
        assert e.value.diagnostics[0].code == "DS0508"


def test_a_second_writer_on_the_same_log_is_refused(tmp_path):
    path = tmp_path / "s.jsonl"
    write_log(path, EVENTS[:2])
    first, _ = LogWriter.append_to(path)
    try:
        with pytest.raises(DiagnosticError) as e:
            LogWriter.append_to(path)
        assert e.value.diagnostics[0].code == "DS0509"
    finally:
        first.close()
    second, _ = LogWriter.append_to(path)  # free again once the first one closed
    second.close()


def test_append_after_close_is_a_programming_error(tmp_path):
    w = LogWriter.create(tmp_path / "s.jsonl", header())
    w.close()
    w.close()  # idempotent
    with pytest.raises(ValueError):
        w.append("step", {})


# ---------------------------------------------------------------------------------------------
# the disk says no


def _running_with_effective_chmod(tmp_path: Path) -> bool:
    probe = tmp_path / "probe"
    probe.mkdir()
    probe.chmod(0o555)
    try:
        (probe / "x").write_text("x")
    except PermissionError:
        return True
    finally:
        probe.chmod(0o755)
    return False  # root (or a file system ignoring modes): chmod cannot make a folder read-only


def test_read_only_folder(tmp_path):
    if not _running_with_effective_chmod(tmp_path):
        pytest.skip("running as root: a read-only folder is still writable")
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(DiagnosticError) as e:
            LogWriter.create(folder / "s.jsonl", header())
        d = e.value.diagnostics[0]
        assert d.code == "DS0509" and "permission denied" in d.message and "--log" in d.hint
        assert not (folder / "s.jsonl").exists()
    finally:
        folder.chmod(0o755)


def test_log_folder_that_is_a_file(tmp_path):
    blocker = tmp_path / "sessions"
    blocker.write_text("not a folder")
    with pytest.raises(DiagnosticError) as e:
        LogWriter.create(blocker / "s.jsonl", header())
    assert e.value.diagnostics[0].code == "DS0509" and "--log" in e.value.diagnostics[0].hint


def _disk_full(*_args):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_disk_full_mid_line_leaves_no_partial_line(tmp_path):
    path = tmp_path / "s.jsonl"
    w = LogWriter.create(path, header())
    kept = [w.append(kind, data) for kind, data in EVENTS[:3]]
    file = w._file

    def half_then_full(data: bytes) -> None:
        os.write(file.fd, data[: len(data) // 2])  # the disk took half the line
        _disk_full()

    file.write = half_then_full
    with pytest.raises(DiagnosticError) as e:
        w.append(*EVENTS[3])
    d = e.value.diagnostics[0]
    assert d.code == "DS0509" and "the disk is full" in d.message and str(path) in d.message
    assert "free some disk space" in d.hint and "--log" in d.hint

    got = read_log(path)
    assert got.diagnostics == [] and not got.torn and got.records == kept

    del file.write  # space freed: the same writer carries on with an intact chain
    w.append(*EVENTS[3])
    w.close()
    got = read_log(path)
    assert got.ok and got.diagnostics == [] and [r.seq for r in got.records] == [1, 2, 3, 4]


def test_fsync_failure_takes_the_record_back(tmp_path):
    path = tmp_path / "s.jsonl"
    with LogWriter.create(path, header()) as w:
        kept = [w.append(kind, data) for kind, data in EVENTS[:2]]
        w._file.fsync = _disk_full
        with pytest.raises(DiagnosticError) as e:
            w.append(*EVENTS[2])
        assert e.value.diagnostics[0].code == "DS0509"
        assert w.last_seq == 2
    got = read_log(path)
    assert got.diagnostics == [] and got.records == kept


def test_append_many_writes_one_chain_in_one_write(tmp_path):
    path = tmp_path / "s.jsonl"
    with LogWriter.create(path, header(), clock=ticking_clock()) as w:
        first = w.append(*EVENTS[0])
        writes = []
        real = w._file.write
        w._file.write = lambda data: (writes.append(data), real(data))[1]
        batch = w.append_many(EVENTS[1:])
        assert len(writes) == 1 and writes[0].count(b"\n") == len(EVENTS) - 1
        assert w.append_many([]) == []
    got = read_log(path)
    assert got.ok and got.finished and got.records == [first, *batch]
    assert [r.seq for r in batch] == list(range(2, len(EVENTS) + 1))


def test_append_many_is_all_or_nothing_when_the_disk_fills(tmp_path):
    path = tmp_path / "s.jsonl"
    w = LogWriter.create(path, header())
    kept = [w.append(*EVENTS[0])]
    before = path.read_bytes()
    file = w._file

    def most_then_full(data: bytes) -> None:
        os.write(file.fd, data[: len(data) - 5])  # all but the last few bytes of the decision reached the disk
        _disk_full()

    file.write = most_then_full
    with pytest.raises(DiagnosticError) as e:
        w.append_many(EVENTS[1:5])
    assert e.value.diagnostics[0].code == "DS0509" and "records up to 1 are safe" in e.value.diagnostics[0].hint
    assert path.read_bytes() == before and read_log(path).records == kept and w.last_seq == 1
    del file.write
    w.append_many(EVENTS[1:5])
    w.close()
    assert [r.kind for r in read_log(path).records] == [k for k, _ in EVENTS[:5]]


def test_append_many_checks_every_item_before_writing_any(tmp_path):
    path = tmp_path / "s.jsonl"
    with LogWriter.create(path, header()) as w:
        size = path.stat().st_size
        with pytest.raises(ValueError):
            w.append_many([("step", {}), ("end", {}), ("step", {})])  # the end record must come last
        with pytest.raises(TypeError):
            w.append_many([("step", {}), ("week", ["not", "a", "dict"])])
        with pytest.raises(ValueError):
            w.append_many([("step", {}), ("header", {})])
        assert path.stat().st_size == size and w.last_seq == 0


def test_disk_full_while_creating_leaves_no_file(tmp_path, monkeypatch):
    import simulator.record as record

    monkeypatch.setattr(record._AppendFile, "write", lambda self, data: _disk_full())
    path = tmp_path / "s.jsonl"
    with pytest.raises(DiagnosticError) as e:
        LogWriter.create(path, header())
    assert e.value.diagnostics[0].code == "DS0509"
    assert not path.exists()  # so a retry is not blocked by an empty file


# ---------------------------------------------------------------------------------------------
# speed


def test_reading_ten_thousand_records_is_fast(tmp_path):
    path = tmp_path / "big.jsonl"
    with LogWriter.create(path, header()) as w:
        w._file.fsync = lambda: None  # the test is about reading
        for i in range(10_000):
            w.append("week", {"week": i, "sales": [i, i + 1, i + 2], "note": "经销商 dealer", "x": i / 7})
    started = time.process_time()  # this process's CPU: other work on a shared machine does not count
    got = read_log(path)
    elapsed = time.process_time() - started
    assert got.ok and len(got.records) == 10_000
    assert elapsed < 1.0, f"reading 10,000 records took {elapsed:.2f}s"


# ---------------------------------------------------------------------------------------------
# whatever is in the file, reading never raises


@pytest.fixture(scope="module")
def valid_log(tmp_path_factory) -> tuple[bytes, LogContents]:
    path = tmp_path_factory.mktemp("valid") / "s.jsonl"
    write_log(path, EVENTS[:5] + [("note", {"ctl": "tab\there\x1f"})] + EVENTS[5:])
    return path.read_bytes(), read_log(path)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("scratch") / "log.jsonl"


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(content=st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(scratch, content):
    scratch.write_bytes(content)
    got = read_log(scratch)
    assert isinstance(got, LogContents)
    assert got.diagnostics and not got.ok  # random bytes are never a valid log


@FUZZ
@given(tail=st.binary(max_size=300))
def test_arbitrary_bytes_after_a_valid_prefix_never_raise(scratch, valid_log, tail):
    good, original = valid_log
    scratch.write_bytes(good + tail)
    got = read_log(scratch)
    assert got.header == original.header
    assert got.records[: len(original.records)] == original.records[: len(got.records)]


@FUZZ
@given(data=st.data())
def test_truncation_anywhere_keeps_the_good_prefix(scratch, valid_log, data):
    good, original = valid_log
    cut = data.draw(st.integers(0, len(good)))
    scratch.write_bytes(good[:cut])
    got = read_log(scratch)

    complete_lines = good[:cut].count(b"\n")
    at_boundary = cut == 0 or good[cut - 1 : cut] == b"\n"
    assert got.records == original.records[: max(complete_lines - 1, 0)]
    assert got.torn == (not at_boundary)
    assert (got.header == original.header) == (complete_lines >= 1)
    if complete_lines >= 1:
        assert got.ok and codes(got) == ([] if at_boundary else ["DS0510"])
        assert got.good_size == good[:cut].rfind(b"\n") + 1


@FUZZ
@given(data=st.data())
def test_single_byte_mutation_is_noticed_where_it_happened(scratch, valid_log, data):
    good, original = valid_log
    at = data.draw(st.integers(0, len(good) - 1))
    new = data.draw(st.integers(0, 255).filter(lambda b: b != good[at]))
    mutated = good[:at] + bytes([new]) + good[at + 1 :]
    scratch.write_bytes(mutated)
    got = read_log(scratch)

    line = good[:at].count(b"\n") + 1  # the line the byte belonged to
    if not got.diagnostics:  # only a change that means the same thing, e.g. \u001f -> \u001F
        assert got.header == original.header and got.records == original.records
        return
    first = got.diagnostics[0]
    assert first.line == line, first.render()
    assert got.records == original.records[: max(line - 2, 0)]
    if first.severity == "warning":  # torn: only the very last line can be dropped like that
        assert first.code == "DS0510" and line == good.count(b"\n")


# ---------------------------------------------------------------------------------------------
# docs/RECORD.md tells the truth


DOC = Path(__file__).resolve().parents[1] / "docs" / "RECORD.md"


def _doc_block(after: str) -> str:
    text = DOC.read_text("utf-8")
    start = text.index("```", text.index(after))
    start = text.index("\n", start) + 1
    return text[start : text.index("```", start)]


def test_the_documented_hand_check_works(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "check.py"
    script.write_text(_doc_block("**Checking a log by hand**"), encoding="utf-8")
    path = tmp_path / "s.jsonl"
    write_log(path)
    run = subprocess.run([sys.executable, str(script), str(path)], capture_output=True, text=True)
    assert run.returncode == 0 and f"chain OK: {len(EVENTS) + 1} lines" in run.stdout

    path.write_bytes(path.read_bytes().replace(b'"sales":[12,7,0]', b'"sales":[13,7,0]'))
    run = subprocess.run([sys.executable, str(script), str(path)], capture_output=True, text=True)
    assert run.returncode != 0 and "line 5 is bad" in run.stderr


def test_the_documented_example_log_is_a_valid_log(tmp_path):
    path = tmp_path / "example.jsonl"
    path.write_text(_doc_block("A real log"), encoding="utf-8")
    got = read_log(path)
    assert got.ok and got.diagnostics == [] and [r.kind for r in got.records] == ["step", "choice"]

"""Crash safety (issue 9): a killed session, a full disk, a read-only folder.

- a few of benchmarks/crash.py's SIGKILL trials, headless and full-screen (the benchmark runs ≥50 of each);
- one decision is one write and one fsync;
- a disk that refuses the log (full, read-only) never stops the game: the session moves to the
  fallback folder (DS0511), or waits in memory and is saved when the disk takes it again (DS0512),
  in the library, line mode, headless play and the full-screen game; nothing recorded is lost.
"""

from __future__ import annotations

import asyncio
import errno
import importlib.util
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from scoring import session_observers
from simulator import record
from simulator.diagnostics import DiagnosticError
from simulator.record import digest, read_log
from simulator.recorded import RecordedSession, verify_log

from .conftest import MINI, ROOT, run_cli
from .test_tui_app import settle

PATH = ["check", "push"]  # mini.toml's two decisions


def load_crash_benchmark():
    spec = importlib.util.spec_from_file_location("crash_benchmark", ROOT / "benchmarks" / "crash.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- SIGKILL, for real


@pytest.fixture(scope="module")
def crash():
    return load_crash_benchmark()


@pytest.fixture(scope="module")
def crash_world(crash, tmp_path_factory):
    folder = tmp_path_factory.mktemp("crash")
    return SimpleNamespace(folder=folder, want=crash.reference_digest(folder, crash.environment(folder)))


@pytest.mark.parametrize("kind", ["headless", "textual"])
def test_sigkill_at_random_moments_loses_at_most_the_decision_in_flight(crash, crash_world, kind):
    if kind == "textual" and not hasattr(os, "openpty"):
        pytest.skip("needs a pseudo-terminal")
    tally = crash.run_trials(kind, 2, random.Random(kind), crash_world.folder, crash_world.want, cli_every=0)
    assert tally.failures == []
    assert tally.trials == tally.killed == tally.log_reads == tally.lost_at_most_one == tally.same_digest == tally.verify_pass == 2


def test_a_kill_inside_a_decisions_write_leaves_a_prefix_that_resume_completes(tmp_path, mini):
    """What SIGKILL can leave mid-write: some of a decision's records and a torn line."""
    reference = RecordedSession.start(mini, 4, "en", tmp_path / "ref.jsonl")
    for option in PATH:
        reference.choose(option)
    want = read_log(reference.path).records[-1].data["digest"]

    log = tmp_path / "cut.jsonl"
    recorded = RecordedSession.start(mini, 4, "en", log)
    before = log.stat().st_size
    recorded.choose("check")
    recorded.close()
    data = log.read_bytes()
    decision = data[before:]
    assert decision.count(b"\n") >= 3  # the decision wrote several records at once
    cut = before + decision.index(b"\n") + 1 + 7  # one whole record, then 7 bytes of the next
    log.write_bytes(data[:cut])

    contents = read_log(log)
    assert contents.ok and contents.torn and [d.code for d in contents.diagnostics] == ["DS0510"]
    resumed = RecordedSession.resume(log)
    resumed.choose("push")
    assert read_log(log).records[-1].data["digest"] == want
    assert verify_log(log).ok


# ---------------------------------------------------------------- one fsync per decision


def test_one_decision_is_one_write_and_one_fsync(tmp_path, mini, monkeypatch):
    recorded = RecordedSession.start(mini, 4, "en", tmp_path / "s.jsonl", observers=session_observers)
    calls = {"write": 0, "fsync": 0}
    real_write, real_fsync = record._AppendFile.write, record._AppendFile.fsync

    def write(self, data):
        calls["write"] += 1
        return real_write(self, data)

    def fsync(self):
        calls["fsync"] += 1
        return real_fsync(self)

    monkeypatch.setattr(record._AppendFile, "write", write)
    monkeypatch.setattr(record._AppendFile, "fsync", fsync)
    before = len(read_log(recorded.path).records)
    recorded.choose("check")
    after = len(read_log(recorded.path).records)
    assert after - before >= 3  # several events…
    assert calls == {"write": 1, "fsync": 1}  # …in one write and one fsync
    recorded.choose("push")  # the last decision carries the end record in the same write
    assert calls == {"write": 2, "fsync": 2}
    assert read_log(recorded.path).finished


# ---------------------------------------------------------------- the disk says no


class Disk:
    """Makes writes under some folders fail as a full disk does (ENOSPC), until `free()`."""

    def __init__(self, monkeypatch, *folders: Path):
        self.folders = [str(f) for f in folders]
        self.full = True
        real = record._AppendFile.write

        def write(file, data):
            where = os.readlink(f"/proc/self/fd/{file.fd}")
            if self.full and any(where.startswith(f) for f in self.folders):
                os.write(file.fd, bytes(data)[: len(data) // 2])  # half a line reaches the disk first
                raise OSError(errno.ENOSPC, "No space left on device")
            return real(file, data)

        monkeypatch.setattr(record._AppendFile, "write", write)

    def free(self) -> None:
        self.full = False


needs_proc = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to tell which file is written")


@pytest.fixture
def fallback(tmp_path, monkeypatch):
    """The system's temporary folder, in tmp: the fallback is tmp/dealersim-sessions."""
    temp = tmp_path / "systemp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return temp / "dealersim-sessions"


def reference_digest(mini, seed=4) -> str:
    from simulator.engine import Session

    session = Session(mini, seed, "en", observers=session_observers(mini))
    events = list(session.events)
    for option in PATH:
        events += session.choose(option)
    return digest((e["kind"], e["data"]) for e in events)


@needs_proc
def test_disk_full_mid_session_moves_the_log_and_loses_nothing(tmp_path, mini, monkeypatch, fallback):
    sessions = tmp_path / "sessions"
    log = sessions / "s.jsonl"
    recorded = RecordedSession.start(mini, 4, "en", log, observers=session_observers, fallback=fallback)
    recorded.choose("check")
    kept = log.read_bytes()
    Disk(monkeypatch, sessions)
    recorded.choose("push")  # no exception: the game goes on
    notices = recorded.take_notices()
    assert [n.kind for n in notices] == ["moved"]
    d = notices[0].diagnostic
    assert d.code == "DS0511" and "the disk is full" in d.message and str(log) in d.message
    assert "--sessions" in d.hint and "DEALERSIM_SESSIONS" in d.hint
    assert recorded.path.parent == fallback and recorded.saved
    # the old log is exactly as it was before the failure: readable, resumable
    assert log.read_bytes() == kept and read_log(log).ok
    # the new one holds the whole session and re-simulates
    moved = read_log(recorded.path)
    assert moved.ok and moved.finished and moved.records[-1].data["digest"] == reference_digest(mini)
    assert verify_log(recorded.path, observers=session_observers).ok


@needs_proc
def test_when_no_folder_takes_the_log_it_waits_in_memory_and_is_saved_when_the_disk_frees(tmp_path, mini, monkeypatch, fallback):
    sessions = tmp_path / "sessions"
    disk = Disk(monkeypatch, tmp_path)  # the sessions folder and the fallback: the whole disk
    recorded = RecordedSession.start(mini, 4, "en", sessions / "s.jsonl", observers=session_observers, fallback=fallback)
    notices = recorded.take_notices()
    assert [n.kind for n in notices] == ["unsaved"] and notices[0].diagnostic.code == "DS0512"
    assert "refuses it too" in notices[0].diagnostic.message
    recorded.choose("check")  # still playable
    again = recorded.take_notices()
    assert again[0].kind == "unsaved" and again[0].waiting == 1 and not recorded.saved
    disk.free()
    recorded.choose("push")
    assert [n.kind for n in recorded.take_notices()] == ["saved"]
    assert recorded.saved and recorded.session.finished
    contents = read_log(recorded.path)
    assert contents.ok and contents.finished and contents.records[-1].data["digest"] == reference_digest(mini)


@needs_proc
def test_fsync_failure_counts_as_a_refusal_too(tmp_path, mini, monkeypatch, fallback):
    log = tmp_path / "sessions" / "s.jsonl"
    recorded = RecordedSession.start(mini, 4, "en", log, fallback=fallback)
    real = record._AppendFile.fsync

    def fsync(file):
        if os.readlink(f"/proc/self/fd/{file.fd}").startswith(str(log.parent)):
            raise OSError(errno.EIO, "Input/output error")
        return real(file)

    monkeypatch.setattr(record._AppendFile, "fsync", fsync)
    recorded.choose("check")
    [notice] = recorded.take_notices()
    assert notice.diagnostic.code == "DS0511" and "input/output error" in notice.diagnostic.message
    assert [r.kind for r in read_log(recorded.path).records].count("choice") == 1


def test_without_a_fallback_the_refusal_is_raised(tmp_path, mini):
    blocker = tmp_path / "sessions"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(DiagnosticError) as e:
        RecordedSession.start(mini, 4, "en", blocker / "s.jsonl")
    assert e.value.diagnostics[0].code == "DS0509"


def test_an_existing_log_is_still_refused_not_moved(tmp_path, mini, fallback):
    log = tmp_path / "s.jsonl"
    log.write_text("someone's log")
    with pytest.raises(DiagnosticError) as e:
        RecordedSession.start(mini, 4, "en", log, fallback=fallback)
    assert "already exists" in e.value.diagnostics[0].message
    assert not fallback.exists()


def test_a_folder_that_cannot_exist_moves_the_session_at_start(tmp_path, mini, fallback):
    blocker = tmp_path / "sessions"
    blocker.write_text("a file where the folder should be")  # a real refusal, for any user
    recorded = RecordedSession.start(mini, 4, "en", blocker / "mini" / "s.jsonl", fallback=fallback)
    [notice] = recorded.take_notices()
    assert notice.kind == "moved" and notice.diagnostic.code == "DS0511"
    assert "part of the path is a file, not a folder" in notice.diagnostic.message
    for option in PATH:
        recorded.choose(option)
    assert read_log(fallback / "s.jsonl").finished


# ---------------------------------------------------------------- the front ends tell the trainee


@needs_proc
def test_line_mode_says_where_the_log_went_and_plays_on(tmp_path, mini, monkeypatch, fallback):
    from simulator.plain import run_plain

    sessions = tmp_path / "sessions"
    recorded = RecordedSession.start(mini, 4, "zh", sessions / "s.jsonl", observers=session_observers, fallback=fallback)
    Disk(monkeypatch, sessions)
    lines: list[str] = []
    answers = iter(PATH)
    assert run_plain(recorded, lines.append, lambda _prompt: next(answers))
    shown = "\n".join(lines)
    assert "本局记录改存到" in shown and "DS0511" in shown and str(fallback) in shown
    from simulator.i18n import t

    assert t("log_saved", "zh", path=recorded.path) in lines  # the game went on to its end, saved there
    assert recorded.path.parent == fallback and read_log(recorded.path).finished


def read_only_prefix() -> list[str] | None:
    """A command prefix under which a chmod-ed read-only folder really refuses writes, or None."""
    if os.name != "posix":
        return None
    if os.geteuid() != 0:
        return []
    capsh = shutil.which("capsh")
    if capsh is None:
        return None
    probe = subprocess.run([capsh, "--drop=cap_dac_override,cap_dac_read_search", "--", "-c", "true"], capture_output=True)
    return [capsh, "--drop=cap_dac_override,cap_dac_read_search", "--", "-c"] if probe.returncode == 0 else None


def test_read_only_sessions_folder_for_real_headless_play_goes_on(tmp_path):
    prefix = read_only_prefix()
    if prefix is None:
        pytest.skip("cannot make a folder read-only for this user")
    sessions = tmp_path / "ro"
    sessions.mkdir()
    temp = tmp_path / "systemp"
    temp.mkdir()
    sessions.chmod(0o555)
    try:
        argv = [sys.executable, "-m", "simulator.cli", "--sessions", str(sessions), "play", str(MINI), "--seed", "4",
                "--lang", "en", "--choices", ",".join(PATH), "--quiet"]
        if prefix:
            argv = [*prefix, subprocess.list2cmdline(argv)]
        proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, "TMPDIR": str(temp)})
    finally:
        sessions.chmod(0o755)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "DS0511" in proc.stderr and "permission denied" in proc.stderr and "--sessions FOLDER" in proc.stderr
    moved = next((temp / "dealersim-sessions").glob("*.jsonl"))
    assert str(moved) in proc.stdout  # "Session log saved: <the fallback log>"
    assert read_log(moved).finished
    assert list(sessions.rglob("*.jsonl")) == []


def test_headless_play_into_an_impossible_folder_warns_and_finishes(tmp_path):
    blocker = tmp_path / "sessions"
    blocker.write_text("a file")
    temp = tmp_path / "systemp"
    temp.mkdir()
    proc = run_cli("play", str(MINI), "--choices", ",".join(PATH), "--lang", "zh", env={"TMPDIR": str(temp), "DEALERSIM_SESSIONS": str(blocker)})
    assert proc.returncode == 0, proc.stderr
    assert "本局记录改存到" in proc.stderr and "DS0511" in proc.stderr and "Traceback" not in proc.stderr
    assert read_log(next((temp / "dealersim-sessions").glob("*.jsonl"))).finished


# ---------------------------------------------------------------- the full-screen game


def game_folder(tmp_path: Path, monkeypatch) -> Path:
    """A copy of mini.toml to play, settings kept in `tmp_path` and run from there; the scenarios folder."""
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    shutil.copy(MINI, scenarios / "mini.toml")
    monkeypatch.setenv("DEALERSIM_SETTINGS", str(tmp_path / "settings.toml"))
    monkeypatch.chdir(tmp_path)
    return scenarios


@needs_proc
def test_the_game_shows_the_error_and_lets_the_trainee_continue(tmp_path, monkeypatch, fallback):
    from simulator.tui.app import DealersimApp
    from simulator.tui.screens.play import PlayScreen

    scenarios = game_folder(tmp_path, monkeypatch)
    sessions = tmp_path / "sessions"
    disk = Disk(monkeypatch, tmp_path)  # at first neither folder takes the log

    def notes(app) -> list:
        return list(app._notifications)

    async def scenario():
        app = DealersimApp(scenario_dirs=(str(scenarios),), shipped=False, sessions=sessions, lang="en", seed=4, key_guard=0.0)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            for key in ("enter", "enter"):  # home → briefing → play
                await pilot.press(key)
                await settle(pilot)
            assert isinstance(app.screen, PlayScreen)
            [first] = notes(app)
            assert first.severity == "error" and "DS0512" in first.message
            assert "what is not saved yet stays in memory" in first.message
            await pilot.press("1")  # the trainee plays on
            await settle(pilot)
            assert "DS0512" in notes(app)[-1].message and app.game.turn == 1
            disk.folders = [str(sessions)]  # the fallback folder is free again; the sessions folder still full
            await pilot.press("2")
            await settle(pilot)
            moved = notes(app)[-1]
            assert moved.severity == "warning" and "DS0511" in moved.message and str(fallback) in moved.message
            assert app.game.finished and app.game.recorded.saved
            contents = read_log(app.game.path)
            assert contents.finished and [r.data["choice"] for r in contents.records if r.kind == "choice"] == PATH

    asyncio.run(scenario())


@needs_proc
def test_quitting_while_records_wait_says_what_was_not_saved(tmp_path, monkeypatch, fallback):
    from simulator.tui.app import DealersimApp, outcome_message

    scenarios = game_folder(tmp_path, monkeypatch)
    Disk(monkeypatch, tmp_path)

    async def scenario():
        app = DealersimApp(scenario_dirs=(str(scenarios),), shipped=False, sessions=tmp_path / "sessions", lang="zh", seed=4, key_guard=0.0)
        async with app.run_test(size=(120, 40)) as pilot:
            for key in ("enter", "enter", "1", "ctrl+q"):
                await pilot.app.workers.wait_for_complete()
                await pilot.pause()
                await pilot.press(key)
        return app

    app = asyncio.run(scenario())
    outcome = app.return_value
    assert outcome is not None and outcome.unsaved == 1
    assert "有 1 步决策没能存盘" in outcome_message(outcome)


def test_resuming_a_log_that_cannot_be_written_goes_on_in_the_fallback_folder(tmp_path, mini, monkeypatch, fallback):
    log = tmp_path / "ro" / "s.jsonl"
    recorded = RecordedSession.start(mini, 4, "en", log, observers=session_observers)
    recorded.choose("check")
    recorded.close()
    kept = log.read_bytes()
    real_open = os.open

    def read_only(path, flags, *args):  # the folder and the file are read-only
        if str(path).startswith(str(log.parent)) and flags & (os.O_WRONLY | os.O_RDWR):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(record.os, "open", read_only)
    resumed = RecordedSession.resume(log, observers=session_observers, fallback=fallback)
    [notice] = resumed.take_notices()
    assert notice.kind == "moved" and "permission denied" in notice.diagnostic.message
    resumed.choose("push")
    assert log.read_bytes() == kept  # untouched
    moved = read_log(resumed.path)
    assert resumed.path.parent == fallback and moved.finished
    assert moved.records[-1].data["digest"] == reference_digest(mini)
    assert verify_log(resumed.path, observers=session_observers).ok

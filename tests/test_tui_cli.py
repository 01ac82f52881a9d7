"""How the command line chooses between the full-screen game and line mode, as a user meets it:
in a real terminal (a pseudo-terminal here) `dealersim play` and `dealersim resume` open the game;
piped, they fall back to line mode; quitting says how to resume."""

from __future__ import annotations

import os
import re
import select
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulator.record import read_log
from simulator.tui.screens.play import KEY_GUARD

from .conftest import MINI, ROOT, run_cli

pty = pytest.importorskip("pty")
fcntl = pytest.importorskip("fcntl")
termios = pytest.importorskip("termios")

ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]|\x1b\][^\x07]*\x07")


RUNNING: list[Terminal] = []  # stopped after each test, passed or failed (a pty without a hangup never ends them)


class Terminal:
    """`dealersim` running in a pseudo-terminal of a given size."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str], size=(120, 40)):
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "simulator.cli", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=cwd,
            env={**os.environ, "TERM": "xterm-256color", **env},
            close_fds=True,
        )
        os.close(slave)
        self.fd = master
        self.raw = b""
        RUNNING.append(self)

    def text(self) -> str:
        return ANSI.sub(b"", self.raw).decode("utf-8", "replace")

    def read(self, timeout: float = 0.1) -> None:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if ready:
            try:
                self.raw += os.read(self.fd, 65536)
            except OSError:  # the other side closed
                pass

    def wait_for(self, needle: str, timeout: float = 60) -> None:
        start = len(self.text())
        deadline = time.monotonic() + timeout
        while needle not in self.text()[max(0, start - len(needle)) :]:
            if time.monotonic() > deadline or self.proc.poll() is not None and not select.select([self.fd], [], [], 0)[0]:
                raise AssertionError(f"{needle!r} never appeared; the screen showed:\n{self.text()[-3000:]}")
            self.read()

    def send(self, keys: str) -> None:
        os.write(self.fd, keys.encode("utf-8"))

    def finish(self, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError("dealersim did not exit:\n" + self.text()[-3000:])
            self.read()
        for _ in range(20):
            self.read(0.05)
        os.close(self.fd)
        return self.text()


@pytest.fixture(autouse=True)
def _stop_terminals():
    yield
    while RUNNING:
        term = RUNNING.pop()
        if term.proc.poll() is None:
            term.proc.kill()
            term.proc.wait()


@pytest.fixture
def place(tmp_path):
    shutil.copy(MINI, tmp_path / "mini.toml")
    return tmp_path, {"DEALERSIM_SETTINGS": str(tmp_path / "settings.toml"), "DEALERSIM_SESSIONS": str(tmp_path / "sessions")}


def test_play_and_resume_open_the_full_screen_game_in_a_terminal(place):
    cwd, env = place
    term = Terminal(["play", "mini.toml", "--seed", "3", "--lang", "en", "--log", "run.jsonl"], cwd, env)
    term.wait_for("Press Enter when you are ready")  # the briefing screen
    term.send("\r")
    term.wait_for("Go straight to the order")
    time.sleep(KEY_GUARD + 0.1)  # a person reads the step first (picks sooner are ignored)
    term.send("1")
    term.wait_for("Top up to 1.5 cycles")
    term.send("\x11")  # ctrl+q: leave at once
    out = term.finish()
    assert "dealersim resume run.jsonl" in out
    contents = read_log(cwd / "run.jsonl")
    assert not contents.finished and [r.data["choice"] for r in contents.records if r.kind == "choice"] == ["check"]

    term = Terminal(["resume", "run.jsonl"], cwd, env, size=(80, 24))
    term.wait_for("Top up to 1.5 cycles")  # straight back at the second decision
    time.sleep(KEY_GUARD + 0.1)
    term.send("1")
    term.wait_for("Press Enter for the results")
    term.send("\r")
    term.wait_for("Your decisions")
    term.send("q")
    out = term.finish()
    assert "Session log saved: run.jsonl" in out
    assert read_log(cwd / "run.jsonl").finished


def test_bare_dealersim_in_a_terminal_opens_the_home_screen(place):
    cwd, env = place
    term = Terminal(["--scenarios", str(cwd), "--lang", "zh"], cwd, env, size=(80, 24))
    term.wait_for("小测试")
    term.send("q")
    out = term.finish()
    assert term.proc.returncode == 0, out


def test_without_a_terminal_the_game_falls_back_to_line_mode(place):
    cwd, env = place
    proc = run_cli("--lang", "en", input="q\n", cwd=cwd, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "Pick a scenario" in proc.stdout

    proc = run_cli("play", "mini.toml", "--lang", "en", "--log", "p.jsonl", input="1\nq\n", cwd=cwd, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "dealersim resume p.jsonl" in proc.stdout
    proc = run_cli("resume", "p.jsonl", "--choices", "1", cwd=cwd, env=env)
    assert proc.returncode == 0, proc.stderr
    assert read_log(cwd / "p.jsonl").finished


def test_root_help_mentions_the_game_and_serve():
    proc = run_cli("--help", cwd=ROOT)
    assert proc.returncode == 0
    assert "--plain" in proc.stdout and "serve" in proc.stdout and "--mode" in proc.stdout

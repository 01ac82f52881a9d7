"""A process in a pseudo-terminal, for the benchmarks that drive the real game (tui.py, crash.py).
Not a benchmark itself: `tools/bench_table.py` skips files starting with `_`."""

from __future__ import annotations

import os
import re
import select
import struct
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


def environment(tmp: Path) -> dict[str, str]:
    """A user's environment with settings and sessions in `tmp`, in English, on a colour terminal."""
    return {
        **os.environ,
        "TERM": "xterm-256color",
        "DEALERSIM_SETTINGS": str(tmp / "settings.toml"),
        "DEALERSIM_SESSIONS": str(tmp / "sessions"),
        "DEALERSIM_LANG": "en",
    }


class Pty:
    """`argv` running in a pseudo-terminal of `size` (columns, rows), whose output we can wait for."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path = ROOT, size: tuple[int, int] = (120, 40)):
        import fcntl  # POSIX only, like the pseudo-terminal (the headless trials need neither)
        import pty
        import termios

        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
        self.start = time.perf_counter()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env, close_fds=True)
        os.close(slave)
        self.fd = master
        self.raw = b""

    def pump(self, seconds: float) -> bool:
        """Read what has come within `seconds`; False when nothing came."""
        ready, _, _ = select.select([self.fd], [], [], seconds)
        if ready:
            try:
                self.raw += os.read(self.fd, 65536)
            except OSError:  # the other side closed
                return False
        return bool(ready)

    def text(self, since: int = 0) -> str:
        """What is on the terminal from byte `since` on, without escape sequences."""
        return ANSI.sub(b"", self.raw[since:]).decode("utf-8", "replace")

    def wait_for(self, needle: str, mark: int = 0, timeout: float = 60) -> float:
        """Seconds from the start until `needle` is on the terminal after byte `mark` (an empty
        needle: just read the terminal for `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        if not needle:
            while time.monotonic() < deadline:
                self.pump(0.01)
            return time.perf_counter() - self.start
        while needle not in self.text(mark):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"{needle!r} never appeared:\n{self.text()[-2000:]}")
            self.pump(0.01)
        return time.perf_counter() - self.start

    def quiet_after(self, quiet: float) -> float:
        """Read until nothing has come for `quiet` seconds; returns when the last byte came."""
        last = time.perf_counter()
        while self.pump(quiet):
            last = time.perf_counter()
        return last

    def send(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def finish(self) -> tuple[int, int]:
        """Quit the game (ctrl+q) and wait for it; returns (exit status, peak RSS in KiB). (The
        process is reaped with wait4 here, which reads its resource usage.)"""
        self.send("\x11")
        deadline = time.monotonic() + 20
        while True:
            pid, status, usage = os.wait4(self.proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                self.proc.kill()
                deadline = float("inf")
            self.pump(0.05)
        self.proc.returncode = status
        self.close()
        return status, usage.ru_maxrss

    def close(self) -> None:
        try:
            os.close(self.fd)
        except OSError:
            pass

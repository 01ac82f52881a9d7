"""`dealersim serve`: the page comes over HTTP from a loopback port, references no other host (a
classroom may have no internet), its assets are served, and a browser connection gets a game."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import closing

import pytest

from simulator.tui.serve import game_command, is_loopback

from .conftest import ROOT

URL = re.compile(r"""(?:src|href|data-session-websocket-url)="([^"]+)"|url\("([^"]+)"\)""")


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read()


@pytest.fixture
def server(tmp_path):
    port = free_port()
    env = {**os.environ, "DEALERSIM_SESSIONS": str(tmp_path / "sessions"), "DEALERSIM_SETTINGS": str(tmp_path / "settings.toml")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator.cli", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:  # wait until the server answers (a subprocess has no "ready" event to wait on)
        try:
            get(base + "/", timeout=1)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"dealersim serve did not start: {proc.stdout.read().decode(errors='replace')}")
            time.sleep(0.1)
    yield base
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_the_page_works_offline(server):
    status, body = get(server + "/")
    assert status == 200
    page = body.decode("utf-8")
    assert "googleapis" not in page and "gstatic" not in page
    hosts = set(re.findall(r"(?:https?|wss?)://([^/\"')\s]+)", page))
    assert hosts == {server.removeprefix("http://")}, hosts  # nothing from any other host
    urls = [a or b for a, b in URL.findall(page)]
    assert any(u.endswith(".ttf") for u in urls), "the font is served locally"
    for url in urls:
        if url.startswith("http"):
            status, data = get(url)
            assert status == 200 and data, url


def test_each_visitor_gets_a_game(server):
    aiohttp = pytest.importorskip("aiohttp")
    page = get(server + "/")[1].decode("utf-8")
    ws_url = re.search(r'data-session-websocket-url="([^"]+)"', page).group(1)

    async def visit() -> bytes:
        seen = b""
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(ws_url + "?width=100&height=30") as ws:
                deadline = time.monotonic() + 60
                while b"dealersim" not in seen and time.monotonic() < deadline:
                    msg = await ws.receive(timeout=60)
                    if msg.type == aiohttp.WSMsgType.BINARY:
                        seen += msg.data
                    elif msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                        break
        return seen

    assert b"dealersim" in asyncio.run(visit())


def test_a_port_in_use_is_a_clear_error(tmp_path):
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "simulator.cli", "serve", "--port", str(port)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode != 0
    assert "DS0603" in proc.stderr and "--port" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_game_command_and_loopback():
    from pathlib import Path

    command = game_command(("extra scenarios",), Path("sessions"), "zh", "exam")
    assert "-m simulator.tui" in command and "--ephemeral" in command and "'" in command  # quoted for the shell
    assert "--lang zh" in command and "--mode exam" in command
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.20")
    assert ROOT.exists()

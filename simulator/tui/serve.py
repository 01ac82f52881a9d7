"""`dealersim serve`: the game in the browser, one game per visitor, with no internet needed.

textual-serve runs one app process per browser connection. Its page template loads the Roboto Mono
web font from Google Fonts; ours (web/app_index.html) serves the font files textual-serve ships
instead, so a classroom without internet gets the same page. Page and websocket addresses are built
from the address the browser used, so serving on 0.0.0.0 works for everyone on the network.
"""

from __future__ import annotations

import ipaddress
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import textual_serve
from aiohttp import web
from textual_serve.server import Server, to_int

WEB = Path(__file__).parent / "web"
STATIC = Path(textual_serve.__file__).parent / "static"


def game_command(scenario_dirs: tuple[str, ...], sessions: Path, lang: str | None, mode: str | None = None) -> str:
    """The shell command that starts one visitor's game."""
    argv = [sys.executable, "-m", "simulator.tui", "--ephemeral", "--sessions", str(sessions.resolve())]
    for folder in scenario_dirs:
        argv += ["--scenarios", str(Path(folder).resolve())]
    if lang:
        argv += ["--lang", lang]
    if mode:
        argv += ["--mode", mode]
    return subprocess.list2cmdline(argv) if os.name == "nt" else shlex.join(argv)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ClassroomServer(Server):
    def __init__(self, command: str, host: str, port: int, *, public_url: str | None = None, echo=print) -> None:
        super().__init__(command, host=host, port=port, title="dealersim", public_url=public_url, statics_path=STATIC, templates_path=WEB)
        self.fixed_url = public_url
        self.echo = echo

    def _base(self, request: web.Request) -> str:
        return (self.fixed_url or f"{request.scheme}://{request.host}").rstrip("/")

    @aiohttp_jinja2.template("app_index.html")
    async def handle_index(self, request: web.Request) -> dict[str, Any]:
        base = self._base(request)
        router = request.app.router
        ws = f"{base}{router['websocket'].url_for()}"
        ws = ("wss:" if ws.startswith("https:") else "ws:") + ws.split(":", 1)[1]
        return {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": ws,
            "config": {"static": {"url": f"{base}{router['static'].url_for(filename='/')}".rstrip("/") + "/"}},
            "application": {"name": self.title},
        }

    async def on_startup(self, app: web.Application) -> None:
        self.echo(f"dealersim: open {self.public_url} in a browser; every visitor gets their own game. Ctrl+C stops.")
        if not is_loopback(self.host):
            self.echo("dealersim: serving to the network: anyone who can reach this address can play.")


def serve(
    scenario_dirs: tuple[str, ...],
    sessions: Path,
    lang: str | None,
    host: str,
    port: int,
    public_url: str | None = None,
    *,
    mode: str | None = None,
    echo=print,
) -> None:
    ClassroomServer(game_command(scenario_dirs, sessions, lang, mode), host, port, public_url=public_url, echo=echo).serve()

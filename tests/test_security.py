"""What a trainee or a scenario file can make dealersim write, and where it listens (issue 9).

- trainee names, seeds and scenario ids become parts of a log's file name: whatever they hold
  (`../`, absolute paths, NUL, 10,000 characters, Chinese), the log lands inside the sessions
  folder, under a name the file system takes; Chinese names are kept as they are;
- a scenario whose id tries to climb out is refused by the loader;
- `dealersim new` writes only inside its folder whatever NAME says;
- `dealersim serve` listens on loopback unless told otherwise.
(Escapes through the condition language: tests/test_expr_security.py.)
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.loader import load_text
from simulator.record import read_log
from simulator.recorded import RecordedSession, default_log_path

from .conftest import MINI

STAMP = "20261123-101500"
HOSTILE = {
    "parent folders": "../../../../etc/passwd",
    "absolute path": "/etc/cron.d/evil",
    "windows path": "..\\..\\Windows\\System32\\evil",
    "drive letter": "C:\\evil",
    "only dots": "..",
    "dot": ".",
    "NUL": "a\x00b",
    "newline": "a\nb",
    "very long": "x" * 10_000,
    "long 4-byte characters": "𠀀" * 200,
    "home": "~root",
    "control characters": "\x1b[31mred\x07",
    "right-to-left override": "abc\u202egpj.exe",
    "lone surrogate": "\ud800name",
    "empty": "",
    "spaces": "   ",
}


def inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def name_fits(path: Path) -> bool:
    return all(len(part.encode("utf-8")) <= 255 for part in path.parts) and "\x00" not in str(path)


@pytest.mark.parametrize("name", list(HOSTILE.values()), ids=list(HOSTILE))
def test_a_trainee_name_never_leaves_the_sessions_folder(tmp_path, name):
    sessions = tmp_path / "sessions"
    path = default_log_path(sessions, "stock_push.mini", name, "0", STAMP)
    assert inside(path, sessions) and path.parent == sessions / "stock_push.mini"
    assert name_fits(path) and path.name.endswith(".jsonl")


@pytest.mark.parametrize("seed", ["../../x", "/abs", "a/b", "\x00", "s" * 5000])
def test_a_seed_or_workshop_code_never_leaves_the_sessions_folder(tmp_path, seed):
    sessions = tmp_path / "sessions"
    path = default_log_path(sessions, "stock_push.mini", "wang", seed, STAMP)
    assert path.parent == sessions / "stock_push.mini" and name_fits(path)


@pytest.mark.parametrize("scenario_id", ["../../etc", "/etc", "..", "a/../../b", "x" * 1000])
def test_a_scenario_id_never_leaves_the_sessions_folder(tmp_path, scenario_id):
    sessions = tmp_path / "sessions"
    path = default_log_path(sessions, scenario_id, "wang", "1", STAMP)
    assert path.parent.parent == sessions and name_fits(path)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(max_size=300), seed=st.text(max_size=80), scenario_id=st.text(max_size=80))
def test_any_text_at_all_stays_inside(tmp_path, name, seed, scenario_id):
    sessions = tmp_path / "sessions"
    path = default_log_path(sessions, scenario_id, name, seed, STAMP)
    assert path.parent.parent == sessions and inside(path, sessions) and name_fits(path)


@pytest.mark.parametrize("name", ["张伟", "王经理-华东区", "李 娜", "Zhāng Wěi", "../张伟"])
def test_chinese_names_work_and_are_kept(tmp_path, mini, name):
    sessions = tmp_path / "sessions"
    path = default_log_path(sessions, mini.scenario.id, name, 3, STAMP)
    recorded = RecordedSession.start(mini, 3, "zh", path, trainee=name)
    recorded.choose("check")
    recorded.close()
    assert inside(recorded.path, sessions)
    assert name.replace("../", "").replace(" ", "_") in recorded.path.name  # readable in a file browser
    assert read_log(recorded.path).header["trainee"] == name  # the log keeps the name exactly


@pytest.mark.parametrize("name", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_names_really_write_inside_the_folder(tmp_path, mini, name):
    sessions = tmp_path / "sessions"
    clean = name.encode("utf-8", "replace").decode("utf-8")  # what the front ends pass on (odd input becomes '?')
    recorded = RecordedSession.start(mini, 3, "en", default_log_path(sessions, mini.scenario.id, clean, 3, STAMP), trainee=clean)
    recorded.close()
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written == [recorded.path] and inside(recorded.path, sessions)


def test_headless_play_with_a_hostile_name_stays_in_the_sessions_folder(tmp_path, monkeypatch):
    from simulator.cli import cli

    sessions = tmp_path / "sessions"
    monkeypatch.setenv("DEALERSIM_SESSIONS", str(sessions))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["play", str(MINI), "--name", "../../../escape", "--seed", "../up", "--choices", "check,push", "--quiet"])
    assert result.exit_code == 0, result.output
    logs = [p for p in tmp_path.rglob("*.jsonl")]
    assert len(logs) == 1 and inside(logs[0], sessions)
    assert read_log(logs[0]).header["trainee"] == "../../../escape"


def test_a_scenario_id_that_climbs_out_is_refused(principle_ids):
    text = MINI.read_text("utf-8")
    assert 'id = "stock_push.mini"' in text
    result = load_text(text.replace('id = "stock_push.mini"', 'id = "../../etc.passwd"', 1), "evil.toml", principle_ids)
    assert not result.ok and any(d.severity == "error" for d in result.diagnostics)


@pytest.mark.parametrize("name", ["../../evil", "/etc/evil", "..", "a/b/c", "x" * 500])
def test_new_writes_only_inside_its_folder(tmp_path, name):
    from simulator.cli import cli

    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["new", "stock_push", name, "--out", str(out)])
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert all(inside(p, out) for p in written)
    if result.exit_code == 0:
        assert written and all(len(p.name) <= 60 for p in written)
    else:
        assert "DS06" in result.output and written == []


# ---------------------------------------------------------------- serve


def test_serve_listens_on_loopback_unless_told_otherwise(monkeypatch):
    import simulator.tui.serve
    from simulator.cli import cli

    calls = []
    monkeypatch.setattr(simulator.tui.serve, "serve", lambda *args, **kwargs: calls.append(args))
    assert CliRunner().invoke(cli, ["serve"]).exit_code == 0
    assert calls[-1][3] == "127.0.0.1"
    assert CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0"]).exit_code == 0
    assert calls[-1][3] == "0.0.0.0"


def test_serving_to_the_network_says_so(tmp_path):
    from simulator.tui.serve import ClassroomServer

    said: list[str] = []
    for host in ("127.0.0.1", "0.0.0.0"):
        server = ClassroomServer("true", host, 8000, echo=said.append)
        import asyncio

        asyncio.run(server.on_startup(None))  # type: ignore[arg-type]
    assert sum("anyone who can reach this address can play" in s for s in said) == 1
    assert said[-1].startswith("dealersim: serving to the network")


def test_each_visitors_game_cannot_choose_where_logs_go(tmp_path):
    from simulator.tui.serve import game_command

    command = game_command(("scenarios",), tmp_path / "sessions", "zh")
    assert "--ephemeral" in command  # visitors neither read nor save the remembered settings
    assert f"--sessions {(tmp_path / 'sessions').resolve()}" in command and os.sep in command


def test_two_trainees_starting_the_same_code_in_the_same_second_get_their_own_logs(tmp_path):
    # a classroom: thirty anonymous trainees, one workshop code, the same second
    paths = {default_log_path(tmp_path, "stock_push.mini", "", "WORKSHOP1", STAMP) for _ in range(30)}
    assert len(paths) == 30

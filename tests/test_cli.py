"""The command line as a user meets it: headless play, check, schema, replay --verify, resume after a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.record import read_log

from .conftest import DATA, MINI, ROOT, choices_in, run_cli, wait_for


def end_digest(log: Path) -> str:
    contents = read_log(log)
    assert contents.ok and contents.finished, [d.render() for d in contents.diagnostics]
    return contents.records[-1].data["digest"]


def test_headless_play_prints_story_and_log_path(tmp_path):
    log = tmp_path / "s.jsonl"
    proc = run_cli("play", str(MINI), "--seed", "4", "--lang", "en", "--choices", "check,safe", "--log", str(log))
    assert proc.returncode == 0, proc.stderr
    assert "Check the stock first?" in proc.stdout
    assert "You chose: Check stock" in proc.stdout
    assert f"Session log saved: {log}" in proc.stdout
    assert read_log(log).finished


def test_headless_play_in_chinese(tmp_path):
    log = tmp_path / "zh.jsonl"
    proc = run_cli("play", str(MINI), "--seed", "4", "--lang", "zh", "--choices", "1,1", "--log", str(log))
    assert proc.returncode == 0, proc.stderr
    assert "你选择了：先看库存" in proc.stdout
    assert "本次记录已保存" in proc.stdout


def test_same_seed_and_choices_give_identical_records_across_processes(tmp_path):
    a, b, c = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"
    for log, seed in ((a, "9"), (b, "9"), (c, "10")):
        assert run_cli("play", str(MINI), "--seed", seed, "--choices", "skip,push", "--log", str(log), "--quiet").returncode == 0
    assert end_digest(a) == end_digest(b)
    assert end_digest(a) != end_digest(c)
    # times differ between the runs, events do not
    ra, rb = read_log(a).records, read_log(b).records
    assert [(r.kind, r.data) for r in ra] == [(r.kind, r.data) for r in rb]


def test_policy_play_reaches_an_ending(tmp_path):
    log = tmp_path / "p.jsonl"
    proc = run_cli("play", str(MINI), "--policy", "random", "--seed", "3", "--log", str(log), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert read_log(log).finished


def test_unknown_choice_is_reported_not_raised(tmp_path):
    proc = run_cli("play", str(MINI), "--choices", "check,sfe", "--log", str(tmp_path / "x.jsonl"))
    assert proc.returncode == 1
    assert "DS0601" in proc.stderr and "did you mean 'safe'" in proc.stderr
    assert "Traceback" not in proc.stderr
    # the decisions before the bad one are kept and resumable
    contents = read_log(tmp_path / "x.jsonl")
    assert contents.ok and not contents.finished
    assert [r.data["choice"] for r in contents.records if r.kind == "choice"] == ["check"]


def test_bad_usage_has_a_code():
    proc = run_cli("play", str(MINI), "--sede", "3")
    assert proc.returncode == 2
    assert "DS0603" in proc.stderr and "Traceback" not in proc.stderr


def test_check_exit_codes_and_json(tmp_path):
    ok = run_cli("check", str(MINI))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = run_cli("check", str(DATA / "malformed"), "--format", "json")
    assert bad.returncode == 1
    report = json.loads(bad.stdout)
    assert report["errors"] > 0
    codes = {d["code"] for f in report["files"] for d in f["diagnostics"]}
    assert {"DS0203", "DS0101", "DS0003"} <= codes
    assert "Traceback" not in bad.stderr


def test_check_strict_turns_warnings_into_errors():
    path = DATA / "malformed" / "variable_unused.toml"
    assert run_cli("check", str(path)).returncode == 0
    assert run_cli("check", "--strict", str(path)).returncode == 1


def test_schema_is_json_and_names_the_fields():
    proc = run_cli("schema")
    schema = json.loads(proc.stdout)
    assert "steps" in schema["properties"] and "market" in schema["properties"]


def test_replay_shows_the_recorded_story_and_verify_passes(tmp_path):
    log = tmp_path / "r.jsonl"
    run_cli("play", str(MINI), "--seed", "2", "--choices", "check,safe", "--log", str(log), "--quiet")
    shown = run_cli("replay", str(log))
    assert shown.returncode == 0
    assert "You chose: Top up to 1.5 cycles" in shown.stdout
    verified = run_cli("replay", "--verify", str(log))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("PASS")


def test_one_edited_byte_is_named_by_verify(tmp_path):
    log = tmp_path / "t.jsonl"
    run_cli("play", str(MINI), "--seed", "2", "--choices", "check,push", "--log", str(log), "--quiet")
    lines = log.read_bytes().split(b"\n")
    # the second market week: change one digit of its recorded demand
    target = [i for i, line in enumerate(lines) if b'"kind":"week"' in line][1]
    i = lines[target].index(b'"demand":') + len(b'"demand":')
    digit = lines[target][i : i + 1]
    lines[target] = lines[target][:i] + (b"1" if digit != b"1" else b"2") + lines[target][i + 1 :]
    log.write_bytes(b"\n".join(lines))
    proc = run_cli("replay", "--verify", str(log))
    assert proc.returncode == 1
    assert f"record {target}" in proc.stderr
    assert "DS0505" in proc.stderr
    assert f"{log}:{target + 1}" in proc.stderr


def test_verify_refuses_a_changed_scenario(tmp_path):
    scenario = tmp_path / "mini.toml"
    scenario.write_bytes(MINI.read_bytes())
    log = tmp_path / "v.jsonl"
    run_cli("play", str(scenario), "--choices", "check,safe", "--log", str(log), "--quiet")
    scenario.write_text(MINI.read_text("utf-8").replace("stock = 250", "stock = 260"), "utf-8")
    proc = run_cli("replay", "--verify", str(log))
    assert proc.returncode == 1
    assert "DS0506" in proc.stderr


@pytest.mark.parametrize("kill_after", [0, 1])
def test_sigkill_then_resume_matches_an_uninterrupted_run(tmp_path, kill_after):
    reference = tmp_path / "ref.jsonl"
    run_cli("play", str(MINI), "--seed", "21", "--choices", "skip,push", "--log", str(reference), "--quiet")

    log = tmp_path / "killed.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator.cli", "play", str(MINI), "--seed", "21", "--plain", "--log", str(log)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(lambda: log.exists() and read_log(log).records)
    for option in ["skip", "push"][:kill_after]:
        proc.stdin.write(option + "\n")
        proc.stdin.flush()
    wait_for(lambda: choices_in(log) >= kill_after)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    contents = read_log(log)
    assert contents.ok and not contents.finished
    remaining = ",".join(["skip", "push"][kill_after:])
    resumed = run_cli("resume", str(log), "--choices", remaining, "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert end_digest(log) == end_digest(reference)
    assert run_cli("replay", "--verify", str(log)).returncode == 0


def test_resume_of_a_finished_session_is_refused(tmp_path):
    log = tmp_path / "f.jsonl"
    run_cli("play", str(MINI), "--choices", "check,safe", "--log", str(log), "--quiet")
    proc = run_cli("resume", str(log))
    assert proc.returncode == 1 and "DS0508" in proc.stderr


def test_plain_interactive_game_to_the_end(tmp_path):
    log = tmp_path / "i.jsonl"
    proc = run_cli("play", str(MINI), "--plain", "--lang", "en", "--log", str(log), input="h\nm\nn\nnonsense\n1\n2\n")
    assert proc.returncode == 0, proc.stderr
    assert "Type an option's number" in proc.stdout  # help
    assert "Market (week 0)" in proc.stdout
    assert "'nonsense' is not one of the options" in proc.stdout
    assert "Ending:" in proc.stdout
    assert read_log(log).finished


def test_quitting_says_how_to_resume(tmp_path):
    log = tmp_path / "q.jsonl"
    proc = run_cli("play", str(MINI), "--plain", "--lang", "zh", "--log", str(log), input="1\nq\n")
    assert proc.returncode == 0
    assert f"dealersim resume {log}" in proc.stdout
    assert choices_in(log) == 1


def test_trainee_name_cannot_escape_the_sessions_folder(tmp_path):
    proc = run_cli(
        "play", str(MINI), "--choices", "1,1", "--name", "../../etc/evil", "--quiet", cwd=tmp_path, env={"DEALERSIM_SESSIONS": str(tmp_path / "sessions")}
    )
    assert proc.returncode == 0, proc.stderr
    logs = list((tmp_path / "sessions").rglob("*.jsonl"))
    assert len(logs) == 1
    assert logs[0].resolve().is_relative_to((tmp_path / "sessions").resolve())

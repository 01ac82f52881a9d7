"""The balance report: policies, flags, reproducible runs, the same report for any --jobs, JSON."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from scoring import session_observers
from scoring import balance as bal
from scoring.balance import balance, play_batch, play_solo, render_text, run_seed
from simulator.cli import cli
from simulator.diagnostics import DiagnosticError
from simulator.engine import Session
from simulator.explore import PLAYABLE_ERRORS
from simulator.loader import load_scenario
from simulator.policy import POLICIES, fixed_choice, greedy_choice, make_policy

from .conftest import DATA, MINI

KNOWN_BEST = DATA / "known_best.toml"
NEGO_MINI = DATA / "nego_mini.toml"
STUCK = DATA / "malformed" / "unreachable_and_dead_end.toml"
NO_OPTION = DATA / "malformed" / "no_option_left.toml"


def load(path: Path, principle_ids, tolerate=()):
    result = load_scenario(path, principle_ids, tolerate=tolerate)
    assert result.ok, [d.render() for d in result.diagnostics]
    return result.loaded


def variant(tmp_path: Path, name: str, text: str, principle_ids):
    path = tmp_path / f"{name}.toml"
    path.write_text(text, "utf-8")
    return load(path, principle_ids)


@pytest.fixture(scope="module")
def known_best(principle_ids):
    return load(KNOWN_BEST, principle_ids)


@pytest.fixture(scope="module")
def nego_mini(principle_ids):
    return load(NEGO_MINI, principle_ids)


def fired(report) -> set[str]:
    return {f.id for f in report.fired}


def replay_total(loaded, seed, choices) -> float | None:
    """Play the choices as `dealersim play --seed X --choices …` would, and read the scorecard."""
    session = Session(loaded, seed, observers=session_observers(loaded))
    for c in choices:
        session.choose(c)
    card = session.observers[0].card
    return card["total"] if card else None


# ---------------------------------------------------------------- the policies


def test_course_beats_random_on_mini(mini):
    report = balance(mini, n=200)
    course, random = report.stats["course"], report.stats["random"]
    assert course.mean > random.mean + bal.COURSE_MARGIN
    assert course.p10 >= random.p50
    assert "course_not_better" not in fired(report)
    assert course.endings == {"good_end": 200, "bad_end": 0}


def test_greedy_takes_the_biggest_order_and_breaks_ties_on_the_lowest_tags(mini, known_best):
    s = Session(mini, 3)
    assert greedy_choice(s) == "skip"  # no order either way: the lower principle-tag sum (−2 against +2)
    s.choose("check")
    assert greedy_choice(s) == "push"  # 1,000 units against 1.5 cycles of forecast (about 300)
    s = Session(known_best, 3)
    assert greedy_choice(s) == "flood"  # 8 cycles of forecast beats 1.5 cycles and nothing


def test_fixed_option_takes_option_k_or_else_the_last(mini):
    s = Session(mini, 1)
    assert fixed_choice(1)(s) == "check" and fixed_choice(2)(s) == "skip" and fixed_choice(5)(s) == "skip"
    assert make_policy("second", 0)(s) == "skip" and make_policy("fixed:1", 0)(s) == "check"
    assert {"greedy", "second"} <= set(POLICIES)


def test_unknown_policy_is_a_diagnostic_with_a_suggestion(mini):
    with pytest.raises(DiagnosticError) as err:
        balance(mini, n=2, policies=["random", "corse"])
    assert err.value.diagnostics[0].code == "DS0603" and "course" in err.value.diagnostics[0].message
    result = CliRunner().invoke(cli, ["balance", str(MINI), "-n", "2", "--policies", "greedyy"])
    assert result.exit_code == 2 or result.exit_code == 1
    assert "DS0603" in result.output and "greedy" in result.output


# ---------------------------------------------------------------- flags

_MOVED = MINI.read_text("utf-8").replace(
    # the order decision lists the push first: the course's option is 1, then 2
    """  [[steps.choices]]
  id = "safe"
  text = { zh = "补到1.5个周期", en = "Top up to 1.5 cycles" }
  effects = [ { order = { dealer = "wang", cover_cycles = 1.5 } } ]
  principles = { "stock.safety_stock_1_5x" = 2 }
  then = { goto = "after", simulate_weeks = 4 }
""",
    "",
).replace(
    """  then = { goto = "after", simulate_weeks = 4 }

[[steps]]
id = "after\"""",
    """  then = { goto = "after", simulate_weeks = 4 }
  [[steps.choices]]
  id = "safe"
  text = { zh = "补到1.5个周期", en = "Top up to 1.5 cycles" }
  effects = [ { order = { dealer = "wang", cover_cycles = 1.5 } } ]
  principles = { "stock.safety_stock_1_5x" = 2 }
  then = { goto = "after", simulate_weeks = 4 }

[[steps]]
id = "after\"""",
)

# the tags point the wrong way: the course floods the dealer, which the market punishes
_MISLEADING = KNOWN_BEST.read_text("utf-8").replace(
    """  effects = [ { order = { dealer = "wang", cover_cycles = 8.0 } } ]
""",
    """  effects = [ { order = { dealer = "wang", cover_cycles = 8.0 } } ]
  principles = { "stock.safety_stock_1_5x" = 3 }
""",
)

# every order overstocks the dealer: no path can do well
_HOPELESS = MINI.read_text("utf-8").replace("cover_cycles = 1.5", "cover_cycles = 9.0")


def test_a_fixed_option_that_wins_everywhere_is_flagged(mini, tmp_path, principle_ids):
    report = balance(mini, n=100)  # mini: the course's option is always option 1
    assert "fixed_option_wins" in fired(report)
    assert report.fixed_vs_course["fixed:1"]["fixed"] >= report.fixed_vs_course["fixed:1"]["course"]
    moved = variant(tmp_path, "moved", _MOVED, principle_ids)
    assert [c.id for c in moved.scenario.step("order").choices] == ["push", "safe"]
    report = balance(moved, n=100)  # now it is 1 then 2: no fixed option matches the course
    assert "fixed_option_wins" not in fired(report)
    assert all(v["fixed"] < v["course"] for v in report.fixed_vs_course.values())


def test_a_course_no_better_than_random_is_flagged(known_best, tmp_path, principle_ids):
    report = balance(known_best, n=150)  # no tags on the order: the course sends nothing
    assert "course_not_better" in fired(report)
    assert "fixed_option_wins" in fired(report)  # always option 2 (top up, then skip) beats it
    misleading = variant(tmp_path, "misleading", _MISLEADING, principle_ids)
    report = balance(misleading, n=150)
    assert report.stats["course"].mean - report.stats["random"].mean < bal.COURSE_MARGIN  # full process points, poor results
    assert {"course_not_better", "fixed_option_wins"} <= fired(report)


def test_a_best_path_below_85_is_flagged(mini, tmp_path, principle_ids):
    assert "best_below_85" not in fired(balance(mini, n=50))
    hopeless = variant(tmp_path, "hopeless", _HOPELESS, principle_ids)
    report = balance(hopeless, n=50)
    assert report.best[0].total < 85 and "best_below_85" in fired(report)


def test_blunders_name_the_choice_and_its_principles(mini):
    report = balance(mini, n=300)
    worst = report.blunders[0]
    assert (worst.step, worst.choice) == ("order", "push")
    assert worst.principles == {"stock.safety_stock_1_5x": -3}
    assert worst.took_mean < worst.other_mean - bal.BLUNDER_GAP and worst.took_runs + worst.other_runs == 300
    zh = balance(mini, n=300, policies=["random"], fixed_n=0, lang="zh")
    assert zh.blunders[0].text == "压1000件"


# ---------------------------------------------------------------- reproducible, whatever the batching


@pytest.mark.parametrize("path", [MINI, KNOWN_BEST, NEGO_MINI], ids=lambda p: p.stem)
def test_the_batch_plays_every_run_exactly_as_a_single_session(path, principle_ids):
    loaded = load(path, principle_ids)
    seeds = [run_seed(0, i) for i in range(40)]
    for name in ("random", "course", "greedy", "fixed:1", "fixed:2", "fixed:3"):
        assert play_batch(loaded, name, seeds) == play_solo(loaded, name, seeds), name


@pytest.mark.parametrize("path", [STUCK, NO_OPTION], ids=lambda p: p.stem)
def test_runs_that_get_stuck_are_reported_the_same_way_by_the_batch(path, principle_ids):
    loaded = load(path, principle_ids, tolerate=PLAYABLE_ERRORS)
    seeds = [run_seed(5, i) for i in range(30)]
    for name in ("random", "course", "fixed:1", "fixed:2"):
        batch = play_batch(loaded, name, seeds, 5)
        assert batch == play_solo(loaded, name, seeds, 5), name
    runs = play_batch(loaded, "random", seeds)
    stuck = [r for r in runs if not r.finished]
    assert stuck and all(r.stuck and r.where and r.total is None for r in stuck)


def test_results_are_the_same_for_any_number_of_jobs_and_any_chunk_size(mini, monkeypatch):
    one = balance(mini, n=300, jobs=1).to_json(runs=True)
    two = balance(mini, n=300, jobs=2).to_json(runs=True)
    assert one == two
    monkeypatch.setattr(bal, "CHUNK_RUNS", 64)  # 5 chunks per policy, played by 2 workers
    assert bal.tasks_for({"random": 300})[-1] == bal.Task("random", 256, 300)
    assert balance(mini, n=300, jobs=2).to_json(runs=True) == one
    assert balance(mini, n=300, jobs=1).to_json(runs=True) == one


def test_negotiation_runs_are_the_same_for_any_number_of_jobs(nego_mini, monkeypatch):
    monkeypatch.setattr(bal, "CHUNK_RUNS", 16)
    one = balance(nego_mini, n=40, fixed_n=10, jobs=1).to_json(runs=True)
    assert balance(nego_mini, n=40, fixed_n=10, jobs=2).to_json(runs=True) == one


@pytest.mark.parametrize("path", [MINI, KNOWN_BEST, NEGO_MINI], ids=lambda p: p.stem)
def test_every_reported_run_replays_from_its_command(path, principle_ids):
    loaded = load(path, principle_ids)
    report = balance(loaded, n=60, fixed_n=20)
    reported = report.best + report.worst
    assert reported
    for run in reported:
        argv = shlex.split(run.command(report.file))
        assert argv[:3] == ["dealersim", "play", report.file]
        seed = argv[argv.index("--seed") + 1]
        choices = argv[argv.index("--choices") + 1].split(",")
        assert replay_total(loaded, int(seed) if seed.isdigit() else seed, choices) == run.total


def test_every_run_replays_and_a_random_run_is_play_policy_random(mini):
    report = balance(mini, n=40, fixed_n=5)
    for runs in report.runs.values():
        for run in runs:
            assert replay_total(mini, run.seed, run.choices) == run.total
    # `dealersim play --seed X --policy random` makes the same picks as the balance's random run X
    for run in report.runs["random"][:10]:
        s = Session(mini, run.seed)
        pick = make_policy("random", s.entropy)
        picks = []
        while not s.finished:
            picks.append(pick(s))
            s.choose(picks[-1])
        assert tuple(picks) == run.choices


def test_a_reported_command_replays_through_the_cli(tmp_path, monkeypatch):
    from scoring.report import scorecard_from_events
    from simulator.record import read_log

    monkeypatch.chdir(DATA.parent.parent)
    report = json.loads(CliRunner().invoke(cli, ["balance", "tests/data/known_best.toml", "-n", "30", "--format", "json"]).output)
    best = report["best"][0]
    argv = shlex.split(best["command"])[1:]
    log = tmp_path / "replay.jsonl"
    result = CliRunner().invoke(cli, [*argv, "--quiet", "--log", str(log)])
    assert result.exit_code == 0, result.output
    card, _ = scorecard_from_events([{"kind": r.kind, "data": r.data} for r in read_log(log).records])
    assert card["total"] == best["total"]


def test_seeds_are_seed_plus_run_index_or_a_code():
    assert [run_seed(7, i) for i in range(3)] == [7, 8, 9]
    assert run_seed("12", 2) == 14
    assert run_seed("wkshop", 3) == "wkshop-3"


# ---------------------------------------------------------------- output


def test_json_output_parses_and_has_every_part(monkeypatch):
    monkeypatch.chdir(DATA.parent.parent)
    result = CliRunner().invoke(cli, ["balance", "tests/data/mini.toml", "-n", "50", "--jobs", "2", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {"scenario", "file", "seed", "n", "policies", "fixed_checks", "fixed_vs_course", "stats", "endings", "best", "worst", "blunders", "flags", "fired"} <= set(data)
    assert data["policies"] == ["random", "course", "greedy"] and data["fixed_checks"] == ["fixed:1", "fixed:2"]
    for name in ("random", "course", "greedy", "fixed:1", "fixed:2"):
        s = data["stats"][name]
        assert {"mean", "p10", "p50", "p90", "grades", "endings", "runs", "stuck"} <= set(s)
        assert s["p10"] <= s["p50"] <= s["p90"] and abs(sum(s["grades"].values()) - 1) < 1e-6
    assert all(r["command"].startswith("dealersim play tests/data/mini.toml --seed ") for r in data["best"] + data["worst"])
    assert {f["id"] for f in data["flags"]} >= {"course_not_better", "fixed_option_wins", "best_below_85"}
    assert data["blunders"]["source"] == "random" and data["blunders"]["items"][0]["choice"] == "push"
    assert "runs" not in data
    with_runs = json.loads(CliRunner().invoke(cli, ["balance", "tests/data/mini.toml", "-n", "5", "--format", "json", "--runs"]).output)
    assert len(with_runs["runs"]["course"]) == 5


def test_text_report_reads_as_a_table_and_has_no_progress_bar_off_a_terminal(monkeypatch):
    monkeypatch.chdir(DATA.parent.parent)
    result = CliRunner().invoke(cli, ["balance", "tests/data/mini.toml", "-n", "40", "--lang", "zh"])  # stderr is no terminal here
    assert result.exit_code == 0, result.output
    out = result.output
    for part in ("Scores", "Endings reached", "Best paths found", "Worst paths found", "Most common blunders", "Flags", "dealersim play tests/data/mini.toml --seed"):
        assert part in out
    assert "压1000件" in out  # the choice texts in --lang; the report's own words stay English
    assert "balance [" not in out and "\r" not in out


def test_progress_is_reported_up_to_the_total(mini):
    seen = []
    balance(mini, n=30, fixed_n=10, progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, 110) and seen[-1] == (110, 110)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_render_text_lists_every_policy_and_flag(mini):
    report = balance(mini, n=30, policies=["course", "first"], fixed_n=10)
    text = "\n".join(render_text(report))
    assert "course_not_better: not checked" in text
    assert "fixed:1" in text and "fixed:2" in text and report.stats["fixed:1"].runs == 30  # asked for: n runs
    assert report.fixed_vs_course["fixed:1"]["runs"] == 30 and report.fixed_vs_course["fixed:2"]["runs"] == 10
    # an asked-for fixed option counts for the flag even without the checks
    alone = balance(mini, n=20, policies=["course", "first"], fixed_n=0)
    assert alone.fixed == ["fixed:1"] and "fixed_option_wins" in fired(alone)


def test_the_authoring_guide_shows_what_balance_prints(tmp_path, monkeypatch):
    """docs/AUTHORING.md "Balancing a scenario": the example is the tutorial scenario's real report."""
    import re

    from .conftest import ROOT

    doc = (ROOT / "docs" / "AUTHORING.md").read_text("utf-8")
    whole = re.compile(r"```toml\n(.*?)```", re.S).search(doc, doc.index("### The whole file")).group(1)
    section = doc[doc.index("## Balancing a scenario") :]
    command = re.search(r"```sh\n(dealersim balance .*?)\n```", section).group(1)
    shown = re.search(r"```text\n(.*?)```", section, re.S).group(1).splitlines()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my_scenarios").mkdir()
    (tmp_path / "my_scenarios" / "first_order.toml").write_text(whole, "utf-8")
    result = CliRunner().invoke(cli, shlex.split(command)[1:])
    assert result.exit_code == 0, result.output
    printed = result.output.splitlines()
    at = 0
    for line in (line for line in shown if line != "…"):  # the guide leaves some lines out, in order
        assert line in printed[at:], f"the guide shows a line balance no longer prints: {line!r}"
        at = printed.index(line, at) + 1

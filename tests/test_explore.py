"""The path explorer: every path (or a reproducible sample), coverage, unreached steps, dead ends, endings."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path


from simulator.engine import Session, play
from simulator.explore import PLAYABLE_ERRORS, dfs_paths, explore, fork, mermaid, playthroughs, random_paths
from simulator.loader import load_scenario, load_text
from simulator.toml_positions import key_positions

from .conftest import DATA, MINI, run_cli

STUCK = DATA / "malformed" / "unreachable_and_dead_end.toml"
NO_OPTION = DATA / "malformed" / "no_option_left.toml"


def load(path: Path, principle_ids):
    result = load_scenario(path, principle_ids, tolerate=PLAYABLE_ERRORS)
    assert result.ok, [d.render() for d in result.diagnostics]
    return result.loaded


def line_of(path: Path, text: str) -> int:
    return path.read_text("utf-8").splitlines().index(text) + 1


def test_every_path_of_the_mini_scenario_is_played_once(mini):
    paths = list(dfs_paths(mini, 1))
    assert sorted(p.choices for p in paths) == sorted([("check", "safe"), ("check", "push"), ("skip", "safe"), ("skip", "push")])
    for p in paths:
        # each reported path is what the engine gives for those choices
        direct = play(mini, 1, list(p.choices))
        assert p.ending == direct.ending.id and p.outcome == direct.ending.outcome
        assert p.steps[0] == "call" and p.steps[-1] == p.ending


def test_mini_report_coverage_and_endings(mini):
    report = explore(mini, [1])
    assert report.walks[0].mode == "all" and report.playthroughs == 4
    assert report.unreached == [] and len(report.choices_taken) == len(report.choices) == 4
    # each path counted once, where the engine says it ends
    direct = Counter(play(mini, 1, [a, b]).ending.id for a in ("check", "skip") for b in ("safe", "push"))
    assert report.ending_counts == direct and sum(direct.values()) == 4
    assert report.dead_ends == [] and report.diagnostics == []


def test_too_many_paths_gives_a_reproducible_random_sample(mini):
    a = playthroughs(mini, 5, max_paths=3)
    b = playthroughs(mini, 5, max_paths=3)
    assert a.mode == "sample" and len(a.paths) == 3 and a.more_than == 3
    assert [p.choices for p in a.paths] == [p.choices for p in b.paths]
    other = [p.choices for p in random_paths(mini, 6, 20)]
    assert len(set(other)) > 1  # the picks really vary


def test_random_picks_never_shift_the_market(mini):
    for p in random_paths(mini, 9, 8, keep_sessions=True):
        direct = play(mini, 9, list(p.choices))
        assert p.session.observe() == direct.observe()


def test_fork_is_independent(mini):
    s = Session(mini, 2)
    s.choose("check")
    copy = fork(s)
    copy.choose("push")
    assert s.step_id == "order" and not s.finished and copy.finished
    assert s.observe()["dealer.wang.stock"] == 250


def test_unreachable_step_and_dead_end_are_reported_with_lines_by_check_and_explore(principle_ids):
    limbo = line_of(STUCK, 'id = "limbo"')
    recall = line_of(STUCK, 'id = "recall"')
    checked = {(d.code, d.line) for d in load_scenario(STUCK, principle_ids).diagnostics}
    assert {("DS0206", limbo), ("DS0205", recall)} <= checked

    report = explore(load(STUCK, principle_ids), [0, 1], positions=key_positions(STUCK.read_text("utf-8")))
    found = {(d.code, d.line) for d in report.diagnostics}
    assert {("DS0712", limbo), ("DS0205", recall)} <= found
    assert report.unreached == ["recall"]
    (dead,) = report.dead_ends
    assert dead.step == "limbo" and dead.choices == ("skip",) and dead.count == 2  # once per seed
    stuck = next(d for d in report.diagnostics if d.code == "DS0712")
    assert f"--seed 0 --choices skip" in stuck.hint


def test_a_decision_with_no_option_left_is_a_dead_end_in_play(principle_ids):
    loaded = load(NO_OPTION, principle_ids)
    report = explore(loaded, [0], positions=key_positions(NO_OPTION.read_text("utf-8")))
    dead = next(d for d in report.dead_ends if d.step == "review")
    assert "no option" in dead.reason
    # replaying the reported choices gets stuck there: no option, no ending
    session = play(loaded, dead.seed, list(dead.choices))
    assert session.step_id == "review" and session.options() == [] and not session.finished
    assert any(d.code == "DS0712" and d.line == line_of(NO_OPTION, 'id = "review"') for d in report.diagnostics)
    assert not report.ok


def test_a_step_no_seed_reaches_is_reported_as_never_reached_in_play(principle_ids):
    # bad_end needs cover above 2.5 cycles, but in this variant the push sends the story elsewhere
    loaded = load(NO_OPTION, principle_ids)
    report = explore(loaded, [0, 1], positions=key_positions(NO_OPTION.read_text("utf-8")))
    never = next(d for d in report.diagnostics if "bad_end" in d.message)
    assert never.code == "DS0711" and never.severity == "warning"
    assert never.line == line_of(NO_OPTION, 'id = "bad_end"')


def test_a_choice_whose_condition_never_holds_is_reported(principle_ids):
    text = MINI.read_text("utf-8").replace('when = "var.checked or market.week >= 0"', 'when = "dealer.wang.stock > 99999"')
    loaded = load_text(text, "never.toml", principle_ids).loaded
    report = explore(loaded, [0], positions=key_positions(text))
    (d,) = [d for d in report.diagnostics if d.code == "DS0713"]
    assert "'push'" in d.message and text.splitlines()[d.line - 1].strip().startswith("when =")


def test_mermaid_graph_has_every_step_choice_and_route():
    sc = load_scenario(MINI).loaded.scenario
    graph = mermaid(sc)
    assert graph.startswith("flowchart TD\n")
    for step in ("call", "order", "after", "good_end", "bad_end"):
        assert re.search(rf"^  s_{step}\W", graph, flags=re.M), step
    assert '  s_call -->|"check"| s_order' in graph
    assert '  s_order -.->|"push +4w"| s_after' in graph  # a conditional choice is dotted, weeks shown
    assert "cover_cycles #gt; 2.5" in graph  # conditions are escaped, not raw '>'
    assert "class s_good_end good" in graph and "class s_bad_end bad" in graph


def test_mermaid_titles_in_chinese_and_keyword_ids():
    text = MINI.read_text("utf-8").replace('id = "good_end"\n', 'id = "end"\ntitle = { zh = "好结局", en = "Good \\"end\\"" }\n').replace('goto = "good_end"', 'goto = "end"')
    sc = load_text(text, "k.toml").loaded.scenario
    assert 's_end(["end: 好结局 (good)"])' in mermaid(sc, "zh")
    assert "#quot;end#quot;" in mermaid(sc, "en")


def test_cli_explore_json_exit_code_and_graph_file(tmp_path):
    out = tmp_path / "g.mmd"
    proc = run_cli("explore", str(STUCK), "--seeds", "2", "--format", "json", "--graph", "mermaid", "--out", str(out))
    assert proc.returncode == 1, proc.stderr  # a dead end is an error
    report = json.loads(proc.stdout)
    assert [s["seed"] for s in report["seeds"]] == [0, 1]
    assert report["unreached_steps"] == ["recall"]
    assert report["dead_ends"][0]["step"] == "limbo"
    assert {"DS0206", "DS0712", "DS0205"} <= {d["code"] for d in report["diagnostics"]}
    assert out.read_text("utf-8").startswith("flowchart TD")

"""Playthrough tests (*.test.toml): a bad test file gets diagnostics with lines; a failing test says what differed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from simulator.engine import play
from simulator.playtest import SOURCES, Source, load_tests, register_source, run_tests, test_files

from .conftest import DATA, MINI, run_cli

MINI_TESTS = DATA / "mini.test.toml"


@pytest.fixture
def folder(tmp_path) -> Path:
    shutil.copy(MINI, tmp_path / "mini.toml")
    return tmp_path


def write(folder: Path, text: str, name: str = "mini.test.toml") -> Path:
    path = folder / name
    path.write_text(text, "utf-8")
    return path


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text("utf-8").splitlines(), 1) if text in line)


def test_the_mini_tests_pass_on_every_seed(principle_ids):
    tests = load_tests(MINI_TESTS, principle_ids)
    assert tests.ok, [d.render() for d in tests.diagnostics]
    results = run_tests(tests)
    assert [(r.name[:8], r.seed) for r in results] == [
        ("checking", 0), ("checking", 1), ("checking", 2), ("checking", 3), ("pushing ", 0), ("a worksh", "TUESDAY-A")
    ]
    assert all(r.passed for r in results), [d.render() for r in results for d in r.failures]


def test_a_wrong_ending_says_what_happened_where_and_how_to_replay_it(folder, mini, principle_ids):
    path = write(folder, '[[test]]\nname = "safe ends badly?"\nseed = 2\nchoices = ["check", "safe"]\nending = "bad_end"\n[test.expect]\n"dealer.wang.stock" = [0, 100]\n')
    (result,) = run_tests(load_tests(path, principle_ids))
    assert not result.passed
    ending, stock = result.failures
    assert ending.code == "DS0701" and ending.line == 5 and ending.file == str(path)
    assert "expected ending 'bad_end', but the story ended at 'good_end' (good)" in ending.message
    assert f"dealersim play {folder / 'mini.toml'} --seed 2 --choices check,safe" in ending.hint
    actual = play(mini, 2, ["check", "safe"]).observe()["dealer.wang.stock"]
    assert stock.line == 7 and f"dealer.wang.stock is {actual:.4g}, expected [0, 100]" in stock.message


def test_a_choice_not_on_offer_names_what_was(folder, principle_ids):
    path = write(folder, '[[test]]\nname = "x"\nchoices = ["check", "skip"]\n')
    (result,) = run_tests(load_tests(path, principle_ids))
    (d,) = result.failures
    assert (d.line, d.col) == (3, 21)  # at "skip"
    assert "choice 2 ('skip') is not on offer at step 'order'; on offer: 1 safe, 2 push" in d.message


def test_choices_after_the_ending_and_a_story_that_has_not_ended(folder, principle_ids):
    path = write(folder, '[[test]]\nname = "long"\nchoices = ["check", "safe", "safe"]\n\n[[test]]\nname = "short"\nchoices = ["check"]\noutcome = "good"\n')
    long, short = run_tests(load_tests(path, principle_ids))
    assert "the story ended at 'good_end' before choice 3" in long.failures[0].message
    assert "stopped at step 'order' after 1 choice(s)" in short.failures[0].message and short.failures[0].line == 8


def test_each_seed_is_a_case_of_its_own(folder, mini, principle_ids):
    covers = [play(mini, seed, ["check", "safe"]).observe()["dealer.wang.cover_cycles"] for seed in range(6)]
    low, high = min(covers), sorted(covers)[2]  # a range that the three lowest seeds meet and the others miss
    path = write(folder, f'[[test]]\nname = "cover"\nseeds = [0, 1, 2, 3, 4, 5]\nchoices = ["check", "safe"]\n[test.expect]\n"dealer.wang.cover_cycles" = [{low!r}, {high!r}]\n')
    results = run_tests(load_tests(path, principle_ids))
    assert [r.seed for r in results] == [0, 1, 2, 3, 4, 5]
    assert [r.passed for r in results] == [low <= c <= high for c in covers]
    assert sum(r.passed for r in results) == 3
    failed = next(r for r in results if not r.passed)
    assert f"(seed {failed.seed})" in failed.failures[0].message


def test_misspelled_assertion_is_an_error_with_did_you_mean(folder, principle_ids):
    path = write(folder, '[[test]]\nname = "x"\nchoices = ["check", "safe"]\nendng = "good_end"\n')
    tests = load_tests(path, principle_ids)
    (d,) = tests.diagnostics
    assert (d.code, d.line) == ("DS0101", 4)
    assert "did you mean 'ending'" in d.message and "reach" in d.hint
    assert run_tests(tests) == []


@pytest.mark.parametrize(
    "body, code, line, words",
    [
        ('choices = ["chek"]', "DS0702", 3, "no choice 'chek' in stock_push.mini — did you mean 'check'?"),
        ('reach = "ordr"', "DS0702", 3, "no step 'ordr' in stock_push.mini — did you mean 'order'?"),
        ('ending = "order"', "DS0702", 3, "'order' is a decision step, not an ending"),
        ('[test.expect]\n"dealer.wang.stok" = 1', "DS0702", 4, "did you mean 'dealer.wang.stock'?"),
        ('[test.expect]\n"var.checked" = 1', "DS0103", 4, "'var.checked' is true/false"),
        ('[test.expect]\n"dealer.wang.stock" = [300, 100]', "DS0109", 3, "write the low end first"),
        ('seed = 1\nseeds = [2]', "DS0109", 1, "give `seed` or `seeds`, not both"),
        ('choices = ["check", 10]', "DS0109", 3, "choice 2 is 10: option numbers are 1–9"),
        ('outcome = "great"', "DS0105", 3, "expected 'good', 'mixed' or 'bad'"),
        ('seed = 1.5', "DS0103", 3, "seed"),
    ],
)
def test_bad_test_file_gets_a_diagnostic_at_the_line(folder, principle_ids, body, code, line, words):
    path = write(folder, f'[[test]]\nname = "x"\n{body}\n')
    tests = load_tests(path, principle_ids)
    hits = [d for d in tests.diagnostics if d.code == code]
    assert hits, [d.render() for d in tests.diagnostics]
    assert hits[0].line == line and words in hits[0].message, hits[0].render()
    assert not tests.ok


def test_toml_syntax_error_in_a_test_file(folder, principle_ids):
    path = write(folder, '[[test]]\nname = "x\n')
    (d,) = load_tests(path, principle_ids).diagnostics
    assert d.code == "DS0003" and d.line == 2


def test_no_scenario_next_to_the_tests_DS0703(tmp_path, principle_ids):
    path = write(tmp_path, '[[test]]\nname = "x"\n', "lonely.test.toml")
    (d,) = load_tests(path, principle_ids).diagnostics
    assert d.code == "DS0703" and "lonely.toml" in d.message
    named = write(tmp_path, 'scenario = "nowhere.toml"\n[[test]]\nname = "x"\n', "named.test.toml")
    (d,) = load_tests(named, principle_ids).diagnostics
    assert d.code == "DS0703" and d.line == 1 and "nowhere.toml" in d.message


def test_a_broken_scenario_is_reported_by_the_tests_DS0703(folder, principle_ids):
    (folder / "mini.toml").write_text(MINI.read_text("utf-8").replace('goto = "order"', 'goto = "ordr"', 1), "utf-8")
    path = write(folder, '[[test]]\nname = "x"\n')
    (d,) = load_tests(path, principle_ids).diagnostics
    assert d.code == "DS0703" and "DS0203" in d.message and "dealersim check" in d.hint


def test_scores_and_other_values_can_be_added_later(folder, principle_ids):
    """The extension point: a source (the scorer, later) makes new names valid in [test.expect]."""
    path = write(folder, '[[test]]\nname = "x"\nchoices = ["check", "safe"]\n[test.expect]\n"score.total" = [50, 100]\n')
    assert load_tests(path, principle_ids).diagnostics[0].code == "DS0702"
    source = Source(names=lambda loaded: ["score.total"], read=lambda session: {"score.total": 10.0 * len(session.chosen)})
    register_source(source)
    try:
        (result,) = run_tests(load_tests(path, principle_ids))
        assert "score.total is 20, expected [50, 100]" in result.failures[0].message
    finally:
        SOURCES.remove(source)


def test_test_files_are_found_in_folders_and_next_to_scenarios():
    assert MINI_TESTS in test_files([DATA])
    assert test_files([MINI]) == [MINI_TESTS]


def test_cli_runs_tests_and_exits_1_on_a_failure(folder):
    ok = run_cli("test", str(MINI_TESTS))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "6 test(s): 6 passed, 0 failed" in ok.stdout and "PASS" in ok.stdout
    bad = write(folder, '[[test]]\nname = "wrong"\nseed = 2\nchoices = ["check", "safe"]\noutcome = "bad"\n')
    proc = run_cli("test", str(MINI_TESTS), str(bad))
    assert proc.returncode == 1
    assert f"FAIL {bad}: wrong (seed 2)" in proc.stdout
    assert f"DS0701 error {bad}:5:1 test 'wrong' (seed 2): expected a bad outcome" in proc.stdout
    assert "7 test(s): 6 passed, 1 failed" in proc.stdout

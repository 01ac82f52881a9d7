"""The debrief viewer's data (scoring/viewer.py) and retry from here (simulator/retry.py), without a UI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scoring import session_observers
from scoring.analysis import analyse_log
from scoring.viewer import analyse_view, compare, find_logs, load_view
from simulator.diagnostics import DiagnosticError
from simulator.engine import Session
from simulator.library import shipped_dir
from simulator.loader import load_scenario
from simulator.record import read_log
from simulator.recorded import RecordedSession, verify_log
from simulator.retry import retry_log_path, start_retry

from .conftest import MINI

QUARTER_END = shipped_dir() / "stock_push" / "quarter_end.toml"


def play(loaded, choices, path: Path, lang: str = "en", seed: int = 3) -> Path:
    recorded = RecordedSession.start(loaded, seed, lang, path, trainee="Lin", observers=session_observers)
    for choice in choices:
        recorded.choose(choice)
    recorded.close()
    return path


def choices_of(path: Path) -> list[str]:
    return [r.data["choice"] for r in read_log(path).records if r.kind == "choice"]


@pytest.fixture
def mini_copy(tmp_path, principle_ids):
    """mini.toml in a folder of its own (a test may change or delete it)."""
    path = tmp_path / "mini.toml"
    shutil.copy(MINI, path)
    return load_scenario(path, principle_ids).loaded


@pytest.fixture(scope="module")
def greedy_log(tmp_path_factory, principle_ids):
    """The shipped quarter-end scenario played greedily: eight decisions over several market weeks."""
    from simulator.policy import greedy_choice

    loaded = load_scenario(QUARTER_END, principle_ids).loaded
    path = tmp_path_factory.mktemp("logs") / "greedy.jsonl"
    recorded = RecordedSession.start(loaded, 5, "en", path, observers=session_observers)
    while not recorded.session.finished:
        recorded.choose(greedy_choice(recorded.session))
    recorded.close()
    return path


# ---------------------------------------------------------------- the timeline and the market then


def test_each_row_shows_the_market_as_the_log_recorded_it_just_before_the_decision(greedy_log):
    view = load_view(greedy_log)
    records = read_log(greedy_log).records
    assert [r.choice for r in view.rows] == choices_of(greedy_log)
    assert view.replayable and view.market == "ok" and view.problem == ""
    weeks_seen = set()
    for row in view.rows:
        # the log's last `week` record before this choice holds each dealer's stock then
        index = [i for i, r in enumerate(records) if r.kind == "choice"][row.turn - 1]
        last_week = next((r.data for r in reversed(records[:index]) if r.kind == "week"), None)
        weeks_seen.add(row.moment.week)
        for dealer in row.moment.dealers:
            if last_week is None:
                assert dealer.sales == []
            else:
                assert dealer.values["stock"] == pytest.approx(last_week["dealers"][dealer.id]["stock"])
                assert dealer.sales[-1] == pytest.approx(last_week["dealers"][dealer.id]["sales"])
        assert row.choice in [o for o, _ in row.moment.options]  # the option taken was on offer then
    assert len(weeks_seen) > 1  # the session moved through market weeks between decisions


def test_the_viewer_analysis_is_the_report_analysis_with_progress(greedy_log):
    view = load_view(greedy_log)
    seen = []
    analyses = analyse_view(view, progress=lambda done, total: seen.append((done, total)))
    report = analyse_log(greedy_log)
    assert [(a.turn, a.label, a.loss, a.best) for a in analyses] == [(d.turn, d.label, d.loss, d.best) for d in report.decisions]
    total = len(view.rows)
    assert seen == [(i, total) for i in range(1, total + 1)]
    view.set_analysis(analyses)
    flagged = [r for r in view.rows if r.flagged]
    assert flagged and all(r.label in ("inaccuracy", "mistake", "blunder") and r.mark in ("?!", "?", "??") for r in flagged)
    assert all(r.retryable for r in view.rows)


def test_texts_follow_the_viewer_language(mini_copy, tmp_path):
    log = play(mini_copy, ["skip", "push"], tmp_path / "en.jsonl", lang="en")
    view = load_view(log, lang="zh")
    assert view.title("zh") == "小测试" and view.title("en") == "Mini test"
    assert view.rows[0].moment.dealers[0].name == "王老板"
    assert view.step_texts(view.rows[1], "zh") == ("", "下多少？")
    view.set_analysis(analyse_view(view))
    assert view.option_text(view.rows[1], "safe", "zh") == "补到1.5个周期"


def test_a_missing_scenario_keeps_the_rows_without_the_market(mini_copy, tmp_path):
    log = play(mini_copy, ["check", "safe"], tmp_path / "log.jsonl")
    Path(mini_copy.path).unlink()
    view = load_view(log)
    assert [r.choice for r in view.rows] == ["check", "safe"]
    assert not view.replayable and all(r.moment is None for r in view.rows)
    assert view.market == "missing" and "mini.toml" in view.problem
    assert analyse_view(view) == [] and not any(r.retryable for r in view.rows)


def test_a_changed_scenario_is_not_replayed(mini_copy, tmp_path):
    log = play(mini_copy, ["check", "safe"], tmp_path / "log.jsonl")
    path = Path(mini_copy.path)
    path.write_text(path.read_text("utf-8").replace("mean = 100", "mean = 120"), "utf-8")
    view = load_view(log)
    assert view.scenario_state == "changed" and not view.replayable
    assert view.market == "changed" and all(r.moment is None for r in view.rows)


def test_a_damaged_log_keeps_the_decisions_before_the_damage(mini_copy, tmp_path):
    log = play(mini_copy, ["check", "safe"], tmp_path / "log.jsonl")
    lines = log.read_text("utf-8").splitlines(keepends=True)
    second = max(i for i, line in enumerate(lines) if '"kind":"choice"' in line)
    lines[second] = lines[second].replace('"safe"', '"push"', 1)  # edited after the fact: the hash chain breaks
    log.write_text("".join(lines), "utf-8")
    view = load_view(log)
    assert view.status == "damaged" and view.market == "damaged"
    assert [r.choice for r in view.rows] == ["check"]
    assert "DS050" in view.problem and analyse_view(view) == []


def test_not_a_log_is_a_diagnostic(tmp_path):
    bad = tmp_path / "x.jsonl"
    bad.write_text("not json\n", "utf-8")
    with pytest.raises(DiagnosticError) as err:
        load_view(bad)
    assert all(d.code.startswith("DS05") for d in err.value.diagnostics)


# ---------------------------------------------------------------- grading a retried decision


def test_compare_grades_a_new_choice_against_the_best_option(mini_copy, tmp_path):
    log = play(mini_copy, ["check", "push"], tmp_path / "log.jsonl")
    view = load_view(log)
    view.set_analysis(analyse_view(view))
    d2 = view.rows[1].analysis
    assert d2.label == "blunder" and d2.best == "safe"
    same = compare(d2, "push")
    assert (same.label, same.loss, same.improved) == (d2.label, d2.loss, 0.0)
    best = compare(d2, "safe", lambda option: view.principles_of(view.rows[1], option))
    assert best.label == "best" and best.loss == 0 and best.mark == "!"
    assert best.improved == pytest.approx(d2.loss)
    assert best.principles_best == {"stock.safety_stock_1_5x": 2}
    with pytest.raises(KeyError):
        compare(d2, "nonsense")


# ---------------------------------------------------------------- retry from here


def test_retry_replays_the_decisions_before_n_into_a_new_verifiable_log(mini_copy, tmp_path):
    log = play(mini_copy, ["check", "push"], tmp_path / "log.jsonl")
    sessions = tmp_path / "sessions"
    recorded = start_retry(log, 2, sessions, observers=session_observers)
    try:
        assert recorded.session.turn == 1 and recorded.session.step_id == "order"
        assert choices_of(recorded.path) == ["check"]
        # the replayed part is the original's, event for event
        original = [(r.kind, r.data) for r in read_log(log).records]
        retried = [(r.kind, r.data) for r in read_log(recorded.path).records]
        assert retried == original[: len(retried)]
        header = read_log(recorded.path).header
        assert header["retry_of"] == {"log": str(log.resolve()), "decision": 2, "header_hash": read_log(log).header_record.hash}
        assert header["seed"] == "3" and header["trainee"] == "Lin"
        recorded.choose("safe")
    finally:
        recorded.close()
    assert choices_of(recorded.path) == ["check", "safe"]
    assert read_log(recorded.path).finished
    assert verify_log(recorded.path, observers=session_observers).ok
    assert recorded.path.parent == sessions / "stock_push.mini" and recorded.path.stem.endswith("-retry2")
    assert "retry_of" not in read_log(log).header  # an ordinary log has no such field


def test_retry_from_the_first_decision_replays_nothing(mini_copy, tmp_path):
    log = play(mini_copy, ["skip", "safe"], tmp_path / "log.jsonl")
    recorded = start_retry(log, 1, tmp_path / "sessions")
    recorded.close()
    assert choices_of(recorded.path) == [] and recorded.session.turn == 0
    fresh = Session(mini_copy, 3, "en")
    assert recorded.session.observe() == fresh.observe()


def test_retry_refuses_a_changed_scenario_and_a_decision_the_log_does_not_have(mini_copy, tmp_path):
    log = play(mini_copy, ["skip", "safe"], tmp_path / "log.jsonl")
    with pytest.raises(ValueError):
        start_retry(log, 3, tmp_path / "sessions")
    path = Path(mini_copy.path)
    path.write_text(path.read_text("utf-8") + "\n# changed\n", "utf-8")
    with pytest.raises(DiagnosticError) as err:
        start_retry(log, 1, tmp_path / "sessions")
    assert [d.code for d in err.value.diagnostics][0] == "DS0506"


def test_two_retries_in_the_same_second_get_their_own_files(tmp_path):
    first = retry_log_path(tmp_path, "a.b", "Lin", "3", 2, stamp="20261123-100000")
    first.parent.mkdir(parents=True)
    first.write_text("", "utf-8")
    second = retry_log_path(tmp_path, "a.b", "Lin", "3", 2, stamp="20261123-100000")
    assert second != first and second.parent == first.parent


def test_find_logs_lists_finished_unfinished_and_retries_newest_first(mini_copy, tmp_path):
    sessions = tmp_path / "sessions"
    (sessions / "x").mkdir(parents=True)
    done = play(mini_copy, ["check", "safe"], sessions / "x" / "20261123-100000-a.jsonl")
    half = RecordedSession.start(mini_copy, 3, "en", sessions / "x" / "20261123-100100-b.jsonl")
    half.choose("check")
    half.close()
    retry = start_retry(done, 2, sessions, path=sessions / "x" / "20261123-100200-c.jsonl")
    retry.close()
    (sessions / "x" / "20261123-100300-junk.jsonl").write_text("junk\n", "utf-8")
    found = find_logs(sessions)
    assert [e.path.name for e in found] == ["20261123-100200-c.jsonl", "20261123-100100-b.jsonl", "20261123-100000-a.jsonl"]
    assert [(e.finished, e.decisions, e.retry_of) for e in found] == [(False, 1, 2), (False, 1, None), (True, 2, None)]
    assert find_logs(tmp_path / "nowhere") == []

"""The debrief viewer in the Textual game, driven with Pilot: open a log (command line, home, end
screen), step through the timeline, see the market as it was, retry from a flagged decision and
be graded against the best option — in both languages and at both terminal sizes."""

from __future__ import annotations

from pathlib import Path

import pytest

from textual.widgets import Input

from scoring import session_observers
from scoring.catalogue import load_catalogue
from simulator.loader import load_scenario
from simulator.record import read_log
from simulator.recorded import RecordedSession, verify_log
from simulator.tui.screens.debrief import DebriefScreen, LogPicker, RetryPlayScreen, VerdictScreen
from simulator.tui.screens.end import EndScreen
from simulator.tui.screens.home import HomeScreen
from simulator.tui.screens.play import PlayScreen
from simulator.tui.widgets.dashboard import Dashboard, DealerCard
from simulator.tui.widgets.prose import Line, Prose
from simulator.tui.widgets.timeline import Timeline

from .test_tui_app import NAVIGATION, PRINTABLE, SIZES, env, make_app, press, run, settle, to_play  # noqa: F401 — env is a fixture

WORDS = {
    "en": {"decision": "Decision {n} of 2", "chose": "You chose: Go straight to the order", "better": "Better: Check stock",
           "blunder": "blunder", "best": "best", "market": "The market then", "verdict_best": "As good as the best option",
           "analysed": "Analysis done", "retry_of": "retry of decision 2 of run.jsonl"},
    "zh": {"decision": "第{n}个决定（共2个）", "chose": "当时的选择：直接下单", "better": "更好的选择：先看库存",
           "blunder": "重大失误", "best": "最佳", "market": "当时的市场", "verdict_best": "和最佳选项一样好",
           "analysed": "分析完成", "retry_of": "重来自 run.jsonl 的第2个决定"},
}


def played(env, choices: list[str], lang: str = "en", name: str = "run") -> Path:
    """A finished session of tests/data/mini.toml (seed 3) with these choices, as the game records it."""
    loaded = load_scenario(env.scenarios / "mini.toml", load_catalogue().ids).loaded
    path = env.root / f"{name}.jsonl"
    recorded = RecordedSession.start(loaded, 3, lang, path, trainee="Lin", observers=session_observers)
    for choice in choices:
        recorded.choose(choice)
    recorded.close()
    return path


def detail(app) -> str:
    screen = app.screen
    return "\n".join([screen.query_one("#moment-head", Line).text] + [p.text for p in screen.query("#debrief-detail Prose")])


def timeline_lines(app) -> list[str]:
    timeline = app.screen.query_one(Timeline)
    return [str(timeline.get_option_at_index(i).prompt) for i in range(timeline.option_count)]


def choices_of(path: Path) -> list[str]:
    return [r.data["choice"] for r in read_log(path).records if r.kind == "choice"]


# ---------------------------------------------------------------- stepping through a log


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_step_through_a_log_with_marks_the_best_alternative_and_the_market_then(env, lang, size):
    words = WORDS[lang]
    log = played(env, ["skip", "safe"], lang)

    async def scenario():
        app = make_app(env, lang=lang, view=log)
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, DebriefScreen)
            # the analysis ran in a worker: its marks are on the timeline (D1 a blunder, D2 the best)
            lines = timeline_lines(app)
            assert len(lines) == 2
            assert lines[0].startswith("D1") and "??" in lines[0]
            assert lines[1].startswith("D2") and "!" in lines[1] and "??" not in lines[1]
            assert words["analysed"] in app.screen.query_one("#analysis-status", Line).text
            shown = detail(app)
            assert words["decision"].format(n=1) in shown and words["chose"] in shown
            assert words["blunder"] in shown and words["better"] in shown
            assert words["market"] in app.screen.query_one("#moment-market-title", Line).text
            cards = app.screen.query(DealerCard)
            assert len(cards) == 1 and cards.first().data.cover_cycles == pytest.approx(1.25)  # stock 250, 100/week, 2-week cycle
            await press(pilot, "right")
            shown = detail(app)
            assert words["decision"].format(n=2) in shown and words["best"] in shown
            assert words["better"] not in shown  # the best option was chosen: no better one
            await press(pilot, "right")  # past the last: stays
            assert words["decision"].format(n=2) in detail(app)
            await press(pilot, "left")
            assert words["decision"].format(n=1) in detail(app)
            await press(pilot, "right", "f")  # f: the next flagged decision (wraps around to D1)
            assert words["decision"].format(n=1) in detail(app)

    run(scenario())


def test_the_market_is_shown_as_it_was_before_each_decision(env):
    """A decision after market weeks shows those weeks' stock and sales, not the final market."""
    log = played(env, ["check", "push"])

    async def scenario():
        app = make_app(env, view=log)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            before = app.screen.query_one(DealerCard).data
            assert before.sales == []  # no market week had been simulated at decision 1
            final = [e for e in read_log(log).records if e.kind == "week"][-1].data["dealers"]["wang"]["stock"]
            assert final > 500  # the push filled the warehouse later, which decision 2 did not see yet
            await press(pilot, "right")
            assert f"{250:,}" in " ".join(app.screen.query_one(DealerCard).data.stats)

    run(scenario())


def test_a_log_whose_scenario_is_gone_still_shows_its_decisions(env):
    log = played(env, ["skip", "safe"])
    (env.scenarios / "mini.toml").unlink()

    async def scenario():
        app = make_app(env, view=log)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, DebriefScreen)
            assert len(timeline_lines(app)) == 2
            assert "cannot be replayed" in app.screen.query_one("#moment-no-market", Prose).text
            assert not app.screen.query_one(Dashboard).display
            await press(pilot, "r")  # nothing analysed: no retry, no crash
            assert isinstance(app.screen, DebriefScreen)

    run(scenario())


def test_a_file_that_is_not_a_log_goes_back_home_with_the_reason(env):
    bad = env.root / "notes.jsonl"
    bad.write_text("hello\n", "utf-8")

    async def scenario():
        app = make_app(env, view=bad)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, HomeScreen)
            assert any("DS05" in str(n.message) for n in app._notifications)

    run(scenario())


# ---------------------------------------------------------------- retry from here


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_retry_from_a_flagged_decision_is_graded_against_the_best_option(env, lang):
    words = WORDS[lang]
    log = played(env, ["check", "push"], lang)  # D2 is the blunder

    async def scenario():
        app = make_app(env, lang=lang, view=log, mode="exam")
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await press(pilot, "f")  # the flagged decision: D2
            assert words["decision"].format(n=2) in detail(app)
            await press(pilot, "r")
            assert isinstance(app.screen, RetryPlayScreen)
            game = app.game
            retry_log = game.path
            assert retry_log != log and retry_log.parent.parent == env.sessions
            # decisions 1..N-1 replayed into the new log; the header says what it retries
            assert choices_of(retry_log) == ["check"] and game.turn == 1
            header = read_log(retry_log).header
            assert header["retry_of"]["decision"] == 2 and header["retry_of"]["log"] == str(log.resolve())
            await press(pilot, "1")  # top up to 1.5 cycles: the best option this time
            assert choices_of(retry_log) == ["check", "safe"]  # in the log before the verdict shows
            assert isinstance(app.screen, VerdictScreen)
            verdict = app.screen.query_one("#verdict-text", Prose).text
            assert words["verdict_best"] in verdict and words["best"] in verdict
            assert "+57" in verdict  # 89 expected this time against 33 the first time
            await press(pilot, "enter")
            assert isinstance(app.screen, RetryPlayScreen) and game.finished
            await press(pilot, "enter")
            assert isinstance(app.screen, EndScreen)  # the usual scorecard
            await press(pilot, "b")  # and this retry in the viewer: it says what it retries
            assert isinstance(app.screen, DebriefScreen)
            assert words["retry_of"] in app.screen.query_one("#topbar", Line).text
        assert verify_log(retry_log, observers=session_observers).ok

    run(scenario())


def test_a_worse_choice_on_retry_says_how_far_below_the_best_it_is(env):
    log = played(env, ["skip", "safe"])  # D1 is the blunder

    async def scenario():
        app = make_app(env, view=log)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await press(pilot, "r")
            assert isinstance(app.screen, RetryPlayScreen) and app.game.turn == 0
            await press(pilot, "2")  # skip again
            verdict = app.screen.query_one("#verdict-text", Prose).text
            assert "?? blunder" in verdict and "20.0 expected points below the best option" in verdict
            assert "The best option: Check stock" in verdict
            await press(pilot, "escape")
            assert isinstance(app.screen, RetryPlayScreen)
            await press(pilot, "1")  # on from there; the verdict is shown once only
            assert isinstance(app.screen, RetryPlayScreen) and app.game.finished

    run(scenario())


# ---------------------------------------------------------------- the ways in


def test_home_opens_a_log_from_the_sessions_folder(env):
    async def scenario():
        app = make_app(env)
        async with app.run_test(size=(120, 40)) as pilot:
            await to_play(pilot)
            await press(pilot, "1", "2")
            log = app.game.path
            await press(pilot, "enter", "enter")  # the end, then home
            assert isinstance(app.screen, HomeScreen)
            await press(pilot, "o")
            assert isinstance(app.screen, LogPicker)
            await press(pilot, "enter")
            assert isinstance(app.screen, DebriefScreen) and app.screen.path == log
            assert len(timeline_lines(app)) == 2
            await press(pilot, "escape")
            assert isinstance(app.screen, HomeScreen)

    run(scenario())


def test_home_opens_a_log_by_its_path(env):
    log = played(env, ["skip", "push"])

    async def scenario():
        app = make_app(env)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await press(pilot, "o")
            typed = app.screen.query_one("#log-path-input", Input)
            typed.focus()
            typed.value = str(env.root / "nowhere.jsonl")
            await press(pilot, "enter")
            assert isinstance(app.screen, LogPicker)  # no such file: it stays and says so
            typed.value = str(log)
            await press(pilot, "enter")
            assert isinstance(app.screen, DebriefScreen) and app.screen.path == log

    run(scenario())


def test_the_end_screen_opens_the_session_just_played(env):
    async def scenario():
        app = make_app(env, lang="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            await to_play(pilot)
            await press(pilot, "2", "1", "enter")
            assert isinstance(app.screen, EndScreen)
            path = app.game.path
            await press(pilot, "b")
            assert isinstance(app.screen, DebriefScreen) and app.screen.path == path
            assert "??" in timeline_lines(app)[0]  # skipping the stock check: a blunder

    run(scenario())


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
def test_no_key_crashes_the_viewer(env, size):
    log = played(env, ["skip", "push"])

    async def scenario():
        app = make_app(env, view=log)
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            for key in [k for k in PRINTABLE if k not in "qr"] + NAVIGATION + ["escape"]:
                await pilot.press(key)
                assert app.return_code is None, key
            await settle(pilot)
            assert app.is_running and app.return_code is None

    run(scenario())


# ---------------------------------------------------------------- snapshots (pytest-textual-snapshot)

IDS = ["120x40", "80x24"]


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_viewer_snapshot(env, snap_compare, size):
    """D1 (skipping the stock check, a blunder) with its best alternative and the market then."""
    log = played(env, ["skip", "safe"])
    assert snap_compare(make_app(env, view=log), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_viewer_snapshot_in_chinese(env, snap_compare, size):
    log = played(env, ["check", "push"], "zh")

    async def run_before(pilot):
        await settle(pilot)
        await press(pilot, "right")  # D2: the blunder

    assert snap_compare(make_app(env, lang="zh", view=log), terminal_size=size, run_before=run_before)


def test_retry_verdict_snapshot(env, snap_compare):
    log = played(env, ["skip", "safe"])

    async def run_before(pilot):
        await settle(pilot)
        await press(pilot, "r", "2")  # retry D1 and skip the check again

    assert snap_compare(make_app(env, view=log), terminal_size=(80, 24), run_before=run_before)


# ---------------------------------------------------------------- the command line


def test_view_without_a_terminal_prints_the_debrief_and_refuses_what_is_not_a_log(env):
    from .conftest import run_cli

    log = played(env, ["skip", "safe"])
    proc = run_cli("view", str(log), "--rollouts", "4")
    assert proc.returncode == 0, proc.stderr
    assert "Mini test" in proc.stdout and "??" in proc.stdout  # the Markdown debrief, with the analysis's marks
    bad = env.root / "notes.jsonl"
    bad.write_text("hello\n", "utf-8")
    proc = run_cli("view", str(bad))
    assert proc.returncode == 1 and "DS05" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("view", str(env.root / "nowhere.jsonl"))
    assert proc.returncode == 1 and "DS0501" in proc.stderr


def test_no_key_crashes_the_log_picker_or_the_verdict(env):
    log = played(env, ["skip", "safe"])

    async def scenario():
        app = make_app(env, view=log)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await press(pilot, "r", "r")  # twice: one retry only
            assert len(list(env.sessions.rglob("*.jsonl"))) == 1
            await press(pilot, "2")
            assert isinstance(app.screen, VerdictScreen)
            for key in [k for k in PRINTABLE if k != "q"] + [k for k in NAVIGATION if k != "space"]:
                await pilot.press(key)
                assert app.return_code is None, key
            assert isinstance(app.screen, VerdictScreen)
            await press(pilot, "enter", "1", "enter", "enter")  # on to the end, then home
            assert isinstance(app.screen, HomeScreen)
            await press(pilot, "o")
            assert isinstance(app.screen, LogPicker)
            for key in PRINTABLE + NAVIGATION:
                await pilot.press(key)
                assert app.return_code is None, key
            await press(pilot, "escape")
            assert isinstance(app.screen, HomeScreen)

    run(scenario())

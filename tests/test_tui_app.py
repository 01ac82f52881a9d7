"""The Textual game, driven with Pilot as a trainee would: every screen and flow, both languages,
both terminal sizes, quitting and resuming, coaching and exam mode, any key, resizing."""

from __future__ import annotations

import asyncio
import shutil
import string
from pathlib import Path
from types import SimpleNamespace

import pytest
from textual import events
from textual.widgets import Input

from scoring import session_observers
from scoring.catalogue import load_catalogue
from simulator.i18n import t
from simulator.record import read_log
from simulator.recorded import verify_log
from simulator.tui.app import DealersimApp, Outcome, outcome_message
from simulator.tui.game import resume_session
from simulator.tui.screens.briefing import BriefingScreen
from simulator.tui.screens.end import EndScreen
from simulator.tui.screens.home import HomeScreen
from simulator.tui.screens.play import PlayScreen
from simulator.tui.screens.quit import QuitScreen
from simulator.tui.settings import load_settings
from simulator.tui.widgets.choices import ChoicesList
from simulator.tui.widgets.prose import Prose
from simulator.tui.widgets.story import StoryLog
from simulator.tui.wrap import text_width

from .conftest import MINI

SIZES = [(120, 40), (80, 24)]
FEEDBACK_EN = "Good: you looked before you pushed."
FEEDBACK_ZH = "很好：先看库存再压货。"


# ---------------------------------------------------------------- helpers


@pytest.fixture
def env(tmp_path, monkeypatch):
    """An isolated world: one scenario folder, a sessions folder, a settings file, all in tmp."""
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    shutil.copy(MINI, scenarios / "mini.toml")
    settings = tmp_path / "config" / "settings.toml"
    monkeypatch.setenv("DEALERSIM_SETTINGS", str(settings))
    monkeypatch.chdir(tmp_path)
    return SimpleNamespace(root=tmp_path, scenarios=scenarios, sessions=tmp_path / "sessions", settings=settings)


def make_app(env, **options) -> DealersimApp:
    options.setdefault("lang", "en")
    options.setdefault("seed", 7)
    options.setdefault("key_guard", 0.0)  # the flows press keys faster than a person; the guard has its own tests
    return DealersimApp(scenario_dirs=(str(env.scenarios),), shipped=False, sessions=env.sessions, **options)


def with_feedback(env) -> None:
    """mini.toml with coaching feedback on its first choice."""
    path = env.scenarios / "mini.toml"
    text = path.read_text("utf-8")
    marker = '  principles = { "stock.check_before_push" = 2 }\n'
    assert marker in text
    path.write_text(text.replace(marker, marker + f'  feedback = {{ zh = "{FEEDBACK_ZH}", en = "{FEEDBACK_EN}" }}\n', 1), "utf-8")


async def settle(pilot) -> None:
    """Wait for the workers and for what their messages start (no fixed sleeps)."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def press(pilot, *keys: str) -> None:
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


def burst(app, *keys: str) -> None:
    """Keys as a terminal delivers them when they come faster than the screen (typed fast, pasted):
    all queued before the first is handled (Pilot's press waits for each)."""
    for key in keys:
        app._driver.send_message(events.Key(key, key if len(key) == 1 else None))


def texts(app) -> str:
    """All the text on the current screen's prose and story."""
    return "\n".join([p.text for p in app.screen.query(Prose)] + [s.text for s in app.screen.query(StoryLog)])


def run(coro) -> None:
    asyncio.run(coro)


async def to_play(pilot) -> None:
    await settle(pilot)
    assert isinstance(pilot.app.screen, HomeScreen)
    await press(pilot, "enter")
    assert isinstance(pilot.app.screen, BriefingScreen)
    await press(pilot, "enter")
    assert isinstance(pilot.app.screen, PlayScreen)


def records(path: Path) -> list[tuple[str, dict]]:
    return [(r.kind, r.data) for r in read_log(path).records]


# ---------------------------------------------------------------- playing to the end


STORY = {
    "en": ("Check the stock first?", "How much?", "You chose: Check stock", ("Healthy stock.", "Overstocked."), "Your decisions", "Scorecard"),
    "zh": ("要不要先看库存？", "下多少？", "你选择了：先看库存", ("库存健康。", "库存积压。"), "你的决定", "成绩单"),
}


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_play_mini_to_the_end(env, lang, size):
    first, second, chose, endings, decisions, scorecard = STORY[lang]

    async def scenario():
        app = make_app(env, lang=lang)
        async with app.run_test(size=size) as pilot:
            await to_play(pilot)
            assert first in texts(app)
            await press(pilot, "1")  # check the stock
            # the decision is in the log, and only then does the screen show the next step
            assert [d["choice"] for k, d in records(app.game.path) if k == "choice"] == ["check"]
            assert chose in texts(app) and second in texts(app)
            await press(pilot, "2")  # push 1,000 units
            assert app.game.finished
            assert read_log(app.game.path).finished
            assert isinstance(app.screen, PlayScreen)  # the final market stays on screen
            await press(pilot, "enter")
            assert isinstance(app.screen, EndScreen)
            shown = texts(app)
            outcome, _, ending = app.game.ending()
            assert ending in endings and ending in shown
            labels = " ".join(str(label.render()) for label in app.screen.query("Label"))
            assert decisions in labels and scorecard in labels
            assert app.screen.query_one("#scorecard")  # the slot phase 2 fills
            await press(pilot, "q")
        outcome = app.return_value
        assert isinstance(outcome, Outcome) and outcome.finished
        assert str(outcome.path) in outcome_message(outcome)

    run(scenario())


def test_enter_confirms_the_highlighted_choice_and_arrows_move_it(env):
    async def scenario():
        app = make_app(env)
        async with app.run_test(size=(120, 40)) as pilot:
            await to_play(pilot)
            await press(pilot, "down", "enter")  # the second option: skip
            assert [d["choice"] for k, d in records(app.game.path) if k == "choice"] == ["skip"]
            await press(pilot, "down", "down", "enter")  # wraps around to the first: safe
            assert [d["choice"] for k, d in records(app.game.path) if k == "choice"] == ["skip", "safe"]
            assert app.game.finished

    run(scenario())


def test_a_number_with_no_option_does_nothing(env):
    async def scenario():
        app = make_app(env)
        async with app.run_test(size=(120, 40)) as pilot:
            await to_play(pilot)
            await press(pilot, "9", "0")
            assert app.game.turn == 0
            assert [k for k, _ in records(app.game.path)].count("choice") == 0

    run(scenario())


# ---------------------------------------------------------------- quitting and resuming


def test_quit_midway_leaves_a_resumable_log_and_resume_continues_at_the_right_step(env):
    async def first_half() -> Outcome:
        app = make_app(env)
        async with app.run_test(size=(120, 40)) as pilot:
            await to_play(pilot)
            await press(pilot, "1")
            await press(pilot, "q")
            assert isinstance(app.screen, QuitScreen)
            assert "dealersim resume" in texts(app)  # the dialog says how to continue
            await press(pilot, "escape")  # stay after all
            assert isinstance(app.screen, PlayScreen)
            await press(pilot, "q", "enter")
        return app.return_value

    outcome = asyncio.run(first_half())
    assert isinstance(outcome, Outcome) and not outcome.finished
    assert f"dealersim resume {outcome.path}" in outcome_message(outcome)
    contents = read_log(outcome.path)
    assert contents.ok and not contents.finished
    assert [r.data["choice"] for r in contents.records if r.kind == "choice"] == ["check"]

    async def second_half():
        app = make_app(env, resume=resume_session(outcome.path))
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, PlayScreen)
            assert app.game.turn == 1 and app.game.session.step_id == "order"
            assert [item.option_id for item in app.screen.query_one(ChoicesList).items] == ["safe", "push"]
            assert "You chose: Check stock" in texts(app)  # the story so far is rebuilt from the log
            await press(pilot, "1")
            assert app.game.finished
            await press(pilot, "enter")
            assert isinstance(app.screen, EndScreen)

    run(second_half())
    assert read_log(outcome.path).finished
    verdict = verify_log(outcome.path, principles=load_catalogue().ids, observers=session_observers)
    assert verdict.ok, verdict.message


def test_ctrl_q_quits_at_once_and_the_log_is_resumable(env):
    async def scenario() -> Outcome:
        app = make_app(env)
        async with app.run_test(size=(120, 40)) as pilot:
            await to_play(pilot)
            await press(pilot, "1")
            await pilot.press("ctrl+q")
        return app.return_value

    outcome = asyncio.run(scenario())
    assert not outcome.finished and not read_log(outcome.path).finished


def test_home_lists_unfinished_sessions_and_resumes_one(env):
    async def quit_midway() -> Path:
        app = make_app(env)
        async with app.run_test(size=(120, 40)) as pilot:
            await to_play(pilot)
            await press(pilot, "2")
            await pilot.press("ctrl+q")
        return app.return_value.path

    path = asyncio.run(quit_midway())

    async def resume_from_home():
        app = make_app(env)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            home = app.screen
            assert isinstance(home, HomeScreen)
            assert any(key.startswith("session:") for key in home.entries)
            await press(pilot, "down")  # from the scenario to the unfinished session
            assert "1 decision(s) made" in texts(app)
            await press(pilot, "enter")
            assert isinstance(app.screen, PlayScreen)
            assert app.game.path == path and app.game.turn == 1
            await press(pilot, "2")
            assert app.game.finished

    run(resume_from_home())
    assert read_log(path).finished


# ---------------------------------------------------------------- language, settings, modes


def test_language_switch_rebuilds_home_and_is_remembered(env):
    async def switch():
        app = make_app(env, lang=None)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            start = app.settings.lang
            other = "zh" if start == "en" else "en"
            await press(pilot, "l")
            assert isinstance(app.screen, HomeScreen) and app.screen.lang == other
            title = str(app.screen.query_one("#topbar").render())
            assert ("经销商管理实战模拟" in title) == (other == "zh")
            footer = [b.binding.description for b in app.screen.active_bindings.values() if b.binding.show]
            assert ("语言" in footer) == (other == "zh") and ("Language" in footer) == (other == "en")
            return other

    other = asyncio.run(switch())
    assert load_settings(env.settings)[0].lang == other

    async def reopen():
        app = make_app(env, lang=None)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert app.screen.lang == other

    run(reopen())


def test_name_code_and_mode_are_remembered_and_used(env):
    async def fill_in():
        app = make_app(env, seed=None)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await press(pilot, "n", *"Li Lei", "enter", "s", *"WS7", "enter", "m")
            assert app.settings.trainee == "Li Lei" and app.settings.code == "WS7" and app.settings.mode == "exam"
            await press(pilot, "enter", "enter")
            assert isinstance(app.screen, PlayScreen)
            header = read_log(app.game.path).header
            assert header["seed"] == "WS7"
            assert header["trainee"] == "Li Lei" and header["seed"] == "WS7"

    run(fill_in())
    saved, problems = load_settings(env.settings)
    assert (saved.trainee, saved.code, saved.mode, problems) == ("Li Lei", "WS7", "exam", [])


def test_a_name_typed_fast_after_n_does_not_switch_the_language(env):
    """n, then "lin" in the same burst: the l must not be taken as the language key (that rebuilt
    the home screen in Chinese and left the name empty). Letters of that burst were already sent to
    the list and are dropped; the next ones go into the name."""

    async def scenario():
        app = make_app(env)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            burst(app, "n", "l", "i", "n")
            await settle(pilot)
            name = app.screen.query_one("#name", Input)
            assert app.settings.lang == "en" and app.screen.focused is name
            await press(pilot, "l", "i")
            assert name.value == "li" and app.settings.lang == "en"

    run(scenario())


def test_a_broken_settings_file_gives_defaults_and_a_warning(env):
    env.settings.parent.mkdir(parents=True)
    env.settings.write_text('lang = "fr"\nmode = 3 = 4\n', "utf-8")

    async def scenario():
        app = make_app(env)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, HomeScreen)
            assert app._notifications  # the problem is shown, the game still starts

    run(scenario())


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_coaching_mode_shows_feedback_and_principles_after_each_decision(env, lang):
    with_feedback(env)
    feedback = FEEDBACK_EN if lang == "en" else FEEDBACK_ZH
    name = load_catalogue().get("stock.check_before_push").text("name", lang)

    async def scenario():
        app = make_app(env, lang=lang, mode="coaching")
        async with app.run_test(size=(120, 40)) as pilot:
            await to_play(pilot)
            await press(pilot, "1")
            coaching = [b for b in app.screen.query_one(StoryLog).blocks if b.kind == "coaching"]
            assert len(coaching) == 1
            shown = coaching[0].text
            assert feedback in shown and name in shown and "+2" in shown
            assert "001_" in shown  # the citation: seed file and section

    run(scenario())


def test_exam_mode_shows_nothing_until_the_end(env):
    with_feedback(env)

    async def scenario():
        app = make_app(env, mode="exam")
        async with app.run_test(size=(120, 40)) as pilot:
            await to_play(pilot)
            await press(pilot, "1")
            assert not [b for b in app.screen.query_one(StoryLog).blocks if b.kind == "coaching"]
            assert FEEDBACK_EN not in texts(app)
            await press(pilot, "1", "enter")
            assert isinstance(app.screen, EndScreen)
            shown = texts(app)
            assert "Check stock and sell-through before you push" in shown  # the principles, at the end
            assert "+2" in shown

    run(scenario())


# ---------------------------------------------------------------- robustness


PRINTABLE = [c for c in string.printable if not c.isspace()]
NAVIGATION = ["space", "tab", "shift+tab", "up", "down", "left", "right", "home", "end", "pageup", "pagedown", "backspace", "delete"]


async def reach(pilot, where: str) -> None:
    await settle(pilot)
    if where == "home":
        return
    await press(pilot, "enter")
    if where == "briefing":
        return
    await press(pilot, "enter")
    if where == "play":
        return
    if where == "quit":
        await press(pilot, "q")
        return
    await press(pilot, "1", "1", "enter")  # end


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
@pytest.mark.parametrize("where", ["home", "briefing", "play", "quit", "end"])
def test_no_key_crashes_any_screen(env, where, size):
    leaving = {"home": "q", "briefing": "q", "play": "q", "quit": "yq", "end": "q"}[where]

    async def scenario():
        app = make_app(env)
        async with app.run_test(size=size) as pilot:
            await reach(pilot, where)
            for key in [k for k in PRINTABLE if k not in leaving] + NAVIGATION:
                await pilot.press(key)
                assert app.return_code is None, key
            await settle(pilot)
            assert app.is_running and app.return_code is None

    run(scenario())


def test_resizing_collapses_and_restores_the_dashboard(env):
    async def scenario():
        app = make_app(env)
        async with app.run_test(size=(120, 40)) as pilot:
            await to_play(pilot)
            side, strip = app.screen.query_one("#side"), app.screen.query_one("#strip")
            assert side.display and side.region.width and not strip.region.width
            await pilot.resize_terminal(80, 24)
            await settle(pilot)
            assert not side.region.width and strip.region.width  # one line per dealer instead
            await press(pilot, "d")  # the full dashboard, a key away
            assert side.region.width and not app.screen.query_one("#story").region.width
            await press(pilot, "d")
            await pilot.resize_terminal(120, 40)
            await settle(pilot)
            assert side.region.width and not strip.region.width
            await press(pilot, "1")  # still playable after all that
            assert app.game.turn == 1

    run(scenario())


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
def test_chinese_never_overflows_its_widget(env, size):
    async def scenario():
        app = make_app(env, lang="zh")
        async with app.run_test(size=size) as pilot:
            await to_play(pilot)
            await press(pilot, "1")
            for screen_check in range(2):
                for prose in app.screen.query(Prose):
                    if not prose.region.width:
                        continue
                    for line in prose.render().plain.split("\n"):
                        assert text_width(line) <= prose.size.width, (prose, line)
                for card in app.screen.query("DealerCard, MarketLine, ChoicesList"):
                    if card.region.width:
                        for line in card.render().plain.split("\n"):
                            assert text_width(line) <= card.size.width, (card, line)
                story = app.screen.query_one(StoryLog)
                if story.region.width:
                    assert story.lines() and any("王老板" in line or "库存" in line for line in story.lines())
                    for line in story.lines():
                        assert text_width(line) <= story.scrollable_content_region.width - 2, line
                await press(pilot, "d")

    run(scenario())


def test_two_files_with_the_same_scenario_id_do_not_break_home(env):
    shutil.copy(MINI, env.scenarios / "mini_copy.toml")

    async def scenario():
        app = make_app(env)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, HomeScreen)
            assert sum(key.startswith("scenario:") for key in app.screen.entries) == 2
            await press(pilot, "down", "enter", "enter")
            assert isinstance(app.screen, PlayScreen)

    run(scenario())


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_broken_scenario_is_listed_and_its_errors_shown_with_their_place(env, lang):
    """An instructor who broke a file sees it on the home screen, reaches it with the arrows and
    reads each error with file:line and the fix; Enter explains instead of opening it."""
    broken = env.scenarios / "broken.toml"
    broken.write_text(MINI.read_text("utf-8").replace("weeks_per_cycle = 2", 'weeks_per_cycle = "two"', 1), "utf-8")

    async def scenario():
        app = make_app(env, lang=lang)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            home = app.screen
            assert isinstance(home, HomeScreen)
            await press(pilot, "down")  # from the playable scenario to the broken file
            details = texts(app)
            assert "broken.toml:14:1" in details and "DS0103" in details
            assert "without quotes" in details  # the hint: how to fix it
            assert t("tui_broken_meta", lang, n=1, path=broken) in details
            await press(pilot, "enter")
            assert app.screen is home  # nothing to open
            assert [n.message for n in app._notifications][-1] == t("tui_broken_open", lang)
            await press(pilot, "up", "enter", "enter")
            assert isinstance(app.screen, PlayScreen)  # the good scenario still plays

    run(scenario())


def test_the_footer_speaks_the_sessions_language(env):
    async def scenario():
        app = make_app(env, lang="zh")
        async with app.run_test(size=(120, 40)) as pilot:
            await to_play(pilot)
            shown = {b.binding.description for b in app.screen.active_bindings.values() if b.binding.show}
            assert {"选择", "确定", "市场", "退出"} <= shown

    run(scenario())

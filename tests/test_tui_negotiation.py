"""The negotiation table of the Textual game, driven with Pilot as a trainee would: building an
offer with the inputs, the moves on their keys, both sides' offers round by round, the rounds left,
every move in the log before the screen moves on, quitting and resuming at the same round, any key,
both languages and both terminal sizes. Plus the pure pieces behind it (history and table view)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from scoring import session_observers
from scoring.catalogue import load_catalogue
from simulator.engine import Session
from simulator.i18n import t
from simulator.loader import load_scenario
from simulator.negotiation.history import table_state
from simulator.negotiation.step import render_line
from simulator.record import read_log
from simulator.schema import text_in
from simulator.recorded import RecordedSession, verify_log
from simulator.transcript import describe
from simulator.tui.game import Game, resume_session
from simulator.tui.screens.end import EndScreen
from simulator.tui.screens.pick import PickScreen
from simulator.tui.screens.play import PlayScreen
from simulator.tui.screens.quit import QuitScreen
from simulator.tui.table import KEY_MOVES, MOVE_KEYS, offer_values, table_view
from simulator.tui.widgets.choices import ChoicesList
from simulator.tui.widgets.negotiation import IssueInput, NegotiationTable, OfferHistory, fit
from simulator.tui.widgets.panels import EventsFeed
from simulator.tui.wrap import text_width

from .conftest import DATA, ROOT
from .test_tui_app import NAVIGATION, PRINTABLE, burst, env, make_app, press, settle, texts  # noqa: F401 — env is a fixture

NEGO = DATA / "nego_mini.toml"
ANNUAL = ROOT / "scenarios" / "negotiation" / "annual_plan.toml"
SIZES = [(120, 40), (80, 24)]
IDS = ["120x40", "80x24"]
SEED = 3  # the package below is turned down at this seed: the talks go to a second round


@pytest.fixture(scope="module")
def nego(principle_ids):
    result = load_scenario(NEGO, principle_ids)
    assert result.ok, [d.render() for d in result.diagnostics]
    return result.loaded


def nego_app(env, lang="en", **options):
    shutil.copy(NEGO, env.scenarios / "nego_mini.toml")
    loaded = load_scenario(env.scenarios / "nego_mini.toml", load_catalogue().ids).loaded
    options.setdefault("log", env.root / f"nego-{lang}.jsonl")
    return make_app(env, lang=lang, seed=SEED, start=loaded, **options)


def logged(path: Path) -> list[tuple[str, dict]]:
    """The moves in the log: (move, params)."""
    return [(r.data["choice"], r.data.get("params", {})) for r in read_log(path).records if r.kind == "choice"]


def table(app) -> NegotiationTable:
    return app.screen.query_one(NegotiationTable)


def inputs(app) -> list[IssueInput]:
    """The inputs shown (the builder keeps hidden rows for issues that are not on the table)."""
    return [w for w in app.screen.query(IssueInput) if w.display]


def worth(app) -> str:
    return app.screen.query_one("#table-worth").text


async def at_table(pilot) -> None:
    """From the briefing to the negotiation (the first decision, then the table)."""
    await settle(pilot)
    await press(pilot, "enter")
    assert isinstance(pilot.app.screen, PlayScreen)
    await press(pilot, "1")  # review his business first
    assert pilot.app.screen.negotiating


# ---------------------------------------------------------------- playing it through the table


@pytest.mark.parametrize("size", SIZES, ids=IDS)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_negotiation_played_to_the_end_through_the_table(env, nego, lang, size):
    step = nego.scenario.step("plan")

    async def scenario():
        app = nego_app(env, lang=lang)
        async with app.run_test(size=size) as pilot:
            await at_table(pilot)
            screen = app.screen
            assert table(app).display and table(app).region.height
            assert not screen.query_one(ChoicesList).items  # no numbered list: the table's keys make the moves
            shown = table(app).text
            assert render_line(step, "opening", lang) in shown  # his first demand, in his words
            assert t("table_status", lang, round=1, rounds=6, left=5, talk=8) in shown
            assert isinstance(screen.focused, IssueInput)

            # a tactic on its key: in the log before the screen shows his answer
            await press(pilot, "n")
            assert logged(app.game.path)[-1] == ("say_no", {})
            assert render_line(step, "say_no_first", lang) in table(app).text
            assert t("table_status", lang, round=1, rounds=6, left=5, talk=7) in table(app).text

            # a move with a parameter opens a small dialog
            await press(pilot, "k")
            assert isinstance(app.screen, PickScreen)
            await press(pilot, "2")  # the rebate
            assert isinstance(app.screen, PlayScreen)
            assert logged(app.game.path)[-1] == ("ask", {"issue": "rebate"})
            reading = table_state(app.game.events, "plan").readings["rebate"][-1][0]
            assert t(f"table_reading_{reading}", lang) in table(app).text

            # build an offer: target growth up three steps from his 5 %, the rebate down four from his 4 %
            before = worth(app)
            target, rebate, support = inputs(app)
            assert (target.value, rebate.value, support.value) == (5.0, 4.0, "promoter")  # prefilled with his bid
            await press(pilot, "right", "right", "right", "down", "left", "left", "left", "left")
            assert (target.value, rebate.value) == (20.0, 2.0)
            preview = app.game.preview_offer({"target_growth": 20.0, "rebate": 2.0, "support": "promoter"})
            assert worth(app) != before and f"{preview['own_utility']:.2f}" in worth(app)
            await press(pilot, "p")
            assert logged(app.game.path)[-1] == ("package", {"values": {"target_growth": 20.0, "rebate": 2.0, "support": "promoter"}})

            # both sides' offers, round by round, and the rounds left
            history = [line for line, _ in table(app).query_one(OfferHistory).lines(200, 99)]
            assert len(history) == 4  # header, his opening, our package, his second bid
            assert t("table_you_package", lang) in history[2] and "20%" in history[2] and "2%" in history[2]
            assert history[3].startswith("2 ")
            assert t("table_status", lang, round=2, rounds=6, left=4, talk=8) in table(app).text
            assert (inputs(app)[0].value, inputs(app)[1].value) == (20.0, 2.0)  # the builder starts from our last offer

            # his lines show in the events feed too, never the hidden result
            feed = screen.query_one(EventsFeed).query_one(".panel-body").text
            assert render_line(step, "bid", lang) in feed

            # accepting ends it, after a confirmation
            await press(pilot, "a")
            assert isinstance(app.screen, PickScreen)
            await press(pilot, "1")
            assert logged(app.game.path)[-1] == ("accept", {})
            assert app.game.finished and not screen.negotiating
            assert not table(app).display
            end = next(e for e in app.game.events if e["kind"] == "nego_end")
            assert end["data"]["reason"] == "accepted_by_trainee"
            feed = screen.query_one(EventsFeed).query_one(".panel-body").text
            assert t("nego_reason_accepted_by_trainee", lang) in feed  # how it ended, in the feed
            result = next(e for e in app.game.events if e["kind"] == "nego_result")
            hidden = describe(result, lang)[0]  # "Deal quality 62/100 · joint gain …": for the debrief
            on_screen = texts(app) + table(app).text
            assert hidden not in on_screen and t("nego_result", lang, quality="|", joint="", nash="").split("|")[0].strip() not in on_screen
            await press(pilot, "enter")
            assert isinstance(app.screen, EndScreen)

        # every move was logged, in order, and the log replays to the same events
        moves = [m for m, _ in logged(app.game.path)]
        assert moves == ["review", "say_no", "ask", "package", "accept"]
        verdict = verify_log(app.game.path, principles=load_catalogue().ids, observers=session_observers)
        assert verdict.ok, verdict.message

    asyncio.run(scenario())


def test_the_builder_stays_in_range_and_cycles_options(env):
    async def scenario():
        app = nego_app(env)
        async with app.run_test(size=(120, 40)) as pilot:
            await at_table(pilot)
            target, rebate, support = inputs(app)
            await press(pilot, *["left"] * 3)  # already at 5 %: nothing below the range
            assert target.value == 5.0
            await press(pilot, "end")
            assert target.value == 25.0
            await press(pilot, "down", "home")
            assert rebate.value == 1.0
            await press(pilot, "down", "left")
            assert support.value == "none"
            assert app.screen.focused is support
            await press(pilot, "down")  # wraps round to the first issue
            assert app.screen.focused is target
            assert table(app).values() == {"target_growth": 25.0, "rebate": 1.0, "support": "none"}
            # keys that arrive together (a fast typist, a held key): the arrow after ↓ changes the next issue
            burst(app, "down", "right")
            await settle(pilot)
            assert app.screen.focused is rebate
            assert table(app).values() == {"target_growth": 25.0, "rebate": 1.5, "support": "none"}
            # a click on ▶ steps too
            left, right = support._arrows()
            await pilot.click(support, offset=(right, 0))
            await settle(pilot)
            assert support.value == "promoter"
            assert logged(app.game.path) == [("review", {})]  # editing decides nothing

    asyncio.run(scenario())


def test_quitting_mid_negotiation_and_resuming_returns_to_the_table_at_the_same_round(env):
    async def first_half() -> Path:
        app = nego_app(env, lang="zh")
        async with app.run_test(size=(120, 40)) as pilot:
            await at_table(pilot)
            await press(pilot, "n", "k", "2", "right", "right", "right", "down", *["left"] * 4, "p")  # his second bid
            assert t("table_status", "zh", round=2, rounds=6, left=4, talk=8) in table(app).text
            await press(pilot, "q")
            assert isinstance(app.screen, QuitScreen)
            await press(pilot, "enter")
        return app.return_value.path

    path = asyncio.run(first_half())
    assert not read_log(path).finished
    assert [m for m, _ in logged(path)] == ["review", "say_no", "ask", "package"]

    async def second_half():
        app = make_app(env, resume=resume_session(path))
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, PlayScreen) and app.screen.negotiating
            shown = table(app).text
            assert t("table_status", "zh", round=2, rounds=6, left=4, talk=8) in shown
            assert t("table_you_package", "zh") in shown  # the history is rebuilt from the log
            assert (inputs(app)[0].value, inputs(app)[1].value) == (20.0, 2.0)  # the builder starts from our last offer
            await press(pilot, "w")
            assert isinstance(app.screen, PickScreen)
            await press(pilot, "escape")  # not after all
            assert app.screen.negotiating and not app.game.finished
            await press(pilot, "w", "1")
            assert app.game.finished

    asyncio.run(second_half())
    assert [m for m, _ in logged(path)] == ["review", "say_no", "ask", "package", "walk_away"]
    verdict = verify_log(path, principles=load_catalogue().ids, observers=session_observers)
    assert verdict.ok, verdict.message


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_no_key_crashes_the_table(env, size):
    async def scenario():
        app = nego_app(env)
        async with app.run_test(size=size) as pilot:
            await at_table(pilot)
            for key in [k for k in PRINTABLE if k != "q"] + NAVIGATION + ["enter"]:
                await pilot.press(key)
                await settle(pilot)
                if isinstance(app.screen, PickScreen):
                    await press(pilot, "escape")
                assert app.return_code is None, key
            assert app.is_running
        # whatever was played is in the log and replays
        verdict = verify_log(app.game.path, principles=load_catalogue().ids, observers=session_observers)
        assert verdict.ok, verdict.message
        assert len(logged(app.game.path)) > 3

    asyncio.run(scenario())


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_chinese_in_the_table_never_overflows(env, size):
    async def scenario():
        app = nego_app(env, lang="zh")
        async with app.run_test(size=size) as pilot:
            await at_table(pilot)
            await press(pilot, "n", "l", "k", "3", "right", "p")
            tbl = table(app)
            widgets = list(tbl.query("Prose, Line, IssueInput, OfferHistory, TacticsBar"))
            assert widgets
            for widget in widgets:
                if not widget.region.width:
                    continue
                for line in widget.render().plain.split("\n"):
                    assert text_width(line) <= widget.size.width, (widget, line)
            said = tbl.query_one("#table-said")
            assert "赵总" in said.text

    asyncio.run(scenario())


def everything_fits(app) -> None:
    """The inputs and the moves' keys are all on screen, inside the table (never cut off below it)."""
    tbl = table(app)
    bottom = tbl.region.bottom - 1  # the border
    for widget in [*inputs(app), tbl.query_one("#table-worth"), tbl.query_one("TacticsBar")]:
        assert widget.region.height and widget.region.bottom <= bottom, widget


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_shipped_annual_plan_plays_through_the_table_on_a_small_terminal(env, lang):
    """NG-1: its fifth issue off the table, brought in with b; the good cop's aside; 80×24 throughout."""
    loaded = load_scenario(ANNUAL, load_catalogue().ids).loaded
    step = loaded.scenario.step("plan")

    async def scenario():
        app = make_app(env, lang=lang, seed=3, start=loaded, log=env.root / "ng1.jsonl")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await press(pilot, "enter", "1", "1")  # the business review, then open with it
            assert app.screen.negotiating
            off = t("table_off_table", lang)
            assert off in table(app).text  # support for new outlets, off the table
            everything_fits(app)
            await press(pilot, "b")
            assert isinstance(app.screen, PickScreen)
            await press(pilot, "1")
            assert logged(app.game.path)[-1] == ("break_deadlock", {"how": "add_issue", "issue": "outlet_support"})
            assert len(inputs(app)) == 5 and off not in table(app).text
            # a hard package (our best on every issue), then half a point more rebate each round
            await press(pilot, "end", "down", "home", "down", "home", "down", "home", "p", "up", "up")
            asides = []
            for _ in range(8):
                if not app.game.session.negotiating:
                    break
                everything_fits(app)
                if table(app).view.request:
                    asides.append(table(app).text)
                await press(pilot, "right", "p")
            # Mrs Sun made her aside, in her words, and the keys stayed on screen meanwhile
            assert asides and any(t("table_good_cop", lang, who=text_in(step.counterpart.partner, lang), issue=n) in a
                                  for a in asides for n in [text_in(i.name, lang) for i in step.issues])
            assert not app.game.session.negotiating and not app.screen.negotiating
            assert [e for e in app.game.events if e["kind"] == "nego_end"]

    asyncio.run(scenario())


def test_the_table_takes_the_choices_place_and_gives_it_back(env):
    """gold_dealer: decisions, the table, decisions again. At the table the story shrinks above it
    (120×40) or gives way to it (80×24), v swaps the story in and out; resizing keeps that right; when
    the talks end the numbered choices come back under a full-height story, with the focus."""
    loaded = load_scenario(ROOT / "scenarios" / "negotiation" / "gold_dealer.toml", load_catalogue().ids).loaded

    async def scenario():
        app = make_app(env, lang="en", seed=0, start=loaded, log=env.root / "gold.jsonl")
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await press(pilot, "enter")
            screen = app.screen
            story, box = screen.query_one("#story"), screen.query_one("#choices-box")
            full = story.region.height
            assert box.region.height and full > 10
            while not screen.negotiating:
                await press(pilot, "2")
            assert table(app).region.height and not box.region.height
            assert 0 < story.region.height <= 10 < table(app).region.height  # the story shrinks above the table
            assert story.region.bottom <= table(app).region.y

            await pilot.resize_terminal(80, 24)
            await settle(pilot)
            assert not story.region.height and table(app).region.height  # the table takes the column
            assert not screen.query_one("#strip").region.height
            await press(pilot, "down")  # editing the second issue
            await press(pilot, "v")
            assert story.region.height > 10 and not table(app).region.height
            await press(pilot, "v")
            assert not story.region.height and table(app).region.height
            assert screen.focused is inputs(app)[1]  # back where the offer was being edited
            await pilot.resize_terminal(120, 40)
            await settle(pilot)
            assert 0 < story.region.height <= 10 < table(app).region.height

            await press(pilot, "l")
            for _ in range(12):
                if not screen.negotiating:
                    break
                await press(pilot, "o")
            assert not screen.negotiating and not app.game.finished
            assert not table(app).display and box.region.height and screen.query_one(ChoicesList).items
            assert story.region.height == full and screen.focused is screen.query_one(ChoicesList)
            turn = app.game.turn
            await press(pilot, "1")
            assert app.game.turn == turn + 1  # the numbers pick again

    asyncio.run(scenario())


# ---------------------------------------------------------------- the pure pieces


def test_table_state_folds_both_sides_offers_and_the_answers(nego):
    session = Session(nego, SEED, lang="en")
    for move in ["review", "say_no", "ask=rebate", "package:target_growth=20;rebate=2"]:
        session.choose(move)
    state = table_state(session.events, "plan")
    assert [(o.side, o.round) for o in state.offers] == [("them", 0), ("us", 0), ("them", 1)]
    assert state.last_ours.offer["target_growth"] == 20.0 and state.last_ours.how == "package"
    assert state.standing.offer == session.negs[0].domain.decode(session.negs[0].standing)
    assert list(state.readings) == ["rebate"] and state.moves == 3
    assert [s.kind for s in state.latest] == [e["kind"] for e in session.events[-2:] if e["kind"] in ("nego_bid", "nego_reply")]
    session.choose("accept")
    ended = table_state(session.events, "plan")
    assert ended.end is not None and ended.end["reason"] == "accepted_by_trainee"


def test_table_view_keys_every_move_and_offers_only_what_the_engine_allows(nego, tmp_path):
    recorded = RecordedSession.start(nego, SEED, "en", tmp_path / "t.jsonl")
    game = Game(recorded)
    assert table_view(game) is None  # not a negotiation step yet
    game.decide("review")
    view = table_view(game)
    options = [o.id for o in game.options()]
    assert [x.move for x in view.tactics] == options
    assert len(set(MOVE_KEYS.values())) == len(MOVE_KEYS) and set(KEY_MOVES) == set(MOVE_KEYS.values())
    assert not set(MOVE_KEYS.values()) & {"d", "q", "v", "j"}  # the play screen's own keys
    assert [p.params["issue"] for p in view.ask] == ["target_growth", "rebate", "support"]
    assert offer_values(view.issues, {}) == {"target_growth": 5.0, "rebate": 4.0, "support": "promoter"}
    assert offer_values(view.issues, {"rebate": 99}) ["rebate"] == 4.0  # clamped to the range
    game.close()


def test_wide_text_is_cut_by_cells():
    assert fit("整套推广活动", 7) == "整套推…" and text_width(fit("整套推广活动", 7)) == 7
    assert fit("abc", 5) == "abc  "

"""What the play screen does to keep keypress → next step fast (issue 6) must not change what the
trainee sees: the picked option stays highlighted when a decision fails, the story is scrolled to
the new step, and the garbage collector — paused while a decision is drawn — runs again after."""

from __future__ import annotations

import gc

from simulator.diagnostics import Diagnostic, DiagnosticError
from simulator.tui.screens.play import GC_PAUSE_AFTER, PlayScreen
from simulator.tui.widgets.choices import ChoicesList
from simulator.tui.widgets.story import StoryLog
from tests.test_tui_app import env, make_app, press, records, run, settle, to_play  # noqa: F401  (env: fixture)


def test_a_decision_shows_the_new_step_at_the_top_and_lets_the_collector_run_again(env):  # noqa: F811
    async def scenario():
        app = make_app(env)
        async with app.run_test(size=(70, 18)) as pilot:  # small: the story does not fit
            await to_play(pilot)
            story = app.screen.query_one(StoryLog)
            before = len(story.blocks)
            await press(pilot, "2")
            await pilot.pause(GC_PAUSE_AFTER + 0.1)
            assert [d["choice"] for k, d in records(app.game.path) if k == "choice"] == ["skip"]
            assert len(story.blocks) > before
            first_new = story._starts[before]
            assert story.scroll_offset.y == min(first_new, story.max_scroll_y)
            assert story.scroll_offset.y > 0  # the briefing scrolled away: the new step is on top
            assert gc.isenabled()

    run(scenario())


def test_a_failed_decision_keeps_the_picked_option_highlighted_and_the_list_usable(env, monkeypatch):  # noqa: F811
    async def scenario():
        app = make_app(env)
        async with app.run_test(size=(120, 40)) as pilot:
            await to_play(pilot)

            def refuse(option_id, **params):
                raise DiagnosticError(Diagnostic.make("DS0508", "the scenario has already ended", ""))

            monkeypatch.setattr(app.game, "decide", refuse)
            await press(pilot, "2")
            await settle(pilot)
            assert isinstance(app.screen, PlayScreen)
            choices = app.screen.query_one(ChoicesList)
            assert choices.highlighted == 1 and not choices.busy
            lines = choices.render().split("\n", allow_blank=True)
            highlight = choices.get_visual_style("choices--highlight")
            assert any(span.style == highlight for span in lines[1].spans)  # drawn on the second option
            assert not any(span.style == highlight for span in lines[0].spans)
            assert gc.isenabled()
            assert not [k for k, _ in records(app.game.path) if k == "choice"]  # nothing was decided

    run(scenario())


def test_an_enter_pressed_out_of_habit_right_after_a_number_key_does_not_pick_in_the_next_step(env, monkeypatch):  # noqa: F811
    """A number key decides at once; the Enter (or a second number) that follows it within the guard
    lands on a step the trainee has not read, so it is ignored. After the guard, Enter picks."""
    from simulator.tui.screens import play

    now = [1000.0]
    monkeypatch.setattr(play, "clock", lambda: now[0])  # time stands still unless moved on here

    async def scenario():
        app = make_app(env, key_guard=None)  # the real guard
        async with app.run_test(size=(120, 40)) as pilot:
            await to_play(pilot)
            now[0] += play.KEY_GUARD + 0.01  # reading the first step
            await press(pilot, "2", "enter", "1")  # decided with 2; Enter and 1 came too soon
            assert [d["choice"] for k, d in records(app.game.path) if k == "choice"] == ["skip"]
            now[0] += play.KEY_GUARD - 0.05
            await press(pilot, "enter")  # still too soon
            assert len([k for k, _ in records(app.game.path) if k == "choice"]) == 1
            now[0] += 0.06  # now the trainee has read the new step
            await press(pilot, "enter")
            assert len([k for k, _ in records(app.game.path) if k == "choice"]) == 2

    run(scenario())


# -------------------------------------------------------- a step that does not move the layout

from textual.app import App  # noqa: E402
from textual.content import Content  # noqa: E402
from textual.geometry import Region  # noqa: E402
from textual.scrollbar import ScrollBar  # noqa: E402

from simulator.tui.widgets.choices import ChoicesBox, Item  # noqa: E402
from simulator.tui.widgets.scrolling import QuickScrollBar, ScrollingText  # noqa: E402
from simulator.tui.wrap import text_width  # noqa: E402


class _Panels(App):
    CSS = "ScrollingText { height: 8; width: 30; } ChoicesBox { height: auto; width: 40; }"

    def compose(self):
        yield ScrollingText(id="text")
        with ChoicesBox():
            yield ChoicesList(id="choices")


LONG = "Wang says he would normally take about 300 cases over these two weeks."
CHINESE = "王老板说这两周他一般能拿三百箱左右，这是他的说法，库存和出货还没有核对。"


def test_the_choices_keep_their_tallest_height_so_the_story_above_does_not_jump():
    async def scenario():
        app = _Panels()
        async with app.run_test(size=(60, 30)) as pilot:
            choices = app.query_one(ChoicesList)
            choices.set_items([Item(f"o{n}", n, LONG) for n in range(1, 4)])  # three options of two lines
            await pilot.pause()
            tall = choices.region.height
            assert tall >= 6  # each option wraps
            choices.set_items([Item("a", 1, "Yes."), Item("b", 2, "No.")])  # a step with two short options
            await pilot.pause()
            assert choices.region.height == tall  # the box did not shrink: nothing above it moved
            assert [line.rstrip() for line in choices.render().plain.splitlines()] == ["1.  Yes.", "2.  No."]

    run(scenario())


def test_new_panel_text_is_wrapped_scrolled_and_drawn_without_a_new_layout():
    async def scenario():
        app = _Panels()
        async with app.run_test(size=(60, 30)) as pilot:
            text = app.query_one(ScrollingText)
            await pilot.pause()
            layouts = []
            original = app.screen._refresh_layout
            app.screen._refresh_layout = lambda *a, **k: (layouts.append(1), original(*a, **k))[1]
            text.update(Content("\n".join(f"✎ {CHINESE}" for _ in range(6))), end=True)
            assert text.scroll_y == text.max_scroll_y > 0  # at the end at once, not a frame later
            await pilot.pause()
            assert not layouts  # only the panel was repainted
            width = text.scrollable_content_region.width
            assert all(text_width(line.plain) <= width for line in text._lines)
            assert all(line.plain.startswith("  ") for line in text._lines if not line.plain.startswith("✎"))  # hangs
            text.update("short")  # back to the start when the text fits
            assert text.scroll_y == 0 and text.text == "short"

    run(scenario())


def test_the_quick_scrollbar_draws_what_textuals_scrollbar_draws():
    async def scenario():
        app = _Panels()
        async with app.run_test(size=(60, 30)) as pilot:
            text = app.query_one(ScrollingText)
            text.update("\n".join(f"line {n}" for n in range(40)))
            await pilot.pause()
            bar = text.vertical_scrollbar
            assert isinstance(bar, QuickScrollBar)
            drawn = []
            for y in (0, 7, text.max_scroll_y):
                text.scroll_to(y=y, animate=False, immediate=True)
                await pilot.pause()
                region = Region(0, 0, bar.size.width, bar.size.height)
                ours = bar.render_lines(region)
                bar._styles_cache.clear()
                bar._dirty_regions.add(region)
                textual = ScrollBar.render_lines(bar, region)
                assert [list(strip) for strip in ours] == [list(strip) for strip in textual]
                assert len(ours) == 8
                drawn.append([list(strip) for strip in ours])
            assert drawn[0] != drawn[1] != drawn[2]  # the thumb follows the scroll position

    run(scenario())

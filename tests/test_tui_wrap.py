"""Chinese and English wrap at the widget's width: CJK breaks between characters, punctuation rules hold."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st
from textual.app import App, ComposeResult

from simulator.tui.widgets.prose import Prose
from simulator.tui.wrap import NO_END, NO_START, break_offsets, text_width, wrap

ZH = "赵总监的电话：“还差1,200箱，就两周了。王老板是你最大的户，让他一口气吃下1,200箱，缺口就平了。今天把单下了，下午我要看到。”电话那头，别的片区还排着队等挨骂。"
EN = 'Director Zhao on the phone: "Twelve hundred cases short and two weeks left. Wang\'s your biggest account."'


def test_chinese_breaks_between_characters_and_fills_lines():
    lines = wrap(ZH, 20)
    assert all(text_width(line) <= 20 for line in lines)
    assert "".join(lines) == ZH
    # lines are filled: only the last one may be much shorter than the width
    assert all(text_width(line) >= 16 for line in lines[:-1])


def test_a_number_before_chinese_does_not_push_the_paragraph_to_the_next_line():
    lines = wrap("1. " + ZH, 30)
    assert lines[0].startswith("1. 赵总监")
    assert text_width(lines[0]) >= 26


def test_closing_punctuation_never_starts_a_line_and_opening_never_ends_one():
    for width in range(6, 41):
        lines = wrap(ZH, width)
        assert "".join(lines) == ZH
        for line in lines[1:]:
            assert line[0] not in NO_START, (width, line)
        for line in lines[:-1]:
            assert line[-1] not in NO_END, (width, line)


def test_english_wraps_at_spaces():
    lines = wrap(EN, 24)
    assert all(text_width(line) <= 24 for line in lines)
    assert " ".join(lines) == EN
    assert lines[0] == "Director Zhao on the"


def test_mixed_text_and_newlines():
    text = "王老板说：OK, let's talk about 1,200箱 of 薯片。\n\n第二段"
    lines = wrap(text, 12)
    assert all(text_width(line) <= 12 for line in lines)
    assert "" in lines  # the blank line between paragraphs is kept
    assert lines[-1] == "第二段"


def test_a_word_longer_than_the_line_is_folded():
    lines = wrap("x" * 25, 10)
    assert lines == ["x" * 10, "x" * 10, "x" * 5]


def test_kept_ranges_are_not_broken():
    items = ["库存 310", "价格指数 1.00", "信任 60", "应收款 240"]
    text = " · ".join(items)
    keep, offset = [], 0
    for item in items:
        keep.append((offset, offset + len(item)))
        offset += len(item) + 3
    cuts = [0, *break_offsets(text, 30, keep), len(text)]
    lines = [text[a:b].strip(" ·") for a, b in zip(cuts, cuts[1:])]
    for line in lines:
        assert all(item in text for item in line.split(" · "))
        assert all(part in items for part in line.split(" · ")), lines


TEXT = st.text(alphabet=st.sampled_from(list("王老板库存压货窜货ab cdXY12,.，。“”（）、！？ ")), max_size=200)


@settings(max_examples=300, deadline=None)
@given(TEXT, st.integers(min_value=2, max_value=60))
def test_no_line_is_wider_than_the_width_and_nothing_is_lost(text, width):
    lines = wrap(text, width)
    assert all(text_width(line) <= width for line in lines), lines
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")


class ProseApp(App):
    def __init__(self, text: str, width: int):
        super().__init__()
        self.text = text
        self.width_ = width

    def compose(self) -> ComposeResult:
        prose = Prose(self.text)
        prose.styles.width = self.width_
        yield prose


def test_prose_widget_wraps_chinese_to_its_width():
    async def run():
        app = ProseApp("1. " + ZH, 30)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            prose = app.query_one(Prose)
            lines = prose.render().plain.split("\n")
            assert prose.size.height == len(lines)
            assert all(text_width(line) <= 30 for line in lines)
            assert lines[0].startswith("1. 赵总监")
            # and what is on the screen is the same text, with nothing cut off
            assert "".join(lines).replace(" ", "") == ("1. " + ZH).replace(" ", "")

    asyncio.run(run())


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab ,.()'\"-—中文，。x1")), max_size=80), st.integers(1, 30))
def test_plain_ascii_lines_break_exactly_where_measuring_each_character_would(text, width):
    """English lines take a fast path (no per-character measuring); it must break in the same places."""
    from simulator.tui import wrap as module

    fast = break_offsets(text, width)
    real = module._narrow
    module._narrow = lambda _text: False
    try:
        slow = break_offsets(text, width)
    finally:
        module._narrow = real
    assert fast == slow

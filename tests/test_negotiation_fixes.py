"""Two fixes found while playing the negotiations.

1. The offer history's header named the issues with "…" ("season grow…") in English. Now a long
   name wraps onto a second header line, values stay whole, and Chinese stays aligned: read down
   any column of what is drawn and you get the issue's name and each offer's value, whole.
2. `nego.mid_explore_options` («探询可行方案», PRINCIPLES.md) gave 0.5/2 to a trainee who proposed
   full packages across issues and tuned one term at a time: packages were measured against the
   trainee's own last offer, not against the terms on the table.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from scoring.catalogue import load_catalogue
from scoring.rubric import Scorer
from simulator.engine import Session
from simulator.i18n import t
from simulator.loader import load_scenario
from simulator.negotiation.play import negotiation_choice, play_moves, strategy
from simulator.negotiation.step import parse_choice
from simulator.recorded import RecordedSession
from simulator.tui.game import Game
from simulator.tui.table import table_view
from simulator.tui.widgets.negotiation import GAP, HistoryLayout, OfferHistory
from simulator.tui.wrap import cell_width, text_width

from .conftest import ROOT
from .test_tui_app import env, make_app, press, settle  # noqa: F401 — env is a fixture

SCENARIOS = ROOT / "scenarios" / "negotiation"
# the history's width on the play screen: beside the market panel at 120×40, the whole screen at 80×24
WIDTHS = {"120x40": 70, "80x24": 76}


def loaded(name: str):
    result = load_scenario(SCENARIOS / f"{name}.toml", load_catalogue().ids)
    assert result.ok, [d.render() for d in result.diagnostics]
    return result.loaded


# ---------------------------------------------------------------- reading what is drawn


def columns_of(line: str, widths: tuple[int, ...]) -> list[str]:
    """The text in each column of one drawn line, cut at the columns' cells. Fails if a character
    straddles a column's edge or the gap between columns is not blank (the columns would not line up)."""
    starts, at = [], 0
    for w in widths:
        starts.append(at)
        at += w + GAP
    cells: list[str] = []
    for ch in line:
        cells += [ch] + [""] * (cell_width(ch) - 1)  # a CJK character takes two cells
    out = []
    for c, (start, w) in enumerate(zip(starts, widths)):
        chunk = cells[start:start + w]
        assert not chunk or chunk[0] != "", f"a character straddles the left edge of column {c}: {line!r}"
        if start + w < len(cells):
            assert cells[start + w] != "", f"a character straddles the right edge of column {c}: {line!r}"
            assert all(x == " " for x in cells[start + w:start + w + GAP]), f"no gap after column {c}: {line!r}"
        out.append("".join(chunk).strip())
    return out


def read_down(pieces: list[str]) -> str:
    """A column's lines read as one text: Chinese runs on; English words take a space (not after a hyphen)."""
    text = ""
    for piece in [p for p in pieces if p]:
        chinese = not (text + piece).isascii()  # the Chinese texts here have no spaces
        text += piece if not text or chinese or text.endswith("-") else " " + piece
    return text


def drawn(history: OfferHistory, width: int, height: int) -> tuple[list[list[str]], list[list[str]], HistoryLayout]:
    """What the history draws in width × height, read back by column: the header's lines, the rows' lines."""
    lines = history.lines(width, height)
    lay = history.layout_in(width, height)
    assert all(text_width(text) <= width for text, _ in lines), "a line is wider than the table"
    head = [columns_of(text, lay.widths) for text, tone in lines if tone in ("header", "header-above")]
    body = [columns_of(text, lay.widths) for text, tone in lines if tone not in ("header", "header-above")]
    return head, body, lay


def assert_whole(history: OfferHistory, width: int) -> None:
    """Every issue's name in the header, and every value of every offer, reads whole (all rows drawn)."""
    head, body, lay = drawn(history, width, 999)
    assert lay.cuts == 0
    for c, name in enumerate(history.columns):
        assert read_down([line[c] for line in head]) == name, (name, head)
    at = 0
    for r, (cells, _) in enumerate(history.rows):
        lines = body[at:at + lay.row_height(r)]
        at += lay.row_height(r)
        for c, value in enumerate(cells):
            assert read_down([line[c] for line in lines]) == value, (value, lines)
    assert at == len(body)


def history_of(name: str, lang: str, how: str, tmp_path) -> OfferHistory:
    """The offers so far at the end of a negotiation played the course's way up to it, then by `how`."""
    game = Game(RecordedSession.start(loaded(name), 3, lang, tmp_path / f"{name}-{lang}-{how}.jsonl"))
    session, last, policy = game.session, None, None
    rng = np.random.default_rng(3)
    for _ in range(300):
        if game.finished or (last is not None and not session.negotiating):
            break
        if session.negotiating:
            last = table_view(game)
            policy = policy or strategy(how, rng)
            move, params = parse_choice(negotiation_choice(session, policy))
            game.decide(move, **params)
            continue
        taken = {o.id for o in session.options()}
        game.decide(max(session.step.choices, key=lambda c: (c.id in taken, sum(c.principles.values()))).id)
    game.close()
    assert last is not None and len(last.rows) >= 2
    history = OfferHistory()
    history.show(last.columns, last.rows, "")
    return history


# ---------------------------------------------------------------- 1. the offer history


@pytest.mark.parametrize("size", list(WIDTHS))
@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", ["gold_dealer", "annual_plan", "father_and_son"])
def test_every_issue_name_and_value_reads_whole_in_the_offer_history(name, lang, size, tmp_path):
    """The shipped negotiations, played the course's way (all issues in play, the longest options
    offered): no "…" in the header or the rows, at both screen sizes, in both languages."""
    history = history_of(name, lang, "course", tmp_path)
    width = WIDTHS[size]
    assert_whole(history, width)
    text = "\n".join(line for line, _ in history.lines(width, 999))
    assert "…" not in text


def test_random_offers_with_the_longest_options_still_read_whole(tmp_path):
    """Any option in any column (a random trainee reaches them all), English and Chinese, 120×40."""
    for lang in ("en", "zh"):
        history = history_of("annual_plan", lang, "random", tmp_path)
        assert_whole(history, WIDTHS["120x40"])


def test_a_long_name_wraps_under_itself_instead_of_being_cut():
    """The case reported: "season growth" beside four other issues in 70 cells."""
    columns = ["Rd", "Who", "season growth", "new outlets", "price rule", "support", "Worth to us"]
    rows = [["1", "Old Zhou", "0%", "200 outlets", "none", "truck, app", "0.31"],
            ["1", "You (pkg)", "20%", "200 outlets", "rebate at risk", "none", "1.00"]]
    history = OfferHistory()
    history.show(columns, [(r, "them") for r in rows], "")
    lines = [text for text, _ in history.lines(70, 99)]
    assert "season grow…" not in "\n".join(lines) and "…" not in "\n".join(lines)
    assert lines[0].split()[0] == "season" and "growth" in lines[1]  # two header lines, bottom-aligned
    assert lines[1].startswith("Rd  Who")
    assert len(lines) == 2 + len(rows)  # the values each still take one line
    # wide enough: one header line, as before
    assert len(history.lines(120, 99)) == 1 + len(rows)


def test_chinese_names_wrap_between_two_character_words_and_stay_aligned():
    columns = ["轮", "谁", "明年目标增长", "返利", "账期", "市场支持", "新网点开发支持", "我方价值"]
    rows = [["1", "孙总", "5%", "4%", "90天", "整套推广活动", "不提供", "0.09"],
            ["1", "你·交换", "25%", "1%", "30天", "终端物料", "我方业务员协同拜访", "0.91"]]
    history = OfferHistory()
    history.show(columns, [(r, "us") for r in rows], "")
    for width in (76, 70, 60):
        head, _, _ = drawn(history, width, 999)
        assert_whole(history, width)
        for c, name in enumerate(columns):
            pieces = [line[c] for line in head if line[c]]
            assert all(len(p) % 2 == 0 for p in pieces[:-1]), (width, pieces)  # 明年目标 / 增长, never 明年目 / 标增长


def test_a_short_history_keeps_a_line_for_the_newest_offer():
    """On a small terminal the history may get three lines: the names take fewer lines then."""
    columns = ["Rd", "Who", "next year's target growth", "rebate", "credit period", "marketing support", "support for new outlets", "Worth to us"]
    rows = [["1", "Mr Sun", "5%", "4%", "90 days", "a full campaign", "none", "0.09"],
            ["1", "You (pkg)", "25%", "1%", "30 days", "point-of-sale material", "a display fund for new outlets", "0.80"]]
    history = OfferHistory()
    history.show(columns, [(r, "them") for r in rows * 4], "")
    full = history.lines(70, 999)
    assert sum(tone.startswith("header") for _, tone in full) == 3  # "next year's / target / growth"
    for height in (2, 3):
        lines = history.lines(70, height)
        assert len(lines) <= height and lines[-1][1] == "them"  # the newest offer is on screen
        assert lines[-1][0].startswith("1   You")


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=list(WIDTHS))
def test_the_five_issue_table_on_screen_reads_whole(env, lang, size):
    """NG-1 on the play screen: the fifth issue brought in, a package with the longest options;
    what the history draws names every issue in full and fits its widget."""
    plan = loaded("annual_plan")
    names = [t("table_col_round", lang), t("table_col_who", lang)] + [
        i.name.zh if lang == "zh" else i.name.en for i in plan.scenario.step("plan").issues] + [t("table_col_worth", lang)]

    async def scenario():
        app = make_app(env, lang=lang, seed=3, start=plan, log=env.root / f"ng1-{lang}-{size[0]}.jsonl")
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await press(pilot, "enter", "1", "1", "b", "1")  # the review, open with it, bring in the fifth issue
            # target up to 25 %, rebate and credit at our best, point-of-sale material, a display fund
            await press(pilot, "end", "down", "home", "down", "home", "down", "home", "right", "down", "end", "p")
            await press(pilot, "down", "down", "down", "right", "p")
            history = app.screen.query_one(OfferHistory)
            assert history.columns == names
            width, height = history.size.width, history.size.height
            assert width >= 60 and height >= 2
            assert_whole(history, width)  # everything, as the layout the screen uses has it
            head, _, _ = drawn(history, width, height)  # what is on screen now
            for c, name in enumerate(names):
                assert read_down([line[c] for line in head]) == name
            for line in history.render().plain.split("\n"):
                assert text_width(line) <= width and "…" not in line

    asyncio.run(scenario())


# ---------------------------------------------------------------- 2. exploring feasible options


def explore_item(name: str, seed: int, choices: list[str]) -> tuple[float, str, str]:
    """The trainee's nego.mid_explore_options on the scorecard: earned (of 2) and the reasons."""
    plan = loaded(name)
    scorer = Scorer(plan)
    session = Session(plan, seed, observers=[scorer], lang="en")
    for choice in choices:
        if not session.negotiating and session.step.id == "plan" or session.finished:
            break
        session.choose(choice)
    while session.negotiating:
        session.choose("accept")
    item = next(i for i in scorer.items if i.principle == "nego.mid_explore_options")
    assert item.possible == 2
    return item.earned, item.reason_zh, item.reason_en


OPEN = ["review_data", "review_on_table"]
PACKAGES = [  # full packages across the four issues, each then tuned on one term
    "package:target_growth=20;rebate=3;payment_days=60;marketing_support=promoter",
    "package:target_growth=20;rebate=3.5;payment_days=60;marketing_support=promoter",
    "package:target_growth=15;rebate=3.5;payment_days=60;marketing_support=promoter",
]


def test_packages_across_issues_after_asking_earn_full_marks():
    """The trainee from the report: asks, then three packages across issues, tuning one term each time."""
    earned, zh, en = explore_item("annual_plan", 3, OPEN + ["ask=rebate", "ask=payment_days", *PACKAGES])
    assert earned == 2.0  # was 0.5 ("You haggled over single terms")
    assert "3 different packages across issues" in en and "asked what each issue is worth" in en
    assert "3套跨议题的组合方案" in zh and "探询可行方案" in zh


def test_plain_packages_without_probing_earn_partial_marks():
    earned, _, en = explore_item("annual_plan", 3, OPEN + [p.replace("package:", "offer:") for p in PACKAGES])
    assert earned == 1.5
    assert "asking what matters to them" in en


def test_haggling_one_term_at_a_time_is_still_marked_down():
    """Each offer moves the rebate only, whatever else the dealer's terms say: positional haggling."""
    earned, _, en = explore_item("annual_plan", 3, OPEN + ["offer:rebate=2", "offer:rebate=2.5", "offer:rebate=3"])
    assert earned == 0.5
    assert "one term at a time" in en


def test_the_same_package_twice_is_one_option_explored():
    same = PACKAGES[0]
    earned, _, en = explore_item("annual_plan", 3, OPEN + ["ask=rebate", same, same])
    assert earned == 1.5
    assert "one package across issues" in en


def test_the_course_way_explores_options_and_positional_haggling_does_not_do_as_well():
    plan = loaded("annual_plan")
    marks: dict[str, list[float]] = {"course": [], "hardball": []}
    for how in marks:
        for seed in range(4):
            scorer = Scorer(plan)
            session = Session(plan, seed, observers=[scorer])
            for choice in OPEN:
                session.choose(choice)
            for move in play_moves(session, how):
                session.choose(move)
            marks[how].append(next(i.earned for i in scorer.items if i.principle == "nego.mid_explore_options"))
    assert min(marks["course"]) == 2.0
    assert max(marks["hardball"]) < 2.0

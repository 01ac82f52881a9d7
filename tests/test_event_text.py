"""What the market and the effects tell the trainee, as text: goods counted in the scenario's own
unit (箱, 台, … / cases, loaders, …), dealer names that may end in brackets read naturally, the
dealer card's labels in one case, the 4-week figures before the first week said to be from before
play, and the events feed titled for what it shows (weeks, or rounds of a negotiation)."""

from __future__ import annotations

import re

import pytest

from simulator.engine import Session
from simulator.i18n import t
from simulator.library import shipped_dir
from simulator.loader import load_scenario, load_text, scenario_files
from simulator.plain import show
from simulator.recorded import RecordedSession
from simulator.schema import LocalText
from simulator.transcript import describe
from simulator.tui.game import Game, resume_session
from simulator.tui.present import step_view

from .conftest import DATA, MINI, run_cli
from .test_market import ALL_EFFECTS, ENGINE_SCENARIO

BAND = (1.2, 1.8)
BRACKETED = {"wang": ("王老板（嘉兴，最大的客户）", "Mr Wang (Jiaxing, biggest account)"), "li": ("李总（湖州）", "Mr Li (Huzhou)")}


def with_unit(text: str, unit: str | None) -> str:
    return text.replace("\n[market]\n", f"\n[market]\nunit = {unit}\n", 1) if unit else text


def game_for(text: str, tmp_path, lang: str, seed: int = 7) -> Game:
    result = load_text(text, "t.toml")
    assert result.ok, [d.render() for d in result.diagnostics]
    return Game(RecordedSession.start(result.loaded, seed, lang, tmp_path / f"{lang}.jsonl"))


# ---------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("lang", "unit", "pushed", "wrong"),
    [
        ("zh", '{ zh = "箱", en = "cases" }', "进货 1,000 箱", "件"),
        ("en", '{ zh = "箱", en = "cases" }', "takes 1,000 cases", "units"),
        ("zh", None, "进货 1,000 件", "箱"),  # a scenario that names no unit: as before
        ("en", None, "takes 1,000 units", "cases"),
    ],
)
def test_the_feed_and_the_plain_lines_count_goods_in_the_scenarios_unit(tmp_path, lang, unit, pushed, wrong):
    game = game_for(with_unit(MINI.read_text("utf-8"), unit), tmp_path, lang)
    game.decide("skip")
    events = game.decide("push")
    feed = game.feed_lines(events)
    order = next(line for line in feed if pushed in line)
    assert wrong not in order
    plain: list[str] = []
    show(events, game.recorded, plain.append)
    assert order in plain
    game.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_market_line_counts_in_units_when_the_scenario_sells_cases(lang):
    text = ENGINE_SCENARIO.replace(
        'effects = [ { fine = { dealer = "wang", forfeit_rebate = true } }, { compensate = { dealer = "li", amount = 80 } }, { promise = { dealer = "li", kept = true } } ]',
        ALL_EFFECTS.strip(),
    )
    loaded = load_text(with_unit(text, '{ zh = "箱", en = "cases" }'), "all.toml").loaded
    session = Session(loaded, 5, lang)
    events = session.choose("go") + session.choose("go")
    unit = "箱" if lang == "zh" else "cases"
    lines = [line for e in events for line in describe(e, lang, {"wang": "Wang", "li": "Li"}, unit=unit)]
    counted = [line for line in lines if unit in line]
    # the order, the price support, both buy-backs, the visit, the credit limit, the fine policy, the termination
    assert len(counted) >= 8, lines
    default = r"[\d一] ?件" if lang == "zh" else r"\bunits?\b"  # not 条件 (terms)
    assert not [line for line in lines if re.search(default, line)], lines


def test_every_shipped_scenario_names_its_goods_in_both_languages(principle_ids):
    files = [f for f in scenario_files([shipped_dir()]) if not f.name.endswith(".test.toml")]
    assert len(files) >= 15
    for path in files:
        unit = load_scenario(path, principle_ids).loaded.scenario.market.unit
        assert isinstance(unit, LocalText), path
        assert re.fullmatch(r"[\u4e00-\u9fff]", unit.zh), (path, unit.zh)  # a measure word: 箱, 台, 条
        assert unit.en != "units" and unit.en.endswith("s"), (path, unit.en)  # the plural of what is sold


def test_check_accepts_a_unit_warns_about_one_language_and_rejects_a_number(tmp_path):
    text = MINI.read_text("utf-8")
    good, one, number = (tmp_path / n for n in ("good.toml", "one.toml", "number.toml"))
    good.write_text(with_unit(text, '{ zh = "台", en = "forklifts" }'), "utf-8")
    one.write_text(with_unit(text, '"箱"'), "utf-8")
    number.write_text(with_unit(text, "12"), "utf-8")
    ok = run_cli("check", str(good))
    assert ok.returncode == 0 and "0 error(s), 0 warning(s)" in ok.stdout, ok.stdout + ok.stderr
    warned = run_cli("check", str(one))
    assert warned.returncode == 0 and "DS0108" in warned.stdout and "market.unit" in warned.stdout, warned.stdout
    bad = run_cli("check", str(number))
    assert bad.returncode == 1 and "DS0103" in bad.stdout and "unit" in bad.stdout, bad.stdout
    assert 'en = "English"' in bad.stdout  # the hint shows the two-language form, not just "text in quotes"


# ---------------------------------------------------------------- dealer names in brackets


def bracketed(lang: str) -> dict[str, str]:
    return {d: names[0 if lang == "zh" else 1] for d, names in BRACKETED.items()}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_lines_about_a_dealer_read_naturally_when_its_name_ends_in_brackets(lang):
    text = ENGINE_SCENARIO.replace(
        'effects = [ { fine = { dealer = "wang", forfeit_rebate = true } }, { compensate = { dealer = "li", amount = 80 } }, { promise = { dealer = "li", kept = true } } ]',
        ALL_EFFECTS.strip().removesuffix("]") + '{ rebate = { dealer = "li", pct = 0 } }, { trust = { dealer = "wang", change = -3 } } ]',
    )
    session = Session(load_text(text, "all.toml").loaded, 5, lang)
    events = session.choose("go") + session.choose("go")
    # a traced and an untraced diversion, whatever the draws did
    events.append({"kind": "week", "data": {"week": 12, "dealers": {}, "diversions": [
        {"from": "wang", "to": "li", "units": 40, "detected": True}, {"from": "li", "to": "wang", "units": 30, "detected": False}]}})
    names = bracketed(lang)
    lines = [line for e in events if e["kind"] in ("effect", "week") for line in describe(e, lang, names)]
    about = [line for line in lines if any(n in line for n in names.values())]
    assert len(about) >= 20, lines
    for line in about:
        assert ")'s" not in line and "）'s" not in line, line  # "Mr Li (Huzhou)'s trust"
        assert "） 的" not in line and "）的信任" not in line, line  # "李总（湖州） 的信任"
        assert "） " not in line or lang == "en", line  # no stray space after a Chinese name
    trust = [line for line in about if ("信任" if lang == "zh" else "trust") in line]
    assert len(trust) >= 2 and all(re.match(r"(王老板|李总|Mr Wang|Mr Li).*?[）)](：|: )", line) for line in trust), trust


# ---------------------------------------------------------------- the dealer card and the feed's title


def test_before_the_first_week_the_card_says_its_figures_are_from_before_play(tmp_path):
    for lang, before, sold in (("en", "4 weeks before play (sold 400", "4w "), ("zh", "开局前4周（售出 400", "4周 ")):
        game = game_for(MINI.read_text("utf-8"), tmp_path, lang)
        card = step_view(game, game.events, coaching=True, band=BAND, opening=True).cards[0]
        assert card.sales == [] and card.sales_label == t("card_sales_none", lang)
        assert before in card.details and card.details[-1].endswith(("）", ")")), card.details  # the group closes the line
        # the market's own figures are not touched: the 400 is the market's 4-week sell-through
        assert game.session.observe()["dealer.wang.sell_through_4w"] == 400
        game.decide("skip")
        card = step_view(game, game.decide("push"), coaching=True, band=BAND).cards[0]
        assert len(card.sales) == 4 and card.sales_label.startswith(sold)
        assert not any(("before play" in d or "开局前" in d) for d in card.details), card.details
        game.close()


def test_english_card_labels_are_in_sentence_case(tmp_path):
    game = game_for(MINI.read_text("utf-8"), tmp_path, "en")
    game.decide("skip")
    card = step_view(game, game.decide("push"), coaching=True, band=BAND).cards[0]
    labels = [*card.stats, *card.details, *(w.removeprefix("⚠ ") for w in card.warnings)]
    assert len(card.details) >= 2 and card.warnings, card
    for label in labels:
        assert label[0].isupper() or label[0].isdigit(), labels  # "Own reorders, 4 weeks" next to "Stock"
    game.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_feed_is_titled_for_negotiation_rounds_not_for_a_week(tmp_path, principle_ids, lang):
    loaded = load_scenario(DATA / "nego_mini.toml", principle_ids).loaded
    game = Game(RecordedSession.start(loaded, 3, lang, tmp_path / "n.jsonl"))
    assert step_view(game, game.events, coaching=True, band=BAND, opening=True).feed_title == t("tui_this_week", lang)
    view = step_view(game, game.decide("review"), coaching=True, band=BAND)
    assert view.table is not None and view.feed  # the talks opened: his first bid is in the feed
    assert view.feed_title == t("feed_title_negotiation", lang) != t("tui_this_week", lang)
    game.close()
    # resumed at the table, the feed keeps the negotiation's title
    resumed = Game(resume_session(tmp_path / "n.jsonl"))
    assert step_view(resumed, resumed.events, coaching=True, band=BAND, opening=True, resumed=True).feed_title == t("feed_title_negotiation", lang)
    resumed.close()

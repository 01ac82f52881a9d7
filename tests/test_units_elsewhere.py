"""The scenario's unit of goods (`[market] unit`, e.g. 箱 / cases) beyond the play screen: the
debrief (HTML and Markdown), `dealersim replay` of a log, and the `dealersim new` templates. Where
the scenario file cannot be found the log alone does not say, so these fall back to 件 / units."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from scoring import session_observers
from scoring.report import debrief_html, debrief_markdown, load_debrief
from simulator.cli import cli
from simulator.loader import load_scenario
from simulator.policy import make_policy
from simulator.recorded import RecordedSession

from .conftest import MINI, ROOT

QUARTER_END = ROOT / "scenarios" / "stock_push" / "quarter_end.toml"
CASES = '{ zh = "箱", en = "cases" }'


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def mini_with_cases(folder: Path) -> Path:
    path = folder / "mini.toml"  # a name without the unit in it: the report names the file
    path.write_text(MINI.read_text("utf-8").replace("\n[market]\n", f"\n[market]\nunit = {CASES}\n", 1), "utf-8")
    return path


def play(scenario: Path, log: Path, choices: list[str], principle_ids, lang: str = "en") -> Path:
    result = load_scenario(scenario, principle_ids)
    assert result.ok, [d.render() for d in result.diagnostics]
    recorded = RecordedSession.start(result.loaded, 5, lang, log, observers=session_observers)
    try:
        for choice in choices:
            recorded.choose(choice)
    finally:
        recorded.close()
    return log


# ---------------------------------------------------------------- the debrief


@pytest.fixture(scope="module")
def quarter_end_log(tmp_path_factory, principle_ids) -> Path:
    loaded = load_scenario(QUARTER_END, principle_ids).loaded
    assert loaded.scenario.market.unit is not None  # the shipped scenario sells cases
    path = tmp_path_factory.mktemp("qe") / "qe.jsonl"
    recorded = RecordedSession.start(loaded, 11, "zh", path, observers=session_observers)
    pick = make_policy("random", 11)
    try:
        while not recorded.session.finished:
            recorded.choose(pick(recorded.session))
    finally:
        recorded.close()
    return path


@pytest.mark.parametrize(("lang", "stock", "sales", "generic"), [
    ("zh", "库存（箱）", "每周销量（箱）", "（件）"),
    ("en", "Stock (cases)", "Sales per week (cases)", "(units)"),
])
def test_the_debrief_counts_stock_and_sales_in_the_scenarios_unit(quarter_end_log, lang, stock, sales, generic):
    d = load_debrief(quarter_end_log, rollouts=0)
    assert d.scenario_state == "same"
    html, md = debrief_html(d, lang), debrief_markdown(d, lang)
    for text in (html, md):
        assert stock in text  # the market table's stock column
        assert generic not in text
    assert sales in html  # the sales chart's title and its aria-label
    assert f'aria-label="{sales}"' in html
    caption = "纵轴：箱数" if lang == "zh" else "Up: cases."
    assert caption in html


@pytest.mark.parametrize(("lang", "stock"), [("zh", "库存（件）"), ("en", "Stock (units)")])
def test_without_the_scenario_file_the_debrief_says_units(tmp_path, principle_ids, lang, stock):
    scenario = mini_with_cases(tmp_path)
    log = play(scenario, tmp_path / "s.jsonl", ["skip", "push"], principle_ids, lang)
    with_file = debrief_markdown(load_debrief(log, rollouts=0), lang)
    assert stock.replace("件", "箱").replace("units", "cases") in with_file
    scenario.unlink()
    d = load_debrief(log, rollouts=0)
    assert d.scenario_state == "missing"
    md = debrief_markdown(d, lang)
    assert stock in md and ("箱" if lang == "zh" else "cases") not in md


def test_the_market_after_each_decision_counts_demand_in_the_unit(tmp_path, principle_ids):
    scenario = mini_with_cases(tmp_path)
    log = play(scenario, tmp_path / "s.jsonl", ["skip", "push"], principle_ids, "en")
    md = debrief_markdown(load_debrief(log, rollouts=0), "en")
    demand = [line for line in md.splitlines() if ": demand " in line]
    assert demand and all(" cases" in line for line in demand), demand


# ---------------------------------------------------------------- replay


def test_replay_counts_goods_in_the_unit_of_the_scenario_it_finds(tmp_path, principle_ids):
    scenario = mini_with_cases(tmp_path)
    log = play(scenario, tmp_path / "s.jsonl", ["skip", "push"], principle_ids, "en")
    shown = invoke("replay", str(log))
    assert shown.exit_code == 0, shown.output
    assert "takes 1,000 cases" in shown.output and "takes 1,000 units" not in shown.output
    moved = scenario.rename(tmp_path / "elsewhere.toml")
    shown = invoke("replay", str(log))  # the file is gone: the log alone, so the default unit
    assert shown.exit_code == 0, shown.output
    assert "takes 1,000 units" in shown.output and "cases" not in shown.output
    shown = invoke("replay", str(log), "--scenario", str(moved))
    assert "takes 1,000 cases" in shown.output


def test_replay_in_chinese_uses_the_measure_word(tmp_path, principle_ids):
    log = play(mini_with_cases(tmp_path), tmp_path / "s.jsonl", ["skip", "push"], principle_ids, "zh")
    shown = invoke("replay", str(log))
    assert "进货 1,000 箱" in shown.output and "进货 1,000 件" not in shown.output


# ---------------------------------------------------------------- dealersim new


@pytest.mark.parametrize("family", ["stock_push", "negotiation"])
def test_new_templates_show_the_unit_field_and_it_takes_effect(tmp_path, principle_ids, family):
    assert invoke("new", family, "x", "--out", str(tmp_path)).exit_code == 0
    path = tmp_path / "x.toml"
    text = path.read_text("utf-8")
    market = text.split("\n[market]\n", 1)[1].split("\n[", 1)[0]
    assert 'unit = { zh = "件", en = "units" }' in market
    # an instructor who changes it gets a scenario that still passes, counting in the new unit
    path.write_text(text.replace('unit = { zh = "件", en = "units" }', f"unit = {CASES}", 1), "utf-8")
    checked = invoke("check", "--strict", str(path))
    assert checked.exit_code == 0 and "0 error(s), 0 warning(s)" in checked.output, checked.output
    assert load_scenario(path, principle_ids).loaded.scenario.market.unit.en == "cases"

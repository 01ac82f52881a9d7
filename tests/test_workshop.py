"""The workshop comparison as an instructor meets it: a folder of the class's logs, grouped by
scenario version and seed, pseudonyms unless asked, where the class went wrong, the heat map,
the CSV, the HTML and the game's workshop view."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from textual.widgets import DataTable, TabbedContent

from scoring.workshop import load_workshop, workshop_csv, workshop_html, workshop_markdown
from simulator.cli import cli
from simulator.loader import load_scenario

from .conftest import ROOT

QUARTER = ROOT / "scenarios" / "stock_push" / "quarter_end.toml"
# Real names on purpose: none of them may appear anywhere unless --names is given.
CLASS = [("course", "Alice Wong"), ("second", "Bo Chen"), ("third", "Carla Diaz"), ("random", "Dan Liu")]


def _play(folder: Path, name: str, *args: str, scenario: str | Path = QUARTER, seed: str = "7") -> Path:
    log = folder / f"{name.replace(' ', '_')}.jsonl"
    result = CliRunner().invoke(cli, ["play", str(scenario), "--seed", seed, "--name", name, "--log", str(log), "--quiet", *args])
    assert result.exit_code == 0, result.output
    return log


@pytest.fixture(scope="module")
def classroom(tmp_path_factory) -> Path:
    """Four trainees on seed 7, one on seed 8, one on an edited copy of the scenario, one who
    stopped after two decisions, and a file that is not a log."""
    folder = tmp_path_factory.mktemp("class")
    for policy, name in CLASS:
        _play(folder, name, "--policy", policy)
    _play(folder, "Eve Other Seed", "--policy", "course", seed="8")
    edited = folder / "scenarios" / "quarter_end.toml"
    edited.parent.mkdir()
    edited.write_text(QUARTER.read_text("utf-8").replace("difficulty = 2", "difficulty = 3"), "utf-8")
    _play(folder, "Finn Edited", "--policy", "course", scenario=edited)
    _play(folder, "Gus Stopped", "--choices", "look_first,walk_warehouse")
    (folder / "notes.jsonl").write_text("these are my notes, not a log\n", "utf-8")
    return folder


def _scenario_options():
    loaded = load_scenario(QUARTER).loaded
    return {(s.id, c.id): sum(c.principles.values()) for s in loaded.scenario.steps for c in getattr(s, "choices", [])}


def test_sessions_of_another_seed_or_version_are_grouped_apart(classroom):
    ws = load_workshop(classroom)
    sizes = sorted((len(g.sessions), g.seed) for g in ws.groups)
    assert sizes == [(1, "7"), (1, "8"), (5, "7")]  # the edited file's seed-7 session is not in the class's group
    main = ws.groups[0]
    assert len(main.sessions) == 5 and {s.seed for s in main.sessions} == {"7"}
    assert len({g.version for g in ws.groups if g.seed == "7"}) == 2
    assert [p.name for p, _ in ws.unreadable] == ["notes.jsonl"]
    assert ws.unreadable[0][1][0].code == "DS0502"
    stopped = [s for s in main.sessions if s.status == "unfinished"]
    assert len(stopped) == 1 and len(stopped[0].moves) == 2 and stopped[0].total is None


def test_pseudonyms_by_default_names_only_when_asked(classroom):
    ws = load_workshop(classroom)
    outputs = [workshop_markdown(ws, "en"), workshop_markdown(ws, "zh", leaderboard=True), workshop_html(ws, "en", leaderboard=True), workshop_csv(ws)]
    for text in outputs:
        for _, name in CLASS:
            assert name not in text and name.replace(" ", "_") not in text
        assert "T01" in text
    named = workshop_markdown(ws, "en", names=True)
    assert all(name in named for _, name in CLASS)
    # one pseudonym per trainee, stable across groups and runs
    again = load_workshop(classroom)
    assert [(s.trainee, s.alias) for s in ws.sessions] == [(s.trainee, s.alias) for s in again.sessions]
    assert len({s.alias for s in ws.sessions}) == len({s.trainee for s in ws.sessions})


def test_where_the_class_went_wrong_follows_the_course_tags(classroom):
    ws = load_workshop(classroom)
    main = ws.groups[0]
    tags = _scenario_options()
    for trouble in main.troubles("en"):
        moves = [m for s in main.sessions for m in s.moves if m.step == trouble.step]
        assert trouble.reached == len(moves)
        assert trouble.wrong == sum(tags[(m.step, m.choice)] < 0 for m in moves)
    problems = main.problems("en")
    assert problems, "the 'second' and 'third' trainees and the random one go against the course early on"
    assert all(p.share >= 0.5 for p in problems)
    assert [p.share for p in problems] == sorted((p.share for p in problems), reverse=True)
    first = next(p for p in main.troubles("en") if p.step == "director_call")
    # the course's answer is the option the scenario tags highest, shown in words
    assert "look" in first.course.lower()


def test_heat_map_separates_the_course_follower_from_the_rule_breaker(classroom):
    ws = load_workshop(classroom)
    main = ws.groups[0]
    by_name = {s.trainee: s for s in main.sessions}
    good, bad = by_name["Alice Wong"], by_name["Bo Chen"]
    assert main.heat("stock.check_before_push", good) > main.heat("stock.check_before_push", bad)
    assert main.heat("stock.safety_stock_1_5x", good) > main.heat("stock.safety_stock_1_5x", bad)
    ranking = main.ranking()
    assert ranking[0].trainee == "Alice Wong" and by_name["Gus Stopped"] not in ranking
    assert [s.total for s in ranking] == sorted((s.total for s in ranking), reverse=True)


def test_leaderboard_is_off_unless_asked(classroom):
    ws = load_workshop(classroom)
    assert "leaderboard" not in workshop_markdown(ws, "en").replace("--leaderboard", "")
    assert "## Group 1: leaderboard" in workshop_markdown(ws, "en", leaderboard=True)
    assert "## 第1组：排行榜" in workshop_markdown(ws, "zh", leaderboard=True)


def test_csv_has_a_row_per_session_with_choices_and_principles(classroom):
    ws = load_workshop(classroom)
    rows = list(csv.DictReader(io.StringIO(workshop_csv(ws))))
    assert len(rows) == len(ws.sessions) == 7
    alice = next(s for s in ws.sessions if s.trainee == "Alice Wong")
    row = next(r for r in rows if r["trainee"] == alice.alias)
    assert row["D1"] == f"{alice.moves[0].step}:{alice.moves[0].choice}"
    assert float(row["total"]) == pytest.approx(alice.total, abs=0.01)
    assert 0.0 <= float(row["stock.check_before_push"]) <= 1.0
    assert "log" not in rows[0]  # log file names hold the trainees' names
    assert "log" in next(csv.DictReader(io.StringIO(workshop_csv(ws, names=True))))


def test_html_is_self_contained_with_curves_and_heat_map(classroom):
    text = workshop_html(load_workshop(classroom), "zh")
    assert text.count("<svg") >= 3 and "heat-4" in text and "多数人走偏的决定" in text
    assert "http://" not in text.replace("http://www.w3.org", "") and "https://" not in text


def test_cli_writes_html_and_csv_and_never_over_a_log(classroom, tmp_path):
    runner = CliRunner()
    html, table = tmp_path / "class.html", tmp_path / "class.csv"
    result = runner.invoke(cli, ["workshop", str(classroom), "--html", str(html), "--csv", str(table), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert html.read_text("utf-8").startswith("<!DOCTYPE html>") and table.read_text("utf-8").startswith("group,trainee")
    log = next(classroom.glob("Alice*.jsonl"))
    before = log.read_bytes()
    result = runner.invoke(cli, ["workshop", str(classroom), "--csv", str(log)])
    assert result.exit_code != 0 and "DS0604" in result.output and log.read_bytes() == before
    result = runner.invoke(cli, ["workshop", str(tmp_path / "nowhere")])
    assert result.exit_code != 0 and "DS0602" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(("lang", "size"), [("en", (120, 40)), ("zh", (80, 24))])
def test_workshop_view_tabs_groups_names_and_leaderboard(classroom, tmp_path, lang, size):
    asyncio.run(_workshop_view(classroom, tmp_path, lang, size))


async def _workshop_view(classroom, tmp_path, lang, size):
    from scoring.catalogue import load_catalogue
    from simulator.tui.app import DealersimApp

    app = DealersimApp(sessions=tmp_path, lang=lang, workshop=classroom, remember=False)
    async with app.run_test(size=size) as pilot:
        for _ in range(200):
            await pilot.pause(0.05)
            if app.screen.query("#ws-side-table"):
                break
        screen = app.screen
        assert "T01" in screen.query_one("#ws-side-table", DataTable).ordered_columns[1].label.plain
        await pilot.press("3")
        assert screen.query_one(TabbedContent).active == "ws-heat"
        heat = screen.query_one("#ws-heat-table", DataTable)
        assert heat.row_count == len(screen.workshop.groups[0].principle_ids(load_catalogue()))
        await pilot.press("l")
        await pilot.pause()
        board = app.screen.query_one("#ws-board-table", DataTable)
        totals = [float(board.get_row_at(i)[2]) for i in range(board.row_count)]
        assert totals == sorted(totals, reverse=True) and board.row_count == 4
        await pilot.press("n")
        await pilot.pause()
        columns = [c.label.plain for c in app.screen.query_one("#ws-board-table", DataTable).ordered_columns]
        names = [str(app.screen.query_one("#ws-board-table", DataTable).get_row_at(i)[1]) for i in range(4)]
        assert "Alice Wong" in names and columns
        before = app.screen.query_one("#ws-group").text
        await pilot.press("g")
        await pilot.pause()
        assert app.screen.query_one("#ws-group").text != before
        footer = " ".join(str(w.render()) for w in app.screen.query("FooterKey"))
        assert ("Next group" if lang == "en" else "下一组") in footer

"""The debrief report (`dealersim debrief`): an after-action review of one session log.

Fast tests on real logs of tests/data/mini.toml played headless, with a hand-built analysis whose
labels are known (so every label, mark and section shows), plus one run of the real analysis and
one of the shipped quarter-end scenario when it exists.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from scoring import session_observers
from scoring.analysis_types import DecisionAnalysis, OptionValue, SessionAnalysis, label_for
from scoring.report import build_document, debrief_html, debrief_markdown, load_debrief
from simulator.i18n import t
from simulator.recorded import RecordedSession

from .conftest import MINI, ROOT, run_cli

QUARTER_END = ROOT / "scenarios" / "stock_push" / "quarter_end.toml"
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
SECTIONS = [f"report_s{i}" for i in range(1, 8)]


def play(loaded, path: Path, choices: list[str], *, seed: int = 5, lang: str = "en", trainee: str = "Li Lei") -> Path:
    recorded = RecordedSession.start(loaded, seed, lang, path, trainee=trainee, catalogue_version="test", observers=session_observers)
    try:
        for choice in choices:
            recorded.choose(choice)
    finally:
        recorded.close()
    return path


def option(option_id: str, total: float, ending: str) -> OptionValue:
    return OptionValue(option_id, f"{option_id} 中文", option_id, total, total, total, total - 5, total + 5, ending, 0.75)


def fake_analysis(log: Path, **_: object) -> SessionAnalysis:
    """What analyse_log would say if skipping the check were a mistake and the push a blunder."""
    d1 = DecisionAnalysis(turn=1, step="call", chosen="skip", best="check", loss=12.0, label=label_for(12.0, False),
                          options=[option("check", 80.0, "good_end"), option("skip", 68.0, "bad_end")],
                          good_result_reachable_after=False, week=0,
                          known={"market.week": 0.0, "dealer.wang.stock": 250.0, "dealer.wang.cover_cycles": 1.25,
                                 "dealer.wang.price_index": 1.0, "dealer.wang.trust": 50.0})
    d2 = DecisionAnalysis(turn=2, step="order", chosen="push", best="safe", loss=20.0, label=label_for(20.0, False),
                          options=[option("safe", 70.0, "good_end"), option("push", 50.0, "bad_end")],
                          good_result_reachable_after=False, week=0,
                          known={"market.week": 0.0, "dealer.wang.stock": 250.0, "dealer.wang.cover_cycles": 1.25})
    return SessionAnalysis("stock_push.mini", "5", 8, "course", [d1, d2], accuracy=18.2, expected_curve=[80.0, 68.0, 50.0], final_total=41.0)


@pytest.fixture
def pushed(mini, tmp_path) -> Path:
    """A finished session of the mini scenario that skips the check and pushes 1,000 units."""
    return play(mini, tmp_path / "pushed.jsonl", ["skip", "push"])


@pytest.fixture
def pushed_debrief(pushed):
    return load_debrief(pushed, rollouts=8, analyse=fake_analysis)


def principle_ids(log: Path) -> set[str]:
    from simulator.record import read_log

    ids = set()
    for r in read_log(log).records:
        if r.kind == "score":
            ids |= {i["principle"] for i in r.data["items"]}
        if r.kind == "scorecard":
            ids |= set(r.data["by_principle"])
        if r.kind == "choice":
            ids |= set(r.data["principles"])
    return ids


def svgs(html: str) -> list[str]:
    return re.findall(r"<svg.*?</svg>", html, flags=re.S)


def assert_self_contained(html: str) -> None:
    outside = re.sub(r'xmlns(:\w+)?="[^"]*"', "", html)
    assert not re.search(r"https?://", outside), re.search(r".{60}https?://.{60}", outside)
    assert not re.search(r"<(script|link|iframe|img|object|embed)\b", html, flags=re.I)
    assert "@import" not in html and "@font-face" not in html
    assert not re.search(r"url\((?!#)", html), "only in-page url(#id) references"
    assert not re.search(r'\s(src|href)="(?!#)', html), "only in-page links"


# ---------------------------------------------------------------------------------------------
# content


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_names_every_decision_and_principle_in_both_formats(pushed, pushed_debrief, mini, lang):
    ids = principle_ids(pushed) | set(mini.scenario.principles)
    assert ids  # the session scored something
    for text in (debrief_markdown(pushed_debrief, lang), debrief_html(pushed_debrief, lang)):
        for turn, step, choice in ((1, "call", "skip"), (2, "order", "push")):
            assert f"D{turn}" in text and step in text and choice in text
        for pid in ids:
            assert pid in text, pid
        # the best alternative and where it would have led
        assert "check" in text and "safe" in text
        assert ("Healthy stock." if lang == "en" else "库存健康。") in text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_section_headings_are_in_the_report_language(pushed_debrief, lang):
    other = "en" if lang == "zh" else "zh"
    md = debrief_markdown(pushed_debrief, lang)
    html = debrief_html(pushed_debrief, lang)
    for key in SECTIONS:
        assert f"## {t(key, lang)}" in md
        assert f"<h2>{t(key, lang)}</h2>" in html
        assert t(key, other) not in md and t(key, other) not in html
    assert f'<html lang="{"zh-CN" if lang == "zh" else "en"}">' in html
    # the scenario's text is in the report's language too (citations keep the course's own words)
    for zh, en in (("小测试", "Mini test"), ("王老板", "Mr Wang"), ("库存积压。", "Overstocked.")):
        mine, theirs = (zh, en) if lang == "zh" else (en, zh)
        assert mine in md and theirs not in md and mine in html and theirs not in html


def test_report_defaults_to_the_session_language(mini, tmp_path):
    log = play(mini, tmp_path / "zh.jsonl", ["check", "safe"], lang="zh")
    md = debrief_markdown(load_debrief(log, rollouts=0))
    assert t("report_s1", "zh") in md and "王老板" in md


def test_a_row_per_decision_with_its_mark(pushed_debrief):
    for lang in ("zh", "en"):
        html = debrief_html(pushed_debrief, lang)
        table = re.search(r'<table class="decisions">.*?</table>', html, flags=re.S).group(0)
        rows = re.findall(r"<tr( class=\"[^\"]*\")?>(.*?)</tr>", table.split("<tbody>")[1], flags=re.S)
        assert len(rows) == 2
        assert 'class="row-mistake"' in rows[0][0] and "? " + t("report_label_mistake", lang) in rows[0][1]
        assert 'class="row-blunder"' in rows[1][0] and "?? " + t("report_label_blunder", lang) in rows[1][1]
        md = debrief_markdown(pushed_debrief, lang)
        md_rows = [line for line in md.splitlines() if line.startswith("| **D")]
        assert len(md_rows) == 2
        assert "? " + t("report_label_mistake", lang) in md_rows[0] and "?? " + t("report_label_blunder", lang) in md_rows[1]


def test_what_to_change_gives_the_best_alternative_and_where_it_led(pushed_debrief):
    md = debrief_markdown(pushed_debrief, "en")
    change = md.split("## " + t("report_s5", "en"))[1].split("## ")[0]
    assert "Better: **Check stock**" in change and "expected total 80" in change
    assert "Better: **Top up to 1.5 cycles**" in change and "expected total 70" in change
    assert "Healthy stock. (good outcome)" in change  # the best alternative's most frequent ending
    assert t("report_out_of_reach", "en", good="70") in change  # flagged once, where it happened
    assert change.count(t("report_out_of_reach", "en", good="70")) == 1
    keep = md.split("## " + t("report_s4", "en"))[1].split("## ")[0]
    assert t("report_nothing_to_keep", "en") in keep


def test_scorecard_and_principle_breakdown(pushed_debrief):
    card = pushed_debrief.card
    md = debrief_markdown(pushed_debrief, "en")
    assert f"**{card['total']:.0f}**" in md and t("report_grade", "en", grade=card["grade"]) in md
    why = md.split("## " + t("report_s3", "en"))[1].split("## ")[0]
    for pid, v in card["by_principle"].items():
        assert f"`{pid}` — {v['earned']:g}/{v['possible']:g}" in why
    # the reasons from the score items
    assert "above the 1.5-cycle safety stock" in why


# ---------------------------------------------------------------------------------------------
# the HTML file


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_html_is_one_self_contained_file_with_inline_charts(pushed_debrief, lang):
    html = debrief_html(pushed_debrief, lang)
    assert_self_contained(html)
    charts = svgs(html)
    assert len(charts) == 5  # cover, price, trust, sales; expected score
    for svg in charts:
        texts = re.findall(r"<text\b[^>]*>(.*?)</text>", svg, flags=re.S)
        assert texts, "svg.fonttype none: chart text stays text"
        # language-neutral: never a glyph a font might lack (titles and legends are HTML around it)
        assert all(not CJK.search(x) and x.isascii() for x in texts), texts
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "element ids are unique across the page"


def test_what_a_trainee_typed_is_shown_as_text(mini, tmp_path):
    log = play(mini, tmp_path / "odd.jsonl", ["check"], trainee="<script>x</script> | *Li* \ue000")
    d = load_debrief(log, rollouts=0)
    html = debrief_html(d, "en")
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt; | *Li*" in html
    md = debrief_markdown(d, "en")
    assert "\\<script>x\\</script> \\| \\*Li\\*" in md and "\ue000" not in md


def test_charts_refuse_non_ascii_text():
    from scoring.charts import _guard

    assert _guard("D3 ??") == "D3 ??"
    with pytest.raises(ValueError):
        _guard("王老板")


def test_markdown_has_no_charts_but_says_where_they_are(pushed_debrief):
    md = debrief_markdown(pushed_debrief, "en")
    assert "<svg" not in md and t("report_charts_in_html", "en") in md


# ---------------------------------------------------------------------------------------------
# unfinished and damaged logs


def test_unfinished_session_is_reported_as_such(mini, tmp_path):
    log = play(mini, tmp_path / "half.jsonl", ["check"])
    d = load_debrief(log, rollouts=0)
    assert d.status == "unfinished" and d.card is None
    for lang in ("zh", "en"):
        md = debrief_markdown(d, lang)
        assert t("report_banner_unfinished", lang, turns=1, log="half.jsonl") in md
        assert t("report_no_ending", lang, turns=1) in md
        assert "D1" in md and "stock.check_before_push" in md  # what exists so far
        assert_self_contained(debrief_html(d, lang))


def test_unfinished_session_with_the_real_analysis(mini, tmp_path):
    from scoring.analysis import analyse_log

    log = play(mini, tmp_path / "half.jsonl", ["skip"])
    d = load_debrief(log, rollouts=2, analyse=analyse_log)
    assert d.analysis_state == "done" and [x.turn for x in d.analysis.decisions] == [1]
    assert "D1" in debrief_html(d, "en")


def damage(log: Path) -> None:
    """Alter record 4 without recomputing its hash (what a hand edit does)."""
    from simulator.record import canonical_json

    lines = log.read_text("utf-8").splitlines(keepends=True)
    record = json.loads(lines[4])
    record["t"] = "2000-01-01T00:00:00.000000Z"
    lines[4] = canonical_json(record) + "\n"
    log.write_text("".join(lines), "utf-8")


def test_damaged_log_keeps_what_came_before_and_says_so(pushed):
    damage(pushed)
    d = load_debrief(pushed, rollouts=8, analyse=fake_analysis)
    assert d.status == "damaged" and d.analysis is None and d.analysis_state == "damaged"
    assert any(x.code == "DS0505" for x in d.diagnostics)
    for lang in ("zh", "en"):
        md = debrief_markdown(d, lang)
        assert "DS0505" in md and t("report_banner_analysis_damaged", lang) in md
        assert_self_contained(debrief_html(d, lang))


def test_torn_last_line_is_a_warning(mini, tmp_path):
    log = play(mini, tmp_path / "torn.jsonl", ["check"])
    with log.open("ab") as f:
        f.write(b'{"data":{"cho')
    d = load_debrief(log, rollouts=0)
    assert d.status == "unfinished" and [x.code for x in d.diagnostics] == ["DS0510"]
    assert "DS0510" in debrief_markdown(d, "en")


def test_a_moved_scenario_still_gives_a_report(mini, tmp_path):
    copy = tmp_path / "mini_copy.toml"
    copy.write_bytes(MINI.read_bytes())
    from simulator.loader import load_scenario

    log = play(load_scenario(copy).loaded, tmp_path / "moved.jsonl", ["check", "safe"])
    copy.unlink()
    d = load_debrief(log, rollouts=0)
    assert d.scenario_state == "missing"
    md = debrief_markdown(d, "en")
    assert "D2" in md and "stock.safety_stock_1_5x" in md
    # and --scenario finds it again
    d = load_debrief(log, rollouts=0, scenario_path=MINI)
    assert d.scenario_state == "same" and "Wang is low on stock." in debrief_markdown(d, "en")


# ---------------------------------------------------------------------------------------------
# the command


def invoke(*args: str):
    from simulator.cli import cli

    return CliRunner().invoke(cli, list(args), prog_name="dealersim", catch_exceptions=False)


def test_cli_writes_the_files_asked_for(pushed, tmp_path):
    md, html = tmp_path / "out" / "r.md", tmp_path / "out" / "r.html"
    result = invoke("debrief", str(pushed), "--md", str(md), "--html", str(html), "--rollouts", "2", "--lang", "zh")
    assert result.exit_code == 0, result.output
    assert md.is_file() and html.is_file()
    assert t("report_s1", "zh") in md.read_text("utf-8")
    text = html.read_text("utf-8")
    assert "<svg" in text and text.count("<svg") == 5
    assert_self_contained(text)
    assert t("report_written", "zh", path=str(html)) in result.output


def test_cli_prints_markdown_by_default(pushed):
    result = invoke("debrief", str(pushed), "--rollouts", "0")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("# " + t("report_title", "en", title="Mini test"))
    assert t("report_banner_analysis_skipped", "en") in result.output


def test_cli_never_overwrites_the_session_log(pushed):
    before = pushed.read_bytes()
    result = invoke("debrief", str(pushed), "--md", str(pushed), "--rollouts", "0")
    assert result.exit_code == 1 and "DS0604" in result.output
    assert pushed.read_bytes() == before


def test_cli_broken_logs_give_diagnostics_not_tracebacks(pushed, tmp_path):
    not_a_log = tmp_path / "notes.jsonl"
    not_a_log.write_text("hello\n", "utf-8")
    out = tmp_path / "r.html"
    proc = run_cli("debrief", str(not_a_log), "--html", str(out))
    assert proc.returncode == 1 and "DS0502" in proc.stderr and "Traceback" not in proc.stderr + proc.stdout
    assert not out.exists()
    missing = run_cli("debrief", str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 1 and "DS0501" in missing.stderr and "Traceback" not in missing.stderr
    damage(pushed)
    proc = run_cli("debrief", str(pushed), "--html", str(out), "--rollouts", "2")
    assert proc.returncode == 1 and "DS0505" in proc.stderr and "Traceback" not in proc.stderr + proc.stdout
    assert out.is_file() and "DS0505" in out.read_text("utf-8")  # what came before the damage


# ---------------------------------------------------------------------------------------------
# the real thing


def test_real_analysis_end_to_end(mini, tmp_path):
    from scoring.analysis import analyse_log

    log = play(mini, tmp_path / "real.jsonl", ["skip", "push"])
    d = load_debrief(log, rollouts=4, analyse=analyse_log)
    assert d.analysis_state == "done", d.analysis_problem
    doc = build_document(d, "en", charts=True)
    labels = {x.label for x in d.analysis.decisions}
    html = debrief_html(d, "en")
    for label in labels:
        assert t(f"report_label_{label}", "en") in html
    assert [s.id for s in doc.sections] == ["intent", "happened", "why", "keep", "change", "decisions", "discussion"]


@pytest.mark.skipif(not QUARTER_END.exists(), reason="the quarter-end scenario is not there")
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_quarter_end_debrief(tmp_path, principle_ids, lang):
    from scoring.analysis import analyse_log
    from simulator.loader import load_scenario
    from simulator.policy import make_policy

    loaded = load_scenario(QUARTER_END, principle_ids).loaded
    path = tmp_path / "qe.jsonl"
    recorded = RecordedSession.start(loaded, 11, "zh", path, observers=session_observers)
    pick = make_policy("random", 11)
    try:
        while not recorded.session.finished:
            recorded.choose(pick(recorded.session))
    finally:
        recorded.close()
    d = load_debrief(path, rollouts=2, analyse=analyse_log)
    assert d.status == "finished" and d.analysis_state == "done", d.analysis_problem
    md, html = debrief_markdown(d, lang), debrief_html(d, lang)
    for dec in d.decisions:
        assert f"D{dec.turn}" in md and dec.choice in md and dec.choice in html
    for pid in principle_ids_of(path) | set(loaded.scenario.principles):
        assert pid in md and pid in html
    assert_self_contained(html)
    assert len(svgs(html)) == 5
    for text in loaded.scenario.instructor.discussion:
        assert getattr(text, lang) in md


def principle_ids_of(path: Path) -> set[str]:
    return principle_ids(path)

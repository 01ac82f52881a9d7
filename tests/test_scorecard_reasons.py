"""The scorecard's reasons for lost points, as a trainee reads them at the end of a scenario.

A reason under a principle that lost points says what cost them — the decision (its number and
step title) or the outcome a rule measured — and never the praise an option's feedback gives; a
decision that cost points under several principles is explained once, the others refer to it.
"""

from __future__ import annotations

import re
import tomllib

import pytest

from scoring import session_observers
from scoring.report import debrief_markdown, load_debrief, scorecard_from_events, scorecard_lines
from simulator.engine import Session
from simulator.i18n import t
from simulator.loader import load_scenario
from simulator.recorded import RecordedSession

from .conftest import MINI, ROOT, run_cli

QUARTER_END = ROOT / "scenarios" / "stock_push" / "quarter_end.toml"
HEAD = re.compile(r"^  [✓!✗] .* \[([a-z0-9_.]+)\] ")
REASON = "      - "


@pytest.fixture(scope="module")
def quarter_end(principle_ids):
    result = load_scenario(QUARTER_END, principle_ids)
    assert result.ok
    return result.loaded


def path_of(name_starts: str) -> list[str]:
    """A path from the scenario's own playthrough tests (the course's path, the push-hard path)."""
    tests = tomllib.loads(QUARTER_END.with_suffix(".test.toml").read_text("utf-8"))["test"]
    return next(x["choices"] for x in tests if x["name"].startswith(name_starts))


def play(loaded, choices: list[str], lang: str, seed: int = 7) -> Session:
    session = Session(loaded, seed, lang, observers=session_observers(loaded))
    for c in choices:
        session.choose(c)
    return session


def reasons_by_principle(lines: list[str]) -> dict[str, list[str]]:
    """The scorecard's reason lines under each principle."""
    out: dict[str, list[str]] = {}
    current = None
    for line in lines:
        head = HEAD.match(line)
        if head:
            current = out.setdefault(head.group(1), [])
        elif line.startswith(REASON) and current is not None:
            current.append(line[len(REASON):])
        elif not line.startswith(" "):
            current = None  # a section after the principles
    return out


def decisions(session: Session) -> list[dict]:
    """Each decision as the log has it: turn, the step's title, the chosen option's tags and feedback."""
    titles = {e["data"]["step"]: e["data"]["title"] for e in session.events if e["kind"] == "step"}
    return [{**e["data"], "title": titles[e["data"]["step"]]} for e in session.events if e["kind"] == "choice"]


def losses(session: Session) -> dict[str, float]:
    card, _ = scorecard_from_events(session.events)
    return {pid: v["possible"] - v["earned"] for pid, v in card["by_principle"].items()}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_good_option_that_scores_below_full_is_not_praised_as_the_reason(quarter_end, lang):
    """The course's path sizes the push to the promotion: its feedback praises it, yet topping up to
    1.5 cycles scores higher on two principles. The scorecard names that decision, not the praise."""
    session = play(quarter_end, path_of("the course's path: look first"), lang)
    lines = scorecard_lines(*scorecard_from_events(session.events), lang)
    reasons = reasons_by_principle(lines)
    praise = [d["feedback"] for d in decisions(session) if d["feedback"] and min(d["principles"].values(), default=0) >= 0]
    assert praise
    for pid, lost in losses(session).items():
        if lost > 0:
            assert reasons[pid], f"{pid} lost points and says nothing about why"
        for line in reasons[pid]:
            assert not any(p in line for p in praise), line
    sized = next(d for d in decisions(session) if d["choice"] == "promo_sized")
    where = t("scr_decision", lang, n=sized["turn"], title=sized["title"])
    for pid in ("stock.long_vs_short_term", "stock.safety_stock_1_5x"):  # tagged higher on to_safety
        assert losses(session)[pid] > 0
        assert any(line.startswith(where) for line in reasons[pid]), reasons[pid]
    # a shortfall the market showed names the outcome
    cover = next(i for e in session.events if e["kind"] == "score" for i in e["data"]["items"] if i["source"] == "cover_after_order" and i["earned"] < i["possible"])
    assert any(cover[f"reason_{lang}"].rstrip("。.") in line for line in reasons["stock.safety_stock_1_5x"])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_each_decision_is_explained_once_not_under_every_principle(quarter_end, lang):
    """Pushing hard breaks several principles per decision: the coach's critique of each decision is
    shown once, and under the other principles that decision gets a short line of its own."""
    session = play(quarter_end, path_of("push hard"), lang)
    lines = scorecard_lines(*scorecard_from_events(session.events), lang)
    reasons = reasons_by_principle(lines)
    text = "\n".join(lines)
    for d in decisions(session):
        broken = [pid for pid, w in d["principles"].items() if w < 0 and losses(session).get(pid, 0) > 0]
        if not broken:
            continue
        assert text.count(d["feedback"]) == 1, d["choice"]  # the critique, once, where it first comes up
        where = t("scr_decision", lang, n=d["turn"], title=d["title"])
        naming = [line for pid in broken for line in reasons[pid] if line.startswith(where)]
        assert len(naming) == len(broken)  # every principle it cost still says so
        too = t("scr_choice_against_too", lang)
        assert sum(line.endswith(too) for line in naming) == len(broken) - 1
    for pid, rows in reasons.items():
        assert len(rows) == len(set(rows)), f"a line repeated under {pid}"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_negotiation_item_above_neutral_does_not_show_its_praise(lang):
    """Negotiation items score −2…+2; +1 earns 1.5 of 2. Its recorded reason is what went right."""
    praise = {"en": "You let them finish; they disclosed more, and more accurately.", "zh": "你让对方把话说完，他透露得更多、更准。"}
    short = {"en": "You did not stop to listen this time.", "zh": "这次没有专门倾听对方。"}
    item = {"earned": 1.5, "possible": 2.0, "principle": "nego.open_listening", "source": "negotiation:plan", "turn": 9,
            "reason_en": praise["en"], "reason_zh": praise["zh"]}
    shortfall = {**item, "principle": "nego.close_empathy", "earned": 1.0, "reason_en": short["en"], "reason_zh": short["zh"]}
    events = [
        {"kind": "step", "data": {"step": "plan", "step_kind": "negotiation", "title": "Annual plan", "text": ""}},
        {"kind": "score", "data": {"turn": 9, "items": [item, shortfall]}},
        {"kind": "scorecard", "data": {"process": 62.5, "results": 80.0, "total": 69.5, "grade": "C", "process_weight": 0.6, "results_parts": {},
                                       "by_principle": {"nego.open_listening": {"earned": 1.5, "possible": 2.0}, "nego.close_empathy": {"earned": 1.0, "possible": 2.0}}}},
    ]
    reasons = reasons_by_principle(scorecard_lines(*scorecard_from_events(events), lang))
    where = t("scr_negotiation", lang, title="Annual plan")
    assert reasons["nego.open_listening"] and all(praise[lang] not in line for line in reasons["nego.open_listening"])
    assert reasons["nego.open_listening"][0].startswith(where)
    assert any(short[lang] in line for line in reasons["nego.close_empathy"])  # a shortfall keeps its reason


def test_a_log_without_the_choice_records_still_names_the_decision_never_its_feedback():
    """Items alone (no choice events to look the decision up in): the decision's number, no praise."""
    feedback = "A push with a purpose and a method."
    item = {"earned": 3.0, "possible": 5.0, "principle": "stock.long_vs_short_term", "source": "choice", "turn": 3,
            "reason_en": feedback, "reason_zh": feedback}
    card = {"process": 60.0, "results": 80.0, "total": 68.0, "grade": "C", "process_weight": 0.6, "results_parts": {},
            "by_principle": {"stock.long_vs_short_term": {"earned": 3.0, "possible": 5.0}}}
    for lang in ("en", "zh"):
        rows = reasons_by_principle(scorecard_lines(card, [item], lang))["stock.long_vs_short_term"]
        assert len(rows) == 1 and feedback not in rows[0] and rows[0].startswith(t("scr_decision_untitled", lang, n=3))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_plain_mode_end_screen_names_the_decision(tmp_path, lang):
    """What a trainee sees at the end of `dealersim play --plain`: the losing order is named, not
    echoed back as "Chose: …"."""
    log = tmp_path / f"{lang}.jsonl"
    proc = run_cli("play", str(MINI), "--seed", "3", "--plain", "--lang", lang, "--choices", "check,push", "--log", str(log))
    assert proc.returncode == 0, proc.stderr
    card = proc.stdout[proc.stdout.index(t("scorecard", lang)):]
    reasons = reasons_by_principle(card.splitlines())
    assert any(line.startswith(t("scr_decision_untitled", lang, n=2)) and t("scr_choice_against", lang) in line for line in reasons["stock.safety_stock_1_5x"])
    assert "Chose:" not in card and "选择：" not in card


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_debrief_marks_no_praise_as_a_partial_or_missed_point(quarter_end, tmp_path, lang):
    log = tmp_path / "course.jsonl"
    recorded = RecordedSession.start(quarter_end, 7, lang, log, observers=session_observers)
    try:
        for c in path_of("the course's path: look first"):
            recorded.choose(c)
        praise = [e["data"]["feedback"] for e in recorded.events
                  if e["kind"] == "choice" and e["data"]["feedback"] and min(e["data"]["principles"].values(), default=0) >= 0]
    finally:
        recorded.close()
    md = debrief_markdown(load_debrief(log, rollouts=0), lang)
    why = md.split("## " + t("report_s3", lang))[1].split("## ")[0]
    marked = [line for line in why.splitlines() if line.strip().startswith(("- ½", "- ✗"))]
    assert marked, "the course's path still loses some points"
    for line in marked:
        assert not any(p in line for p in praise), line

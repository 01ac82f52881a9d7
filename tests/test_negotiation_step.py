"""A negotiation step in a scenario: loading, the engine, conditions, scoring, forks and batches,
headless play, the command line, resume and --verify (docs/NEGOTIATION.md#in-a-scenario)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scoring import session_observers
from scoring.rubric import NEGO_POSSIBLE, Scorer
from simulator.diagnostics import DiagnosticError
from simulator.engine import Session, format_choice, parse_choice
from simulator.loader import load_scenario, load_text
from simulator.negotiation import MOVES
from simulator.negotiation.play import STRATEGIES, play_moves
from simulator.negotiation.step import condition_names
from simulator.record import read_log
from simulator.schema import MOVE_KINDS, NegotiationStep

from .conftest import DATA, ROOT, choices_in, run_cli, wait_for

NEGO = DATA / "nego_mini.toml"
ANNUAL = ROOT / "scenarios" / "negotiation" / "annual_plan.toml"
COURSE = ["review", "say_no", "listen", "ask=target_growth", "ask=rebate", "ask=support", "package:target_growth=20;rebate=2;support=none"]


@pytest.fixture(scope="module")
def nego(principle_ids):
    result = load_scenario(NEGO, principle_ids)
    assert result.ok, [d.render() for d in result.diagnostics]
    return result.loaded


@pytest.fixture(scope="module")
def annual(principle_ids):
    result = load_scenario(ANNUAL, principle_ids)
    assert result.ok and result.diagnostics == [], [d.render() for d in result.diagnostics]
    return result.loaded


def at_table(loaded, seed=3, **kwargs) -> Session:
    session = Session(loaded, seed, **kwargs)
    session.choose("review")
    assert session.negotiating
    return session


def kinds(events) -> list[str]:
    return [e["kind"] for e in events]


# ---------------------------------------------------------------- loading


def test_schema_moves_match_the_core_and_a_step_with_issues_is_a_negotiation(nego):
    assert set(MOVE_KINDS) == set(MOVES)
    step = nego.scenario.step("plan")
    assert isinstance(step, NegotiationStep) and step.kind == "negotiation"
    spec = nego.negotiations["plan"]
    assert spec.ids == ("target_growth", "rebate", "support") and spec.rounds == 6
    assert spec.company_reservation == 0.35 and spec.counterpart.reservation == (0.3, 0.4)
    assert spec.counterpart.concession == (0.8, 1.25)  # "linear"


def test_condition_names_are_declared_with_their_types(nego):
    names = nego.nego_names
    assert names == condition_names(nego.scenario.step("plan"))
    assert names["nego.plan.deal"] == "bool" and names["nego.plan.own_utility"] == "number"
    assert names["nego.plan.target_growth"] == "number" and names["nego.plan.support.promoter"] == "bool"
    bad = NEGO.read_text("utf-8").replace('when = "nego.plan.deal"', 'when = "nego.plan.dael"')
    diags = load_text(bad, "bad.toml").diagnostics
    assert any(d.code == "DS0302" and "nego.plan.dael" in d.message and "nego.plan.deal" in d.hint for d in diags)


@pytest.mark.parametrize(
    "old, new, code, fragment",
    [
        ("  style = \"linear\"", "  style = \"linear\"\n  anchor = 0.35", "DS0403", "anchor"),
        ("  weight = 4\n", "  weight = 0\n", None, None),  # one issue weighing nothing is fine…
        ('reservation = [0.3, 0.4]', 'reservation = [0.4, 0.3]', "DS0403", "low end first"),
        ('id = "rebate"', 'id = "rounds"', "DS0403", "clashes"),
        ('[steps.lines]', '[steps.lines]\n  bid_finale = { zh = "最后", en = "Last" }', "DS0111", "did you mean 'bid_final'"),
        ('rounds = 6', 'rounds = 6\ntactics = { nible_prob = 0.5 }', "DS0111", "did you mean 'nibble_prob'"),
        ('rounds = 6', 'rounds = 6\ntactics = { talk_per_round = 2.5 }', "DS0109", "whole number"),
        ('rounds = 6', 'rounds = 6\nmoves = ["listen", "ask"]', "DS0403", "at least one of offer"),
    ],
)
def test_unplayable_negotiations_are_diagnostics_at_their_place(old, new, code, fragment):
    text = NEGO.read_text("utf-8")
    assert old in text
    diags = load_text(text.replace(old, new, 1), "n.toml").diagnostics
    if code is None:
        assert not [d for d in diags if d.severity == "error"]
        return
    hits = [d for d in diags if d.code == code]
    assert hits and fragment in hits[0].message + hits[0].hint, [d.render() for d in diags]
    assert hits[0].line > 1


def test_issues_that_all_weigh_nothing_are_DS0403():
    text = NEGO.read_text("utf-8")
    for old in ("weight = 4\n", "weight = 2.5\n", "weight = 1.5\n"):
        text = text.replace(old, "weight = 0\n")
    diags = load_text(text, "w.toml").diagnostics
    assert [d.code for d in diags] == ["DS0403"] and "weight 0" in diags[0].message


def test_shipped_scenario_passes_check_strict_its_tests_and_explore(annual):
    proc = run_cli("check", "--strict", str(ANNUAL))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = run_cli("test", str(ANNUAL.with_name("annual_plan.test.toml")), "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    from simulator import explore

    report = explore.explore(annual, [0, 1, 2, 3, 4, 5])
    assert report.dead_ends == [] and report.ok
    assert not report.unreached, report.unreached
    assert all(report.ending_counts[e] for e in report.endings)


# ---------------------------------------------------------------- the engine


def test_options_are_the_moves_with_what_a_front_end_needs(nego):
    session = at_table(nego)
    options = session.options()
    assert [o.id for o in options] == list(MOVES) and [o.number for o in options] == list(range(1, 16))
    offer = options[0].params
    rebate = next(i for i in offer["issues"] if i["id"] == "rebate")
    assert rebate["kind"] == "number" and (rebate["min"], rebate["max"], rebate["step"]) == (1.0, 4.0, 0.5)
    assert rebate["standing"] in rebate["grid"] and rebate["unit"] == "%"
    support = next(i for i in offer["issues"] if i["id"] == "support")
    assert [o["id"] for o in support["options"]] == ["none", "promoter"] and support["standing"] in ("none", "promoter")
    ask = next(o for o in options if o.id == "ask").params
    assert [i["id"] for i in ask["issues"]] == ["target_growth", "rebate", "support"]
    assert next(o for o in options if o.id == "listen").params is None
    preview = session.preview_offer({"rebate": 2.2})
    assert preview["offer"]["rebate"] == 2.0 and 0 <= preview["own_utility"] <= 1


def test_keyword_params_and_the_text_form_make_the_same_move(nego):
    a, b = at_table(nego), at_table(nego)
    ea = a.choose("package", values={"rebate": 2, "target_growth": 20})
    eb = b.choose("package:target_growth=20;rebate=2")
    assert ea == eb
    choice = ea[0]["data"]
    assert choice["choice"] == "package" and choice["params"] == {"values": {"target_growth": 20.0, "rebate": 2.0}}
    assert kinds(ea)[:2] == ["choice", "nego_move"]
    json.dumps(ea, allow_nan=False)
    c = at_table(nego)
    assert c.choose("5", issue="rebate") == at_table(nego).choose("ask=rebate")  # by number, as typed


def test_moves_without_params_get_defaults_that_are_recorded(nego):
    session = at_table(nego)
    events = session.choose("ask")
    assert events[0]["data"]["params"] == {"issue": "target_growth"}
    events = session.choose("break_deadlock")  # nothing off the table: a pause
    assert events[0]["data"]["params"] == {"how": "pause"}
    standing = session.negs[0].domain.decode(session.negs[0].standing)
    events = session.choose("offer")  # the standing bid offered back
    assert next(e for e in events if e["kind"] == "nego_move")["data"]["offer"] == standing


@pytest.mark.parametrize(
    "choice, code, fragment",
    [
        ("haggle", "DS0601", "not a move"),
        ("ask:values=3", "DS0601", "takes `issue`"),
        ("listen=loudly", "DS0601", "takes no parameters"),
        ("package:rebate", "DS0601", "not key=value"),
        ("package:rebate=9", "DS0605", "outside 1–4"),
        ("offer:support=banners", "DS0605", "not an option of support"),
        ("ask=nonsense", "DS0605", "unknown issue"),
    ],
)
def test_bad_moves_are_diagnostics_and_change_nothing(nego, choice, code, fragment):
    session = at_table(nego)
    before = (len(session.events), session.turn, session.negs[0].k, list(session.negs[0].moves))
    with pytest.raises(DiagnosticError) as err:
        session.choose(choice)
    d = err.value.diagnostics[0]
    assert d.code == code and fragment in d.message, d.render()
    assert before == (len(session.events), session.turn, session.negs[0].k, list(session.negs[0].moves))


def test_a_move_not_allowed_now_says_why_DS0605(nego):
    session = at_table(nego)
    session.choose("ask=rebate")
    session.choose("ask=rebate")
    with pytest.raises(DiagnosticError) as err:
        session.choose("ask=rebate")
    assert err.value.diagnostics[0].code == "DS0605" and "2 times already" in err.value.diagnostics[0].message
    with pytest.raises(DiagnosticError) as err:
        session.choose("check")  # a decision step's option, at a negotiation
    assert err.value.diagnostics[0].code == "DS0601"


def test_events_carry_the_step_the_rendered_line_and_the_terms_without_hidden_values(nego):
    session = Session(nego, 3, "zh")
    events = session.choose("review")
    bid = next(e for e in events if e["kind"] == "nego_bid")["data"]
    assert bid["step"] == "plan" and bid["text"] == "目标我不签，返利先给我加上去。" and bid["speaker"] == "赵总"
    assert "返利" in bid["terms"] and bid["first"] and bid["round"] == 0
    played = session.events[:]
    for move in play_moves(session, "course"):
        session.choose(move)
    played = session.events
    shown = [e for e in played if e["kind"].startswith("nego_") and e["kind"] != "nego_result"]
    assert "their_utility" not in json.dumps(shown) and "weights" not in json.dumps(shown)
    result = next(e for e in played if e["kind"] == "nego_result")["data"]
    assert result["counterpart"]["weights"] and "deal_quality" in result and result["score"]
    assert kinds(played).index("nego_end") < kinds(played).index("nego_result") < kinds(played).index("route")


def test_the_counterpart_is_keyed_by_seed_world_step_and_visit_not_by_the_path(nego):
    a = Session(nego, 7)
    a.choose("review")
    b = Session(nego, 7)
    b.choose("skip")  # another path to the same negotiation: the same counterpart
    assert a.negs[0].cp.profile == b.negs[0].cp.profile
    c = Session(nego, 8)
    c.choose("review")
    assert c.negs[0].cp.profile != a.negs[0].cp.profile
    d = Session(nego, 7, world=3)
    d.choose("review")
    assert d.negs[0].cp.profile != a.negs[0].cp.profile


def test_the_same_seed_and_moves_give_the_same_events_in_another_process(nego):
    session = Session(nego, 11, observers=session_observers(nego))
    for choice in ["review"]:
        session.choose(choice)
    for move in play_moves(session, "course"):
        session.choose(move)
    here = json.dumps(session.events, sort_keys=True)
    code = (
        "import json, sys\n"
        "from simulator.loader import load_scenario\n"
        "from simulator.engine import Session\n"
        "from simulator.negotiation.play import play_moves\n"
        "from scoring import session_observers\n"
        "from scoring.catalogue import load_catalogue\n"
        f"loaded = load_scenario({str(NEGO)!r}, load_catalogue().ids).loaded\n"
        "s = Session(loaded, 11, observers=session_observers(loaded))\n"
        "s.choose('review')\n"
        "for m in play_moves(s, 'course'):\n"
        "    s.choose(m)\n"
        "sys.stdout.write(json.dumps(s.events, sort_keys=True))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": "random"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == here


# ---------------------------------------------------------------- conditions and routes


def test_names_read_false_and_zero_until_the_negotiation_ends_then_route_the_story(nego):
    session = at_table(nego)
    values = session.observe()
    assert values["nego.plan.done"] is False and values["nego.plan.deal"] is False and values["nego.plan.own_utility"] == 0.0
    for choice in COURSE[1:]:
        session.choose(choice)
    while session.negotiating:
        session.choose("accept")
    values = session.observe()
    assert values["nego.plan.done"] is True and values["nego.plan.deal"] is True
    terms = next(e for e in session.events if e["kind"] == "nego_end")["data"]["offer"]
    assert values["nego.plan.target_growth"] == terms["target_growth"] and values["nego.plan.rebate"] == terms["rebate"]
    assert values[f"nego.plan.support.{terms['support']}"] is True and values["nego.plan.support"] == ["none", "promoter"].index(terms["support"])
    route = next(e for e in session.events if e["kind"] == "route")["data"]
    expected = "stretch" if terms["target_growth"] >= 15 else "signed"
    assert route["to"] == expected == session.ending.id
    effect_kinds = [e["data"]["effect"] for e in session.events if e["kind"] == "effect"]
    assert ("channel_policy" if expected == "stretch" else "order") in effect_kinds
    assert values["market.week"] == 2  # the route's simulate_weeks


def test_walking_away_takes_the_default_route(nego):
    session = at_table(nego)
    session.choose("walk_away")
    values = session.observe()
    assert values["nego.plan.walked"] is True and values["nego.plan.deal"] is False and values["nego.plan.deal_quality"] == 0
    assert session.ending.id == "no_deal"


# ---------------------------------------------------------------- scoring


def test_score_items_join_the_scorer_on_the_documented_scale(nego):
    scorer = Scorer(nego)
    session = Session(nego, 3, observers=[scorer])
    for choice in COURSE:
        session.choose(choice)
    while session.negotiating:
        session.choose("accept")
    items = [i for i in scorer.items if i.source == "negotiation:plan"]
    result = next(e for e in session.events if e["kind"] == "nego_result")["data"]
    taught = set(nego.scenario.principles)
    expected = {i["principle"]: (i["points"] + 2) / 2 for i in result["score"] if i["principle"] in taught}
    assert {i.principle: i.earned for i in items} == expected
    assert all(i.possible == NEGO_POSSIBLE == 2 for i in items)
    assert not any(i.principle == "nego.open_listening" for i in items)  # not taught by this scenario
    card = next(e for e in session.events if e["kind"] == "scorecard")["data"]
    assert card["results_parts"]["deal_quality"] == pytest.approx(result["deal_quality"], abs=0.01)
    score_event = next(e for e in session.events if e["kind"] == "score" and any(i["source"].startswith("negotiation") for i in e["data"]["items"]))
    last_move = [e["data"]["turn"] for e in session.events if e["kind"] == "choice" and e["data"]["step"] == "plan"][-1]
    assert score_event["data"]["turn"] == last_move  # scored when the negotiation ended


def test_deal_quality_is_left_out_of_scenarios_without_a_negotiation(mini):
    from simulator.engine import play

    session = Session(mini, 1, observers=[Scorer(mini)])
    for c in ("check", "safe"):
        session.choose(c)
    card = next(e for e in session.events if e["kind"] == "scorecard")["data"]
    assert "deal_quality" not in card["results_parts"]
    assert play(mini, 1, ["check", "safe"]).finished


# ---------------------------------------------------------------- forks, batches, the analysis


def test_fork_keeps_the_counterpart_met_and_redraws_only_its_luck(nego):
    session = at_table(nego)
    session.choose("ask=rebate")
    same = session.fork(0)
    assert same.negs[0].cp.profile == session.negs[0].cp.profile and same.negs[0].cp.luck == session.negs[0].cp.luck
    other = session.fork(5)
    assert other.negs[0].cp.profile == session.negs[0].cp.profile and other.negs[0].cp.luck != session.negs[0].cp.luck
    other.choose("ask=target_growth")  # the fork plays on without touching the original
    assert len(session.negs[0].moves) == 1 and len(other.negs[0].moves) == 2


def _single_total(session: Session, world: int, first: str | None) -> tuple[float, str]:
    from simulator.policy import course_choice

    single = session.fork(world)
    if first is not None:
        single.choose(first)
    while not single.finished:
        single.choose(course_choice(single))
    return float(single.observers[0].totals(single)[0]), single.ending.id


@pytest.mark.parametrize("where", ["before", "during"])
def test_batched_rollouts_through_a_negotiation_equal_single_forks(nego, where):
    from scoring.analysis import _outcomes, play_out_batch

    session = Session(nego, 5, observers=session_observers(nego))
    if where == "during":
        session.choose("review")
        session.choose("ask=rebate")
    worlds = list(range(1, 9))
    for option in [o.id for o in session.options()][:4]:
        batch = session.fork_batch(worlds)
        batch.choose(option)
        batched = _outcomes(play_out_batch(batch))
        for world in worlds:
            total, ending = _single_total(session, world, option)
            assert batched[world][0] == total and batched[world][3] == ending


def test_a_batch_split_by_a_negotiation_resumes_every_row(nego):
    session = at_table(nego, observers=session_observers(nego))
    batch = session.fork_batch(list(range(1, 7)))
    for choice in COURSE[1:]:
        batch.choose(choice)
    batch.choose("package:target_growth=15;rebate=3;support=promoter")  # some counterparts accept, some bid again
    parts = [batch]
    done = []
    while parts:
        part = parts.pop()
        if part.split is not None:
            parts.extend(part.resume_split())
        elif part.negotiating:
            part.choose("accept")
            parts.append(part)
        else:
            done.append(part)
    assert sorted(w for p in done for w in p.noise.worlds) == list(range(1, 7))
    assert all(p.finished for p in done)


def test_analysis_of_a_log_with_a_negotiation(nego, tmp_path):
    from scoring.analysis import analyse_log
    from simulator.recorded import RecordedSession

    log = tmp_path / "a.jsonl"
    recorded = RecordedSession.start(nego, 4, "en", log, observers=session_observers)
    for choice in COURSE:
        recorded.choose(choice)
    while recorded.session.negotiating:
        recorded.choose("accept")
    recorded.close()
    analysis = analyse_log(log, rollouts=4)
    assert [d.step for d in analysis.decisions] == ["prep"]  # negotiation moves are played, not analysed
    assert analysis.final_total == next(r.data for r in read_log(log).records if r.kind == "scorecard")["total"]


# ---------------------------------------------------------------- headless play


def test_choice_text_round_trips():
    for kind, params in [
        ("package", {"values": {"rebate": 2.5, "support": "promoter"}}),
        ("ask", {"issue": "rebate"}),
        ("break_deadlock", {"how": "pause"}),
        ("break_deadlock", {"how": "add_issue", "issue": "exclusivity"}),
        ("listen", {}),
    ]:
        assert parse_choice(format_choice(kind, params)) == (kind, params)
    assert parse_choice("package:rebate=2.5;payment_days=45") == ("package", {"values": {"rebate": 2.5, "payment_days": 45.0}})


@pytest.mark.parametrize("policy", ["course", "random", "first"])
def test_every_policy_plays_a_negotiation_scenario_to_the_end(nego, policy):
    from simulator.policy import make_policy

    session = Session(nego, 2)
    pick = make_policy(policy, session.entropy)
    for _ in range(200):
        if session.finished:
            break
        session.choose(pick(session))
    assert session.finished and session.observe()["nego.plan.done"] is True


def test_each_strategy_finishes_the_negotiation(annual):
    for name in STRATEGIES:
        session = Session(annual, 1)
        session.choose("review_data")
        session.choose("review_on_table")
        rng = np.random.default_rng(0)
        for move in play_moves(session, name, rng):
            session.choose(move)
        assert not session.negotiating and session.observe()["nego.plan.done"] is True, name


def test_headless_cli_prints_the_rounds_and_verify_passes(tmp_path):
    log = tmp_path / "h.jsonl"
    choices = ",".join(COURSE) + ",~course"
    proc = run_cli("play", str(NEGO), "--seed", "3", "--lang", "en", "--choices", choices, "--log", str(log))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Round 1 · Mr Zhao: “I'm not signing that target. Raise my rebate first.”" in out
    assert "Round 1 · you: Propose a package (“if you…, then we…”): target growth 20%, rebate 2%, marketing support none" in out
    assert "proposes: target growth" in out and "Deal quality" in out and "== Scorecard ==" in out
    records = read_log(log).records
    moves = [r.data for r in records if r.kind == "choice" and r.data["step"] == "plan"]
    assert moves[2]["params"] == {"issue": "target_growth"} and moves[2]["choice"] == "ask"
    assert run_cli("replay", "--verify", str(log)).returncode == 0
    shown = run_cli("replay", str(log), "--no-weeks")
    assert "Round 1 · you: Ask how much target growth matters to them" in shown.stdout


def test_cli_policies_cover_negotiation_steps(tmp_path):
    for policy in ("course", "random", "first"):
        log = tmp_path / f"{policy}.jsonl"
        proc = run_cli("play", str(NEGO), "--seed", "6", "--policy", policy, "--log", str(log), "--quiet")
        assert proc.returncode == 0, proc.stderr
        assert read_log(log).finished
        assert run_cli("replay", "--verify", str(log)).returncode == 0


def test_cli_move_errors_are_diagnostics(tmp_path):
    proc = run_cli("play", str(NEGO), "--seed", "3", "--choices", "review,package:rebate=9", "--log", str(tmp_path / "e.jsonl"))
    assert proc.returncode == 1 and "DS0605" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("play", str(NEGO), "--seed", "3", "--choices", "review,~smart", "--log", str(tmp_path / "f.jsonl"))
    assert proc.returncode == 1 and "DS0603" in proc.stderr


@pytest.mark.parametrize("kill_after", [3, 6])
def test_sigkill_during_a_negotiation_then_resume_matches_an_uninterrupted_run(tmp_path, kill_after):
    reference = tmp_path / "ref.jsonl"
    ref = run_cli("play", str(NEGO), "--seed", "9", "--choices", ",".join(COURSE) + ",~course", "--log", str(reference), "--quiet")
    assert ref.returncode == 0, ref.stderr
    played = [format_choice(r.data["choice"], r.data.get("params")) for r in read_log(reference).records if r.kind == "choice"]
    assert len(played) > kill_after + 1  # the kill falls inside the negotiation

    log = tmp_path / "killed.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator.cli", "play", str(NEGO), "--seed", "9", "--plain", "--log", str(log)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    wait_for(lambda: log.exists() and read_log(log).records)
    for option in played[:kill_after]:
        proc.stdin.write(option + "\n")
        proc.stdin.flush()
    wait_for(lambda: choices_in(log) >= kill_after)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    contents = read_log(log)
    assert contents.ok and not contents.finished

    resumed = run_cli("resume", str(log), "--choices", ",".join(played[kill_after:]), "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert read_log(log).records[-1].data["digest"] == read_log(reference).records[-1].data["digest"]
    assert run_cli("replay", "--verify", str(log)).returncode == 0


# ---------------------------------------------------------------- the tools


def test_playthrough_tests_take_moves_and_strategies(tmp_path, principle_ids):
    from simulator.playtest import load_tests, run_tests

    path = tmp_path / "n.test.toml"
    path.write_text(
        f'scenario = "{NEGO.as_posix()}"\n'
        "[[test]]\nname = \"moves\"\nseed = 3\n"
        'choices = ["review", "say_no", "ask=rebate", "package:target_growth=20;rebate=2", "~course"]\n'
        '[test.expect]\n"nego.plan.done" = true\n"nego.plan.asks" = [1, 10]\n'
        "[[test]]\nname = \"a typo\"\n"
        'choices = ["review", "haggle"]\n',
        "utf-8",
    )
    tests = load_tests(path, principle_ids)
    assert [d.code for d in tests.diagnostics] == ["DS0702"] and "haggle" in tests.diagnostics[0].message
    path.write_text(path.read_text("utf-8").split("[[test]]\nname = \"a typo\"")[0], "utf-8")
    tests = load_tests(path, principle_ids)
    assert tests.ok
    results = run_tests(tests)
    assert results and all(r.passed for r in results), [d.render() for r in results for d in r.failures]


def test_explore_plays_each_strategy_at_a_negotiation_and_counts_decisions_only(nego):
    from simulator import explore

    report = explore.explore(nego, [0])
    walk = report.walks[0]
    assert walk.mode == "all" and len(walk.paths) == 2 * 5  # two preparation choices × five strategies
    assert report.dead_ends == [] and set(report.choices_taken) == {"prep.review", "prep.skip"}
    assert any(len(p.choices) > 3 for p in walk.paths)  # the moves are in the replayable choices
    graph = explore.mermaid(nego.scenario)
    assert 's_plan{{"plan: Annual plan meeting"}}' in graph and "s_plan -.->" in graph


def test_debrief_reads_a_negotiation_log(tmp_path):
    log = tmp_path / "d.jsonl"
    assert run_cli("play", str(NEGO), "--seed", "3", "--choices", ",".join(COURSE) + ",~course", "--log", str(log), "--quiet").returncode == 0
    proc = run_cli("debrief", str(log), "--rollouts", "2")
    assert proc.returncode == 0, proc.stderr
    assert "Mini negotiation" in proc.stdout

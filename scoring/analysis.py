"""Per-decision analysis: what each option on offer was worth, judged on the decision, not on the luck.

For every decision of a session, every option on offer is played on from the same state in K
alternative worlds (worlds 1..K: the same past, other luck for the weeks to come; the same K
worlds for every option — common random numbers), continuing with the course-following policy.
The option's value is its mean final total. A decision is labelled by the expected points lost
against the best option (scoring/analysis_types.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from pathlib import Path

import numpy as np

from scoring.analysis_types import GOOD_RESULT, DecisionAnalysis, OptionValue, SessionAnalysis, label_for
from scoring.rubric import Scorer
from simulator.diagnostics import Diagnostic, DiagnosticError
from simulator.engine import Session, format_choice, parse_choice
from simulator.loader import LoadedScenario
from simulator.policy import course_choice, course_pick
from simulator.record import read_log
from simulator.recorded import scenario_for_log
from simulator.schema import text_in

DEFAULT_ROLLOUTS = 32


def play_out_batch(batch: Session) -> list[Session]:
    """Play a batch of rollouts to the end with the course-following policy.

    Rollouts stay together while they take the same path; a branch that routes them differently,
    or options that differ between them, splits the batch. Returns the finished batches."""
    done, todo = [], [batch]
    while todo:
        group = todo.pop()
        if group.split is not None:
            todo.extend(group.resume_split())
            continue
        if group.finished:
            done.append(group)
            continue
        picks: dict[tuple, list[int]] = {}
        if group.negotiating:  # each rollout meets its own counterpart: the course's move per row
            for row in range(group.rollouts):
                picks.setdefault(((), course_choice(group, row)), []).append(row)
        elif any(c.when is not None for c in group.step.choices):
            for row in range(group.rollouts):
                offered = group.options_at(row)
                picks.setdefault((tuple(o.id for o in offered), course_pick(group.step, offered)), []).append(row)
        else:
            picks[((), course_pick(group.step, group.options()))] = list(range(group.rollouts))
        for (_, pick), rows in picks.items():
            part = group if len(picks) == 1 else group.take(rows)
            part.choose(pick)
            todo.append(part)
    return done


def _outcomes(finished: list[Session]) -> dict[int, tuple[float, float, float, str]]:
    """world -> (total, process, results, ending) over the finished batches."""
    out = {}
    for group in finished:
        scorer = next(o for o in group.observers if isinstance(o, Scorer))
        totals, process, (results, _) = scorer.totals(group), scorer.process(), scorer.results(group)
        for row, world in enumerate(group.noise.worlds):
            out[world] = (float(totals[row]), float(process[row]), float(results[row]), group.ending.id)
    return out


def option_values(session: Session, rollouts: int = DEFAULT_ROLLOUTS) -> list[OptionValue]:
    """The value of every option on offer now, by rollouts in worlds 1..rollouts (the same worlds for every option)."""
    values = []
    step = session.step
    worlds = list(range(1, rollouts + 1))
    for option in session.options():
        batch = session.fork_batch(worlds)
        batch.choose(option.id)
        outcome = _outcomes(play_out_batch(batch))
        totals = np.array([outcome[w][0] for w in worlds])
        endings = [outcome[w][3] for w in worlds]
        choice = next(c for c in step.choices if c.id == option.id)
        ending, count = Counter(endings).most_common(1)[0]
        values.append(
            OptionValue(
                option=option.id,
                text_zh=text_in(choice.text, "zh"),
                text_en=text_in(choice.text, "en"),
                expected_total=round(float(totals.mean()), 2),
                expected_process=round(float(np.mean([outcome[w][1] for w in worlds])), 2),
                expected_results=round(float(np.mean([outcome[w][2] for w in worlds])), 2),
                p10=round(float(np.percentile(totals, 10)), 2),
                p90=round(float(np.percentile(totals, 90)), 2),
                ending=ending,
                ending_share=round(count / len(endings), 3),
            )
        )
    return values


def analyse_decision(session: Session, chosen: str, rollouts: int = DEFAULT_ROLLOUTS) -> DecisionAnalysis:
    values = option_values(session, rollouts)
    best = max(values, key=lambda v: v.expected_total)
    mine = next(v for v in values if v.option == chosen)
    loss = max(best.expected_total - mine.expected_total, 0.0)
    known = {  # what the trainee could see: not a negotiation's outcome (it holds the counterpart's hidden utility)
        k: round(float(v), 3) for k, v in session.observe().items() if isinstance(v, (int, float)) and not isinstance(v, bool) and not k.startswith("nego.")
    }
    return DecisionAnalysis(
        turn=session.turn + 1,
        step=session.step_id,
        chosen=chosen,
        options=values,
        best=best.option,
        loss=round(loss, 2),
        label=label_for(loss, mine is best or mine.expected_total >= best.expected_total),
        good_result_reachable_after=mine.expected_total >= GOOD_RESULT,
        known=known,
        week=session.state.week,
    )


def analyse_choices(
    loaded: LoadedScenario, seed: int | str, lang: str, choices: list[str], rollouts: int = DEFAULT_ROLLOUTS
) -> SessionAnalysis:
    session = Session(loaded, seed, lang, observers=[Scorer(loaded)])
    decisions = []
    for choice in choices:
        if session.finished:
            break
        if session.negotiating:  # a negotiation's moves are played, not analysed option by option
            if parse_choice(choice)[0] not in {o.id for o in session.options()}:
                raise DiagnosticError(
                    Diagnostic.make(
                        "DS0507",
                        f"decision {session.turn + 1}: the recorded move '{choice}' is not on offer when the session is re-simulated",
                        "the scenario or dealersim changed since the session was played; `dealersim replay --verify LOG` shows where",
                    )
                )
            session.choose(choice)
            continue
        if choice not in {o.id for o in session.options()}:
            raise DiagnosticError(
                Diagnostic.make(
                    "DS0507",
                    f"decision {session.turn + 1}: the recorded choice '{choice}' is not on offer when the session is re-simulated",
                    "the scenario or dealersim changed since the session was played; `dealersim replay --verify LOG` shows where",
                )
            )
        decisions.append(analyse_decision(session, choice, rollouts))
        session.choose(choice)
    scorer = session.observers[0]
    final = scorer.card["total"] if getattr(scorer, "card", None) else 0.0
    curve = []
    if decisions:
        first = decisions[0]
        curve.append(first.option(first.best).expected_total)
        curve += [d.option(d.chosen).expected_total for d in decisions]
    accuracy = 100.0 * float(np.mean([np.exp(-d.loss / 10.0) for d in decisions])) if decisions else 100.0
    return SessionAnalysis(
        scenario_id=loaded.scenario.id,
        seed=str(seed),
        rollouts=rollouts,
        policy="course",
        decisions=decisions,
        accuracy=round(accuracy, 1),
        expected_curve=curve,
        final_total=final,
    )


def analyse_log(
    path: Path, *, rollouts: int = DEFAULT_ROLLOUTS, scenario_path: Path | None = None, principles: Collection[str] | None = None
) -> SessionAnalysis:
    contents = read_log(Path(path))
    if contents.header is None or not contents.ok:
        raise DiagnosticError([d for d in contents.diagnostics if d.severity == "error"])
    loaded = scenario_for_log(contents, scenario_path, principles)
    header = contents.header
    choices = [format_choice(r.data["choice"], r.data.get("params")) for r in contents.records if r.kind == "choice"]
    return analyse_choices(loaded, header.get("seed", "0"), header.get("lang", "en"), choices, rollouts)

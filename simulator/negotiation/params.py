"""The parameters table: how the trainee's moves act on the counterpart, and the counterpart's habits.

Every number here is OURS (proposed, not in the course). The course (seed 002, 第九讲) names the
fourteen techniques and says nothing about their size or mechanics; these defaults follow widely
taught negotiation practice and the agent-negotiation literature (time-dependent tactics of
Faratin et al., frequency opponent models, AC_next acceptance). docs/NEGOTIATION.md has the same
table with the reasoning; a test keeps the two in step. Effects are deliberately small: a tactic
nudges the counterpart, it never decides the negotiation on its own.

Units: "utility" is the counterpart's own utility scale 0..1 (1 = its best outcome).
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class TacticParams:
    # ---- talk (moves that are not offers)
    talk_per_round: int = 8  # talk moves allowed between two offers; then only offer / accept / walk away
    # questions and listening  (nego.open_questions, nego.open_listening)
    ask_noise: float = 0.08  # sd of the noisy reading of an issue weight, before openness
    asks_per_issue: int = 2  # each issue can be asked about this often (each ask is an independent reading)
    max_openness: int = 2  # listening raises openness by 1 per round up to this; reading sd = ask_noise / (1 + openness)
    # aspiration: how much the counterpart's opening level drops (anchor − pressure, never below its reservation)
    flinch_pressure: float = 0.02  # per flinch at a new bid  (a visible reaction to a demand)
    flinch_max: int = 2  # flinches beyond this irritate instead
    reluctance_pressure: float = 0.02  # once, only before the trainee's first offer  (nego.open_reluctance)
    say_no_pressure: float = 0.03  # once, only in answer to the counterpart's first demand  (nego.open_no_to_first_condition)
    authority_pressure: float = 0.02  # first use of "I must check with my director"  (nego.mid_authority)
    authority_max: int = 2  # uses beyond this irritate (the authority stops being credible)
    name_tactic_pressure: float = 0.02  # naming good cop / bad cop while it is played  (nego.close_good_cop_bad_cop)
    max_pressure: float = 0.10  # cap on the sum of all pressure
    # the trainee's concessions as the counterpart perceives them: what the trainee gave up, by its
    # model of the trainee's utility (so a cheap trade on an issue it values is not a "big concession")
    large_step: float = 0.08  # a concession at least this large is "large"
    equal_ratio: float = 0.8  # a step ≥ this × the previous step is "not shrinking"
    push_on_factor: float = 0.7  # e ← e × this after a large, not shrinking concession ("they keep giving: push on")
    large_first: float = 0.2  # a first concession this large also makes the counterpart push on
    limit_signal_factor: float = 1.15  # e ← e × this after a clearly shrinking step (< half the previous): "near their limit"
    # closing  (nego.close_summarize_benefits, nego.close_empathy)
    summary_bonus: float = 0.02  # the next acceptance threshold is lowered by this after summarising the benefits
    empathy_bonus: float = 0.01  # … and by this after empathising (both never below the reservation value)
    # irritation and walking away  (nego.mid_break_deadlock, conflict.interests_not_positions)
    stubborn_eps: float = 0.005  # an offer that improves the counterpart's utility by less than this over the trainee's best is stubborn
    deadlock_after: int = 2  # consecutive stubborn offers that make a deadlock (the counterpart stops conceding)
    walk_hazard: float = 0.06  # probability of walking away after a rejected offer, per irritation point
    max_irritation: int = 4
    # the very first demand  (nego.open_no_to_first_condition)
    nibble_prob: float = 0.3  # accepting the first demand at once invites a follow-on demand with this probability
    # good cop / bad cop  (nego.close_good_cop_bad_cop)
    good_cop_steps: int = 1  # grid steps the good cop asks for on the counterpart's most valued issue
    # bidding
    bid_band: float = 0.03  # the counterpart bids among outcomes within this band above its target utility
    mirror_prior: float = 2.0  # fixed-pie bias: its first guess of the trainee's weights mirrors its own (counts 1 + this·n·w_own)
    model_learning: float = 1.0  # frequency opponent model: weight added to an issue the trainee kept unchanged
    package_learning: float = 2.0  # … for a package (a trade reveals priorities more clearly)


DEFAULT_PARAMS = TacticParams()


def params_table() -> list[tuple[str, object]]:
    """(name, default) for every parameter, in declaration order (docs/NEGOTIATION.md lists them)."""
    return [(f.name, f.default) for f in fields(TacticParams)]

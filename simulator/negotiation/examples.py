"""Ready-made specs after the catalogue's scenario seeds (used by tests, the docs and benchmarks).

NG-1 "He won't sign next year's target": an FMCG dealer at the annual planning meeting.
NG-2 "Father and son": an overseas family distributor; plays good cop / bad cop; exclusivity starts
off the table and can be added to break a deadlock.
The numbers are ours (illustrative), not the course's.
"""

from __future__ import annotations

from simulator.negotiation.spec import CounterpartSpec, NegotiationSpec, NumericIssue, OptionIssue

SUPPORT = ("none", "pos_material", "promoter", "full_campaign")


def annual_plan() -> NegotiationSpec:
    """NG-1: target growth, rebate, payment days, marketing support."""
    return NegotiationSpec(
        issues=(
            NumericIssue("target_growth", 5, 25, 5, company_prefers="high", unit="%"),
            NumericIssue("rebate", 1, 4, 0.5, company_prefers="low", unit="%"),
            NumericIssue("payment_days", 30, 90, 15, company_prefers="low", unit="days"),
            OptionIssue("marketing_support", SUPPORT, company_values=(1.0, 0.8, 0.45, 0.0), counterpart_values=(0.0, 0.3, 0.75, 1.0)),
        ),
        company_weights=(0.4, 0.25, 0.2, 0.15),
        company_reservation=0.35,
        counterpart=CounterpartSpec(weight_alpha=(1.5, 1.5, 1.5, 1.5), reservation=(0.3, 0.45), concession=(0.3, 3.0), anchor=0.95),
        rounds=8,
    )


def father_and_son() -> NegotiationSpec:
    """NG-2: price discount, minimum purchase, marketing support, exclusivity (off the table at first)."""
    return NegotiationSpec(
        issues=(
            NumericIssue("discount", 0, 5, 0.5, company_prefers="low", unit="%"),
            NumericIssue("min_purchase", 100, 300, 25, company_prefers="high", unit="units/quarter"),
            OptionIssue("marketing_support", SUPPORT, company_values=(1.0, 0.8, 0.45, 0.0), counterpart_values=(0.0, 0.3, 0.75, 1.0)),
            OptionIssue("exclusivity", ("none", "region", "country"), company_values=(0.3, 1.0, 0.6), counterpart_values=(0.0, 0.6, 1.0),
                        in_play=False, default="none"),
        ),
        company_weights=(0.35, 0.3, 0.15, 0.2),
        company_reservation=0.3,
        counterpart=CounterpartSpec(weight_alpha=(2.0, 1.5, 1.0, 2.0), reservation=(0.3, 0.45), concession=(0.3, 1.5), anchor=0.95,
                                    good_cop_bad_cop=True, good_cop_at=0.4),
        rounds=9,
    )

"""What the per-decision analysis produces (scoring/analysis.py computes it; reports and the debrief viewer read it).

Plain dataclasses with `to_json`/`from_json` so an analysis can be cached next to a session log.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

Label = Literal["best", "good", "inaccuracy", "mistake", "blunder"]
# Expected points lost against the best option (issue 4): best; good < 5; inaccuracy 5–10; mistake 10–15; blunder ≥ 15.
THRESHOLDS: tuple[tuple[float, Label], ...] = ((5.0, "good"), (10.0, "inaccuracy"), (15.0, "mistake"))
MARKS: dict[Label, str] = {"best": "!", "good": "", "inaccuracy": "?!", "mistake": "?", "blunder": "??"}
GOOD_RESULT = 70.0  # a session total at or above this is "a good result" (grade B or better)


def label_for(loss: float, is_best: bool) -> Label:
    if is_best or loss <= 1e-9:
        return "best"
    for limit, label in THRESHOLDS:
        if loss < limit:
            return label
    return "blunder"


@dataclass
class OptionValue:
    option: str
    text_zh: str
    text_en: str
    expected_total: float  # mean final total over the rollouts
    expected_process: float
    expected_results: float
    p10: float
    p90: float
    ending: str  # the most frequent ending reached
    ending_share: float


@dataclass
class DecisionAnalysis:
    turn: int
    step: str
    chosen: str
    options: list[OptionValue]
    best: str
    loss: float  # expected points lost against the best option
    label: Label
    good_result_reachable_after: bool  # could a good result (≥ GOOD_RESULT) still be expected after this decision?
    known: dict[str, float] = field(default_factory=dict)  # what the trainee could see when deciding (observables)
    week: int = 0

    @property
    def mark(self) -> str:
        return MARKS[self.label]

    def option(self, option_id: str) -> OptionValue:
        return next(o for o in self.options if o.option == option_id)


@dataclass
class SessionAnalysis:
    scenario_id: str
    seed: str
    rollouts: int
    policy: str
    decisions: list[DecisionAnalysis]
    accuracy: float  # 0–100: 100 × mean over decisions of exp(−loss / 10) (chess-style)
    expected_curve: list[float]  # expected final total before decision 1, after 1, after 2, …
    final_total: float  # what the trainee actually scored

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "SessionAnalysis":
        decisions = [
            DecisionAnalysis(**{**d, "options": [OptionValue(**o) for o in d["options"]]}) for d in data["decisions"]
        ]
        return cls(**{**data, "decisions": decisions})

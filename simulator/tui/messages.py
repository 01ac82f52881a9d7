"""Messages: widgets and workers tell their screen, screens tell the app ("messages up").

The app owns navigation and the live game; screens get what they show as constructor arguments
and attributes ("attributes down").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from simulator.tui.game import Game, Library, ScenarioInfo
    from simulator.tui.present import StepView
    from simulator.tui.settings import Settings


# ---------------------------------------------------------------- from workers


@dataclass
class Booted(Message):
    """The slow start-up work is done: settings read, scenarios and unfinished sessions found."""

    settings: "Settings"
    problems: list[str]
    library: "Library"


@dataclass
class BootFailed(Message):
    text: str


@dataclass
class LibraryLoaded(Message):
    library: "Library"


@dataclass
class DecisionRecorded(Message):
    """A decision is in the log; `events` are what it caused, `view` what the screen shows now."""

    events: list[dict[str, Any]]
    view: "StepView"


@dataclass
class DecisionFailed(Message):
    text: str


# ---------------------------------------------------------------- from widgets


@dataclass
class Choose(Message):
    """The trainee picked an option (by number, Enter or a click); a negotiation move brings its
    params (`values=`, `issue=`, `how=`), passed as they are to `Session.choose`."""

    option_id: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class OfferEdited(Message):
    """A value changed in the negotiation table's offer builder (the screen previews the offer)."""


@dataclass
class MovePicked(Message):
    """A move of the negotiation table was picked by a click (its key goes to the screen directly)."""

    move: str


# ---------------------------------------------------------------- from screens to the app


@dataclass
class SettingsChanged(Message):
    settings: "Settings"
    rebuild: bool = False  # the language changed: the screen is rebuilt in it
    highlight: str | None = None  # what the home screen had highlighted (kept across the rebuild)


@dataclass
class OpenBriefing(Message):
    scenario: "ScenarioInfo"


@dataclass
class OpenSession(Message):
    """Resume an unfinished session from its log."""

    path: Path


@dataclass
class GameStarted(Message):
    game: "Game"
    resumed: bool = False


@dataclass
class GameFailed(Message):
    text: str


@dataclass
class OpenEnd(Message):
    pass


@dataclass
class OpenHome(Message):
    pass


@dataclass
class OpenWorkshop(Message):
    """Show the class comparison of the session logs in `folder` (screens/workshop.py); None: the sessions folder."""

    folder: Path | None = None


# ---------------------------------------------------------------- the debrief viewer (screens/debrief.py)


@dataclass
class ViewLoaded(Message):
    """The viewer's log is read and its market replayed (a `scoring.viewer.LogView`)."""

    view: Any


@dataclass
class ViewFailed(Message):
    text: str


@dataclass
class AnalysisProgress(Message):
    done: int
    total: int


@dataclass
class AnalysisDone(Message):
    analyses: list[Any]  # scoring.analysis_types.DecisionAnalysis, one per analysed decision


@dataclass
class OpenDebrief(Message):
    """Open the debrief viewer on a session log."""

    path: Path


@dataclass
class RetryFrom(Message):
    """Start a retry of `path` at decision `turn`, graded against `analysis` (a DecisionAnalysis)."""

    path: Path
    turn: int
    analysis: Any


@dataclass
class RetryStarted(Message):
    game: "Game"

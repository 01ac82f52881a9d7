"""The workshop view: a class's sessions of one scenario and seed side by side, for the projector.

Everything shown comes from scoring.workshop (the same data as `dealersim workshop`); this screen
only lays it out. Reading the logs happens in a worker. Pseudonyms and no leaderboard by default:
`n` and `l` switch names and the ranking on for the moment, never in the saved settings.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, LoadingIndicator, Sparkline, TabbedContent, TabPane

from simulator.i18n import t
from simulator.schema import Lang
from simulator.tui.keys import localize_bindings
from simulator.tui.messages import OpenHome
from simulator.tui.widgets.prose import Prose

TABS = ("ws-wrong", "ws-side", "ws-heat", "ws-curves", "ws-board")
# share of points earned → cell background (red … green), readable with black text on any theme
HEAT_STYLES = ("black on #ffb3ad", "black on #ffd8b0", "black on #fff0a8", "black on #c8ecc9", "black on #93dba0")


class _Loaded(Message):
    def __init__(self, workshop, problem: str = "") -> None:
        super().__init__()
        self.workshop = workshop
        self.problem = problem


class _Pane(Vertical):
    """One tab's content; redrawn (recomposed) when the data or a toggle changes. The tabs
    themselves and the footer stay put: recomposing those races with their own mounting."""

    def __init__(self, owner: "WorkshopScreen", kind: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.owner = owner
        self.kind = kind

    def compose(self) -> ComposeResult:
        yield from self.owner.pane(self.kind)


class WorkshopScreen(Screen):
    BINDINGS = [
        Binding("g", "next_group", "tui_key_ws_group"),
        Binding("n", "toggle_names", "tui_key_ws_names"),
        Binding("l", "toggle_board", "tui_key_ws_board"),
        Binding("r", "reload", "tui_key_ws_reload"),
        Binding("1", "tab(0)", show=False),
        Binding("2", "tab(1)", show=False),
        Binding("3", "tab(2)", show=False),
        Binding("4", "tab(3)", show=False),
        Binding("5", "tab(4)", show=False),
        Binding("escape", "back", "tui_key_back"),
        Binding("q", "app.quit_app", "tui_key_quit"),
    ]

    def __init__(self, folder: Path, lang: Lang, *, scenario_dirs: tuple = (), names: bool = False,
                 leaderboard: bool = False, standalone: bool = False) -> None:
        super().__init__()
        self.folder = Path(folder)
        self.lang = lang
        self.scenario_dirs = scenario_dirs
        self.names = names
        self.leaderboard = leaderboard
        self.standalone = standalone  # opened by `dealersim workshop --view`: escape leaves the app
        self.workshop = None
        self.problem = ""
        self.group_index = 0
        self.tab = TABS[0]
        localize_bindings(self, lang)

    # ------------------------------------------------------------ loading

    def on_mount(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="workshop")
    def _load(self) -> None:
        from scoring.workshop import load_workshop
        from simulator.diagnostics import DiagnosticError

        try:
            self.post_message(_Loaded(load_workshop(self.folder, scenario_dirs=self.scenario_dirs)))
        except DiagnosticError as err:
            self.post_message(_Loaded(None, "\n".join(d.render() for d in err.diagnostics)))

    @on(_Loaded)
    async def _loaded(self, message: _Loaded) -> None:
        self.workshop, self.problem = message.workshop, message.problem
        self.group_index = min(self.group_index, max(0, len(self.workshop.groups) - 1)) if self.workshop else 0
        await self._redraw()

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        lang = self.lang
        yield Label(f"{t('ws_title', lang)} · {self.folder}", id="topbar")
        yield Prose("", id="ws-group")
        with TabbedContent(id="ws-tabs"):
            for kind, title in zip(TABS, ("tui_ws_tab_wrong", "tui_ws_tab_side", "tui_ws_tab_heat", "tui_ws_tab_curves", "tui_ws_tab_board")):
                with TabPane(t(title, lang), id=kind):
                    yield _Pane(self, kind, classes="ws-pane")
        yield Footer()

    async def _redraw(self) -> None:
        ws = self.workshop
        group_line = self._group_line(ws.groups[self.group_index]) if ws and ws.groups else ""
        self.query_one("#ws-group", Prose).update(group_line)
        for pane in self.query(_Pane):
            await pane.recompose()

    def pane(self, kind: str) -> ComposeResult:
        lang = self.lang
        ws = self.workshop
        if ws is None and not self.problem:
            yield LoadingIndicator()
            return
        if ws is None or not ws.groups:
            yield Prose(self.problem or t("tui_ws_empty", lang, folder=str(self.folder)))
            return
        g = ws.groups[self.group_index]
        if kind == "ws-wrong":
            with VerticalScroll():
                yield from self._wrong(g)
        elif kind == "ws-side":
            yield Prose(t("ws_side_legend", lang), classes="ws-caption")
            yield self._side(g)
        elif kind == "ws-heat":
            yield Prose(t("ws_heat_legend", lang), classes="ws-caption")
            yield self._heat(g)
        elif kind == "ws-curves":
            with VerticalScroll():
                yield from self._curves(g)
        else:
            yield from self._board(g)

    def _label(self, s) -> str:
        return s.label(self.names)

    def _group_line(self, g) -> Content:
        lang = self.lang
        n, total = self.group_index + 1, len(self.workshop.groups)
        done = [s.total for s in g.sessions if s.total is not None]
        mean = f"{sum(done) / len(done):.1f}" if done else "—"
        parts = [
            (t("tui_ws_group", lang, n=n, total=total), "bold"),
            f"  {g.name(lang)} · {t('ws_col_seed', lang)} {g.seed} · {t('ws_col_version', lang)} {g.version[:8] or '?'} · ",
            t("tui_ws_group_counts", lang, sessions=len(g.sessions), finished=len(done), mean=mean),
        ]
        if total > 1:
            parts.append((f"  {t('tui_ws_apart', lang)}", "$text-muted"))
        return Content.assemble(*parts)

    def _wrong(self, g):
        lang = self.lang
        problems = g.problems(lang)
        if not problems:
            yield Prose(t("ws_no_problems", lang))
            return
        from scoring.catalogue import load_catalogue

        cat = load_catalogue()
        for x in problems:
            with Vertical(classes="ws-problem"):
                yield Prose(Content.assemble((x.title, "bold"), f"  {x.wrong}/{x.reached} ({x.share * 100:.0f}%)"), classes="ws-problem-title")
                yield Prose(Content.assemble((t("ws_col_common_wrong", lang) + "：" if lang == "zh" else t("ws_col_common_wrong", lang) + ": ", "$error"),
                                             f"{x.common_wrong} ×{x.common_wrong_n}"))
                if x.course:
                    yield Prose(Content.assemble((t("ws_col_course", lang) + ("：" if lang == "zh" else ": "), "$success"), x.course))
                names = [cat.get(p).text("name", lang) if p in cat else p for p in x.principles]
                yield Prose(Content.assemble((t("ws_col_broken", lang) + ("：" if lang == "zh" else ": "), "$text-muted"), "、".join(names) if lang == "zh" else "; ".join(names)))

    def _side(self, g) -> DataTable:
        table = DataTable(id="ws-side-table", zebra_stripes=True, cursor_type="cell")
        table.add_column(t("ws_col_turn", self.lang), key="turn")
        for s in g.sessions:
            table.add_column(self._label(s), key=s.alias)
        for turn in range(1, g.turns + 1):
            cells = [Text(f"D{turn}", style="bold")]
            for s in g.sessions:
                m = s.moves[turn - 1] if turn <= len(s.moves) else None
                if m is None:
                    cells.append(Text(""))
                elif m.wrong:
                    cells.append(Text(f"✗ {m.choice}", style="bold red"))
                else:
                    cells.append(Text(f"{'✓' if m.points > 0 else '·'} {m.choice}", style="green" if m.points > 0 else ""))
            table.add_row(*cells, key=f"D{turn}")
        return table

    def _heat(self, g) -> DataTable:
        from scoring.catalogue import load_catalogue
        from scoring.workshop import heat_text

        cat = load_catalogue()
        table = DataTable(id="ws-heat-table", cursor_type="cell")
        table.add_column(t("ws_col_principle", self.lang), key="principle")
        for s in g.sessions:
            table.add_column(self._label(s), key=s.alias)
        for pid in g.principle_ids(cat):
            name = cat.get(pid).text("name", self.lang) if pid in cat else pid
            cells = [Text(name)]
            for s in g.sessions:
                share = g.heat(pid, s)
                style = "dim" if share is None else HEAT_STYLES[min(4, int(share * 5))]
                cells.append(Text(f" {heat_text(share):>4} ", style=style))
            table.add_row(*cells, key=pid)
        return table

    def _curves(self, g):
        from scoring.workshop import CURVES

        lang = self.lang
        for name in CURVES:
            title = g.curve_title(name)
            yield Label(f"{t(title, lang)} · {t(f'{title}_cap', lang)}", classes="section-title")
            for s in g.sessions:
                data = g.curve(s, name)
                with Horizontal(classes="ws-curve"):
                    yield Label(self._label(s), classes="ws-curve-who")
                    yield Sparkline(data or [0.0], summary_function=max, classes="ws-spark")
                    yield Label(f"{data[-1]:.1f}" if data else "—", classes="ws-curve-last")

    def _board(self, g):
        lang = self.lang
        if not self.leaderboard:
            yield Prose(t("tui_ws_board_off", lang))
            return
        from scoring.workshop import _outcome

        table = DataTable(id="ws-board-table", zebra_stripes=True, cursor_type="row")
        for key in ("ws_col_rank", "ws_col_trainee", "ws_col_total", "ws_col_grade", "ws_col_process", "ws_col_results", "ws_col_ending"):
            table.add_column(t(key, lang), key=key)
        for i, s in enumerate(g.ranking(), 1):
            card = s.card or {}
            table.add_row(str(i), self._label(s), f"{s.total:.1f}", str(card.get("grade", "")), f"{float(card.get('process', 0)):.0f}",
                          f"{float(card.get('results', 0)):.0f}", _outcome(s, lang))
        yield table

    # ------------------------------------------------------------ keys

    def _remember_tab(self) -> None:
        tabs = self.query(TabbedContent)
        if tabs:
            self.tab = tabs.first().active or self.tab

    async def action_next_group(self) -> None:
        if self.workshop and len(self.workshop.groups) > 1:
            self._remember_tab()
            self.group_index = (self.group_index + 1) % len(self.workshop.groups)
            await self._redraw()

    async def action_toggle_names(self) -> None:
        self._remember_tab()
        self.names = not self.names
        await self._redraw()

    async def action_toggle_board(self) -> None:
        self._remember_tab()
        self.leaderboard = not self.leaderboard
        await self._redraw()
        if self.leaderboard:
            self.action_tab(TABS.index("ws-board"))

    def action_reload(self) -> None:
        self._remember_tab()
        self._load()

    def action_tab(self, index: int) -> None:
        tabs = self.query(TabbedContent)
        if tabs and 0 <= index < len(TABS):
            tabs.first().active = TABS[index]
            self.tab = TABS[index]

    def action_back(self) -> None:
        if self.standalone:
            self.app.exit(None)
        else:
            self.post_message(OpenHome())

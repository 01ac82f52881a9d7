"""The `dealersim` command. Every user error is rendered here, once, as a diagnostic; never a traceback."""

from __future__ import annotations

import importlib
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from simulator.diagnostics import Diagnostic, DiagnosticError, has_errors

if TYPE_CHECKING:
    from simulator.schema import Lang, Scenario

# The game's first frame must not wait for pydantic, numpy and the engine (docs/PERFORMANCE.md):
# this module imports only click and the diagnostics; the rest is imported by the command that
# needs it. These names stand in for the functions and classes until they are first used.


def _lazy(module: str, name: str) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call


class _LazyClass:
    """A class imported on first use of one of its attributes (`RecordedSession.start`)."""

    def __init__(self, module: str, name: str):
        self._where = (module, name)

    def __getattr__(self, attr: str) -> Any:
        module, name = self._where
        return getattr(getattr(importlib.import_module(module), name), attr)


class _PolicyChoice(click.Choice):
    """click.Choice of simulator.policy.POLICIES, imported when the choices are first read."""

    def __init__(self) -> None:
        super().__init__(())

    @property  # type: ignore[override]
    def choices(self) -> tuple[str, ...]:
        from simulator.policy import POLICIES

        return tuple(POLICIES)

    @choices.setter
    def choices(self, value: Any) -> None:
        pass


session_observers = _lazy("scoring", "session_observers")
default_lang = _lazy("simulator.i18n", "default_lang")
t = _lazy("simulator.i18n", "t")
discover = _lazy("simulator.library", "discover")
resolve = _lazy("simulator.library", "resolve")
load_scenario = _lazy("simulator.loader", "load_scenario")
scenario_files = _lazy("simulator.loader", "scenario_files")
make_policy = _lazy("simulator.policy", "make_policy")
read_log = _lazy("simulator.record", "read_log")
RecordedSession = _LazyClass("simulator.recorded", "RecordedSession")
default_log_path = _lazy("simulator.recorded", "default_log_path")
fallback_folder = _lazy("simulator.recorded", "fallback_folder")
verify_log = _lazy("simulator.recorded", "verify_log")
text_in = _lazy("simulator.schema", "text_in")
describe = _lazy("simulator.transcript", "describe")
POLICY = _PolicyChoice()

LANG = click.Choice(["zh", "en"])
MODE = click.Choice(["coaching", "exam"])


def _catalogue():
    from scoring.catalogue import load_catalogue

    return load_catalogue()


def _principles() -> list[str]:
    return _catalogue().ids


def sessions_dir() -> Path:
    return Path(os.environ.get("DEALERSIM_SESSIONS", "sessions"))


def _err(text: str) -> None:
    click.echo(text, err=True)


def _render(diags: list[Diagnostic]) -> None:
    for d in diags:
        _err(d.render())


def _load(name: str, scenarios: tuple[str, ...]):
    principles = _principles()
    path = resolve(name, scenarios, principles)
    result = load_scenario(path, principles)
    if not result.ok:
        raise DiagnosticError(result.diagnostics)
    return result.loaded


def _crash_report(exc: BaseException) -> Path:
    import tempfile
    import traceback

    folder = Path(tempfile.gettempdir())
    path = folder / f"dealersim-crash-{datetime.now().strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.txt"
    path.write_text("".join(traceback.format_exception(exc)) + f"\nargv: {sys.argv}\n", "utf-8")
    return path


class Group(click.Group):
    """Turns click's usage errors into diagnostics with a stable code."""

    def main(self, *args, **kwargs):  # type: ignore[override]
        kwargs["standalone_mode"] = False
        try:
            rv = super().main(*args, **kwargs)
            sys.exit(rv if isinstance(rv, int) else 0)
        except click.exceptions.NoArgsIsHelpError as err:
            click.echo(err.ctx.get_help() if err.ctx else "")
            sys.exit(0)
        except click.UsageError as err:
            cmd = err.ctx.command_path if err.ctx else "dealersim"
            _err(Diagnostic.make("DS0603", err.format_message(), f"run `{cmd} --help`").render())
            sys.exit(2)
        except click.exceptions.Exit as err:
            sys.exit(err.exit_code)
        except click.Abort:
            _err("aborted")
            sys.exit(130)
        except DiagnosticError as err:
            _render(err.diagnostics)
            sys.exit(1)
        except KeyboardInterrupt:
            _err("interrupted")
            sys.exit(130)
        except Exception as exc:  # noqa: BLE001 — the last line of defence: a bug must not show a traceback
            report = _crash_report(exc)
            _err(Diagnostic.make("DS0900", f"dealersim hit an internal error: {type(exc).__name__}: {exc}", f"session logs are safe; please send {report} to the maintainers").render())
            sys.exit(70)


@click.group(cls=Group, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--scenarios", "scenario_dirs", multiple=True, type=click.Path(file_okay=False), help="Extra folder of scenarios (repeatable).")
@click.option("--lang", type=LANG, default=None, help="zh or en (default: from the locale, then as last chosen in the game).")
@click.option("--mode", type=MODE, default=None, help="coaching (feedback after each decision) or exam (feedback at the end).")
@click.option("--plain", is_flag=True, help="Line-mode game instead of the full-screen one (automatic when not in a terminal).")
@click.option("--sessions", "sessions_folder", type=click.Path(file_okay=False), default=None, help="Folder for session logs (default: $DEALERSIM_SESSIONS, else ./sessions).")
@click.version_option(package_name="dealersim")
@click.pass_context
def cli(ctx: click.Context, scenario_dirs: tuple[str, ...], lang: str | None, mode: str | None, plain: bool, sessions_folder: str | None) -> int:
    """dealersim — role-play the course's dealer-management situations against a seeded market.

    Without a command: the game (full-screen in a terminal, line mode otherwise)."""
    if sessions_folder:  # one setting for every command (and the game) of this run
        os.environ["DEALERSIM_SESSIONS"] = sessions_folder
    ctx.ensure_object(dict)
    ctx.obj["scenario_dirs"] = scenario_dirs
    ctx.obj["lang"] = lang
    ctx.obj["mode"] = mode
    ctx.obj["plain"] = plain
    if ctx.invoked_subcommand is None:
        if _use_tui(plain):
            return _run_tui(scenario_dirs=scenario_dirs, lang=lang, mode=mode)
        return _pick_and_play(scenario_dirs, lang or default_lang())
    return 0


def _use_tui(plain: bool) -> bool:
    """The full-screen game, unless line mode was asked for or there is no terminal to draw on."""
    return not plain and sys.stdin.isatty() and sys.stdout.isatty()


def _run_tui(**options) -> int:
    """Run the Textual game; afterwards print where the session is and how to continue it."""
    from simulator.tui.app import DealersimApp, outcome_message

    app = DealersimApp(sessions=sessions_dir(), **options)
    try:
        outcome = app.run()
    finally:
        app.close_game()
    message = outcome_message(outcome or app.outcome())
    if message:
        click.echo(message)
    return app.return_code or 0


def _pick_and_play(scenario_dirs: tuple[str, ...], lang: Lang) -> int:
    entries = [e for e in discover(scenario_dirs, _principles()) if e.ok]
    click.echo(t("app_title", lang))
    if not entries:
        click.echo(t("no_scenarios", lang))
        return 1
    for i, e in enumerate(entries, 1):
        sc = e.result.loaded.scenario
        click.echo(f"  {i}. {text_in(sc.title, lang)}  ({t('difficulty', lang, n=sc.difficulty)}, {t('minutes', lang, n=sc.minutes)})")
    while True:
        try:
            answer = input(t("pick_scenario", lang) + " ").strip()
        except EOFError:
            return 0
        if answer.lower() in ("q", "quit"):
            return 0
        if answer.isdigit() and 1 <= int(answer) <= len(entries):
            break
    try:
        name = input(t("ask_name", lang) + " ").strip()
    except EOFError:
        name = ""
    loaded = entries[int(answer) - 1].result.loaded
    seed = int(datetime.now().strftime("%H%M%S"))
    return _interactive(loaded, seed, lang, name, None)


def _new_log(loaded, seed, lang: Lang, name: str, log: str | None) -> RecordedSession:
    name = name.encode("utf-8", "replace").decode("utf-8")  # odd terminal input (lone surrogates) becomes '?'
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = Path(log) if log else default_log_path(sessions_dir(), loaded.scenario.id, name, seed, stamp)
    # a refused folder (read-only, disk full) moves the session to a temporary folder, and the trainee is told
    return RecordedSession.start(loaded, seed, lang, path, trainee=name, catalogue_version=_catalogue().version, observers=session_observers, fallback=fallback_folder())


def _interactive(loaded, seed, lang: Lang, name: str, log: str | None) -> int:
    from simulator.plain import run_plain

    recorded = _new_log(loaded, seed, lang, name, log)
    try:
        run_plain(recorded)
    finally:
        recorded.close()
    return 0


@cli.command()
@click.argument("scenario")
@click.option("--seed", default="0", show_default=True, help="A number or a workshop code; the same seed gives the same market.")
@click.option("--lang", type=LANG, default=None)
@click.option("--name", default="", help="Trainee name or pseudonym for the log.")
@click.option("--log", type=click.Path(dir_okay=False), default=None, help="Where to write the session log.")
@click.option("--choices", default=None, help="Comma-separated option ids or numbers: play headless. Negotiation moves: ask=rebate, 'package:rebate=2.5;payment_days=45', ~course (docs/NEGOTIATION.md).")
@click.option("--policy", type=POLICY, default=None, help="Let a policy play headless.")
@click.option("--plain", is_flag=True, help="Line-mode game (for scripts and screen readers).")
@click.option("--mode", type=MODE, default=None, help="Full-screen game: coaching (feedback after each decision) or exam.")
@click.option("--quiet", is_flag=True, help="Headless: print only the log path.")
@click.pass_context
def play(ctx, scenario, seed, lang, name, log, choices, policy, plain, mode, quiet) -> int:
    """Play SCENARIO (a file or a scenario id): full-screen in a terminal, or headless with --choices/--policy."""
    lang_given = lang or ctx.obj["lang"]
    lang = lang_given or default_lang()
    loaded = _load(scenario, ctx.obj["scenario_dirs"])
    seed_value: int | str = int(seed) if seed.isdigit() else seed
    if choices is None and policy is None:
        if _use_tui(plain or ctx.obj["plain"]):
            seed_given = ctx.get_parameter_source("seed") != click.core.ParameterSource.DEFAULT
            return _run_tui(
                scenario_dirs=ctx.obj["scenario_dirs"],
                lang=lang_given,
                mode=mode or ctx.obj["mode"],
                start=loaded,
                seed=seed_value if seed_given else None,
                trainee=name or None,
                log=Path(log) if log else None,
            )
        return _interactive(loaded, seed_value, lang, name, log)
    recorded = _new_log(loaded, seed_value, lang, name, log)
    try:
        _headless(recorded, choices, policy, quiet)
    finally:
        recorded.close()
    return 0


def _headless(recorded: RecordedSession, choices: str | None, policy: str | None, quiet: bool) -> None:
    from simulator.plain import farewell_unsaved, report_notices, show

    def out(line: str) -> None:
        if not quiet:
            click.echo(line)

    def warn(line: str) -> None:  # the log moved or waits in memory: said even with --quiet
        click.echo(line, err=True)

    session = recorded.session
    if not recorded.events or recorded.events[0]["kind"] == "start":
        show(recorded.events, recorded, out)
    report_notices(recorded, warn)
    if choices is not None:
        for option in [c.strip() for c in choices.split(",") if c.strip()]:
            if session.finished:
                raise DiagnosticError(Diagnostic.make("DS0508", f"the scenario ended before choice '{option}'", "remove the extra choices"))
            if option.startswith("~"):  # ~course: the rest of this negotiation played by a headless strategy
                for move in _strategy_moves(session, option[1:]):
                    show(recorded.choose(move), recorded, out)
                    report_notices(recorded, warn)
                continue
            show(recorded.choose(option), recorded, out)
            report_notices(recorded, warn)
    else:
        pick = make_policy(policy, session.entropy)
        while not session.finished:
            show(recorded.choose(pick(session)), recorded, out)
            report_notices(recorded, warn)
    farewell_unsaved(recorded, warn)
    lang = session.lang
    if not session.finished:
        click.echo(t("resume_hint", lang, path=recorded.path))
    else:
        _print_scorecard(recorded, quiet)
        click.echo(t("log_saved", lang, path=recorded.path))


def _strategy_moves(session, name: str):
    """`~course`, `~greedy`, … in --choices: a negotiation's remaining moves by a headless strategy."""
    import numpy as np

    from simulator.diagnostics import did_you_mean
    from simulator.market import stream_key
    from simulator.negotiation.play import STRATEGIES, play_moves

    if name not in STRATEGIES:
        raise DiagnosticError(Diagnostic.make("DS0603", f"unknown negotiation strategy '~{name}'{did_you_mean(name, STRATEGIES)}", f"strategies: {', '.join('~' + s for s in STRATEGIES)}"))
    if not session.negotiating:
        raise DiagnosticError(Diagnostic.make("DS0603", f"'~{name}' plays a negotiation's moves, but step '{session.step_id}' is not a negotiation", "use it where the story reaches a negotiation step"))
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(session.entropy, spawn_key=(stream_key("policy"), session.turn))))
    return play_moves(session, name, rng)


def _print_scorecard(recorded: RecordedSession, quiet: bool) -> None:
    from scoring.report import scorecard_from_events, scorecard_lines

    card, items = scorecard_from_events(recorded.events)
    if card is not None and not quiet:
        for line in scorecard_lines(card, items, recorded.session.lang):
            click.echo(line)


@cli.command()
@click.argument("log", type=click.Path(dir_okay=False))
@click.option("--choices", default=None, help="Comma-separated choices to continue with headless.")
@click.option("--policy", type=POLICY, default=None)
@click.option("--scenario", type=click.Path(dir_okay=False), default=None, help="The scenario file, if it has moved.")
@click.option("--plain", is_flag=True, help="Continue in line mode instead of the full-screen game.")
@click.option("--mode", type=MODE, default=None, help="Full-screen game: coaching (feedback after each decision) or exam.")
@click.option("--quiet", is_flag=True)
@click.pass_context
def resume(ctx, log, choices, policy, scenario, plain, mode, quiet) -> int:
    """Continue an interrupted session exactly where it stopped."""
    recorded = RecordedSession.resume(Path(log), scenario_path=Path(scenario) if scenario else None, principles=_principles(), observers=session_observers, fallback=fallback_folder())
    if choices is None and policy is None and not recorded.session.finished and _use_tui(plain or ctx.obj["plain"]):
        try:
            return _run_tui(scenario_dirs=ctx.obj["scenario_dirs"], mode=mode or ctx.obj["mode"], resume=recorded)
        finally:
            recorded.close()
    try:
        session = recorded.session
        if not quiet:
            click.echo(t("resumed", session.lang, turn=session.turn))
        if session.finished:
            click.echo(t("log_saved", session.lang, path=recorded.path))
        elif choices is None and policy is None:
            from simulator.plain import run_plain, show

            show([e for e in recorded.events if e["kind"] == "step"][-1:], recorded, click.echo)
            run_plain(recorded, intro=False)
        else:
            _headless(recorded, choices, policy, quiet)
    finally:
        recorded.close()
    return 0


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: everyone on the network).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--public-url", default=None, help="The address browsers use, if it is not the one they connect to (a proxy).")
@click.pass_context
def serve(ctx, host, port, public_url) -> int:
    """Serve the game to web browsers: one game per visitor, no internet needed."""
    from simulator.tui.serve import serve as serve_game

    try:
        serve_game(ctx.obj["scenario_dirs"], sessions_dir(), ctx.obj["lang"], host, port, public_url, mode=ctx.obj["mode"], echo=click.echo)
    except OSError as err:
        raise DiagnosticError(
            Diagnostic.make("DS0603", f"cannot serve on {host}:{port}: {err.strerror or err}", "choose another --port, or stop what is using it")
        ) from None
    return 0


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def check(paths, fmt, strict) -> int:
    """Check scenario files (or folders of them) and report every problem with its place."""
    principles = _principles()
    files = scenario_files(list(paths))
    report = []
    all_diags: list[Diagnostic] = []
    for f in files:
        result = load_scenario(f, principles)
        diags = result.diagnostics
        if strict:
            diags = [d if d.severity == "error" else Diagnostic(**{**d.to_json(), "severity": "error"}) for d in diags]
        all_diags += diags
        report.append({"file": str(f), "ok": not has_errors(diags), "diagnostics": [d.to_json() for d in diags]})
    errors = sum(d.severity == "error" for d in all_diags)
    warnings = len(all_diags) - errors
    if fmt == "json":
        click.echo(json.dumps({"files": report, "errors": errors, "warnings": warnings}, ensure_ascii=False, indent=2))
    else:
        for d in all_diags:
            click.echo(d.render())
        click.echo(f"{len(files)} file(s) checked: {errors} error(s), {warnings} warning(s)")
    if not files:
        _err(Diagnostic.make("DS0001", "no scenario files found", "name .toml files or folders that contain them").render())
        return 1
    return 1 if errors else 0


@cli.command()
def schema() -> int:
    """Print the JSON Schema of scenario files (for editors)."""
    from simulator.jsonschema import scenario_json_schema

    click.echo(json.dumps(scenario_json_schema(), ensure_ascii=False, indent=2))
    return 0


@cli.command()
@click.argument("log", type=click.Path(dir_okay=False))
@click.option("--verify", is_flag=True, help="Re-simulate and compare; exit 0 only for PASS.")
@click.option("--scenario", type=click.Path(dir_okay=False), default=None, help="The scenario file, if it has moved.")
@click.option("--weeks/--no-weeks", default=True, help="Show the market's weekly draws.")
def replay(log, verify, scenario, weeks) -> int:
    """Show what a session log recorded; with --verify, prove it by re-simulating."""
    if verify:
        verdict = verify_log(Path(log), scenario_path=Path(scenario) if scenario else None, principles=_principles(), observers=session_observers)
        if verdict.ok:
            click.echo(verdict.message)
            return 0
        click.echo(f"FAIL: {verdict.message}")
        _render(verdict.diagnostics)
        return 1
    contents = read_log(Path(log))
    _render(contents.diagnostics)
    if contents.header is None:
        return 1
    h = contents.header
    lang: Lang = h.get("lang", "en") if h.get("lang") in ("zh", "en") else "en"
    click.echo(t("replay_header", lang, scenario=h.get("scenario_id"), seed=h.get("seed", h.get("seed_entropy")), language=lang, trainee=h.get("trainee") or "-"))
    # the log does not say what the goods are counted in: the scenario file does, when it can be found
    # (as the debrief finds it); without it the lines say 件 / units
    from scoring.report import find_scenario
    from simulator.transcript import goods_unit

    found, _, _ = find_scenario(h, Path(scenario) if scenario else None, _principles())
    unit = goods_unit(found.scenario.market.unit if found is not None else None, lang)
    for record in contents.records:
        for line in describe({"kind": record.kind, "data": record.data}, lang, weeks=weeks, unit=unit):
            click.echo(line)
    return 1 if not contents.ok else 0


@cli.command(name="list")
@click.option("--lang", type=LANG, default=None)
@click.pass_context
def list_(ctx, lang) -> int:
    """List the scenarios that can be played."""
    lang = lang or ctx.obj["lang"] or default_lang()
    for e in discover(ctx.obj["scenario_dirs"], _principles()):
        if e.ok:
            sc: Scenario = e.result.loaded.scenario
            click.echo(f"{sc.id:32} {text_in(sc.title, lang)}  ({t('difficulty', lang, n=sc.difficulty)})")
        else:
            click.echo(f"{str(e.path):32} ✗ {len([d for d in e.result.diagnostics if d.severity == 'error'])} error(s): dealersim check {e.path}")
    return 0


@cli.command()
@click.option("--lang", type=LANG, default=None)
@click.pass_context
def principles(ctx, lang) -> int:
    """List the course principles that scenarios can score."""
    lang = lang or ctx.obj["lang"] or default_lang()
    cat = _catalogue()
    for p in cat.principles:
        click.echo(f"{p.id:40} {getattr(p.name, lang)}")
    return 0


# ---------------------------------------------------------------- instructor tools: explore, test, new


def _seed_list(seed: str, count: int) -> list[int | str]:
    """SEED, SEED+1, … (a workshop code: CODE, CODE-2, CODE-3, …)."""
    if seed.isdigit():
        return [int(seed) + i for i in range(count)]
    return [seed] + [f"{seed}-{i + 1}" for i in range(1, count)]


@cli.command(name="explore")
@click.argument("scenario")
@click.option("--seed", default="0", show_default=True, help="The market seed the paths are played with.")
@click.option("--seeds", "n_seeds", type=click.IntRange(1, 1000), default=1, show_default=True, help="Explore this many seeds: SEED, SEED+1, …")
@click.option("--max-paths", type=click.IntRange(1, 1_000_000), default=1000, show_default=True, help="Per seed: every path if there are at most this many, else this many random playthroughs.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--graph", type=click.Choice(["mermaid"]), default=None, help="The static branch graph: printed instead of the report, or written to --out as well as it.")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="File to write the --graph to.")
@click.option("--lang", type=LANG, default=None, help="Language of the step titles in the graph.")
@click.pass_context
def explore_cmd(ctx, scenario, seed, n_seeds, max_paths, fmt, graph, out, lang) -> int:
    """Play every path through SCENARIO (or a seeded sample): coverage, unreached steps, dead ends, endings."""
    from simulator import explore as explorer
    from simulator.toml_positions import key_positions

    lang = lang or ctx.obj["lang"] or "en"
    principles = _principles()
    path = resolve(scenario, ctx.obj["scenario_dirs"], principles)
    result = load_scenario(path, principles, tolerate=explorer.PLAYABLE_ERRORS)
    if not result.ok:
        raise DiagnosticError(result.diagnostics)
    loaded = result.loaded
    if graph and not out:
        click.echo(explorer.mermaid(loaded.scenario, lang), nl=False)
        return 0
    if graph:
        Path(out).write_text(explorer.mermaid(loaded.scenario, lang), "utf-8")
    positions = key_positions(path.read_text("utf-8-sig"))
    report = explorer.explore(loaded, _seed_list(seed, n_seeds), max_paths=max_paths, positions=positions)
    # the story-graph errors the loader let through, then what playing found (without repeats)
    seen = {(d.code, d.line) for d in report.diagnostics}
    static = [d for d in loaded.diagnostics if d.code in explorer.PLAYABLE_ERRORS and (d.code, d.line) not in seen]
    diags = static + report.diagnostics
    if fmt == "json":
        data = report.to_json()
        data["diagnostics"] = [d.to_json() for d in diags]
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        for line in explorer.render_text(report):
            click.echo(line)
        for d in diags:
            click.echo(d.render())
        if graph:
            click.echo(f"branch graph written to {out}")
    return 1 if has_errors(diags) else 0


@cli.command(name="test")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("-q", "--quiet", is_flag=True, help="Print only failures and the summary.")
def test_cmd(paths, quiet) -> int:
    """Run playthrough tests (*.test.toml): files, folders, or scenarios next to them (default: scenarios/)."""
    from simulator.library import shipped_dir
    from simulator.playtest import load_tests, run_tests, test_files

    if not paths:
        paths = ("scenarios",) if Path("scenarios").is_dir() else (str(shipped_dir()),)
    files = test_files(paths)
    if not files:
        raise DiagnosticError(Diagnostic.make("DS0001", f"no playthrough tests (*.test.toml) under {', '.join(paths)}", "write one next to the scenario: <name>.test.toml (docs/AUTHORING.md#playthrough-tests)"))
    principles = _principles()
    passed = failed = broken = 0
    for f in files:
        tests = load_tests(f, principles)
        for d in tests.diagnostics:
            click.echo(d.render())
        if not tests.ok:
            broken += 1
            continue
        for case in run_tests(tests):
            if case.passed:
                passed += 1
                if not quiet:
                    click.echo(f"PASS {case.file}: {case.name} (seed {case.seed})")
            else:
                failed += 1
                click.echo(f"FAIL {case.file}: {case.name} (seed {case.seed})")
                for d in case.failures:
                    click.echo(d.render())
    summary = f"{passed + failed} test(s): {passed} passed, {failed} failed"
    if broken:
        summary += f"; {broken} file(s) could not be run"
    click.echo(summary)
    return 1 if failed or broken else 0


def _template(name: str) -> str:
    from importlib import resources

    return resources.files("simulator.data").joinpath("templates", name).read_text("utf-8")


def _sanitise_name(name: str) -> str:
    import re

    clean = re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")
    if clean and not clean[0].isalpha():
        clean = "s_" + clean
    return clean[:40].rstrip("_")


@cli.command(name="new")
@click.argument("family")
@click.argument("name")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None, help="Folder to write to (default: scenarios/FAMILY/).")
def new_cmd(family, name, out_dir) -> int:
    """Write a commented bilingual template scenario FAMILY.NAME and its playthrough test."""
    import os
    import tomllib

    from simulator.diagnostics import did_you_mean
    from simulator.schema import FAMILIES

    if family not in FAMILIES:
        raise DiagnosticError(Diagnostic.make("DS0603", f"unknown family '{family}'{did_you_mean(family, FAMILIES)}", f"families: {', '.join(FAMILIES)}"))
    clean = _sanitise_name(name)
    if not clean:
        raise DiagnosticError(Diagnostic.make("DS0603", f"'{name}' has no letters a–z to make a scenario name from", "use English or pinyin words, e.g. quarter_end or jimo_yahuo"))
    folder = Path(out_dir) if out_dir else Path("scenarios") / family
    target, test_target = folder / f"{clean}.toml", folder / f"{clean}.test.toml"
    for p in (target, test_target):
        if p.exists():
            raise DiagnosticError(Diagnostic.make("DS0604", f"{p} already exists; dealersim new never overwrites a file", "choose another NAME, or --out another folder"))
    families = tomllib.loads(_template("families.toml"))
    schema_file = Path(__file__).resolve().parents[1] / "docs" / "scenario.schema.json"
    folder.mkdir(parents=True, exist_ok=True)
    schema_line = f"#:schema {Path(os.path.relpath(schema_file, folder.resolve())).as_posix()}\n" if schema_file.is_file() else ""
    values = {"id": f"{family}.{clean}", "family": family, "name": clean, "path": target.as_posix(), "test_path": test_target.as_posix(), **families[family]}
    scenario_template = values.pop("template", "scenario.toml")
    test_template = values.pop("test_template", "scenario.test.toml")
    for template, dest, head in ((scenario_template, target, schema_line), (test_template, test_target, "")):
        text = _template(template)
        for key, value in values.items():
            text = text.replace("{{" + key + "}}", str(value))
        with open(dest, "x", encoding="utf-8") as fh:  # "x": never overwrite, even in a race
            fh.write(head + text)
    if clean != name:
        click.echo(f"name '{name}' written as '{clean}' (lower-case letters, digits and _)")
    click.echo(f"wrote {target}\nwrote {test_target}")
    click.echo(f"next: edit it, then `dealersim check --strict {target}` and `dealersim test {test_target}` (guide: docs/AUTHORING.md)")
    return 0


@cli.command(name="debrief")
@click.argument("log", type=click.Path(dir_okay=False))
@click.option("--md", "md_path", type=click.Path(dir_okay=False), default=None, help="Write the Markdown report to this file.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), default=None, help="Write the HTML report (one self-contained file, charts inline).")
@click.option("--lang", type=LANG, default=None, help="Report language (default: the session's).")
@click.option("--rollouts", type=click.IntRange(0, 10_000), default=32, show_default=True, help="Playouts per option for the per-decision analysis; 0 skips it.")
@click.option("--scenario", type=click.Path(dir_okay=False), default=None, help="The scenario file, if it has moved.")
@click.pass_context
def debrief_cmd(ctx, log, md_path, html_path, lang, rollouts, scenario) -> int:
    """After-action review of a session LOG: Markdown to stdout, or --md/--html files."""
    from scoring.report import debrief_html, debrief_markdown, load_debrief, write_report

    def analyse(path: Path, **kwargs):
        try:
            from scoring.analysis import analyse_log
        except ImportError as exc:
            raise DiagnosticError(Diagnostic.make("DS0900", f"the per-decision analysis is not available: {exc}", "the report is written without it")) from None
        try:
            return analyse_log(path, **kwargs)
        except DiagnosticError:
            raise
        except Exception as exc:  # noqa: BLE001 — a bug in the analysis must not cost the instructor the report
            report = _crash_report(exc)
            raise DiagnosticError(Diagnostic.make("DS0900", f"the per-decision analysis hit an internal error: {type(exc).__name__}: {exc}",
                                                  f"the report is written without it; please send {report} to the maintainers")) from None

    d = load_debrief(Path(log), rollouts=rollouts, scenario_path=Path(scenario) if scenario else None, analyse=analyse)
    _render(d.diagnostics)
    _render(d.analysis_problem)
    lang = lang or ctx.obj["lang"] or d.lang
    if md_path is None and html_path is None:
        click.echo(debrief_markdown(d, lang), nl=False)
    for path, render in ((md_path, debrief_markdown), (html_path, debrief_html)):
        if path is not None:
            write_report(Path(path), render(d, lang), Path(log))
            click.echo(t("report_written", lang, path=path))
    return 1 if d.status == "damaged" or d.analysis_problem else 0


@cli.command(name="view")
@click.argument("log", type=click.Path(dir_okay=False))
@click.option("--rollouts", type=click.IntRange(0, 10_000), default=32, show_default=True, help="Playouts per option for the per-decision analysis; 0 skips it (and retry).")
@click.pass_context
def view_cmd(ctx, log, rollouts) -> int:
    """Step through a session LOG in the full-screen debrief viewer; retry from any analysed decision.

    Without a terminal it prints the Markdown debrief, as `dealersim debrief LOG` does."""
    from simulator.record import read_log

    contents = read_log(Path(log))
    if contents.header is None:
        raise DiagnosticError(contents.diagnostics or [Diagnostic.make("DS0502", f"{log} is not a session log")])
    if not _use_tui(ctx.obj["plain"]):
        return ctx.invoke(debrief_cmd, log=log, md_path=None, html_path=None, lang=None, rollouts=rollouts, scenario=None)
    return _run_tui(scenario_dirs=ctx.obj["scenario_dirs"], lang=ctx.obj["lang"], mode=ctx.obj["mode"], view=Path(log), rollouts=rollouts)


@cli.command(name="workshop")
@click.argument("folder", type=click.Path(), default=None, required=False)
@click.option("--html", "html_path", type=click.Path(dir_okay=False), default=None, help="Write the comparison as one self-contained HTML file (charts inline).")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), default=None, help="Write one row per session for a spreadsheet.")
@click.option("--lang", type=LANG, default=None)
@click.option("--names", is_flag=True, help="Show trainees' names instead of pseudonyms (T01, T02, …).")
@click.option("--leaderboard", is_flag=True, help="Add a ranking by total score to each group.")
@click.option("--view", is_flag=True, help="Open the comparison in the full-screen game instead.")
@click.pass_context
def workshop_cmd(ctx, folder, html_path, csv_path, lang, names, leaderboard, view) -> int:
    """Compare a class's sessions in FOLDER (default: the sessions folder), grouped by scenario version and seed."""
    from scoring.report import write_report
    from scoring.workshop import load_workshop, workshop_csv, workshop_html, workshop_markdown

    folder = Path(folder) if folder else sessions_dir()
    lang = lang or ctx.obj["lang"] or default_lang()
    if view:
        return _run_tui(lang=lang, workshop=str(folder), workshop_names=names, workshop_leaderboard=leaderboard, scenario_dirs=ctx.obj["scenario_dirs"])
    ws = load_workshop(folder, scenario_dirs=ctx.obj["scenario_dirs"])
    for path, diags in ws.unreadable:
        _render(diags)
    if html_path is None and csv_path is None:
        click.echo(workshop_markdown(ws, lang, names=names, leaderboard=leaderboard), nl=False)
    if html_path is not None:
        write_report(Path(html_path), workshop_html(ws, lang, names=names, leaderboard=leaderboard), folder)
        click.echo(t("ws_written", lang, path=html_path))
    if csv_path is not None:
        write_report(Path(csv_path), workshop_csv(ws, names=names), folder)
        click.echo(t("ws_written", lang, path=csv_path))
    return 0


@cli.command(name="balance")
@click.argument("scenario")
@click.option("-n", "n", type=click.IntRange(1, 1_000_000), default=10_000, show_default=True, help="Runs per policy (run i plays seed SEED+i).")
@click.option("--policies", default="random,course,greedy", show_default=True, help="Comma-separated: random, course, greedy, first, second, … or fixed:K.")
@click.option("--fixed-n", type=click.IntRange(0, 1_000_000), default=None, help="Runs of each fixed-option check (always option 1, 2, …); default min(n, 1000); 0 skips them.")
@click.option("--jobs", type=click.IntRange(0, 256), default=1, show_default=True, help="Worker processes (0: one per CPU). The report is the same for any number.")
@click.option("--seed", default="0", show_default=True, help="First market seed (a number or a workshop code).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--lang", type=LANG, default=None, help="Language of the step and choice texts shown (default: en).")
@click.option("--runs", "all_runs", is_flag=True, help="With --format json: every run as well, with its replay command.")
@click.pass_context
def balance_cmd(ctx, scenario, n, policies, fixed_n, jobs, seed, fmt, lang, all_runs) -> int:
    """Play SCENARIO n times per policy: score spread, endings, best and worst paths, blunders, flags."""
    import time

    from scoring.balance import balance, parse_policies, render_text

    lang = lang or ctx.obj["lang"] or "en"
    names = parse_policies(policies)  # a misspelt policy is reported before anything is played
    loaded = _load(scenario, ctx.obj["scenario_dirs"])
    seed_value: int | str = int(seed) if seed.strip().isdigit() else seed.strip()
    jobs = jobs or os.cpu_count() or 1
    show_bar = fmt == "text" and sys.stderr.isatty()
    started = time.perf_counter()

    drawn = [0.0]

    def bar(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - drawn[0] < 0.1 and 0 < done < total:  # redraw ten times a second at most
            return
        drawn[0] = now
        width = 30
        filled = width * done // max(total, 1)
        sys.stderr.write(f"\r  balance [{'#' * filled}{'.' * (width - filled)}] {done:>9,}/{total:,} runs  {time.perf_counter() - started:6.1f} s")
        sys.stderr.flush()

    try:
        report = balance(loaded, n=n, policies=names, seed=seed_value, jobs=jobs, fixed_n=fixed_n, lang=lang, progress=bar if show_bar else None)
    finally:
        if show_bar:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
    if fmt == "json":
        click.echo(json.dumps(report.to_json(runs=all_runs), ensure_ascii=False, indent=2))
    else:
        for line in render_text(report):
            click.echo(line)
        runs = sum(s.runs for s in report.stats.values())
        click.echo(f"\n{runs:,} runs in {time.perf_counter() - started:.1f} s with {jobs} job(s)")
    return 0


def main() -> None:
    cli(prog_name="dealersim")


if __name__ == "__main__":
    main()

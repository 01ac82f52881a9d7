"""The `dealersim` command. Every user error is rendered here, once, as a diagnostic; never a traceback."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path

import click

from scoring import session_observers
from simulator.diagnostics import Diagnostic, DiagnosticError, has_errors
from simulator.i18n import default_lang, t
from simulator.library import discover, resolve
from simulator.loader import load_scenario, scenario_files
from simulator.policy import POLICIES, make_policy
from simulator.record import read_log
from simulator.recorded import RecordedSession, default_log_path, verify_log
from simulator.schema import Lang, Scenario, text_in
from simulator.transcript import describe

LANG = click.Choice(["zh", "en"])


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
@click.option("--lang", type=LANG, default=None, help="zh or en (default: from the locale).")
@click.version_option(package_name="dealersim")
@click.pass_context
def cli(ctx: click.Context, scenario_dirs: tuple[str, ...], lang: str | None) -> int:
    """dealersim — role-play the course's dealer-management situations against a seeded market."""
    ctx.ensure_object(dict)
    ctx.obj["scenario_dirs"] = scenario_dirs
    ctx.obj["lang"] = lang
    if ctx.invoked_subcommand is None:
        return _pick_and_play(scenario_dirs, lang or default_lang())
    return 0


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
    return RecordedSession.start(loaded, seed, lang, path, trainee=name, catalogue_version=_catalogue().version, observers=session_observers)


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
@click.option("--choices", default=None, help="Comma-separated option ids or numbers: play headless.")
@click.option("--policy", type=click.Choice(POLICIES), default=None, help="Let a policy play headless.")
@click.option("--plain", is_flag=True, help="Line-mode game (for scripts and screen readers).")
@click.option("--quiet", is_flag=True, help="Headless: print only the log path.")
@click.pass_context
def play(ctx, scenario, seed, lang, name, log, choices, policy, plain, quiet) -> int:
    """Play SCENARIO (a file or a scenario id)."""
    lang = lang or ctx.obj["lang"] or default_lang()
    loaded = _load(scenario, ctx.obj["scenario_dirs"])
    seed_value: int | str = int(seed) if seed.isdigit() else seed
    if choices is None and policy is None:
        return _interactive(loaded, seed_value, lang, name, log)
    recorded = _new_log(loaded, seed_value, lang, name, log)
    try:
        _headless(recorded, choices, policy, quiet)
    finally:
        recorded.close()
    return 0


def _headless(recorded: RecordedSession, choices: str | None, policy: str | None, quiet: bool) -> None:
    from simulator.plain import show

    def out(line: str) -> None:
        if not quiet:
            click.echo(line)

    session = recorded.session
    if not recorded.events or recorded.events[0]["kind"] == "start":
        show(recorded.events, recorded, out)
    if choices is not None:
        for option in [c.strip() for c in choices.split(",") if c.strip()]:
            if session.finished:
                raise DiagnosticError(Diagnostic.make("DS0508", f"the scenario ended before choice '{option}'", "remove the extra choices"))
            show(recorded.choose(option), recorded, out)
    else:
        pick = make_policy(policy, session.entropy)
        while not session.finished:
            show(recorded.choose(pick(session)), recorded, out)
    lang = session.lang
    if not session.finished:
        click.echo(t("resume_hint", lang, path=recorded.path))
    else:
        _print_scorecard(recorded, quiet)
        click.echo(t("log_saved", lang, path=recorded.path))


def _print_scorecard(recorded: RecordedSession, quiet: bool) -> None:
    from scoring.report import scorecard_from_events, scorecard_lines

    card, items = scorecard_from_events(recorded.events)
    if card is not None and not quiet:
        for line in scorecard_lines(card, items, recorded.session.lang):
            click.echo(line)


@cli.command()
@click.argument("log", type=click.Path(dir_okay=False))
@click.option("--choices", default=None, help="Comma-separated choices to continue with headless.")
@click.option("--policy", type=click.Choice(POLICIES), default=None)
@click.option("--scenario", type=click.Path(dir_okay=False), default=None, help="The scenario file, if it has moved.")
@click.option("--quiet", is_flag=True)
def resume(log, choices, policy, scenario, quiet) -> int:
    """Continue an interrupted session exactly where it stopped."""
    recorded = RecordedSession.resume(Path(log), scenario_path=Path(scenario) if scenario else None, principles=_principles(), observers=session_observers)
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
    for record in contents.records:
        for line in describe({"kind": record.kind, "data": record.data}, lang, weeks=weeks):
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


def main() -> None:
    cli(prog_name="dealersim")


if __name__ == "__main__":
    main()

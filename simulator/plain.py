"""The line-mode front end (`dealersim play --plain`): for scripts, screen readers and no-frills use."""

from __future__ import annotations

from collections.abc import Callable

from simulator.diagnostics import DiagnosticError
from simulator.i18n import t
from simulator.recorded import LogNotice, RecordedSession
from simulator.schema import Lang, text_in
from simulator.transcript import describe, goods_unit

Output = Callable[[str], None]
Input = Callable[[str], str]


def dealer_names(recorded: RecordedSession, lang: Lang) -> dict[str, str]:
    return {d.id: text_in(d.name, lang) for d in recorded.session.scenario.market.dealers}


def show(events, recorded: RecordedSession, out: Output) -> None:
    lang = recorded.session.lang
    names = dealer_names(recorded, lang)
    unit = goods_unit(recorded.session.scenario.market.unit, lang)
    for event in events:
        for line in describe(event, lang, names, unit=unit):
            out(line)


def notice_lines(notice: LogNotice, lang: Lang) -> list[str]:
    """What the trainee reads when the log had to move or cannot be written: a plain sentence,
    then the diagnostic (code, message, where, how to fix)."""
    if notice.kind == "moved":
        lead = t("rec_moved", lang, path=notice.path)
    elif notice.kind == "unsaved":
        lead = t("rec_unsaved", lang)
    else:
        lead = t("rec_saved", lang, path=notice.path)
    return [*lead.splitlines(), *(notice.diagnostic.render().splitlines() if notice.diagnostic else [])]


def report_notices(recorded: RecordedSession, out: Output) -> None:
    for notice in recorded.take_notices():
        for line in notice_lines(notice, recorded.session.lang):
            out(line)


def farewell_unsaved(recorded: RecordedSession, out: Output) -> None:
    """Leaving: one more try to write what waits in memory, and say so if it still cannot be."""
    saved = recorded.retry_save()
    report_notices(recorded, out)
    if not saved:
        waiting = sum(1 for kind, _ in recorded.pending if kind == "choice")
        out(t("rec_lost_on_quit", recorded.session.lang, n=waiting, path=recorded.path))


def market_table(recorded: RecordedSession) -> list[str]:
    session = recorded.session
    lang = session.lang
    values = session.observe()
    head = [t(k, lang) for k in ("col_dealer", "col_stock", "col_cover", "col_sales", "col_price", "col_trust", "col_receivables")]
    lines = [t("market_header", lang, week=int(values["market.week"])), " | ".join(head)]
    for dealer in session.scenario.market.dealers:
        p = f"dealer.{dealer.id}."
        lines.append(
            " | ".join(
                [
                    text_in(dealer.name, lang),
                    f"{values[p + 'stock']:,.0f}",
                    f"{values[p + 'cover_cycles']:.2f}",
                    f"{values[p + 'sell_through_4w']:,.0f}",
                    f"{values[p + 'price_index']:.3f}",
                    f"{values[p + 'trust']:.0f}",
                    f"{values[p + 'receivables']:,.0f}",
                ]
            )
        )
    return lines


def run_plain(recorded: RecordedSession, out: Output = print, ask: Input = input, *, intro: bool = True) -> bool:
    """Play interactively until the end or until the trainee quits; True when finished."""
    session = recorded.session
    lang = session.lang
    if intro:
        out(text_in(session.scenario.title, lang))
        out(f"[{t('briefing', lang)}] {text_in(session.scenario.briefing, lang)}")
        show(recorded.events, recorded, out)
    report_notices(recorded, out)
    while not session.finished:
        options = session.options()
        for o in options:
            out(f"  {o.number}. {o.text}" + (f"  [{o.id}]" if session.negotiating else ""))
        if session.negotiating:
            out(t("nego_plain_hint", lang))
        try:
            answer = ask(t("your_move", lang) + " ").strip()
        except EOFError:
            answer = "q"
        if answer.lower() in ("q", "quit", "exit"):
            farewell_unsaved(recorded, out)
            out(t("resume_hint", lang, path=recorded.path))
            return False
        if answer.lower() in ("m", "market"):
            for line in market_table(recorded):
                out(line)
            continue
        if answer.lower() in ("n", "notebook"):
            out(f"[{t('notebook', lang)}]")
            for line in session.notebook or [t("notebook_empty", lang)]:
                out(f"  {line}")
            continue
        if answer.lower() in ("h", "help", "?") or not answer:
            out(t("help_plain", lang))
            continue
        try:
            events = recorded.choose(answer)
        except DiagnosticError as err:
            d = err.diagnostics[0]
            if d.code not in ("DS0601", "DS0605"):
                raise
            if session.negotiating:  # a move that is malformed or not allowed now: say why
                out(f"{d.code} {d.message}" + (f" ({d.hint})" if d.hint else ""))
            else:
                out(f"{d.code} {t('not_an_option', lang, value=answer)}")
            continue
        show(events, recorded, out)
        report_notices(recorded, out)
    farewell_unsaved(recorded, out)
    from scoring.report import scorecard_from_events, scorecard_lines

    card, items = scorecard_from_events(recorded.events)
    if card is not None:
        for line in scorecard_lines(card, items, lang):
            out(line)
    out(t("log_saved", lang, path=recorded.path))
    return True

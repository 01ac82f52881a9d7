"""`python -m simulator.tui`: the game alone, without the command line's other commands.

`dealersim serve` starts one of these per browser visitor (it starts faster than the full
command line). Players use `dealersim`.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulator.tui", description="The dealersim game (Textual).")
    parser.add_argument("--scenarios", action="append", default=[], help="extra folder of scenarios (repeatable)")
    parser.add_argument("--lang", choices=["zh", "en"], default=None)
    parser.add_argument("--mode", choices=["coaching", "exam"], default=None)
    parser.add_argument("--sessions", default=None, help="folder of session logs")
    parser.add_argument("--no-shipped", action="store_true", help="only the scenarios in --scenarios")
    parser.add_argument("--ephemeral", action="store_true", help="neither read nor save the remembered settings")
    args = parser.parse_args(argv)

    from simulator.tui.app import DealersimApp, outcome_message

    app = DealersimApp(
        scenario_dirs=tuple(args.scenarios),
        shipped=not args.no_shipped,
        sessions=Path(args.sessions) if args.sessions else None,
        lang=args.lang,
        mode=args.mode,
        remember=not args.ephemeral,
    )
    try:
        outcome = app.run()
    finally:
        app.close_game()
    message = outcome_message(outcome or app.outcome())
    if message:
        print(message)
    return app.return_code or 0


if __name__ == "__main__":
    raise SystemExit(main())

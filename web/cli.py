"""The ``bellwether`` command line: ``bellwether --help`` lists what exists.

serve, export-schema (web.serve); migrate, audit, demo, create-admin (web.admin).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from web import admin, serve

Command = Callable[[argparse.Namespace], int]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bellwether", description="Bellwether prediction markets: GraphQL API and tools."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve.add_commands(sub)
    admin.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    run: Command = args.run
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())

"""`cchc-bot history import FILE.csv --year Y --group G`: earlier years' published results."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.cli import print_json
from bot.cli._common import command, open_session, service_errors
from bot.services.actor import Actor
from bot.services.history import import_history


@service_errors
async def _import(args: argparse.Namespace) -> int:
    async with open_session(args) as session:
        result = await import_history(session, Actor.system(), Path(args.file), args.year, args.group)
    if args.json:
        print_json(result.__dict__)
    else:
        created = (
            f"; units created (inactive): {', '.join(result.units_created)}" if result.units_created else ""
        )
        print(
            f"{result.year} {result.group_code}: {result.imported} imported, "
            f"{result.replaced} replaced{created}"
        )
    return 0


def register(subparsers: Any) -> None:
    history = subparsers.add_parser("history", help="results of earlier years")
    sub = history.add_subparsers(dest="history_command", metavar="ACTION", required=True)
    imp = sub.add_parser(
        "import", help="import CSV/XLSX with columns unit,score (unit = code or name); all-or-nothing"
    )
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--year", type=int, required=True)
    imp.add_argument("--group", required=True, metavar="CODE", help="ranking group (created when missing)")
    command(imp, _import, json=True, db=True)

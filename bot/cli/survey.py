"""`cchc-bot survey import FILE --year Y`: survey points (unit, item code, points) from CSV/XLSX."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.cli import print_json
from bot.cli._common import command, open_session
from bot.services.actor import Actor
from bot.services.survey import import_survey


async def _import(args: argparse.Namespace) -> int:
    async with open_session(args) as session:
        result = await import_survey(session, Actor.system(), args.year, Path(args.file))
    if args.json:
        print_json(result.__dict__)
    else:
        print(f"{result.year}: {result.imported} survey result(s) imported")
    return 0


def register(subparsers: Any) -> None:
    survey = subparsers.add_parser("survey", help="survey results (điều tra xã hội học)")
    sub = survey.add_subparsers(dest="survey_command", metavar="ACTION", required=True)
    imp = sub.add_parser(
        "import", help="import CSV/XLSX with columns unit,item,points (unit = code or name); all-or-nothing"
    )
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--year", type=int, required=True)
    command(imp, _import, json=True, db=True)

"""`cchc-bot demo seed`: the demo province. Upgrades the database itself (it is for trying things)."""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy import select

from bot.cli import print_json
from bot.cli._common import command, open_session, service_errors
from bot.config import load_settings
from bot.db.models import Unit


@service_errors
async def _seed(args: argparse.Namespace) -> int:
    from bot.services.demo import seed_demo

    async with open_session(args, auto_upgrade=True) as session:
        if args.if_empty and await session.scalar(select(Unit.id).limit(1)) is not None:
            if not args.json:
                print("database already has units: demo seed skipped (--if-empty)")
            return 0
        result = await seed_demo(session, tz=load_settings().timezone)
    if args.json:
        print_json(
            {
                "province": result.province,
                "year": result.year,
                "created": result.created,
                "units": result.units,
                "groups": result.groups,
                "statuses": result.statuses,
                "personas": [p.__dict__ for p in result.personas],
            }
        )
        return 0
    state = "created" if result.created else "already present (nothing duplicated)"
    groups = ", ".join(result.groups)
    print(f"{result.province}: period {result.year} {state}; {result.units} units in groups {groups}")
    print("sheets: " + ", ".join(f"{k} {v}" for k, v in sorted(result.statuses.items())))
    print("personas (fake Telegram ids):")
    for p in result.personas:
        print(f"  {p.telegram_id}  {p.role:<11} {p.unit_code or p.agency_code or '':<10} {p.full_name}")
    print(f"try: cchc-bot rank --year {result.year} --group SO")
    return 0


def register(subparsers: Any) -> None:
    demo = subparsers.add_parser("demo", help="demo data")
    sub = demo.add_subparsers(dest="demo_command", metavar="ACTION", required=True)
    seed = sub.add_parser(
        "seed",
        help="create the demo province (migrates the database first; running it again duplicates nothing)",
    )
    seed.add_argument("--if-empty", action="store_true", help="do nothing when the database has units")
    command(seed, _seed, json=True, db=True)

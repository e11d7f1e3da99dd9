"""`cchc-bot db upgrade|status`: schema migrations."""

from __future__ import annotations

import argparse
from typing import Any

from bot.cli import CliError, print_json
from bot.cli._common import command, database_url, service_errors
from bot.db.migrate import autogenerate, current_revision, head_revision, is_up_to_date, upgrade


@service_errors
async def _upgrade(args: argparse.Namespace) -> int:
    url = database_url(args)
    before = await current_revision(url)
    await upgrade(url)
    after = await current_revision(url)
    if before == after:
        print(f"database already at revision {after}")
    else:
        print(f"database upgraded: {before or 'empty'} -> {after}")
    return 0


@service_errors
async def _status(args: argparse.Namespace) -> int:
    url = database_url(args)
    current, head = await current_revision(url), head_revision()
    if args.json:
        print_json({"current": current, "head": head, "up_to_date": current == head})
    else:
        state = "up to date" if current == head else "needs `cchc-bot db upgrade`"
        print(f"revision {current or 'none'} (head {head}): {state}")
    return 0 if current == head else 1


@service_errors
async def _revision(args: argparse.Namespace) -> int:
    url = database_url(args)
    if not await is_up_to_date(url):
        raise CliError("upgrade the database to head first: the new revision is the difference from it")
    await autogenerate(url, args.message, args.rev_id)
    return 0


def register(subparsers: Any) -> None:
    db = subparsers.add_parser("db", help="database schema: upgrade, status")
    sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = sub.add_parser("upgrade", help="create or migrate the database to the latest schema")
    command(up, _upgrade, json=False, db=True)
    st = sub.add_parser("status", help="show the schema revision (exit 1 when an upgrade is due)")
    command(st, _status, json=True, db=True)
    rev = sub.add_parser("revision", help="(developers) autogenerate a migration from the models")
    rev.add_argument("-m", "--message", required=True)
    rev.add_argument("--rev-id", help="e.g. 0002")
    command(rev, _revision, json=False, db=True)

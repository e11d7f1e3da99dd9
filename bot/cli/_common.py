"""Helpers shared by the CLI modules: the common options, the migration check, error mapping.

Commands that use the database refuse to run on a database that is not at the latest migration
(`cchc-bot db upgrade` fixes it); only `db upgrade` and `demo seed` migrate by themselves.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli import CliError
from bot.config import load_settings
from bot.db.engine import make_engine, make_sessionmaker
from bot.db.migrate import is_up_to_date, upgrade
from bot.scoring.fmt import fmt_index
from bot.services.errors import ServiceError


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", metavar="URL", help="override CCHC_DATABASE_URL for this command")


def command(
    parser: argparse.ArgumentParser, handler: Callable[[argparse.Namespace], Any], *, json: bool, db: bool
) -> None:
    """Finish a subcommand: its `--json` and `--database-url` options where it has them, its handler."""
    if json:
        parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    if db:
        add_db_option(parser)
    parser.set_defaults(handler=handler)


def database_url(args: argparse.Namespace) -> str:
    url = getattr(args, "database_url", None)
    return str(url) if url else load_settings().database_url


@asynccontextmanager
async def open_session(
    args: argparse.Namespace, *, auto_upgrade: bool = False
) -> AsyncIterator[AsyncSession]:
    """A session on the configured database, after checking (or applying) the migrations.
    ServiceError raised inside becomes a one-line CliError; row errors go to stderr first."""
    url = database_url(args)
    if auto_upgrade:
        await upgrade(url)
    elif not await is_up_to_date(url):
        raise CliError("the database is not up to date: run `cchc-bot db upgrade` first")
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            try:
                yield session
            except ServiceError as exc:
                raise as_cli_error(exc) from None
    finally:
        await engine.dispose()


def service_errors(
    handler: Callable[[argparse.Namespace], Awaitable[int]],
) -> Callable[[argparse.Namespace], Awaitable[int]]:
    """Turn a ServiceError raised anywhere in a command (also before the session) into CliError."""

    @functools.wraps(handler)
    async def wrapper(args: argparse.Namespace) -> int:
        try:
            return await handler(args)
        except ServiceError as exc:
            raise as_cli_error(exc) from None

    return wrapper


def as_cli_error(exc: ServiceError) -> CliError:
    rows = exc.errors
    if len(rows) > 1:
        for line in rows:
            print(f"  {line}", file=sys.stderr)
    return CliError(str(exc))


def index_text(value: Decimal) -> str:
    """Index as shown by the CLI and in JSON: 2 decimals, '.' separator ("87.12")."""
    return fmt_index(value, "en")

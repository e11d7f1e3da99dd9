"""`cchc-bot run` (the bot: long polling, or --webhook) and `cchc-bot start` (what `make run` calls)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from typing import Any

from bot.cli import CliError
from bot.config import load_settings


def setup_logging() -> None:
    level = os.environ.get("CCHC_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # Per-update and per-job lines would drown the few that matter (connected, menus, failures).
    for noisy in ("aiogram.event", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


async def run_bot(args: argparse.Namespace) -> int:
    from bot.app import StartupError, build_app

    setup_logging()
    settings = load_settings()
    if not settings.bot_token:
        raise CliError("CCHC_BOT_TOKEN is not set: get a token from @BotFather (or run the sandbox)")
    try:
        app = build_app(settings)
        if args.webhook:
            await app.run_webhook(auto_upgrade=args.upgrade)
        else:
            await app.run_polling(auto_upgrade=args.upgrade)
    except StartupError as exc:
        raise CliError(str(exc)) from None
    return 0


def start(args: argparse.Namespace) -> int:
    """With a token: the bot on Telegram. Without: the sandbox (local emulator and web chat)."""
    settings = load_settings()
    if settings.bot_token:
        args.webhook = bool(settings.webhook_url)
        args.upgrade = True
        return asyncio.run(run_bot(args))
    from bot.cli.sandbox import start_sandbox

    return start_sandbox()


def register(subparsers: Any) -> None:
    run = subparsers.add_parser("run", help="run the bot (long polling, or --webhook)")
    run.add_argument("--webhook", action="store_true", help="serve a webhook (CCHC_WEBHOOK_* settings)")
    run.add_argument("--upgrade", action="store_true", help="upgrade the database schema first if needed")
    run.set_defaults(handler=run_bot)
    begin = subparsers.add_parser(
        "start", help="the bot on Telegram if CCHC_BOT_TOKEN is set, else the sandbox (`make run`)"
    )
    begin.set_defaults(handler=start, webhook=False, upgrade=True)

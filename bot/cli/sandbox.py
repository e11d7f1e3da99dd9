"""`cchc-bot sandbox`: the real bot on a local Telegram emulator, with a web chat to try it and train."""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path
from typing import Any

from bot.cli import CliError
from bot.config import load_settings

DEFAULT_DATA_DIR = "./var/sandbox"


async def sandbox(args: argparse.Namespace) -> int:
    from bot.cli.run import setup_logging
    from bot.sandbox.runner import SandboxError, SandboxOptions, run_sandbox

    setup_logging()
    # Every Bot API call of the local emulator would be an access-log line: keep the console readable.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    settings = load_settings()
    options = SandboxOptions(
        data_dir=Path(args.data_dir),
        host=args.host or settings.sandbox_host,
        port=settings.sandbox_port if args.port is None else args.port,
        fresh=args.fresh,
    )
    try:
        await run_sandbox(options, settings)
    except SandboxError as exc:
        raise CliError(str(exc)) from None
    return 0


def start_sandbox() -> int:
    """What `cchc-bot start` (`make run`) does when no bot token is set."""
    print(
        "CCHC_BOT_TOKEN is not set: starting the sandbox (the bot on a local Telegram emulator with the "
        "demo province). To run the bot on Telegram, set CCHC_BOT_TOKEN=<token from @BotFather> "
        "(in the environment or in .env) and run `make run` again.",
        flush=True,
    )
    args = argparse.Namespace(data_dir=DEFAULT_DATA_DIR, host=None, port=None, fresh=False)
    return asyncio.run(sandbox(args))


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sandbox",
        help="the bot on a local Telegram emulator with a web chat (what `make run` does without a token)",
        description=(
            "Migrates and seeds a demo database in --data-dir (once), starts a Telegram Bot API emulator "
            "and the real bot against it, and serves a web chat (CCHC_SANDBOX_HOST:CCHC_SANDBOX_PORT, "
            "default http://127.0.0.1:8080) where you can act as the demo people."
        ),
    )
    parser.add_argument("--host", default=None, help="web chat address (default CCHC_SANDBOX_HOST)")
    parser.add_argument("--port", type=int, default=None, help="web chat port (default CCHC_SANDBOX_PORT)")
    parser.add_argument(
        "--data-dir", default=DEFAULT_DATA_DIR, help="demo database and evidence (default ./var/sandbox)"
    )
    parser.add_argument("--fresh", action="store_true", help="discard the demo data and seed it again")
    parser.set_defaults(handler=sandbox)

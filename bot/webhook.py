"""Webhook mode: an aiohttp server behind a reverse proxy / load balancer (SPEC §7)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger("bot.webhook")

WEBHOOK_PATH = "/telegram/webhook"


async def serve_webhook(app: App) -> None:
    """Register the webhook, serve until cancelled (SIGINT/SIGTERM), then remove it."""
    from bot.app import StartupError

    settings = app.settings
    if not settings.webhook_url:
        raise StartupError("webhook mode needs CCHC_WEBHOOK_URL (the public https URL of this server)")
    web_app = web.Application()
    SimpleRequestHandler(dispatcher=app.dp, bot=app.bot, secret_token=settings.webhook_secret).register(
        web_app, path=WEBHOOK_PATH
    )
    setup_application(web_app, app.dp, bot=app.bot)
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port)
    await site.start()
    url = settings.webhook_url.rstrip("/")
    if not url.endswith(WEBHOOK_PATH):
        url += WEBHOOK_PATH
    await app.bot.set_webhook(
        url,
        secret_token=settings.webhook_secret,
        allowed_updates=app.dp.resolve_used_update_types(),
    )
    log.info("webhook at %s, listening on %s:%s", url, settings.webhook_host, settings.webhook_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    import signal

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await app.bot.delete_webhook()
        await runner.cleanup()

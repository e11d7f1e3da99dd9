"""Webhook mode: an aiohttp server behind a reverse proxy / load balancer (SPEC §7).

- Never open: without CCHC_WEBHOOK_SECRET the bot refuses to start, and every POST must carry it
  in Telegram's `X-Telegram-Bot-Api-Secret-Token` header (401 otherwise, nothing handled). One
  secret in the configuration, rather than one generated per process, because every process behind
  the load balancer must accept what Telegram sends with the one secret it was given last.
- An update is answered 200 only after it has been handled, so an update a killed process was
  handling is delivered again by Telegram (to the other process; `processed_updates` drops it if the
  first one had committed it).
- Several processes share one webhook: each registers it at start, none deletes it when it stops
  (that would cut off the others; `cchc-bot run` in polling mode deletes it).
- `GET /healthz`: 200 when the database answers and its schema is current, 503 otherwise (JSON,
  with `leader`: whether this process runs the schedule and the outbox sender).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from typing import TYPE_CHECKING

from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web
from alembic.runtime.migration import MigrationContext

from bot.db.migrate import head_revision

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger("bot.webhook")

WEBHOOK_PATH = "/telegram/webhook"
HEALTH_PATH = "/healthz"
HEALTH_TIMEOUT = 3.0
SECRET_HINT = (
    "webhook mode needs CCHC_WEBHOOK_SECRET (1-256 characters A-Z a-z 0-9 _ -, the same for every "
    "bot process), e.g. from `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`"
)


def check_webhook_settings(app: App) -> None:
    """Refuse to start webhook mode open or without a public URL (before anything starts)."""
    from bot.app import StartupError

    if not app.settings.webhook_url:
        raise StartupError("webhook mode needs CCHC_WEBHOOK_URL (the public https URL of this server)")
    if not app.settings.webhook_secret:
        raise StartupError(SECRET_HINT)


async def health(app: App) -> tuple[int, dict[str, object]]:
    """(HTTP status, body): can this process serve updates now?"""
    head = head_revision()
    body: dict[str, object] = {"pid": os.getpid(), "schema_head": head}
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT), app.engine.connect() as connection:
            current = await connection.run_sync(
                lambda c: MigrationContext.configure(c).get_current_revision()
            )
    except Exception as exc:  # unreachable, refused, timed out: the load balancer should look elsewhere
        body.update(status="unavailable", database=f"unreachable: {type(exc).__name__}")
        return 503, body
    notify = app.dp.workflow_data.get("notify")
    body.update(database="ok", schema=current, leader=bool(notify and notify.scheduler.is_leader))
    if current != head:
        body["status"] = "schema not current: run `cchc-bot db upgrade`"
        return 503, body
    body["status"] = "ok"
    return 200, body


def make_web_app(app: App) -> web.Application:
    settings = app.settings
    web_app = web.Application()
    SimpleRequestHandler(
        dispatcher=app.dp, bot=app.bot, handle_in_background=False, secret_token=settings.webhook_secret
    ).register(web_app, path=WEBHOOK_PATH)
    setup_application(web_app, app.dp, bot=app.bot)

    async def healthz(request: web.Request) -> web.Response:
        status, body = await health(app)
        return web.json_response(body, status=status)

    web_app.router.add_get(HEALTH_PATH, healthz)
    return web_app


async def serve_webhook(app: App) -> None:
    """Serve, register the webhook with its secret, and serve until SIGINT/SIGTERM."""
    settings = app.settings
    check_webhook_settings(app)
    runner = web.AppRunner(make_web_app(app))
    await runner.setup()
    site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port)
    await site.start()
    url = (settings.webhook_url or "").rstrip("/")
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
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()

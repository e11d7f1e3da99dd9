"""The emulator as one object a test or `make run` can start and stop.

`Emulator` binds an aiohttp server (port 0 picks a free port, so parallel test runs never collide),
creates the default bot and exposes its in-memory `state` for direct assertions.
"""

from __future__ import annotations

import asyncio
import logging
import ssl

from aiohttp import web

from . import api, control
from .state import BotAccount, EmulatorState
from .webhook import WebhookDeliverer

DEFAULT_TOKEN = "123456789:AAEmulatorDefaultTokenForLocalRuns000"
log = logging.getLogger(__name__)


class Emulator:
    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        username: str = "cchc_test_bot",
        first_name: str = "CCHC Bot",
        *,
        flood_limits: bool = False,
        webhook_ssl: ssl.SSLContext | None = None,
    ) -> None:
        self.state = EmulatorState()
        self.bot: BotAccount = self.state.add_bot(token, username, first_name)
        self.state.flood.enabled = flood_limits
        self._runner: web.AppRunner | None = None
        self._webhooks = WebhookDeliverer(self.state, webhook_ssl)
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("emulator is not started")
        return self._url

    @property
    def token(self) -> str:
        return self.bot.token

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=api.MAX_UPLOAD + 1024 * 1024, middlewares=[control.cors])
        app[api.STATE_KEY] = self.state
        api.add_routes(app)
        control.add_routes(app)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        # handler_cancellation frees a long poll as soon as its client goes away.
        self._runner = web.AppRunner(self.make_app(), handler_cancellation=True, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_port = self._runner.addresses[0][1]
        self._url = f"http://{host}:{bound_port}"
        self._webhooks.start()
        log.info("Telegram Bot API emulator on %s (bot @%s)", self._url, self.bot.username)
        return self._url

    async def stop(self) -> None:
        self.state.close()
        await self._webhooks.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def run_emulator(
    host: str = "127.0.0.1",
    port: int = 8081,
    token: str = DEFAULT_TOKEN,
    username: str = "cchc_test_bot",
    *,
    flood_limits: bool = False,
    ready: asyncio.Event | None = None,
) -> None:
    """Serve until cancelled; `make run` starts this beside the bot and the web chat."""
    emulator = Emulator(token, username, flood_limits=flood_limits)
    await emulator.start(host, port)
    if ready is not None:
        ready.set()
    try:
        await asyncio.Event().wait()
    finally:
        await emulator.stop()

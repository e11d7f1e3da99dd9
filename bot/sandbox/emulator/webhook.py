"""Webhook delivery: while a bot has a webhook, its updates are POSTed there instead of polled.

Delivery is one update at a time in order, with the secret header, and failures are retried with a
short backoff and reported through getWebhookInfo, which is what a bot's webhook runner needs to see.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl

import aiohttp

from .state import BotAccount, EmulatorState, now_ts

log = logging.getLogger(__name__)


class WebhookDeliverer:
    def __init__(self, state: EmulatorState, ssl_context: ssl.SSLContext | None = None) -> None:
        self.state = state
        self.ssl_context = ssl_context  # to trust a test's own certificate (nginx in front of the bot)
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._retry_at: dict[int, float] = {}

    def start(self) -> None:
        connector = aiohttp.TCPConnector(ssl=self.ssl_context) if self.ssl_context is not None else None
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30), connector=connector)
        self._task = asyncio.create_task(self._run(), name="emulator-webhooks")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._session is not None:
            await self._session.close()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.state.closed:
            pulse = self.state.pulse()
            due = [
                b
                for b in self.state.bots.values()
                if b.webhook_url and b.updates and self._retry_at.get(b.id, 0.0) <= loop.time()
            ]
            for bot in due:
                await self._deliver(bot)
            if not due:
                waits = [t - loop.time() for t in self._retry_at.values() if t > loop.time()]
                await self.state.wait(pulse, min([*waits, 5.0]))

    async def _deliver(self, bot: BotAccount) -> None:
        assert self._session is not None
        self.state.drop_unwanted(bot)
        if not bot.updates or not bot.webhook_url:
            return
        update = bot.updates[0]
        headers = {"Content-Type": "application/json"}
        if bot.webhook_secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = bot.webhook_secret
        loop = asyncio.get_running_loop()
        try:
            async with self._session.post(bot.webhook_url, data=json.dumps(update), headers=headers) as resp:
                await resp.read()
                if resp.status >= 300:
                    raise RuntimeError(f"Wrong response from the webhook: {resp.status} {resp.reason}")
        except Exception as exc:
            bot.webhook_last_error = str(exc) or type(exc).__name__
            bot.webhook_last_error_date = now_ts()
            self._retry_at[bot.id] = loop.time() + 1.0
            log.debug("webhook delivery to %s failed: %s", bot.webhook_url, exc)
            return
        self._retry_at.pop(bot.id, None)
        if bot.updates and bot.updates[0] is update:
            bot.updates.popleft()

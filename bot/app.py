"""The composition root: `build_app(settings)` makes the bot, the dispatcher with its middlewares and
routers, the database and the background tasks; `App.run_polling()` / `App.run_webhook()` block.

`cchc-bot run`, the tests and the sandbox all go through `build_app`, so there is one code path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.fsm.storage.base import BaseStorage
from aiogram.methods import Response, TelegramMethod
from aiogram.types import User
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.db.engine import make_engine, make_sessionmaker
from bot.db.migrate import is_up_to_date, upgrade
from bot.handlers import build_routers
from bot.i18n import get_i18n
from bot.middlewares import setup_middlewares
from bot.middlewares.db import prune_processed
from bot.notify.runtime import run_notifications
from bot.services.profile import menu_people
from bot.storage import make_storage
from bot.ui.menus import MenuRegistry, set_default_menus, set_person_menu

log = logging.getLogger("bot.app")

BackgroundFactory = Callable[["App"], Awaitable[None]]
T = TypeVar("T")


class StartupError(RuntimeError):
    """A start-up check failed; the message is one line telling the operator what to do."""


@dataclass
class App:
    settings: Settings
    bot: Bot
    dp: Dispatcher
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    storage: BaseStorage
    menus: MenuRegistry
    routers: list[Router]
    background: list[BackgroundFactory] = field(default_factory=list)
    me: User | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    # -- start-up -------------------------------------------------------------------------------
    async def check_database(self, *, auto_upgrade: bool = False) -> None:
        url = self.settings.database_url
        if await is_up_to_date(url):
            return
        if not auto_upgrade:
            raise StartupError("the database is not up to date: run `cchc-bot db upgrade` first")
        log.info("upgrading the database schema")
        await upgrade(url)

    async def check_token(self) -> User:
        api = self.settings.telegram_api_url
        try:
            me = await self.bot.get_me()
        except TelegramUnauthorizedError:
            raise StartupError(f"the bot token was refused by {api}: check CCHC_BOT_TOKEN") from None
        except TelegramNetworkError as exc:
            raise StartupError(
                f"cannot reach the Bot API at {api}: {exc}: check CCHC_TELEGRAM_API_URL"
            ) from None
        except (TelegramAPIError, ClientDecodeError) as exc:
            raise StartupError(
                f"{api} did not answer like a Bot API server ({type(exc).__name__}): "
                "check CCHC_TELEGRAM_API_URL"
            ) from None
        self.me = me
        log.info("Connected as @%s (%s) to %s", me.username, me.id, api)
        return me

    async def sync_menus(self) -> None:
        """Each registered person's own menu by their roles (vi and en); runs in the background
        because a province has hundreds of people and Telegram limits the pace."""
        async with self.sessionmaker() as session:
            people = await menu_people(session)
        for person in people:
            await set_person_menu(self.bot, self.menus, person.telegram_id, person.roles, person.language)
        log.info("command menus set for %d people", len(people))

    def check_evidence_dir(self) -> None:
        path = self.settings.evidence_dir
        try:
            path.mkdir(parents=True, exist_ok=True)
            probe = path / ".write-test"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise StartupError(f"CCHC_EVIDENCE_DIR {path} is not writable: {exc.strerror}") from None

    async def startup(self, *, auto_upgrade: bool = False) -> User:
        self.check_evidence_dir()
        await self.check_database(auto_upgrade=auto_upgrade)
        me = await self.check_token()
        await set_default_menus(self.bot)
        self.start_background()
        return me

    # -- background tasks -----------------------------------------------------------------------
    def start_background(self) -> None:
        for factory in [sync_menus, prune_processed_updates, *self.background]:
            task = asyncio.create_task(_guarded(factory, self), name=getattr(factory, "__name__", "task"))
            self._tasks.append(task)

    async def stop_background(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    # -- running --------------------------------------------------------------------------------
    async def run_polling(self, *, auto_upgrade: bool = False, handle_signals: bool = True) -> None:
        """Start-up checks, then long polling until SIGINT/SIGTERM (or the task is cancelled)."""
        try:
            await self.startup(auto_upgrade=auto_upgrade)
            await self.bot.delete_webhook(drop_pending_updates=False)
            await self.dp.start_polling(
                self.bot,
                handle_signals=handle_signals,
                close_bot_session=False,
                allowed_updates=self.dp.resolve_used_update_types(),
            )
        finally:
            await self.close()

    async def run_webhook(self, *, auto_upgrade: bool = False) -> None:
        """Serve updates on CCHC_WEBHOOK_HOST:PORT and register CCHC_WEBHOOK_URL with Telegram."""
        from bot.webhook import check_webhook_settings, serve_webhook

        try:
            check_webhook_settings(self)
            await self.startup(auto_upgrade=auto_upgrade)
            await serve_webhook(self)
        finally:
            await self.close()

    async def close(self) -> None:
        await self.stop_background()
        with contextlib.suppress(Exception):
            await self.dp.storage.close()
        await self.bot.session.close()
        await self.engine.dispose()
        # Routers are module-level: detach them so another App (tests, sandbox) can include them.
        for router in self.routers:
            router._parent_router = None
        self.dp.sub_routers.clear()


async def _guarded(factory: BackgroundFactory, app: App) -> None:
    try:
        await factory(app)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("background task %s stopped", getattr(factory, "__name__", factory))


async def sync_menus(app: App) -> None:
    await app.sync_menus()


async def prune_processed_updates(app: App) -> None:
    """Forget handled update ids once no re-delivery can bring them (see `bot.middlewares.db`)."""
    while True:
        async with app.sessionmaker() as session:
            await prune_processed(session)
        await asyncio.sleep(3600)


class RetryAfter(BaseRequestMiddleware):
    """A reply Telegram refuses with 429 (a broadcast is using the bot's overall budget, or a person
    sends faster than one message a second) waits the few seconds asked and goes again, so the
    person still gets every answer. Not on the outbox sender's own bot: it has its own 429 policy."""

    def __init__(self, max_wait: float = 5.0, tries: int = 4) -> None:
        self.max_wait = max_wait
        self.tries = tries

    async def __call__(
        self, make_request: NextRequestMiddlewareType[T], bot: Bot, method: TelegramMethod[T]
    ) -> Response[T]:
        for _ in range(self.tries - 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if exc.retry_after > self.max_wait:
                    raise
                await asyncio.sleep(exc.retry_after)
        return await make_request(bot, method)


def make_bot(settings: Settings) -> Bot:
    if not settings.bot_token:
        raise StartupError("no bot token: set CCHC_BOT_TOKEN (from @BotFather)")
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    session.middleware(RetryAfter())
    return Bot(
        settings.bot_token,
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def build_app(settings: Settings, *, bot: Bot | None = None) -> App:
    """Everything wired, nothing started: no network and no database access yet."""
    bot = bot or make_bot(settings)
    engine = make_engine(settings.database_url)
    sessionmaker = make_sessionmaker(engine)
    storage = make_storage(settings.redis_url, sessionmaker)
    dp = Dispatcher(storage=storage)
    menus = MenuRegistry()
    routers = build_routers(menus)
    for router in routers:
        if router.parent_router is not None:  # an earlier App in this process was not closed
            log.warning("router %s was still attached to an old dispatcher; detaching it", router.name)
            router._parent_router = None
    setup_middlewares(dp, sessionmaker=sessionmaker, settings=settings, i18n=get_i18n())
    dp.include_routers(*routers)
    app = App(
        settings=settings,
        bot=bot,
        dp=dp,
        engine=engine,
        sessionmaker=sessionmaker,
        storage=storage,
        menus=menus,
        routers=routers,
    )
    dp["menus"] = menus
    dp["sessionmaker"] = sessionmaker
    dp["app"] = app
    app.background.append(run_notifications)  # outbox sender + scheduler (bot/notify/runtime.py)
    return app

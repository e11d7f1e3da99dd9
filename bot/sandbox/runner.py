"""`cchc-bot sandbox` (and `make run` without a token): the real bot, a local Telegram, a web chat.

One process holds everything: the SQLite demo database (migrated, seeded once), the Bot API emulator,
the real bot polling the emulator through `build_app`, and the web chat. The sandbox keeps its own
data directory (default `./var/sandbox`), so training never touches the database a real bot uses.

"Reset demo" stops the bot, copies the pristine database taken right after seeding back in place
(SQLite's online backup, so WAL files stay consistent), restores the evidence files, clears the
emulator's chats and starts the bot again: the next training session starts from the seeded state.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import inspect
import logging
import shutil
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.config import Settings, load_settings
from bot.sandbox.personas import Persona, load_personas

log = logging.getLogger("bot.sandbox")

SANDBOX_TOKEN = "777000111:AAsandboxTokenOnlyValidInTheLocalEmulator"
BOT_USERNAME = "cchc_sandbox_bot"
BOT_NAME = "Bot Chỉ số CCHC"
DB_NAME = "cchc-sandbox.sqlite3"
PRISTINE_DB = "pristine.sqlite3"
EVIDENCE = "evidence"
PRISTINE_EVIDENCE = "pristine-evidence"
READY_TIMEOUT = 60.0


class SandboxError(RuntimeError):
    """One line for the operator: what failed and what to do."""


@dataclass
class SandboxOptions:
    data_dir: Path = Path("./var/sandbox")
    host: str = "127.0.0.1"
    port: int = 8080
    emulator_host: str = "127.0.0.1"
    emulator_port: int = 0
    fresh: bool = False  # throw the demo data away and seed again


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path.resolve()}"


def sqlite_copy(source: Path, target: Path) -> None:
    """Copy a whole SQLite database with the online backup API (safe with WAL, target may be open)."""
    src = sqlite3.connect(str(source))
    try:
        dst = sqlite3.connect(str(target))
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


async def seed_demo(settings: Settings) -> Any:
    """Seed the demo province through the DB engineer's service (whatever its exact signature)."""
    from bot.db.engine import make_engine, make_sessionmaker
    from bot.services import demo

    seed = getattr(demo, "seed_demo", None) or getattr(demo, "seed", None)
    if seed is None:
        raise SandboxError("bot.services.demo has no seed function")
    params = inspect.signature(seed).parameters
    engine = make_engine(settings.database_url)
    try:
        sessionmaker = make_sessionmaker(engine)
        kwargs: dict[str, Any] = {}
        if "settings" in params:
            kwargs["settings"] = settings
        first = next(iter(params), "")
        if first in ("sessionmaker", "session_factory", "maker"):
            result = seed(sessionmaker, **kwargs)
            return await result if inspect.isawaitable(result) else result
        async with sessionmaker() as session:
            result = seed(session, **kwargs)
            if inspect.isawaitable(result):
                result = await result
            await session.commit()
            return result
    finally:
        await engine.dispose()


def demo_personas() -> list[tuple[int, str]]:
    """(telegram id, role) of the personas the demo seed declares, in its order."""
    try:
        from bot.services import demo
    except ImportError:
        return []
    return [(int(p.telegram_id), str(p.role)) for p in getattr(demo, "PERSONAS", [])]


async def last_update_id(settings: Settings) -> int:
    """The highest Telegram update id the bot has recorded as handled (0 if none)."""
    from sqlalchemy import func, select

    from bot.db.engine import make_engine, make_sessionmaker
    from bot.db.models import ProcessedUpdate

    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            found = await session.scalar(select(func.max(ProcessedUpdate.update_id)))
            return int(found or 0)
    finally:
        await engine.dispose()


async def read_personas(settings: Settings) -> list[Persona]:
    from bot.db.engine import make_engine, make_sessionmaker

    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            return await load_personas(session, demo_personas())
    finally:
        await engine.dispose()


class Sandbox:
    def __init__(self, options: SandboxOptions | None = None, base: Settings | None = None) -> None:
        from bot.sandbox.emulator.server import Emulator

        self.options = options or SandboxOptions()
        self.data_dir = self.options.data_dir.resolve()
        self.db_path = self.data_dir / DB_NAME
        self.pristine_path = self.data_dir / PRISTINE_DB
        self.evidence_dir = self.data_dir / EVIDENCE
        self.pristine_evidence = self.data_dir / PRISTINE_EVIDENCE
        self._base = base
        self.emulator = Emulator(SANDBOX_TOKEN, BOT_USERNAME, BOT_NAME)
        self.personas: list[Persona] = []
        self.settings: Settings | None = None
        self.url: str | None = None
        self._app: Any = None  # bot.app.App of the running bot
        self._poll_task: asyncio.Task[None] | None = None
        self._web_runner: web.AppRunner | None = None
        self._reset_lock = asyncio.Lock()

    # ---- database ---------------------------------------------------------------------------------
    def _settings(self, api_url: str) -> Settings:
        overrides: dict[str, Any] = {
            "bot_token": SANDBOX_TOKEN,
            "telegram_api_url": api_url,
            "database_url": sqlite_url(self.db_path),
            "evidence_dir": self.evidence_dir,
            "redis_url": None,
            "webhook_url": None,
        }
        if self._base is not None:
            data = self._base.model_dump()
            data.update(overrides)
            return Settings.model_validate(data)
        return load_settings(**overrides)

    async def prepare_database(self, settings: Settings) -> bool:
        """Migrate, and seed the demo once (again with `fresh`, or when the snapshot is missing).

        Returns True when it seeded now."""
        from bot.db.migrate import upgrade

        self.data_dir.mkdir(parents=True, exist_ok=True)
        seeded = self.db_path.exists() and self.pristine_path.exists()
        if self.options.fresh or not seeded:
            for path in self.data_dir.glob(DB_NAME + "*"):
                path.unlink()
            self.pristine_path.unlink(missing_ok=True)
            shutil.rmtree(self.evidence_dir, ignore_errors=True)
            shutil.rmtree(self.pristine_evidence, ignore_errors=True)
        self.evidence_dir.mkdir(parents=True, exist_ok=True)
        await upgrade(settings.database_url)
        if seeded and not self.options.fresh:
            return False
        log.info("seeding the demo province into %s", self.db_path)
        await seed_demo(settings)
        sqlite_copy(self.db_path, self.pristine_path)
        shutil.copytree(self.evidence_dir, self.pristine_evidence, dirs_exist_ok=True)
        return True

    async def restore_database(self, settings: Settings) -> None:
        from bot.db.migrate import upgrade

        sqlite_copy(self.pristine_path, self.db_path)
        shutil.rmtree(self.evidence_dir, ignore_errors=True)
        if self.pristine_evidence.exists():
            shutil.copytree(self.pristine_evidence, self.evidence_dir)
        self.evidence_dir.mkdir(parents=True, exist_ok=True)
        await upgrade(settings.database_url)  # a snapshot from before a schema change

    async def continue_update_ids(self, settings: Settings) -> None:
        """A new emulator numbers updates from the start again, but the bot drops ids it has already
        handled (duplicate protection): continue after the last one, as Telegram would."""
        bot = self.emulator.bot
        bot.next_update_id = max(bot.next_update_id, await last_update_id(settings) + 1)

    # ---- emulator people ----------------------------------------------------------------------------
    def add_persona_users(self) -> None:
        state = self.emulator.state
        for persona in self.personas:
            if persona.user_id not in state.users:
                parts = persona.name.split()
                first = parts[-1] if len(parts) > 1 else persona.name
                last = " ".join(parts[:-1]) or None
                state.add_user(first, last_name=last, language_code=persona.language, user_id=persona.user_id)

    def clear_chats(self) -> None:
        """Forget every chat, button press and pending update, as if nobody had written yet."""
        state = self.emulator.state
        bot = self.emulator.bot
        for key in [k for k in state.conversations if k[0] == bot.id]:
            del state.conversations[key]
        for query_id in [q for q, c in state.callbacks.items() if c.bot_id == bot.id]:
            del state.callbacks[query_id]
        bot.updates.clear()
        bot.commands.clear()
        state.chat_actions.clear()
        kept = [e for e in state.events if e.get("bot_id") != bot.id]
        state.events.clear()
        state.events.extend(kept)
        state.notify()

    # ---- the bot ----------------------------------------------------------------------------------
    async def start_bot(self) -> None:
        from bot.app import build_app

        assert self.settings is not None
        calls_before = self.emulator.state.calls.get("getUpdates", 0)
        self._app = build_app(self.settings)
        self._poll_task = asyncio.create_task(
            self._app.run_polling(auto_upgrade=True, handle_signals=False), name="sandbox-bot"
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_TIMEOUT
        while self.emulator.state.calls.get("getUpdates", 0) <= calls_before:
            if self._poll_task.done():
                exc = self._poll_task.exception()
                raise SandboxError(f"the bot stopped while starting: {exc!r}")
            if loop.time() > deadline:
                raise SandboxError("the bot did not start polling the emulator within a minute")
            await asyncio.sleep(0.05)

    async def stop_bot(self) -> None:
        task, app = self._poll_task, self._app
        self._poll_task = self._app = None
        if task is None:
            return
        if not task.done() and app is not None:
            with contextlib.suppress(RuntimeError, TimeoutError):
                await asyncio.wait_for(app.dp.stop_polling(), timeout=15)
        # Let run_polling finish its own clean-up (it closes the app and detaches the routers, which
        # the next build_app needs); cancel only if it hangs.
        await asyncio.wait({task}, timeout=15)
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        # Handlers run as tasks: give the last ones a moment before the database changes under them.
        await asyncio.sleep(0.2)

    # ---- lifecycle --------------------------------------------------------------------------------
    async def start(self) -> str:
        """Everything up; returns the web chat's address. On failure nothing is left running."""
        try:
            return await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> str:
        from bot.sandbox.webchat import EmulatorBridge, create_app

        api_url = await self.emulator.start(self.options.emulator_host, self.options.emulator_port)
        # The web port first: a port in use is reported at once, not after seeding.
        bridge = EmulatorBridge(api_url, SANDBOX_TOKEN)
        app = create_app(
            bridge,
            lambda: self.personas,
            reset=self.reset,
            bot_info={"name": BOT_NAME, "username": BOT_USERNAME},
        )
        self._web_runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0)
        await self._web_runner.setup()
        site = web.TCPSite(self._web_runner, self.options.host, self.options.port)
        try:
            await site.start()
        except OSError as exc:
            why = "the port is in use" if exc.errno == errno.EADDRINUSE else str(exc.strerror or exc)
            raise SandboxError(
                f"cannot serve the web chat on {self.options.host}:{self.options.port} ({why}): "
                "set CCHC_SANDBOX_PORT or pass --port"
            ) from None
        sockets = getattr(site._server, "sockets", None) or []
        port = sockets[0].getsockname()[1] if sockets else self.options.port

        self.settings = self._settings(api_url)
        await self.prepare_database(self.settings)
        await self.continue_update_ids(self.settings)
        self.personas = await read_personas(self.settings)
        if not self.personas:
            log.warning("the demo database has no people with roles: the persona picker is empty")
        self.add_persona_users()
        await self.start_bot()
        self.url = f"http://{self.options.host}:{port}"
        return self.url

    async def reset(self) -> None:
        """Back to the seeded demo: database, evidence files, chats and command menus."""
        async with self._reset_lock:
            assert self.settings is not None
            log.info("resetting the demo")
            await self.stop_bot()
            await self.restore_database(self.settings)
            self.clear_chats()
            await self.continue_update_ids(self.settings)
            self.personas = await read_personas(self.settings)
            self.add_persona_users()
            await self.start_bot()

    async def stop(self) -> None:
        if self._web_runner is not None:
            await self._web_runner.cleanup()
            self._web_runner = None
        await self.stop_bot()
        await self.emulator.stop()

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def describe(url: str, personas: Sequence[Persona]) -> str:
    lines = [
        "",
        f"  Sandbox ready: open {url} in a browser.",
        "  (the real bot on a local Telegram emulator with the demo province; Ctrl+C stops it)",
        "",
    ]
    for p in personas:
        unit = f" — {p.unit}" if p.unit else ""
        lines.append(f"    · {p.name}: {p.role_label}{unit}")
    lines.append("")
    return "\n".join(lines)


async def run_sandbox(options: SandboxOptions, base: Settings | None = None) -> None:
    """Serve until cancelled (Ctrl+C)."""
    sandbox = Sandbox(options, base)
    url = await sandbox.start()
    try:
        print(describe(url, sandbox.personas), flush=True)
        await asyncio.Event().wait()
    finally:
        await sandbox.stop()

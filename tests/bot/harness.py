"""End-to-end harness: the Bot API emulator, a migrated SQLite database, the real bot (in-process
through `build_app`, or as a `python -m bot run` subprocess that a test can SIGKILL and restart),
a `Seeder` writing test data through the services, and `BotClient` acting as people.

Fixtures live in tests/bot/conftest.py; tests of other features import the helpers from here:

    from tests.bot.harness import BotClient, register
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiogram import Router
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App, build_app
from bot.config import Settings, load_settings
from bot.db.engine import make_engine, make_sessionmaker
from bot.sandbox.emulator import DEFAULT_TOKEN, Emulator, EmulatorClient
from bot.services.actor import Actor
from bot.services.agencies import create_agency
from bot.services.criteria import store_criteria_set
from bot.services.invites import create_invite
from bot.services.periods import create_period, open_period
from bot.services.units import UnitRow, upsert_units

ROOT = Path(__file__).resolve().parents[2]
CRITERIA_DIR = ROOT / "bot" / "criteria"
JSON = dict[str, Any]
SYSTEM = Actor.system("test")


class Seeder:
    """Test data through the same services the CLI uses (each call is one committed transaction)."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self.engine = make_engine(db_url)
        self.sessionmaker = make_sessionmaker(self.engine)

    async def close(self) -> None:
        await self.engine.dispose()

    def session(self) -> AsyncSession:
        return self.sessionmaker()

    async def unit(
        self, code: str = "SNV", name: str = "Sở Nội vụ", unit_type: str = "so", group: str = "SO"
    ) -> str:
        async with self.session() as s:
            await upsert_units(s, SYSTEM, [UnitRow(code, name, unit_type, group, "Sở, ban, ngành")])
            await s.commit()
        return code

    async def agency(self, code: str = "noi_vu", name: str = "Sở Nội vụ") -> str:
        async with self.session() as s:
            await create_agency(s, SYSTEM, code, name)
            await s.commit()
        return code

    async def invite(
        self,
        role: str,
        unit_code: str | None = None,
        agency_code: str | None = None,
        *,
        max_uses: int = 1,
        days: int = 7,
        now: datetime | None = None,
    ) -> str:
        """A fresh invite code; `now` in the past (with `days`) makes an expired one."""
        async with self.session() as s:
            info = await create_invite(
                s,
                SYSTEM,
                role,
                unit_code=unit_code,
                agency_code=agency_code,
                max_uses=max_uses,
                days=days,
                now=now,
            )
        return info.code

    async def expired_invite(self, role: str, unit_code: str | None = None) -> str:
        return await self.invite(role, unit_code, now=datetime.now(UTC) - timedelta(days=10), days=1)

    async def criteria(self, filename: str = "2025-so.yaml") -> str:
        """Store a shipped criteria set; returns its code."""
        from bot.scoring.loader import load_criteria_set

        cs = load_criteria_set(CRITERIA_DIR / filename)
        async with self.session() as s:
            stored = await store_criteria_set(s, SYSTEM, cs)
        return stored.code

    async def period(
        self,
        year: int = 2025,
        criteria: dict[str, str] | None = None,
        *,
        open_now: bool = True,
        stages: dict[str, datetime] | None = None,
    ) -> int:
        """A period with the 2025 sample set for departments (stored if needed), opened by default."""
        if criteria is None:
            criteria = {"so": await self.criteria("2025-so.yaml")}
        if stages is None:
            stages = {"self_assessment": datetime.now(UTC) + timedelta(days=30)}
        async with self.session() as s:
            await create_period(s, SYSTEM, year, criteria, stages=stages)
        if open_now:
            async with self.session() as s:
                await open_period(s, SYSTEM, year)
        return year


class BotClient(EmulatorClient):
    """An emulator client that also knows the test database (`seed`), for `register`."""

    def __init__(self, base_url: str, seed: Seeder) -> None:
        super().__init__(base_url)
        self.seed = seed

    async def say(self, user: JSON, text: str, expect: str | None = None, timeout: float = 10) -> JSON:  # noqa: ASYNC109
        """Send text (or a /command) as `user` and return the bot's next message (matching `expect`)."""
        await self.send_text(user["id"], text)
        return await self.wait_for(expect, chat_id=user["id"], timeout=timeout)

    async def answered(self, query_id: str, timeout: float = 5) -> JSON:  # noqa: ASYNC109
        """The callback query's record once the bot has answered it (TimeoutError if it never does)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            record = await self.callback(query_id)
            if record["answered"]:
                return record
            if loop.time() > deadline:
                raise TimeoutError(f"callback {query_id} was not answered within {timeout}s")
            await asyncio.sleep(0.02)

    async def texts(self, user: JSON) -> list[str]:
        """Every bot message text in the person's private chat, oldest first."""
        return [
            str(m.get("text") or m.get("caption") or "")
            for m in await self.transcript(user["id"])
            if m.get("from", {}).get("is_bot")
        ]


_user_counter = 0


async def new_user(client: EmulatorClient, first_name: str | None = None, language_code: str = "vi") -> JSON:
    global _user_counter
    _user_counter += 1
    name = first_name or f"Người dùng {_user_counter}"
    return await client.create_user(name, language_code=language_code, username=f"user{_user_counter}")


async def register(
    client: BotClient,
    unit_code: str | None,
    role: str,
    *,
    agency_code: str | None = None,
    user: JSON | None = None,
    first_name: str | None = None,
    language_code: str = "vi",
    timeout: float = 10,  # noqa: ASYNC109
) -> JSON:
    """Create an invite for (unit or agency, role), send `/start <code>` as a (new) person and wait
    for the confirmation; returns the emulator user (dict with "id")."""
    code = await client.seed.invite(role, unit_code, agency_code)
    user = user or await new_user(client, first_name, language_code)
    await client.send_command(user["id"], "start", code)
    # The confirmation is followed by /help, which lists /whoami: wait for it, so a failed
    # registration raises here with what the bot said, and the next action starts clean.
    await client.wait_for("/whoami", chat_id=user["id"], timeout=timeout)
    return user


def bot_settings(emulator: Emulator, db_url: str, evidence_dir: Path, **extra: Any) -> Settings:
    return load_settings(
        bot_token=emulator.token,
        telegram_api_url=emulator.url,
        database_url=db_url,
        evidence_dir=evidence_dir,
        **extra,
    )


def bot_env(emulator: Emulator | None, db_url: str, evidence_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of `python -m bot run` against `emulator`; `extra` overrides (CCHC_...=...)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCHC_")}
    env.update(
        CCHC_BOT_TOKEN=emulator.token if emulator else DEFAULT_TOKEN,
        CCHC_TELEGRAM_API_URL=emulator.url if emulator else "http://127.0.0.1:9",
        CCHC_DATABASE_URL=db_url,
        CCHC_EVIDENCE_DIR=str(evidence_dir),
        CCHC_LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class InProcessBot:
    """The bot in the test's event loop, through `build_app` and `App.run_polling` (no signals)."""

    def __init__(self, settings: Settings, extra_routers: list[Router] | None = None) -> None:
        self.settings = settings
        self.extra_routers = extra_routers or []
        self.app: App | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, timeout: float = 15) -> App:  # noqa: ASYNC109
        self.app = build_app(self.settings)
        for router in self.extra_routers:  # test-only handlers, ahead of everything else
            self.app.dp.include_router(router)
            self.app.dp.sub_routers.insert(0, self.app.dp.sub_routers.pop())
            self.app.routers.append(router)
        self._task = asyncio.create_task(self.app.run_polling(handle_signals=False))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.app.dp._running_lock.locked():  # polling started
            if self._task.done():
                self._task.result()
            if loop.time() > deadline:
                raise TimeoutError("the bot did not start polling")
            await asyncio.sleep(0.02)
        return self.app

    async def stop(self) -> None:
        if self.app is None or self._task is None:
            return
        with contextlib.suppress(RuntimeError):
            await self.app.dp.stop_polling()
        try:
            await asyncio.wait_for(self._task, 10)
        except TimeoutError:
            self._task.cancel()
        self.app = None
        self._task = None


@dataclass
class BotProcess:
    """`python -m bot run` as a child process; its log goes to `log_path`."""

    env: dict[str, str]
    log_path: Path
    args: tuple[str, ...] = ("run",)
    ready_marker: str = "Start polling"  # aiogram's log line once updates are being fetched
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    async def start(self, timeout: float = 30) -> None:  # noqa: ASYNC109
        self.starts += 1
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(  # noqa: ASYNC220 - returns at once; the loop below waits
            [sys.executable, "-m", "bot", *self.args], env=self.env, cwd=ROOT, stdout=log, stderr=log
        )
        log.close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            text = self.log_text(offset)
            if self.ready_marker in text:
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"the bot exited with {self.proc.returncode}:\n{text}")
            if loop.time() > deadline:
                raise TimeoutError(f"the bot did not start within {timeout}s:\n{text}")
            await asyncio.sleep(0.05)

    def log_text(self, offset: int = 0) -> str:
        if not self.log_path.exists():
            return ""
        return self.log_path.read_bytes()[offset:].decode("utf-8", "replace")

    def kill(self) -> None:
        """SIGKILL: no clean-up at all, as when the machine loses power."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    async def stop(self, timeout: float = 15) -> int | None:  # noqa: ASYNC109
        """SIGTERM and wait for a clean exit; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while self.proc.poll() is None:
                if loop.time() > deadline:
                    self.kill()
                    break
                await asyncio.sleep(0.05)
        return self.proc.returncode

    async def restart(self) -> None:
        await self.stop()
        await self.start()

"""Fixtures for end-to-end bot tests (see tests/bot/harness.py for the helpers).

    async def test_x(bot: App, client: BotClient, seed: Seeder) -> None:          # in-process bot
        await seed.unit("SNV")
        user = await register(client, "SNV", "officer")
        reply = await client.say(user, "/whoami", expect="Sở Nội vụ")

    async def test_y(bot_process: BotProcess, client: BotClient) -> None:         # subprocess
        bot_process.kill(); await bot_process.start()

Each test gets its own emulator (random port), its own migrated SQLite file and evidence dir.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App
from bot.config import Settings
from bot.sandbox.emulator import Emulator
from tests.bot.harness import BotClient, BotProcess, InProcessBot, Seeder, bot_env, bot_settings


@pytest.fixture
def evidence_dir(tmp_path: Path) -> Path:
    path = tmp_path / "evidence"
    path.mkdir()
    return path


@pytest.fixture
def bot_db_url(sqlite_url: str) -> str:
    """A migrated SQLite database of this test (the root conftest's template copy)."""
    return sqlite_url


@pytest.fixture
async def seed(bot_db_url: str) -> AsyncIterator[Seeder]:
    seeder = Seeder(bot_db_url)
    yield seeder
    await seeder.close()


@pytest.fixture
async def client(emulator: Emulator, seed: Seeder) -> AsyncIterator[BotClient]:
    client = BotClient(emulator.url, seed)
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
def settings(emulator: Emulator, bot_db_url: str, evidence_dir: Path) -> Settings:
    return bot_settings(emulator, bot_db_url, evidence_dir)


@pytest.fixture
async def inprocess_bot(settings: Settings) -> AsyncIterator[InProcessBot]:
    runner = InProcessBot(settings)
    await runner.start()
    yield runner
    await runner.stop()


@pytest.fixture
async def bot(inprocess_bot: InProcessBot) -> App:
    """The bot running in the test's event loop (same `build_app` as `cchc-bot run`)."""
    assert inprocess_bot.app is not None
    return inprocess_bot.app


@pytest.fixture
async def bot_process(
    emulator: Emulator, bot_db_url: str, evidence_dir: Path, tmp_path: Path
) -> AsyncIterator[BotProcess]:
    """The real `python -m bot run` against the emulator; `kill()` (SIGKILL) and `start()` again."""
    process = BotProcess(env=bot_env(emulator, bot_db_url, evidence_dir), log_path=tmp_path / "bot.log")
    await process.start()
    yield process
    code = await process.stop()
    # Shown by pytest only when the test failed.
    print(f"--- bot log (exit code {code}) ---\n{process.log_text()}")

"""The real `python -m bot run` process: start-up checks, SIGKILL and restart, clean SIGTERM."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from aiogram.fsm.storage.base import StorageKey

from bot.db.engine import make_engine, make_sessionmaker
from bot.sandbox.emulator import Emulator
from bot.storage import DbStorage
from tests.bot.harness import ROOT, BotClient, BotProcess, Seeder, bot_env, new_user, register

pytestmark = pytest.mark.slow


async def test_kill_9_and_restart_keeps_registration_and_conversation_state(
    bot_process: BotProcess, emulator: Emulator, client: BotClient, seed: Seeder, bot_db_url: str
) -> None:
    await seed.unit("SNV", "Sở Nội vụ")
    user = await register(client, "SNV", "officer")
    log = bot_process.log_text()
    assert f"Connected as @{emulator.bot.username} ({emulator.bot.id}) to {emulator.url}" in log

    # A conversation in progress (as a feature would leave it), then the power goes out.
    key = StorageKey(bot_id=emulator.bot.id, chat_id=user["id"], user_id=user["id"])
    engine = make_engine(bot_db_url)
    try:
        await DbStorage(make_sessionmaker(engine)).set_state(key, "Scoring:value")
    finally:
        await engine.dispose()
    bot_process.kill()
    await client.send_text(user["id"], "/whoami")  # sent while the bot is down
    await bot_process.start()

    reply = await client.wait_for(chat_id=user["id"], timeout=15)
    assert "Cán bộ đầu mối CCHC — Sở Nội vụ" in reply["text"]
    reply = await client.say(user, "/cancel")
    assert reply["text"].startswith("Đã hủy"), "the state written before the crash was lost"
    texts = await client.texts(user)
    assert sum("Chào mừng" in t for t in texts) == 1  # nothing handled twice after the restart

    assert await bot_process.stop() == 0  # SIGTERM: clean exit


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )


async def test_wrong_token_is_one_clear_line(emulator: Emulator, bot_db_url: str, evidence_dir: Path) -> None:
    env = bot_env(emulator, bot_db_url, evidence_dir, CCHC_BOT_TOKEN="987654321:WrongTokenWrongToken")
    result = await asyncio.to_thread(_run, env, "run")
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: the bot token was refused") and "CCHC_BOT_TOKEN" in last
    assert "Traceback" not in result.stderr


async def test_unmigrated_database_is_one_clear_line(emulator: Emulator, tmp_path: Path) -> None:
    env = bot_env(emulator, f"sqlite+aiosqlite:///{tmp_path / 'new.sqlite3'}", tmp_path)
    result = await asyncio.to_thread(_run, env, "run")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "error: the database is not up to date: run `cchc-bot db upgrade` first"
    )


async def test_unreachable_api_is_one_clear_line(bot_db_url: str, tmp_path: Path) -> None:
    env = bot_env(None, bot_db_url, tmp_path, CCHC_TELEGRAM_API_URL="http://127.0.0.1:9")
    result = await asyncio.to_thread(_run, env, "run")
    assert result.returncode == 1
    assert "cannot reach the Bot API at http://127.0.0.1:9" in result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("suffix", ["/x?y", "/not-a-bot-api"])
async def test_a_wrong_api_url_is_one_line_naming_the_variable(
    emulator: Emulator, bot_db_url: str, tmp_path: Path, suffix: str
) -> None:
    """Issue 13, defect 6: a query string, or a server that answers but is no Bot API, is one line
    naming CCHC_TELEGRAM_API_URL, not a traceback."""
    env = bot_env(emulator, bot_db_url, tmp_path, CCHC_TELEGRAM_API_URL=emulator.url + suffix)
    result = await asyncio.to_thread(_run, env, "run")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "CCHC_TELEGRAM_API_URL" in last, last


async def test_no_token_is_one_clear_line(bot_db_url: str, tmp_path: Path) -> None:
    result = await asyncio.to_thread(_run, bot_env(None, bot_db_url, tmp_path, CCHC_BOT_TOKEN=""), "run")
    assert result.returncode == 1
    assert "CCHC_BOT_TOKEN is not set" in result.stderr


async def test_unregistered_user_before_registration_in_process(
    bot_process: BotProcess, client: BotClient
) -> None:
    user = await new_user(client)
    reply = await client.say(user, "/score")
    assert reply["text"].startswith("Bạn chưa được mời tham gia")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])

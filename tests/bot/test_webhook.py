"""Webhook mode through the real `python -m bot run --webhook` process (issue 13, defect 3).

Never open: without CCHC_WEBHOOK_SECRET it does not start; a forged POST without the secret or with
a wrong one gets 401 and changes nothing; the emulator, like Telegram, sends the secret it was given
by setWebhook and is served. `GET /healthz` says whether the process can serve."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.db.models import AuditLog, Invite, Person
from bot.sandbox.emulator import Emulator
from tests.bot.harness import BotClient, BotProcess, Seeder, bot_env, new_user, register
from tests.bot.test_process import _free_port, _run

pytestmark = pytest.mark.slow

SECRET = "s3cret-Token_1"


def webhook_env(
    emulator: Emulator, db_url: str, evidence_dir: Path, port: int, **extra: str
) -> dict[str, str]:
    return bot_env(
        emulator,
        db_url,
        evidence_dir,
        CCHC_WEBHOOK_URL=f"http://127.0.0.1:{port}",
        CCHC_WEBHOOK_HOST="127.0.0.1",
        CCHC_WEBHOOK_PORT=str(port),
        **extra,
    )


async def test_webhook_mode_without_a_secret_does_not_start(
    emulator: Emulator, bot_db_url: str, evidence_dir: Path
) -> None:
    env = webhook_env(emulator, bot_db_url, evidence_dir, _free_port())
    result = await asyncio.to_thread(_run, env, "run", "--webhook")
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: webhook mode needs CCHC_WEBHOOK_SECRET"), result.stderr
    assert "Traceback" not in result.stderr
    assert emulator.bot.webhook_url in (None, "")  # nothing was registered

    bad = webhook_env(emulator, bot_db_url, evidence_dir, _free_port(), CCHC_WEBHOOK_SECRET="with space")
    result = await asyncio.to_thread(_run, bad, "run", "--webhook")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: CCHC_WEBHOOK_SECRET: expected")


async def _state(seed: Seeder) -> tuple[int, int, int]:
    async with seed.session() as s:
        people = await s.scalar(select(func.count()).select_from(Person))
        uses = await s.scalar(select(func.coalesce(func.sum(Invite.uses), 0)))
        audit = await s.scalar(select(func.count()).select_from(AuditLog))
    return int(people or 0), int(uses or 0), int(audit or 0)


def _start_update(update_id: int, user: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 900_000 + update_id % 1000,
            "date": int(time.time()),
            "chat": {"id": user["id"], "type": "private", "first_name": user["first_name"]},
            "from": {
                "id": user["id"],
                "is_bot": False,
                "first_name": user["first_name"],
                "language_code": "vi",
            },
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
        },
    }


async def test_forged_posts_are_refused_and_change_nothing(
    emulator: Emulator, client: BotClient, seed: Seeder, bot_db_url: str, evidence_dir: Path, tmp_path: Path
) -> None:
    port = _free_port()
    env = webhook_env(emulator, bot_db_url, evidence_dir, port, CCHC_WEBHOOK_SECRET=SECRET)
    process = BotProcess(env, tmp_path / "webhook.log", args=("run", "--webhook"), ready_marker="webhook at")
    await process.start()
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    try:
        assert emulator.bot.webhook_secret == SECRET
        await seed.unit("SNV", "Sở Nội vụ")
        officer = await register(client, "SNV", "officer")  # through the emulator: the secret is sent
        assert "Cán bộ đầu mối CCHC" in (await client.say(officer, "/whoami"))["text"]

        # An attacker who knows an invite code (or guesses the URL) posts a /start as a stranger.
        code = await seed.invite("secretariat")
        stranger = await new_user(client, "Kẻ giả mạo")
        before = await _state(seed)
        heard = len(await client.transcript(stranger["id"]))
        async with aiohttp.ClientSession() as http:
            for n, headers in enumerate([{}, {"X-Telegram-Bot-Api-Secret-Token": "guess"}], start=1):
                forged = _start_update(990_000_000 + n, stranger, f"/start {code}")
                async with http.post(url, json=forged, headers=headers) as resp:
                    assert resp.status == 401, await resp.text()
            await asyncio.sleep(0.5)
            assert await _state(seed) == before  # nobody registered, no invite used, no audit row
            assert len(await client.transcript(stranger["id"])) == heard  # and the bot said nothing

            # The same update with the right secret is acted on: the refusal above is what stopped it.
            forged = _start_update(990_000_009, stranger, f"/start {code}")
            async with http.post(
                url, json=forged, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
            ) as resp:
                assert resp.status == 200
            assert (await _state(seed))[0] == before[0] + 1

            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                body = await resp.json()
                assert resp.status == 200, body
                assert (
                    body["status"] == "ok"
                    and body["database"] == "ok"
                    and body["schema"] == body["schema_head"]
                )
    finally:
        assert await process.stop() == 0, process.log_text()
    # Several processes share the webhook: one stopping leaves it registered for the others.
    assert emulator.bot.webhook_url == url

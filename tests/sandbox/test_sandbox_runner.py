"""`cchc-bot sandbox` without a browser: seeded once, the real bot answers in the web chat, reset restores."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.db.engine import make_engine, make_sessionmaker
from bot.db.models import AuditLog
from bot.sandbox.runner import Sandbox, SandboxOptions

pytestmark = pytest.mark.slow


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    box = Sandbox(SandboxOptions(data_dir=tmp_path / "sandbox", port=0))
    await box.start()
    try:
        yield box
    finally:
        await box.stop()


async def audit_rows(box: Sandbox) -> int:
    assert box.settings is not None
    engine = make_engine(box.settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            return int((await session.execute(select(func.count()).select_from(AuditLog))).scalar_one())
    finally:
        await engine.dispose()


async def say(box: Sandbox, http: aiohttp.ClientSession, user_id: int, text: str) -> list[str]:
    """Send as the person through the web chat; the texts of the bot's answers to that message."""
    resp = await http.post(f"{box.url}/api/chats/{user_id}/text", json={"text": text})
    assert resp.status == 200
    sent_id = (await resp.json())["message"]["message_id"]
    conv = box.emulator.state.conversations[(box.emulator.bot.id, user_id)]
    for _ in range(300):
        answers = [m.get("text", "") for i, m in conv.messages.items() if i > sent_id and m["from"]["is_bot"]]
        if answers:
            return answers
        await asyncio.sleep(0.05)
    raise AssertionError(f"the bot did not answer {text!r}")


async def test_personas_are_the_demo_people_and_the_bot_answers_them(sandbox: Sandbox) -> None:
    roles = [p.role for p in sandbox.personas]
    assert {"officer", "unit_head", "appraiser", "leader", "secretariat"} <= set(roles)
    assert all(p.user_id in sandbox.emulator.state.users for p in sandbox.personas)
    officer = next(p for p in sandbox.personas if p.role == "officer")
    async with aiohttp.ClientSession() as http:
        texts = await say(sandbox, http, officer.user_id, "/start")
        info = await (await http.get(f"{sandbox.url}/api/info")).json()
    assert [p["user_id"] for p in info["personas"]] == [p.user_id for p in sandbox.personas]
    assert officer.name in " ".join(texts)  # the bot knows who this is


async def test_reset_restores_the_seeded_state_and_clears_the_chats(sandbox: Sandbox) -> None:
    officer = next(p for p in sandbox.personas if p.role == "officer")
    assert sandbox.settings is not None
    seeded = await audit_rows(sandbox)
    async with aiohttp.ClientSession() as http:
        await say(sandbox, http, officer.user_id, "/score")
        # what a training session leaves behind: a change in the database, a stored file
        (sandbox.evidence_dir / "added-after-seeding.pdf").write_bytes(b"%PDF")
        engine = make_engine(sandbox.settings.database_url)
        async with make_sessionmaker(engine)() as session:
            session.add(AuditLog(actor_label="test", action="training", entity="test", entity_id="1"))
            await session.commit()
        await engine.dispose()
        assert await audit_rows(sandbox) == seeded + 1

        resp = await http.post(f"{sandbox.url}/api/reset")
        assert resp.status == 200
        messages = await (await http.get(f"{sandbox.url}/api/chats/{officer.user_id}/messages")).json()
        # nothing the person sent is left (seeded notifications may already be delivered again)
        assert all(m["from"]["is_bot"] for m in messages["messages"])
        assert await audit_rows(sandbox) == seeded
        assert not (sandbox.evidence_dir / "added-after-seeding.pdf").exists()
        # the bot is back and answers from the restored data
        assert await say(sandbox, http, officer.user_id, "/start")


async def test_a_second_start_keeps_the_demo_and_the_bot_still_answers(tmp_path: Path) -> None:
    options = SandboxOptions(data_dir=tmp_path / "sandbox", port=0)
    async with Sandbox(options) as first, aiohttp.ClientSession() as http:
        officer = next(p for p in first.personas if p.role == "officer")
        assert await say(first, http, officer.user_id, "/start")
        settings = first.settings
    assert settings is not None
    # A new emulator numbers updates from the start again; the bot must not drop them as duplicates.
    async with Sandbox(options) as second, aiohttp.ClientSession() as http:
        assert await say(second, http, officer.user_id, "/start")
    assert await Sandbox(options).prepare_database(settings) is False  # seeded once, kept
    fresh = Sandbox(SandboxOptions(data_dir=tmp_path / "sandbox", port=0, fresh=True))
    assert await fresh.prepare_database(settings) is True

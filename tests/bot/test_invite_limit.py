"""Guessing invite codes in the chat: after five wrong codes, one sentence says when to try again
(issue 13, defect 8); the services test covers the window and the audit log."""

from __future__ import annotations

from bot.app import App
from bot.services.invites import MAX_FAILED_ATTEMPTS
from tests.bot.harness import BotClient, Seeder, new_user


async def test_wrong_codes_then_a_clear_sentence(bot: App, client: BotClient, seed: Seeder) -> None:
    code = await seed.invite("leader")
    user = await new_user(client)
    for n in range(MAX_FAILED_ATTEMPTS):
        reply = await client.say(user, f"/start doan{n:04d}")
        assert reply["text"].startswith("Mã mời không hợp lệ"), reply["text"]
    reply = await client.say(user, f"/start {code}")
    assert reply["text"].startswith("Bạn đã nhập sai mã mời quá nhiều lần, vui lòng thử lại sau ")
    assert reply["text"].endswith(" phút.")
    other = await new_user(client)
    assert "Chào mừng" in (await client.say(other, f"/start {code}"))["text"]

"""A person's replies are not lost to Telegram's flood control (found by the scale-out test: ten
people asking while a broadcast used the bot's overall budget; some answers came back 429). The
bot waits the second Telegram asks for and sends the reply once more."""

from __future__ import annotations

import asyncio

from bot.app import App
from bot.sandbox.emulator import Emulator
from tests.bot.harness import BotClient, Seeder, register


async def test_quick_commands_are_all_answered_under_flood_limits(
    bot: App, client: BotClient, seed: Seeder, emulator: Emulator
) -> None:
    await seed.unit("SNV", "Sở Nội vụ")
    user = await register(client, "SNV", "officer")
    await asyncio.sleep(1.5)
    emulator.state.flood.configure(True, private_burst=1, private_per_second=1)
    for _ in range(3):
        await client.send_text(user["id"], "/whoami")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while True:
        answers = [t for t in await client.texts(user) if "Vai trò" in t]
        if len(answers) == 3 or loop.time() > deadline:
            break
        await asyncio.sleep(0.1)
    assert len(answers) == 3, await client.texts(user)

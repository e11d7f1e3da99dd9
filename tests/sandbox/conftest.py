"""Fixtures: a real aiogram Bot pointed at the emulator (tests/conftest.py), and a people client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.sandbox.emulator import Emulator, EmulatorClient


@pytest.fixture
async def bot(emulator: Emulator) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(emulator.url))
    tg = Bot(emulator.token, session=session)
    yield tg
    await tg.session.close()


@pytest.fixture
async def people(emulator: Emulator) -> AsyncIterator[EmulatorClient]:
    async with EmulatorClient(emulator.url) as client:
        yield client

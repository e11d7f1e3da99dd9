"""An emulator per test, and a control-API client for it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.sandbox.emulator import Emulator, EmulatorClient


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    emulator = Emulator()
    await emulator.start("127.0.0.1", 0)
    yield emulator
    await emulator.stop()


@pytest.fixture
async def control(emulator: Emulator) -> AsyncIterator[EmulatorClient]:
    async with EmulatorClient(emulator.url) as client:
        yield client

"""Local Telegram Bot API emulator: the bot, its tests and the web chat run without Telegram."""

from .client import EmulatorClient, EmulatorError
from .server import DEFAULT_TOKEN, Emulator, run_emulator
from .state import EmulatorState

__all__ = ["DEFAULT_TOKEN", "Emulator", "EmulatorClient", "EmulatorError", "EmulatorState", "run_emulator"]

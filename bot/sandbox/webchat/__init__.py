"""The sandbox's web chat: a Telegram-like page in the browser, talking to the emulator."""

from .bridge import BridgeError, EmulatorBridge
from .server import create_app

__all__ = ["BridgeError", "EmulatorBridge", "create_app"]

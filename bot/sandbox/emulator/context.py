"""What every Bot API method handler receives."""

from __future__ import annotations

from dataclasses import dataclass

from .params import Params
from .state import BotAccount, EmulatorState


@dataclass
class Ctx:
    state: EmulatorState
    bot: BotAccount
    params: Params

"""Flood limits modelled on Telegram's published bot limits.

Telegram allows about 30 messages per second across all chats, about one per second in a private chat
(short bursts tolerated) and 20 per minute in a group. A broadcaster that ignores 429 loses messages in
production, so tests switch this on to prove the outbox honours retry_after.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass


@dataclass
class FloodLimits:
    global_per_second: int = 30
    private_per_second: float = 1.0
    private_burst: int = 3
    group_per_minute: int = 20


class FloodControl:
    """Sliding windows (global, group) and a token bucket (private chat); off by default."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.enabled = False
        self.limits = FloodLimits()
        self._clock = clock
        self._global: dict[int, deque[float]] = {}
        self._groups: dict[tuple[int, int], deque[float]] = {}
        self._private: dict[tuple[int, int], tuple[float, float]] = {}

    def configure(self, enabled: bool, **limits: float) -> dict[str, object]:
        self.enabled = enabled
        for key, value in limits.items():
            if value is not None and hasattr(self.limits, key):
                current = getattr(self.limits, key)
                setattr(self.limits, key, type(current)(value))
        self._global.clear()
        self._groups.clear()
        self._private.clear()
        return {"enabled": self.enabled, **asdict(self.limits)}

    def check(self, bot_id: int, chat_id: int, private: bool) -> int | None:
        """Return retry_after in seconds if this send is over a limit, else record it and return None."""
        if not self.enabled:
            return None
        now = self._clock()
        lim = self.limits
        window = self._global.setdefault(bot_id, deque())
        while window and window[0] <= now - 1.0:
            window.popleft()
        waits: list[float] = []
        if len(window) >= lim.global_per_second:
            waits.append(window[0] + 1.0 - now)
        if private:
            tokens, last = self._private.get((bot_id, chat_id), (float(lim.private_burst), now))
            tokens = min(float(lim.private_burst), tokens + (now - last) * lim.private_per_second)
            if tokens < 1.0:
                waits.append((1.0 - tokens) / lim.private_per_second)
        else:
            group = self._groups.setdefault((bot_id, chat_id), deque())
            while group and group[0] <= now - 60.0:
                group.popleft()
            if len(group) >= lim.group_per_minute:
                waits.append(group[0] + 60.0 - now)
        if waits:
            return max(1, math.ceil(max(waits)))
        window.append(now)
        if private:
            self._private[(bot_id, chat_id)] = (tokens - 1.0, now)
        else:
            self._groups[(bot_id, chat_id)].append(now)
        return None

"""Telegram's sending limits as a local rate limiter, so the sender rarely sees a 429 at all.

Three limits (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this):
about 30 messages per second overall, about one per second in a private chat, 20 per minute in a
group (negative chat ids). The overall limit is a token bucket whose rate adapts: a 429 that is not
explained by our own per-chat pacing means Telegram (or a stricter emulator) wants less, so the rate
drops by a quarter and creeps back up with every success. `retry_after` pauses are absolute: nothing
goes out to that chat (or at all, for an overall 429) before the pause ends.

The clock is injectable (monotonic seconds) so tests can drive it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Limits:
    per_second: float = 30.0  # overall
    private_interval: float = 1.0  # seconds between two messages to one private chat
    group_per_minute: int = 20
    min_per_second: float = 2.0  # the adaptive rate never drops below this
    recover_step: float = 0.05  # messages/s regained per success after a slowdown


class RateLimiter:
    def __init__(self, limits: Limits | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits or Limits()
        self.rate = self.limits.per_second
        self._clock = clock
        self._next_global = 0.0  # earliest moment of the next send overall
        self._paused_until = 0.0  # global retry_after pause
        self._chat_next: dict[int, float] = {}  # earliest next send per chat (pacing and pauses)
        self._chat_last: dict[int, float] = {}  # when the last message to a chat went out

    # -- per chat -------------------------------------------------------------------------------
    def chat_interval(self, chat_id: int) -> float:
        if chat_id < 0:
            return 60.0 / self.limits.group_per_minute
        return self.limits.private_interval

    def chat_wait(self, chat_id: int) -> float:
        """Seconds until this chat may receive the next message (0 when it may now)."""
        return max(0.0, self._chat_next.get(chat_id, 0.0) - self._clock())

    def chat_used(self, chat_id: int) -> bool:
        """Record a send to the chat. Returns True when the chat had another message shortly before,
        so that a 429 for this send may be the chat's own limit rather than the overall one."""
        now = self._clock()
        previous = self._chat_last.get(chat_id)
        self._chat_last[chat_id] = now
        self._chat_next[chat_id] = max(self._chat_next.get(chat_id, 0.0), now + self.chat_interval(chat_id))
        if len(self._chat_next) > 50_000:
            self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
            self._chat_last = {c: t for c, t in self._chat_last.items() if t > now - 120}
        return previous is not None and now - previous < 3 * self.chat_interval(chat_id)

    # -- overall --------------------------------------------------------------------------------
    def global_wait(self) -> float:
        now = self._clock()
        return max(0.0, self._next_global - now, self._paused_until - now)

    def take_global(self) -> float:
        """Reserve the next overall slot; returns how long to sleep before using it."""
        now = self._clock()
        slot = max(now, self._next_global, self._paused_until)
        self._next_global = slot + 1.0 / self.rate
        return slot - now

    async def acquire_global(self) -> None:
        """Wait for an overall slot; a pause that starts while waiting is honoured too."""
        while True:
            delay = self.take_global()
            if delay > 0:
                await asyncio.sleep(delay)
            if self._clock() >= self._paused_until - 1e-3:
                return

    # -- 429 ------------------------------------------------------------------------------------
    def pause_chat(self, chat_id: int, seconds: float) -> None:
        until = self._clock() + seconds
        self._chat_next[chat_id] = max(self._chat_next.get(chat_id, 0.0), until)

    def pause_global(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._clock() + seconds)
        self.rate = max(self.limits.min_per_second, self.rate * 0.75)

    def success(self) -> None:
        if self.rate < self.limits.per_second:
            self.rate = min(self.limits.per_second, self.rate + self.limits.recover_step)

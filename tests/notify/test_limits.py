"""The local rate limiter with a fake clock: per-chat pacing, group pacing, the overall rate, pauses."""

from __future__ import annotations

from bot.notify.limits import Limits, RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_private_chat_once_per_second_and_group_20_per_minute() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock)
    assert limiter.chat_wait(42) == 0
    assert limiter.chat_used(42) is False
    assert limiter.chat_wait(42) == 1.0
    clock.t += 0.5
    assert limiter.chat_wait(42) == 0.5
    assert limiter.chat_used(-100) is False  # a group: 60 / 20 = 3 s apart
    assert limiter.chat_wait(-100) == 3.0
    clock.t += 0.5
    assert limiter.chat_wait(42) == 0
    assert limiter.chat_used(42) is True  # the previous one was 1 s ago: a 429 here may be the chat's


def test_overall_slots_are_spaced_and_pauses_slow_down() -> None:
    clock = FakeClock()
    limiter = RateLimiter(Limits(per_second=20), clock=clock)
    delays = [limiter.take_global() for _ in range(5)]
    assert all(abs(d - 0.05 * i) < 1e-9 for i, d in enumerate(delays))
    clock.t += 1
    limiter.pause_global(3)
    assert limiter.global_wait() == 3
    assert limiter.rate == 15  # a quarter slower after an overall 429
    assert abs(limiter.take_global() - 3) < 1e-9
    for _ in range(200):
        limiter.success()
    assert limiter.rate == 20  # and back to the configured rate with successes


def test_chat_pause_holds_that_chat_only() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock)
    limiter.pause_chat(7, 12)
    assert limiter.chat_wait(7) == 12
    assert limiter.chat_wait(8) == 0
    assert limiter.global_wait() == 0

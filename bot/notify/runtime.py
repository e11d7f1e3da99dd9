"""The notifications beside the dispatcher: one background task of the app runs the scheduler, and
the outbox sender while this process holds the leader lock (see leader.py), and stops both when the
app stops (the sends in flight finish first, then the lock is released).

With several processes exactly one sends: Telegram's overall limit (~30 messages/s) and the pacing
per chat are the bot's, not each process's, so one sender keeps them. A new leader first makes the
messages the old one had in flight due again (`recover_on_start`): when the old leader was killed
mid-send, those few (at most `SenderConfig.concurrency`) may reach their chat twice (at least once,
never lost). Non-leaders try the lock every `LOCK_RETRY` seconds, so a killed leader is replaced
within about that (PostgreSQL drops its advisory lock with the dead connection).

Handlers reach them through the dispatcher's data: `notify: Notifications` — call
`notify.changed()` after a deadline moved (the schedule is re-derived) or after queuing messages
(the sender looks at once instead of at its next poll).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession

from bot.notify.leader import make_leader_lock
from bot.notify.limits import Limits, RateLimiter
from bot.notify.scheduler import Scheduler
from bot.notify.sender import Sender, SenderConfig

if TYPE_CHECKING:
    from bot.app import App


@dataclass
class Notifications:
    sender: Sender
    scheduler: Scheduler
    _tasks: set[asyncio.Task[object]] = field(default_factory=set)

    def changed(self) -> None:
        """Something was queued or a deadline moved: deliver now and re-derive the schedule."""
        self.sender.wake()
        if self.scheduler.is_leader:
            task: asyncio.Task[object] = asyncio.get_running_loop().create_task(self.scheduler.resync())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)


LOCK_RETRY = 2.0  # seconds between a follower's tries of the leader lock
# Telegram's overall limit is about 30 messages a second for the whole bot; the outbox keeps a few of
# them for the replies to people who are using the bot while a broadcast goes out.
OUTBOX_PER_SECOND = 25.0


def build_notifications(app: App) -> Notifications:
    settings = app.settings
    # Its own session, without the bot's retry of refused replies: the sender handles 429 itself.
    own = Bot(app.bot.token, session=AiohttpSession(api=app.bot.session.api), default=app.bot.default)
    sender = Sender(
        own,
        app.sessionmaker,
        SenderConfig(timezone=settings.timezone, recover_on_start=True),
        limiter=RateLimiter(Limits(per_second=OUTBOX_PER_SECOND)),
    )
    lock = make_leader_lock(settings.database_url, app.engine, settings.redis_url)

    async def leading(yes: bool) -> None:
        if yes:
            sender.start()
        else:
            await sender.stop()

    scheduler = Scheduler(
        app.sessionmaker,
        lock,
        timezone=settings.timezone,
        lock_retry=LOCK_RETRY,
        on_enqueued=sender.wake,
        on_leadership=leading,
    )
    return Notifications(sender, scheduler)


async def run_notifications(app: App) -> None:
    """An `App.background` factory: runs until cancelled."""
    notify = build_notifications(app)
    app.dp["notify"] = notify
    try:
        await notify.scheduler.start()
        await asyncio.Event().wait()
    finally:
        await notify.scheduler.stop()
        await notify.sender.stop()
        await notify.sender.bot.session.close()

"""The notifications beside the dispatcher: one background task of the app runs the outbox sender
and the scheduler, and stops both when the app stops (the sends in flight finish first).

Handlers reach them through the dispatcher's data: `notify: Notifications` — call
`notify.changed()` after a deadline moved (the schedule is re-derived) or after queuing messages
(the sender looks at once instead of at its next poll).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.notify.leader import make_leader_lock
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


def build_notifications(app: App) -> Notifications:
    settings = app.settings
    sender = Sender(app.bot, app.sessionmaker, SenderConfig(timezone=settings.timezone))
    lock = make_leader_lock(settings.database_url, app.engine, settings.redis_url)
    scheduler = Scheduler(app.sessionmaker, lock, timezone=settings.timezone, on_enqueued=sender.wake)
    return Notifications(sender, scheduler)


async def run_notifications(app: App) -> None:
    """An `App.background` factory: runs until cancelled."""
    notify = build_notifications(app)
    app.dp["notify"] = notify
    notify.sender.start()
    try:
        await notify.scheduler.start()
        await asyncio.Event().wait()
    finally:
        await notify.scheduler.stop()
        await notify.sender.stop()

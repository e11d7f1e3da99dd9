"""The schedule: APScheduler 3 (AsyncIOScheduler, Asia/Ho_Chi_Minh) run by one leader process.

Where the jobs persist. APScheduler 3's SQLAlchemyJobStore is synchronous and would need a sync
PostgreSQL driver we do not ship (asyncpg only), and pickled jobs go stale when a deadline moves.
So the persistent schedule *is the database*: every job is derived, idempotently, from the periods
table (the deadlines) by `plan_jobs`, with deterministic ids such as
`remind:<period>:self_assessment:<deadline>:7`, added with `replace_existing=True` to an in-memory
job store at start and re-derived every few minutes and after a deadline change (`resync`). What a
job has already done is in the database too: its outbox rows carry idempotency keys built from the
job id and the recipient, and the stage lock checks the period's status, so a job run twice (a
restart, a new leader, a catch-up) sends nothing twice. A job whose time passed while no process was
running is caught up the same local day (reminders, escalations) or at once (stage locks).

Jobs: reminders 7, 3 and 1 days before the self-assessment and explanation deadlines at 08:00 local,
escalations to unit heads at 08:00 the day after them, the stage locks at each deadline, the
appraisers' digest every day at 08:00. Only the holder of the leader lock (see leader.py) runs them;
the others retry the lock every `lock_retry` seconds. `on_leadership(True/False)` tells the owner
when this process starts or stops leading (the bot runs its outbox sender under the same lock).

The clock is injectable (`now`) so tests can plan and fire jobs at any local time; with `paused=True`
APScheduler never fires on its own and `run_due(now)` runs what is due at that (fake) moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import database_unavailable
from bot.db.models import Period, PeriodStatus
from bot.notify import reminders
from bot.notify.leader import LeaderLock
from bot.notify.reminders import STAGES, deadline_key

log = logging.getLogger("bot.notify.scheduler")

REMINDER_DAYS = (7, 3, 1)
AT = time(8, 0)
DIGEST_CATCH_UP_UNTIL = time(12, 0)
STATUS_ORDER = [s.value for s in PeriodStatus]
ACTIVE = STATUS_ORDER[STATUS_ORDER.index("self_assessment") : STATUS_ORDER.index("approved")]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class JobSpec:
    id: str
    run_at: datetime  # aware
    action: str  # remind | escalate | lock | digest
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


def _local_at(day_offset: int, deadline: datetime, tz: ZoneInfo, at: time) -> datetime:
    day = deadline.astimezone(tz).date() + timedelta(days=day_offset)
    return datetime.combine(day, at, tzinfo=tz)


def plan_jobs(
    periods: Sequence[Period],
    now: datetime,
    tz: ZoneInfo,
    *,
    reminder_days: Sequence[int] = REMINDER_DAYS,
    at: time = AT,
) -> list[JobSpec]:
    """Every one-off job the periods call for from `now` on (deterministic ids, sorted by time)."""
    today = now.astimezone(tz).date()
    specs: list[JobSpec] = []

    def timed(spec_id: str, when: datetime, action: str, params: dict[str, Any], catch_up: bool) -> None:
        if when > now:
            specs.append(JobSpec(spec_id, when, action, params))
        elif catch_up:
            specs.append(JobSpec(spec_id, now, action, params))

    for period in periods:
        if period.status not in ACTIVE:
            continue
        status_index = STATUS_ORDER.index(period.status)
        for stage in STAGES.values():
            deadline: datetime | None = getattr(period, stage.column)
            if deadline is None:
                continue
            stage_index = STATUS_ORDER.index(stage.name)
            if status_index > stage_index + 1:
                continue  # long past
            base = f"{period.id}:{stage.name}:{deadline_key(deadline)}"
            params = {"period_id": period.id, "stage": stage.name, "deadline": deadline}
            if status_index <= stage_index and stage.next_status is not None:
                timed(f"lock:{base}", deadline, "lock", params, catch_up=period.status == stage.name)
            if not stage.reminders:
                continue
            if status_index <= stage_index or stage.name == "explanation":
                for days in reminder_days:
                    when = _local_at(-days, deadline, tz, at)
                    same_day = when.astimezone(tz).date() == today and now < deadline
                    timed(
                        f"remind:{base}:{days}", when, "remind", {**params, "days": days}, catch_up=same_day
                    )
            when = _local_at(1, deadline, tz, at)
            timed(f"escalate:{base}", when, "escalate", params, catch_up=when.astimezone(tz).date() == today)
    local = now.astimezone(tz)
    if at <= local.time() < DIGEST_CATCH_UP_UNTIL:
        specs.append(JobSpec(f"digest-catch-up:{local.date().isoformat()}", now, "digest"))
    return sorted(specs, key=lambda s: (s.run_at, s.id))


class Scheduler:
    """`await start()` / `await stop()`; `await resync()` after a deadline changed."""

    DIGEST_ID = "digest"
    RESYNC_ID = "resync"

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        lock: LeaderLock,
        *,
        timezone: str = "Asia/Ho_Chi_Minh",
        now: Callable[[], datetime] = utcnow,
        resync_every: float = 300.0,
        lock_retry: float = 30.0,
        paused: bool = False,
        on_enqueued: Callable[[], None] | None = None,
        on_leadership: Callable[[bool], Awaitable[None]] | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.lock = lock
        self.tz = ZoneInfo(timezone)
        self.now = now
        self.resync_every = resync_every
        self.lock_retry = lock_retry
        self.paused = paused
        self.on_enqueued = on_enqueued
        self.on_leadership = on_leadership
        self.aps = AsyncIOScheduler(timezone=self.tz)
        self.is_leader = False
        self.runs: list[str] = []  # ids of jobs run by this process, oldest first
        self._done: set[str] = set()
        self._watch: asyncio.Task[None] | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        self.aps.start(paused=True)
        if await self._try_lead():
            await self._lead()
        self._watch = asyncio.create_task(self._watchdog(), name="scheduler-leader")

    async def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
            self._watch = None
        if self.aps.running:
            self.aps.shutdown(wait=False)
        if self.is_leader:
            self.is_leader = False
            await self._tell(False)  # what runs under the lock finishes before the lock is let go
            await self.lock.release()

    async def _try_lead(self) -> bool:
        try:
            return await self.lock.acquire()
        except Exception as exc:
            quiet = database_unavailable(exc)  # an outage: one line per try, not a traceback
            log.warning("leader lock %s: cannot try: %r", self.lock.description, exc, exc_info=not quiet)
            return False

    async def _lead(self) -> None:
        self.is_leader = True
        log.info("this process runs the schedule (%s)", self.lock.description)
        self.aps.add_job(
            self._digest,
            CronTrigger(hour=AT.hour, minute=AT.minute, timezone=self.tz),
            id=self.DIGEST_ID,
            replace_existing=True,
            coalesce=True,
            misfire_grace_time=3600,
        )
        self.aps.add_job(
            self.resync,
            "interval",
            seconds=self.resync_every,
            id=self.RESYNC_ID,
            replace_existing=True,
            coalesce=True,
        )
        await self.resync()
        if not self.paused:
            self.aps.resume()
        await self._tell(True)

    async def _abdicate(self) -> None:
        log.warning("leadership lost (%s): the schedule stops here", self.lock.description)
        self.is_leader = False
        self.aps.pause()
        self.aps.remove_all_jobs()
        await self._tell(False)

    async def _tell(self, leading: bool) -> None:
        if self.on_leadership is not None:
            try:
                await self.on_leadership(leading)
            except Exception:
                log.exception("leadership change (%s) not handled", leading)

    async def _watchdog(self) -> None:
        while True:
            await asyncio.sleep(self.lock_retry if not self.is_leader else min(self.lock_retry, 10.0))
            try:
                if self.is_leader:
                    if not await self.lock.still_held():
                        await self._abdicate()
                elif await self._try_lead():
                    await self._lead()
            except Exception:  # the database went away mid-way: look again next time
                log.exception("leader watchdog")

    # -- jobs -----------------------------------------------------------------------------------
    async def plan(self) -> list[JobSpec]:
        async with self.sessionmaker() as session:
            periods = list(await session.scalars(select(Period).where(Period.status.in_(ACTIVE))))
        return plan_jobs(periods, self.now(), self.tz)

    async def resync(self) -> list[JobSpec]:
        """Derive the jobs from the periods again: add or replace each, drop those no longer planned."""
        if not self.is_leader:
            return []
        now = self.now()
        specs = [s for s in await self.plan() if s.run_at > now or s.id not in self._done]
        wanted = {s.id for s in specs}
        for job in self.aps.get_jobs():
            if job.id not in wanted and job.id not in (self.DIGEST_ID, self.RESYNC_ID):
                job.remove()
        for spec in specs:
            self.aps.add_job(
                self._execute,
                DateTrigger(spec.run_at.astimezone(self.tz), timezone=self.tz),
                args=[spec],
                id=spec.id,
                replace_existing=True,
                misfire_grace_time=3600,
            )
        return specs

    def jobs(self) -> list[Job]:
        return sorted(
            self.aps.get_jobs(), key=lambda j: (j.next_run_time or datetime.max.replace(tzinfo=UTC), j.id)
        )

    async def _digest(self) -> None:
        await self._execute(JobSpec(self.DIGEST_ID, self.now(), "digest"))

    async def _execute(self, spec: JobSpec) -> Any:
        if not self.is_leader:
            return None
        now = self.now()
        p = spec.params
        try:
            async with self.sessionmaker() as session:
                result: Any
                if spec.action == "remind":
                    result = await reminders.remind_units(
                        session, p["period_id"], p["stage"], p["deadline"], p["days"], now=now, tz=self.tz
                    )
                elif spec.action == "escalate":
                    result = await reminders.escalate_overdue(
                        session, p["period_id"], p["stage"], p["deadline"], now=now, tz=self.tz
                    )
                elif spec.action == "lock":
                    result = await reminders.lock_stage(
                        session, p["period_id"], p["stage"], p["deadline"], now=now, tz=self.tz
                    )
                else:
                    result = await reminders.appraiser_digest(session, now=now, tz=self.tz)
        except Exception:
            log.exception("job %s failed", spec.id)
            return None
        self.runs.append(spec.id)
        self._done.add(spec.id)
        log.info("job %s done: %s", spec.id, result)
        if result and self.on_enqueued is not None:
            self.on_enqueued()
        if spec.action == "lock" and result:
            await self.resync()
        return result

    async def run_due(self, now: datetime | None = None) -> list[str]:
        """Run every job due at `now` (default: the injected clock), as APScheduler would have; for
        tests and for a paused scheduler. Returns the ids run."""
        now = now or self.now()
        ran: list[str] = []
        while True:
            due = [j for j in self.jobs() if j.next_run_time is not None and j.next_run_time <= now]
            due = [j for j in due if j.id != self.RESYNC_ID]
            if not due:
                return ran
            job = due[0]
            ran.append(job.id)
            next_time = job.trigger.get_next_fire_time(job.next_run_time, now + timedelta(microseconds=1))
            if next_time is None:
                job.remove()
            else:
                job.modify(next_run_time=next_time)
            await job.func(*job.args, **job.kwargs)

"""The outbox sender: delivers queued notifications within Telegram's limits, one result at a time.

Loop: claim a small batch of due rows (one per chat, only chats whose pacing allows, see
`store.claim_due`), then each claimed row waits for an overall slot of the rate limiter, goes to the
Bot API and has its result committed before that worker takes anything else. Results:

- sent → `sent`;
- 429 `retry_after` → back to pending after the pause, the attempt given back; the pause applies to
  the chat, or to everything when our own per-chat pacing cannot explain it (then the overall rate
  also slows down). Every 429 is counted, and so is each retry made after its pause ("honoured");
- 403 (blocked, deactivated) → `blocked`, the person marked unreachable and reported to the
  secretariat (see `unreachable.py`), and the chat's other pending rows blocked too;
- 400/404 → `failed` at once (retrying cannot help); anything else (network, 5xx) → retried with
  exponential backoff, `failed` after `max_attempts`.

Crash safety and the in-doubt window are explained in `store.py`. Run it in the bot process
(`Sender(...).start()` / `await sender.stop()`), or alone: `python -m bot.notify.sender --help`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNotFound,
    TelegramRetryAfter,
)
from aiogram.types import (
    FSInputFile,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import database_unavailable
from bot.notify import store
from bot.notify.limits import Limits, RateLimiter
from bot.notify.store import Claimed
from bot.notify.unreachable import record_unreachable

log = logging.getLogger("bot.notify.sender")

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class SenderConfig:
    batch: int = 10  # rows claimed per round trip to the database
    concurrency: int = 8  # Bot API calls in flight (Telegram's latency, not our CPU, is the limit)
    lease: timedelta = timedelta(minutes=2)  # longer than any single send (aiogram's timeout: 60 s)
    send_margin: timedelta = timedelta(seconds=65)  # a claim is only used while this much lease is left
    max_attempts: int = 5
    backoff_base: float = 5.0  # seconds; doubled per attempt
    backoff_max: float = 600.0
    poll_interval: float = 1.0
    report_delay: timedelta = timedelta(seconds=60)  # window that groups blocked people in one report
    recover_on_start: bool | None = None  # release our old claims at start; None: on SQLite only
    timezone: str = "Asia/Ho_Chi_Minh"


@dataclass
class SenderStats:
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    retried: int = 0  # transient errors retried later
    too_many_requests: int = 0  # 429s received
    retry_after_honoured: int = 0  # retries made no earlier than their retry_after allowed
    retry_after_violated: int = 0  # retries made too early (must stay 0)
    retry_after_seconds: float = 0.0
    in_doubt_resent: int = 0  # claims found unfinished after a crash, sent again
    started: float = field(default_factory=time.monotonic)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("started")
        data["seconds"] = round(time.monotonic() - self.started, 2)
        return data


ResultHook = Callable[[Claimed, str], None]


class Sender:
    def __init__(
        self,
        bot: Bot,
        sessionmaker: async_sessionmaker[AsyncSession],
        config: SenderConfig | None = None,
        *,
        limiter: RateLimiter | None = None,
        now: Callable[[], datetime] = utcnow,
        on_result: ResultHook | None = None,
    ) -> None:
        self.bot = bot
        self.sessionmaker = sessionmaker
        self.config = config or SenderConfig()
        self.limiter = limiter or RateLimiter()
        self.stats = SenderStats()
        self.now = now
        self.on_result = on_result
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        self._tz = ZoneInfo(self.config.timezone)
        self._db_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._not_before: dict[int, float] = {}  # outbox id → monotonic end of its 429 pause
        self._task: asyncio.Task[None] | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None:
            self._stop.clear()
            self._task = asyncio.create_task(self.run(), name="outbox-sender")

    async def stop(self) -> None:
        """Stop claiming; let the sends in flight finish and record their results."""
        self._stop.set()
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def wake(self) -> None:
        """New rows were queued in this process: look now instead of at the next poll."""
        self._wake.set()

    async def run(self, stop_event: asyncio.Event | None = None) -> None:
        if stop_event is not None:
            self._stop = stop_event
        try:
            recovered = False
            while not self._stop.is_set():
                try:
                    if not recovered:
                        await self._recover()
                        recovered = True
                    await self._round()
                except Exception as exc:  # the database is away: nothing was claimed, look again shortly
                    log.warning("outbox: %r, trying again", exc, exc_info=not database_unavailable(exc))
                    await self._idle(self.config.poll_interval, wait_tasks=False)
        finally:
            await self._finish_inflight()

    async def run_until_idle(self, timeout: float = 300.0) -> SenderStats:  # noqa: ASYNC109
        """Deliver until nothing is pending any more (tests, benchmarks, the CLI's --until-idle)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        await self._recover()
        try:
            while loop.time() < deadline:
                await self._round()
                if not self._inflight:
                    async with self._db_lock, self.sessionmaker() as session:
                        if await store.next_due_at(session) is None:
                            return self.stats
            raise TimeoutError(f"outbox not empty after {timeout} s: {self.stats.as_dict()}")
        finally:
            await self._finish_inflight()

    # -- the loop -------------------------------------------------------------------------------
    async def _recover(self) -> None:
        recover = self.config.recover_on_start
        if recover is None:
            bind = self.sessionmaker.kw.get("bind")
            recover = bind is not None and bind.dialect.name == "sqlite"
        if recover:
            async with self._db_lock, self.sessionmaker() as session:
                released = await store.release_in_flight(session, self.now())
            if released:
                log.warning("%d message(s) were in flight when the sender stopped: sending again", released)

    async def _round(self) -> None:
        free = self.config.concurrency - len(self._inflight)
        pause = self.limiter.global_wait()
        if free <= 0 or pause > 0.05:
            await self._idle(pause if free > 0 else self.config.poll_interval, wait_tasks=free <= 0)
            return
        async with self._db_lock, self.sessionmaker() as session:
            claimed = await store.claim_due(
                session,
                now=self.now(),
                limit=min(free, self.config.batch),
                lease=self.config.lease,
                worker=self.worker,
                chat_ready=lambda chat_id: self.limiter.chat_wait(chat_id) <= 0,
                exclude=set(self._inflight),
            )
        if not claimed:
            await self._idle(await self._sleep_hint(), wait_tasks=bool(self._inflight))
            return
        for message in claimed:
            chat_paced = self.limiter.chat_used(message.chat_id)
            task = asyncio.create_task(self._deliver(message, chat_paced), name=f"outbox-{message.id}")
            self._inflight[message.id] = task
            task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        for outbox_id, running in list(self._inflight.items()):
            if running is task:
                del self._inflight[outbox_id]

    async def _sleep_hint(self) -> float:
        """How long nothing can be claimed: until the next due row, a chat's pacing, or a poll."""
        async with self._db_lock, self.sessionmaker() as session:
            due = await store.next_due_at(session)
        if due is None:
            return self.config.poll_interval
        return min(self.config.poll_interval, max(0.02, (due - self.now()).total_seconds()))

    async def _idle(self, seconds: float, *, wait_tasks: bool) -> None:
        waiters: list[asyncio.Future[Any]] = [asyncio.ensure_future(self._wake.wait())]
        if wait_tasks and self._inflight:
            waiters.extend(self._inflight.values())
        try:
            await asyncio.wait(waiters, timeout=max(0.0, seconds), return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiters[0].cancel()
        self._wake.clear()

    async def _finish_inflight(self) -> None:
        tasks = list(self._inflight.values())
        if tasks:
            await asyncio.wait(tasks, timeout=30)

    # -- one message ----------------------------------------------------------------------------
    async def _deliver(self, message: Claimed, chat_paced: bool) -> None:
        try:
            await self.limiter.acquire_global()
            if message.lease_until - self.now() < self.config.send_margin:
                async with self._db_lock, self.sessionmaker() as session:
                    await store.release(session, message.id, self.now())
                    await session.commit()
                return
            self._check_pause(message)
            if message.in_doubt:
                self.stats.in_doubt_resent += 1
            status, action = await self._call(message, chat_paced)
            async with self._db_lock, self.sessionmaker() as session:
                await action(session)
                await session.commit()
            if self.on_result is not None:
                self.on_result(message, status)
        except asyncio.CancelledError:
            raise
        except Exception:  # a database hiccup: the lease brings the row back later
            log.exception("outbox %s: could not record the result", message.id)

    def _check_pause(self, message: Claimed) -> None:
        not_before = self._not_before.pop(message.id, None)
        if not_before is None:
            return
        if time.monotonic() + 0.01 >= not_before:
            self.stats.retry_after_honoured += 1
        else:
            self.stats.retry_after_violated += 1
            log.error(
                "outbox %s retried %.2f s before its retry_after", message.id, not_before - time.monotonic()
            )

    async def _call(self, message: Claimed, chat_paced: bool) -> tuple[str, Callable[[AsyncSession], Any]]:
        """Send, and return the status and the database action recording it."""
        now = self.now
        try:
            await self._send(message)
        except TelegramRetryAfter as exc:
            wait = float(exc.retry_after)
            self.stats.too_many_requests += 1
            self.stats.retry_after_seconds += wait
            self._not_before[message.id] = time.monotonic() + wait
            self.limiter.pause_chat(message.chat_id, wait)
            if not chat_paced:
                self.limiter.pause_global(wait)
            when = now() + timedelta(seconds=wait)
            note = f"429 retry after {exc.retry_after}"
            return "retry_after", lambda s: store.mark_retry(s, message.id, when, note, uncount=True)
        except TelegramForbiddenError as exc:
            self.stats.blocked += 1
            reason = str(exc)
            return "blocked", lambda s: self._blocked(s, message, reason)
        except TelegramMigrateToChat as exc:
            new_chat = exc.migrate_to_chat_id
            return "migrated", lambda s: store.change_chat(s, message.id, new_chat, now())
        except (TelegramBadRequest, TelegramNotFound) as exc:
            self.stats.failed += 1
            refusal = str(exc)
            log.warning("outbox %s (%s) refused: %s", message.id, message.kind, refusal)
            return "failed", lambda s: store.mark_failed(s, message.id, refusal)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            if message.attempts >= self.config.max_attempts:
                self.stats.failed += 1
                log.warning("outbox %s failed after %d attempts: %s", message.id, message.attempts, error)
                return "failed", lambda s: store.mark_failed(s, message.id, error)
            self.stats.retried += 1
            delay = min(self.config.backoff_max, self.config.backoff_base * 2 ** (message.attempts - 1))
            when = now() + timedelta(seconds=delay)
            return "retry", lambda s: store.mark_retry(s, message.id, when, error)
        self.stats.sent += 1
        self.limiter.success()
        sent_note: str | None = "sent again after an unfinished attempt" if message.in_doubt else None
        return "sent", lambda s: store.mark_sent(s, message.id, now(), sent_note)

    async def _blocked(self, session: AsyncSession, message: Claimed, error: str) -> None:
        others = await store.mark_chat_blocked(session, message.id, message.chat_id, error)
        self.stats.blocked += len(others)
        await record_unreachable(session, message.person_id, self.now(), self._tz, self.config.report_delay)

    async def _send(self, message: Claimed) -> None:
        payload = message.payload or {}
        markup = _markup(payload.get("reply_markup"))
        document = payload.get("document")
        photo = payload.get("photo")
        if document:
            await self.bot.send_document(
                message.chat_id, _input_file(document), caption=message.text or None, reply_markup=markup
            )
        elif photo:
            await self.bot.send_photo(
                message.chat_id, _input_file(photo), caption=message.text or None, reply_markup=markup
            )
        else:
            await self.bot.send_message(
                message.chat_id, message.text, parse_mode=ParseMode.HTML, reply_markup=markup
            )


def _markup(raw: Any) -> Markup | None:
    if not isinstance(raw, dict):
        return None
    if "inline_keyboard" in raw:
        return InlineKeyboardMarkup.model_validate(raw)
    if "keyboard" in raw:
        return ReplyKeyboardMarkup.model_validate(raw)
    if raw.get("remove_keyboard"):
        return ReplyKeyboardRemove()
    return None


def _input_file(ref: str) -> FSInputFile | str:
    """A local path is uploaded; anything else is taken as a Telegram file_id."""
    path = Path(ref)
    return FSInputFile(path) if path.is_file() else ref


# -- `python -m bot.notify.sender` -----------------------------------------------------------------


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.notify.sender", description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("CCHC_DATABASE_URL"))
    parser.add_argument("--api", default=os.environ.get("CCHC_TELEGRAM_API_URL", "https://api.telegram.org"))
    parser.add_argument("--token", default=os.environ.get("CCHC_BOT_TOKEN"))
    parser.add_argument("--rate", type=float, default=30.0, help="messages per second overall")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--until-idle", action="store_true", help="exit when nothing is pending")
    parser.add_argument(
        "--recover",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="send again at once what a crashed sender left in flight (default: on SQLite only; "
        "with several senders on PostgreSQL leave it off and let the lease expire)",
    )
    parser.add_argument("--progress", action="store_true", help="print '<status> <outbox id>' per result")
    return parser.parse_args(argv)


async def _main(args: argparse.Namespace) -> int:
    from bot.db.engine import make_engine, make_sessionmaker

    if not args.database_url or not args.token:
        print(
            "--database-url and --token (or CCHC_DATABASE_URL, CCHC_BOT_TOKEN) are required", file=sys.stderr
        )
        return 2
    engine = make_engine(args.database_url)
    bot = Bot(
        args.token,
        session=AiohttpSession(api=TelegramAPIServer.from_base(args.api)),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )

    def progress(message: Claimed, status: str) -> None:
        print(f"{status} {message.id}", flush=True)

    sender = Sender(
        bot,
        make_sessionmaker(engine),
        SenderConfig(concurrency=args.concurrency, recover_on_start=args.recover),
        limiter=RateLimiter(Limits(per_second=args.rate)),
        on_result=progress if args.progress else None,
    )
    try:
        if args.until_idle:
            await sender.run_until_idle(timeout=3600)
        else:
            await sender.run()
    finally:
        await bot.session.close()
        await engine.dispose()
    print("stats " + " ".join(f"{k}={v}" for k, v in sender.stats.as_dict().items()), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return asyncio.run(_main(_parse(argv)))


if __name__ == "__main__":
    raise SystemExit(main())

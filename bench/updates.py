"""The end of a cycle: every unit's officer answers at once. How does the real bot cope?

N officers (one per department, registered through invites) each do, M times, what an officer does
to answer one item: /score, the buttons to the item, "enter a value", type it, Save — every step
waits for the bot's reply before the next, as a person does. The bot is `python -m bot run` (the
same code path as `cchc-bot run`: middlewares, one transaction per update, outbox sender and
scheduler beside it) against the emulator, on a temp SQLite file (and on PostgreSQL when reachable).

Baseline in the same run: a bare aiogram echo bot (Dispatcher, one text handler), also a child
process long-polling the same kind of emulator, fed the same number of messages by as many people.

Latency is measured inside the emulator (this process): from the moment a person's message or
button press becomes an update to the moment the bot's reply (new or edited message) lands in the
chat; a screen merely losing its buttons is not a reply. The people's own HTTP round trips are not
counted. The emulator and the people share this process's core; the bot has its own process.

Prints, per scenario: updates sent, seconds, updates/s, latency p50/p95/p99, errors; the machine.

    python -m bench.updates [--officers 50] [--items 2] [--budget 30]

PostgreSQL: auto-detected with a quick connect to $CCHC_TEST_POSTGRES_URL (default
postgres@127.0.0.1:5432); CCHC_BENCH_POSTGRES=0 skips it, =1 requires it.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import logging
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR
from pathlib import Path
from typing import Any

from bench.machine import describe
from bot.db.migrate import upgrade
from bot.sandbox.emulator import Emulator, EmulatorClient, EmulatorError
from bot.sandbox.emulator.state import BotAccount, Conversation, EmulatorState
from bot.scoring.loader import load_criteria_set
from bot.scoring.model import (
    BandsRule,
    CountStepsRule,
    CriteriaSet,
    DeductionRule,
    Leaf,
    ManualRule,
    ProportionalRule,
)
from tests.bot.harness import CRITERIA_DIR, ROOT, BotClient, Seeder, bot_env, register

JSON = dict[str, Any]
CRITERIA = "2025-so.yaml"
STEP_TIMEOUT = 20.0  # a reply slower than this counts as an error (and the person moves on)
GRACE = 10.0  # after the time budget, the steps under way get this long to finish
AID = re.compile(r"^o[a-z]:(\d+):")


# ---- watching the emulator ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """A bot message or edit as a person sees it, with the time it landed."""

    at: float
    message_id: int
    text: str
    buttons: tuple[str, ...]  # callback data
    edited: bool


class Tap:
    """Times, inside the emulator, when a person's update is queued and when the bot's replies land.

    Wraps two methods of this emulator's `EmulatorState` instance (nothing else is changed): the
    people's wait for a reply costs nothing here, unlike a long poll per person over HTTP."""

    def __init__(self, state: EmulatorState) -> None:
        self.sent_at: dict[int, float] = {}
        self.replies: dict[int, asyncio.Queue[Reply]] = defaultdict(asyncio.Queue)
        original_enqueue, original_emit = state.enqueue_update, state.emit

        def enqueue_update(bot: BotAccount, kind: str, payload: JSON) -> JSON:
            message = payload.get("message", payload) if kind == "callback_query" else payload
            chat = (message.get("chat") or {}).get("id")
            if chat is not None:
                self.sent_at[int(chat)] = time.perf_counter()
            return original_enqueue(bot, kind, payload)

        def emit(bot: BotAccount, conv: Conversation, kind: str, message: JSON | None, **extra: Any) -> int:
            if message is not None and kind in ("message", "edited") and extra.get("from_bot"):
                markup = message.get("reply_markup") or {}
                data = tuple(
                    str(b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row
                )
                text = str(message.get("text") or message.get("caption") or "")
                reply = Reply(time.perf_counter(), int(message["message_id"]), text, data, kind == "edited")
                self.replies[int(conv.chat["id"])].put_nowait(reply)
            return original_emit(bot, conv, kind, message, **extra)

        setattr(state, "enqueue_update", enqueue_update)  # noqa: B010 - an instance, for this run only
        setattr(state, "emit", emit)  # noqa: B010


Expect = Callable[[Reply], bool]


@dataclass
class Person:
    """One person in the emulator: acts over the control API, waits for the reply through `Tap`."""

    client: EmulatorClient
    tap: Tap
    uid: int
    latencies: list[tuple[str, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    updates: int = 0
    screen: Reply | None = None
    seen: dict[int, str] = field(default_factory=dict)
    hard_deadline: float = float("inf")  # no step waits past this (perf_counter)

    async def act(self, step: str, action: Coroutine[Any, Any, Any], expect: Expect) -> Reply | None:
        """Do `action` (one update) and wait for the bot's reply matching `expect`. The latency is
        to the bot's first visible reply; None (and an error noted) when it never matches."""
        if time.perf_counter() > self.hard_deadline:
            self.errors.append(f"{step}: not sent, past the time budget")
            action.close()
            return None
        try:
            await action
        except EmulatorError as exc:
            self.errors.append(f"{step}: emulator refused: {exc}")
            return None
        self.updates += 1
        sent = self.tap.sent_at[self.uid]
        queue = self.tap.replies[self.uid]
        deadline = min(time.perf_counter() + STEP_TIMEOUT, self.hard_deadline)
        first: float | None = None
        said: list[str] = []
        while True:
            try:
                reply = await asyncio.wait_for(queue.get(), max(0.0, deadline - time.perf_counter()))
            except TimeoutError:
                waited = time.perf_counter() - sent
                self.errors.append(f"{step}: no matching reply in {waited:.0f} s; bot said {said}")
                return None
            if reply.at < sent:  # the tail of an earlier step
                self.seen[reply.message_id] = reply.text
                continue
            stripped = reply.edited and not reply.buttons and self.seen.get(reply.message_id) == reply.text
            self.seen[reply.message_id] = reply.text
            if stripped:
                continue
            if first is None:
                first = reply.at
                self.latencies.append((step, first - sent))
            said.append(reply.text[:60])
            if "⚠️" in reply.text:
                self.errors.append(f"{step}: {reply.text[:120]!r}")
                return None
            if expect(reply):
                if reply.buttons:
                    self.screen = reply
                return reply

    async def say(self, step: str, text: str, expect: Expect) -> Reply | None:
        return await self.act(step, self.client.send_text(self.uid, text), expect)

    async def press(self, step: str, data: str, expect: Expect) -> Reply | None:
        if self.screen is None:
            self.errors.append(f"{step}: no screen to press {data!r} on")
            return None
        return await self.act(step, self.client.press_button(self.uid, self.screen.message_id, data), expect)


def showing(fragment: str) -> Expect:
    return lambda reply: fragment in reply.text


def with_buttons(reply: Reply) -> bool:
    return bool(reply.buttons)


# ---- child processes -----------------------------------------------------------------------------------


class Child:
    """A child process that logs to a file and is ready once `marker` appears in its log."""

    def __init__(self, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.argv, self.env, self.log_path = argv, env, log_path
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self, marker: str = "Start polling", timeout: float = 30) -> None:  # noqa: ASYNC109
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(  # noqa: ASYNC220 - returns at once
                self.argv, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while marker not in self.log():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.argv[1:]} did not start:\n{self.log()[-3000:]}")
            await asyncio.sleep(0.05)

    def log(self) -> str:
        return self.log_path.read_text("utf-8", "replace") if self.log_path.exists() else ""

    async def stop(self, timeout: float = 5) -> bool:  # noqa: ASYNC109
        """SIGTERM, then SIGKILL after `timeout` s; True if it had to be killed."""
        if self.proc is None or self.proc.poll() is not None:
            return False
        self.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait(5)
                return True
            await asyncio.sleep(0.05)
        return False


def echo_bot(api_url: str, token: str) -> None:
    """The baseline: a bare aiogram 3 bot that answers every text with the same text."""
    from aiogram import Bot, Dispatcher, F
    from aiogram.client.default import DefaultBotProperties
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.enums import ParseMode
    from aiogram.types import Message

    async def run() -> None:
        bot = Bot(
            token,
            session=AiohttpSession(api=TelegramAPIServer.from_base(api_url)),
            default=DefaultBotProperties(parse_mode=ParseMode.HTML),
        )
        dp = Dispatcher()

        @dp.message(F.text)
        async def echo(message: Message) -> None:
            await message.answer(html.escape(message.text or ""))

        await dp.start_polling(bot)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(run())


# ---- scenarios ------------------------------------------------------------------------------------------


@dataclass
class Result:
    label: str
    people: list[Person]
    seconds: float
    stopped_early: int = 0  # items (messages) not started because the time budget ran out
    unit: str = "items"
    notes: list[str] = field(default_factory=list)

    @property
    def updates(self) -> int:
        return sum(p.updates for p in self.people)

    @property
    def errors(self) -> list[str]:
        return [e for p in self.people for e in p.errors]

    def lines(self) -> list[str]:
        times = [t for p in self.people for _step, t in p.latencies]
        out = [
            f"{self.label}: {self.updates} updates in {self.seconds:.1f} s = "
            f"{self.updates / self.seconds:.1f} updates/s; latency {_percentiles(times)}; "
            f"errors {len(self.errors)}"
            + (f"; {self.stopped_early} {self.unit} not started (time budget)" if self.stopped_early else "")
        ]
        by_step: dict[str, list[float]] = defaultdict(list)
        for p in self.people:
            for step, t in p.latencies:
                by_step[step].append(t)
        if len(by_step) > 1:
            out.append(
                "    by step: "
                + "; ".join(f"{step} {_percentiles(ts, (50, 95))}" for step, ts in by_step.items())
            )
        out += [f"    {note}" for note in self.notes]
        kinds = Counter(re.sub(r"\d+", "N", e) for e in self.errors)
        out += [f"    error: {n} × {e[:300]}" for e, n in kinds.most_common(4)]
        return out


def _percentiles(times: list[float], which: tuple[int, ...] = (50, 95, 99)) -> str:
    if len(times) < 2:
        return "n/a"
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    return ", ".join(f"p{p} {cuts[p - 1] * 1000:.0f} ms" for p in which)


async def _run_people(
    people: list[Person], work: Callable[[Person, float], Awaitable[int]], budget: float
) -> tuple[float, int]:
    """Everyone at once; returns the seconds until the last reply and the items left undone."""
    started = time.perf_counter()
    deadline = started + budget
    for person in people:
        person.hard_deadline = deadline + GRACE
    skipped = await asyncio.gather(*(work(p, deadline) for p in people))
    return time.perf_counter() - started, sum(skipped)


async def baseline(work_dir: Path, messages: list[int], budget: float) -> Result:
    """One person per entry of `messages`, each sending that many texts."""
    emulator = Emulator()
    await emulator.start("127.0.0.1", 0)
    tap = Tap(emulator.state)
    child = Child(
        [sys.executable, "-m", "bench.updates", "--echo-bot", emulator.url, emulator.token],
        dict(os.environ, PYTHONUNBUFFERED="1"),
        work_dir / "echo.log",
    )
    try:
        async with EmulatorClient(emulator.url) as client:
            users = [await client.create_user(f"Người {n}") for n in range(len(messages))]
            people = [Person(client, tap, int(u["id"])) for u in users]
            quota = {person.uid: count for person, count in zip(people, messages, strict=True)}
            await child.start()

            async def echo_work(person: Person, deadline: float) -> int:
                for n in range(quota[person.uid]):
                    if time.perf_counter() > deadline:
                        return quota[person.uid] - n
                    text = f"Tin nhắn số {n} <b>"
                    await person.say("text", text, showing(text))
                return 0

            seconds, skipped = await _run_people(people, echo_work, budget)
        return Result("baseline, bare aiogram echo bot", people, seconds, skipped, unit="messages")
    finally:
        await child.stop()
        await emulator.stop()


def typed_value(leaf: Leaf, n: int) -> str | None:
    """What an officer types for a leaf answered by a value (None: answered by a button)."""
    rule = leaf.rule
    if isinstance(rule, BandsRule):
        return ("45/50", "90,5 %", "72%")[n % 3] if rule.unit == "percent" else "3"
    if isinstance(rule, ProportionalRule):
        return ("45/50", "7/8")[n % 2]
    if isinstance(rule, CountStepsRule):
        return str(1 + n % 4)
    if isinstance(rule, ManualRule):
        steps = (leaf.max_points / 2 / rule.step).to_integral_value(rounding=ROUND_FLOOR)
        return format((steps * rule.step).normalize(), "f").replace(".", ",")
    if isinstance(rule, DeductionRule):
        return str(n % 3)
    return None


def typed_items(cs: CriteriaSet) -> list[tuple[str, str]]:
    """(item code, value) of every leaf answered by typing a value."""
    return [(leaf.code, v) for n, (_f, _c, leaf) in enumerate(cs.leaves()) if (v := typed_value(leaf, n))]


def planned_updates(cs: CriteriaSet, officer: int, items: int) -> int:
    """How many updates officer number `officer` sends for `items` items (see `answer_item`)."""
    typed = typed_items(cs)
    total = 0
    for n in range(items):
        code, _value = typed[(officer + n) % len(typed)]
        _field, criterion, _leaf = next(t for t in cs.leaves() if t[2].code == code)
        total += 6 + (n > 0) + bool(criterion.sub_criteria)
    return total


async def answer_item(person: Person, cs: CriteriaSet, code: str, value: str) -> bool:
    """/score, the buttons to the item, "enter a value", the value, Save."""
    home = await person.say("/score", "/score", with_buttons)
    aids = [int(m.group(1)) for d in (home.buttons if home else ()) if (m := AID.match(d))]
    if home is None or not aids:
        if home is not None:
            person.errors.append(f"/score: no sheet buttons on {home.text[:80]!r}")
        return False
    aid = aids[0]
    field_area, criterion, _leaf = next(t for t in cs.leaves() if t[2].code == code)
    presses: list[tuple[str, str]] = []
    if "Chọn lĩnh vực" not in home.text:  # /score resumes at the last item: back to the fields
        presses.append((f"os:{aid}:home", "Chọn lĩnh vực"))
    presses.append((f"of:{aid}:{field_area.code}", field_area.name[:20]))
    if criterion.sub_criteria:
        presses.append((f"oc:{aid}:{criterion.code}", criterion.name[:20]))
    presses += [(f"oi:{aid}:{code}", "Cách chấm"), (f"ox:{aid}:{code}:val", "gửi giá trị")]
    for data, fragment in presses:
        if await person.press("button", data, showing(fragment)) is None:
            return False
    if await person.say("typed value", value, showing("Lưu câu trả lời này?")) is None:
        return False
    return await person.press("save", f"ox:{aid}:{code}:save", showing("Đã lưu")) is not None


async def real_bot(
    work_dir: Path, label: str, db_url: str, officers: int, items: int, budget: float
) -> Result:
    await upgrade(db_url)
    cs = load_criteria_set(CRITERIA_DIR / CRITERIA)
    typed = typed_items(cs)
    seed = Seeder(db_url)
    emulator = Emulator()
    await emulator.start("127.0.0.1", 0)
    tap = Tap(emulator.state)
    evidence = work_dir / f"evidence-{uuid.uuid4().hex[:6]}"
    evidence.mkdir()
    child = Child(
        [sys.executable, "-m", "bot", "run"],
        bot_env(emulator, db_url, evidence),
        work_dir / f"bot-{label.split()[-1].lower()}.log",
    )
    try:
        codes = [f"S{n:03d}" for n in range(officers)]
        for code in codes:
            await seed.unit(code, f"Sở Thử nghiệm số {code[1:]}")
        await seed.period(criteria={"so": await seed.criteria(CRITERIA)})
        await child.start()
        client = BotClient(emulator.url, seed)
        try:
            gate = asyncio.Semaphore(10)

            async def enrol(code: str) -> JSON:
                async with gate:
                    return await register(client, code, "officer", first_name=f"Cán bộ {code}", timeout=30)

            users = await asyncio.gather(*(enrol(code) for code in codes))
            people = [Person(client, tap, int(u["id"])) for u in users]
            for person in people:
                person.tap.replies[person.uid] = asyncio.Queue()  # registration's messages are not replies

            async def officer_work(person: Person, deadline: float) -> int:
                offset = people.index(person)
                for n in range(items):
                    if time.perf_counter() > deadline:
                        return items - n
                    code, value = typed[(offset + n) % len(typed)]
                    await answer_item(person, cs, code, value)
                return 0

            seconds, skipped = await _run_people(people, officer_work, budget)
        finally:
            await client.close()
        result = Result(f"cchc-bot ({label})", people, seconds, skipped)
        if await child.stop():
            result.notes.append("the bot did not exit within 5 s of SIGTERM and was killed")
        log = child.log()
        problems = log.count("Traceback") + len(re.findall(r"\bERROR\b", log))
        result.notes.append(f"bot log: {problems} errors/tracebacks; emulator: {_emulator_note(emulator)}")
        result.notes += [f"bot log: {n} × {line[:200]}" for line, n in _exceptions(log).most_common(3)]
        return result
    finally:
        await child.stop()
        await emulator.stop()
        await seed.close()


def _exceptions(log: str) -> Counter[str]:
    """The exception lines ("TimeoutError: QueuePool limit …") of a log, counted."""
    return Counter(
        m.group(0) for m in re.finditer(r"(?m)^[A-Za-z_.]*(?:Error|Exception)\b[^\n]*:[^\n]*", log)
    )


def _emulator_note(emulator: Emulator) -> str:
    stats = emulator.state.stats()
    return (
        f"{stats['sent_messages']} messages sent, {stats['calls'].get('editMessageText', 0)} edits, "
        f"{stats['bad_requests']} bad requests, {stats['callback_queries_answered']}/"
        f"{stats['callback_queries']} callbacks answered"
    )


# ---- PostgreSQL ------------------------------------------------------------------------------------------


def _pg_admin_url() -> str:
    return os.environ.get("CCHC_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")


async def _pg(sql: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    dsn = make_url(_pg_admin_url()).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncio.wait_for(asyncpg.connect(dsn), timeout=3)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def _postgres_database() -> tuple[str | None, str]:
    """A fresh database's URL, or None and why not."""
    wanted = os.environ.get("CCHC_BENCH_POSTGRES", "")
    if wanted == "0":
        return None, "skipped: CCHC_BENCH_POSTGRES=0"
    name = f"cchc_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        await _pg(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # any failure to connect means: no PostgreSQL run
        return None, f"skipped: PostgreSQL not reachable at {_pg_admin_url()} ({exc!r})"
    from sqlalchemy.engine import make_url

    return make_url(_pg_admin_url()).set(database=name).render_as_string(hide_password=False), name


# ---- main -----------------------------------------------------------------------------------------------


async def _run(officers: int, items: int, budget: float) -> int:
    print(f"machine: {describe()}")
    print(
        f"{officers} officers at once, {items} item(s) each (/score, buttons to the item, a typed value, "
        f"Save); every step waits for the reply; step timeout {STEP_TIMEOUT:.0f} s, budget {budget:.0f} s",
        flush=True,
    )
    failures = 0
    with tempfile.TemporaryDirectory(prefix="cchc-bench-updates-") as tmp:
        work = Path(tmp)
        # The baseline: as many people, each sending as many messages as an officer sends updates.
        cs = load_criteria_set(CRITERIA_DIR / CRITERIA)
        base = await baseline(work, [planned_updates(cs, n, items) for n in range(officers)], budget)
        sqlite = await real_bot(
            work, "SQLite", f"sqlite+aiosqlite:///{work / 'bot.sqlite3'}", officers, items, budget
        )
        for result in (base, sqlite):
            print("  " + "\n  ".join(result.lines()), flush=True)
            failures += len(result.errors)
        if sqlite.updates and not sqlite.errors and not base.errors:
            ratio = (base.updates / base.seconds) / (sqlite.updates / sqlite.seconds)
            print(f"  the echo bot handles ×{ratio:.1f} the updates/s of cchc-bot on SQLite", flush=True)
        url, why = await _postgres_database()
        if url is None:
            print(f"  PostgreSQL: {why}")
            if os.environ.get("CCHC_BENCH_POSTGRES") == "1":
                failures += 1
        else:
            try:
                pg = await real_bot(work, "PostgreSQL", url, officers, items, budget)
                print("  " + "\n  ".join(pg.lines()), flush=True)
                failures += len(pg.errors)
            finally:
                await _pg(f'DROP DATABASE IF EXISTS "{why}" WITH (FORCE)')
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.updates", description=__doc__.split("\n")[0])
    parser.add_argument("--officers", type=int, default=50, help="units, one officer each, all at once")
    parser.add_argument("--items", type=int, default=2, help="items each officer answers")
    parser.add_argument("--budget", type=float, default=30, help="seconds per scenario; no item starts after")
    parser.add_argument("--echo-bot", nargs=2, metavar=("API_URL", "TOKEN"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.echo_bot:
        echo_bot(*args.echo_bot)
        return 0
    return asyncio.run(_run(args.officers, args.items, args.budget))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

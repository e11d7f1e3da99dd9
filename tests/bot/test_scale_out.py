"""Scale-out, proven (issue 13): two `cchc-bot run --webhook` processes behind a round-robin load
balancer, sharing PostgreSQL and Redis, talking to the emulator (flood limits on, like Telegram).

The process that holds the leader lock (schedule and outbox sender) is SIGKILLed in the middle of a
300-recipient broadcast the secretariat started in the chat. The other takes over within seconds,
every recipient gets the message (the copies per recipient are counted: at least once, and the
repeats are the in-doubt window of the killed sender, at most its sends in flight), no update is
lost, and conversations go on across both processes and then on the survivor.

Figures are printed (run with -s to see them): copies per recipient, takeover time, updates lost.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.db.migrate import upgrade
from bot.db.models import Outbox, OutboxStatus
from bot.notify.sender import SenderConfig
from bot.sandbox.emulator import Emulator
from tests.bot.harness import BotClient, BotProcess, Seeder, bot_env
from tests.bot.officer_driver import Officer
from tests.bot.proxies import RoundRobin
from tests.bot.test_process import _free_port
from tests.notify.helpers import seed_crowd

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

REDIS_URL = "redis://127.0.0.1:6379/15"
RECIPIENTS = 300
KILL_AFTER = 100  # broadcast copies delivered before the leader is killed
SECRET = "scale-out-secret_" + secrets.token_hex(8)
TEXT = "Thông báo thử nghiệm mở rộng quy mô"


async def redis_reachable() -> str | None:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        await client.ping()
    except Exception as exc:
        return f"Redis not reachable at {REDIS_URL}: {exc!r}"
    finally:
        await client.aclose()
    return None


@dataclass
class Node:
    name: str
    port: int
    process: BotProcess

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def health(node: Node) -> dict[str, Any] | None:
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http,
            http.get(node.url + "/healthz") as resp,
        ):
            return dict(await resp.json())
    except (aiohttp.ClientError, TimeoutError):
        return None


async def wait_until(predicate: Any, timeout: float, what: str, step: float = 0.05) -> float:  # noqa: ASYNC109
    """Poll an async predicate; returns the monotonic time it became true."""
    deadline = time.monotonic() + timeout
    while True:
        if await predicate():
            return time.monotonic()
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(step)


@pytest.fixture
async def pg_url(pg_server: Any) -> str:
    url = str(pg_server.new_database("scale"))
    await upgrade(url)
    return url


@pytest.fixture
async def cluster(
    pg_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Emulator, RoundRobin, list[Node], Seeder]]:
    if reason := await redis_reachable():
        pytest.skip(reason)
    token = f"{secrets.randbelow(10**9 - 10**8) + 10**8}:{secrets.token_urlsafe(24)}"  # own Redis keys
    emulator = Emulator(token=token, flood_limits=True)
    await emulator.start("127.0.0.1", 0)
    ports = [_free_port(), _free_port()]
    balancer = RoundRobin([f"http://127.0.0.1:{p}" for p in ports])
    await balancer.start()
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    nodes = []
    for name, port in zip("AB", ports, strict=True):
        env = bot_env(
            emulator,
            pg_url,
            evidence,
            CCHC_REDIS_URL=REDIS_URL,
            CCHC_WEBHOOK_URL=balancer.url,
            CCHC_WEBHOOK_HOST="127.0.0.1",
            CCHC_WEBHOOK_PORT=str(port),
            CCHC_WEBHOOK_SECRET=SECRET,
        )
        log = tmp_path / f"bot-{name}.log"
        nodes.append(
            Node(name, port, BotProcess(env, log, args=("run", "--webhook"), ready_marker="webhook at"))
        )
    seed = Seeder(pg_url)
    try:
        for node in nodes:
            await node.process.start()
        yield emulator, balancer, nodes, seed
    finally:
        for node in nodes:
            code = await node.process.stop()
            print(f"--- bot {node.name} (exit {code}) ---\n{node.process.log_text()[-4000:]}")
        await seed.close()
        await balancer.stop()
        await emulator.stop()


def copies(emulator: Emulator, chats: list[int]) -> Counter[int]:
    """How many copies of the broadcast each chat holds (read from the emulator's own state)."""
    counts: Counter[int] = Counter()
    for chat in chats:
        counts[chat] = sum(TEXT in str(m.get("text")) for m in emulator.state.transcript(emulator.bot, chat))
    return counts


async def test_leader_killed_mid_broadcast_the_other_takes_over(
    cluster: tuple[Emulator, RoundRobin, list[Node], Seeder],
) -> None:
    emulator, balancer, nodes, seed = cluster
    client = BotClient(emulator.url, seed)
    try:
        async with seed.session() as s:
            crowd = await seed_crowd(s, client, RECIPIENTS, units=10, block_every=0)
        await seed.period(2025, open_now=False)  # a draft period: the broadcast screen needs one
        chats = list(crowd.officers.values())
        sec_id = next(iter(crowd.secretariat.values()))
        sec = Officer(client, {"id": sec_id, "first_name": "Thư ký 0"}, "Thư ký")
        other_id = list(crowd.secretariat.values())[1]
        other = Officer(client, {"id": other_id, "first_name": "Thư ký 1"}, "Thư ký 1")

        states = {n.name: await health(n) for n in nodes}
        assert all(s is not None and s["status"] == "ok" for s in states.values()), states
        leaders = [n for n in nodes if (states[n.name] or {}).get("leader")]
        assert len(leaders) == 1, states
        leader = leaders[0]
        survivor = next(n for n in nodes if n is not leader)

        # The broadcast, through the chat; its steps reach the two processes in turn, so the
        # conversation state (in Redis) is carried from one to the other.
        # (A second between steps: Telegram allows about one message a second in a private chat.)
        await sec.say("/broadcast", expect="ai sẽ nhận thông báo")
        await asyncio.sleep(1.2)
        await sec.press("sb:aud:g.SO", expect=f"{RECIPIENTS} người")
        await asyncio.sleep(1.2)
        await sec.say(TEXT, expect="Xem trước")
        await asyncio.sleep(1.2)
        await sec.press("sb:send:", expect="Kết quả gửi")
        assert all(balancer.served[n.url] > 0 for n in nodes), balancer.served

        async def delivered(at_least: int) -> bool:
            return sum(copies(emulator, chats).values()) >= at_least

        await wait_until(lambda: delivered(KILL_AFTER), 60, "the broadcast did not start")
        leader.process.kill()
        killed_at = time.monotonic()
        at_kill = sum(copies(emulator, chats).values())

        # Conversations go on while the survivor takes over: ten officers ask at the moment of the
        # kill; every one is answered (updates the dead process had are delivered again).
        askers = chats[:10]
        for chat in askers:
            await client.send_text(chat, "/whoami")

        async def leads() -> bool:
            state = await health(survivor)
            return bool(state and state.get("leader"))

        led_at = await wait_until(leads, 30, "the survivor never took the lead", step=0.1)
        resumed_at = await wait_until(lambda: delivered(at_kill + 1), 60, "the broadcast did not resume")

        async def everyone() -> bool:
            return min(copies(emulator, chats).values()) >= 1

        await wait_until(everyone, 180, "not every recipient got the broadcast", step=0.2)
        done_at = time.monotonic()

        def answers() -> Counter[int]:
            return Counter(
                {
                    chat: sum(
                        "Vai trò" in str(m.get("text")) for m in emulator.state.transcript(emulator.bot, chat)
                    )
                    for chat in askers
                }
            )

        async def answered() -> bool:
            return min(answers().values()) >= 1

        await wait_until(answered, 30, "updates were lost", step=0.2)
        await asyncio.sleep(1.0)
        replies = answers()
        await other.say("/help", expect="/whoami")  # the survivor serves every update now

        counts = copies(emulator, chats)
        spread = Counter(counts.values())
        repeats = sum(c - 1 for c in counts.values())
        async with seed.session() as s:
            statuses = Counter(await s.scalars(select(Outbox.status).where(Outbox.kind == "broadcast")))
            pending = await s.scalar(select(func.count()).where(Outbox.status == OutboxStatus.PENDING.value))
            in_doubt = await s.scalar(  # in flight at the kill, sent again by the new leader
                select(func.count()).where(Outbox.last_error == "sent again after an unfinished attempt")
            )
        figures = {
            "recipients": RECIPIENTS,
            "delivered_before_kill": at_kill,
            "copies_per_recipient": dict(sorted(spread.items())),
            "repeats": repeats,
            "in_flight_at_kill_sent_again": in_doubt,
            "takeover_s": round(led_at - killed_at, 2),
            "first_send_after_kill_s": round(resumed_at - killed_at, 2),
            "all_delivered_after_kill_s": round(done_at - killed_at, 2),
            "updates_sent_at_kill": len(askers),
            "updates_answered": sum(replies.values()),
            "balancer_served": dict(balancer.served),
            "balancer_skipped_dead_backend": dict(balancer.skipped),
            "outbox": dict(statuses),
        }
        print("\nscale-out figures: " + json.dumps(figures, ensure_ascii=False))
        assert min(counts.values()) == 1  # nobody missed it
        assert repeats <= SenderConfig().concurrency  # only the killed sender's in-flight sends
        assert statuses == {OutboxStatus.SENT.value: RECIPIENTS} and pending == 0
        assert set(replies.values()) == {1}  # no update lost, none handled twice
        assert led_at - killed_at < 30
    finally:
        await client.close()

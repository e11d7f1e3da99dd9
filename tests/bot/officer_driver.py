"""Acting as an officer in the emulator: press buttons on the bot's screens, type values, send
files, and keep a readable transcript of the session (for the test log and test-output/)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.db.models import Assessment, Evidence, FsmState, ItemScore, Unit
from bot.sandbox.emulator import Emulator
from tests.bot.harness import BotClient, Seeder

JSON = dict[str, Any]


def buttons(message: JSON) -> list[JSON]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def file_bytes(path: str | None) -> bytes:
    return Path(path or "").read_bytes()


def text_of(message: JSON) -> str:
    return str(message.get("text") or message.get("caption") or "")


@dataclass
class Officer:
    client: BotClient
    user: JSON
    name: str
    log: list[str] = field(default_factory=list)
    screen: JSON | None = None
    seen: dict[int, str] = field(default_factory=dict)  # message id → its text as last seen

    @property
    def uid(self) -> int:
        return int(self.user["id"])

    def _record(self, who: str, text: str) -> None:
        self.log.append(f"[{who}] {text}")

    def _bot_said(self, message: JSON) -> JSON:
        shown = text_of(message)
        labels = " | ".join(str(b.get("text")) for b in buttons(message))
        self._record("bot", shown + (f"\n      buttons: {labels}" if labels else ""))
        return message

    async def wait(self, match: str | Callable[[JSON], bool] | None = None, timeout: float = 15) -> JSON:  # noqa: ASYNC109
        """The next new or edited bot message matching `match`. An old screen losing its buttons
        (same text, no keyboard) is not a message the person waits for: it is skipped."""

        def wanted(message: JSON) -> bool:
            mid, text = int(message["message_id"]), text_of(message)
            stripped = "edit_date" in message and not buttons(message) and self.seen.get(mid) == text
            self.seen[mid] = text
            if stripped:
                return False
            return match is None or (match in text if isinstance(match, str) else match(message))

        message = await self.client.wait_for(wanted, chat_id=self.uid, timeout=timeout, include_edits=True)
        if buttons(message):
            self.screen = message
        return self._bot_said(message)

    async def say(self, text: str, expect: str | Callable[[JSON], bool] | None = None) -> JSON:
        self._record(self.name, text)
        await self.client.send_text(self.uid, text)
        return await self.wait(expect)

    async def press(
        self, data_or_text: str, expect: str | Callable[[JSON], bool] | None = None, on: JSON | None = None
    ) -> JSON:
        message = on or self.screen
        assert message is not None, "no screen to press on"
        found = next(
            (b for b in buttons(message) if data_or_text in (b.get("callback_data"), b.get("text"))),
            None,
        )
        assert found is not None, (
            f"no button {data_or_text!r} on: {[b.get('text') for b in buttons(message)]}"
        )
        self._record(self.name, f"presses «{found.get('text')}»")
        await self.client.press_button(self.uid, message["message_id"], str(found["callback_data"]))
        return await self.wait(expect)

    async def press_prefix(self, prefix: str, expect: str | Callable[[JSON], bool] | None = None) -> JSON:
        assert self.screen is not None
        found = next(
            (b for b in buttons(self.screen) if str(b.get("callback_data", "")).startswith(prefix)), None
        )
        assert found is not None, (
            f"no button {prefix}… on: {[b.get('callback_data') for b in buttons(self.screen)]}"
        )
        return await self.press(str(found["callback_data"]), expect)

    async def send_document(self, name: str, content: bytes | None, expect: str, **kw: Any) -> JSON:
        size = kw.get("declared_size") or len(content or b"")
        self._record(self.name, f"sends document {name} ({size} bytes)")
        await self.client.send_document(self.uid, name, content, **kw)
        return await self.wait(expect)

    def transcript(self) -> str:
        return "\n".join(self.log)


def restore_buttons(emulator: Emulator, person: Officer, old: JSON) -> None:
    """Put an old screen's keyboard back on its message in the emulator, as a screen left from
    before the bot kept one live screen per chat (or whose buttons could not be taken off) shows it:
    a stale button to press."""
    for conv in emulator.state.conversations.values():
        if conv.chat["id"] == person.uid and (message := conv.live(old["message_id"])) is not None:
            message["reply_markup"] = old["reply_markup"]
            return
    raise AssertionError(f"message {old['message_id']} not found in the emulator")


@dataclass(frozen=True)
class ItemRow:
    self_points: str | None
    self_raw: str | None
    explanation: str | None
    evidence_note: str | None
    na_claimed: bool
    na_reason: str | None


async def sheet_rows(seed: Seeder, unit_code: str) -> dict[str, ItemRow]:
    """The unit's stored answers, as plain comparable values."""
    async with seed.session() as s:
        rows = await s.scalars(
            select(ItemScore)
            .join(Assessment, Assessment.id == ItemScore.assessment_id)
            .join(Unit, Unit.id == Assessment.unit_id)
            .where(Unit.code == unit_code)
        )
        return {
            r.item_code: ItemRow(
                None if r.self_points is None else format(r.self_points.normalize(), "f"),
                r.self_raw,
                r.explanation,
                r.evidence_note,
                r.na_claimed,
                r.na_reason,
            )
            for r in rows
        }


async def screen_recorded(seed: Seeder, person: Officer, timeout: float = 10) -> None:  # noqa: ASYNC109
    """Wait until the bot has recorded the person's current screen as the chat's live one (it does
    so right after sending it): a SIGKILL before that would leave the bot unaware of that message."""
    assert person.screen is not None
    wanted = person.screen["message_id"]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        async with seed.session() as s:
            data = await s.scalar(
                select(FsmState.data).where(FsmState.key.like(f"%:{person.uid}:{person.uid}:screen"))
            )
        if (data or {}).get("message_id") == wanted:
            return
        assert loop.time() < deadline, f"screen {wanted} not recorded: {data}"
        await asyncio.sleep(0.05)


async def evidence_rows(seed: Seeder) -> list[Evidence]:
    async with seed.session() as s:
        return list(await s.scalars(select(Evidence).order_by(Evidence.id)))


async def assessment_of(seed: Seeder, unit_code: str) -> Assessment:
    async with seed.session() as s:
        row = await s.scalar(
            select(Assessment).join(Unit, Unit.id == Assessment.unit_id).where(Unit.code == unit_code)
        )
        assert row is not None
        return row

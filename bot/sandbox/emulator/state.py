"""The emulator's whole world, in memory: bots, people, chats, messages, files and update queues.

Everything here is plain data mutated from the single asyncio loop, so no locks are needed. The HTTP
layers (Bot API and control API) only translate requests into calls on `EmulatorState`; keeping the
model apart lets both sides see the same chats without talking to each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import secrets
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from .errors import BLOCKED, CANT_INITIATE, CHAT_NOT_FOUND, ApiError
from .flood import FloodControl

JSON = dict[str, Any]
MAX_EVENTS = 50_000


def now_ts() -> int:
    return int(time.time())


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    size: int
    content: bytes | None
    file_name: str | None
    mime_type: str | None
    file_path: str
    width: int = 0
    height: int = 0


@dataclass
class User:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    blocked_bots: set[int] = field(default_factory=set)
    # Test users count as having pressed Start with every bot unless a test says otherwise.
    starts_bots: bool = True

    def as_dict(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        return data

    def as_chat(self) -> JSON:
        data: JSON = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data


@dataclass
class Group:
    id: int
    title: str
    member_ids: set[int]
    bot_ids: set[int]

    def as_chat(self) -> JSON:
        return {"id": self.id, "type": "group", "title": self.title}


@dataclass
class Conversation:
    """One chat as one bot sees it: message ids are sequential per chat."""

    bot_id: int
    chat: JSON
    started: bool = False
    next_message_id: int = 1
    messages: dict[int, JSON] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    reply_keyboard: JSON | None = None

    @property
    def private(self) -> bool:
        return bool(self.chat["type"] == "private")

    def live(self, message_id: int) -> JSON | None:
        if message_id in self.deleted:
            return None
        return self.messages.get(message_id)


@dataclass
class CallbackRecord:
    id: str
    bot_id: int
    user_id: int
    chat_id: int
    message_id: int
    data: str
    pressed_at: float
    answered: bool = False
    answered_at: float | None = None
    text: str | None = None
    show_alert: bool = False
    url: str | None = None

    def as_dict(self) -> JSON:
        return {
            "id": self.id,
            "user_id": self.user_id,
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "data": self.data,
            "answered": self.answered,
            "answer_delay": None if self.answered_at is None else self.answered_at - self.pressed_at,
            "text": self.text,
            "show_alert": self.show_alert,
            "url": self.url,
        }


@dataclass
class BotAccount:
    id: int
    token: str
    username: str
    first_name: str
    updates: deque[JSON] = field(default_factory=deque)
    next_update_id: int = 100_000_001
    allowed_updates: list[str] | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_last_error: str | None = None
    webhook_last_error_date: int | None = None
    poll_generation: int = 0
    commands: dict[tuple[str, str], list[JSON]] = field(default_factory=dict)

    def as_user(self) -> JSON:
        return {"id": self.id, "is_bot": True, "first_name": self.first_name, "username": self.username}

    def get_me(self) -> JSON:
        return {
            **self.as_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }


def scope_key(scope: JSON | None) -> str:
    return json.dumps(scope or {"type": "default"}, sort_keys=True, separators=(",", ":"))


class EmulatorState:
    """All mutable emulator data plus a 'pulse' that wakes long polls, webhooks and event streams."""

    def __init__(self) -> None:
        self.users: dict[int, User] = {}
        self.groups: dict[int, Group] = {}
        self.bots: dict[str, BotAccount] = {}
        self.bots_by_id: dict[int, BotAccount] = {}
        self.default_bot: BotAccount | None = None
        self.conversations: dict[tuple[int, int], Conversation] = {}
        self.files: dict[str, StoredFile] = {}
        self.callbacks: dict[str, CallbackRecord] = {}
        self.chat_actions: list[JSON] = []
        self.events: deque[JSON] = deque(maxlen=MAX_EVENTS)
        self.event_seq = 0
        self.flood = FloodControl()
        self.calls: Counter[str] = Counter()
        self.counters: Counter[str] = Counter()
        self.closed = False
        self._pulse = asyncio.Event()
        self._user_ids = itertools.count(700_000_001)
        self._group_ids = itertools.count(4_000_000_001)
        self._file_seq = itertools.count(1)
        self._callback_ids = itertools.count(int.from_bytes(secrets.token_bytes(4), "big") * 1000)
        self._media_group_ids = itertools.count(13_000_000_000_000_001)

    # ---- waking -------------------------------------------------------------------------------
    def notify(self) -> None:
        self._pulse.set()
        self._pulse = asyncio.Event()

    def pulse(self) -> asyncio.Event:
        """Capture before checking a condition, then wait on it, so no wake-up is lost."""
        return self._pulse

    async def wait(self, pulse: asyncio.Event, timeout: float) -> None:  # noqa: ASYNC109
        if timeout <= 0 or self.closed:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(pulse.wait(), timeout)

    def close(self) -> None:
        self.closed = True
        self.notify()

    # ---- accounts -----------------------------------------------------------------------------
    def add_bot(self, token: str, username: str, first_name: str) -> BotAccount:
        bot_id = int(token.split(":", 1)[0])
        bot = BotAccount(id=bot_id, token=token, username=username, first_name=first_name)
        self.bots[token] = bot
        self.bots_by_id[bot_id] = bot
        if self.default_bot is None:
            self.default_bot = bot
        return bot

    def find_bot(self, ref: str | None, default: BotAccount | None) -> BotAccount | None:
        if not ref:
            return default
        if ref in self.bots:
            return self.bots[ref]
        name = ref.lstrip("@").lower()
        return next((b for b in self.bots.values() if b.username.lower() == name), None)

    def add_user(
        self,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "vi",
        user_id: int | None = None,
    ) -> User:
        uid = user_id if user_id is not None else next(self._user_ids)
        user = User(uid, first_name, last_name, username, language_code)
        self.users[uid] = user
        return user

    def add_group(self, title: str, member_ids: list[int], bot_ids: list[int]) -> Group:
        gid = -next(self._group_ids)
        group = Group(gid, title, set(member_ids), set(bot_ids))
        self.groups[gid] = group
        return group

    # ---- chats and messages ---------------------------------------------------------------------
    def conversation(self, bot: BotAccount, chat_id: int) -> Conversation:
        """The chat as `bot` sees it; raises "chat not found" like Telegram for unknown chats."""
        key = (bot.id, chat_id)
        conv = self.conversations.get(key)
        if conv is not None:
            return conv
        if chat_id in self.users:
            user = self.users[chat_id]
            conv = Conversation(bot.id, user.as_chat(), started=user.starts_bots)
        elif chat_id in self.groups and bot.id in self.groups[chat_id].bot_ids:
            conv = Conversation(bot.id, self.groups[chat_id].as_chat(), started=True)
        else:
            raise ApiError(400, CHAT_NOT_FOUND)
        self.conversations[key] = conv
        return conv

    def writable(self, bot: BotAccount, chat_id: int) -> Conversation:
        """A chat the bot may post to now, or the 400/403 Telegram would answer."""
        conv = self.conversation(bot, chat_id)
        if conv.private:
            if bot.id in self.users[chat_id].blocked_bots:
                self.counters["forbidden"] += 1
                raise ApiError(403, BLOCKED)
            if not conv.started:
                self.counters["forbidden"] += 1
                raise ApiError(403, CANT_INITIATE)
        return conv

    def add_message(
        self, bot: BotAccount, conv: Conversation, sender: JSON, content: JSON, *, from_bot: bool
    ) -> JSON:
        message: JSON = {
            "message_id": conv.next_message_id,
            "from": sender,
            "chat": conv.chat,
            "date": now_ts(),
            **content,
        }
        conv.next_message_id += 1
        conv.messages[message["message_id"]] = message
        if from_bot:
            self.counters["sent_messages"] += 1
        self.emit(bot, conv, "message", message, from_bot=from_bot)
        return message

    def emit(self, bot: BotAccount, conv: Conversation, kind: str, message: JSON | None, **extra: Any) -> int:
        """Record something a person in the chat would see; feeds the web chat and `wait_for`."""
        self.event_seq += 1
        event: JSON = {"seq": self.event_seq, "kind": kind, "bot_id": bot.id, "chat_id": conv.chat["id"]}
        if message is not None:
            event["message"] = message
        event.update(extra)
        if kind == "message" and extra.get("from_bot"):
            event["reply_keyboard"] = conv.reply_keyboard
        self.events.append(event)
        self.notify()
        return self.event_seq

    def events_after(self, bot_id: int, chat_id: int | None, after: int) -> list[JSON]:
        return [
            e
            for e in self.events
            if e["seq"] > after and e["bot_id"] == bot_id and (chat_id is None or e["chat_id"] == chat_id)
        ]

    def transcript(self, bot: BotAccount, chat_id: int) -> list[JSON]:
        conv = self.conversation(bot, chat_id)
        return [m for mid, m in conv.messages.items() if mid not in conv.deleted]

    # ---- updates ----------------------------------------------------------------------------------
    def enqueue_update(self, bot: BotAccount, kind: str, payload: JSON) -> JSON:
        update = {"update_id": bot.next_update_id, kind: payload}
        bot.next_update_id += 1
        bot.updates.append(update)
        self.notify()
        return update

    def confirm_updates(self, bot: BotAccount, offset: int | None) -> None:
        if offset is None or offset == 0:
            return
        if offset < 0:
            keep = -offset
            while len(bot.updates) > keep:
                bot.updates.popleft()
            return
        while bot.updates and bot.updates[0]["update_id"] < offset:
            bot.updates.popleft()

    def drop_unwanted(self, bot: BotAccount) -> None:
        """Updates of types the bot did not ask for are never delivered, as on Telegram."""
        if bot.allowed_updates is None:
            return
        wanted = set(bot.allowed_updates) or {
            "message",
            "edited_message",
            "channel_post",
            "edited_channel_post",
            "callback_query",
            "inline_query",
        }
        bot.updates = deque(u for u in bot.updates if (set(u) - {"update_id"}) <= wanted)

    # ---- files ------------------------------------------------------------------------------------
    def store_file(
        self,
        kind: str,
        content: bytes | None,
        *,
        file_name: str | None,
        mime_type: str | None,
        declared_size: int | None = None,
        width: int = 0,
        height: int = 0,
    ) -> StoredFile:
        """Each upload gets a fresh file_id; file_unique_id follows the content, as on Telegram."""
        seq = next(self._file_seq)
        if content is not None and declared_size is None:
            digest = hashlib.sha256(content).hexdigest()
            size = len(content)
        else:
            size = declared_size if declared_size is not None else len(content or b"")
            digest = hashlib.sha256(f"declared:{seq}:{size}".encode()).hexdigest()
        prefix = {"photos": "AgAC", "documents": "BQAC"}.get(kind, "CQAC")
        file_id = f"{prefix}{secrets.token_urlsafe(24)}_{seq}"
        unique = f"AQAD{digest[:20]}"
        ext = ""
        if file_name and "." in file_name:
            ext = "." + file_name.rsplit(".", 1)[1].lower()
        elif kind == "photos":
            ext = ".jpg"
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=unique,
            kind=kind,
            size=size,
            content=content,
            file_name=file_name,
            mime_type=mime_type,
            file_path=f"{kind}/file_{seq}{ext}",
            width=width,
            height=height,
        )
        self.files[file_id] = stored
        return stored

    def file_by_path(self, path: str) -> StoredFile | None:
        return next((f for f in self.files.values() if f.file_path == path), None)

    def new_callback_id(self) -> str:
        return str(next(self._callback_ids))

    def new_media_group_id(self) -> str:
        return str(next(self._media_group_ids))

    def stats(self) -> JSON:
        answered = sum(1 for c in self.callbacks.values() if c.answered)
        return {
            "sent_messages": self.counters["sent_messages"],
            "too_many_requests": self.counters["too_many_requests"],
            "forbidden": self.counters["forbidden"],
            "bad_requests": self.counters["bad_requests"],
            "callback_queries": len(self.callbacks),
            "callback_queries_answered": answered,
            "calls": dict(self.calls),
            "flood_limits_enabled": self.flood.enabled,
        }

"""`EmulatorClient`: people for tests and the web chat, over the control API's HTTP.

It remembers, per chat, the event number of its own last action, so `wait_for` returns the bot's
answer to *that* action even if the bot replied before the test started waiting.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from typing import Any

import aiohttp

JSON = dict[str, Any]
Match = str | Callable[[JSON], bool] | None


class EmulatorError(Exception):
    """The control API refused an action (for example a button that is not on the message)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def message_text(message: JSON) -> str:
    return str(message.get("text") or message.get("caption") or "")


class EmulatorClient:
    def __init__(
        self, base_url: str, *, bot: str | None = None, session: aiohttp.ClientSession | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.bot = bot
        self._session = session
        self._own_session = session is None
        self._cursor: dict[int, int] = {}
        self._last_chat: int | None = None
        self._seq = 0

    async def __aenter__(self) -> EmulatorClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None and self._own_session:
            await self._session.close()
        self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=90))
        return self._session

    async def _call(self, method: str, path: str, body: JSON | None = None, **query: Any) -> Any:
        params = {k: str(v) for k, v in query.items() if v is not None}
        if self.bot:
            params["bot"] = self.bot
        async with self._http().request(method, self.base_url + path, json=body, params=params) as resp:
            payload = await resp.json(content_type=None)
        if not payload.get("ok"):
            raise EmulatorError(resp.status, str(payload.get("error")))
        self._seq = int(payload.get("seq", 0))
        return payload["result"]

    async def _act(self, path: str, body: JSON) -> Any:
        """A person's action: move this chat's cursor to the event it produced."""
        result = await self._call("POST", path, body)
        chat = body.get("chat_id") or body["user_id"]
        self._cursor[chat] = self._seq
        self._last_chat = chat
        return result

    # ---- accounts ---------------------------------------------------------------------------------
    async def create_user(
        self,
        first_name: str,
        language_code: str = "vi",
        username: str | None = None,
        *,
        last_name: str | None = None,
        started: bool = True,
    ) -> JSON:
        body = {
            "first_name": first_name,
            "language_code": language_code,
            "username": username,
            "last_name": last_name,
            "started": started,
        }
        return dict(await self._call("POST", "/control/users", body))

    async def create_group(self, title: str, member_ids: list[int]) -> JSON:
        return dict(await self._call("POST", "/control/groups", {"title": title, "member_ids": member_ids}))

    async def create_bot(self, token: str, username: str, first_name: str = "Bot") -> JSON:
        body = {"token": token, "username": username, "first_name": first_name}
        return dict(await self._call("POST", "/control/bots", body))

    # ---- actions ----------------------------------------------------------------------------------
    async def send_text(
        self, user_id: int, text: str, *, chat_id: int | None = None, reply_to_message_id: int | None = None
    ) -> JSON:
        body = {
            "user_id": user_id,
            "chat_id": chat_id,
            "text": text,
            "reply_to_message_id": reply_to_message_id,
        }
        return dict(await self._act("/control/messages", body))

    async def send_command(
        self, user_id: int, command: str, args: str = "", *, chat_id: int | None = None
    ) -> JSON:
        text = "/" + command.lstrip("/") + (f" {args}" if args else "")
        return await self.send_text(user_id, text, chat_id=chat_id)

    async def send_document(
        self,
        user_id: int,
        filename: str,
        content: bytes | None,
        mime: str = "application/octet-stream",
        caption: str | None = None,
        media_group_id: str | None = None,
        *,
        declared_size: int | None = None,
        chat_id: int | None = None,
    ) -> JSON:
        """`declared_size` lets a test "upload" a 25 MB file without holding 25 MB."""
        body = {
            "user_id": user_id,
            "chat_id": chat_id,
            "filename": filename,
            "mime_type": mime,
            "caption": caption,
            "media_group_id": media_group_id,
            "declared_size": declared_size,
            "content_b64": None if content is None else base64.b64encode(content).decode(),
        }
        return dict(await self._act("/control/documents", body))

    async def send_photo(
        self,
        user_id: int,
        content: bytes,
        caption: str | None = None,
        *,
        filename: str = "photo.jpg",
        media_group_id: str | None = None,
        chat_id: int | None = None,
    ) -> JSON:
        body = {
            "user_id": user_id,
            "chat_id": chat_id,
            "filename": filename,
            "caption": caption,
            "media_group_id": media_group_id,
            "content_b64": base64.b64encode(content).decode(),
        }
        return dict(await self._act("/control/photos", body))

    async def send_album(self, user_id: int, items: list[JSON], *, chat_id: int | None = None) -> list[JSON]:
        """items: {"type": "photo"|"document", "filename", "content": bytes, "mime_type", "caption"}."""
        wire = []
        for item in items:
            entry = {k: v for k, v in item.items() if k != "content"}
            if item.get("content") is not None:
                entry["content_b64"] = base64.b64encode(item["content"]).decode()
            wire.append(entry)
        return list(
            await self._act("/control/albums", {"user_id": user_id, "chat_id": chat_id, "items": wire})
        )

    async def press_button(
        self, user_id: int, message_id: int, button: str, *, chat_id: int | None = None
    ) -> JSON:
        """Press by callback_data, or by the button's text; returns the callback record (its id)."""
        body = {"user_id": user_id, "chat_id": chat_id, "message_id": message_id, "button": button}
        return dict(await self._act("/control/press", body))

    async def edit_message(
        self, user_id: int, message_id: int, text: str, *, chat_id: int | None = None
    ) -> JSON:
        body = {"user_id": user_id, "chat_id": chat_id, "message_id": message_id, "text": text}
        return dict(await self._act("/control/edit", body))

    async def block_bot(self, user_id: int, blocked: bool = True) -> JSON:
        return dict(await self._call("POST", "/control/block", {"user_id": user_id, "blocked": blocked}))

    async def set_flood_limits(self, enabled: bool, **limits: float) -> JSON:
        return dict(await self._call("POST", "/control/flood", {"enabled": enabled, **limits}))

    # ---- reading ----------------------------------------------------------------------------------
    async def transcript(self, chat_id: int) -> list[JSON]:
        return list(await self._call("GET", f"/control/chats/{chat_id}/transcript"))

    async def messages_after(self, chat_id: int, after: int = 0) -> list[JSON]:
        return list(await self._call("GET", f"/control/chats/{chat_id}/messages", after=after))

    async def chat(self, chat_id: int) -> JSON:
        return dict(await self._call("GET", f"/control/chats/{chat_id}"))

    async def events(self, chat_id: int, after: int = 0, timeout: float = 0) -> list[JSON]:  # noqa: ASYNC109
        return list(await self._call("GET", f"/control/chats/{chat_id}/events", after=after, timeout=timeout))

    async def stats(self) -> JSON:
        return dict(await self._call("GET", "/control/stats"))

    async def reset_stats(self) -> JSON:
        return dict(await self._call("POST", "/control/stats/reset", {}))

    async def callback(self, query_id: str) -> JSON:
        return dict(await self._call("GET", f"/control/callbacks/{query_id}"))

    async def callbacks(self, chat_id: int | None = None) -> list[JSON]:
        return list(await self._call("GET", "/control/callbacks", chat_id=chat_id))

    async def commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        return list(
            await self._call(
                "GET",
                "/control/commands",
                scope=json.dumps(scope or {"type": "default"}),
                language_code=language_code,
            )
        )

    async def all_commands(self) -> list[JSON]:
        return list(await self._call("GET", "/control/commands"))

    async def chat_actions(self, chat_id: int | None = None) -> list[JSON]:
        return list(await self._call("GET", "/control/chat_actions", chat_id=chat_id))

    async def wait_for(
        self,
        match: Match = None,
        *,
        chat_id: int | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
        include_edits: bool = False,
    ) -> JSON:
        """The next bot message in the chat (after this client's last action there) that matches.

        `match` is a substring of the text/caption or a predicate on the message dict. Successive calls
        return successive messages. Raises TimeoutError with what the bot did say instead.
        """
        chat = chat_id if chat_id is not None else self._last_chat
        if chat is None:
            raise ValueError("wait_for needs chat_id before any action")
        kinds = {"message", "edited"} if include_edits else {"message"}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen: list[str] = []
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"no bot message matching {match!r} in chat {chat}; bot said: {seen}")
            events = await self.events(chat, self._cursor.get(chat, 0), min(remaining, 10.0))
            for event in events:
                self._cursor[chat] = event["seq"]
                if event["kind"] not in kinds or not event.get("from_bot"):
                    continue
                message = event["message"]
                if _matches(match, message):
                    return dict(message)
                seen.append(message_text(message)[:80])


def _matches(match: Match, message: JSON) -> bool:
    if match is None:
        return True
    if isinstance(match, str):
        return match in message_text(message)
    return bool(match(message))

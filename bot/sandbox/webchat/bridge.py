"""The web chat's only way to the emulator: its control API and the Bot API, over HTTP.

Going through HTTP (not the emulator's in-memory state) keeps the page honest: it sees exactly what a
Telegram client would see, and the same bridge works against an emulator in another process.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

JSON = dict[str, Any]
MAX_EVENT_BYTES = 8 * 1024 * 1024


class BridgeError(Exception):
    """The emulator refused an action; `status` is what the page gets back."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Download:
    content: bytes
    mime_type: str
    file_path: str


class EmulatorBridge:
    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # No total timeout: the event stream stays open as long as the page does.
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=10))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ---- plumbing -----------------------------------------------------------------------------
    async def _control(
        self, method: str, path: str, *, body: JSON | None = None, params: JSON | None = None
    ) -> Any:
        async with self.session.request(
            method,
            f"{self.base_url}/control/{path}",
            json=body,
            params=params,
            timeout=aiohttp.ClientTimeout(total=60),
        ) as resp:
            try:
                data = await resp.json(content_type=None)
            except (ValueError, aiohttp.ContentTypeError):
                raise BridgeError(f"emulator answered {resp.status}", 502) from None
        if not isinstance(data, dict) or not data.get("ok"):
            error = data.get("error") if isinstance(data, dict) else None
            raise BridgeError(
                str(error or f"emulator answered {resp.status}"), resp.status if resp.status >= 400 else 502
            )
        return data.get("result")

    async def _bot_api(self, method: str, params: JSON) -> Any:
        async with self.session.post(
            f"{self.base_url}/bot{self.token}/{method}", json=params, timeout=aiohttp.ClientTimeout(total=30)
        ) as resp:
            data = await resp.json(content_type=None)
        if not data.get("ok"):
            raise BridgeError(
                str(data.get("description") or "Bot API error"), 404 if resp.status == 400 else 502
            )
        return data["result"]

    # ---- reading ------------------------------------------------------------------------------
    async def transcript(self, user_id: int) -> tuple[list[JSON], JSON | None]:
        messages = await self._control("GET", f"chats/{user_id}/transcript")
        info = await self._control("GET", f"chats/{user_id}")
        return list(messages or []), info.get("reply_keyboard")

    async def messages_after(self, user_id: int, after: int) -> list[JSON]:
        found = await self._control("GET", f"chats/{user_id}/messages", params={"after": str(after)})
        return list(found or [])

    async def commands(self, user_id: int, language: str | None) -> list[JSON]:
        """The menu Telegram would show in this private chat: the narrowest scope that has commands,
        in the person's language first (the Bot API's own resolution order)."""
        scopes: list[JSON | None] = [
            {"type": "chat", "chat_id": user_id},
            {"type": "all_private_chats"},
            None,
        ]
        for scope in scopes:
            for lang in (language or "", ""):
                params = {"scope": json.dumps(scope or {"type": "default"}), "language_code": lang}
                found = await self._control("GET", "commands", params=params)
                if found:
                    return list(found)
        return []

    async def download(self, file_id: str) -> Download:
        info = await self._bot_api("getFile", {"file_id": file_id})
        path = str(info["file_path"])
        async with self.session.get(
            f"{self.base_url}/file/bot{self.token}/{path}", timeout=aiohttp.ClientTimeout(total=60)
        ) as resp:
            if resp.status != 200:
                raise BridgeError("file not found", 404)
            content = await resp.read()
            mime = resp.headers.get("Content-Type", "application/octet-stream").split(";")[0]
        return Download(content, mime, path)

    # ---- acting as a person --------------------------------------------------------------------
    async def send_text(self, user_id: int, text: str) -> JSON:
        result: JSON = await self._control("POST", "messages", body={"user_id": user_id, "text": text})
        return result

    async def press(self, user_id: int, message_id: int, callback_data: str | None, text: str | None) -> JSON:
        body: JSON = {"user_id": user_id, "message_id": message_id}
        if callback_data is not None:
            body["callback_data"] = callback_data
        if text is not None:
            body["text"] = text
        result: JSON = await self._control("POST", "press", body=body)
        return result

    async def send_file(
        self,
        user_id: int,
        *,
        filename: str,
        content: bytes,
        mime_type: str | None,
        as_photo: bool,
        caption: str | None = None,
    ) -> JSON:
        body: JSON = {
            "user_id": user_id,
            "filename": filename,
            "content_b64": base64.b64encode(content).decode("ascii"),
            "mime_type": mime_type or "application/octet-stream",
        }
        if caption:
            body["caption"] = caption
        result: JSON = await self._control("POST", "photos" if as_photo else "documents", body=body)
        return result

    async def send_album(self, user_id: int, files: Sequence[tuple[str, bytes, str, bool]]) -> list[JSON]:
        """Several files at once, as Telegram sends a selection of 2..10 (one media group)."""
        items: list[JSON] = [
            {
                "type": "photo" if as_photo else "document",
                "filename": filename,
                "content_b64": base64.b64encode(content).decode("ascii"),
                "mime_type": mime_type or "application/octet-stream",
            }
            for filename, content, mime_type, as_photo in files
        ]
        result: list[JSON] = await self._control("POST", "albums", body={"user_id": user_id, "items": items})
        return result

    async def ensure_user(self, user_id: int, first_name: str, language_code: str = "vi") -> None:
        """Create the person in the emulator unless they exist (the emulator keeps them across resets)."""
        try:
            await self._control("GET", f"users/{user_id}")
            return
        except BridgeError as err:
            if err.status != 404:
                raise
        await self._control(
            "POST",
            "users",
            body={"user_id": user_id, "first_name": first_name, "language_code": language_code},
        )

    # ---- live feed ----------------------------------------------------------------------------
    async def events(self, user_id: int, last_event_id: str | None) -> AsyncIterator[JSON | None]:
        """Events of one private chat from the emulator's SSE stream; None for a keep-alive."""
        params = {"user_id": str(user_id)}
        headers = {"Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        async with self.session.get(
            f"{self.base_url}/control/events", params=params, headers=headers
        ) as resp:
            if resp.status != 200:
                raise BridgeError(f"event stream refused ({resp.status})", 404 if resp.status == 404 else 502)
            data_lines: list[str] = []
            while True:
                raw = await resp.content.readuntil(b"\n", max_size=MAX_EVENT_BYTES)
                if not raw:
                    return
                line = raw.decode("utf-8").rstrip("\r\n")
                if line.startswith(":"):
                    yield None
                elif line.startswith("data:"):
                    data_lines.append(line[5:].lstrip(" "))
                elif line == "" and data_lines:
                    try:
                        event = json.loads("\n".join(data_lines))
                    except ValueError:
                        event = None
                    data_lines = []
                    if isinstance(event, dict):
                        yield event

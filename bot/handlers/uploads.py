"""A file sent in the chat as evidence: what Telegram says about it, and its bytes downloaded into
CCHC_EVIDENCE_DIR. Used by the officer's evidence and the unit's supplements."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.db.models import EvidenceKind
from bot.services import evidence as ev

_locks: dict[int, asyncio.Lock] = {}


def chat_lock(chat_id: int) -> asyncio.Lock:
    """One file at a time per chat: the parts of an album arrive together and must not race."""
    return _locks.setdefault(chat_id, asyncio.Lock())


@dataclass(frozen=True)
class Incoming:
    file_id: str
    file_unique_id: str
    file_name: str
    mime_type: str | None
    size: int | None
    kind: str

    @property
    def too_big(self) -> bool:
        """Telegram said the file is larger than bots may download (checked again on download)."""
        return self.size is not None and self.size > ev.DOWNLOAD_LIMIT


def incoming(message: Message) -> Incoming | None:
    """The document, or the largest size of the photo, in the message."""
    if message.document is not None:
        d = message.document
        return Incoming(
            d.file_id,
            d.file_unique_id,
            d.file_name or f"document_{d.file_unique_id}",
            d.mime_type,
            d.file_size,
            EvidenceKind.DOCUMENT.value,
        )
    if message.photo:
        p = max(message.photo, key=lambda s: (s.file_size or 0, s.width * s.height))
        return Incoming(
            p.file_id, p.file_unique_id, f"photo_{p.file_unique_id}.jpg", "image/jpeg", p.file_size, "photo"
        )
    return None


def too_big_text() -> str:
    return _(
        "⚠️ This file is larger than 20 MB, which Telegram does not let bots download. "
        "Please compress it or split it into parts and send them again, or put a link to the file "
        "in the explanation. Nothing was recorded."
    )


async def store(bot: Bot, file: Incoming, directory: Path) -> ev.StoredFile | None:
    """Download the file into `directory`; None when Telegram refuses because the file is too big."""
    try:
        found = await bot.get_file(file.file_id)
    except TelegramBadRequest as exc:
        if "too big" in str(exc).lower():
            return None
        raise
    if found.file_size is not None and found.file_size > ev.DOWNLOAD_LIMIT:
        return None
    assert found.file_path is not None
    buffer = BytesIO()
    await bot.download_file(found.file_path, destination=buffer)
    return ev.store_bytes(directory, file.file_unique_id, file.file_name, buffer.getvalue())


def evidence_file(file: Incoming, stored: ev.StoredFile, media_group_id: str | None) -> ev.EvidenceFile:
    """What the evidence services record about a downloaded file."""
    return ev.EvidenceFile(
        file_id=file.file_id,
        file_unique_id=file.file_unique_id,
        file_name=file.file_name,
        mime_type=file.mime_type,
        size=stored.size,
        sha256=stored.sha256,
        stored_path=str(stored.path),
        kind=file.kind,
        media_group_id=media_group_id,
    )

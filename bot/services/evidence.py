"""Evidence files (tài liệu kiểm chứng) of the self-assessment: where the bytes go and what is recorded.

The chat layer downloads a file; this module names it safely under
CCHC_EVIDENCE_DIR/<period>/<unit>/<item>/, hashes it, and records the metadata next to the Telegram
file_id in the same rights-checked, audited transaction as every other change of the sheet.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NotRequired, Protocol, TypedDict, Unpack

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Evidence, EvidenceKind, EvidenceRound, ItemScore, Period, Unit
from bot.services import audit
from bot.services.actor import Actor
from bot.services.assessment import Sheet, editable_item, editable_sheet, load_sheet, self_leaf, touch
from bot.services.errors import ServiceError
from bot.services.tx import use_case

#: Telegram's Bot API refuses getFile above this size ("file is too big").
DOWNLOAD_LIMIT = 20 * 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str | None, fallback: str = "file") -> str:
    """A file name that is safe on every file system: ASCII letters, digits, '.', '_' and '-' only,
    no leading dot, at most 100 characters, extension kept ("Báo cáo 1/2.pdf" → "Bao_cao_1_2.pdf")."""
    folded = unicodedata.normalize("NFKD", (name or "").replace("đ", "d").replace("Đ", "D"))
    ascii_name = folded.encode("ascii", "ignore").decode()
    cleaned = _UNSAFE.sub("_", ascii_name).strip("._-") or fallback
    stem, dot, ext = cleaned.rpartition(".")
    if dot and len(ext) <= 10:
        return f"{stem[: 100 - len(ext) - 1]}.{ext}"
    return cleaned[:100]


class _UnitSheet(Protocol):
    """A unit's sheet in a period (the officer's `Sheet`, the explanation round's `ReplyTarget`)."""

    @property
    def period(self) -> Period: ...

    @property
    def unit(self) -> Unit: ...


def item_dir(base: Path, sheet: _UnitSheet, code: str) -> Path:
    """CCHC_EVIDENCE_DIR/<period year>/<unit code>/<item code>/"""
    return base / str(sheet.period.year) / safe_name(sheet.unit.code, "unit") / safe_name(code, "item")


@dataclass(frozen=True)
class StoredFile:
    path: Path
    sha256: str
    size: int


def store_bytes(directory: Path, file_unique_id: str, file_name: str | None, data: bytes) -> StoredFile:
    """Write the bytes atomically (temp file + rename) as <file_unique_id>_<safe name>."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{safe_name(file_unique_id, 'id')}_{safe_name(file_name)}"
    temp = target.with_name(target.name + ".part")
    with temp.open("wb") as fp:
        fp.write(data)
        fp.flush()
        os.fsync(fp.fileno())
    temp.replace(target)
    return StoredFile(path=target, sha256=hashlib.sha256(data).hexdigest(), size=len(data))


async def evidence_target(
    session: AsyncSession, actor: Actor, assessment_id: int, code: str, *, now: datetime | None = None
) -> Sheet:
    """Check, before downloading anything, that evidence may be attached to this item now."""
    sheet = await editable_sheet(session, actor, assessment_id, now)
    self_leaf(sheet, code)
    return sheet


async def _active(session: AsyncSession, item_score_id: int) -> list[Evidence]:
    rows = await session.scalars(
        select(Evidence)
        .where(Evidence.item_score_id == item_score_id, Evidence.removed_at.is_(None))
        .order_by(Evidence.id)
    )
    return list(rows)


async def _same_file(session: AsyncSession, item_score_id: int, file_unique_id: str) -> Evidence | None:
    rows = await _active(session, item_score_id)
    return next((e for e in rows if e.file_unique_id == file_unique_id), None)


async def find_duplicate(
    session: AsyncSession, actor: Actor, assessment_id: int, code: str, file_unique_id: str
) -> Evidence | None:
    """The same file (Telegram's file_unique_id) already attached to this item, if any."""
    sheet = await load_sheet(session, actor, assessment_id)
    item = sheet.items.get(code)
    if item is None:
        return None
    return await _same_file(session, item.id, file_unique_id)


class EvidenceFile(TypedDict):
    """What is recorded about one file: Telegram's ids and what the download found."""

    file_id: str
    file_unique_id: str
    file_name: str | None
    mime_type: str | None
    size: int | None
    sha256: str | None
    stored_path: str | None
    kind: NotRequired[str]  # EvidenceKind, a document by default
    media_group_id: NotRequired[str | None]


async def record_file(
    session: AsyncSession, actor: Actor, item_score_id: int, evidence_round: EvidenceRound, file: EvidenceFile
) -> tuple[Evidence, bool]:
    """A step of a use case: add one file to an item (flushed, not committed). The same file
    already attached to the item is not added again: returns (the existing row, False)."""
    existing = await _same_file(session, item_score_id, file["file_unique_id"])
    if existing is not None:
        return existing, False
    row = Evidence(
        item_score_id=item_score_id,
        **{"kind": EvidenceKind.DOCUMENT.value, **file},
        round=evidence_round.value,
        uploaded_by=actor.person_id,
    )
    session.add(row)
    await session.flush()
    return row, True


@use_case
async def add_evidence(
    session: AsyncSession,
    actor: Actor,
    assessment_id: int,
    code: str,
    *,
    now: datetime | None = None,
    **file: Unpack[EvidenceFile],
) -> tuple[Evidence, bool]:
    """Record one file on an item. The same file twice on the same item is recorded once:
    returns (the existing row, False)."""
    sheet, item = await editable_item(session, actor, assessment_id, code, now)
    row, created = await record_file(session, actor, item.id, EvidenceRound.SELF, file)
    if not created:
        return row, False
    await touch(session, sheet, code)
    await audit.record(
        session,
        actor,
        "evidence.add",
        "evidence",
        row.id,
        after=audit.snapshot(row, ["item_score_id", "file_unique_id", "file_name", "size", "sha256"]),
    )
    await session.commit()
    return row, True


async def list_evidence(session: AsyncSession, actor: Actor, assessment_id: int, code: str) -> list[Evidence]:
    sheet = await load_sheet(session, actor, assessment_id)
    sheet.leaf(code)
    item = sheet.items.get(code)
    return [] if item is None else await _active(session, item.id)


@use_case
async def remove_evidence(
    session: AsyncSession, actor: Actor, assessment_id: int, evidence_id: int, *, now: datetime | None = None
) -> tuple[str, Evidence]:
    """Mark a file removed (the bytes stay on disk for the audit trail). Returns (item code, row)."""
    sheet = await editable_sheet(session, actor, assessment_id, now)
    row = await session.get(Evidence, evidence_id)
    item = None if row is None else await session.get(ItemScore, row.item_score_id)
    if row is None or item is None or item.assessment_id != sheet.assessment.id:
        raise ServiceError("forbidden")
    if row.removed_at is not None:
        return item.item_code, row
    row.removed_at = now or datetime.now(UTC)
    await audit.record(
        session,
        actor,
        "evidence.remove",
        "evidence",
        row.id,
        before={"removed_at": None},
        after={"removed_at": row.removed_at},
    )
    await session.commit()
    return item.item_code, row

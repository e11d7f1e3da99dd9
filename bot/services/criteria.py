"""Criteria sets in the database: stored once per content hash, read back as the scoring model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import CriteriaSetRow, RoleName
from bot.scoring.loader import summary
from bot.scoring.model import CriteriaSet
from bot.services.actor import Actor, require
from bot.services.audit import record
from bot.services.errors import ServiceError
from bot.services.tx import use_case


@dataclass(frozen=True)
class StoredCriteria:
    id: int
    code: str
    name: str
    year: int
    unit_types: list[str]
    content_hash: str
    sample: bool
    created_at: datetime
    created: bool = False  # True when this call stored it

    @classmethod
    def of(cls, row: CriteriaSetRow, created: bool = False) -> StoredCriteria:
        return cls(
            id=row.id,
            code=row.code,
            name=row.name,
            year=row.year,
            unit_types=list(row.unit_types),
            content_hash=row.content_hash,
            sample=row.sample,
            created_at=row.created_at,
            created=created,
        )


@use_case
async def store_criteria_set(session: AsyncSession, actor: Actor, cs: CriteriaSet) -> StoredCriteria:
    """Store a validated set; the same content stored twice is the same row (no duplicate)."""
    require(actor, RoleName.SECRETARIAT)
    digest = cs.content_hash()
    existing = await session.scalar(select(CriteriaSetRow).where(CriteriaSetRow.content_hash == digest))
    if existing is not None:
        return StoredCriteria.of(existing)
    row = CriteriaSetRow(
        code=cs.code,
        name=cs.name,
        year=cs.year,
        unit_types=list(cs.unit_types),
        content=cs.model_dump(mode="json"),
        content_hash=digest,
        sample=cs.sample,
    )
    session.add(row)
    await session.flush()
    await record(
        session,
        actor,
        "criteria.import",
        "criteria_set",
        row.id,
        None,
        {"code": cs.code, "hash": digest, **summary(cs)},
    )
    await session.commit()
    return StoredCriteria.of(row, created=True)


async def list_criteria_sets(session: AsyncSession) -> list[StoredCriteria]:
    rows = await session.scalars(select(CriteriaSetRow).order_by(CriteriaSetRow.code, CriteriaSetRow.id))
    return [StoredCriteria.of(r) for r in rows]


async def find_criteria_row(session: AsyncSession, ref: str) -> CriteriaSetRow:
    """By code (the latest stored version), by id, or by a hash prefix (≥ 8 characters)."""
    by_code = await session.scalar(
        select(CriteriaSetRow).where(CriteriaSetRow.code == ref).order_by(CriteriaSetRow.id.desc()).limit(1)
    )
    if by_code is not None:
        return by_code
    if ref.isdigit():
        by_id = await session.get(CriteriaSetRow, int(ref))
        if by_id is not None:
            return by_id
    if len(ref) >= 8:
        by_hash = await session.scalar(
            select(CriteriaSetRow).where(CriteriaSetRow.content_hash.startswith(ref)).limit(1)
        )
        if by_hash is not None:
            return by_hash
    raise ServiceError("not_found", what="criteria set", key=ref)


_MODEL_CACHE: dict[str, CriteriaSet] = {}


def criteria_model(row: CriteriaSetRow) -> CriteriaSet:
    """The scoring model of a stored set. Cached by content hash: stored content never changes."""
    model = _MODEL_CACHE.get(row.content_hash)
    if model is None:
        model = CriteriaSet.model_validate(row.content)
        _MODEL_CACHE[row.content_hash] = model
    return model

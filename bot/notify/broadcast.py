"""Broadcasts by the secretariat: pick an audience, queue one message per person, report delivery.

A broadcast is identified by its key `bc:<12 hex>`; each outbox row's idempotency key is
`<key>:<person id>`, so the report is a count over that prefix and a retried `enqueue_broadcast` with
the same key queues nothing twice. The typed text is escaped (it is the secretariat's plain text)
under a translated heading in each recipient's language.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    Outbox,
    OutboxStatus,
    Period,
    Person,
    RankingGroup,
    Role,
    RoleName,
    Unit,
)
from bot.i18n import translate
from bot.notify.audience import (
    appraisers_of,
    pending_counts_by_agency,
    units_not_submitted,
)
from bot.services.actor import Actor, require
from bot.services.audit import record
from bot.services.errors import ServiceError
from bot.services.outbox import enqueue
from bot.services.recipients import people_of_units
from bot.services.tx import use_case
from bot.text import esc, visible

AUDIENCES = ("all", "not_submitted", "appraisers_pending", "group:<code>")
KIND = "broadcast"
MAX_TEXT = 3800  # leaves room for the heading within Telegram's 4096


@dataclass(frozen=True)
class BroadcastResult:
    key: str
    audience: str
    recipients: int


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    pending: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.blocked + self.failed + self.pending

    @property
    def done(self) -> bool:
        return self.pending == 0


async def select_audience(session: AsyncSession, period: Period | None, audience: str) -> list[Person]:
    """The active people an audience names, each once, ordered by id. `period` is needed for
    not_submitted and appraisers_pending."""
    people: list[Person]
    if audience == "all":
        people = list(
            await session.scalars(
                select(Person)
                .where(Person.active.is_(True), Person.id.in_(select(Role.person_id)))
                .order_by(Person.id)
            )
        )
    elif audience == "not_submitted":
        if period is None:
            raise ServiceError("bad_value", what="audience", reason="not_submitted needs a period")
        units = await units_not_submitted(session, period)
        people = [p for p, _ in await people_of_units(session, [u.id for u in units])]
    elif audience == "appraisers_pending":
        if period is None:
            raise ServiceError("bad_value", what="audience", reason="appraisers_pending needs a period")
        pending = await pending_counts_by_agency(session, period)
        agencies = [a for a, units in pending.items() if sum(units.values()) > 0]
        people = [p for p, _ in await appraisers_of(session, agencies)]
    elif audience.startswith("group:"):
        code = audience.removeprefix("group:")
        group = await session.scalar(select(RankingGroup).where(RankingGroup.code == code))
        if group is None:
            raise ServiceError("not_found", what="group", key=code)
        unit_ids = await session.scalars(
            select(Unit.id).where(Unit.group_id == group.id, Unit.active.is_(True))
        )
        people = [p for p, _ in await people_of_units(session, list(unit_ids))]
    else:
        raise ServiceError("bad_value", what="audience", reason=f"expected one of {', '.join(AUDIENCES)}")
    unique = {p.id: p for p in people}
    return [unique[i] for i in sorted(unique)]


def render_broadcast(language: str | None, text: str) -> str:
    return translate(language, "📢 <b>Message from the secretariat</b>") + "\n\n" + esc(text)


@use_case
async def enqueue_broadcast(
    session: AsyncSession,
    actor: Actor,
    audience: str,
    text: str,
    *,
    period: Period | None = None,
    key: str | None = None,
) -> BroadcastResult:
    """Queue the secretariat's message for everyone in `audience`, with an audit row; one
    transaction. Pass the preview's `key` to make a double confirmation harmless."""
    require(actor, RoleName.SECRETARIAT)
    text = visible(text)
    if not text:
        raise ServiceError("bad_value", what="text", reason="the message is empty")
    if len(text) > MAX_TEXT:
        raise ServiceError("bad_value", what="text", reason=f"longer than {MAX_TEXT} characters")
    key = key or new_broadcast_key()
    people = await select_audience(session, period, audience)
    queued = 0
    for person in people:
        row = await enqueue(
            session,
            person.id,
            person.telegram_id,
            KIND,
            render_broadcast(person.language, text),
            f"{key}:{person.id}",
            payload={"broadcast": key},
        )
        queued += row is not None
    await record(
        session,
        actor,
        "broadcast.send",
        "broadcast",
        key,
        None,
        {"audience": audience, "recipients": len(people), "queued": queued, "text": text},
    )
    await session.commit()
    return BroadcastResult(key=key, audience=audience, recipients=len(people))


def new_broadcast_key() -> str:
    return f"bc:{uuid.uuid4().hex[:12]}"


async def broadcast_report(session: AsyncSession, key: str) -> DeliveryReport:
    rows = await session.execute(
        select(Outbox.status, func.count())
        .where(Outbox.idempotency_key.like(f"{key}:%"))
        .group_by(Outbox.status)
    )
    counts: dict[str, int] = {status: n for status, n in rows}
    return DeliveryReport(
        sent=counts.get(OutboxStatus.SENT.value, 0),
        blocked=counts.get(OutboxStatus.BLOCKED.value, 0),
        failed=counts.get(OutboxStatus.FAILED.value, 0),
        pending=counts.get(OutboxStatus.PENDING.value, 0),
    )

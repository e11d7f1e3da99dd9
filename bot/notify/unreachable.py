"""People who blocked the bot (403): recorded on the person and reported to the secretariat.

One report per secretariat person collects everyone who became unreachable in a short window
(`delay`): the report row is created pending with `next_attempt_at = now + delay` and re-rendered
while still pending, so a broadcast that meets 25 blocked people yields a few reports, not 25. Keys
are `unreachable:<local date>:<secretariat person>:<n>` (deduplicated per day and window), and each
report's payload lists the person ids it covers, so nobody is reported twice on one day.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Agency, Outbox, OutboxStatus, Person, Role, RoleName, Unit
from bot.i18n import translate
from bot.services.outbox import enqueue
from bot.text import esc

REPORT_KIND = "unreachable_report"
MAX_NAMES = 40


async def secretariat(session: AsyncSession) -> list[Person]:
    rows = await session.scalars(
        select(Person)
        .join(Role, Role.person_id == Person.id)
        .where(Role.role == RoleName.SECRETARIAT.value, Person.active.is_(True))
        .distinct()
        .order_by(Person.id)
    )
    return list(rows)


async def _labels(session: AsyncSession, person_ids: list[int]) -> dict[int, str]:
    """'Full name (unit or agency)' per person."""
    people = {p.id: p for p in await session.scalars(select(Person).where(Person.id.in_(person_ids)))}
    places: dict[int, str] = {}
    rows = await session.execute(
        select(Role.person_id, Unit.name, Agency.name)
        .outerjoin(Unit, Unit.id == Role.unit_id)
        .outerjoin(Agency, Agency.id == Role.agency_id)
        .where(Role.person_id.in_(person_ids))
        .order_by(Role.id)
    )
    for person_id, unit_name, agency_name in rows:
        places.setdefault(person_id, unit_name or agency_name or "")
    labels: dict[int, str] = {}
    for pid in person_ids:
        person = people.get(pid)
        name = (
            (person.full_name or (f"@{person.username}" if person.username else str(pid))) if person else pid
        )
        place = places.get(pid)
        labels[pid] = esc(name) + (f" ({esc(place)})" if place else "")
    return labels


def render_report(language: str | None, labels: list[str]) -> str:
    shown = labels[:MAX_NAMES]
    text = translate(
        language,
        "⚠️ The bot could not reach {count} person(s): they have blocked the bot or deleted their account. "
        "They will not receive notifications until they write to the bot again.",
        count=len(labels),
    )
    lines = [text, "", *[f"• {label}" for label in shown]]
    if len(labels) > len(shown):
        lines.append(translate(language, "… and {count} more.", count=len(labels) - len(shown)))
    return "\n".join(lines)


async def record_unreachable(
    session: AsyncSession, person_id: int | None, now: datetime, tz: ZoneInfo, delay: timedelta
) -> bool:
    """Mark the person unreachable and put them in the secretariat's pending report. Flushes, does not
    commit. Returns False when the person was already known to be unreachable (nothing reported)."""
    if person_id is None:
        return False
    person = await session.get(Person, person_id)
    if person is None or person.unreachable:
        return False
    person.unreachable = True
    person.unreachable_at = now
    day = now.astimezone(tz).date().isoformat()
    for recipient in await secretariat(session):
        if recipient.id == person_id:
            continue
        prefix = f"unreachable:{day}:{recipient.id}:"
        reports = list(
            await session.scalars(
                select(Outbox).where(Outbox.idempotency_key.like(prefix + "%")).order_by(Outbox.id)
            )
        )
        covered = {pid for r in reports for pid in (r.payload or {}).get("person_ids", [])}
        if person_id in covered:
            continue
        open_report = next(
            (r for r in reports if r.status == OutboxStatus.PENDING.value and not r.attempts), None
        )
        if open_report is not None:
            ids = [*(open_report.payload or {}).get("person_ids", []), person_id]
            labels = await _labels(session, ids)
            open_report.payload = {"person_ids": ids}
            open_report.text = render_report(recipient.language, [labels[i] for i in ids])
            continue
        labels = await _labels(session, [person_id])
        row = await enqueue(
            session,
            recipient.id,
            recipient.telegram_id,
            REPORT_KIND,
            render_report(recipient.language, [labels[person_id]]),
            f"{prefix}{len(reports) + 1}",
            payload={"person_ids": [person_id]},
        )
        if row is not None:
            row.next_attempt_at = now + delay
    await session.flush()
    return True


async def mark_reachable(session: AsyncSession, person_id: int) -> None:
    """The person wrote to the bot again: notifications may go out again. Flushes, does not commit."""
    person = await session.get(Person, person_id)
    if person is not None and person.unreachable:
        person.unreachable = False
        person.unreachable_at = None
        await session.flush()

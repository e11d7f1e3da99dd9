"""Which stage of the cycle accepts which change now (SPEC §2): one place for every deadline check.

A stage locks at its deadline even when nobody has moved the period on yet, so the checks look at
both the period's status and the stage's end time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from bot.db.models import AppraisalStatus, ItemScore, Period, PeriodStatus
from bot.services.errors import ServiceError


class Round(StrEnum):
    FIRST = "first"  # appraisal 1 (from a unit's submission until the appraisal deadline)
    FINAL = "final"  # appraisal 2, after the explanation round


#: Appraisal-1 results a unit may answer in the explanation round.
CONTESTED = frozenset(
    {
        AppraisalStatus.ADJUSTED.value,
        AppraisalStatus.SUPPLEMENT_REQUESTED.value,
        AppraisalStatus.NA_REFUSED.value,
    }
)
FROZEN = frozenset({PeriodStatus.APPROVED.value, PeriodStatus.PUBLISHED.value})


def now_utc(now: datetime | None = None) -> datetime:
    return now or datetime.now(UTC)


def _before(deadline: datetime | None, now: datetime) -> bool:
    return deadline is None or now < deadline


def appraisal_round(period: Period, now: datetime | None = None) -> Round | None:
    """The appraisal round open now, or None. Appraisal 1 starts as soon as a unit submits (during
    self-assessment) and ends at the appraisal deadline; the final round runs until its deadline."""
    at = now_utc(now)
    if period.status in (PeriodStatus.SELF_ASSESSMENT.value, PeriodStatus.APPRAISAL.value):
        return Round.FIRST if _before(period.appraisal_deadline, at) else None
    if period.status == PeriodStatus.FINAL_APPRAISAL.value:
        return Round.FINAL if _before(period.final_deadline, at) else None
    return None


def require_round(period: Period, now: datetime | None = None) -> Round:
    found = appraisal_round(period, now)
    if found is None:
        raise ServiceError("stage_closed", year=period.year, status=period.status)
    return found


def reply_open(period: Period, item: ItemScore, now: datetime | None = None) -> bool:
    """Whether the unit may answer this item now: a supplement request as soon as it is made (until
    the appraisal deadline), and any contested item during the explanation round (until its deadline)."""
    at = now_utc(now)
    if period.status in (PeriodStatus.SELF_ASSESSMENT.value, PeriodStatus.APPRAISAL.value):
        return item.appraisal1_status == AppraisalStatus.SUPPLEMENT_REQUESTED.value and _before(
            period.appraisal_deadline, at
        )
    if period.status == PeriodStatus.EXPLANATION.value:
        return item.appraisal1_status in CONTESTED and _before(period.explanation_deadline, at)
    return False


def answered(item: ItemScore) -> bool:
    """The unit answered after the latest appraisal-1 decision (explanation text or new evidence)."""
    return (
        item.unit_reply_at is not None
        and item.appraisal1_at is not None
        and item.unit_reply_at >= item.appraisal1_at
    )

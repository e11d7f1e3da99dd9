"""Database models (SQLAlchemy 2, typed).

Conventions: integer surrogate keys; points in `Points` columns (exact Decimal); timestamps in
`UtcDateTime` (aware UTC). Relationships are `lazy="raise"`: async code must load what it needs
explicitly (selectinload / joins), so no query ever hides behind an attribute access.
Status vocabularies are StrEnums below; the columns are plain strings (checked where the set is
stable) so a new workflow state needs no table rebuild on SQLite.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.db.types import Points, UtcDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        Decimal: Points(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


def _in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class UnitType(StrEnum):
    SO = "so"
    XA = "xa"
    PHUONG = "phuong"
    DAC_KHU = "dac_khu"
    HUYEN = "huyen"


class RoleName(StrEnum):
    OFFICER = "officer"
    UNIT_HEAD = "unit_head"
    APPRAISER = "appraiser"
    LEADER = "leader"
    SECRETARIAT = "secretariat"


#: The roles held in a unit (the others are held in an agency or province-wide).
UNIT_ROLES = (RoleName.OFFICER.value, RoleName.UNIT_HEAD.value)


class PeriodStatus(StrEnum):
    DRAFT = "draft"
    SELF_ASSESSMENT = "self_assessment"
    APPRAISAL = "appraisal"
    EXPLANATION = "explanation"
    FINAL_APPRAISAL = "final_appraisal"
    APPROVED = "approved"
    PUBLISHED = "published"


class AssessmentStatus(StrEnum):
    NOT_STARTED = "not_started"
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"  # withdrawn by the unit, or sent back, before the self-assessment deadline
    APPRAISED = "appraised"  # every item has an appraisal-1 result
    FINALIZED = "finalized"  # appraisal 2 done


class AppraisalStatus(StrEnum):
    ACCEPTED = "accepted"
    ADJUSTED = "adjusted"
    SUPPLEMENT_REQUESTED = "supplement_requested"
    NA_ACCEPTED = "na_accepted"
    NA_REFUSED = "na_refused"


class AssignmentKind(StrEnum):
    FIELD = "field"  # scope is a leaf's appraisal_field key (by default the field code)
    ITEM = "item"  # scope is a criterion or leaf code; overrides a field assignment


class EvidenceKind(StrEnum):
    DOCUMENT = "document"
    PHOTO = "photo"


class EvidenceRound(StrEnum):
    SELF = "self"
    SUPPLEMENT = "supplement"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"


class RankingGroup(Base):
    __tablename__ = "ranking_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    award_top_n: Mapped[int | None] = mapped_column(Integer)
    award_threshold: Mapped[Decimal | None]


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (CheckConstraint(_in("unit_type", UnitType), name="unit_type"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    # Lower-case ASCII fold of the name ("so noi vu") for fuzzy lookup without diacritics.
    name_search: Mapped[str] = mapped_column(String(300), index=True)
    unit_type: Mapped[str] = mapped_column(String(20))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("ranking_groups.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    group: Mapped[RankingGroup | None] = relationship(lazy="raise")


class Agency(Base):
    """An appraising agency (member of the Hội đồng thẩm định)."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Person(Base):
    """A Telegram user known to the bot."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    full_name: Mapped[str] = mapped_column(String(300), default="")
    username: Mapped[str | None] = mapped_column(String(100))
    language: Mapped[str | None] = mapped_column(String(10))
    # Set by the outbox sender on 403 (blocked the bot / deactivated).
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    unreachable_at: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    roles: Mapped[list[Role]] = relationship(back_populates="person", lazy="raise")


class Role(Base):
    """One role of a person; officer/unit_head carry a unit, appraiser an agency."""

    __tablename__ = "roles"
    __table_args__ = (
        UniqueConstraint("person_id", "role", "unit_id", "agency_id"),
        CheckConstraint(_in("role", RoleName), name="role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    person: Mapped[Person] = relationship(back_populates="roles", lazy="raise")


class CriteriaSetRow(Base):
    """A stored criteria set; `content` is `CriteriaSet.model_dump(mode="json")`."""

    __tablename__ = "criteria_sets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(50), index=True)
    name: Mapped[str] = mapped_column(String(300))
    year: Mapped[int] = mapped_column(Integer)
    unit_types: Mapped[list[Any]]
    content: Mapped[dict[str, Any]]
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    sample: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Period(Base):
    """A yearly assessment period (kỳ đánh giá) with its stage dates."""

    __tablename__ = "periods"
    __table_args__ = (CheckConstraint(_in("status", PeriodStatus), name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default=PeriodStatus.DRAFT.value)
    # bands, tie_break, awards {group_code: {top_n, threshold}}, survey, bonus_cap, penalty_cap
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    opens_at: Mapped[datetime | None]
    self_deadline: Mapped[datetime | None]
    appraisal_deadline: Mapped[datetime | None]
    explanation_deadline: Mapped[datetime | None]
    final_deadline: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PeriodCriteria(Base):
    """Which criteria set a unit type uses in a period."""

    __tablename__ = "period_criteria"
    __table_args__ = (
        UniqueConstraint("period_id", "unit_type"),
        CheckConstraint(_in("unit_type", UnitType), name="unit_type"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id", ondelete="CASCADE"))
    unit_type: Mapped[str] = mapped_column(String(20))
    criteria_set_id: Mapped[int] = mapped_column(ForeignKey("criteria_sets.id"), index=True)


class AgencyAssignment(Base):
    """Per period: which agency appraises a field (appraisal_field key) or a criterion/item code."""

    __tablename__ = "agency_assignments"
    __table_args__ = (
        UniqueConstraint("period_id", "kind", "scope"),
        CheckConstraint(_in("kind", AssignmentKind), name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id", ondelete="CASCADE"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    scope: Mapped[str] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(10), default=AssignmentKind.FIELD.value)


class Assessment(Base):
    """One unit's sheet in one period. `version` guards against lost updates (optimistic lock)."""

    __tablename__ = "assessments"
    __table_args__ = (
        UniqueConstraint("period_id", "unit_id"),
        Index("ix_assessments_period_status", "period_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=AssessmentStatus.NOT_STARTED.value)
    submitted_at: Mapped[datetime | None]
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    not_ranked: Mapped[bool] = mapped_column(Boolean, default=False)
    not_ranked_reason: Mapped[str | None] = mapped_column(Text)
    bonus: Mapped[Decimal] = mapped_column(default=Decimal(0))
    penalty: Mapped[Decimal] = mapped_column(default=Decimal(0))
    last_item_code: Mapped[str | None] = mapped_column(String(50))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    items: Mapped[list[ItemScore]] = relationship(back_populates="assessment", lazy="raise")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ItemScore(Base):
    """One leaf of one assessment: self score, appraisal 1, the unit's reply, final appraisal.

    Survey leaves are entered by the secretariat into the appraisal/final columns.
    """

    __tablename__ = "item_scores"
    __table_args__ = (
        UniqueConstraint("assessment_id", "item_code"),
        CheckConstraint("self_points >= 0", name="self_points_nonneg"),
        CheckConstraint("appraisal1_points >= 0", name="appraisal1_points_nonneg"),
        CheckConstraint("final_points >= 0", name="final_points_nonneg"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    item_code: Mapped[str] = mapped_column(String(50))
    # Self-assessment: points computed by the rule from the raw answer (e.g. "45/50").
    self_points: Mapped[Decimal | None]
    self_raw: Mapped[str | None] = mapped_column(String(200))
    explanation: Mapped[str | None] = mapped_column(Text)
    evidence_note: Mapped[str | None] = mapped_column(Text)
    na_claimed: Mapped[bool] = mapped_column(Boolean, default=False)
    na_reason: Mapped[str | None] = mapped_column(Text)
    # Appraisal 1
    appraisal1_points: Mapped[Decimal | None]
    appraisal1_status: Mapped[str | None] = mapped_column(String(30))
    appraisal1_comment: Mapped[str | None] = mapped_column(Text)
    appraisal1_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    appraisal1_at: Mapped[datetime | None]
    # The unit's explanation / supplement answer
    unit_reply: Mapped[str | None] = mapped_column(Text)
    unit_reply_at: Mapped[datetime | None]
    # Final appraisal (appraisal 2); absent means appraisal 1 stands
    final_points: Mapped[Decimal | None]
    final_status: Mapped[str | None] = mapped_column(String(30))
    final_comment: Mapped[str | None] = mapped_column(Text)
    final_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    final_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))

    assessment: Mapped[Assessment] = relationship(back_populates="items", lazy="raise")
    evidence: Mapped[list[Evidence]] = relationship(back_populates="item_score", lazy="raise")


class Evidence(Base):
    """Metadata of an evidence file; the bytes live under CCHC_EVIDENCE_DIR (stored_path)."""

    __tablename__ = "evidence"
    __table_args__ = (
        CheckConstraint(_in("kind", EvidenceKind), name="kind"),
        CheckConstraint(_in("round", EvidenceRound), name="round"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_score_id: Mapped[int] = mapped_column(ForeignKey("item_scores.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[str] = mapped_column(String(255))
    file_unique_id: Mapped[str] = mapped_column(String(100))
    file_name: Mapped[str | None] = mapped_column(String(300))
    mime_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    stored_path: Mapped[str | None] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(20), default=EvidenceKind.DOCUMENT.value)
    media_group_id: Mapped[str | None] = mapped_column(String(100))
    round: Mapped[str] = mapped_column(String(20), default=EvidenceRound.SELF.value)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None]

    item_score: Mapped[ItemScore] = relationship(back_populates="evidence", lazy="raise")


class Invite(Base):
    """A registration invite: `/start <code>` gives the person `role` for a unit or an agency."""

    __tablename__ = "invites"
    __table_args__ = (
        CheckConstraint(_in("role", RoleName), name="role"),
        CheckConstraint("uses >= 0 AND max_uses >= 1", name="uses"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    max_uses: Mapped[int] = mapped_column(Integer, default=1)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime | None]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class HistoryResult(Base):
    """A published result of an earlier year (imported), for year-on-year comparison."""

    __tablename__ = "history_results"
    __table_args__ = (
        UniqueConstraint("year", "unit_id"),
        Index("ix_history_results_year_group", "year", "group_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    group_id: Mapped[int] = mapped_column(ForeignKey("ranking_groups.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    index: Mapped[Decimal]
    rank: Mapped[int | None] = mapped_column(Integer)
    class_code: Mapped[str | None] = mapped_column(String(30))


class AuditLog(Base):
    """Every change of a score, evidence, status or role: who, when, before, after."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    actor_label: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str | None] = mapped_column(String(100))
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]


class Outbox(Base):
    """A rendered notification waiting for the sender; written in the transaction that causes it."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(_in("status", OutboxStatus), name="status"),
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(50))
    text: Mapped[str] = mapped_column(Text)  # HTML, already rendered in the recipient's language
    payload: Mapped[dict[str, Any] | None]  # reply_markup, document path, ...
    status: Mapped[str] = mapped_column(String(20), default=OutboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FsmState(Base):
    """Chat state for an aiogram storage backed by the database (no Redis needed)."""

    __tablename__ = "fsm_states"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ProcessedUpdate(Base):
    """Telegram update ids already handled: drops duplicates after webhook retries."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

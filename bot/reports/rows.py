"""Input rows for the report builders.

The scoring core's result types (`SheetResult`, `RankRow`, `FieldComparison`) carry the numbers;
these rows add what only a report needs (the self-assessed points beside the appraised ones, the
STT of a published table, comments, evidence counts, audit entries). The caller (a service or the
CLI) fills them from the core's results, so every figure in a report is one of the core's figures:
the builders format and lay out, they never recompute a total, an index or a rank.

Points and indexes are `Decimal`; they become numbers only at the cell or bar boundary.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from bot.scoring.bands import ClassBand
    from bot.scoring.ranking import RankRow

ItemLevel = Literal["field", "criterion", "leaf"]


@dataclass(frozen=True, slots=True)
class SummaryRow:
    """One unit in a group's published summary table.

    `appraised_points`/`index`/`band` are the basis the table is published on (appraised so far,
    or the self-scores while nothing is appraised: the workbook's note says which); `index` is the
    published (two-decimal) index. `rank` is None for a unit that is not ranked; `reason` says why
    (seed 003: dishonest evidence) and is printed beside it. A unit without a result (not
    submitted) has no points, no index and no class. `change` is the index change since last year
    when history exists; `survey_pending_max` the survey points not entered yet.
    """

    stt: int
    unit_name: str
    self_points: Decimal | None
    appraised_points: Decimal | None
    index: Decimal | None
    band: ClassBand | None
    rank: int | None
    ranked: bool = True
    reason: str = ""
    change: Decimal | None = None
    flagged: bool = False  # marked "không xếp hạng" (seed 003), as opposed to having no result
    survey_pending_max: Decimal = Decimal(0)

    @classmethod
    def from_rank_row(
        cls,
        stt: int,
        row: RankRow,
        self_points: Decimal | None,
        appraised_points: Decimal | None,
        change: Decimal | None = None,
    ) -> SummaryRow:
        """The usual way in: a ranking row of the core plus the two point totals of the unit."""
        return cls(
            stt=stt,
            unit_name=row.name,
            self_points=self_points,
            appraised_points=appraised_points,
            index=row.published,
            band=row.band,
            rank=row.rank if row.ranked else None,
            ranked=row.ranked,
            reason=row.reason,
            change=change,
            flagged=row.reason.startswith("not_ranked"),
            survey_pending_max=row.survey_pending_max,
        )


@dataclass(frozen=True, slots=True)
class UnitItemRow:
    """One line of a unit's detailed sheet: a field, a criterion or a scored leaf.

    For field and criterion lines the points are the core's subtotals (`FieldResult`,
    `CriterionResult`); `evidence_count` may be their sum or None. `appraisal1`/`comment1` are the
    first round, `final_round`/`comment_final` the final round (after the explanations), `final`
    the points the index counts. `na` is True when the item was accepted as not applicable;
    `pending` when it is a survey item whose result is not entered yet.
    """

    code: str
    name: str
    level: ItemLevel
    max_points: Decimal
    self_points: Decimal | None = None
    appraisal1: Decimal | None = None
    final: Decimal | None = None
    comment1: str = ""
    final_round: Decimal | None = None
    comment_final: str = ""
    evidence_count: int | None = None
    na: bool = False
    pending: bool = False


@dataclass(frozen=True, slots=True)
class UnitTotals:
    """The totals printed under a unit's items, taken from its `SheetResult` (final points).

    `self_points`/`appraisal1`/`final_round` are the sums of the other columns, when known.
    `index` is the published index (None without a result: `reason` says why), `band` its class
    (None for a unit flagged "not ranked"), `survey_pending_max` the survey points not entered.
    """

    max_points: Decimal
    applicable_max: Decimal
    final: Decimal
    index: Decimal | None
    band: ClassBand | None = None
    self_points: Decimal | None = None
    appraisal1: Decimal | None = None
    final_round: Decimal | None = None
    bonus: Decimal = Decimal(0)
    penalty: Decimal = Decimal(0)
    survey_pending_max: Decimal = Decimal(0)
    reason: str = ""


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One entry of the appraisal log. `at` must be timezone-aware (stored in UTC); the workbook
    shows it in Asia/Ho_Chi_Minh. `action` is the display text of the action in the report's
    language; `before`/`after` are points (written as numbers) or short texts (e.g. "N/A")."""

    at: datetime
    actor: str
    unit: str
    item_code: str
    action: str
    before: Decimal | str | None = None
    after: Decimal | str | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ProgressCounts:
    """Units of one group by state of the cycle; the four counts add up to the group's size."""

    group_name: str
    not_started: int
    in_progress: int
    submitted: int
    appraised: int

    @property
    def total(self) -> int:
        return self.not_started + self.in_progress + self.submitted + self.appraised

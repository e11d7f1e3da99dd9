"""Report rows from the scoring core's results, so that callers do not re-add anything.

Every figure is read off a `SheetResult` or a `RankRow`; the only sum made here is the appraisal-1
subtotal of a field or criterion, because the core keeps appraisal 1 per leaf only (its sheets are
built on the self, appraised or final basis).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from bot.reports.rows import SummaryRow, UnitItemRow, UnitTotals
from bot.scoring.bands import Grade
from bot.scoring.ranking import RankRow
from bot.scoring.sheet import CriterionResult, FieldResult, LeafResult, SheetResult


def summary_rows(
    rank_rows: Sequence[RankRow],
    self_points: Mapping[int, Decimal],
    appraised_points: Mapping[int, Decimal],
    changes: Mapping[int, Decimal | None] | None = None,
) -> list[SummaryRow]:
    """Summary rows in the ranking's order (STT 1..n), keyed by unit id."""
    changes = changes or {}
    return [
        SummaryRow.from_rank_row(
            stt,
            row,
            self_points.get(row.unit_id),
            appraised_points.get(row.unit_id),
            changes.get(row.unit_id),
        )
        for stt, row in enumerate(rank_rows, start=1)
    ]


def sum_known(values: Iterable[Decimal | None]) -> Decimal | None:
    """The sum of the values that are known; None when none is (a column left blank)."""
    known = [v for v in values if v is not None]
    return sum(known, Decimal(0)) if known else None


def _criterion(sheet: SheetResult | None, field_code: str, code: str) -> CriterionResult | None:
    field = sheet.field_by_code(field_code) if sheet else None
    return next((c for c in field.criteria if c.code == code), None) if field else None


def _own_points(leaf: LeafResult | None) -> Decimal | None:
    """An item's points on the self basis: blank when unanswered (or a survey result not entered)
    or claimed N/A. An entered survey result counts on every basis, so it is shown here too and the
    column adds up to its total."""
    if leaf is None or not leaf.answered or leaf.na:
        return None
    return leaf.points


def unit_item_rows(
    final: SheetResult,
    self_sheet: SheetResult | None = None,
    appraisal1: Mapping[str, Decimal | None] | None = None,
    final_round: Mapping[str, Decimal | None] | None = None,
    comments1: Mapping[str, str] | None = None,
    comments_final: Mapping[str, str] | None = None,
    evidence_counts: Mapping[str, int] | None = None,
) -> list[UnitItemRow]:
    """Field, criterion and leaf rows of one unit in criteria-set order.

    `final` gives the points the index counts and N/A (normally the FINAL or APPRAISED basis),
    `self_sheet` the self-assessed points (SELF basis), `appraisal1`/`final_round` each round's
    points by leaf code; `comments1`, `comments_final` and `evidence_counts` are by leaf code. A
    criterion without sub-criteria is one bold criterion row that carries its leaf's comments,
    evidence and N/A."""
    appraisal1 = appraisal1 or {}
    final_round = final_round or {}
    comments1 = comments1 or {}
    comments_final = comments_final or {}
    evidence_counts = evidence_counts or {}
    rows: list[UnitItemRow] = []

    def leaf_codes(field: FieldResult) -> list[str]:
        return [code for c in field.criteria for code in c.leaves]

    def evidence_sum(codes: Sequence[str]) -> int | None:
        counts = [evidence_counts[c] for c in codes if c in evidence_counts]
        return sum(counts) if counts else None

    for field in final.fields:
        codes = leaf_codes(field)
        own = self_sheet.field_by_code(field.code) if self_sheet else None
        rows.append(
            UnitItemRow(
                code=field.code,
                name=field.name,
                level="field",
                max_points=field.max_points,
                self_points=own.points if own else None,
                appraisal1=sum_known([appraisal1.get(c) for c in codes]),
                final=field.points,
                final_round=sum_known([final_round.get(c) for c in codes]),
                evidence_count=evidence_sum(codes),
            )
        )
        for criterion in field.criteria:
            own_c = _criterion(self_sheet, field.code, criterion.code)
            single = criterion.leaves == [criterion.code]
            leaf = final.leaves.get(criterion.code) if single else None
            own_single = self_sheet.leaves.get(criterion.code) if self_sheet and single else None
            rows.append(
                UnitItemRow(
                    code=criterion.code,
                    name=criterion.name,
                    level="criterion",
                    max_points=criterion.max_points,
                    self_points=_own_points(own_single) if single else (own_c.points if own_c else None),
                    appraisal1=sum_known([appraisal1.get(c) for c in criterion.leaves]),
                    final=(leaf.points if leaf.answered else None) if leaf else criterion.points,
                    comment1=comments1.get(criterion.code, "") if single else "",
                    final_round=sum_known([final_round.get(c) for c in criterion.leaves]),
                    comment_final=comments_final.get(criterion.code, "") if single else "",
                    evidence_count=evidence_sum(criterion.leaves),
                    na=bool(leaf and leaf.na),
                    pending=bool(leaf and leaf.pending),
                )
            )
            if single:
                continue
            for code in criterion.leaves:
                result = final.leaves[code]
                own_leaf = self_sheet.leaves.get(code) if self_sheet else None
                rows.append(
                    UnitItemRow(
                        code=code,
                        name=result.name,
                        level="leaf",
                        max_points=result.max_points,
                        self_points=_own_points(own_leaf),
                        appraisal1=appraisal1.get(code),
                        final=result.points if result.answered else None,
                        comment1=comments1.get(code, ""),
                        final_round=final_round.get(code),
                        comment_final=comments_final.get(code, ""),
                        evidence_count=evidence_counts.get(code),
                        na=result.na,
                        pending=result.pending,
                    )
                )
    return rows


def unit_totals(
    final: SheetResult,
    graded: Grade | None,
    self_sheet: SheetResult | None = None,
    appraisal1_total: Decimal | None = None,
    final_round_total: Decimal | None = None,
    *,
    flagged: bool = False,
    reason: str = "",
) -> UnitTotals:
    """The totals block of a unit's sheet, read off its final `SheetResult` and its `Grade` (None
    without a result). A unit flagged "not ranked" shows its index but no class."""
    return UnitTotals(
        max_points=final.max_points,
        applicable_max=final.applicable_max,
        final=final.points,
        index=graded.published if graded else None,
        band=graded.band if graded and not flagged else None,
        self_points=self_sheet.points if self_sheet else None,
        appraisal1=appraisal1_total,
        final_round=final_round_total,
        bonus=final.bonus,
        penalty=final.penalty,
        survey_pending_max=final.survey_pending_max,
        reason=reason,
    )

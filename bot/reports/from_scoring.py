"""Report rows from the scoring core's results, so that callers do not re-add anything.

Every figure is read off a `SheetResult` or a `RankRow`; the only sum made here is the appraisal-1
subtotal of a field or criterion, because the core keeps appraisal 1 per leaf only (its sheets are
built on the self, appraised or final basis).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from bot.reports.rows import SummaryRow, UnitItemRow, UnitTotals
from bot.scoring.bands import ClassBand
from bot.scoring.ranking import RankRow
from bot.scoring.sheet import CriterionResult, FieldResult, SheetResult


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


def _sum_known(values: Sequence[Decimal | None]) -> Decimal | None:
    known = [v for v in values if v is not None]
    return sum(known, Decimal(0)) if known else None


def _criterion(sheet: SheetResult | None, field_code: str, code: str) -> CriterionResult | None:
    field = sheet.field_by_code(field_code) if sheet else None
    return next((c for c in field.criteria if c.code == code), None) if field else None


def unit_item_rows(
    final: SheetResult,
    self_sheet: SheetResult | None = None,
    appraisal1: Mapping[str, Decimal | None] | None = None,
    comments: Mapping[str, str] | None = None,
    evidence_counts: Mapping[str, int] | None = None,
) -> list[UnitItemRow]:
    """Field, criterion and leaf rows of one unit in criteria-set order.

    `final` gives the final points and N/A (normally the FINAL or APPRAISED basis), `self_sheet`
    the self-assessed points (SELF basis), `appraisal1` the appraisal-1 points by leaf code;
    `comments` and `evidence_counts` are by leaf code. A criterion without sub-criteria is one
    bold criterion row that carries its leaf's comment, evidence and N/A."""
    appraisal1 = appraisal1 or {}
    comments = comments or {}
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
                appraisal1=_sum_known([appraisal1.get(c) for c in codes]),
                final=field.points,
                evidence_count=evidence_sum(codes),
            )
        )
        for criterion in field.criteria:
            own_c = _criterion(self_sheet, field.code, criterion.code)
            single = criterion.leaves == [criterion.code]
            leaf = final.leaves.get(criterion.code) if single else None
            rows.append(
                UnitItemRow(
                    code=criterion.code,
                    name=criterion.name,
                    level="criterion",
                    max_points=criterion.max_points,
                    self_points=own_c.points if own_c else None,
                    appraisal1=_sum_known([appraisal1.get(c) for c in criterion.leaves]),
                    final=criterion.points,
                    comment=comments.get(criterion.code, "") if single else "",
                    evidence_count=evidence_sum(criterion.leaves),
                    na=bool(leaf and leaf.na),
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
                        self_points=own_leaf.points if own_leaf and own_leaf.answered else None,
                        appraisal1=appraisal1.get(code),
                        final=result.points if result.answered else None,
                        comment=comments.get(code, ""),
                        evidence_count=evidence_counts.get(code),
                        na=result.na,
                    )
                )
    return rows


def unit_totals(
    final: SheetResult,
    band: ClassBand | None,
    self_sheet: SheetResult | None = None,
    appraisal1_total: Decimal | None = None,
) -> UnitTotals:
    """The totals block of a unit's sheet, read off its final `SheetResult`."""
    return UnitTotals(
        max_points=final.max_points,
        applicable_max=final.applicable_max,
        final=final.points,
        index=final.index,
        band=band,
        self_points=self_sheet.points if self_sheet else None,
        appraisal1=appraisal1_total,
        bonus=final.bonus,
        penalty=final.penalty,
    )

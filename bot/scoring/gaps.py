"""Gap analysis (seed 004): where a unit lost points, and how its fields compare.

A leader reads this to decide where next year's effort goes, so items are ordered by points lost
(not by code), and each field's index is set against the group's average and last year's value.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from bot.scoring.loader import code_key
from bot.scoring.numbers import CTX
from bot.scoring.sheet import FieldResult, SheetResult


@dataclass(frozen=True)
class ItemGap:
    code: str
    name: str
    field_code: str
    max_points: Decimal
    points: Decimal
    lost: Decimal


@dataclass(frozen=True)
class FieldComparison:
    code: str
    name: str
    index: Decimal
    group_average: Decimal | None
    previous_index: Decimal | None
    delta_vs_group: Decimal | None


def item_gaps(sheet: SheetResult, limit: int | None = None) -> list[ItemGap]:
    """Items below their max, most points lost first (then by code). N/A items are not gaps;
    unanswered items are, with all their points lost."""
    gaps = [
        ItemGap(
            code=leaf.code,
            name=leaf.name,
            field_code=leaf.field_code,
            max_points=leaf.max_points,
            points=leaf.points,
            lost=leaf.max_points - leaf.points,
        )
        for leaf in sheet.leaves.values()
        if not leaf.na and leaf.points < leaf.max_points
    ]
    gaps.sort(key=lambda gap: code_key(gap.code))
    gaps.sort(key=lambda gap: gap.lost, reverse=True)
    return gaps if limit is None else gaps[: max(0, limit)]


def group_average(indexes: Iterable[Decimal]) -> Decimal | None:
    """Plain mean at full precision; None for an empty group."""
    values = list(indexes)
    if not values:
        return None
    return CTX.divide(sum(values, Decimal(0)), Decimal(len(values)))


def change_since(current: Decimal, previous: Decimal | None) -> Decimal | None:
    """Points of index gained (positive) or lost since the previous value; None without history."""
    return None if previous is None else current - previous


def _applicable_index(result: FieldResult | None) -> Decimal | None:
    """A field entirely N/A has no meaningful index; it is left out rather than counted as 0."""
    if result is None or result.applicable_max <= 0:
        return None
    return result.index


def compare_fields(
    sheet: SheetResult,
    group_sheets: Sequence[SheetResult],
    previous: SheetResult | None = None,
) -> list[FieldComparison]:
    """Each field of `sheet` against the group average of that field and the previous year's value.

    `group_sheets` is the whole group as published (normally including the unit itself); fields that
    are entirely N/A for a unit are left out of the average."""
    comparisons: list[FieldComparison] = []
    for result in sheet.fields:
        others = [_applicable_index(g.field_by_code(result.code)) for g in group_sheets]
        average = group_average(i for i in others if i is not None)
        own = _applicable_index(result)
        before = _applicable_index(previous.field_by_code(result.code)) if previous else None
        comparisons.append(
            FieldComparison(
                code=result.code,
                name=result.name,
                index=result.index,
                group_average=average,
                previous_index=before,
                delta_vs_group=None if own is None or average is None else own - average,
            )
        )
    return comparisons

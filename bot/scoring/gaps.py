"""Gap analysis (seed 004): where a unit lost points, and how it compares with its group.

Seed 004 asks each unit to review "những nội dung chưa đạt điểm so với điểm chuẩn tối đa hoặc có
kết quả thấp so với chỉ số trung bình chung": the items below their maximum, and the contents below
the average. So every field, criterion and sub-criterion of a unit is set against the group's
average for that item (and last year's value), and the items that lost points are listed, most
points lost first.

Averages are over the group's *ranked* units (a unit flagged "không xếp hạng" or without a result
is not part of the comparison), item by item, leaving out units for which the item is not
applicable. Survey items are never in the "fix first" list: the unit cannot act on them.

The averages come from per-unit item indexes (`item_indexes`), which the SQL path for large groups
builds from its own sums; `group_averages` and `compare` are then the same for both paths.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from bot.scoring.codes import code_key
from bot.scoring.numbers import CTX
from bot.scoring.sheet import SheetResult, index_of

Level = Literal["field", "criterion", "leaf"]


@dataclass(frozen=True)
class ItemGap:
    """A self-scored item below its maximum; `group_average` is the group's average index of that
    item (None when it is not compared)."""

    code: str
    name: str
    field_code: str
    max_points: Decimal
    points: Decimal
    lost: Decimal
    group_average: Decimal | None = None


@dataclass(frozen=True)
class Comparison:
    """One field, criterion or sub-criterion of a unit against the group average and last year.
    `index` is None when the item is not applicable to the unit (N/A, or survey not entered)."""

    level: Level
    code: str
    name: str
    index: Decimal | None
    group_average: Decimal | None
    previous_index: Decimal | None
    delta_vs_group: Decimal | None
    children: list[Comparison] = field(default_factory=list)


FieldComparison = Comparison


def item_indexes(sheet: SheetResult) -> dict[str, Decimal]:
    """Index of every field, criterion and sub-criterion of a sheet that is applicable (part of its
    applicable max), by item code. Item codes are unique within a set, so one mapping holds all
    three levels (a criterion without sub-criteria is its own leaf, with the same index)."""
    indexes: dict[str, Decimal] = {}
    for field_result in sheet.fields:
        if field_result.applicable_max > 0:
            indexes[field_result.code] = field_result.index
        for criterion in field_result.criteria:
            if criterion.applicable_max > 0:
                indexes[criterion.code] = criterion.index
    for leaf in sheet.leaves.values():
        if not leaf.na and not leaf.pending:
            indexes[leaf.code] = index_of(leaf.points, leaf.max_points)
    return indexes


def group_average(indexes: Iterable[Decimal]) -> Decimal | None:
    """Plain mean at full precision; None for an empty group. The values are summed in sorted
    order, so the mean does not depend on the order units are listed in."""
    values = sorted(indexes)
    if not values:
        return None
    return CTX.divide(sum(values, Decimal(0)), Decimal(len(values)))


def group_averages(units: Iterable[Mapping[str, Decimal]]) -> dict[str, Decimal]:
    """Per item code, the average index over the units for which it is applicable; `units` are the
    `item_indexes` of the group's ranked units."""
    collected: dict[str, list[Decimal]] = {}
    for indexes in units:
        for code, value in indexes.items():
            collected.setdefault(code, []).append(value)
    return {code: avg for code, values in collected.items() if (avg := group_average(values)) is not None}


def change_since(current: Decimal | None, previous: Decimal | None) -> Decimal | None:
    """Points of index gained (positive) or lost since the previous value; None without history."""
    return None if current is None or previous is None else current - previous


def _comparison(
    level: Level,
    code: str,
    name: str,
    own: Mapping[str, Decimal],
    averages: Mapping[str, Decimal],
    previous: Mapping[str, Decimal],
    children: list[Comparison] | None = None,
) -> Comparison:
    index = own.get(code)
    average = averages.get(code)
    return Comparison(
        level=level,
        code=code,
        name=name,
        index=index,
        group_average=average,
        previous_index=previous.get(code),
        delta_vs_group=None if index is None or average is None else index - average,
        children=children or [],
    )


def compare(
    sheet: SheetResult,
    averages: Mapping[str, Decimal] | None = None,
    previous: Mapping[str, Decimal] | None = None,
) -> list[Comparison]:
    """Every field of `sheet` (with its criteria, and their sub-criteria) against the group
    `averages` (from `group_averages`) and last year's `previous` item indexes."""
    own = item_indexes(sheet)
    averages = averages or {}
    previous = previous or {}
    result: list[Comparison] = []
    for field_result in sheet.fields:
        criteria: list[Comparison] = []
        for criterion in field_result.criteria:
            subs = [
                _comparison("leaf", code, sheet.leaves[code].name, own, averages, previous)
                for code in criterion.leaves
                if code != criterion.code
            ]
            criteria.append(
                _comparison("criterion", criterion.code, criterion.name, own, averages, previous, subs)
            )
        result.append(
            _comparison("field", field_result.code, field_result.name, own, averages, previous, criteria)
        )
    return result


def item_gaps(
    sheet: SheetResult, limit: int | None = None, averages: Mapping[str, Decimal] | None = None
) -> list[ItemGap]:
    """Self-scored items below their max, most points lost first (then by code). N/A items are not
    gaps, nor are survey items; unanswered items are, with all their points lost."""
    averages = averages or {}
    gaps = [
        ItemGap(
            code=leaf.code,
            name=leaf.name,
            field_code=leaf.field_code,
            max_points=leaf.max_points,
            points=leaf.points,
            lost=leaf.max_points - leaf.points,
            group_average=averages.get(leaf.code),
        )
        for leaf in sheet.leaves.values()
        if not leaf.na and not leaf.survey and leaf.points < leaf.max_points
    ]
    gaps.sort(key=lambda gap: code_key(gap.code))
    gaps.sort(key=lambda gap: gap.lost, reverse=True)
    return gaps if limit is None else gaps[: max(0, limit)]

"""Criteria-set model: field (lĩnh vực) → criterion (tiêu chí) → sub-criterion (tiêu chí thành phần).

A criteria set is data. Every leaf carries its maximum, a machine rule and the rule's official
wording, so the same file drives the officer's input, the appraiser's check and every total.
Points are `Decimal` everywhere; YAML numbers are read as strings first so that 0.1 stays 0.1.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


def _to_decimal(value: object) -> Decimal:
    """Read a point value. Raises ValueError (which pydantic reports with the item's path) for text
    that is not a finite number, so "1,5", "NaN" or ".inf" in a YAML file become a validation error
    instead of an InvalidOperation escaping the loader."""
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    try:
        if isinstance(value, Decimal):
            result = value
        elif isinstance(value, float):
            # Floats come from YAML like 0.5; go through repr so 0.1 does not become 0.1000000000000000055.
            result = Decimal(repr(value))
        else:
            result = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


Points = Annotated[Decimal, Field(ge=0)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RuleKind(StrEnum):
    LEVELS = "levels"
    BOOLEAN = "boolean"
    BANDS = "bands"
    PROPORTIONAL = "proportional"
    COUNT_STEPS = "count_steps"
    MANUAL = "manual"
    DEDUCTION = "deduction"
    SURVEY = "survey"


class Level(_Frozen):
    label: str
    label_en: str | None = None
    points: Points

    _dec = field_validator("points", mode="before")(_to_decimal)


class LevelsRule(_Frozen):
    """The officer picks one listed level; the level's points count."""

    kind: Literal["levels"] = "levels"
    levels: list[Level] = Field(min_length=2)


class BooleanRule(_Frozen):
    """Yes gives the leaf's max, no gives 0."""

    kind: Literal["boolean"] = "boolean"
    yes_label: str = "Có"
    no_label: str = "Không"


class Band(_Frozen):
    """One band of a `bands` rule. Bounds are explicit because the official wording overlaps
    ("trên 90%" and "từ 70% - 90%"): `min`/`max` may be absent (open), each end inclusive or not."""

    min: Decimal | None = None
    min_inclusive: bool = True
    max: Decimal | None = None
    max_inclusive: bool = False
    points: Points

    _dec = field_validator("min", "max", "points", mode="before")(
        lambda v: None if v is None else _to_decimal(v)
    )

    def contains(self, value: Decimal) -> bool:
        if self.min is not None and (value < self.min or (value == self.min and not self.min_inclusive)):
            return False
        return not (
            self.max is not None and (value > self.max or (value == self.max and not self.max_inclusive))
        )


class BandsRule(_Frozen):
    """The officer enters a number, a percentage or a ratio a/b; the band it falls in gives the points.
    `unit` says what the number means: "percent" (a ratio is turned into a percentage) or "number"."""

    kind: Literal["bands"] = "bands"
    unit: Literal["percent", "number"] = "percent"
    bands: list[Band] = Field(min_length=1)


class ProportionalRule(_Frozen):
    """The officer enters a ratio a/b (or a percentage); points = a/b × max, clamped to [0, max]."""

    kind: Literal["proportional"] = "proportional"


class Step(_Frozen):
    at_least: int = Field(ge=0)
    points: Points

    _dec = field_validator("points", mode="before")(_to_decimal)


class CountStepsRule(_Frozen):
    """The officer enters a count; the highest step whose `at_least` the count reaches gives the points."""

    kind: Literal["count_steps"] = "count_steps"
    steps: list[Step] = Field(min_length=1)


class ManualRule(_Frozen):
    """The officer enters points directly, in [0, max], on a grid of `step` (e.g. 0.25)."""

    kind: Literal["manual"] = "manual"
    step: Decimal = Decimal("0.25")

    _dec = field_validator("step", mode="before")(_to_decimal)


class DeductionRule(_Frozen):
    """The officer enters a number of violations; points = max − n × per_violation, floored at 0."""

    kind: Literal["deduction"] = "deduction"
    per_violation: Decimal

    _dec = field_validator("per_violation", mode="before")(_to_decimal)


class SurveyRule(_Frozen):
    """Not self-scored: the secretariat enters the survey (điều tra xã hội học) result."""

    kind: Literal["survey"] = "survey"


Rule = Annotated[
    LevelsRule
    | BooleanRule
    | BandsRule
    | ProportionalRule
    | CountStepsRule
    | ManualRule
    | DeductionRule
    | SurveyRule,
    Field(discriminator="kind"),
]


class Leaf(_Frozen):
    """A scored item: a sub-criterion, or a criterion that has no sub-criteria."""

    code: str
    name: str
    name_en: str | None = None
    max_points: Points
    rule: Rule
    rule_text: str
    evidence_hint: str = ""
    allow_na: bool = False
    # Appraising field key: which agency assignment covers this item (defaults to the field code).
    appraisal_field: str = ""

    _dec = field_validator("max_points", mode="before")(_to_decimal)


class Criterion(_Frozen):
    code: str
    name: str
    name_en: str | None = None
    max_points: Points
    # Either sub-criteria, or (for a criterion that is itself a leaf) a rule.
    sub_criteria: list[Leaf] = Field(default_factory=list)
    rule: Rule | None = None
    rule_text: str = ""
    evidence_hint: str = ""
    allow_na: bool = False
    appraisal_field: str = ""

    _dec = field_validator("max_points", mode="before")(_to_decimal)

    def leaves(self) -> list[Leaf]:
        if self.sub_criteria:
            return list(self.sub_criteria)
        assert self.rule is not None, f"{self.code}: criterion without sub-criteria needs a rule"
        return [
            Leaf(
                code=self.code,
                name=self.name,
                name_en=self.name_en,
                max_points=self.max_points,
                rule=self.rule,
                rule_text=self.rule_text,
                evidence_hint=self.evidence_hint,
                allow_na=self.allow_na,
                appraisal_field=self.appraisal_field,
            )
        ]


class FieldArea(_Frozen):
    """A field (lĩnh vực). Named FieldArea so it does not shadow pydantic's Field."""

    code: str
    name: str
    name_en: str | None = None
    max_points: Points
    criteria: list[Criterion] = Field(min_length=1)

    _dec = field_validator("max_points", mode="before")(_to_decimal)


class CriteriaSet(_Frozen):
    """One criteria set, for one year range and one or more unit types."""

    code: str  # e.g. "2018-so"
    name: str
    year: int
    unit_types: list[str] = Field(min_length=1)
    sample: bool = False
    sources: list[str] = Field(default_factory=list)
    notes: str = ""
    max_points: Points = Decimal(100)
    fields: list[FieldArea] = Field(min_length=1)

    _dec = field_validator("max_points", mode="before")(_to_decimal)

    def leaves(self) -> Iterator[tuple[FieldArea, Criterion, Leaf]]:
        for field_area in self.fields:
            for criterion in field_area.criteria:
                for leaf in criterion.leaves():
                    yield field_area, criterion, leaf

    def leaf(self, code: str) -> Leaf | None:
        for _, _, leaf in self.leaves():
            if leaf.code == code:
                return leaf
        return None

    def content_hash(self) -> str:
        """sha256 of the canonical JSON form: two files with the same content get the same hash."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

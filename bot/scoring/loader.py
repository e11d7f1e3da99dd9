"""Loading and validating a criteria set (YAML).

A province's set is typed by hand from a decision's annex, so the loader's job is mostly to catch
transcription mistakes before any unit scores against the file: a wrong max, a duplicated code, a
band table with a hole. Every error names the item code (or the file and line) so the person who
typed the file can find it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.scoring.fmt import canonical
from bot.scoring.model import (
    Band,
    BandsRule,
    CountStepsRule,
    CriteriaSet,
    DeductionRule,
    Leaf,
    ManualRule,
)
from bot.scoring.rules import reachable_max


class CriteriaError(ValueError):
    """A criteria set cannot be used. `errors` holds one line per problem, each naming the item code
    or the file and line."""

    def __init__(self, errors: Iterable[str], source: str = "") -> None:
        self.errors = list(errors)
        self.source = source
        head = f"{source}: " if source else ""
        super().__init__(head + "; ".join(self.errors))


class _DecimalSafeLoader(yaml.SafeLoader):
    """Safe loader that keeps YAML numbers as their text: "0.1" reaches Decimal as "0.1", and an
    unquoted code "1.10" stays "1.10" instead of becoming the float 1.1. Pydantic still reads "2018"
    into an int field."""


def _number_as_text(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    return str(loader.construct_scalar(node))  # type: ignore[arg-type]


_DecimalSafeLoader.add_constructor("tag:yaml.org,2002:float", _number_as_text)
_DecimalSafeLoader.add_constructor("tag:yaml.org,2002:int", _number_as_text)


def load_criteria_set(path: Path) -> CriteriaSet:
    """Read, parse and validate one YAML file. Raises CriteriaError naming the file (and line)."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CriteriaError([f"cannot read the file: {exc}"], source) from exc
    try:
        data = yaml.load(text, Loader=_DecimalSafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown line"
        raise CriteriaError([f"{where}: malformed YAML: {exc.problem or exc}"], source) from exc
    except yaml.YAMLError as exc:
        raise CriteriaError([f"malformed YAML: {exc}"], source) from exc
    if not isinstance(data, dict):
        raise CriteriaError(["the file must contain a mapping (code, name, year, fields...)"], source)
    return parse_criteria_set(data, source)


def _code_text(value: Any) -> Any:
    """Codes typed without quotes arrive as numbers ("code: 1" in YAML, an XLSX cell): read them as
    the text they were written as. Booleans stay as they are and fail validation."""
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    return value


def _prepare(data: dict[str, Any]) -> dict[str, Any]:
    """Copy of `data` with codes as text, and every criterion without an appraising field given its
    field's code (sub-criteria inherit their criterion's): by default the agency that appraises a
    field appraises all of its items."""
    filled = dict(data)
    if "code" in filled:
        filled["code"] = _code_text(filled["code"])
    fields = filled.get("fields")
    if not isinstance(fields, list):
        return filled

    def item(node: Any, field_code: Any) -> Any:
        if not isinstance(node, dict):
            return node
        node = dict(node)
        if "code" in node:
            node["code"] = _code_text(node["code"])
        if not node.get("appraisal_field"):
            node["appraisal_field"] = field_code
        else:
            node["appraisal_field"] = _code_text(node["appraisal_field"])
        return node

    new_fields: list[Any] = []
    for field_area in fields:
        if isinstance(field_area, dict):
            field_area = dict(field_area)
            field_area["code"] = _code_text(field_area.get("code", ""))
            field_code = field_area["code"] if isinstance(field_area["code"], str) else ""
            criteria = field_area.get("criteria")
            if isinstance(criteria, list):
                new_criteria = []
                for criterion in criteria:
                    criterion = item(criterion, field_code)
                    if isinstance(criterion, dict) and isinstance(criterion.get("sub_criteria"), list):
                        parent = criterion["appraisal_field"]
                        criterion["sub_criteria"] = [item(sub, parent) for sub in criterion["sub_criteria"]]
                    new_criteria.append(criterion)
                field_area["criteria"] = new_criteria
        new_fields.append(field_area)
    filled["fields"] = new_fields
    return filled


def _locate(data: dict[str, Any], loc: tuple[int | str, ...]) -> str:
    """Name the item a pydantic error is about: the code of the deepest mapping on the path that
    has one, then the rest of the path ("1.1.4: rule.bands.0.points")."""
    where = f"set {data['code']}" if "code" in data else "set"
    rest: list[str] = []
    node: Any = data
    for part in loc:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
        rest.append(str(part))
        if isinstance(node, dict) and "code" in node:
            where, rest = str(node["code"]), []
    return f"{where}: {'.'.join(rest)}" if rest else where


def parse_criteria_set(data: dict[str, Any], source: str = "") -> CriteriaSet:
    """Build and validate a set from already-parsed data (YAML, XLSX import, tests)."""
    filled = _prepare(data)
    try:
        criteria_set = CriteriaSet.model_validate(filled)
    except ValidationError as exc:
        errors = [f"{_locate(filled, tuple(err['loc']))}: {err['msg']}" for err in exc.errors()]
        raise CriteriaError(errors, source) from exc
    problems = validate(criteria_set)
    if problems:
        raise CriteriaError(problems, source)
    return criteria_set


def _check_bands(leaf: Leaf, rule: BandsRule) -> list[str]:
    """Bands must tile the possible values (0-100 for a percentage, 0 and up for a number) with no
    hole and no overlap: the official wording often overlaps ("trên 90%", "70-90%"), and the file is
    where that is decided once."""
    errors: list[str] = []
    code = leaf.code
    for band in rule.bands:
        if band.min is not None and band.max is not None:
            empty = band.min > band.max or (
                band.min == band.max and not (band.min_inclusive and band.max_inclusive)
            )
            if empty:
                errors.append(f"{code}: band {_band_text(band)} contains no value")
    if errors:
        return errors

    def start(band: Band) -> tuple[int, Decimal, int]:
        if band.min is None:
            return (0, Decimal(0), 0)
        return (1, band.min, 0 if band.min_inclusive else 1)

    ordered = sorted(rule.bands, key=start)
    if not ordered[0].contains(Decimal(0)):
        errors.append(f"{code}: no band contains 0")
    for low, high in itertools.pairwise(ordered):
        if low.max is None or high.min is None:
            errors.append(f"{code}: bands {_band_text(low)} and {_band_text(high)} overlap")
            continue
        if low.max < high.min or (low.max == high.min and not low.max_inclusive and not high.min_inclusive):
            errors.append(f"{code}: gap between bands {_band_text(low)} and {_band_text(high)}")
        elif low.max > high.min or (low.max_inclusive and high.min_inclusive):
            errors.append(f"{code}: bands {_band_text(low)} and {_band_text(high)} overlap")
    last = ordered[-1]
    if rule.unit == "percent":
        if not last.contains(Decimal(100)):
            errors.append(f"{code}: no band contains 100%")
    elif last.max is not None:
        errors.append(f"{code}: no band for values above {canonical(last.max)}")
    return errors


def _band_text(band: Band) -> str:
    low = "(-∞" if band.min is None else ("[" if band.min_inclusive else "(") + canonical(band.min)
    high = "+∞)" if band.max is None else canonical(band.max) + ("]" if band.max_inclusive else ")")
    return f"{low}, {high}"


def _check_leaf(leaf: Leaf) -> list[str]:
    errors: list[str] = []
    code = leaf.code
    if leaf.max_points <= 0:
        errors.append(f"{code}: max points must be positive")
    rule = leaf.rule
    if isinstance(rule, BandsRule):
        errors.extend(_check_bands(leaf, rule))
    elif isinstance(rule, CountStepsRule):
        thresholds = [step.at_least for step in rule.steps]
        if len(set(thresholds)) != len(thresholds):
            errors.append(f"{code}: two steps have the same at_least")
    elif isinstance(rule, ManualRule):
        if rule.step <= 0:
            errors.append(f"{code}: manual step must be positive")
    elif isinstance(rule, DeductionRule) and rule.per_violation <= 0:
        errors.append(f"{code}: per_violation must be positive")
    reachable = reachable_max(leaf)
    if reachable != leaf.max_points:
        errors.append(
            f"{code}: the rule's reachable maximum {canonical(reachable)} "
            f"differs from the max points {canonical(leaf.max_points)}"
        )
    return errors


def validate(cs: CriteriaSet) -> list[str]:
    """All problems of a parsed set, empty when it is usable. Checks unique codes, positive totals,
    children's max summing to the parent's, and each rule reaching exactly its leaf's max."""
    errors: list[str] = []
    seen: set[str] = set()

    def unique(code: str) -> None:
        if not code.strip():
            errors.append("an item has an empty code")
        elif code in seen:
            errors.append(f"{code}: duplicate code")
        seen.add(code)

    if cs.max_points <= 0:
        errors.append(f"set {cs.code}: max points must be positive")
    field_sum = sum((f.max_points for f in cs.fields), Decimal(0))
    if field_sum != cs.max_points:
        errors.append(
            f"set {cs.code}: fields sum to {canonical(field_sum)}, not the set's {canonical(cs.max_points)}"
        )
    for field_area in cs.fields:
        unique(field_area.code)
        if field_area.max_points <= 0:
            errors.append(f"{field_area.code}: max points must be positive")
        criteria_sum = sum((c.max_points for c in field_area.criteria), Decimal(0))
        if criteria_sum != field_area.max_points:
            errors.append(
                f"{field_area.code}: criteria sum to {canonical(criteria_sum)}, "
                f"not the field's {canonical(field_area.max_points)}"
            )
        for criterion in field_area.criteria:
            unique(criterion.code)
            if criterion.max_points <= 0:
                errors.append(f"{criterion.code}: max points must be positive")
            if criterion.sub_criteria and criterion.rule is not None:
                errors.append(f"{criterion.code}: has both sub-criteria and a rule")
                continue
            if not criterion.sub_criteria and criterion.rule is None:
                errors.append(f"{criterion.code}: has neither sub-criteria nor a rule")
                continue
            if criterion.sub_criteria:
                sub_sum = sum((s.max_points for s in criterion.sub_criteria), Decimal(0))
                if sub_sum != criterion.max_points:
                    errors.append(
                        f"{criterion.code}: sub-criteria sum to {canonical(sub_sum)}, "
                        f"not the criterion's {canonical(criterion.max_points)}"
                    )
                for sub in criterion.sub_criteria:
                    unique(sub.code)
            for leaf in criterion.leaves():
                errors.extend(_check_leaf(leaf))
    return errors


def summary(cs: CriteriaSet) -> dict[str, int | str]:
    """Counts to compare with the decision's text ("7 lĩnh vực, 25 tiêu chí, 44 tiêu chí thành phần")."""
    return {
        "fields": len(cs.fields),
        "criteria": sum(len(f.criteria) for f in cs.fields),
        "sub_criteria": sum(len(c.sub_criteria) for f in cs.fields for c in f.criteria),
        "max_points": canonical(cs.max_points),
    }

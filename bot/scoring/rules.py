"""Turning an officer's answer into points, one function per rule kind (SPEC §3).

Every path returns points within [0, leaf max] or raises `InputError`, so the bot can show the
points before the officer confirms and the totals can trust every stored value.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from bot.scoring.fmt import canonical, fmt_points
from bot.scoring.model import (
    BandsRule,
    BooleanRule,
    CountStepsRule,
    DeductionRule,
    LevelsRule,
    ManualRule,
    ProportionalRule,
    SurveyRule,
)
from bot.scoring.model import Leaf as Leaf
from bot.scoring.numbers import CTX, InputError, ParsedNumber, parse_count, parse_number

#: Points that come from a division (proportional rule) are kept to 2 decimals, like official tables.
POINTS_QUANTUM = Decimal("0.01")
HUNDRED = Decimal(100)

_YES = frozenset({"yes", "y", "có", "co", "1", "true", "đạt", "dat"})
_NO = frozenset({"no", "n", "không", "khong", "0", "false", "không đạt", "khong dat"})


@dataclass(frozen=True)
class Answer:
    """A scored answer: `raw` is the normalized input to store ("45/50", "90.5%", "level:1", "yes"),
    `display` a short text to show back ("45/50 = 90%")."""

    raw: str
    points: Decimal
    display: str


def _clamp(points: Decimal, maximum: Decimal) -> Decimal:
    return max(Decimal(0), min(points, maximum))


def _percent_text(value: Decimal) -> str:
    return f"{fmt_points(value)}%"


def reachable_max(leaf: Leaf) -> Decimal:
    """The most points the rule can give. The validator requires it to equal the leaf's max, so a
    unit doing everything right can reach 100."""
    rule = leaf.rule
    if isinstance(rule, LevelsRule):
        return max(level.points for level in rule.levels)
    if isinstance(rule, BandsRule):
        return max(band.points for band in rule.bands)
    if isinstance(rule, CountStepsRule):
        return max(step.points for step in rule.steps)
    if isinstance(rule, ManualRule):
        if rule.step <= 0:
            return leaf.max_points
        steps = (leaf.max_points / rule.step).to_integral_value(rounding=ROUND_FLOOR)
        return steps * rule.step
    return leaf.max_points


def choices(leaf: Leaf) -> list[tuple[str, str, Decimal]]:
    """Buttons for rules answered by a choice: (value to send back, label, points)."""
    rule = leaf.rule
    if isinstance(rule, LevelsRule):
        return [(str(i), level.label, level.points) for i, level in enumerate(rule.levels)]
    if isinstance(rule, BooleanRule):
        return [("yes", rule.yes_label, leaf.max_points), ("no", rule.no_label, Decimal(0))]
    return []


def expects_text(leaf: Leaf) -> bool:
    """Whether the officer answers by typing (numbers) rather than pressing a button."""
    return isinstance(leaf.rule, BandsRule | ProportionalRule | CountStepsRule | ManualRule | DeductionRule)


def _normalize_choice(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).strip().casefold().split())


def _score_levels(leaf: Leaf, rule: LevelsRule, text: str) -> Answer:
    key = _normalize_choice(text)
    if not key:
        raise InputError("empty")
    key = key.removeprefix("level:")
    if not key.isascii() or not key.isdigit() or int(key) >= len(rule.levels):
        raise InputError("unknown_choice")
    index = int(key)
    level = rule.levels[index]
    return Answer(raw=f"level:{index}", points=_clamp(level.points, leaf.max_points), display=level.label)


def _score_boolean(leaf: Leaf, rule: BooleanRule, text: str) -> Answer:
    key = _normalize_choice(text)
    if not key:
        raise InputError("empty")
    if key in _YES:
        return Answer(raw="yes", points=leaf.max_points, display=rule.yes_label)
    if key in _NO:
        return Answer(raw="no", points=Decimal(0), display=rule.no_label)
    raise InputError("unknown_choice")


def _as_percent(parsed: ParsedNumber) -> Decimal:
    """A share in percent: "45/50" → 90, "90%" → 90, a plain "90" → 90 (officers type the percent)."""
    if parsed.is_ratio:
        if parsed.value > 1:
            raise InputError("ratio_over_one")
        return CTX.multiply(parsed.value, HUNDRED)
    return parsed.value


def _share_display(parsed: ParsedNumber, percent: Decimal) -> str:
    if parsed.is_ratio:
        rounded = percent.quantize(POINTS_QUANTUM, rounding=ROUND_HALF_UP)
        return f"{parsed.raw()} = {_percent_text(rounded)}"
    return _percent_text(percent)


def _score_bands(leaf: Leaf, rule: BandsRule, text: str) -> Answer:
    parsed = parse_number(text)
    if rule.unit == "percent":
        value = _as_percent(parsed)
        if value > HUNDRED:
            raise InputError("over_max", {"max": "100%"})
        display = _share_display(parsed, value)
    else:
        value = parsed.value
        display = fmt_points(value) if parsed.is_plain else parsed.raw()
    points = Decimal(0)
    for band in rule.bands:
        if band.contains(value):
            points = band.points
            break
    return Answer(raw=parsed.raw(), points=_clamp(points, leaf.max_points), display=display)


def _score_proportional(leaf: Leaf, text: str) -> Answer:
    parsed = parse_number(text)
    if parsed.numerator is not None and parsed.denominator is not None:
        if parsed.numerator > parsed.denominator:
            raise InputError("ratio_over_one")
        exact = CTX.divide(CTX.multiply(parsed.numerator, leaf.max_points), parsed.denominator)
    else:
        if parsed.value > HUNDRED:
            raise InputError("ratio_over_one")
        exact = CTX.divide(CTX.multiply(parsed.value, leaf.max_points), HUNDRED)
    points = _clamp(exact.quantize(POINTS_QUANTUM, rounding=ROUND_HALF_UP), leaf.max_points)
    return Answer(raw=parsed.raw(), points=points, display=_share_display(parsed, _as_percent(parsed)))


def _score_count_steps(leaf: Leaf, rule: CountStepsRule, text: str) -> Answer:
    count = parse_count(text)
    reached = [step for step in rule.steps if count >= step.at_least]
    points = max(reached, key=lambda step: step.at_least).points if reached else Decimal(0)
    return Answer(raw=str(count), points=_clamp(points, leaf.max_points), display=str(count))


def _parse_points(text: str) -> Decimal:
    parsed = parse_number(text)
    if not parsed.is_plain:
        raise InputError("not_a_number")
    return parsed.value


def _score_manual(leaf: Leaf, rule: ManualRule, text: str) -> Answer:
    points = _parse_points(text)
    if points > leaf.max_points:
        raise InputError("over_max", {"max": canonical(leaf.max_points)})
    if rule.step > 0 and points % rule.step != 0:
        raise InputError("not_on_step", {"step": canonical(rule.step)})
    return Answer(raw=canonical(points), points=points, display=fmt_points(points))


def _score_deduction(leaf: Leaf, rule: DeductionRule, text: str) -> Answer:
    count = parse_count(text)
    points = _clamp(leaf.max_points - count * rule.per_violation, leaf.max_points)
    return Answer(raw=str(count), points=points, display=f"{count} × −{fmt_points(rule.per_violation)}")


def score_answer(leaf: Leaf, text: str) -> Answer:
    """Score what the officer sent for this leaf (a button value or typed text).

    Raises `InputError` for anything that cannot be scored; survey items raise ``not_self_scored``
    because only the secretariat enters them (`score_survey`)."""
    rule = leaf.rule
    if isinstance(rule, LevelsRule):
        return _score_levels(leaf, rule, text)
    if isinstance(rule, BooleanRule):
        return _score_boolean(leaf, rule, text)
    if isinstance(rule, BandsRule):
        return _score_bands(leaf, rule, text)
    if isinstance(rule, ProportionalRule):
        return _score_proportional(leaf, text)
    if isinstance(rule, CountStepsRule):
        return _score_count_steps(leaf, rule, text)
    if isinstance(rule, ManualRule):
        return _score_manual(leaf, rule, text)
    if isinstance(rule, DeductionRule):
        return _score_deduction(leaf, rule, text)
    raise InputError("not_self_scored")


def score_survey(leaf: Leaf, text: str) -> Answer:
    """The secretariat's entry of a survey result, as points in [0, leaf max].

    Raises ValueError (a programming error, not a user's) for a leaf that is not a survey item."""
    if not isinstance(leaf.rule, SurveyRule):
        raise ValueError(f"{leaf.code} is not a survey item")
    points = _parse_points(text)
    if points > leaf.max_points:
        raise InputError("over_max", {"max": canonical(leaf.max_points)})
    return Answer(raw=canonical(points), points=points, display=fmt_points(points))

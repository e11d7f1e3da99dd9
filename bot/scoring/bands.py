"""Classification of an index into named bands (Xuất sắc, Tốt, Khá, Trung bình, Yếu).

Provinces set their own cut points per period; the default is the one in Hà Nam's 2018 plan
(seed 001), which matches the BTTTT A-E scale: ≥ 90, 80-<90, 65-<80, 50-<65, < 50.

The class is decided on the *published* index (rounded half-up to two decimals), so what a person
reads and the class next to it never contradict each other: 89.996 is published "90,00" and is
Xuất sắc. `grade` is the one function that gives both; ranking order still uses full precision
(bot/scoring/ranking.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.scoring.fmt import round_index


def _decimal(value: object) -> Decimal:
    if value is None or isinstance(value, bool):
        raise ValueError("missing")
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not result.is_finite():
        raise ValueError("not a number")
    return result


@dataclass(frozen=True)
class ClassBand:
    code: str
    name_vi: str
    name_en: str
    min: Decimal


DEFAULT_BANDS: tuple[ClassBand, ...] = (
    ClassBand("xuat_sac", "Xuất sắc", "Excellent", Decimal(90)),
    ClassBand("tot", "Tốt", "Good", Decimal(80)),
    ClassBand("kha", "Khá", "Fair", Decimal(65)),
    ClassBand("trung_binh", "Trung bình", "Average", Decimal(50)),
    ClassBand("yeu", "Yếu", "Weak", Decimal(0)),
)


@dataclass(frozen=True)
class Grade:
    """What is published for an index: `published` (two decimals, half-up) and its class `band`;
    `index` is the full-precision value, kept for ranking order."""

    index: Decimal
    published: Decimal
    band: ClassBand


def grade(index: Decimal, bands: tuple[ClassBand, ...] = DEFAULT_BANDS) -> Grade:
    """The published index and its class: the first band (highest first) whose min the published
    value reaches; the last band catches the rest."""
    published = round_index(index)
    band = next((b for b in bands if published >= b.min), bands[-1])
    return Grade(index, published, band)


def bands_from_config(items: Iterable[Mapping[str, Any]]) -> tuple[ClassBand, ...]:
    """Bands from a period's configuration: a list of {code, name_vi, name_en?, min}, highest first.

    Raises ValueError unless the mins strictly descend and the last is 0, so every index from 0 to
    100 falls in exactly one band."""
    bands: list[ClassBand] = []
    errors: list[str] = []
    for position, item in enumerate(items, start=1):
        code = str(item.get("code", "")).strip()
        name_vi = str(item.get("name_vi", "")).strip()
        if not code or not name_vi:
            errors.append(f"band {position}: code and name_vi are required")
            continue
        try:
            minimum = _decimal(item.get("min"))
        except ValueError:
            errors.append(f"band {code}: min is not a number")
            continue
        bands.append(ClassBand(code, name_vi, str(item.get("name_en") or name_vi), minimum))
    if not bands and not errors:
        errors.append("at least one band is required")
    codes = [band.code for band in bands]
    if len(set(codes)) != len(codes):
        errors.append("band codes must be unique")
    for high, low in itertools.pairwise(bands):
        if low.min >= high.min:
            errors.append(f"band {low.code}: min must be lower than band {high.code}'s")
    if bands and bands[-1].min != 0:
        errors.append(f"band {bands[-1].code}: the last band's min must be 0")
    if bands and bands[0].min > 100:
        errors.append(f"band {bands[0].code}: min above 100 can never be reached")
    if errors:
        raise ValueError("; ".join(errors))
    return tuple(bands)

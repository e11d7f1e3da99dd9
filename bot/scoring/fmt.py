"""Formatting of points and indexes for people.

Kept apart from the arithmetic so that every screen, export and error message prints a number the
same way: Vietnamese uses a decimal comma ("87,12"), English a decimal point ("87.12"). Values are
stored and compared at full precision; only what is shown is rounded.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

Locale = Literal["vi", "en"]

_TWO_PLACES = Decimal("0.01")


def canonical(value: Decimal) -> str:
    """Machine form: "." decimal point, no exponent, no trailing zeros ("1.5", "100", "0.25").

    Used for stored raw answers and error parameters, which must not depend on the reader's locale."""
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    return text


def _localise(text: str, locale: str) -> str:
    return text.replace(".", ",") if locale == "vi" else text


def fmt_points(value: Decimal, locale: Locale | str = "vi") -> str:
    """Points without trailing zeros ("1,5", "2", "0,25").

    Up to three decimals are shown as they are (steps such as 0.125 exist); longer values, which only
    come from division, are rounded half-up to two decimals like the official tables."""
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -3:
        value = value.quantize(_TWO_PLACES, rounding=ROUND_HALF_UP)
    return _localise(canonical(value), locale)


def round_index(value: Decimal) -> Decimal:
    """The published form of an index (or of a difference of indexes): two decimals, half-up.
    89.995 → 90.00, 89.994999 → 89.99. The class is decided on this value (`bands.grade`)."""
    rounded = value.quantize(_TWO_PLACES, rounding=ROUND_HALF_UP)
    return Decimal("0.00") if rounded == 0 else rounded


def fmt_index(value: Decimal, locale: Locale | str = "vi") -> str:
    """An index with exactly two decimals, half-up ("87,12" in Vietnamese, "87.12" in English)."""
    return _localise(format(round_index(value), "f"), locale)

"""Column types that keep the scoring core's guarantees in the database.

Points are stored as integer ten-thousandths so that SQL SUM is exact on SQLite and PostgreSQL
alike and equals the Decimal core. Timestamps are always aware UTC, also on SQLite, which has no
time-zone type.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect
from sqlalchemy.types import TypeDecorator

POINTS_SCALE = 10_000
_QUANTUM = Decimal("0.0001")


def points_to_int(value: Decimal | int | str) -> int:
    """Decimal → ten-thousandths (ROUND_HALF_UP), the storage form of `Points`."""
    quantized = Decimal(value).quantize(_QUANTUM, rounding=ROUND_HALF_UP)
    return int(quantized * POINTS_SCALE)


def int_to_points(value: int) -> Decimal:
    return (Decimal(value) / POINTS_SCALE).quantize(_QUANTUM)


class Points(TypeDecorator[Decimal]):
    """Decimal points stored exactly as BIGINT ten-thousandths.

    A raw SQL aggregate (`SUM(col)`) returns ten-thousandths: divide by POINTS_SCALE.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("Points must be Decimal, int or str, never float")
        return points_to_int(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return int_to_points(int(value))


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend.

    Naive values are refused on the way in: a naive time is ambiguous between UTC and local time.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime: pass an aware datetime (UTC is stored)")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # SQLite stores text without an offset; we always store UTC so it can be restored.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)

"""Ranking within a group and awards.

Ranks use the full-precision index: two units shown as "90,02" may still differ in the 5th decimal,
and provinces publish distinct ranks for them (Thanh Hóa 2024, domain §2.8). Truly equal indexes
share a rank (1, 2, 2, 4) unless the period names a tie-break. Units flagged "không xếp hạng" keep
their score on screen but take no rank and no award.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from bot.scoring.bands import DEFAULT_BANDS, ClassBand, classify


@dataclass(frozen=True)
class RankEntry:
    unit_id: int
    name: str
    index: Decimal
    ranked: bool = True
    reason: str = ""
    tie_break: Decimal | None = None
    code: str = ""


@dataclass(frozen=True)
class RankRow:
    rank: int | None
    unit_id: int
    name: str
    code: str
    index: Decimal
    band: ClassBand
    ranked: bool
    reason: str


def _display_key(entry: RankEntry) -> tuple[str, str, int]:
    return (entry.name.casefold(), entry.code, entry.unit_id)


def rank_group(
    entries: Iterable[RankEntry],
    bands: tuple[ClassBand, ...] = DEFAULT_BANDS,
    use_tie_break: bool = False,
) -> list[RankRow]:
    """Ranked units first (highest index first, competition ranking), then the not-ranked ones
    (rank None) by index. With `use_tie_break`, a higher `tie_break` wins among equal indexes; a
    missing tie-break loses to any given one; still-equal units share the rank. Units sharing a rank
    are listed by name so the order is stable between screens."""
    items = list(entries)
    ranked = [e for e in items if e.ranked]
    unranked = [e for e in items if not e.ranked]

    def merit(entry: RankEntry) -> tuple[Decimal, int, Decimal]:
        if not use_tie_break:
            return (entry.index, 0, Decimal(0))
        if entry.tie_break is None:
            return (entry.index, 0, Decimal(0))
        return (entry.index, 1, entry.tie_break)

    ranked.sort(key=_display_key)
    ranked.sort(key=merit, reverse=True)
    rows: list[RankRow] = []
    previous: tuple[Decimal, int, Decimal] | None = None
    rank = 0
    for position, entry in enumerate(ranked, start=1):
        key = merit(entry)
        if key != previous:
            rank, previous = position, key
        rows.append(_row(entry, rank, bands))
    unranked.sort(key=_display_key)
    unranked.sort(key=lambda e: e.index, reverse=True)
    rows.extend(_row(entry, None, bands) for entry in unranked)
    return rows


def _row(entry: RankEntry, rank: int | None, bands: tuple[ClassBand, ...]) -> RankRow:
    return RankRow(
        rank=rank,
        unit_id=entry.unit_id,
        name=entry.name,
        code=entry.code,
        index=entry.index,
        band=classify(entry.index, bands),
        ranked=rank is not None,
        reason=entry.reason,
    )


def awards(rows: Iterable[RankRow], top_n: int, threshold: Decimal = Decimal(90)) -> list[RankRow]:
    """Units proposed for a Bằng khen: ranked, rank ≤ top_n, index ≥ threshold (seed 001: at most 4
    departments / 2 districts, index ≥ 90).

    Ties at the boundary: every unit whose shared rank is ≤ top_n is included, so ranks 1, 2, 3, 3
    with top_n = 3 propose four units. The plan says "không quá" N; the engine does not pick between
    units with equal indexes, and the list marks the tie for the council to settle."""
    return [
        row
        for row in rows
        if row.ranked and row.rank is not None and row.rank <= top_n and row.index >= threshold
    ]

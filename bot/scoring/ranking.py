"""Ranking within a group and awards.

Ranks use the full-precision index: two units shown as "90,02" may still differ in the 5th decimal,
and provinces publish distinct ranks for them (Thanh Hóa 2024, domain §2.8). Truly equal indexes
share a rank (1, 2, 2, 4) unless the period names a tie-break. The class is the published index's
(`bands.grade`).

Units outside the ranking are listed apart with their reason:
- flagged "không đánh giá, xếp hạng" (seed 003): their index is still shown, but they take no rank,
  no class and no award, and stay out of every group average;
- without a result (self-assessment not submitted or not started): no index, no class.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from bot.scoring.bands import DEFAULT_BANDS, ClassBand, grade

ZERO = Decimal(0)


@dataclass(frozen=True)
class RankEntry:
    """One unit to rank. `index` None: the unit has no result yet (it is then never ranked)."""

    unit_id: int
    name: str
    index: Decimal | None
    ranked: bool = True
    reason: str = ""
    tie_break: Decimal | None = None
    code: str = ""
    survey_pending_max: Decimal = ZERO


@dataclass(frozen=True)
class RankRow:
    """`index` full precision (None without a result), `published` its two-decimal published form,
    `band` the class (ranked units only), `survey_pending_max` the survey points not entered yet."""

    rank: int | None
    unit_id: int
    name: str
    code: str
    index: Decimal | None
    published: Decimal | None
    band: ClassBand | None
    ranked: bool
    reason: str
    survey_pending_max: Decimal = ZERO

    @property
    def has_result(self) -> bool:
        return self.index is not None


def _display_key(entry: RankEntry) -> tuple[str, str, int]:
    return (entry.name.casefold(), entry.code, entry.unit_id)


def rank_group(
    entries: Iterable[RankEntry],
    bands: tuple[ClassBand, ...] = DEFAULT_BANDS,
    use_tie_break: bool = False,
) -> list[RankRow]:
    """Ranked units first (highest index first, competition ranking), then the not-ranked ones with
    an index (by index), then those without a result (by name). With `use_tie_break`, a higher
    `tie_break` wins among equal indexes; a missing tie-break loses to any given one; still-equal
    units share the rank. Units sharing a rank are listed by name so the order is stable between
    screens."""
    items = list(entries)
    ranked = [e for e in items if e.ranked and e.index is not None]
    apart = [e for e in items if not e.ranked and e.index is not None]
    no_result = [e for e in items if e.index is None]

    def merit(entry: RankEntry) -> tuple[Decimal, int, Decimal]:
        assert entry.index is not None
        if not use_tie_break or entry.tie_break is None:
            return (entry.index, 0, ZERO)
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
    apart.sort(key=_display_key)
    apart.sort(key=lambda e: e.index or ZERO, reverse=True)
    no_result.sort(key=_display_key)
    rows.extend(_row(entry, None, bands) for entry in [*apart, *no_result])
    return rows


def _row(entry: RankEntry, rank: int | None, bands: tuple[ClassBand, ...]) -> RankRow:
    graded = grade(entry.index, bands) if entry.index is not None else None
    return RankRow(
        rank=rank,
        unit_id=entry.unit_id,
        name=entry.name,
        code=entry.code,
        index=entry.index,
        published=graded.published if graded else None,
        band=graded.band if graded and rank is not None else None,
        ranked=rank is not None,
        reason=entry.reason,
        survey_pending_max=entry.survey_pending_max,
    )


@dataclass(frozen=True)
class Awards:
    """Units proposed for a Bằng khen, and units tied at the cap that the council decides between
    (`seats` of them can still be proposed)."""

    proposed: list[RankRow] = field(default_factory=list)
    council: list[RankRow] = field(default_factory=list)
    seats: int = 0


def awards(rows: Iterable[RankRow], top_n: int, threshold: Decimal = Decimal(90)) -> Awards:
    """Seed 001: "không quá 04 đơn vị có Chỉ số cải cách hành chính cao nhất", each "từ 90 điểm trở
    lên". Ranked units whose published index reaches `threshold`, best first, never more than
    `top_n`. When units sharing a rank would cross the cap, the ones strictly above them are
    proposed and the tied ones go to the council with the seats left (95, 93, 91, 90, 90 with N = 4:
    three proposed, the two 90s for the council, one seat). N = 0 proposes nobody; threshold 0
    accepts every index."""
    eligible = [
        r
        for r in rows
        if r.ranked and r.rank is not None and r.published is not None and r.published >= threshold
    ]
    proposed: list[RankRow] = []
    position = 0
    while position < len(eligible) and len(proposed) < top_n:
        tied = [r for r in eligible[position:] if r.rank == eligible[position].rank]
        if len(proposed) + len(tied) > top_n:
            return Awards(proposed, tied, top_n - len(proposed))
        proposed += tied
        position += len(tied)
    return Awards(proposed)

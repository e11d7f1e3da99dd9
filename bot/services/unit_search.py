"""Finding a unit by what a person types: a code, or a name with or without diacritics, with typos.

Leaders type on phones, often without a Vietnamese keyboard: "so noi vu", "Sở Nội Vụ", "noivu" and
"so noi vj" must all find Sở Nội vụ. Names are folded (`names.fold`: no diacritics, đ → d, lower
case) and compared with RapidFuzz on the folded text, on the text without spaces, and word by word.
A clear winner is one match; close candidates are offered as buttons.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Unit
from bot.services.names import fold

#: Below this score a unit is not offered at all.
MIN_SCORE = 65.0
#: A best match at or above this score, ahead of the next by `CLEAR_GAP`, is taken as the answer.
CLEAR_SCORE = 85.0
CLEAR_GAP = 8.0
#: Candidates further than this behind the best are not offered.
OFFER_WINDOW = 20.0


@dataclass(frozen=True)
class UnitMatch:
    unit_id: int
    code: str
    name: str
    score: float


def name_score(query: str, name: str) -> float:
    """0-100: how well a typed query matches a unit name (both folded here)."""
    q, n = fold(query), fold(name)
    if not q:
        return 0.0
    if q == n:
        return 100.0
    q_words, n_words = set(q.split()), set(n.split())
    if q_words <= n_words:  # every typed word is a word of the name: "y te", "noi vu"
        return 100.0
    q_compact, n_compact = q.replace(" ", ""), n.replace(" ", "")
    scores = [
        fuzz.ratio(q, n),
        fuzz.ratio(q_compact, n_compact),
        fuzz.token_set_ratio(q, n) * 0.97,
    ]
    if len(q_compact) >= 4:  # "noivu" inside "sonoivu"; too short a needle matches anything
        scores.append(fuzz.partial_ratio(q_compact, n_compact) * 0.95)
    return float(max(scores))


def rank_matches(query: str, units: list[tuple[int, str, str]]) -> list[UnitMatch]:
    """Best candidates first: an exact code (any case) is the only answer; else a clear winner
    alone; else every unit within reach of the best (at most 8), to be offered as choices, even
    when there is only one (its score is below CLEAR_SCORE). Empty when nothing is close."""
    text = query.strip()
    if not text:
        return []
    wanted_code = text.casefold()
    for unit_id, code, name in units:
        if code.casefold() == wanted_code:
            return [UnitMatch(unit_id, code, name, 100.0)]
    scored = [
        UnitMatch(unit_id, code, name, max(name_score(text, name), _code_score(text, code)))
        for unit_id, code, name in units
    ]
    scored.sort(key=lambda m: (-m.score, fold(m.name)))
    scored = [m for m in scored if m.score >= MIN_SCORE]
    if not scored:
        return []
    best = scored[0].score
    if best >= CLEAR_SCORE and (len(scored) == 1 or best - scored[1].score >= CLEAR_GAP):
        return scored[:1]
    return [m for m in scored if best - m.score <= OFFER_WINDOW][:8]


def _code_score(query: str, code: str) -> float:
    q, c = fold(query).replace(" ", ""), fold(code).replace("-", "")
    return float(fuzz.ratio(q, c)) * 0.95 if len(q) >= 3 else 0.0


async def search_units(session: AsyncSession, query: str, include_inactive: bool = False) -> list[UnitMatch]:
    """Units matching `query` (see `rank_matches`). Names are not secret: anyone registered may search;
    what a unit's results show is decided by the leader services."""
    stmt = select(Unit.id, Unit.code, Unit.name)
    if not include_inactive:
        stmt = stmt.where(Unit.active.is_(True))
    rows = [(int(i), str(c), str(n)) for i, c, n in await session.execute(stmt)]
    return rank_matches(query, rows)

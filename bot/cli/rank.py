"""`cchc-bot rank [--year Y] [--group G] [--json]`: a ranking from a live period or imported history."""

from __future__ import annotations

import argparse
from typing import Any

from bot.cli import print_json
from bot.cli._common import command, index_text, open_session, service_errors
from bot.scoring.fmt import canonical
from bot.scoring.sheet import Basis
from bot.services.errors import ServiceError
from bot.services.periods import current_period
from bot.services.ranking import Ranking, ranking
from bot.services.units import list_groups


def _rows_json(result: Ranking) -> list[dict[str, Any]]:
    """One object per unit: the published index (None without a result), the class (ranked units
    only), and the survey points still pending (None when none)."""
    return [
        {
            "rank": row.rank,
            "unit": row.name,
            "code": row.code,
            "index": index_text(row.published) if row.published is not None else None,
            "class": row.band.name_vi if row.band else None,
            "class_code": row.band.code if row.band else None,
            "ranked": row.ranked,
            "reason": row.reason,
            "survey_pending": canonical(row.survey_pending_max) if row.survey_pending_max > 0 else None,
        }
        for row in result.rows
    ]


def _print_text(result: Ranking) -> None:
    kind = "imported results" if result.source == "history" else f"basis {result.basis}"
    state = "provisional" if result.provisional else "final"
    print(f"{result.group_name} ({result.group_code}), {result.year}: {state}, {kind}")
    width = max((len(r.name) for r in result.rows), default=10)
    for row in result.rows:
        rank = str(row.rank) if row.rank is not None else "-"
        if row.published is None:
            print(f"{rank:>4}  {row.name:<{width}}  {'-':>6}  (no result yet: {row.reason})")
            continue
        notes = []
        if not row.ranked:
            notes.append(
                f"not ranked: {row.reason.removeprefix('not_ranked').removeprefix(': ') or 'flagged'}"
            )
        if row.survey_pending_max > 0:
            notes.append(f"survey result pending ({canonical(row.survey_pending_max)} points)")
        band = row.band.name_vi if row.band else "-"
        note = f"  ({'; '.join(notes)})" if notes else ""
        print(f"{rank:>4}  {row.name:<{width}}  {index_text(row.published):>6}  {band}{note}")


@service_errors
async def _rank(args: argparse.Namespace) -> int:
    basis = Basis(args.basis) if args.basis else None
    async with open_session(args) as session:
        year = args.year
        if year is None:
            period = await current_period(session)
            if period is None:
                raise ServiceError("no_period", year="any year")
            year = period.year
        codes = [args.group] if args.group else [g.code for g in await list_groups(session)]
        results: list[Ranking] = []
        for code in codes:
            try:
                results.append(await ranking(session, year, code, basis))
            except ServiceError:
                if args.group:
                    raise
    if not results:
        raise ServiceError("no_period", year=year)
    if args.json:
        if args.group:
            print_json(_rows_json(results[0]))
        else:
            print_json({r.group_code: _rows_json(r) for r in results})
        return 0
    for number, result in enumerate(results):
        if number:
            print()
        _print_text(result)
    return 0


def register(subparsers: Any) -> None:
    rank = subparsers.add_parser(
        "rank", help="ranking of a group (default: every group of the current period)"
    )
    rank.add_argument("--year", type=int, help="default: the current period's year")
    rank.add_argument("--group", metavar="CODE", help="ranking group code (default: all)")
    rank.add_argument(
        "--basis",
        choices=[b.value for b in Basis],
        help="self, appraised or final points (default: final once approved, else appraised)",
    )
    command(rank, _rank, json=True, db=True)

"""`cchc-bot period create|open|show|set-deadline|status`.

Dates: "YYYY-MM-DD" or "DD/MM/YYYY" mean the end of that day in CCHC_TIMEZONE (the start of the
day for --opens); add " HH:MM" for a time of day.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli import CliError, print_json
from bot.cli._common import command, open_session, service_errors
from bot.config import load_settings
from bot.services.actor import Actor
from bot.services.criteria import find_criteria_row, store_criteria_set
from bot.services.errors import ServiceError
from bot.services.periods import (
    STAGE_COLUMNS,
    PeriodInfo,
    create_period,
    open_period,
    parse_stage_time,
    set_deadline,
    set_period_status,
    show_period,
)
from bot.text import fmt_dt

STAGE_OPTIONS = {
    "opens": "opens",
    "self_deadline": "self_assessment",
    "appraisal_deadline": "appraisal",
    "explanation_deadline": "explanation",
    "final_deadline": "final_appraisal",
}


async def ensure_criteria(session: AsyncSession, ref: str) -> tuple[str, list[str]]:
    """(code, unit types) of a stored set; a shipped sample set is stored on first use."""
    try:
        row = await find_criteria_row(session, ref)
        return row.code, list(row.unit_types)
    except ServiceError:
        from bot.criteria import shipped_path
        from bot.scoring.loader import load_criteria_set

        try:
            path = shipped_path(ref)
        except (KeyError, FileNotFoundError, ValueError):
            raise ServiceError("not_found", what="criteria set", key=ref) from None
        stored = await store_criteria_set(session, Actor.system(), load_criteria_set(path))
        return stored.code, stored.unit_types


def _print_info(info: PeriodInfo, as_json: bool) -> None:
    if as_json:
        print_json(info.as_json())
        return
    tz = load_settings().tz
    print(f"{info.name} ({info.year}): {info.status}")
    for unit_type, code in info.criteria.items():
        print(f"  criteria {unit_type:<8} {code}")
    for stage, when in info.stages.items():
        print(f"  {stage:<16} {fmt_dt(when, tz) or '-'}")
    if info.progress:
        print("  progress: " + ", ".join(f"{k} {v}" for k, v in sorted(info.progress.items())))


@service_errors
async def _create(args: argparse.Namespace) -> int:
    tz = load_settings().tz
    stages: dict[str, datetime] = {}
    for option, stage in STAGE_OPTIONS.items():
        text = getattr(args, option)
        if text:
            stages[stage] = parse_stage_time(text, tz, end_of_day=stage != "opens")
    async with open_session(args) as session:
        mapping: dict[str, str] = {}
        for item in args.criteria:
            unit_type, _, ref = item.rpartition("=")
            code, types = await ensure_criteria(session, ref)
            for t in [unit_type] if unit_type else types:
                if t in mapping:
                    raise CliError(f"unit type {t} has two criteria sets ({mapping[t]}, {code})")
                mapping[t] = code
        info = await create_period(session, Actor.system(), args.year, mapping, name=args.name, stages=stages)
    _print_info(info, args.json)
    return 0


@service_errors
async def _open(args: argparse.Namespace) -> int:
    async with open_session(args) as session:
        info = await open_period(session, Actor.system(), args.year, tz=load_settings().timezone)
    _print_info(info, args.json)
    return 0


@service_errors
async def _show(args: argparse.Namespace) -> int:
    async with open_session(args) as session:
        info = await show_period(session, args.year)
    _print_info(info, args.json)
    return 0


@service_errors
async def _set_deadline(args: argparse.Namespace) -> int:
    when = parse_stage_time(args.when, load_settings().tz, end_of_day=args.stage not in ("opens", "open"))
    async with open_session(args) as session:
        info = await set_deadline(session, Actor.system(), args.year, args.stage, when)
    _print_info(info, args.json)
    return 0


@service_errors
async def _status(args: argparse.Namespace) -> int:
    async with open_session(args) as session:
        info = await set_period_status(session, Actor.system(), args.year, args.status)
    _print_info(info, args.json)
    return 0


def register(subparsers: Any) -> None:
    period = subparsers.add_parser("period", help="assessment periods: create, open, show, deadlines")
    sub = period.add_subparsers(dest="period_command", metavar="ACTION", required=True)
    create = sub.add_parser(
        "create",
        help="create a draft period",
        description="Dates: YYYY-MM-DD or DD/MM/YYYY (end of day in CCHC_TIMEZONE), optionally HH:MM.",
    )
    create.add_argument("--year", type=int, required=True)
    create.add_argument("--name")
    create.add_argument(
        "--criteria",
        action="append",
        required=True,
        metavar="[TYPE=]SET",
        help="criteria set code (stored or shipped), for its unit types or for TYPE; repeat",
    )
    for option in STAGE_OPTIONS:
        create.add_argument("--" + option.replace("_", "-"), dest=option, metavar="DATE")
    command(create, _create, json=True, db=True)
    opn = sub.add_parser("open", help="open self-assessment: sheets for every unit, units notified")
    opn.add_argument("--year", type=int, required=True)
    command(opn, _open, json=True, db=True)
    show = sub.add_parser("show", help="a period's stages, criteria and progress (default: current)")
    show.add_argument("--year", type=int)
    command(show, _show, json=True, db=True)
    dl = sub.add_parser("set-deadline", help="move the end of a stage")
    dl.add_argument("--year", type=int, required=True)
    dl.add_argument("--stage", required=True, choices=[*STAGE_COLUMNS, "self", "final"])
    dl.add_argument("when", metavar="DATE")
    command(dl, _set_deadline, json=True, db=True)
    st = sub.add_parser("status", help="move a period forward to a later stage")
    st.add_argument("--year", type=int, required=True)
    st.add_argument("status")
    command(st, _status, json=True, db=True)

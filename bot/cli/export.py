"""`cchc-bot export`: the leaders' reports as files, from the same services as the chat.

cchc-bot export --year 2025 --kind summary [--group SO] --out tong-hop.xlsx
cchc-bot export --year 2025 --kind unit --unit SNV --out snv.xlsx
cchc-bot export --year 2025 --kind log [--group XA] --out nhat-ky.xlsx
cchc-bot export --year 2025 --kind chart --group XA --out xep-hang.png   (pages: xep-hang-2.png …)
cchc-bot export --year 2025 --kind profile --unit SNV --out snv.png
cchc-bot export --year 2025 --kind progress --out tien-do.png
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.cli import CliError
from bot.cli._common import add_db_option, open_session
from bot.services import leader_reports as reports
from bot.services.actor import Actor
from bot.services.leader import find_group
from bot.services.units import get_unit

#: The file format each kind writes; `--out` must carry its extension.
FORMATS = {
    "summary": ".xlsx",
    "unit": ".xlsx",
    "log": ".xlsx",
    "chart": ".png",
    "profile": ".png",
    "progress": ".png",
}
KINDS = tuple(FORMATS)
_FORMAT_NAMES = {".xlsx": "an XLSX workbook", ".png": "a PNG image"}


def check_format(kind: str, out: Path) -> None:
    """Refuse an output name whose extension is not the kind's format (nothing is written)."""
    wanted = FORMATS[kind]
    if out.suffix.lower() != wanted:
        raise CliError(
            f"--kind {kind} writes {_FORMAT_NAMES[wanted]}: give --out a {wanted} file name "
            f"(not {out.name!r})"
        )


def page_paths(out: Path, count: int) -> list[Path]:
    """FILE.png for one page; FILE.png, FILE-2.png, … for several."""
    return [out if n == 1 else out.with_name(f"{out.stem}-{n}{out.suffix}") for n in range(1, count + 1)]


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)


async def _export(args: argparse.Namespace) -> int:
    actor = Actor.system("cli")
    out = Path(args.out)
    kind: str = args.kind
    check_format(kind, out)
    if kind in ("unit", "profile") and not args.unit:
        raise CliError(f"--kind {kind} needs --unit CODE")
    if kind == "chart" and not args.group:
        raise CliError("--kind chart needs --group CODE")
    written: list[Path] = []
    async with open_session(args) as session:
        group = await find_group(session, args.group) if args.group else None
        if kind == "summary":
            ids = [group.id] if group else None
            files = [(await reports.summary_xlsx(session, actor, args.year, ids, args.locale)).data]
        elif kind == "unit":
            unit = await get_unit(session, args.unit)
            files = [(await reports.unit_xlsx(session, actor, unit.id, args.year, args.locale)).data]
        elif kind == "log":
            gid = group.id if group else None
            files = [(await reports.appraisal_log_xlsx(session, actor, args.year, gid, args.locale)).data]
        elif kind == "chart":
            assert group is not None
            files = await reports.ranking_pngs(session, actor, group.id, args.year, args.locale)
        elif kind == "profile":
            unit = await get_unit(session, args.unit)
            files = [await reports.profile_png(session, actor, unit.id, args.year, args.locale)]
        else:
            files = [await reports.progress_png(session, actor, args.year, args.locale)]
    for path, data in zip(page_paths(out, len(files)), files, strict=True):
        _write(path, data)
        written.append(path)
    for path in written:
        print(path)
    return 0


def register(subparsers: Any) -> None:
    export = subparsers.add_parser("export", help="reports as XLSX or PNG files (summary, unit, log, charts)")
    export.add_argument("--year", type=int, help="default: the current period's year")
    export.add_argument("--kind", choices=KINDS, required=True, help="which report")
    export.add_argument(
        "--group", metavar="CODE", help="ranking group (summary: default all; chart: required)"
    )
    export.add_argument("--unit", metavar="CODE", help="unit code (unit, profile)")
    export.add_argument("--locale", choices=("vi", "en"), default="vi", help="language of the report")
    export.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="output file: .xlsx for summary, unit and log; .png for chart, profile and progress",
    )
    add_db_option(export)
    export.set_defaults(handler=_export)

"""`cchc-bot criteria validate|list|import`: criteria sets from YAML or the XLSX template."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.cli import CliError, print_json
from bot.cli._common import command, open_session, service_errors
from bot.scoring.loader import CriteriaError, load_criteria_set, parse_criteria_set, summary
from bot.scoring.model import CriteriaSet
from bot.services.actor import Actor
from bot.services.criteria import list_criteria_sets, store_criteria_set


def read_criteria_file(path: Path) -> CriteriaSet:
    """A YAML file or an XLSX workbook in the documented template, parsed and validated."""
    if not path.exists():
        raise CriteriaError([f"no such file: {path}"], str(path))
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from bot.criteria.xlsx import read_criteria_xlsx

        return parse_criteria_set(read_criteria_xlsx(path), str(path))
    if path.suffix.lower() in (".yaml", ".yml"):
        return load_criteria_set(path)
    raise CriteriaError(["expected a .yaml or .xlsx file"], str(path))


def _load_or_fail(path: Path, as_json: bool) -> CriteriaSet:
    try:
        return read_criteria_file(path)
    except CriteriaError as exc:
        if as_json:
            print_json({"file": str(path), "valid": False, "errors": exc.errors})
        else:
            for line in exc.errors:
                print(f"  {line}", file=sys.stderr)
        count = len(exc.errors)
        raise CliError(f"{path}: {count} error{'s' if count != 1 else ''}, the set cannot be used") from None
    except ValueError as exc:  # the XLSX reader's own errors
        raise CliError(f"{path}: {exc}") from None


def _validate(args: argparse.Namespace) -> int:
    path = Path(args.path)
    cs = _load_or_fail(path, args.json)
    counts = summary(cs)
    if args.json:
        print_json(counts)
    else:
        print(
            f"{path}: valid — {cs.code} ({cs.year}, {', '.join(cs.unit_types)}"
            f"{', sample' if cs.sample else ''}): {counts['fields']} fields, {counts['criteria']} criteria, "
            f"{counts['sub_criteria']} sub-criteria, {counts['max_points']} points"
        )
    return 0


@service_errors
async def _import(args: argparse.Namespace) -> int:
    path = Path(args.path)
    cs = _load_or_fail(path, args.json)
    async with open_session(args) as session:
        stored = await store_criteria_set(session, Actor.system(), cs)
    if args.json:
        print_json(
            {"id": stored.id, "code": stored.code, "hash": stored.content_hash, "created": stored.created}
        )
    else:
        state = "imported" if stored.created else "already stored (same content)"
        print(f"{stored.code}: {state}, id {stored.id}, hash {stored.content_hash[:12]}")
    return 0


@service_errors
async def _list(args: argparse.Namespace) -> int:
    async with open_session(args) as session:
        sets = await list_criteria_sets(session)
    if args.json:
        print_json(
            [
                {
                    "id": s.id,
                    "code": s.code,
                    "name": s.name,
                    "year": s.year,
                    "unit_types": s.unit_types,
                    "sample": s.sample,
                    "hash": s.content_hash,
                }
                for s in sets
            ]
        )
        return 0
    if not sets:
        print("no criteria sets stored; use `cchc-bot criteria import FILE`")
    for s in sets:
        sample = " [sample]" if s.sample else ""
        types = ",".join(s.unit_types)
        print(f"{s.id:>3}  {s.code:<14} {s.year}  {types:<18} {s.content_hash[:12]}  {s.name}{sample}")
    return 0


def register(subparsers: Any) -> None:
    criteria = subparsers.add_parser("criteria", help="criteria sets: validate, import, list")
    sub = criteria.add_subparsers(dest="criteria_command", metavar="ACTION", required=True)
    validate = sub.add_parser("validate", help="check a YAML/XLSX criteria set (exit 1 with the errors)")
    validate.add_argument("path", metavar="PATH")
    command(validate, _validate, json=True, db=False)
    imp = sub.add_parser("import", help="validate and store a YAML/XLSX criteria set")
    imp.add_argument("path", metavar="FILE")
    command(imp, _import, json=True, db=True)
    lst = sub.add_parser("list", help="stored criteria sets")
    command(lst, _list, json=True, db=True)

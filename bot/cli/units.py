"""`cchc-bot units import|list` and `cchc-bot agencies import|list|create|assign|assignments`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.cli import print_json
from bot.cli._common import command, open_session, service_errors
from bot.services.actor import Actor
from bot.services.agencies import (
    assign,
    create_agency,
    import_agencies,
    list_agencies,
    list_assignments,
)
from bot.services.units import get_group, import_units, list_groups, list_units


@service_errors
async def _units_import(args: argparse.Namespace) -> int:
    async with open_session(args) as session:
        result = await import_units(session, Actor.system(), Path(args.file))
    data = {
        "created": len(result.created),
        "updated": len(result.updated),
        "unchanged": len(result.unchanged),
        "groups_created": result.groups_created,
    }
    if args.json:
        print_json(data)
    else:
        groups = f"; new groups: {', '.join(result.groups_created)}" if result.groups_created else ""
        print(
            f"{args.file}: {data['created']} created, {data['updated']} updated, "
            f"{data['unchanged']} unchanged{groups}"
        )
    return 0


@service_errors
async def _units_list(args: argparse.Namespace) -> int:
    async with open_session(args) as session:
        groups = {g.id: g for g in await list_groups(session)}
        group_id = (await get_group(session, args.group)).id if args.group else None
        units = await list_units(session, group_id=group_id, active_only=not args.all)
    rows = [
        {
            "code": u.code,
            "name": u.name,
            "unit_type": u.unit_type,
            "group": groups[u.group_id].code if u.group_id in groups else None,
            "active": u.active,
        }
        for u in units
    ]
    if args.json:
        print_json(rows)
    else:
        for r in rows:
            print(f"{r['code']:<12} {r['unit_type']:<8} {r['group'] or '-':<8} {r['name']}")
    return 0


@service_errors
async def _agencies_import(args: argparse.Namespace) -> int:
    async with open_session(args) as session:
        result = await import_agencies(session, Actor.system(), Path(args.file))
    print(f"{args.file}: {len(result.created)} created, {len(result.updated)} updated")
    return 0


@service_errors
async def _agencies_create(args: argparse.Namespace) -> int:
    async with open_session(args) as session:
        agency = await create_agency(session, Actor.system(), args.code, args.name)
    print(f"agency {agency.code} created: {agency.name}")
    return 0


@service_errors
async def _agencies_list(args: argparse.Namespace) -> int:
    async with open_session(args) as session:
        agencies = await list_agencies(session)
    if args.json:
        print_json([{"code": a.code, "name": a.name, "active": a.active} for a in agencies])
    else:
        for a in agencies:
            print(f"{a.code:<10} {a.name}")
    return 0


@service_errors
async def _assign(args: argparse.Namespace) -> int:
    kind, scope = ("item", args.item) if args.item else ("field", args.field)
    async with open_session(args) as session:
        await assign(session, Actor.system(), args.year, args.agency, scope, kind)
    print(f"{args.year}: {kind} {scope} -> {args.agency}")
    return 0


@service_errors
async def _assignments(args: argparse.Namespace) -> int:
    async with open_session(args) as session:
        views = await list_assignments(session, args.year)
    if args.json:
        print_json([v.__dict__ for v in views])
    else:
        for v in views:
            print(f"{v.agency_code:<10} {v.kind:<5} {v.scope:<8} {v.agency_name}")
    return 0


def register(subparsers: Any) -> None:
    units = subparsers.add_parser("units", help="units (sở, xã, phường...): import, list")
    sub = units.add_subparsers(dest="units_command", metavar="ACTION", required=True)
    imp = sub.add_parser(
        "import", help="create/update units from CSV or XLSX: code, name, unit_type, group (all-or-nothing)"
    )
    imp.add_argument("file", metavar="FILE")
    command(imp, _units_import, json=True, db=True)
    lst = sub.add_parser("list", help="list units")
    lst.add_argument("--group", metavar="CODE")
    lst.add_argument("--all", action="store_true", help="include inactive units")
    command(lst, _units_list, json=True, db=True)

    agencies = subparsers.add_parser("agencies", help="appraising agencies and their assignments")
    asub = agencies.add_subparsers(dest="agencies_command", metavar="ACTION", required=True)
    aimp = asub.add_parser("import", help="create/update agencies from CSV or XLSX: code, name")
    aimp.add_argument("file", metavar="FILE")
    command(aimp, _agencies_import, json=False, db=True)
    create = asub.add_parser("create", help="create one agency")
    create.add_argument("code")
    create.add_argument("name")
    command(create, _agencies_create, json=False, db=True)
    alst = asub.add_parser("list", help="list agencies")
    command(alst, _agencies_list, json=True, db=True)
    asg = asub.add_parser("assign", help="give a field (appraisal_field key) or an item to an agency")
    asg.add_argument("--year", type=int, required=True)
    asg.add_argument("--agency", required=True, metavar="CODE")
    target = asg.add_mutually_exclusive_group(required=True)
    target.add_argument("--field", metavar="KEY")
    target.add_argument("--item", metavar="CODE")
    command(asg, _assign, json=False, db=True)
    als = asub.add_parser("assignments", help="who appraises what in a period")
    als.add_argument("--year", type=int, required=True)
    command(als, _assignments, json=True, db=True)

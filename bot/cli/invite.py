"""`cchc-bot invite create`: registration links for one unit or agency and one role."""

from __future__ import annotations

import argparse
from typing import Any

from bot.cli import print_json
from bot.cli._common import command, open_session, service_errors
from bot.config import load_settings
from bot.db.models import RoleName
from bot.services.actor import Actor
from bot.services.invites import check_role, create_invite, deep_link
from bot.text import fmt_dt


@service_errors
async def _create(args: argparse.Namespace) -> int:
    check_role(args.role)
    username = args.bot_username or load_settings().bot_username
    async with open_session(args) as session:
        invite = await create_invite(
            session,
            Actor.system(),
            args.role,
            unit_code=args.unit,
            agency_code=args.agency,
            max_uses=args.uses,
            days=args.days,
        )
    link = deep_link(username, invite.code)
    if args.json:
        print_json(
            {
                "code": invite.code,
                "link": link,
                "role": invite.role,
                "unit": invite.unit_code,
                "agency": invite.agency_code,
                "max_uses": invite.max_uses,
                "expires_at": invite.expires_at.isoformat() if invite.expires_at else None,
            }
        )
    else:
        target = invite.unit_code or invite.agency_code or "-"
        print(link)
        print(f"code {invite.code}  role {invite.role}  for {target}  uses {invite.max_uses}")
        if invite.expires_at:
            print(f"expires {fmt_dt(invite.expires_at, load_settings().tz)}")
    return 0


def register(subparsers: Any) -> None:
    invite = subparsers.add_parser("invite", help="registration invites (/start links)")
    sub = invite.add_subparsers(dest="invite_command", metavar="ACTION", required=True)
    create = sub.add_parser("create", help="create an invite and print its deep link and code")
    target = create.add_mutually_exclusive_group()
    target.add_argument("--unit", metavar="CODE", help="unit code (officer, unit_head)")
    target.add_argument("--agency", metavar="CODE", help="agency code (appraiser)")
    create.add_argument("--role", required=True, help=", ".join(r.value for r in RoleName))
    create.add_argument("--uses", type=int, default=1, help="how many people may use it (default 1)")
    create.add_argument("--days", type=int, default=7, help="valid for D days (default 7)")
    create.add_argument("--bot-username", help="default CCHC_BOT_USERNAME")
    command(create, _create, json=True, db=True)

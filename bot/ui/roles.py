"""Role names as people read them (Vietnamese by default)."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.db.models import RoleName
from bot.text import N_

ROLE_ORDER: tuple[str, ...] = tuple(r.value for r in RoleName)

ROLE_LABELS: dict[str, str] = {
    RoleName.OFFICER: N_("PAR focal officer"),
    RoleName.UNIT_HEAD: N_("Head of unit"),
    RoleName.APPRAISER: N_("Appraiser"),
    RoleName.LEADER: N_("Provincial leader"),
    RoleName.SECRETARIAT: N_("Secretariat (Department of Home Affairs)"),
}


def role_label(role: str) -> str:
    """The role's name in the current update's language."""
    msgid = ROLE_LABELS.get(role)
    return _(msgid) if msgid else role


def role_rank(role: str) -> int:
    return ROLE_ORDER.index(role) if role in ROLE_ORDER else len(ROLE_ORDER)


def sort_roles(roles: set[str] | frozenset[str]) -> list[str]:
    return sorted(roles, key=role_rank)


ROLE_HELP: dict[str, str] = {
    RoleName.OFFICER: N_(
        "You fill in your unit's self-assessment: a score, evidence and an explanation for every "
        "sub-criterion, then answer the appraisers' requests."
    ),
    RoleName.UNIT_HEAD: N_(
        "You can do everything the focal officer does, and you approve and submit your unit's "
        "self-assessment."
    ),
    RoleName.APPRAISER: N_(
        "You appraise the items assigned to your agency for every unit: accept, adjust with a "
        "reason, or ask for more evidence."
    ),
    RoleName.LEADER: N_("You follow the rankings, the progress of the cycle and each unit's results."),
    RoleName.SECRETARIAT: N_(
        "You run the cycle: periods and deadlines, units, invites, broadcasts, approval and publication."
    ),
}


def role_help(role: str) -> str:
    msgid = ROLE_HELP.get(role)
    return _(msgid) if msgid else ""

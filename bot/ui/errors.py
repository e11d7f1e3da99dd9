"""ServiceError → one translated sentence.

Services raise `ServiceError(code, **params)`; `ERROR_MESSAGES` maps each code to an English msgid
(translated in locales/*/LC_MESSAGES/common.po, or in the feature's .po file). A feature adds its
own codes with `register_error_messages({...})` at import time; an unknown code still gets a sentence.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from bot.i18n import translate
from bot.text import N_

GENERIC_ERROR = N_("Something went wrong, please try again.")
UNKNOWN_SERVICE_ERROR = N_("This cannot be done right now.")
DATABASE_UNAVAILABLE = N_("The system is busy and nothing was saved: please try again in a minute.")

ERROR_MESSAGES: dict[str, str] = {
    "not_registered": N_("You have not been invited to use this bot yet."),
    "forbidden": N_("You do not have the right to do this."),
    "not_found": N_("This item no longer exists."),
    "invite_missing": N_(
        "This link has no invite code. Please open the invite link the secretariat sent you."
    ),
    "invite_not_found": N_("This invite code is not valid. Please check the link or ask the secretariat."),
    "invite_unknown": N_("This invite code is not valid. Please check the link or ask the secretariat."),
    "invite_invalid": N_("This invite code is not valid. Please check the link or ask the secretariat."),
    "invite_expired": N_("This invite has expired. Please ask the secretariat for a new one."),
    "invite_used_up": N_("This invite has already been used. Please ask the secretariat for a new one."),
    "invite_exhausted": N_("This invite has already been used. Please ask the secretariat for a new one."),
    "invite_revoked": N_("This invite has been cancelled. Please ask the secretariat for a new one."),
    "invite_throttled": N_("Too many wrong invite codes: please try again in {minutes} minutes."),
    "already_registered": N_("You already have this role."),
    "person_inactive": N_("Your account has been deactivated. Please contact the secretariat."),
    "conflict": N_("Someone changed this at the same time. Please open the screen again."),
    "duplicate": N_("This already exists."),
    "bad_value": N_("This value is not valid."),
    "period_locked": N_("The {year} assessment period is closed for this change."),
    "no_period": N_("There is no assessment period for {year}."),
    "no_criteria": N_("No criteria set is configured for your unit in this period."),
}


def register_error_messages(messages: Mapping[str, str]) -> None:
    """Add a feature's error codes (msgids marked with N_ so the i18n test sees them)."""
    ERROR_MESSAGES.update(messages)


def is_service_error(exc: BaseException) -> bool:
    """True for the services' ServiceError (and subclasses), checked by name to avoid an import cycle."""
    return any(cls.__name__ == "ServiceError" for cls in type(exc).__mro__)


def _params(exc: BaseException) -> dict[str, Any]:
    params = getattr(exc, "params", None)
    return dict(params) if isinstance(params, Mapping) else {}


def error_text(exc: BaseException, locale: str | None = None) -> str:
    """The sentence for a ServiceError in `locale` (None: the current update's locale)."""
    code = str(getattr(exc, "code", "") or "")
    msgid = ERROR_MESSAGES.get(code, UNKNOWN_SERVICE_ERROR)
    if locale is None:
        from aiogram.utils.i18n import gettext

        try:
            text = gettext(msgid)
        except LookupError:  # outside an update
            text = translate(None, msgid)
    else:
        text = translate(locale, msgid)
    params = {k: html.escape(str(v), quote=False) for k, v in _params(exc).items()}
    try:
        return text.format(**params) if params else text
    except (KeyError, IndexError, ValueError):
        return text

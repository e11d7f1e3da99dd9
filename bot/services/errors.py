"""User errors raised by services. The chat layer translates by `code`; `str()` is English."""

from __future__ import annotations

from typing import Any

from bot.services.actor import Actor as Actor  # re-exported: callers import both from here
from bot.text import visible

_MESSAGES: dict[str, str] = {
    "forbidden": "You are not allowed to do this.",
    "not_found": "{what} {key!r} was not found.",
    "duplicate": "{what} {key!r} already exists.",
    "invite_unknown": "This invite code is not known or was revoked.",
    "invite_expired": "This invite expired on {expires_at}.",
    "invite_used_up": "This invite has already been used {max_uses} time(s).",
    "invite_throttled": "Too many wrong invite codes: try again in {minutes} minutes.",
    "bad_role": "Unknown role {role!r}: expected one of {expected}.",
    "bad_invite": "{reason}",
    "bad_file": "{file}: {reason}",
    "bad_rows": "{file}: {summary}",
    "bad_value": "{what}: {reason}",
    "period_locked": "Period {year} is {status}: this change is no longer possible.",
    "no_period": "There is no assessment period for {year}.",
    "no_criteria": "No criteria set is configured for unit type {unit_type!r} in period {year}.",
    "criteria_invalid": "{summary}",
}


class ServiceError(Exception):
    """A refusal a user should see, e.g. ServiceError("not_found", what="unit", key="SNV").

    `params` are plain values (str/int) so the chat layer can format them in the user's language.
    For row-level import errors, `params["errors"]` lists one line per bad row.
    """

    def __init__(self, code: str, /, **params: Any) -> None:
        self.code = code
        self.params = params
        template = _MESSAGES.get(code, "")
        try:
            message = template.format(**params)
        except (KeyError, IndexError, ValueError):
            message = ""
        if not message:
            details = ", ".join(f"{k}={v}" for k, v in params.items() if k != "errors")
            message = code.replace("_", " ").capitalize() + (f" ({details})" if details else "") + "."
        super().__init__(message)

    @property
    def errors(self) -> list[str]:
        return list(self.params.get("errors", []))


def required_text(text: str | None, missing: str, limit: int) -> str:
    """Typed text that must be given: without invisible edges (`bot.text.visible`), refused with
    `missing` when nothing visible is left and with `too_long` over `limit` characters."""
    cleaned = visible(text)
    if not cleaned:
        raise ServiceError(missing)
    if len(cleaned) > limit:
        raise ServiceError("too_long", max=limit)
    return cleaned

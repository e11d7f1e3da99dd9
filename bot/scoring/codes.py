"""The one ordering of item codes ("1.9" < "1.10" < "2", "3.2" < "3.2a" < "3.2b" < "3.10").

Loader, appraisal queues, gap lists and reports all sort codes with `code_key`, so a list of items
reads in the same order on every screen. Codes are compared token by token: numbers by value,
letters by their case-folded text, a number before a letter at the same place, and a shorter code
before its own continuations ("3.2" before "3.2.1" and "3.2a"). Every code gets a key, so sorting
never raises, whatever a province typed.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[0-9]+|[^\W\d_]+")


def code_key(code: str) -> tuple[tuple[int, int, str], ...]:
    """Natural sort key of an item code; comparable with the key of any other code."""
    key: list[tuple[int, int, str]] = []
    for token in _TOKEN.findall(code):
        if token.isdigit():
            key.append((0, int(token), ""))
        else:
            key.append((1, 0, token.casefold()))
    return tuple(key)

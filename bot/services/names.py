"""Diacritic-free folding of Vietnamese names, for lookups typed on any keyboard."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """Lower-case ASCII without diacritics: "Sở Nội vụ" → "so noi vu", "Đắk" → "dak"."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", ascii_only.casefold()).strip()


def slug(text: str, max_length: int = 40) -> str:
    """Upper-case code made from a name: "Xã Tân Lập" → "XA-TAN-LAP"."""
    return _NON_WORD.sub("-", fold(text)).strip("-").upper()[:max_length].rstrip("-") or "UNIT"

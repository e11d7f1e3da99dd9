"""Reading numbers that officers type in Vietnamese or English habits.

Officers type on phones, in a hurry, with the conventions of their office: Vietnamese writes "0,5"
and "1.234,5"; many people also write "1.5". The parser accepts both where the meaning is certain,
and refuses the rest with an `InputError` whose code the UI translates, because a silently
misread "1,234,5" would put wrong points into an official index.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Context, Decimal

from bot.scoring.fmt import canonical

#: Arithmetic context for divisions in the scoring core; fixed so that results do not depend on
#: whatever another library did to the thread's decimal context.
CTX = Context(prec=28)

MAX_INPUT_LENGTH = 40

_MESSAGES: dict[str, str] = {
    "empty": "Please enter a value.",
    "not_a_number": "This is not a number.",
    "negative": "The value cannot be negative.",
    "bad_thousands": "The digit grouping is not valid: use '.' between thousands and ',' for decimals, "
    "e.g. 1.234,5.",
    "zero_denominator": "The denominator of a ratio cannot be 0.",
    "over_max": "The value is above the maximum of {max}.",
    "not_on_step": "Points must be a multiple of {step}.",
    "not_integer": "Please enter a whole number.",
    "ratio_over_one": "The first number of the ratio cannot be larger than the second.",
    "unknown_choice": "This is not one of the offered choices.",
    "not_self_scored": "This item is scored by the survey, not by the unit.",
}


class InputError(ValueError):
    """A value the officer typed cannot be used. `code` is stable; the UI translates by it.

    Codes and their params:

    - ``empty``: nothing was typed (only spaces).
    - ``not_a_number``: not a number in any accepted form ("abc", "1e5", "1 2", "45/50%"), or a form
      this rule does not take (a ratio where points are asked for), or longer than 40 characters.
    - ``negative``: a minus sign ("-1", "1/-2"); no score or count is negative.
    - ``bad_thousands``: digits with separators that are not a valid grouping ("1,234,5",
      "1.23.4", "1,234.5").
    - ``zero_denominator``: a ratio "a/0".
    - ``over_max``: above the allowed maximum; params ``max`` (canonical, e.g. "2" or "100%").
    - ``not_on_step``: manual points not on the rule's grid; params ``step`` (e.g. "0.25").
    - ``not_integer``: a count (of violations, meetings...) that is not a whole number.
    - ``ratio_over_one``: a ratio a/b with a > b, or a percentage above 100 where a share is asked.
    - ``unknown_choice``: not one of the buttons (levels, yes/no).
    - ``not_self_scored``: the item is a survey item; only the secretariat enters it.

    Params are machine strings ("." decimal) so the UI can reformat them for its locale.
    """

    def __init__(self, code: str, params: Mapping[str, str] | None = None) -> None:
        self.code = code
        self.params: dict[str, str] = dict(params or {})
        template = _MESSAGES.get(code, "The value is not valid.")
        super().__init__(template.format_map(_Default(self.params)))


class _Default(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


@dataclass(frozen=True)
class ParsedNumber:
    """What the officer typed. `value` is a/b for a ratio (0.9 for "45/50"), the percent number for
    a percentage (90.5 for "90,5 %"), else the number itself."""

    value: Decimal
    percent: bool = False
    numerator: Decimal | None = None
    denominator: Decimal | None = None

    @property
    def is_ratio(self) -> bool:
        return self.denominator is not None

    @property
    def is_plain(self) -> bool:
        return not self.percent and self.denominator is None

    def raw(self) -> str:
        """Normalized text to store: "45/50", "90.5%", "1.5"."""
        if self.numerator is not None and self.denominator is not None:
            return f"{canonical(self.numerator)}/{canonical(self.denominator)}"
        if self.percent:
            return f"{canonical(self.value)}%"
        return canonical(self.value)


_INTEGER = re.compile(r"[0-9]+")
_SINGLE_SEPARATOR = re.compile(r"([0-9]*)([.,])([0-9]+)")
_DOT_THOUSANDS = re.compile(r"[1-9][0-9]{0,2}(?:\.[0-9]{3})+(?:,[0-9]+)?")
_DIGITS_AND_SEPARATORS = re.compile(r"[0-9.,]+")
_MINUSES = "-−–"  # hyphen-minus, minus sign, en dash (phones substitute them)


def _parse_plain(text: str) -> Decimal:
    """One unsigned number. The rules, in order:

    1. Digits only: an integer ("12").
    2. Dot-grouped thousands, optionally with a decimal comma: "1.234", "1.234.567", "1.234,5".
       The first group has 1-3 digits and does not start with 0; each further group has exactly 3.
       So "1.234" is one thousand two hundred thirty-four (Vietnamese grouping), and "12.500" is 12500.
    3. Otherwise one separator, "." or ",", is a decimal mark: "0,5", "1.5", "2,25", "0.125",
       "1,234" (= 1.234, Vietnamese decimal comma), "1.2345"; a missing integer part means 0 (",5").
    4. Any other mix of digits, "." and ",", with two or more separators, is ``bad_thousands``
       ("1,234,5", "1,234.5", "1.23.4"); the rest is ``not_a_number``.
    """
    if _INTEGER.fullmatch(text):
        return Decimal(text)
    if _DOT_THOUSANDS.fullmatch(text):
        whole, _, fraction = text.partition(",")
        digits = whole.replace(".", "")
        return Decimal(f"{digits}.{fraction}" if fraction else digits)
    single = _SINGLE_SEPARATOR.fullmatch(text)
    if single:
        whole, _, fraction = single.groups()
        return Decimal(f"{whole or '0'}.{fraction}")
    separators = sum(1 for ch in text if ch in ".,")
    if _DIGITS_AND_SEPARATORS.fullmatch(text) and separators >= 2 and any(ch.isdigit() for ch in text):
        raise InputError("bad_thousands")
    raise InputError("not_a_number")


def _parse_unsigned(text: str) -> Decimal:
    text = text.strip()
    if not text:
        raise InputError("not_a_number")
    if text[0] in _MINUSES:
        rest = text[1:].strip()
        _parse_plain(rest)  # a minus before garbage is still garbage
        raise InputError("negative")
    if text[0] == "+":
        raise InputError("not_a_number")
    return _parse_plain(text)


def parse_number(text: str) -> ParsedNumber:
    """Parse a number, a percentage ("90%", "90,5 %") or a ratio ("45/50", "45 / 50").

    Spaces (including non-breaking ones) around the whole text, before "%" and around "/" are
    ignored; spaces inside a number are not ("1 234" is ``not_a_number``). Each number follows the
    rules of `_parse_plain`. A ratio is two plain numbers; "a/0" is ``zero_denominator``. Nothing else
    is accepted: no exponent, no "+", no currency, no unit words. Raises `InputError` only.
    """
    text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        raise InputError("empty")
    if len(text) > MAX_INPUT_LENGTH:
        raise InputError("not_a_number")
    if text.endswith("%"):
        body = text[:-1].strip()
        if "%" in body or "/" in body:
            raise InputError("not_a_number")
        return ParsedNumber(value=_parse_unsigned(body), percent=True)
    if "/" in text:
        parts = text.split("/")
        if len(parts) != 2:
            raise InputError("not_a_number")
        numerator = _parse_unsigned(parts[0])
        denominator = _parse_unsigned(parts[1])
        if denominator == 0:
            raise InputError("zero_denominator")
        value = CTX.divide(numerator, denominator)
        return ParsedNumber(value=value, numerator=numerator, denominator=denominator)
    if "%" in text:
        raise InputError("not_a_number")
    return ParsedNumber(value=_parse_unsigned(text))


def parse_count(text: str) -> int:
    """A whole number of things (violations, meetings). "3", "3,0" and "1.000" (= 1000) are fine;
    "2,5", "50%" and "1/2" are ``not_integer``."""
    parsed = parse_number(text)
    if not parsed.is_plain or parsed.value != parsed.value.to_integral_value():
        raise InputError("not_integer")
    return int(parsed.value)

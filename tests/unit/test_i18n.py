"""Every message id used in bot/ has Vietnamese text, and translations keep the placeholders."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import LOCALES_DIR, load_catalog, pick_locale, translate

BOT_DIR = Path(__file__).resolve().parents[2] / "bot"
# `_`/`gettext` translate now; `__`/`L_` lazily; `N_` marks a msgid translated where it is shown.
KEYWORDS = {"_": None, "gettext": None, "__": None, "L_": None, "lazy_gettext": None, "N_": None}


def used_msgids() -> dict[str, str]:
    """msgid → "file:line" of its first use, for every marked string in bot/."""
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        BOT_DIR, method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, f"bot/{filename}:{lineno}")
    return found


def placeholders(text: str) -> set[str]:
    names = set()
    for _literal, field, _spec, _conv in string.Formatter().parse(text):
        if field is not None:
            names.add(field)
    return names


def test_extraction_finds_messages() -> None:
    msgids = used_msgids()
    assert "Something went wrong, please try again." in msgids


def test_every_msgid_has_vietnamese() -> None:
    vi = load_catalog(LOCALES_DIR / "vi")
    missing = [f"{where}: {msgid!r}" for msgid, where in used_msgids().items() if not vi.get(msgid)]
    assert not missing, "no Vietnamese translation in locales/vi for:\n" + "\n".join(missing)


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_placeholders_match(locale: str) -> None:
    bad = []
    for po_path in sorted((LOCALES_DIR / locale / "LC_MESSAGES").glob("*.po")):
        with po_path.open("rb") as fp:
            catalog = read_po(fp, locale=locale)
        for message in catalog:
            if not message.id or not message.string or not isinstance(message.id, str):
                continue
            if placeholders(message.id) != placeholders(str(message.string)):
                bad.append(f"{po_path.name}: {message.id!r} -> {message.string!r}")
    assert not bad, "placeholders differ:\n" + "\n".join(bad)


def test_html_tags_kept_in_translations() -> None:
    vi = load_catalog(LOCALES_DIR / "vi")
    tag = re.compile(r"</?[a-z]+>")
    bad = [m.id for m in vi if m.id and sorted(tag.findall(str(m.id))) != sorted(tag.findall(str(m.string)))]
    assert not bad, f"HTML tags differ: {bad}"


def test_translate_defaults_to_vietnamese() -> None:
    msgid = "Something went wrong, please try again."
    assert translate(None, msgid) != msgid
    assert translate("en", msgid) == msgid
    assert translate("fr", msgid) == translate("vi", msgid)


def test_pick_locale() -> None:
    assert pick_locale("en-US") == "en"
    assert pick_locale("en") == "en"
    assert pick_locale("vi") == "vi"
    assert pick_locale("ru") == "vi"
    assert pick_locale(None) == "vi"

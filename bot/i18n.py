"""Translations: gettext catalogues read straight from the .po files under `locales/`.

Message ids are English; `locales/vi/LC_MESSAGES/*.po` translate them into Vietnamese, the default
language of every screen. Each feature keeps its own .po file (common.po, officer.po, ...) so that
features can be worked on side by side; all files of a language are merged into one catalogue
at start-up, so no compiled .mo file has to be built or committed.
"""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from pathlib import Path

from aiogram.utils.i18n import I18n
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DEFAULT_LOCALE = "vi"
SUPPORTED_LOCALES = ("vi", "en")


def load_catalog(locale_dir: Path) -> Catalog:
    """Merge every .po file of one language; a msgid defined twice must agree."""
    merged = Catalog(locale=locale_dir.name)
    for po_path in sorted((locale_dir / "LC_MESSAGES").glob("*.po")):
        with po_path.open("rb") as fp:
            catalog = read_po(fp, locale=locale_dir.name)
        for message in catalog:
            if not message.id or not message.string:
                continue
            existing = merged.get(message.id, message.context)
            if existing is not None and existing.string != message.string:
                raise RuntimeError(f"{po_path.name}: {message.id!r} is translated differently elsewhere")
            merged.add(message.id, message.string, context=message.context)
    return merged


def po_translations(path: Path) -> dict[str, gettext.GNUTranslations]:
    """One GNUTranslations per language folder, compiled in memory from its .po files."""
    translations: dict[str, gettext.GNUTranslations] = {}
    for locale_dir in sorted(path.iterdir()):
        if not (locale_dir / "LC_MESSAGES").is_dir():
            continue
        buffer = io.BytesIO()
        write_mo(buffer, load_catalog(locale_dir))
        buffer.seek(0)
        translations[locale_dir.name] = gettext.GNUTranslations(buffer)
    return translations


@lru_cache(maxsize=1)
def get_i18n() -> I18n:
    """aiogram's own I18n (not a subclass: aiogram's `gettext` looks up `I18n.get_current()`, and a
    subclass would get a context variable of its own), with catalogues read from the .po files."""
    i18n = I18n(path=LOCALES_DIR, default_locale=DEFAULT_LOCALE, domain="messages")
    i18n.locales = po_translations(LOCALES_DIR)
    return i18n


def translate(locale: str | None, msgid: str, **params: object) -> str:
    """Translate outside a chat update (outbox texts, reports, CLI), then fill `{name}` params."""
    locale = locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE
    text = get_i18n().gettext(msgid, locale=locale)
    return text.format(**params) if params else text


def pick_locale(language_code: str | None) -> str:
    """Telegram's language_code → one of our locales; Vietnamese unless the user's app is English."""
    if language_code and language_code.split("-")[0].lower() == "en":
        return "en"
    return DEFAULT_LOCALE

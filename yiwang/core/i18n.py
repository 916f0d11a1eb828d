"""i18n: zh-CN first, English second, through Babel message catalogues.

Message ids in code are English and marked with `N_` (or `_` in templates); the zh_CN catalogue translates them.
Catalogues are read from the `.po` files shipped in ``yiwang/locale`` so no compile step is needed at install.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

LOCALES: tuple[str, ...] = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

Translate = Callable[[str], str]


def N_(message: str) -> str:
    """Mark a message for extraction without translating it here (it is translated where it is shown)."""
    return message


def normalize_locale(value: str | None) -> str:
    """Map what a browser or user asks for (``zh-CN``, ``en-US``, ``zh``) onto a supported locale."""
    if not value:
        return DEFAULT_LOCALE
    tag = value.strip().replace("-", "_").lower()
    if tag.startswith("en"):
        return "en"
    return DEFAULT_LOCALE


@cache
def catalog(locale: str) -> Catalog | None:
    """The message catalogue of `locale`, or None for English (message ids are English)."""
    path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if locale == "en" or not path.exists():
        return None
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


@cache
def translator(locale: str) -> Translate:
    """A gettext function for `locale`; untranslated messages fall back to the English id."""
    messages = catalog(normalize_locale(locale))
    if messages is None:
        return lambda message: message
    table = {m.id: m.string for m in messages if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}

    def gettext(message: str) -> str:
        return str(table.get(message, message))

    return gettext

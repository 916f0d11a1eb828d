"""Every message shown to users has a zh-CN translation, and placeholders survive translation."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir

from yiwang.core.i18n import catalog, normalize_locale, translator

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "N_": None}
METHODS = [("yiwang/**.py", "python"), ("yiwang/**/templates/**.html", "jinja2")]


def extracted() -> set[str]:
    found = extract_from_dir(str(ROOT), METHODS, keywords=KEYWORDS, comment_tags=(), strip_comment_tags=True)
    return {message for _file, _line, message, _comments, _context in found if isinstance(message, str)}


def test_every_message_has_a_chinese_translation() -> None:
    zh = catalog("zh_CN")
    assert zh is not None
    translated = {m.id for m in zh if m.id and m.string}
    missing = sorted(extracted() - translated)
    assert missing == [], "add to yiwang/locale/zh_CN/LC_MESSAGES/messages.po:\n" + "\n".join(missing)


def test_translations_keep_their_placeholders() -> None:
    zh = catalog("zh_CN")
    assert zh is not None
    for message in zh:
        if message.id and message.string and isinstance(message.id, str):
            assert set(re.findall(r"{\w*}", message.id)) == set(re.findall(r"{\w*}", str(message.string))), message.id


def test_locale_choices() -> None:
    assert normalize_locale("en-US") == "en" and normalize_locale("zh-TW") == "zh_CN"
    assert normalize_locale(None) == "zh_CN"
    assert translator("en")("Sign in") == "Sign in" and translator("zh_CN")("Sign in") != "Sign in"


def test_the_catalogue_holds_no_stale_messages() -> None:
    zh = catalog("zh_CN")
    assert zh is not None
    stale = sorted({m.id for m in zh if m.id and isinstance(m.id, str)} - extracted())
    assert stale == [], "no longer used, remove from messages.po:\n" + "\n".join(stale)

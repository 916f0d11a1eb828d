"""键控假名 keyed pseudonyms: the same person always gets the same token for one consumer, and nobody can reverse it.

A token is HMAC-SM3 (HMAC-SHA-256 where the installed cryptography lacks SM3) of the normalised value under a key
derived from the platform's secret key and the consuming department, so a department can join its own extracts on
the token, but two departments cannot join theirs on it, and nobody without the platform key can test a guess.
Rotating the platform's secret key changes every token.
"""

from __future__ import annotations

import re

from cryptography.hazmat.primitives import hashes, hmac

from yiwang.core import hashing
from yiwang.core.masking import PersonalKind

TOKEN_PREFIX = "ps_"
TOKEN_BYTES = 16  # 128 bits: collisions are out of reach for any registry of people
_SEPARATORS = re.compile(r"[\s\-()]")


def _algorithm() -> hashes.HashAlgorithm:
    return hashes.SM3() if hashing.is_available("sm3") else hashes.SHA256()


def _mac(key: bytes, data: bytes) -> bytes:
    mac = hmac.HMAC(key, _algorithm())
    mac.update(data)
    return mac.finalize()


def normalise(kind: PersonalKind | str, value: str) -> str:
    """The form two spellings of one value share: ID numbers upper-case, phones without separators or +86."""
    text = value.strip()
    if kind == PersonalKind.ID_NUMBER:
        return text.upper()
    if kind == PersonalKind.PHONE:
        digits = _SEPARATORS.sub("", text)
        for prefix in ("+86", "0086"):
            if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
                return digits[len(prefix) :]
        return digits
    return text


class Pseudonymiser:
    """Tokens for one consumer: `Pseudonymiser(platform_secret, "海南省卫生健康委员会").token(kind, value)`."""

    def __init__(self, platform_secret: str, consumer: str) -> None:
        self._key = _mac(platform_secret.encode(), b"yiwang-pseudonym-v1|" + consumer.encode())

    def token(self, kind: PersonalKind | str, value: str) -> str:
        """``ps_`` and 32 hex digits; the same (kind, value) always gives the same token."""
        digest = _mac(self._key, f"{PersonalKind(kind).value}|{normalise(kind, value)}".encode())
        return TOKEN_PREFIX + digest[:TOKEN_BYTES].hex()

"""Passwords (argon2id) and API tokens (random, stored only as a SHA-256 hash)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_

TOKEN_PREFIX = "yw_"
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
_hasher = PasswordHasher()


def check_password_strength(password: str) -> None:
    """Refuse passwords too short or too long to be sensible (length is what matters most)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            "password.too_short", N_("A password needs at least {min} characters"), min=MIN_PASSWORD_LENGTH
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            "password.too_long", N_("A password may have at most {max} characters"), max=MAX_PASSWORD_LENGTH
        )


def hash_password(password: str) -> str:
    check_password_strength(password)
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Constant-time check; a malformed stored hash counts as a mismatch."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def fingerprint(password_hash: str) -> str:
    """A short digest of a stored password hash: web sessions carry it and end when the password changes."""
    return hashlib.sha256(password_hash.encode("utf-8")).hexdigest()[:16]


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@dataclass(frozen=True)
class NewToken:
    """A freshly made token: `plaintext` is shown once and never stored."""

    plaintext: str
    prefix: str
    token_hash: str


def token_hash(plaintext: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is safe here, unlike passwords.
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def new_token() -> NewToken:
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return NewToken(plaintext, plaintext[: len(TOKEN_PREFIX) + 6], token_hash(plaintext))

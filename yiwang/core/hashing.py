"""Hash functions of the audit chain: SM3 (GB/T 32905) where the installed cryptography offers it, else SHA-256."""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any, Literal

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes

Algorithm = Literal["sm3", "sha256"]
ALGORITHMS: dict[str, type[hashes.HashAlgorithm]] = {"sm3": hashes.SM3, "sha256": hashes.SHA256}


@cache
def is_available(algorithm: str) -> bool:
    """Whether this machine's cryptography/OpenSSL can compute `algorithm`."""
    factory = ALGORITHMS.get(algorithm)
    if factory is None:
        return False
    try:
        hashes.Hash(factory()).finalize()
    except UnsupportedAlgorithm:
        return False
    return True


def preferred(choice: str = "auto") -> Algorithm:
    """The algorithm new entries use: the configured one, or SM3 when available under `auto`."""
    if choice == "sha256" or (choice == "auto" and not is_available("sm3")):
        return "sha256"
    if not is_available("sm3"):
        raise RuntimeError("SM3 was configured but the installed cryptography does not provide it")
    return "sm3"


@cache
def _hashlib_template(algorithm: str) -> Any:
    """A fresh hashlib object to copy, when Python's OpenSSL offers `algorithm` (its SM3 is the same function as
    cryptography's, and copying a template skips the per-call setup that dominated short inputs)."""
    try:
        return hashlib.new(algorithm)
    except ValueError:
        return None


def hexdigest(algorithm: str, data: bytes) -> str:
    """Hex digest of `data`; raises KeyError for an algorithm the chain does not know."""
    factory = ALGORITHMS[algorithm]
    template = _hashlib_template(algorithm)
    if template is not None:
        digest = template.copy()
        digest.update(data)
        return str(digest.hexdigest())
    fallback = hashes.Hash(factory())
    fallback.update(data)
    return fallback.finalize().hex()
